"""The library-card flow end to end: queue → Prefect flow → robot subprocess → Koha, Suomi.fi Messages and
e-mail sandboxes on real local ports. Assertions are on the queue AND on what the sandboxes recorded."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pypdf
import pytest
from cryptography.fernet import Fernet
from flow_harness import Gate, LibrarySystems, kill_robot_at, library_sandboxes_running
from pydantic import SecretStr

from flows.installation_check import sample_identity_code
from flows.library_card import LibraryCardSummary, library_card
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState
from schemas.hetu import hetu_key
from schemas.library_card import PROCESS

pytestmark = [pytest.mark.slow, pytest.mark.shared_queue]

SALT = "library-card-flow-test-salt"
ADDRESS = {"street_address": "Kauppakatu 1 A 2", "postal_code": "40100", "post_office": "Jyväskylä"}
SEEDED_AINO = "150385-9046"  # Koha seed: a patron at JYVPK; Messages seed: active mailbox
SEEDED_MIKKO = "070779-912Y"  # Koha seed: a patron at AANPK (guarantor of a child); Messages seed: no mailbox


def person(born: date, individual: int, **changes: Any) -> dict[str, Any]:
    return {
        "hetu": sample_identity_code(born, individual),
        "first_names": "Testi Henrik",
        "surname": f"Testinen{individual}",
        "home_municipality_code": "179",
        "home_municipality": "Jyväskylä",
        "permanent_address": dict(ADDRESS),
        **changes,
    }


def application(applicant: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {
        "applicant": applicant,
        "home_library": "JYVVAA",
        "language": "fi",
        "rules_accepted": True,
        "submitted_at": datetime.now(UTC).isoformat(),
        **changes,
    }


MIKKO_AS_GUARDIAN = {
    "hetu": SEEDED_MIKKO,
    "first_names": "Mikko",
    "surname": "Korhonen",
    "permanent_address": {"street_address": "Keskustie 5", "postal_code": "44100", "post_office": "Äänekoski"},
    "relationship_verified_by": "suomifi_valtuudet",
    "relationship_verified_at": "2026-11-24T20:00:00+02:00",
}


class Systems(LibrarySystems):
    def enqueue(self, reference: str, payload: dict[str, Any]) -> int:
        return self.queue.add(PROCESS, reference=reference, payload=payload).id

    def messages_for(self, reference: str) -> list[Any]:
        item = self.queue.find(PROCESS, reference)
        return [m for m in self.messages if m.external_id == f"kuntaflow-library-card-{item.id}-decision"]


@contextmanager
def sandboxes_running(env: pytest.MonkeyPatch, *, koha_app: Any = None, viestit_app: Any = None) -> Iterator[Systems]:
    with library_sandboxes_running(env, salt=SALT, koha_app=koha_app, viestit_app=viestit_app) as running:
        yield Systems(running.koha, running.viestit, running.smtp, running.queue, running.salt)


def pdf_text(message: Any) -> str:
    """The printed letter's words, with the line breaks of its layout undone."""
    pages = pypdf.PdfReader(io.BytesIO(message.paper.pdf.content)).pages
    return " ".join(" ".join(page.extract_text().replace("-\n", "-").split()) for page in pages)


# --------------------------------------------------------------------------- one run, every kind of applicant


@pytest.fixture(scope="module")
def decided(prefect_harness, tmp_path_factory) -> Iterator[tuple[Systems, LibraryCardSummary, dict[str, str]]]:
    """One application of each kind, decided by one flow run; the tests below read what happened.

    The queue and its keys are fixed for the module, as every test's own data directory differs.
    """
    with pytest.MonkeyPatch.context() as env:
        data = tmp_path_factory.mktemp("library-card")
        env.setenv("KUNTAFLOW_DATA_DIR", str(data))
        env.setenv("KUNTAFLOW_DATABASE_URL", f"sqlite:///{data / 'queue.db'}")
        env.setenv("KUNTAFLOW_PAYLOAD_KEY", Fernet.generate_key().decode())
        with sandboxes_running(env) as systems:
            yield _decide_every_kind(systems)


def _decide_every_kind(systems: Systems) -> tuple[Systems, LibraryCardSummary, dict[str, str]]:
    hetus: dict[str, str] = {}

    def add(reference: str, applicant: dict[str, Any], *, mailbox: bool = False, **changes: Any) -> None:
        if applicant.get("hetu"):
            hetus[reference] = applicant["hetu"]
            if mailbox:
                systems.viestit.state.store.set_mailbox(applicant["hetu"], True)
        systems.enqueue(reference, application(applicant, **changes))

    add("adult", person(date(1990, 5, 17), 903), mailbox=True, email="adult@example.org", phone="+358 40 123 4567")
    add("existing", {"hetu": SEEDED_AINO, "first_names": "Aino", "surname": "Virtanen", "permanent_address": ADDRESS}, language="sv")
    add("child-with-guardian", person(date(2016, 4, 2), 907), guardian=MIKKO_AS_GUARDIAN, notification_preference="letter")
    add("child-alone", person(date(2012, 1, 10), 909))
    new_guardian = {**person(date(1988, 8, 8), 933), **{k: v for k, v in MIKKO_AS_GUARDIAN.items() if k.startswith("relationship")}}
    systems.viestit.state.store.set_mailbox(new_guardian["hetu"], True)
    hetus["new-guardian"] = new_guardian["hetu"]
    add("child-new-guardian", person(date(2017, 6, 6), 929), guardian=new_guardian, email="guardian@example.org")
    add("non-disclosure", person(date(1980, 2, 2), 911, non_disclosure=True, permanent_address=None), mailbox=True)
    add("no-mailbox-email", person(date(1995, 9, 9), 915), email="no.mailbox@example.org", language="en")
    add("no-mailbox-letter", person(date(1975, 7, 7), 913))
    add("email-refused", person(date(1993, 5, 5), 923), email="nobody@example.invalid")
    add("no-address", person(date(1985, 1, 1), 917, permanent_address=None), mailbox=True)
    eidas = {"eidas_person_identifier": "SE/FI/199001011234", "date_of_birth": "1990-01-01", "first_names": "Sven", "surname": "Svensson"}
    add("eidas", eidas, email="sven@example.org")
    summary = library_card(batch_size=4)
    return systems, summary, hetus


def test_every_application_ends_with_its_reason_and_the_summary_counts_them(decided):
    systems, summary, _ = decided
    items = {item.reference: item for item in systems.queue.list(process=PROCESS, limit=100)}
    assert {ref: (item.state.value, item.error_code) for ref, item in items.items()} == {
        "adult": ("DONE", None),
        "existing": ("BUSINESS_FAILED", "ALREADY_A_PATRON"),
        "child-with-guardian": ("DONE", None),
        "child-alone": ("BUSINESS_FAILED", "UNDER_15_NO_GUARDIAN"),
        "child-new-guardian": ("DONE", None),
        "non-disclosure": ("BUSINESS_FAILED", "NON_DISCLOSURE_STAFF_REVIEW"),
        "no-mailbox-email": ("DONE", None),
        "no-mailbox-letter": ("DONE", None),
        "email-refused": ("DONE", None),
        "no-address": ("BUSINESS_FAILED", "NO_PERMANENT_ADDRESS_IN_FINLAND"),
        "eidas": ("BUSINESS_FAILED", "NO_FINNISH_HETU_STAFF_REVIEW"),
    }
    assert summary.batches == 3 and summary.applications == 11
    assert summary.by_state == {"DONE": 6, "BUSINESS_FAILED": 5}
    assert summary.by_reason == {
        "CARD_GRANTED": 6,
        "ALREADY_A_PATRON": 1,
        "UNDER_15_NO_GUARDIAN": 1,
        "NON_DISCLOSURE_STAFF_REVIEW": 1,
        "NO_PERMANENT_ADDRESS_IN_FINLAND": 1,
        "NO_FINNISH_HETU_STAFF_REVIEW": 1,
    }
    assert summary.by_channel == {"suomifi": 5, "letter": 4, "email": 2}
    assert len(summary.robot_logs) == 3 and all(Path(log).with_name("output.xml").exists() for log in summary.robot_logs)
    # Eight new patrons: the adult, two children, the new guardian, non-disclosure, the three without a
    # mailbox (Mikko was a patron already).
    assert len(systems.patrons) == 4 + 8


def test_an_adult_gets_a_patron_keyed_by_the_hetu_and_an_electronic_decision(decided):
    systems, _, hetus = decided
    patron = systems.patron_with_key(hetus["adult"])
    assert (patron["category_id"], patron["library_id"], patron["address"], patron["city"]) == ("HENKILO", "JYVVAA", "Kauppakatu 1 A 2", "Jyväskylä")
    assert patron["phone"] == "+358401234567" and patron["lang"] == "fi-FI"
    item = systems.queue.find(PROCESS, "adult")
    assert item.output == {
        "reason": "CARD_GRANTED",
        "patron_id": patron["patron_id"],
        "library_id": "JYVVAA",
        "category_id": "HENKILO",
        "expiry_date": patron["expiry_date"],
        "channel": "suomifi",
        "message_id": item.output["message_id"],
    }
    [message] = systems.messages_for("adult")
    assert message.channel == "electronic" and message.recipient_id == hetus["adult"]
    assert message.title == "Kirjastokorttisi on valmis"
    assert "Vaajakosken kirjasto" in message.body and message.message_id == int(item.output["message_id"])


def test_no_raw_hetu_reaches_koha_the_robot_log_or_the_queue_errors(decided):
    systems, summary, hetus = decided
    store = systems.koha.state.store
    koha_text = json.dumps([store.patrons, store.attributes], default=str)
    robot_text = "".join((Path(log).parent / "output.xml").read_text(encoding="utf-8") for log in summary.robot_logs)
    errors = json.dumps([(i.error_message, i.output) for i in systems.queue.list(process=PROCESS, limit=100)])
    for hetu in [*hetus.values(), SEEDED_MIKKO]:
        assert hetu not in koha_text and hetu not in robot_text and hetu not in errors
    # The citizen's details stay out of the robot log too: the payload is read inside the keyword.
    assert "Testinen903" not in robot_text and "adult@example.org" not in robot_text and "Kauppakatu" not in robot_text


def test_an_existing_patron_is_told_where_the_card_is_and_no_patron_is_added(decided):
    systems, _, _ = decided
    assert sum(1 for p in systems.patrons.values() if p["surname"] == "Virtanen") == 1
    [message] = systems.messages_for("existing")
    assert message.title == "Du har redan ett bibliotekskort"
    assert "Jyväskylän kaupunginkirjasto – pääkirjasto" in message.body
    item = systems.queue.find(PROCESS, "existing")
    assert f"work item {item.id}: the applicant already has a library card" in item.error_message
    assert "existing_patron_id 1, existing_library_id JYVPK, channel suomifi" in item.error_message


def test_a_child_through_a_guardian_gets_the_child_category_and_the_guardian_as_guarantor(decided):
    systems, _, hetus = decided
    child = systems.patron_with_key(hetus["child-with-guardian"])
    mikko = systems.patron_with_key(SEEDED_MIKKO)
    assert child["category_id"] == "LAPSI" and child["relationship_type"] == "huoltaja"
    assert child["attributes"]["TAKAAJA"] == str(mikko["patron_id"])
    assert systems.queue.checkpoints(systems.queue.find(PROCESS, "child-with-guardian").id)["guarantor_registered"] == {
        "patron_id": mikko["patron_id"],
        "created": False,
        "version": 1,
    }
    # Mikko has no mailbox and asked for a letter: the decision is printed and addressed to him.
    [message] = systems.messages_for("child-with-guardian")
    assert message.channel == "paper" and message.recipient_id == SEEDED_MIKKO
    assert message.paper.recipient_address[0] == "Korhonen Mikko"
    text = pdf_text(message)
    assert "Lapsen kirjastokortti on valmis" in text and "Testi" in text and "takaaja" in text


def test_a_guardian_who_is_not_a_patron_yet_is_registered_as_the_guarantor(decided):
    systems, _, hetus = decided
    child = systems.patron_with_key(hetus["child-new-guardian"])
    guardian = systems.patron_with_key(hetus["new-guardian"])
    assert (guardian["category_id"], guardian["library_id"], guardian["email"]) == ("HENKILO", "JYVVAA", "guardian@example.org")
    assert guardian["staff_notes"].startswith("Huoltaja") and child["attributes"]["TAKAAJA"] == str(guardian["patron_id"])
    item = systems.queue.find(PROCESS, "child-new-guardian")
    assert systems.queue.checkpoints(item.id)["guarantor_registered"] == {"patron_id": guardian["patron_id"], "created": True, "version": 1}
    assert item.output["guarantor_patron_id"] == guardian["patron_id"]
    [message] = systems.messages_for("child-new-guardian")
    assert message.recipient_id == hetus["new-guardian"] and message.title == "Lapsen kirjastokortti on valmis"


def test_a_child_applying_alone_is_refused_by_a_letter_explaining_the_guardian_route(decided):
    systems, _, hetus = decided
    key = hetu_key(hetus["child-alone"], SecretStr(SALT))
    assert all(a["value"] != key for a in systems.koha.state.store.attributes.values())
    [message] = systems.messages_for("child-alone")
    assert message.channel == "paper" and message.paper.pdf.media_type == "application/pdf"
    text = pdf_text(message)
    assert "Alle 15-vuotias hakee kirjastokorttia huoltajan kanssa" in text and "Pyydä huoltajaasi" in text


def test_non_disclosure_registers_without_an_address_and_goes_to_staff(decided):
    systems, _, hetus = decided
    patron = systems.patron_with_key(hetus["non-disclosure"])
    assert all(patron[field] is None for field in ("address", "postal_code", "city", "country"))
    assert patron["staff_notes"].startswith("Turvakielto")
    item = systems.queue.find(PROCESS, "non-disclosure")
    assert item.state is ItemState.BUSINESS_FAILED and f"patron_id {patron['patron_id']}" in item.error_message
    [message] = systems.messages_for("non-disclosure")
    assert message.channel == "electronic" and "turvakielto" in message.body


def test_the_robot_keeps_every_patron_and_guarantor_it_met_in_the_person_vault_and_nobody_else(decided):
    _, _, hetus = decided
    patrons = ("adult", "existing", "child-with-guardian", "child-new-guardian", "new-guardian", "non-disclosure", "no-mailbox-email", "no-mailbox-letter")
    expected = {hetu_key(hetus[name], SecretStr(SALT)) for name in (*patrons, "email-refused")}
    expected.add(hetu_key(SEEDED_MIKKO, SecretStr(SALT)))  # the guardian Koha already knew
    with closing(KuntaflowSettings().person_vault()) as vault:
        entries = {entry.key: entry for entry in vault.entries()}
        child = vault.read(hetu_key(hetus["child-with-guardian"], SecretStr(SALT)), purpose="testi", actor="pytest")
        existing = vault.read(hetu_key(SEEDED_AINO, SecretStr(SALT)), purpose="testi", actor="pytest")
    assert set(entries) == expected  # not the child alone, the applicant without an address, the eIDAS user
    assert child.guardian_key == hetu_key(SEEDED_MIKKO, SecretStr(SALT)) and existing.language.value == "sv"
    assert all({r.kind for r in entry.relations} == {"work_item", "library_patron"} for entry in entries.values())


def test_without_a_mailbox_the_decision_goes_by_email_or_as_a_printed_letter(decided):
    systems, _, hetus = decided
    [mail] = systems.smtp.mailbox.to("no.mailbox@example.org")
    assert mail.subject == "Your library card is ready" and "Vaajakosken kirjasto" in mail.parsed.get_body().get_content()
    assert hetus["no-mailbox-email"] not in mail.raw.decode("utf-8", errors="replace")
    assert systems.messages_for("no-mailbox-email") == []
    [letter] = systems.messages_for("no-mailbox-letter")
    assert letter.channel == "paper" and letter.paper.recipient_address[0] == "Testinen913 Testi Henrik"
    assert "Kirjastokorttisi on valmis" in pdf_text(letter)
    patron = systems.patron_with_key(hetus["no-mailbox-letter"])
    assert f"{date.fromisoformat(patron['expiry_date']):%-d.%-m.%Y}" in pdf_text(letter)


def test_an_address_the_mail_server_refuses_falls_back_to_a_printed_letter(decided):
    systems, _, _ = decided
    assert systems.smtp.mailbox.to("nobody@example.invalid") == []
    [letter] = systems.messages_for("email-refused")
    assert letter.channel == "paper" and "Kirjastokorttisi on valmis" in pdf_text(letter)
    assert systems.queue.find(PROCESS, "email-refused").output["channel"] == "letter"


def test_an_eidas_user_goes_to_staff_and_is_told_by_email(decided):
    systems, _, _ = decided
    assert not any(p["surname"] == "Svensson" for p in systems.patrons.values())
    [mail] = systems.smtp.mailbox.to("sven@example.org")
    assert mail.subject == "Kirjasto käsittelee hakemuksesi"


def test_the_summary_artifact_holds_codes_and_counts_but_no_personal_data(decided):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    _, _, hetus = decided
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["library-card-summary"])))
    text = " ".join(str(a.data) + str(a.description) for a in artifacts)
    assert "ALREADY_A_PATRON" in text and "suomifi" in text and "Robot log" in text
    for secret in [*hetus.values(), "Testinen", "Kauppakatu", "@example.org"]:
        assert secret not in text


def test_robot_batches_run_under_the_koha_concurrency_tag_named_by_batch_number(decided):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterTags

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(task_run_filter=TaskRunFilter(tags=TaskRunFilterTags(all_=["koha"])))
    assert {f"library_card: robot batch {n}" for n in (1, 2, 3)} <= {run.name for run in runs}


# Runs again and changes the queue: keep it the last test using ``decided``.
def test_a_second_run_and_a_resubmission_duplicate_nothing(decided):
    systems, _, _ = decided
    patrons, messages, mails = len(systems.patrons), len(systems.messages), len(systems.smtp.mailbox.messages)
    items = {item.reference: item.id for item in systems.queue.list(process=PROCESS, limit=100)}
    # The e-service submits the same applications again: same items, nothing new to claim.
    assert systems.enqueue("adult", application(person(date(1990, 5, 17), 903))) == items["adult"]
    assert library_card().applications == 0
    # An operator sends a finished case round again: every step is skipped on its checkpoint.
    for reference in ("non-disclosure", "child-alone"):
        systems.queue.retry(items[reference], reason="test: run it again", actor="tester")
    again = library_card()
    assert again.applications == 2 and again.by_reason == {"NON_DISCLOSURE_STAFF_REVIEW": 1, "UNDER_15_NO_GUARDIAN": 1}
    assert (len(systems.patrons), len(systems.messages), len(systems.smtp.mailbox.messages)) == (patrons, messages, mails)


# --------------------------------------------------------------------------- outages and crashes


@pytest.fixture
def systems(prefect_harness, monkeypatch) -> Iterator[Systems]:
    with sandboxes_running(monkeypatch) as running:
        yield running


def an_adult(systems: Systems, individual: int, *, mailbox: bool = True) -> tuple[str, str]:
    applicant = person(date(1991, 3, 3), individual)
    if mailbox:
        systems.viestit.state.store.set_mailbox(applicant["hetu"], True)
    reference = f"adult-{individual}"
    systems.enqueue(reference, application(applicant))
    return reference, applicant["hetu"]


def test_a_koha_outage_fails_the_application_for_a_retry_that_then_succeeds(systems):
    reference, hetu = an_adult(systems, 919)
    systems.koha.state.faults.configure(error_rate=1.0, error_status=503)
    first = library_card(max_batches=1)
    item = systems.queue.find(PROCESS, reference)
    assert item.state is ItemState.APPLICATION_FAILED and item.error_type == "APPLICATION"
    assert first.by_reason == {item.error_code: 1} and item.error_code == "UNAVAILABLE"
    assert item.error_message.startswith(f"TransientError: UNAVAILABLE: work item {item.id}: koha:")
    assert len(systems.patrons) == 4 and systems.messages == []

    systems.koha.state.faults.reset()
    second = library_card()
    item = systems.queue.find(PROCESS, reference)
    assert item.state is ItemState.DONE and item.attempts == 2 and second.by_reason == {"CARD_GRANTED": 1}
    assert systems.patron_with_key(hetu)["patron_id"] == item.output["patron_id"]
    assert len(systems.messages_for(reference)) == 1


def test_a_messages_outage_after_the_patron_resumes_with_neither_a_second_patron_nor_a_second_message(systems):
    reference, hetu = an_adult(systems, 921)
    systems.viestit.state.faults.fail_next(2, kind="error", path_prefix="/v2/messages")  # every attempt of one send
    library_card(max_batches=1)
    item = systems.queue.find(PROCESS, reference)
    assert item.state is ItemState.APPLICATION_FAILED and item.error_code == "UNAVAILABLE"
    assert item.error_message.startswith(f"TransientError: UNAVAILABLE: work item {item.id}: suomifi_viestit: POST /v2/messages/electronic")
    done = systems.queue.checkpoints(item.id)
    assert "patron_created" in done and "decision_sent" not in done and systems.messages == []

    library_card()
    item = systems.queue.find(PROCESS, reference)
    assert item.state is ItemState.DONE and item.output["patron_id"] == done["patron_created"]["patron_id"]
    assert len(systems.patrons) == 5 and systems.patron_with_key(hetu)["patron_id"] == item.output["patron_id"]
    assert len(systems.messages) == 1


def test_a_lost_answer_from_messages_is_resent_under_the_same_external_id_and_delivered_once(systems):
    reference, _ = an_adult(systems, 923)
    systems.viestit.state.faults.fail_next(1, kind="lost_response", path_prefix="/v2/messages")
    library_card()
    item = systems.queue.find(PROCESS, reference)
    assert item.state is ItemState.DONE and item.attempts == 1
    assert [f.kind for f in systems.viestit.state.faults.injected] == ["lost_response"]
    [message] = systems.messages
    assert message.external_id == f"kuntaflow-library-card-{item.id}-decision" and item.output["message_id"] == str(message.message_id)


def test_a_robot_killed_after_koha_created_the_patron_carries_on_with_that_patron(prefect_harness, monkeypatch):
    gate = Gate("POST", "/api/v1/patrons", after_app=True)
    with sandboxes_running(monkeypatch, koha_app=gate.wrap) as systems:
        reference, hetu = an_adult(systems, 925)
        kill_robot_at(gate, PROCESS, lambda: library_card(max_batches=1))
        item = systems.queue.find(PROCESS, reference)
        assert item.state is ItemState.NEW and "patron_created" not in systems.queue.checkpoints(item.id)
        created = systems.patron_with_key(hetu)  # Koha has it; the robot died before it heard

        library_card()
        item = systems.queue.find(PROCESS, reference)
        assert item.state is ItemState.DONE and item.attempts == 2
        assert item.output["patron_id"] == created["patron_id"] and len(systems.patrons) == 5
        assert len(systems.messages) == 1
        assert [e.action for e in systems.queue.audit(item.id)] == ["add", "claim", "start", "release", "claim", "start", "complete"]


def test_a_robot_killed_between_the_patron_and_the_decision_resumes_at_the_decision(prefect_harness, monkeypatch):
    gate = Gate("POST", "/v1/mailboxes/active")
    with sandboxes_running(monkeypatch, viestit_app=gate.wrap) as systems:
        reference, hetu = an_adult(systems, 927)
        kill_robot_at(gate, PROCESS, lambda: library_card(max_batches=1))
        item = systems.queue.find(PROCESS, reference)
        assert item.state is ItemState.NEW and "patron_created" in systems.queue.checkpoints(item.id)
        assert systems.messages == []

        library_card()
        item = systems.queue.find(PROCESS, reference)
        assert item.state is ItemState.DONE and item.attempts == 2
        assert len(systems.patrons) == 5 and systems.patron_with_key(hetu)["patron_id"] == item.output["patron_id"]
        assert len(systems.messages) == 1
