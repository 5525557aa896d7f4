"""processes.notify: one channel per message, chosen and checkpointed before sending; the Suomi.fi Messages
sandbox in-process, the e-mail client at the boundary (tests/unit/conftest.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from connectors.errors import BusinessRuleError
from connectors.http import RetryPolicy
from connectors.sandbox_support import FaultSpec, SyncASGITransport
from connectors.suomifi_viestit import ViestitClient, ViestitSettings
from connectors.suomifi_viestit.sandbox import create_app as create_viestit
from flows.installation_check import sample_identity_code
from processes.checkpoints import Checkpoints
from processes.notify import ChannelChosen, LetterHeading, MessageSent, Notifier, Recipient
from schemas.messages import Channel, Language, MessageText

REFUSED_ADDRESS = "refused@example.org"  # the fake mail server refuses it (tests/unit/conftest.py)

TEXT = MessageText(language=Language.SV, title="Ditt bibliotekskort går ut", paragraphs=["Förnya kortet."])
HEADING = LetterHeading("Muistutus", "Muistutus 1", date(2026, 12, 4))
ADDRESS = {"street_address": "Kauppakatu 1 A 2", "postal_code": "40100", "post_office": "Jyväskylä"}


@pytest.fixture
def viestit_app() -> Any:
    return create_viestit(faults=FaultSpec())


@pytest.fixture
def notifier(viestit_app, email, no_backoff) -> Notifier:
    client = ViestitClient(ViestitSettings(base_url="http://viestit.test"), transport=SyncASGITransport(viestit_app), retry=RetryPolicy(attempts=1))
    return Notifier(client, email)


def send(notifier: Notifier, recipient: Recipient, stored: dict[str, dict[str, Any]]) -> MessageSent:
    checkpoints = Checkpoints(stored, stored.__setitem__)
    return notifier.notify(recipient, TEXT, external_id="kf-test-1-reminder", checkpoints=checkpoints, step="reminder", letter=HEADING)


def test_a_mailbox_closed_while_sending_falls_back_and_the_new_channel_is_recorded_first(notifier, viestit_app, email, monkeypatch):
    hetu = sample_identity_code(date(1980, 1, 1), 951)
    viestit_app.state.store.set_mailbox(hetu, True)
    monkeypatch.setattr(notifier, "first_channel", lambda recipient: Channel.SUOMI_FI)  # checked open, then closed before the send
    viestit_app.state.store.set_mailbox(hetu, False)
    stored: dict[str, dict[str, Any]] = {}
    sent = send(notifier, Recipient(name="Testinen Testi", hetu=hetu, email="t@example.org", language=Language.SV), stored)
    assert sent.channel is Channel.EMAIL and ChannelChosen.read(stored, "reminder_channel").channel is Channel.EMAIL
    [mail] = email.sent
    assert mail.subject == TEXT.title and mail.idempotency_key == "kf-test-1-reminder"
    assert MessageSent.read(stored, "reminder_sent") == sent


def test_an_address_refused_on_a_retry_goes_to_a_person_instead_of_a_letter(notifier, viestit_app):
    hetu = sample_identity_code(date(1980, 1, 1), 953)
    stored = {"reminder_channel": ChannelChosen(channel=Channel.EMAIL, external_id="kf-test-1-reminder").stored()}
    recipient = Recipient(name="Testinen Testi", hetu=hetu, email=REFUSED_ADDRESS, postal_address=ADDRESS)
    with pytest.raises(BusinessRuleError) as refused:
        send(notifier, recipient, stored)
    assert refused.value.code == "NOTIFICATION_REFUSED" and hetu not in str(refused.value)
    assert list(viestit_app.state.store.messages.values()) == [] and "reminder_sent" not in stored


def test_without_a_henkilotunnus_there_is_no_letter_and_without_an_address_nothing_is_sent(notifier, viestit_app, email):
    stored: dict[str, dict[str, Any]] = {}
    sent = send(notifier, Recipient(name="Testinen Testi", postal_address=ADDRESS), stored)
    assert sent.channel is Channel.NONE and sent.message_id is None and email.sent == []
    assert ChannelChosen.read(stored, "reminder_channel").channel is Channel.NONE and list(viestit_app.state.store.messages.values()) == []


def test_a_message_already_sent_is_skipped_on_a_retry(notifier, email):
    stored: dict[str, dict[str, Any]] = {}
    first = send(notifier, Recipient(name="Testinen Testi", email="t@example.org"), stored)
    again = send(notifier, Recipient(name="Testinen Testi", email="t@example.org"), stored)
    assert again == first and len(email.sent) == 1
