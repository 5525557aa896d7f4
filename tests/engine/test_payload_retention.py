"""The queue's payload retention on SQLite and the real PostgreSQL: a finished item's payload loses its
personal data after the retention period; ids, codes, the outcome, checkpoints and the audit trail stay;
a second run clears nothing twice; unfinished and recently finished items are not touched."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import create_engine, select, update

from flows.installation_check import sample_identity_code
from kuntaflow.privacy_sweep import clear_finished_payloads
from kuntaflow.workitems import ItemState, WorkQueue
from kuntaflow.workitems.queue import CLEARED_ACTION, CLEARED_FIELD
from kuntaflow.workitems.schema import work_items
from processes.payload_retention import KEPT_PAYLOAD_FIELDS

KEY = SecretStr(Fernet.generate_key().decode())
HETU = sample_identity_code(date(1985, 2, 14), 941)
NOW = datetime.now(UTC)
RETENTION = timedelta(days=90)


def _age(url: str, item_id: int, days: int) -> None:
    """The item was last changed ``days`` days ago."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(update(work_items).where(work_items.c.id == item_id).values(updated_at=NOW - timedelta(days=days)))
    engine.dispose()


def _raw_payload(url: str, item_id: int) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        payload = conn.execute(select(work_items.c.payload).where(work_items.c.id == item_id)).scalar_one()
    engine.dispose()
    return repr(payload)


def _run(queue: WorkQueue, process: str, reference: str, payload: dict, *, outcome: str) -> int:
    item_id = queue.add(process, reference=reference, payload=payload).id
    [claimed] = queue.claim(process, owner="robot", limit=1)
    assert claimed.id == item_id
    queue.start(item_id, owner="robot")
    queue.checkpoint(item_id, "patron_created", {"patron_id": 501})
    if outcome == "done":
        queue.complete(item_id, owner="robot", output={"patron_id": 501, "reason": "CARD_GRANTED"})
    else:
        queue.fail_business(item_id, code="ALREADY_A_PATRON", message="the applicant already has a library card", owner="robot")
    return item_id


@pytest.fixture
def queue(queue_url):
    with WorkQueue(queue_url, payload_key=KEY) as opened:
        yield opened


def application(n: int) -> dict:
    return {"applicant": {"hetu": HETU, "first_names": "Aino", "surname": f"Testinen{n}"}, "home_library": "JYVPK", "language": "fi"}


def employment_start() -> dict:
    return {"hetu": HETU, "first_names": "Aino", "last_name": "Virtanen", "start_date": "2027-03-01", "unit_id": "SOTE-LAAKSO-OS7", "title": "sairaanhoitaja"}


def test_finished_payloads_past_the_period_lose_their_personal_data_and_keep_the_rest(queue, queue_url, caplog):
    caplog.set_level(logging.DEBUG)
    done = _run(queue, "library_card", "done", application(1), outcome="done")
    failed = _run(queue, "library_card", "failed", application(2), outcome="failed")
    start = _run(queue, "employment_start", "start", employment_start(), outcome="done")
    recent = _run(queue, "library_card", "recent", application(3), outcome="done")
    waiting = queue.add("library_card", reference="waiting", payload=application(4)).id
    for item_id in (done, failed, start, waiting):
        _age(queue_url, item_id, 91)
    _age(queue_url, recent, 89)
    trail_before = {item_id: queue.audit(item_id) for item_id in (done, failed, start)}

    report = clear_finished_payloads(queue, retention=RETENTION, keep=KEPT_PAYLOAD_FIELDS, actor="personal-data-retention", now=NOW)

    assert sorted(report.cleared) == sorted([done, failed, start]) and report.finished_before == NOW - RETENTION
    cleared_done, cleared_failed, cleared_start = (queue.get(item_id) for item_id in (done, failed, start))
    assert set(cleared_done.payload) == {CLEARED_FIELD} and set(cleared_failed.payload) == {CLEARED_FIELD}
    assert cleared_start.payload == {"start_date": "2027-03-01", "unit_id": "SOTE-LAAKSO-OS7", "title": "sairaanhoitaja", CLEARED_FIELD: ANY_TIME}
    assert (cleared_done.state, cleared_done.output, cleared_done.reference) == (ItemState.DONE, {"patron_id": 501, "reason": "CARD_GRANTED"}, "done")
    assert (cleared_failed.state, cleared_failed.error_type, cleared_failed.error_code) == (ItemState.BUSINESS_FAILED, "BUSINESS", "ALREADY_A_PATRON")
    assert queue.checkpoints(done) == {"patron_created": {"patron_id": 501}}
    for item_id, before in trail_before.items():
        trail = queue.audit(item_id)
        assert trail[:-1] == before and trail[-1].action == CLEARED_ACTION and trail[-1].actor == "personal-data-retention"
    assert queue.audit(start)[-1].reason == "personal data removed from the payload; kept: start_date, title, unit_id"
    assert HETU in str(queue.get(recent).payload) and HETU in str(queue.get(waiting).payload)
    assert all(HETU not in str(queue.get(item_id).payload) and "Aino" not in str(queue.get(item_id).payload) for item_id in (done, failed, start))
    assert "_sealed" in _raw_payload(queue_url, done)  # still sealed at rest, with the payload key

    again = clear_finished_payloads(queue, retention=RETENTION, keep=KEPT_PAYLOAD_FIELDS, actor="personal-data-retention", now=NOW)
    assert again.cleared == () and [entry.action for entry in queue.audit(done)].count(CLEARED_ACTION) == 1
    assert HETU not in caplog.text


def test_an_item_an_operator_changed_after_clearing_is_cleared_again_once_finished_again(queue, queue_url):
    failed = _run(queue, "library_card", "failed", application(1), outcome="failed")
    _age(queue_url, failed, 91)
    assert clear_finished_payloads(queue, retention=RETENTION, keep={}, actor="retention", now=NOW).cleared == (failed,)
    queue.edit_payload(failed, application(1), reason="staff re-entered the application", actor="liisa")
    assert clear_finished_payloads(queue, retention=RETENTION, keep={}, actor="retention", now=NOW).cleared == ()  # changed just now
    later = datetime.now(UTC) + timedelta(days=91)  # the edit, too, is past the period
    assert clear_finished_payloads(queue, retention=RETENTION, keep={}, actor="retention", now=later).cleared == (failed,)
    assert HETU not in str(queue.get(failed).payload)


def test_a_large_backlog_is_cleared_in_batches(queue, queue_url, monkeypatch):
    import kuntaflow.privacy_sweep as privacy_sweep

    monkeypatch.setattr(privacy_sweep, "CLEAR_BATCH", 2)
    ids = [queue.add("library_card", reference=f"r{n}", payload=application(n)).id for n in range(5)]
    for item_id in ids:
        queue.mark_done(item_id, reason="handled at the desk", actor="liisa")
        _age(queue_url, item_id, 100)
    assert sorted(clear_finished_payloads(queue, retention=RETENTION, keep={}, actor="retention", now=NOW).cleared) == ids


def test_the_privacy_sweep_command_clears_finished_payloads_first_when_asked(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from apps.cli.main import app
    from kuntaflow.settings import KuntaflowSettings

    monkeypatch.setenv("KUNTAFLOW_DATA_DIR", str(tmp_path / "data"))
    with KuntaflowSettings().work_queue() as queue:
        item_id = _run(queue, "library_card", "done", application(1), outcome="done")
        _age(queue.url, item_id, 91)
    result = CliRunner().invoke(app, ["privacy-sweep", "--clear-finished-payloads"])
    assert "1 finished work items lost their payload's personal data" in result.output and HETU not in result.output
    with KuntaflowSettings().work_queue() as queue:
        assert set(queue.get(item_id).payload) == {CLEARED_FIELD}
    assert result.exit_code == 0, result.output  # the sweep that follows finds the code in no file


class _AnyTime:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and datetime.fromisoformat(other).tzinfo is not None


ANY_TIME = _AnyTime()
