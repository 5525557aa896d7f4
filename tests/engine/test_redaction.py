"""One mask for every henkilötunnus: Python logging, Prefect logs sent to its API, Robot Framework output.

The robot runner's own end-to-end masking (output.xml, log.html, report.html, console) is tested in
test_robot_runner.py; here the listener is checked alone, and the check itself is shown to find codes.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import date
from pathlib import Path

import httpx
import pytest

from flows.installation_check import sample_identity_code
from schemas.redaction import MASK, find_unmasked, install, is_installed, redact, robot_run_texts

FIXTURES = Path(__file__).parent / "robot_fixtures"

# Built at run time with every kind of century sign: + (1800s), - and U–Y (1900s), A–F (2000s).
SAMPLES = [
    sample_identity_code(date(1899, 12, 31), 905),
    sample_identity_code(date(1985, 1, 2), 912),
    sample_identity_code(date(2010, 7, 8), 990),
]
NEW_SIGNS = [code[:6] + sign + code[7:] for code, sign in zip(SAMPLES[1:] * 5, "UVWXYBCDEF", strict=False)]


@pytest.mark.parametrize("code", SAMPLES + NEW_SIGNS)
def test_every_century_sign_is_masked(code):
    assert redact(f"henkilö {code}, ok") == f"henkilö {MASK}, ok"
    assert redact(code.lower()) == MASK


def test_text_without_identity_codes_is_untouched():
    text = "invoice 2024-001 total 15.50, phone +358401234567, reference 12345672"
    assert redact(text) == text


def test_install_wraps_the_record_factory_once_however_often_it_is_called():
    install()
    factory = logging.getLogRecordFactory()
    install()
    assert logging.getLogRecordFactory() is factory and is_installed()


def test_python_logging_at_every_level_never_writes_a_code_to_a_file(tmp_path):
    install()
    path = tmp_path / "kuntaflow.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("kuntaflow.test.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    code = SAMPLES[2]
    try:
        for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL):
            logger.log(level, "as argument %s", code)
            logger.log(level, f"in the message {code}")
        try:
            raise ValueError(f"bad code {code}")
        except ValueError:
            logger.exception("with a traceback")
    finally:
        logger.removeHandler(handler)
        handler.close()
    text = path.read_text()
    assert code not in text
    assert text.count(MASK) == 11
    assert "ValueError: bad code ******-****" in text


def test_install_quiets_the_loggers_that_write_full_urls(caplog):
    httpx_logger = logging.getLogger("httpx")
    httpx_logger.setLevel(logging.NOTSET)
    logging.getLogger("httpcore").setLevel(logging.ERROR)  # someone's stricter choice stays
    install()
    assert httpx_logger.getEffectiveLevel() == logging.WARNING and logging.getLogger("httpcore").level == logging.ERROR
    # caplog sets the root's level; httpx's own WARNING still applies
    with caplog.at_level(logging.INFO), httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200))) as client:
        client.get("http://koha.test/api/v1/patrons", params={"q": '{"surname":"Virtanen"}'})
    assert not [record for record in caplog.records if record.name.startswith(("httpx", "httpcore"))]
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def test_arguments_keep_their_shape_for_formatters_that_unpack_them():
    """uvicorn's access formatter unpacks ``record.args``; masking must not take them away."""
    from uvicorn.logging import AccessFormatter

    install()
    code = SAMPLES[1]
    factory = logging.getLogRecordFactory()
    access = factory(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5000", "GET", f"/persons?hetu={code}", "1.1", 200), None
    )
    assert access.args == ("127.0.0.1:5000", "GET", f"/persons?hetu={MASK}", "1.1", 200)
    line = AccessFormatter("%(client_addr)s %(request_line)s %(status_code)s", use_colors=False).format(access)
    assert line == f"127.0.0.1:5000 GET /persons?hetu={MASK} HTTP/1.1 200 OK"
    mapping = factory("kf", logging.INFO, __file__, 1, "%(who)s is %(age)d", ({"who": code, "age": 41},), None)
    assert mapping.args == {"who": MASK, "age": 41} and mapping.getMessage() == f"{MASK} is 41"
    inside = factory("kf", logging.INFO, __file__, 1, "%s and %r", ({"hetu": code}, [code]), None)
    assert inside.getMessage() == f"{{'hetu': '{MASK}'}} and ['{MASK}']" and isinstance(inside.args, tuple)
    split = factory("kf", logging.INFO, __file__, 1, "%s-%s", (code[:6], code[7:]), None)  # a code across arguments
    assert split.getMessage() == MASK and split.args is None
    plain = factory("kf", logging.INFO, __file__, 1, "no args %s", (), None)
    assert plain.getMessage() == "no args %s"


@pytest.mark.slow
def test_prefect_run_logs_reach_the_api_masked(prefect_harness):
    from prefect import flow, get_run_logger, task
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker
    from prefect.runtime import flow_run

    install()
    code = SAMPLES[1]

    @task
    def look_up() -> None:
        get_run_logger().info("task looked up %s", code)

    @flow(name="redaction-probe", log_prints=True)
    def probe() -> str:
        logger = get_run_logger()
        logger.debug("debug %s", code)
        logger.info("info %s", code)
        logger.warning(f"warning {code}")
        logger.error("error %s", code)
        logger.critical("critical %s", code)
        try:
            raise ValueError(f"bad code {code}")
        except ValueError:
            logger.exception("with a traceback")
        print(f"printed {code}")
        look_up()
        return flow_run.get_id()

    run_id = probe()
    APILogWorker.drain_all()
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
    messages = [log.message for log in logs]
    for expected in ("info", "warning", "error", "critical", "printed", "task looked up"):
        assert any(f"{expected} {MASK}" in m for m in messages), expected
    assert any(f"ValueError: bad code {MASK}" in m for m in messages)
    assert all(code not in m for m in messages)


# --------------------------------------------------------------------------- Robot Framework


def _robot(tmp_path: Path, *options: str) -> Path:
    """Run the control-structures fixture straight through Robot Framework (no runner, no post-pass).

    A copy gets a literal code as a keyword argument too: Robot Framework writes arguments as written
    in the data, so only a literal shows whether arguments are masked.
    """
    literal = tmp_path / "literal.robot"
    literal.write_text(
        "*** Settings ***\nLibrary    RedactionFixture.py\n\n*** Tasks ***\nLiteral Argument\n"
        f"    Take Identity Code As Argument    {SAMPLES[0]}\n    Log    {SAMPLES[0]}\n",
        encoding="utf-8",
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "robot",
            "--outputdir",
            str(tmp_path),
            "--log",
            "log.html",
            "--report",
            "NONE",
            "--loglevel",
            "TRACE",
            "--variable",
            f"HETU:{SAMPLES[2]}",
            "--pythonpath",
            str(FIXTURES),
            *options,
            str(FIXTURES / "control_structures.robot"),
            str(literal),
        ],
        capture_output=True,
        check=False,
        timeout=120,
    )
    literal.unlink()
    return tmp_path


def test_without_the_listener_a_code_reaches_output_xml_and_log_html(tmp_path):
    """The check below is real: unmasked, Robot Framework writes the code into every file."""
    found = find_unmasked(_robot(tmp_path))
    assert found["output.xml"] >= 5 and found["log.html"] >= 5


def test_the_listener_masks_arguments_values_messages_and_failures_as_output_xml_is_written(tmp_path):
    run = _robot(tmp_path, "--listener", "schemas.redaction.RobotRedactionListener")
    assert find_unmasked(run) == {}
    output = robot_run_texts(run)["output.xml"]
    for masked in (
        f"<arg>{MASK}</arg>",  # a literal argument
        f"Arguments: [ '{MASK}' ]",  # argument values at TRACE
        f'<var name="${{value}}">{MASK}</var>',  # a FOR iteration's value
        f"${{code}} = {MASK}",  # VAR
        f"Return: '{MASK}'",  # RETURN
        f"python logging inside the robot: {MASK}",
        f">BusinessRuleError: INVALID_HETU: failed for {MASK}</status>",
    ):
        assert masked in output, masked
