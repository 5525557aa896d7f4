"""Runs one Robot Framework suite in its own subprocess and reads back what happened.

Robot Framework is not thread-safe and installs process-wide signal handlers, so every batch
runs as ``python -m robot`` in a new process group with a hard timeout. Its output stays under
the data directory, one folder per run: ``output.xml`` (henkilötunnus-masked after the run),
``log.html`` and ``report.html`` built from the masked file, and ``console.txt``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from enum import Enum
from pathlib import Path

from pydantic import BaseModel

from kuntaflow.redaction import redact, redact_file
from kuntaflow.settings import KuntaflowSettings

ROBOTS_DIR = Path(__file__).resolve().parent.parent / "robots"
LIBRARIES_DIR = ROBOTS_DIR / "libraries"
RESOURCES_DIR = ROBOTS_DIR / "resources"

_CATEGORY = re.compile(r"^(BusinessRuleError|TransientError|IntegrationError): ")


class ErrorCategory(str, Enum):
    """Which branch of the error hierarchy a robot failure belongs to (see connectors/errors.py)."""

    BUSINESS = "BusinessRuleError"
    TRANSIENT = "TransientError"
    INTEGRATION = "IntegrationError"


class TaskResult(BaseModel):
    """One ``*** Tasks ***`` entry of the suite as Robot Framework recorded it."""

    name: str
    status: str
    message: str = ""
    error_category: ErrorCategory | None = None

    @classmethod
    def from_robot(cls, name: str, status: str, message: str) -> TaskResult:
        message = redact(message or "")
        match = _CATEGORY.match(message)
        return cls(name=name, status=status, message=message, error_category=ErrorCategory(match.group(1)) if match else None)


class RobotRun(BaseModel):
    """The outcome of one robot subprocess."""

    run_id: str
    suite: Path
    output_dir: Path
    return_code: int | None
    timed_out: bool = False
    duration_seconds: float
    tasks: list[TaskResult] = []
    output_complete: bool = False

    @property
    def log_html(self) -> Path:
        return self.output_dir / "log.html"

    @property
    def passed(self) -> bool:
        return self.return_code == 0 and not self.timed_out


def run_suite(
    suite: Path | str,
    *,
    run_id: str | None = None,
    variables: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    settings: KuntaflowSettings | None = None,
    extra_args: list[str] | None = None,
) -> RobotRun:
    """Run ``suite`` in a subprocess and return its per-task results.

    Args:
        suite: a ``.robot`` file or a folder of them.
        run_id: names the output folder; unique per run.
        variables: Robot Framework variables (``--variable NAME:value``).
        env: extra environment for the robot (e.g. which work items it works on).
        timeout: seconds before the whole process group is killed (default from settings).
    """
    settings = settings or KuntaflowSettings()
    run_id = run_id or uuid.uuid4().hex[:12]
    output_dir = settings.robot_output_dir / _safe(run_id)
    output_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "robot",
        "--outputdir", str(output_dir), "--output", "output.xml", "--log", "NONE", "--report", "NONE",
        "--listener", "kuntaflow.redaction.RobotRedactionListener",
        "--pythonpath", str(LIBRARIES_DIR), "--pythonpath", str(RESOURCES_DIR),
        "--consolecolors", "off", "--consolemarkers", "off",
    ]
    for name, value in (variables or {}).items():
        command += ["--variable", f"{name}:{value}"]
    command += [*(extra_args or []), str(suite)]
    child_env = {**os.environ, "KUNTAFLOW_DATA_DIR": str(settings.resolved_data_dir), **(env or {})}
    child_env.setdefault("KUNTAFLOW_DATABASE_URL", settings.queue_url)
    console = output_dir / "console.txt"
    started = time.monotonic()
    timed_out = False
    with open(console, "wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=child_env, start_new_session=True
        )
        try:
            return_code: int | None = process.wait(timeout=timeout or settings.robot_timeout_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(process)
            return_code = process.returncode
    duration = time.monotonic() - started
    redact_file(console)
    tasks, complete = _read_results(output_dir)
    return RobotRun(
        run_id=run_id, suite=Path(suite), output_dir=output_dir, return_code=return_code, timed_out=timed_out,
        duration_seconds=round(duration, 3), tasks=tasks, output_complete=complete,
    )


def _read_results(output_dir: Path) -> tuple[list[TaskResult], bool]:
    """Mask output.xml, build log.html/report.html from it, and list the tasks' results."""
    output = output_dir / "output.xml"
    if not output.exists():
        return [], False
    redact_file(output)
    from robot.api import ExecutionResult
    from robot.errors import DataError

    try:
        result = ExecutionResult(str(output))
    except DataError:
        # The robot was killed while writing: the per-item outcomes are in the queue already.
        return [], False
    tasks = [TaskResult.from_robot(test.name, test.status, test.message) for test in result.suite.all_tests]
    from robot import rebot

    with open(output_dir / "rebot.txt", "w") as sink:
        rebot(str(output), outputdir=str(output_dir), output="NONE", log="log.html", report="report.html",
              stdout=sink, stderr=sink)
    return tasks, True


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", name)
