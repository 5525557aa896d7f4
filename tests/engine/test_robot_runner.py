"""The robot runner: subprocess per suite, results per task, categories, timeout, masked output."""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

import pytest

from flows.installation_check import sample_identity_code
from kuntaflow.outcomes import FailureCategory
from kuntaflow.robot_results import RobotLogError, build_log
from kuntaflow.robot_runner import FailureMessage, SuiteNotFoundError, TaskResult, run_suite
from kuntaflow.settings import KuntaflowSettings
from schemas.redaction import MASK, find_unmasked, robot_run_texts

FIXTURES = Path(__file__).parent / "robot_fixtures"
HETU = sample_identity_code(date(2012, 3, 4), 987)  # built at run time; new century letters via A


def _wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("message", "exception", "code", "text"),
    [
        ("BusinessRuleError: UNDER_15: the applicant is 12", "BusinessRuleError", "UNDER_15", "the applicant is 12"),
        ("TransientError: koha answered 503", "TransientError", None, "koha answered 503"),
        ("UNDER_15: the applicant is 12", None, "UNDER_15", "the applicant is 12"),
        ("Work item 3: something", None, None, "Work item 3: something"),
        ("ValueError: Bad: multi\nline", "ValueError", None, "Bad: multi\nline"),
    ],
)
def test_a_failure_message_is_taken_apart_into_exception_code_and_text(message, exception, code, text):
    assert FailureMessage.parse(message) == FailureMessage(exception=exception, code=code, text=text)


def test_only_the_three_hierarchy_names_give_a_task_an_error_category():
    assert TaskResult.from_robot("t", "FAIL", "IntegrationError: BAD_SHAPE: no id").error_category is FailureCategory.INTEGRATION
    assert TaskResult.from_robot("t", "FAIL", "IntegrationError: BAD_SHAPE: no id").error_code == "BAD_SHAPE"
    other = TaskResult.from_robot("t", "FAIL", "ValueError: BAD: no")
    # The robot's own category for what is outside the hierarchy is no exception's name.
    assert TaskResult.from_robot("t", "FAIL", "UnexpectedError: BAD: no").error_category is None
    assert (other.error_category, other.error_code) == (None, None)
    assert TaskResult.from_robot("t", "FAIL", f"BusinessRuleError: X: {HETU}").message == f"BusinessRuleError: X: {MASK}"


def test_results_per_task_with_error_categories_and_kept_logs(tmp_path, capfd):
    settings = KuntaflowSettings(data_dir=tmp_path)
    run = run_suite(FIXTURES / "outcomes.robot", run_id="outcomes", variables={"HETU": HETU}, settings=settings)
    by_name = {task.name: task for task in run.tasks}
    assert by_name["Passes"].status == "PASS" and by_name["Passes"].error_category is None
    assert by_name["Business Failure"].error_category is FailureCategory.BUSINESS
    assert by_name["Business Failure"].error_code == "UNDER_15_NO_GUARDIAN"
    assert by_name["Business Failure"].message == "BusinessRuleError: UNDER_15_NO_GUARDIAN: the applicant is under 15"
    assert by_name["Transient Failure"].error_category is FailureCategory.TRANSIENT
    assert by_name["Transient Failure"].error_code == "KOHA_UNAVAILABLE"
    assert run.output_dir == settings.robot_output_dir / "outcomes"
    assert not run.log_html.exists(), "log.html is built when someone opens it, not for every run"
    assert build_log(run.output_dir) == run.log_html and run.log_html.exists() and (run.output_dir / "report.html").exists()
    assert run.return_code == 3 and not run.timed_out and run.output_complete and not run.could_not_run
    assert run.peak_memory_mb is not None and 20 < run.peak_memory_mb < 1000
    assert "Business Failure" in run.console_log.read_text()
    assert capfd.readouterr() == ("", ""), "a robot run prints nothing on our console"


def test_the_robots_peak_memory_is_its_own_not_the_size_of_the_process_that_started_it(tmp_path):
    """wait4's ru_maxrss keeps the parent's size from before exec: a robot started by a 600 MB flow
    process read 600 MB. The robot reports its own high-water mark as it ends."""
    ballast = bytearray(600 * 1024 * 1024)
    ballast[::4096] = b"\x01" * len(ballast[::4096])  # touched, so it is resident
    settings = KuntaflowSettings(data_dir=tmp_path)
    run = run_suite(FIXTURES / "outcomes.robot", run_id="memory", variables={"HETU": HETU}, settings=settings)
    assert len(ballast) and run.peak_memory_mb is not None
    assert 20 < run.peak_memory_mb < 300, run.peak_memory_mb


def test_a_big_output_is_read_in_a_process_of_its_own_with_the_same_results(tmp_path, monkeypatch):
    from kuntaflow import robot_runner

    settings = KuntaflowSettings(data_dir=tmp_path)
    here = run_suite(FIXTURES / "outcomes.robot", run_id="here", variables={"HETU": HETU}, settings=settings)
    monkeypatch.setattr(robot_runner, "READ_IN_PROCESS_BELOW_BYTES", 0)
    monkeypatch.setattr(robot_runner, "read_results", lambda _: pytest.fail("read in this process"))
    apart = run_suite(FIXTURES / "outcomes.robot", run_id="apart", variables={"HETU": HETU}, settings=settings)
    assert apart.output_complete and apart.tasks == here.tasks and len(apart.tasks) == 4
    assert HETU not in (apart.output_dir / "output.xml").read_text(encoding="utf-8")


def test_two_robots_finishing_at_once_in_one_process_both_get_their_results(tmp_path):
    """Parallel batches (flows/robot_task.run_batches) read their robots' results from threads of one
    flow run; Robot Framework's result reading is process-wide state and broke a neighbour's
    (a RecursionError from rebot's closed output) until the runner took a lock around it (small
    outputs are read in the runner's process; big ones in a process of their own)."""
    import shutil

    from kuntaflow import robot_runner

    settings = KuntaflowSettings(data_dir=tmp_path)
    first = run_suite(FIXTURES / "outcomes.robot", run_id="first", variables={"HETU": HETU}, settings=settings)
    results: dict[str, tuple] = {}
    errors: list[BaseException] = []
    for round_number in range(8):
        start = threading.Barrier(2)
        dirs = []
        for n in range(2):
            target = tmp_path / f"r{round_number}-{n}"
            target.mkdir()
            shutil.copy(first.output_dir / "output.xml", target / "output.xml")
            dirs.append(target)

        def read(target: Path, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                results[target.name] = robot_runner._read_results(target)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=read, args=(target,)) for target in dirs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert not errors
    assert all(complete and len(tasks) == 4 for tasks, complete in results.values()) and len(results) == 16


def test_a_henkilotunnus_never_reaches_robot_output_files_or_results(tmp_path):
    settings = KuntaflowSettings(data_dir=tmp_path)
    run = run_suite(
        FIXTURES / "outcomes.robot",
        run_id="privacy",
        variables={"HETU": HETU},
        settings=settings,
        extra_args=["--loglevel", "TRACE"],
    )
    personal = run.tasks[-1]
    assert personal.status == "FAIL" and HETU not in personal.message and MASK in personal.message
    build_log(run.output_dir)  # as `kuntaflow robot-log` builds it when someone opens it
    texts = robot_run_texts(run.output_dir)
    assert {"output.xml", "log.html", "report.html", "console.txt"} <= set(texts)
    assert find_unmasked(run.output_dir) == {}
    # The masked lines are really there (argument logging at TRACE, Python logging, console), and log.html,
    # read as a browser shows it, has them too:
    assert texts["output.xml"].count(MASK) >= 6
    assert "console line with ******-****" in texts["console.txt"]
    assert "python logging inside the robot: ******-****" in texts["log.html"]
    assert f"BusinessRuleError: INVALID_HETU: failed for {MASK}" in texts["report.html"]


def test_the_console_capture_is_masked_while_the_robot_is_still_running(tmp_path):
    gate = tmp_path / "gate"
    settings = KuntaflowSettings(data_dir=tmp_path)
    console = settings.robot_output_dir / "live" / "console.txt"
    worker = threading.Thread(
        target=run_suite,
        args=(FIXTURES / "console_then_wait.robot",),
        kwargs={"run_id": "live", "variables": {"HETU": HETU, "GATE": str(gate)}, "settings": settings},
    )
    worker.start()
    try:
        _wait_for(lambda: console.exists() and MASK in console.read_text(), "the console line")
        assert HETU not in console.read_text()
    finally:
        gate.touch()
        worker.join(60)


def test_a_suite_that_runs_too_long_is_killed_at_the_timeout_with_what_it_started(tmp_path):
    helper_pid = tmp_path / "helper.pid"
    run = run_suite(
        FIXTURES / "slow.robot", run_id="slow", timeout=3, variables={"HELPER_PID_FILE": str(helper_pid)}, settings=KuntaflowSettings(data_dir=tmp_path)
    )
    assert run.timed_out and not run.passed and run.return_code is not None and run.return_code < 0
    assert run.duration_seconds < 30
    assert "stopped after the 3 s timeout" in run.console_log.read_text()
    stat = Path(f"/proc/{helper_pid.read_text()}/stat")
    # Killed with the robot's process group: gone, or a zombie until init reaps it.
    _wait_for(lambda: not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z", "the helper to die")


def test_robot_framework_refusing_the_options_is_reported_as_could_not_run(tmp_path):
    run = run_suite(FIXTURES / "outcomes.robot", extra_args=["--no-such-option"], settings=KuntaflowSettings(data_dir=tmp_path))
    assert run.return_code == 252 and run.could_not_run and not run.tasks
    assert "option --nosuchoption not recognized" in run.console_log.read_text()


def test_a_missing_suite_is_a_clear_error_before_anything_starts(tmp_path):
    with pytest.raises(SuiteNotFoundError, match=r"nope\.robot does not exist"):
        run_suite(tmp_path / "nope.robot", settings=KuntaflowSettings(data_dir=tmp_path))
    assert not (tmp_path / "robot-runs").exists()


def test_a_log_is_built_once_when_opened_and_a_cut_short_output_says_why_there_is_none(tmp_path):
    from typer.testing import CliRunner

    from apps.cli.main import app

    settings = KuntaflowSettings(data_dir=tmp_path)
    run = run_suite(FIXTURES / "outcomes.robot", run_id="on-demand", variables={"HETU": HETU}, settings=settings)
    opened = CliRunner().invoke(app, ["robot-log", str(run.log_html)])
    assert opened.exit_code == 0 and opened.stdout.strip() == str(run.log_html) and HETU not in run.log_html.read_text(encoding="utf-8")
    built_at = run.log_html.stat().st_mtime_ns
    assert build_log(run.output_dir) == run.log_html and run.log_html.stat().st_mtime_ns == built_at  # reused

    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / "output.xml").write_text((run.output_dir / "output.xml").read_text(encoding="utf-8")[:2000], encoding="utf-8")
    with pytest.raises(RobotLogError, match="cut short"):
        build_log(cut)
    refused = CliRunner().invoke(app, ["robot-log", str(tmp_path / "nothing-here")])
    assert refused.exit_code == 1 and "has no output.xml" in refused.stderr
