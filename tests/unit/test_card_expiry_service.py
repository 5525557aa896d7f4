"""CardExpiryService without Robot Framework: the Koha and Suomi.fi Messages sandboxes in-process, the e-mail
client at the boundary, checkpoints in a dict; a HetuSource of the test's own where a vault would plug in."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.http import RetryPolicy
from connectors.koha import KohaClient, KohaSettings
from connectors.koha.sandbox import create_app as create_koha
from connectors.sandbox_support import FaultSpec, SyncASGITransport
from connectors.suomifi_viestit import ViestitClient, ViestitSettings
from connectors.suomifi_viestit.sandbox import create_app as create_viestit
from processes.card_expiry.service import CardExpiryService, cards_to_remind
from processes.checkpoints import Checkpoints
from schemas.card_expiry import ReminderOutcome
from schemas.hetu import Hetu, hetu_key

SALT = SecretStr("card-expiry-service-test-salt")
AINO = "150385-9046"  # Koha: a patron at JYVPK; Messages: an active mailbox


class KnownPeople:
    """A HetuSource that lawfully knows some people (as the person vault would), and records each read's purpose."""

    def __init__(self, *hetus: str) -> None:
        self.by_key = {hetu_key(h, SALT): Hetu(h) for h in hetus}
        self.purposes: list[str] = []

    def hetu_for(self, key: str, *, purpose: str) -> Hetu | None:
        self.purposes.append(purpose)
        return self.by_key.get(key)


class RobotDied(BaseException):
    """The robot process ending between the send and its checkpoint."""


@pytest.fixture
def koha_app() -> Any:
    return create_koha(salt=SALT, faults=FaultSpec())


@pytest.fixture
def viestit_app() -> Any:
    return create_viestit(faults=FaultSpec())


def service(koha_app: Any, viestit_app: Any, email: Any, people: Any = None) -> CardExpiryService:
    koha = KohaClient(KohaSettings(base_url="http://koha.test/api/v1"), transport=SyncASGITransport(koha_app), retry=RetryPolicy(attempts=1))
    viestit = ViestitClient(ViestitSettings(base_url="http://viestit.test"), transport=SyncASGITransport(viestit_app), retry=RetryPolicy(attempts=1))
    return CardExpiryService(koha, viestit, email, people=people)


def patron(koha_app: Any, firstname: str) -> dict[str, Any]:
    [found] = [p for p in koha_app.state.store.patrons.values() if p["firstname"] == firstname]
    return found


def card(found: dict[str, Any]) -> dict[str, Any]:
    return {"patron_id": found["patron_id"], "expiry_date": found["expiry_date"]}


def remind(service: CardExpiryService, item_id: int, payload: dict[str, Any], stored: dict[str, dict[str, Any]], save: Any = None) -> dict[str, Any]:
    case = service.find_who_to_remind(item_id, payload, Checkpoints(stored, save or stored.__setitem__))
    service.send_reminder(case)
    return service.outcome(case)


def test_with_a_lawful_henkilotunnus_the_reminder_reaches_the_mailbox_and_the_read_says_why(koha_app, viestit_app, email, no_backoff):
    people = KnownPeople(AINO)
    output = remind(service(koha_app, viestit_app, email, people), 1, card(patron(koha_app, "Aino")), {})
    [message] = viestit_app.state.store.messages.values()
    assert output["reason"] == "REMINDED" and output["channel"] == "suomifi" and message.recipient_id == AINO
    assert message.title.startswith("Kirjastokorttisi voimassaolo päättyy") and email.sent == []
    assert people.purposes == ["card-expiry reminder"]


def test_a_reminder_delivered_to_a_mailbox_that_closed_before_the_retry_is_not_e_mailed(koha_app, viestit_app, email, no_backoff):
    reminders = service(koha_app, viestit_app, email, KnownPeople(AINO))
    payload, stored = card(patron(koha_app, "Aino")), {}

    def die_at_the_sent_checkpoint(step: str, data: dict[str, Any]) -> None:
        if step == "reminder_sent":
            raise RobotDied
        stored[step] = data

    with pytest.raises(RobotDied):
        remind(reminders, 2, payload, stored, die_at_the_sent_checkpoint)
    viestit_app.state.store.set_mailbox(AINO, False)
    output = remind(reminders, 2, payload, stored)
    assert output["channel"] == "suomifi" and len(viestit_app.state.store.messages) == 1 and email.sent == []


def test_a_renewed_card_and_a_child_without_a_guarantor_are_done_with_their_reason_and_nothing_is_sent(koha_app, viestit_app, email, no_backoff):
    reminders = service(koha_app, viestit_app, email)
    laura = card(patron(koha_app, "Laura"))
    renewed = remind(reminders, 3, {**laura, "expiry_date": (date.fromisoformat(laura["expiry_date"]) - timedelta(days=1)).isoformat()}, {})
    store = koha_app.state.store
    store.child_needs_guarantor = False  # a child registered at the desk before guarantors were required
    child = store.add_patron({"surname": "Lapsi", "firstname": "Ilman", "library_id": "JYVPK", "category_id": "LAPSI", "email": "child@example.org"})
    alone = remind(reminders, 4, card(child), {})
    assert (renewed["reason"], alone["reason"]) == (ReminderOutcome.CARD_RENEWED.value, ReminderOutcome.NO_GUARANTOR.value)
    assert "channel" not in renewed and "channel" not in alone and email.sent == []  # the child has an address: still nobody is told


def test_cards_to_remind_are_the_ones_koha_lists_in_the_window(koha_app, viestit_app, email):
    koha = service(koha_app, viestit_app, email).koha
    today = koha_app.state.store.today()
    assert {c.patron_id for c in cards_to_remind(koha, today, 30)} == {patron(koha_app, "Eetu")["patron_id"], patron(koha_app, "Laura")["patron_id"]}
    assert cards_to_remind(koha, today, 11) == []
