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
