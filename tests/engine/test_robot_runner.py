"""The robot runner: subprocess per suite, results per task, categories, timeout, masked output."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flows.installation_check import sample_identity_code
from kuntaflow.robot_runner import ErrorCategory, run_suite
from kuntaflow.settings import KuntaflowSettings

FIXTURES = Path(__file__).parent / "robot_fixtures"
HETU = sample_identity_code(date(2012, 3, 4), 987)  # built at run time; new century letters via A


def test_results_per_task_with_error_categories_and_kept_logs(tmp_path):
    settings = KuntaflowSettings(data_dir=tmp_path)
    run = run_suite(FIXTURES / "outcomes.robot", run_id="outcomes", variables={"HETU": HETU}, settings=settings)
    by_name = {task.name: task for task in run.tasks}
    assert by_name["Passes"].status == "PASS" and by_name["Passes"].error_category is None
    assert by_name["Business Failure"].error_category is ErrorCategory.BUSINESS
    assert by_name["Business Failure"].message.startswith("BusinessRuleError: UNDER_15_NO_GUARDIAN")
    assert by_name["Transient Failure"].error_category is ErrorCategory.TRANSIENT
    assert run.output_dir == settings.robot_output_dir / "outcomes"
    assert run.log_html.exists() and (run.output_dir / "report.html").exists()
    assert run.return_code == 3 and not run.timed_out and run.output_complete


def test_a_henkilotunnus_never_reaches_robot_output_files_or_results(tmp_path):
    settings = KuntaflowSettings(data_dir=tmp_path)
    run = run_suite(
        FIXTURES / "outcomes.robot", run_id="privacy", variables={"HETU": HETU}, settings=settings,
        extra_args=["--loglevel", "TRACE"],
    )
    personal = run.tasks[-1]
    assert personal.status == "FAIL" and HETU not in personal.message and "******-****" in personal.message
    written = {path.name: path.read_text(errors="replace") for path in run.output_dir.iterdir()}
    assert {"output.xml", "log.html", "report.html", "console.txt"} <= set(written)
    for name, text in written.items():
        assert HETU not in text, f"{name} contains the henkilötunnus"
    # The masked lines are really there (argument logging at TRACE, Python logging, console):
    assert written["output.xml"].count("******-****") >= 6
    assert "console line with ******-****" in written["console.txt"]


def test_a_suite_that_runs_too_long_is_killed_at_the_timeout(tmp_path):
    run = run_suite(FIXTURES / "slow.robot", run_id="slow", timeout=3, settings=KuntaflowSettings(data_dir=tmp_path))
    assert run.timed_out and not run.passed
    assert run.duration_seconds < 30
