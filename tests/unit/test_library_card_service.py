"""LibraryCardService without Robot Framework: Koha and Suomi.fi Messages sandboxes in-process (ASGI
transports), a hand-written e-mail client at the boundary, checkpoints kept in a dict."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from connectors.errors import BusinessRuleError
from connectors.http import RetryPolicy
from connectors.koha import KohaClient, KohaSettings
from connectors.koha.sandbox import create_app as create_koha
from connectors.sandbox_support import FaultSpec, SyncASGITransport
from connectors.suomifi_viestit import ViestitClient, ViestitSettings
from connectors.suomifi_viestit.sandbox import create_app as create_viestit
from flows.installation_check import sample_identity_code
from kuntaflow.person_vault import SealedPersonVault
from processes.checkpoints import Checkpoints
from processes.library_card.checkpoints import DecisionSent, GuarantorRegistered, PatronCreated, PatronLookup, RulesChecked
from processes.library_card.service import GUARANTOR_PURPOSE, PATRON_PURPOSE, LibraryCardService
from schemas.hetu import hetu_key
from schemas.library_card import Channel, ReasonCode
from schemas.person_vault import PersonVault, Relation

REFUSED_ADDRESS = "refused@example.org"  # the fake mail server refuses it (tests/unit/conftest.py)

SALT = SecretStr("library-card-service-test-salt")
ADDRESS = {"street_address": "Kauppakatu 1 A 2", "postal_code": "40100", "post_office": "Jyväskylä"}
SEEDED_AINO = "150385-9046"  # Koha: a patron at JYVPK; Messages: an active mailbox
SEEDED_MIKKO = "070779-912Y"  # Koha: a patron at AANPK; Messages: no mailbox


class Systems:
    def __init__(self, email: Any, vault: PersonVault | None = None) -> None:
        self.koha_app = create_koha(salt=SALT, faults=FaultSpec())
        self.viestit_app = create_viestit(faults=FaultSpec())
        self.email = email
        self.koha = KohaClient(KohaSettings(base_url="http://koha.test/api/v1"), transport=SyncASGITransport(self.koha_app), retry=RetryPolicy(attempts=1))
        self.viestit = ViestitClient(
            ViestitSettings(base_url="http://viestit.test"), transport=SyncASGITransport(self.viestit_app), retry=RetryPolicy(attempts=1)
        )
        self.service = LibraryCardService(self.koha, self.viestit, email, salt=SALT, vault=vault)
        self.stored: dict[int, dict[str, dict[str, Any]]] = {}

    def checkpoints(self, item_id: int) -> Checkpoints:
        stored = self.stored.setdefault(item_id, {})
        return Checkpoints(stored, lambda step, data: stored.__setitem__(step, data))

    def decide(self, item_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        """The robot's five steps, as the keyword library calls them."""
        case = self.service.check_application(item_id, payload, self.checkpoints(item_id))
        self.service.look_for_existing_patron(case)
        self.service.create_patron(case)
        self.service.send_decision(case)
        return self.service.outcome(case)

    def messages(self) -> list[Any]:
        return list(self.viestit_app.state.store.messages.values())

    def patron_with_key(self, hetu: str) -> dict[str, Any]:
        store = self.koha_app.state.store
        [patron_id] = [a["patron_id"] for a in store.attributes.values() if a["type"] == "SOTU" and a["value"] == hetu_key(hetu, SALT)]
        return store.patrons[patron_id]


@pytest.fixture
def systems(email, no_backoff) -> Systems:
    return Systems(email)


def applicant(individual: int, born: date = date(1990, 5, 17), **changes: Any) -> dict[str, Any]:
    return {
        "hetu": sample_identity_code(born, individual),
        "first_names": "Testi Henrik",
        "surname": f"Testinen{individual}",
        "permanent_address": dict(ADDRESS),
        **changes,
    }


def application(person: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {"applicant": person, "home_library": "JYVVAA", "language": "fi", "rules_accepted": True, "submitted_at": datetime.now(UTC).isoformat(), **changes}


def test_an_adult_with_a_mailbox_is_registered_and_told_in_suomifi_messages(systems):
    person = applicant(911)
    systems.viestit_app.state.store.set_mailbox(person["hetu"], True)
    output = systems.decide(1, application(person))
    patron = systems.patron_with_key(person["hetu"])
    assert output["reason"] == "CARD_GRANTED" and output["patron_id"] == patron["patron_id"] and output["channel"] == "suomifi"
    assert (patron["category_id"], patron["library_id"]) == ("HENKILO", "JYVVAA")
    [message] = systems.messages()
    assert message.external_id == "kuntaflow-library-card-1-decision" and message.channel != "paper"
    stored = systems.stored[1]
    assert stored["rules_checked"]["version"] == 1 and stored["patron_created"]["patron_id"] == patron["patron_id"]
    assert DecisionSent.read(stored).channel is Channel.SUOMI_FI


def test_without_a_mailbox_a_citizen_who_asked_for_a_letter_gets_a_printed_letter(systems):
    person = applicant(912)
    output = systems.decide(2, application(person, notification_preference="letter", email="aino@example.org"))
    [message] = systems.messages()
    assert output["channel"] == "letter" and message.channel == "paper" and message.paper.pdf.media_type == "application/pdf"
    assert systems.email.sent == []


def test_without_a_mailbox_the_decision_goes_by_email(systems):
    output = systems.decide(3, application(applicant(913), email="aino@example.org"))
    [email] = systems.email.sent
    assert output["channel"] == "email" and email.to == ["aino@example.org"] and email.idempotency_key == "kuntaflow-library-card-3-decision"
    assert systems.messages() == []


def test_an_email_address_the_server_refuses_falls_back_to_a_letter(systems):
    output = systems.decide(4, application(applicant(914), email=REFUSED_ADDRESS))
    [message] = systems.messages()
    assert output["channel"] == "letter" and message.channel == "paper" and systems.email.sent == []


def test_an_existing_patron_found_by_the_hetu_key_decides_the_case(systems):
    with pytest.raises(BusinessRuleError) as refused:
        systems.decide(5, application(applicant(0, first_names="Aino", surname="Virtanen", hetu=SEEDED_AINO)))
    assert refused.value.code == "ALREADY_A_PATRON" and "work item 5: the applicant already has a library card" in str(refused.value)
    assert SEEDED_AINO not in str(refused.value)
    assert PatronLookup.read(systems.stored[5]).existing_library_id == "JYVPK" and "patron_created" not in systems.stored[5]


def test_a_patron_an_interrupted_attempt_created_is_adopted_not_duplicated(systems):
    """The first attempt created the patron but died before its checkpoint: the retry carries on with it."""
    person = applicant(915)
    first = systems.service.check_application(6, application(person), systems.checkpoints(6))
    systems.service.look_for_existing_patron(first)
    systems.service.create_patron(first)
    created = systems.stored[6].pop("patron_created")
    patrons = len(systems.koha_app.state.store.patrons)
    retry = systems.service.check_application(6, application(person), systems.checkpoints(6))
    systems.service.look_for_existing_patron(retry)  # the lookup checkpoint says nobody was there before
    systems.service.create_patron(retry)
    assert len(systems.koha_app.state.store.patrons) == patrons
    assert PatronCreated.read(systems.stored[6]).patron_id == created["patron_id"] and retry.reason is ReasonCode.CARD_GRANTED


def test_a_child_through_a_guardian_gets_the_guardian_registered_as_guarantor(systems):
    child = applicant(916, born=date(2016, 3, 1))
    guardian = applicant(917, born=date(1985, 1, 2), relationship_verified_by="suomifi_valtuudet", relationship_verified_at="2026-11-24T20:00:00+02:00")
    output = systems.decide(7, application(child, guardian=guardian, email="guardian@example.org"))
    registered = GuarantorRegistered.read(systems.stored[7])
    guarantor = systems.patron_with_key(guardian["hetu"])
    assert registered.created and registered.patron_id == guarantor["patron_id"] == output["guarantor_patron_id"]
    assert guarantor["staff_notes"].startswith("Huoltaja") and systems.patron_with_key(child["hetu"])["category_id"] == "LAPSI"
    [email] = systems.email.sent
    assert email.to == ["guardian@example.org"] and email.subject == "Lapsen kirjastokortti on valmis"


def test_a_retry_skips_every_step_its_checkpoints_say_is_done(systems):
    person = applicant(918)
    first = systems.decide(8, application(person, email="aino@example.org"))
    again = systems.decide(8, application(person, email="aino@example.org"))
    assert again == first and len(systems.email.sent) == 1


def test_an_item_checkpointed_before_the_upgrade_resumes_from_its_unversioned_checkpoints(systems):
    """Checkpoints as the keyword library stored them before the models (no version) are read as they were."""
    person = applicant(919)
    systems.stored[9] = {
        "rules_checked": {"reason": "CARD_GRANTED", "decided_on": "2026-11-20", "library_name": "Vaajakosken kirjasto"},
        "patron_lookup": {"existing_patron_id": None, "existing_library_id": None},
        "patron_created": {"patron_id": 4242, "category_id": "HENKILO", "library_id": "JYVVAA", "expiry_date": "2029-11-20", "guarantor_patron_id": None},
        "decision_sent": {"channel": "email", "message_id": "<old@test>", "external_id": "kuntaflow-library-card-9-decision"},
    }
    patrons = len(systems.koha_app.state.store.patrons)
    output = systems.decide(9, application(person, email="aino@example.org"))
    assert output == {
        "reason": "CARD_GRANTED",
        "patron_id": 4242,
        "library_id": "JYVVAA",
        "category_id": "HENKILO",
        "expiry_date": "2029-11-20",
        "channel": "email",
        "message_id": "<old@test>",
    }
    assert len(systems.koha_app.state.store.patrons) == patrons and systems.email.sent == []
    rules = RulesChecked.read(systems.stored[9])
    assert (rules.version, rules.decided_on, rules.reason) == (1, date(2026, 11, 20), ReasonCode.CARD_GRANTED)
    assert "version" not in systems.stored[9]["rules_checked"]  # read, never rewritten


def test_an_invalid_payload_goes_to_staff_naming_fields_not_values(systems):
    with pytest.raises(BusinessRuleError) as refused:
        systems.decide(10, application(applicant(920, surname="Testinen\x00"), home_library="??"))
    assert refused.value.code == "INVALID_APPLICATION" and "Testinen" not in str(refused.value) and "home_library" in str(refused.value)


class RobotDied(BaseException):
    """The robot process ending between a side effect and its checkpoint (a SIGKILL, as far as the item knows)."""


def test_a_decision_delivered_to_a_mailbox_that_closed_before_the_retry_is_not_sent_again_by_email(systems):
    """Messages took the decision, the robot died before ``decision_sent``, the mailbox closed: the retry must
    stay on Messages (whose externalId makes the resend a no-op), never fall back to e-mail."""
    person = applicant(921)
    systems.viestit_app.state.store.set_mailbox(person["hetu"], True)
    stored: dict[str, dict[str, Any]] = {}

    def save_until_the_decision(step: str, data: dict[str, Any]) -> None:
        if step == DecisionSent.STEP:
            raise RobotDied
        stored[step] = data

    first = systems.service.check_application(11, application(person, email="twice@example.org"), Checkpoints(stored, save_until_the_decision))
    systems.service.look_for_existing_patron(first)
    systems.service.create_patron(first)
    with pytest.raises(RobotDied):
        systems.service.send_decision(first)
    [delivered] = systems.messages()
    systems.viestit_app.state.store.set_mailbox(person["hetu"], False)

    systems.stored[11] = stored
    output = systems.decide(11, application(person, email="twice@example.org"))
    assert systems.email.sent == [] and systems.messages() == [delivered]
    assert output["channel"] == "suomifi" and output["message_id"] == str(delivered.message_id)


# ------------------------------------------------------------------ the person vault


@pytest.fixture
def vault(tmp_path) -> Iterator[SealedPersonVault]:
    with SealedPersonVault(f"sqlite:///{tmp_path / 'vault.db'}", sealing_key=SecretStr(Fernet.generate_key().decode()), salt=SALT) as opened:
        yield opened


@pytest.fixture
def vaulted(email, no_backoff, vault) -> Systems:
    return Systems(email, vault)


def _kept(vault: SealedPersonVault, key: str) -> Any:
    return vault.read(key, purpose="testi", actor="pytest")


def test_a_registered_patron_is_kept_in_the_vault_under_the_key_koha_holds(vaulted, vault):
    person = applicant(921)
    output = vaulted.decide(21, application(person, language="sv", email="aino@example.org"))
    [key] = [a["value"] for a in vaulted.koha_app.state.store.attributes.values() if a["type"] == "SOTU" and a["patron_id"] == output["patron_id"]]
    kept = _kept(vault, key)
    assert (kept.hetu, kept.language.value, kept.guardian_key) == (person["hetu"], "sv", None)
    assert set(kept.relations) == {
        Relation(kind="work_item", ref="21", process="library_card", purpose=PATRON_PURPOSE),
        Relation(kind="library_patron", ref=str(output["patron_id"]), process="library_card", purpose=PATRON_PURPOSE),
    }


def test_a_child_names_the_guardian_who_is_kept_as_the_guarantor(vaulted, vault):
    child = applicant(922, born=date(2016, 3, 1))
    guardian = applicant(923, born=date(1985, 1, 2), relationship_verified_by="suomifi_valtuudet", relationship_verified_at="2026-11-24T20:00:00+02:00")
    output = vaulted.decide(22, application(child, guardian=guardian, email="guardian@example.org"))
    kept_child = _kept(vault, hetu_key(child["hetu"], SALT))
    kept_guardian = _kept(vault, kept_child.guardian_key)
    assert kept_child.guardian_key == hetu_key(guardian["hetu"], SALT) and kept_guardian.hetu == guardian["hetu"]
    assert Relation(kind="library_patron", ref=str(output["guarantor_patron_id"]), process="library_card", purpose=GUARANTOR_PURPOSE) in kept_guardian.relations


def test_an_existing_patron_is_kept_and_a_refused_applicant_is_not(vaulted, vault):
    with pytest.raises(BusinessRuleError):
        vaulted.decide(23, application(applicant(0, first_names="Aino", surname="Virtanen", hetu=SEEDED_AINO)))
    existing = _kept(vault, hetu_key(SEEDED_AINO, SALT))
    assert {r.kind for r in existing.relations} == {"work_item", "library_patron"}
    refused = applicant(924, permanent_address=None)
    with pytest.raises(BusinessRuleError):
        vaulted.decide(24, application(refused))
    assert _kept(vault, hetu_key(refused["hetu"], SALT)) is None


def test_the_rules_verdict_goes_with_the_next_write_and_every_side_effect_is_saved_at_once(systems):
    person = applicant(914)
    systems.viestit_app.state.store.set_mailbox(person["hetu"], True)
    saved: list[str] = []
    noted: list[str] = []
    checkpoints = Checkpoints({}, lambda step, data: saved.append(step), note=lambda step, data: noted.append(step))
    case = systems.service.check_application(3, application(person), checkpoints)
    systems.service.look_for_existing_patron(case)
    systems.service.create_patron(case)
    systems.service.send_decision(case)
    assert noted == ["rules_checked"]  # harmless to redo: written with the lookup's checkpoint by the robot
    # The lookup is saved before the patron is created: a retry must tell the patron it created from an earlier card.
    assert saved == ["patron_lookup", "patron_created", "decision_channel", "decision_sent"]
    assert "rules_checked" in checkpoints  # and later steps of the attempt see it
