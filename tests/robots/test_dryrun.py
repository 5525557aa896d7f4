"""Every shipped robot suite parses and resolves its keywords (Robot Framework --dryrun)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kuntaflow.robot_runner import LIBRARIES_DIR, RESOURCES_DIR, ROBOTS_DIR

SUITES = sorted(ROBOTS_DIR.glob("*/tasks.robot"))


def test_there_are_suites_to_check():
    assert SUITES


@pytest.mark.parametrize("suite", SUITES, ids=[s.parent.name for s in SUITES])
def test_suite_passes_dryrun(suite: Path, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "robot",
            "--dryrun",
            "--output",
            "NONE",
            "--log",
            "NONE",
            "--report",
            "NONE",
            "--pythonpath",
            str(LIBRARIES_DIR),
            "--pythonpath",
            str(RESOURCES_DIR),
            str(suite),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize("command", ["check", "format --check"])
def test_suites_are_robocop_clean(command):
    result = subprocess.run([sys.executable, "-m", "robocop", *command.split(), str(ROBOTS_DIR)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
