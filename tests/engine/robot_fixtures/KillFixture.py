"""Test-only keywords: tell the test which process to kill, and hold an item until it does."""

import os
import time
from pathlib import Path


def write_pid(path: str) -> None:
    Path(path).write_text(str(os.getpid()))


def hold_if_asked(payload: dict, gate: str) -> None:
    """Block on an item marked ``hold`` until the gate file appears (the test kills us first)."""
    if not payload.get("hold"):
        return
    deadline = time.monotonic() + 60
    while not Path(gate).exists():
        if time.monotonic() > deadline:
            raise AssertionError("the test never opened the gate")
        time.sleep(0.05)


def start_helper_process(pid_file: str) -> None:
    """Start a long-lived child (as a browser would be) and say its pid: the runner's timeout must end it too."""
    import subprocess
    import sys

    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    Path(pid_file).write_text(str(helper.pid))
