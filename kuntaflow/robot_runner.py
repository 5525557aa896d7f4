"""Runs one Robot Framework suite in its own subprocess and reads back what happened.

Robot Framework is not thread-safe and installs process-wide signal handlers, so every batch
runs as ``python -m robot`` in a new process group with a hard timeout. Its output stays under
the data directory, one folder per run (``KuntaflowSettings().robot_output_dir / <run id>``):

- ``output.xml``: written with ``schemas.redaction.RobotRedactionListener`` (which masks
  messages, arguments and failures as they are written) and masked once more after the run, in
  the same read that lists the tasks' results (kuntaflow/robot_results.py; a big batch's in a
  process of its own, off this process's GIL);
- ``log.html`` and ``report.html``: built by rebot from that masked ``output.xml`` when someone
  opens the log (``kuntaflow robot-log``, :func:`kuntaflow.robot_results.build_log`), not per batch;
- ``console.txt``: the robot's console, masked line by line as it arrives (never raw on disk).

Task results are parsed with ``robot.api.ExecutionResult`` there; a failure message that starts with
``BusinessRuleError:``, ``TransientError:`` or ``IntegrationError:`` (connectors/errors.py)
gives the task its error category.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import IO

from pydantic import BaseModel

from kuntaflow.outcomes import FailureCategory
from kuntaflow.robot_results import read_results
from kuntaflow.settings import KuntaflowSettings
from schemas.redaction import redact

PROJECT_DIR = Path(__file__).resolve().parent.parent
ROBOTS_DIR = PROJECT_DIR / "robots"
LIBRARIES_DIR = ROBOTS_DIR / "libraries"
RESOURCES_DIR = ROBOTS_DIR / "resources"

#: Tells the robot which process runs it (see RunnerLifeline).
RUNNER_PID_ENV = "KUNTAFLOW_RUNNER_PID"
#: Where the robot writes its own peak memory as it ends (see RunnerLifeline.close).
PEAK_MEMORY_FILE_ENV = "KUNTAFLOW_ROBOT_PEAK_MEMORY_FILE"
PEAK_MEMORY_FILE = "robot-peak-memory-kb"

#: Robot Framework's own exit codes above the failed-task count (its User Guide, "Return codes").
RF_INVALID_DATA = 252
RF_STOPPED_BY_USER = 253
RF_INTERNAL_ERROR = 255

_CODE = re.compile(r"[A-Z][A-Z0-9_]{2,63}")
_FAILURE = re.compile(r"^(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*): )?(?:(?P<code>[A-Z][A-Z0-9_]{2,63}): )?(?P<text>.*)$", re.S)


class RobotRunnerError(Exception):
    """The runner could not start or read a robot."""


class SuiteNotFoundError(RobotRunnerError):
    """The suite file or folder does not exist (nothing was started, nothing claimed)."""


class RobotCouldNotRunError(RobotRunnerError):
    """Robot Framework refused the suite or its options, or crashed, before running it as written."""


class FailureMessage(BaseModel):
    """A Robot Framework failure message taken apart: ``<ExceptionName>: <CODE>: <text>``.

    Robot Framework prefixes a failure with the exception's class name (except for generic ones
    such as ``AssertionError``), and ``AutomationError.__str__`` is ``CODE: message``.
    """

    exception: str | None = None
    code: str | None = None
    text: str

    @classmethod
    def parse(cls, message: str) -> FailureMessage:
        match = _FAILURE.match(message)
        assert match is not None  # the pattern matches any string
        name, code = match.group("name"), match.group("code")
        if code is None and name is not None and _CODE.fullmatch(name):
            # "CODE: text" (no class name, as from a generic AssertionError): a code is all capitals.
            name, code = None, name
        return cls(exception=name, code=code, text=match.group("text"))


class TaskResult(BaseModel):
    """One ``*** Tasks ***`` entry of the suite as Robot Framework recorded it."""

    name: str
    status: str
    message: str = ""
    error_category: FailureCategory | None = None
    error_code: str | None = None

    @classmethod
    def from_robot(cls, name: str, status: str, message: str) -> TaskResult:
        message = redact(message or "")
        failure = FailureMessage.parse(message)
        category = FailureCategory.of_exception(failure.exception)
        return cls(
            name=name,
            status=status,
            message=message,
            error_category=category,
            error_code=failure.code if category else None,
        )


class RobotRun(BaseModel):
    """The outcome of one robot subprocess."""

    run_id: str
    suite: Path
    output_dir: Path
    return_code: int | None
    timed_out: bool = False
    duration_seconds: float
    peak_memory_mb: float | None = None
    tasks: list[TaskResult] = []
    output_complete: bool = False

    @property
    def log_html(self) -> Path:
        return self.output_dir / "log.html"

    @property
    def console_log(self) -> Path:
        return self.output_dir / "console.txt"

    @property
    def passed(self) -> bool:
        return self.return_code == 0 and not self.timed_out

    @property
    def could_not_run(self) -> bool:
        """Robot Framework refused the suite or its options, or crashed: no task ran as written."""
        return self.return_code in (RF_INVALID_DATA, RF_INTERNAL_ERROR)


class RunnerLifeline:
    """Robot Framework listener that ties the robot's life to its runner's.

    The robot runs in a session of its own (so a timeout can kill its whole group), which also
    means it would outlive a runner that is killed: an orphan nobody times out, renewing its
    leases for ever. On Linux the kernel kills the robot when the runner dies
    (``PR_SET_PDEATHSIG``); everywhere, ``WorkItems`` stops renewing leases once the runner is
    gone (:func:`runner_alive`), so the items come back when their leases run out.
    """

    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self) -> None:
        if not os.environ.get(RUNNER_PID_ENV):
            return
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            return  # not Linux: the lease check in WorkItems is the safety net
        if not runner_alive():
            os.kill(os.getpid(), signal.SIGKILL)  # the runner died before the tie was made

    def close(self) -> None:
        """Write this process's peak resident memory (``VmHWM``) where the runner reads it.

        Measured here because the runner cannot: ``wait4``'s ``ru_maxrss`` keeps the runner's own
        size from before ``exec`` (a 500 MB flow process made every robot read 500 MB).
        """
        target = os.environ.get(PEAK_MEMORY_FILE_ENV)
        if target:
            Path(target).write_text(str(peak_memory_kb() or ""), encoding="utf-8")


def peak_memory_kb() -> int | None:
    """This process's peak resident memory since its last ``exec`` (Linux ``VmHWM``), in KiB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return next((int(line.split()[1]) for line in status if line.startswith("VmHWM:")), None)
    except OSError:
        return None


def runner_alive() -> bool:
    """In a robot started by :func:`run_suite`: whether the runner is still our parent."""
    runner = os.environ.get(RUNNER_PID_ENV)
    return not runner or os.getppid() == int(runner)


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

    The robot gets the engine's settings (queue URL, data directory, lease, attempts, backoff)
    in its environment, so its ``WorkItems`` library talks to the same queue as the caller.

    Args:
        suite: a ``.robot`` file or a folder of them.
        run_id: names the output folder; unique per run.
        variables: Robot Framework variables (``--variable NAME:value``); never personal data,
            the command line is visible to every user of the machine.
        env: extra environment for the robot (e.g. which work items it works on).
        timeout: seconds before the whole process group is killed (default from settings).
        extra_args: more ``robot`` options, before the suite path.

    Raises:
        SuiteNotFoundError: ``suite`` does not exist.
    """
    suite = Path(suite)
    if not suite.exists():
        raise SuiteNotFoundError(f"robot suite {suite} does not exist")
    settings = settings or KuntaflowSettings()
    run_id = run_id or uuid.uuid4().hex[:12]
    output_dir = run_output_dir(run_id, settings)
    output_dir.mkdir(parents=True, exist_ok=True)
    limit = timeout or settings.robot_timeout_seconds
    started = time.monotonic()
    process = subprocess.Popen(
        _robot_command(suite, output_dir, variables, extra_args),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=_child_environment(settings, env, output_dir),
        start_new_session=True,
    )
    timed_out = _supervise(process, output_dir, run_id, limit)
    duration = time.monotonic() - started
    tasks, complete = _read_results(output_dir)
    return RobotRun(
        run_id=run_id,
        suite=suite,
        output_dir=output_dir,
        return_code=process.returncode,
        timed_out=timed_out,
        duration_seconds=round(duration, 3),
        peak_memory_mb=read_peak_memory_mb(output_dir),
        tasks=tasks,
        output_complete=complete,
    )


def _robot_command(suite: Path, output_dir: Path, variables: dict[str, str] | None, extra_args: list[str] | None) -> list[str]:
    """``python -m robot`` writing a masked output.xml to ``output_dir`` (log and report are built from it later)."""
    command = [
        sys.executable,
        "-m",
        "robot",
        "--outputdir",
        str(output_dir),
        "--output",
        "output.xml",
        "--log",
        "NONE",
        "--report",
        "NONE",
        "--listener",
        "schemas.redaction.RobotRedactionListener",
        "--listener",
        "kuntaflow.robot_runner.RunnerLifeline",
        "--pythonpath",
        str(LIBRARIES_DIR),
        "--pythonpath",
        str(RESOURCES_DIR),
        "--consolecolors",
        "off",
        "--consolemarkers",
        "off",
    ]
    for name, value in (variables or {}).items():
        command += ["--variable", f"{name}:{value}"]
    return [*command, *(extra_args or []), str(suite)]


def _supervise(process: subprocess.Popen, output_dir: Path, run_id: str, limit: float) -> bool:
    """Copy the robot's console (masked) while it runs, wait up to ``limit`` s, and leave nothing of
    it running; return whether it timed out."""
    assert process.stdout is not None
    console = output_dir / "console.txt"
    copier = threading.Thread(target=_copy_masked, args=(process.stdout, console), name=f"robot-console-{run_id}", daemon=True)
    copier.start()
    timed_out = False
    try:
        timed_out = not _wait_for_exit(process, limit)
    finally:
        # On a timeout, and if we are interrupted ourselves (a cancelled flow run), nothing of the
        # robot may outlive this call; after a normal exit this stops what it left running.
        _kill_group(process)
        copier.join(timeout=30)
    if timed_out:
        with open(console, "a", encoding="utf-8") as out:
            out.write(f"\n[kuntaflow] the robot was stopped after the {limit:g} s timeout\n")
    return timed_out


def _child_environment(settings: KuntaflowSettings, extra: dict[str, str] | None, output_dir: Path | None = None) -> dict[str, str]:
    """The robot's environment: ours, the caller's settings spelled out, and ``extra`` on top."""
    env = {
        **os.environ,
        "PYTHONPATH": _python_path(PROJECT_DIR, LIBRARIES_DIR),
        "PYTHONIOENCODING": "utf-8",
        "KUNTAFLOW_DATA_DIR": str(settings.resolved_data_dir),
        "KUNTAFLOW_DATABASE_URL": settings.queue_url,
        "KUNTAFLOW_LEASE_SECONDS": str(settings.lease_seconds),
        "KUNTAFLOW_MAX_ATTEMPTS": str(settings.max_attempts),
        "KUNTAFLOW_RETRY_BACKOFF_SECONDS": str(settings.retry_backoff_seconds),
        RUNNER_PID_ENV: str(os.getpid()),
    }
    if output_dir is not None:
        env[PEAK_MEMORY_FILE_ENV] = str(output_dir / PEAK_MEMORY_FILE)
    # Secrets set on the settings object rather than in our environment; unset ones the robot
    # reads from the same data directory.
    for name, secret in (("KUNTAFLOW_PAYLOAD_KEY", settings.payload_key), ("KUNTAFLOW_HETU_SALT", settings.hetu_salt)):
        if secret is not None:
            env[name] = secret.get_secret_value()
    return {**env, **(extra or {})}


def _python_path(*first: Path) -> str:
    """``first`` ahead of our own PYTHONPATH, for a child Python that imports Kuntaflow."""
    return os.pathsep.join([*map(str, first), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))])


def _copy_masked(source: IO[bytes], target: Path) -> None:
    """Write the robot's console to ``target`` a line at a time, masked before it touches the disk."""
    with source, open(target, "w", encoding="utf-8") as out:
        for line in source:
            out.write(redact(line.decode("utf-8", errors="replace")))
            out.flush()


#: An output.xml at least this big is read in a process of its own; a smaller one here. Only the
#: tasks are read, not the keywords (kuntaflow/robot_results.py): a warm-path robot's batch of up
#: to 250 applications (~0.9 MB) takes ~0.1 s here, against ~1 s of CPU for a process to start,
#: import Robot Framework and read it. A batch run's 1,000 (~3.6 MB) is read in its own process:
#: read here, batch after batch, they grew the flow's peak memory with the run's length
#: (218 → 250 MB from 2,000 to 20,000 applications; in their own process 210 → 218 MB).
READ_IN_PROCESS_BELOW_BYTES = 1024 * 1024

#: Robot Framework's result reading and rebot keep process-wide state (its LOGGER, the output
#: streams): two batches reading here at once broke each other's rebot; reading alone takes turns too.
_RESULTS_LOCK = threading.Lock()


def _read_results(output_dir: Path) -> tuple[list[TaskResult], bool]:
    """Mask output.xml and list the tasks' results (kuntaflow/robot_results.py), here or in a
    process of its own by the file's size."""
    output = output_dir / "output.xml"
    if not output.exists() or output.stat().st_size < READ_IN_PROCESS_BELOW_BYTES:
        with _RESULTS_LOCK:
            read = read_results(output_dir)
    else:
        done = subprocess.run(
            [sys.executable, "-m", "kuntaflow.robot_results", str(output_dir)],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": _python_path(PROJECT_DIR)},
            check=False,
        )
        if done.returncode != 0:
            with open(output_dir / "rebot.txt", "a", encoding="utf-8") as sink:
                sink.write(redact(f"[kuntaflow] reading output.xml failed (exit code {done.returncode}):\n{done.stderr[-4000:]}"))
            return [], False
        read = json.loads(done.stdout.strip().splitlines()[-1])
    tasks = [TaskResult.from_robot(name, status, message) for name, status, message in read["tasks"]]
    return tasks, bool(read["complete"])


def _wait_for_exit(process: subprocess.Popen, timeout: float) -> bool:
    """Wait up to ``timeout`` s for the robot to exit, without reaping it.

    An exited but unreaped robot keeps its pid, which is also its process group's id, so the
    group can be killed afterwards without any risk of hitting a process that reused the number.
    """
    try:
        pidfd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # not Linux: reaping is the only portable wait
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        return bool(poller.poll(timeout * 1000))
    finally:
        os.close(pidfd)


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the robot's whole process group (its browsers and helpers too) and reap the robot."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def read_peak_memory_mb(output_dir: Path) -> float | None:
    """The peak memory the robot wrote as it ended; None when it did not end on its own (killed)."""
    try:
        return round(int((output_dir / PEAK_MEMORY_FILE).read_text(encoding="utf-8")) / 1024, 1)
    except (OSError, ValueError):
        return None


def run_output_dir(run_id: str, settings: KuntaflowSettings) -> Path:
    """The folder a robot run's output, log.html and report.html go to (a batch's run id is its lease owner)."""
    return settings.robot_output_dir / safe_name(run_id)


def safe_name(name: str) -> str:
    """``name`` as a folder name: the run's output folder under the data directory."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", name)
