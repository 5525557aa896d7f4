"""One mask for every henkilötunnus, in Python logging and in Prefect logs sent to its API."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from flows.installation_check import sample_identity_code
from kuntaflow.redaction import MASK, install, redact

# Built at run time with every kind of century sign: + (1800s), - and U–Y (1900s), A–F (2000s).
SAMPLES = [
    sample_identity_code(date(1899, 12, 31), 905),
    sample_identity_code(date(1985, 1, 2), 912),
    sample_identity_code(date(2010, 7, 8), 990),
]
NEW_SIGNS = [code[:6] + sign + code[7:] for code, sign in zip(SAMPLES[1:] * 5, "UVWXYBCDEF")]


@pytest.mark.parametrize("code", SAMPLES + NEW_SIGNS)
def test_every_century_sign_is_masked(code):
    assert redact(f"henkilö {code}, ok") == f"henkilö {MASK}, ok"
    assert redact(code.lower()) == MASK


def test_text_without_identity_codes_is_untouched():
    text = "invoice 2024-001 total 15.50, phone +358401234567, reference 12345672"
    assert redact(text) == text


def test_python_logging_at_every_level_never_writes_a_code_to_a_file(tmp_path):
    install()
    install()  # idempotent
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


@pytest.mark.slow
def test_prefect_run_logs_reach_the_api_masked(prefect_harness):
    from prefect import flow, get_run_logger
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    install()
    code = SAMPLES[1]

    @flow(name="redaction-probe")
    def probe() -> str:
        logger = get_run_logger()
        logger.debug("debug %s", code)
        logger.info("info %s", code)
        logger.warning(f"warning {code}")
        logger.error("error %s", code)
        from prefect.runtime import flow_run

        return flow_run.get_id()

    run_id = probe()
    APILogWorker.drain_all()
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
    messages = [log.message for log in logs]
    assert any("info ******-****" in m for m in messages)
    assert all(code not in m for m in messages)
