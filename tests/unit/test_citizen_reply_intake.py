"""A citizen's reply becomes one work item for staff, linked to the decision it answers; its text stays out of logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from connectors.sandbox_support import SyncASGITransport
from connectors.suomifi_viestit import ElectronicMessage, NewElectronicMessage, ViestitClient, ViestitSettings, ViestitUnavailableError
from kuntaflow.secret_store import FileSecretStore
from kuntaflow.workitems import ItemState, WorkQueue
from processes.citizen_reply import CURSOR, PROCESS, ReplyIntake
from processes.library_card.checkpoints import DecisionSent
from schemas.hetu import Hetu

AINO = Hetu("150385-9046")
REPLY_TEXT = "Kiitos päätöksestä! Osoitteeni muuttui juuri."


pytestmark = pytest.mark.usefixtures("no_backoff")


@pytest.fixture
def sandbox(viestit_sandbox):
    return viestit_sandbox


@pytest.fixture
def viestit(sandbox) -> Iterator[ViestitClient]:
    with ViestitClient(ViestitSettings(base_url="http://viestit.test"), transport=SyncASGITransport(sandbox)) as client:
        yield client


@pytest.fixture
def queue(tmp_path) -> Iterator[WorkQueue]:
    with WorkQueue(f"sqlite:///{tmp_path / 'queue.db'}", payload_key=SecretStr(Fernet.generate_key().decode())) as q:
        yield q


@pytest.fixture
def intake(viestit, queue, tmp_path) -> ReplyIntake:
    return ReplyIntake(viestit, queue, FileSecretStore(tmp_path / "secrets"))


def decided_case(queue: WorkQueue, viestit: ViestitClient, reference: str = "app-1") -> tuple[int, int]:
    """A library-card case whose decision went to Aino's mailbox, as the robot records it: (item id, message id)."""
    case = queue.add("library_card", reference=reference, payload={"any": "thing"})
    external_id = f"kuntaflow-library-card-{case.id}-decision"
    decision = ElectronicMessage(title="Päätös kirjastokortista", body="Myönnetty.", reply_allowed_by="Anyone")
    sent = viestit.send_electronic(NewElectronicMessage(external_id=external_id, recipient=AINO, electronic=decision))
    queue.checkpoint(case.id, DecisionSent.STEP, DecisionSent(channel="suomifi", message_id=str(sent.message_id), external_id=external_id))
    return case.id, sent.message_id


def test_a_reply_to_a_decision_becomes_one_work_item_linked_to_the_case(sandbox, queue, viestit, intake, caplog):
    caplog.set_level(logging.DEBUG)
    case_id, message_id = decided_case(queue, viestit)
    reply = sandbox.state.store.receive_reply(message_id, "Vs: Päätös kirjastokortista", REPLY_TEXT, [("osoite.txt", "text/plain", b"Uusi osoite")])

    result = intake.poll()
    (item_id,) = result.created
    item = queue.get(item_id)
    assert item.process == PROCESS and item.state is ItemState.NEW and item.parent_id == case_id
    assert item.reference == f"viestit-{reply.message_id}"
    payload = item.payload
    assert payload["body"] == REPLY_TEXT and payload["sender_id"] == AINO.value and payload["original_case"] == f"library_card #{case_id}"
    assert payload["in_reply_to_message_id"] == message_id and payload["attachments"][0]["filename"] == "osoite.txt"
    assert [child.id for child in queue.children(case_id)] == [item_id]
    assert REPLY_TEXT not in caplog.text and AINO.value not in caplog.text and "osoite.txt" not in caplog.text
    assert f"queued as work item {item_id}" in caplog.text
    queue.mark_done(item_id, reason="vastattu asiakkaalle", actor="kirjasto")  # what staff do once they have answered


def test_the_payload_is_sealed_at_rest(sandbox, queue, viestit, intake, tmp_path):
    _, message_id = decided_case(queue, viestit)
    sandbox.state.store.receive_reply(message_id, "Vs", REPLY_TEXT)
    intake.poll()
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("queue.db*"))  # the WAL too
    assert REPLY_TEXT.encode() not in raw and AINO.value.encode() not in raw


def test_the_same_event_twice_is_one_item_and_the_cursor_moves_on(sandbox, queue, viestit, intake, tmp_path):
    _, message_id = decided_case(queue, viestit)
    sandbox.state.store.receive_reply(message_id, "Vs", REPLY_TEXT)
    first = intake.poll()
    assert len(first.created) == 1
    assert intake.poll().events_read == 0  # the saved cursor: nothing new

    # A run that queued the item but crashed before saving the cursor reads the event again.
    FileSecretStore(tmp_path / "secrets").delete(CURSOR)
    again = intake.poll()
    assert again.replies == 1 and again.created == [] and again.already_queued == first.created
    assert len(queue.list(process=PROCESS)) == 1


def test_a_crash_while_fetching_the_reply_keeps_the_cursor_so_nothing_is_lost(sandbox, queue, viestit, intake):
    _, message_id = decided_case(queue, viestit)
    sandbox.state.store.receive_reply(message_id, "Vs", REPLY_TEXT)
    sandbox.state.faults.fail_next(10, kind="error", path_prefix="/v2/messages/")
    with pytest.raises(ViestitUnavailableError):
        intake.poll()
    assert queue.list(process=PROCESS) == []
    sandbox.state.faults.reset()
    assert len(intake.poll().created) == 1


def test_a_reply_whose_thread_is_not_a_kuntaflow_case_still_reaches_a_person_without_a_parent(sandbox, queue, viestit, intake):
    other = ElectronicMessage(title="Tiedote", body="Kirjasto on kiinni.", reply_allowed_by="Anyone")
    sent = viestit.send_electronic(NewElectronicMessage(external_id="newsletter-2026-12", recipient=AINO, electronic=other))
    forged = viestit.send_electronic(NewElectronicMessage(external_id="kuntaflow-library-card-999-decision", recipient=AINO, electronic=other))
    sandbox.state.store.receive_reply(sent.message_id, "Vs", "Miksi?")
    sandbox.state.store.receive_reply(forged.message_id, "Vs", "Entä nyt?")
    created = intake.poll().created
    items = [queue.get(item_id) for item_id in created]
    assert [item.parent_id for item in items] == [None, None]
    assert {item.payload["original_case"] for item in items} == {"no Kuntaflow case sent this thread's first message"}


def test_other_events_are_read_past_and_only_replies_make_items(sandbox, queue, viestit, intake):
    case_id, message_id = decided_case(queue, viestit)
    sandbox.state.store.mark_read(message_id)
    result = intake.poll()
    assert result.events_read == 2 and result.replies == 0 and queue.list(process=PROCESS) == []
    assert queue.get(case_id).state is ItemState.NEW
