"""Card-expiry reminders end to end: Koha's expiring cards → queue → Prefect flow → robot subprocess → the
Koha, Suomi.fi Messages and e-mail sandboxes on real ports. Assertions are on the queue AND on what the
sandboxes recorded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flow_harness import DeliveryGate, LibrarySystems, kill_robot_at, library_sandboxes_running

from flows.card_expiry import CardExpirySummary, card_expiry
from kuntaflow.workitems import ItemState
from schemas.card_expiry import PROCESS
from schemas.hetu import helsinki_today
from schemas.workdays import add_working_days

pytestmark = [pytest.mark.slow, pytest.mark.shared_queue]

SALT = "card-expiry-flow-test-salt"


def add_patron(systems: LibrarySystems, surname: str, *, expires_in: int, **fields: Any) -> int:
    """A patron whose card runs out ``expires_in`` days from today, as library staff left it in Koha."""
    store = systems.koha.state.store
    expires = store.today() + timedelta(days=expires_in)
    body = {"surname": surname, "firstname": "Testi", "library_id": "JYVVAA", "category_id": "HENKILO", "expiry_date": expires.isoformat(), **fields}
    return store.add_patron(body)["patron_id"]


def seeded(systems: LibrarySystems, firstname: str) -> dict[str, Any]:
    [patron] = [p for p in systems.patrons.values() if p["firstname"] == firstname]
    return patron


def run_day() -> date:
    """Today when it is a working day, else the next one (the cards are dated from the real today)."""
    return add_working_days(helsinki_today(), 0)


@pytest.fixture(scope="module")
def reminded(prefect_harness, tmp_path_factory) -> Iterator[tuple[LibrarySystems, CardExpirySummary, dict[str, int]]]:
    with pytest.MonkeyPatch.context() as env:
        data = tmp_path_factory.mktemp("card-expiry")
        env.setenv("KUNTAFLOW_DATA_DIR", str(data))
        env.setenv("KUNTAFLOW_DATABASE_URL", f"sqlite:///{data / 'queue.db'}")
        env.setenv("KUNTAFLOW_PAYLOAD_KEY", Fernet.generate_key().decode())
        with library_sandboxes_running(env, salt=SALT) as systems:
            patrons = {
                "swedish": add_patron(systems, "Svensson", expires_in=5, email="svensson@example.org", lang="sv-SE"),
                "no-channel": add_patron(systems, "Yhteystiedoton", expires_in=3),
                "later": add_patron(systems, "Myohemmin", expires_in=45, email="later@example.org"),
                "eetu": seeded(systems, "Eetu")["patron_id"],  # a child: the sandbox's card runs out in 12 days; guarantor Mikko
                "laura": seeded(systems, "Laura")["patron_id"],  # in 20 days, e-mail, no hetu key
                "mikko": seeded(systems, "Mikko")["patron_id"],
            }
            yield systems, card_expiry(day=run_day()), patrons


def item_of(systems: LibrarySystems, patron_id: int) -> Any:
    [item] = [i for i in systems.queue.list(process=PROCESS, limit=100) if i.payload["patron_id"] == patron_id]
    return item


def test_each_expiring_card_is_one_done_item_with_its_reason_and_the_summary_counts_them(reminded):
    systems, summary, patrons = reminded
    outputs = {name: item_of(systems, patrons[name]).output for name in ("swedish", "no-channel", "eetu", "laura")}
    assert {name: (o["reason"], o["to"], o.get("channel")) for name, o in outputs.items()} == {
        "swedish": ("REMINDED", "patron", "email"),
        "no-channel": ("NO_CHANNEL", "patron", "none"),
        "eetu": ("REMINDED", "guarantor", "email"),
        "laura": ("REMINDED", "patron", "email"),
    }
    assert {i.state for i in systems.queue.list(process=PROCESS, limit=100)} == {ItemState.DONE}
    references = {i.reference for i in systems.queue.list(process=PROCESS, limit=100)}
    assert f"patron-{patrons['eetu']}:{systems.patrons[patrons['eetu']]['expiry_date']}" in references
    assert not any(r.startswith(f"patron-{patrons['later']}:") or r.startswith(f"patron-{patrons['mikko']}:") for r in references)
    assert summary.queued == summary.items == 4 and summary.by_state == {"DONE": 4}
    assert summary.by_reason == {"REMINDED": 3, "NO_CHANNEL": 1} and summary.by_channel == {"email": 3, "none": 1}
    assert summary.robot_logs and all(Path(log).with_name("output.xml").exists() for log in summary.robot_logs)  # log.html is built on demand


def test_the_reminder_is_in_the_patrons_language_and_a_childs_goes_to_the_guarantor(reminded):
    systems, _, patrons = reminded
    [swedish] = systems.smtp.mailbox.to("svensson@example.org")
    expiry = date.fromisoformat(systems.patrons[patrons["swedish"]]["expiry_date"])
    assert swedish.subject == f"Ditt bibliotekskort går ut {expiry.day}.{expiry.month}.{expiry.year}" and "Vaajakosken kirjasto" in swedish.text
    [to_mikko] = systems.smtp.mailbox.to("mikko.korhonen@example.org")
    assert to_mikko.subject.startswith("Lapsen kirjastokortin voimassaolo päättyy") and "Eetu" in to_mikko.text
    assert "Äänekosken kaupunginkirjasto" in to_mikko.text
    assert len(systems.smtp.mailbox.messages) == 3 and systems.messages == []  # nobody's henkilötunnus is at hand: no Messages


def test_running_again_the_same_day_reminds_nobody_twice(reminded):
    systems, _, _ = reminded
    mails = len(systems.smtp.mailbox.messages)
    again = card_expiry(day=run_day())
    assert again.queued == 0 and again.items == 0 and len(systems.smtp.mailbox.messages) == mails


def test_a_weekend_or_holiday_run_does_nothing(prefect_harness):
    christmas_eve = date(2026, 12, 24)  # a Thursday: the cron fires, the flow skips
    assert card_expiry(day=christmas_eve) == CardExpirySummary(day=christmas_eve, skipped="Jouluaatto")


def test_a_robot_killed_after_the_mail_server_took_the_reminder_does_not_remind_twice(prefect_harness, monkeypatch, tmp_path):
    # A queue of its own: the module's reminded run is still open, and this test's Koha hands out the same patron ids.
    monkeypatch.setenv("KUNTAFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'queue.db'}")
    with library_sandboxes_running(monkeypatch, salt=SALT) as systems:
        patron_id = add_patron(systems, "Kaatuja", expires_in=4, email="crash@example.org")
        gate = DeliveryGate(systems.smtp.mailbox, to="crash@example.org")
        kill_robot_at(gate, PROCESS, lambda: card_expiry(day=run_day(), max_batches=1))
        item = item_of(systems, patron_id)
        assert item.state is ItemState.NEW and "reminder_channel" in systems.queue.checkpoints(item.id)
        assert "reminder_sent" not in systems.queue.checkpoints(item.id) and len(systems.smtp.mailbox.to("crash@example.org")) == 1

        card_expiry(day=run_day())
        item = item_of(systems, patron_id)
        assert item.state is ItemState.DONE and item.attempts == 2 and item.output["channel"] == "email"
        assert len(systems.smtp.mailbox.to("crash@example.org")) == 1 and systems.smtp.mailbox.duplicates
