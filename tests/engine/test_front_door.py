"""The front door: ``kuntaflow run`` and ``kuntaflow up`` as a person starts them, in subprocesses.

Both start the real local stack (Prefect server, ``prefect deploy``, a worker, the sandboxes and the
e-service) in one temporary data directory, so the second start finds Prefect's database made.
``run`` is given a small sample (every named case, a few generated adults, the repeat).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from kuntaflow.redaction import HETU_PATTERN

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
KUNTAFLOW = [sys.executable, "-m", "kuntaflow.cli"]


@pytest.fixture(scope="module")
def environment(tmp_path_factory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("front-door")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "KUNTAFLOW_"))}
    return env | {"KUNTAFLOW_DATA_DIR": str(data), "KUNTAFLOW_SANDBOX_POPULATION_SIZE": "20", "PYTHONWARNINGS": "ignore"}


def test_run_submits_applications_through_the_eservice_and_the_deployment_decides_them(environment):
    done = subprocess.run(
        [*KUNTAFLOW, "run", "--job", "library_card", "--samples", "12"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "12 citizens went through the e-service with a Suomi.fi login" in output
    assert "1 repeat showed the existing application, 1 refused on the form" in output
    assert "Every case decided as the library's rules say (13 of 13)" in output
    assert re.search(r"run\(s\) of the library-card deployment \(\d+ by event", output)
    assert "Traceback" not in output
    assert not HETU_PATTERN.search(output), "a henkilötunnus in the summary"


def test_up_serves_every_address_until_ctrl_c(environment):
    process = subprocess.Popen(
        [*KUNTAFLOW, "up", "--eservice-port", "0", "--sandbox-port", "0", "--prefect-port", "0"],
        cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Applications sent on the e-service"):
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(300), "".join(lines)
        addresses = {what.strip(): url for what, url in (re.match(r"  (.+?)\s+(http://\S+)$", line).groups() for line in lines if re.match(r"  .+http://", line))}
        for wanted in ("E-service", "Sandboxes (index)", "Suomi.fi e-Identification: Test persons", "Suomi.fi Messages: Mailboxes", "E-mail: Mailboxes", "Prefect UI"):
            [url] = [url for what, url in addresses.items() if what.startswith(wanted)]
            assert httpx.get(url, timeout=30).status_code == 200, (wanted, url)
        assert httpx.get(f"{addresses['Prefect UI']}/api/health", timeout=30).status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(120) == 0, "".join(lines)
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(10)
    output = "".join(lines)
    assert output.rstrip().endswith("Stopped."), output
    assert "Traceback" not in output
    with pytest.raises(httpx.TransportError):
        httpx.get(addresses["Sandboxes (index)"], timeout=2)
