"""The short chaos run in ``make test``: bench/chaos.py with 50 applications and 5 SIGKILLs.

The full run (500 applications, 20 kills; on PostgreSQL with two workers too) is the benchmark's
own; this one proves on every change that faults lose nothing and do nothing twice, checked
against the sandboxes' records by the script itself.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from schemas.redaction import HETU_PATTERN

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def chaos(*options: str) -> tuple[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "KUNTAFLOW_"))}
    done = subprocess.run(
        [sys.executable, "bench/chaos.py", *options],
        cwd=ROOT,
        env=env | {"PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Traceback" not in output and not HETU_PATTERN.search(output), output
    return done.stdout, output


@pytest.mark.timeout(900)
def test_fifty_applications_through_five_kills_and_faulty_sandboxes_end_decided_once_each():
    printed, output = chaos("--items", "50", "--kills", "5", "--seed", "3")
    assert printed.rstrip().splitlines()[-1] == "items=50 kills=5 lost=0 duplicate_patrons=0 duplicate_messages=0", output
    assert len(re.findall(r"kill +\d/5 at \d+/50 decided: SIGKILL (robot|worker)", output)) == 5, output
    faults = re.search(r"faults injected by the koha sandbox: \{(.*)\}", output).group(1)
    assert "'error'" in faults and "'timeout'" in faults, output
