"""ViestitClient against the Suomi.fi Messages sandbox in-process: tokens, mailboxes, sends, 409, errors, retries, events."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from functools import cache

import httpx
import pytest
import stamina
from pydantic import SecretStr, ValidationError

from connectors.errors import BusinessRuleError, IntegrationError, NotFoundError, TransientError
from connectors.http import RetryPolicy
from connectors.letters.pdf import Letter, PostalAddress, render_letter
from connectors.sandbox_support import FaultSpec, SyncASGITransport
from connectors.suomifi_viestit import (
    AttachmentReference,
    AttachmentTooLargeError,
    ElectronicMessage,
    EventType,
    MailboxNotInUseError,
    NewElectronicMessage,
    NewMultichannelMessage,
    NewPaperMailWithoutId,
    PaperMail,
    UnsupportedAttachmentError,
    ViestitAuthenticationError,
    ViestitClient,
    ViestitRejectedError,
    ViestitSettings,
    ViestitUnavailableError,
)
from connectors.suomifi_viestit.models import ATTACHMENT_MAX_BYTES, MAILBOX_BATCH_LIMIT
from connectors.suomifi_viestit.sandbox import create_app
from connectors.suomifi_viestit.settings import SANDBOX_POSTI_USERNAME, SANDBOX_SERVICE_ID
from schemas.hetu import Hetu, check_character

BASE = "http://viestit.test"
AINO = Hetu("150385-9046")  # active mailbox in the sandbox seed
NORDEA = Hetu("210281-9988")  # active mailbox
MIKKO = Hetu("070779-912Y")  # no mailbox: paper mail
MIKKO_ADDRESS = PostalAddress(name="Mikko Korhonen", street_address="Keskustie 5", zip_code="44100", city="Äänekoski")


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=10, cap=True):
        yield


class Recorder(httpx.BaseTransport):
    """Keeps (method, path, status) of every exchange, to count token fetches, retries and requests."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        self.calls.append((request.method, request.url.path, response.status_code))
        return response

    def paths(self, path: str) -> list[int]:
        return [status for _, p, status in self.calls if p == path]


@pytest.fixture
def app():
    return create_app(faults=FaultSpec())


@pytest.fixture
def store(app):
    return app.state.store


@pytest.fixture
def recorder(app) -> Recorder:
    return Recorder(SyncASGITransport(app))


def make_client(transport: httpx.BaseTransport, *, attempts: int = 3, **settings) -> ViestitClient:
    settings.setdefault("base_url", BASE)
    return ViestitClient(ViestitSettings(**settings), transport=transport, retry=RetryPolicy(attempts=attempts))


@pytest.fixture
def viestit(recorder) -> Iterator[ViestitClient]:
    with make_client(recorder) as client:
        yield client


def note(title: str = "Kirjastokorttisi on valmis", **fields) -> ElectronicMessage:
    return ElectronicMessage(title=title, body="Hei! Kirjastokorttisi on noudettavissa pääkirjastosta.", **fields)


@cache
def letter_pdf() -> bytes:
    letter = Letter(
        sender=PostalAddress(name="Kuntaflow-kaupunki", street_address="Kirjastonkatu 1", zip_code="40100", city="Jyväskylä"),
        recipient=MIKKO_ADDRESS,
        dated=date(2026, 3, 2),
        title="Päätös kirjastokortista",
        paragraphs=["Kirjastokorttihakemuksesi on hyväksytty."],
    )
    return render_letter(letter)


def hetus(count: int) -> list[Hetu]:
    """``count`` distinct valid test hetus (individual numbers 900-999)."""
    out = []
    for day in range(1, 29):
        for month in range(1, 13):
            for year in range(50, 100):
                for individual in range(900, 1000):
                    digits = f"{day:02d}{month:02d}{year:02d}"
                    out.append(Hetu(f"{digits}-{individual}{check_character(digits + str(individual))}"))
                    if len(out) == count:
                        return out
    raise AssertionError("not enough test hetus")


# ------------------------------------------------------------------------------- tokens


def test_one_token_serves_many_calls(viestit, store, recorder):
    viestit.active_mailboxes([AINO])
    viestit.events()
    assert store.tokens_issued == 1 and viestit.auth.tokens_fetched == 1
    assert recorder.paths("/v1/token") == [200]


def test_an_expired_token_is_refreshed_once_on_401(viestit, store, recorder):
    viestit.active_mailboxes([AINO])
    store.advance(store.token_ttl_seconds + 1)  # the service's clock runs past the token's lifetime
    assert viestit.active_mailboxes([AINO]) == {AINO}
    assert recorder.paths("/v1/mailboxes/active") == [200, 401, 200]
    assert recorder.paths("/v1/token") == [200, 200]


def test_a_second_401_with_a_fresh_token_is_final(recorder):
    short_lived = create_app(token_ttl_seconds=0, faults=FaultSpec())
    recorder = Recorder(SyncASGITransport(short_lived))
    with make_client(recorder) as viestit, pytest.raises(ViestitAuthenticationError) as raised:
        viestit.active_mailboxes([AINO])
    assert recorder.paths("/v1/mailboxes/active") == [401, 401]
    assert recorder.paths("/v1/token") == [200, 200]
    assert raised.value.status_code == 401


def test_wrong_credentials_are_an_integration_error_and_nothing_is_sent(recorder):
    with make_client(recorder, password=SecretStr("not-the-password")) as viestit, pytest.raises(ViestitAuthenticationError) as raised:
        viestit.send_electronic(NewElectronicMessage(external_id="kf-1", recipient=AINO, electronic=note()))
    assert isinstance(raised.value, IntegrationError)
    assert "not-the-password" not in str(raised.value) + repr(raised.value)
    assert recorder.paths("/v1/token") == [400] and recorder.paths("/v2/messages/electronic") == []


def test_a_token_endpoint_outage_is_retried(viestit, app, recorder):
    app.state.faults.fail_next(1, kind="error", path_prefix="/v1/token")
    assert viestit.active_mailboxes([AINO]) == {AINO}
    assert recorder.paths("/v1/token") == [503, 200]


# ------------------------------------------------------------------------------- mailboxes


def test_finds_who_has_an_active_mailbox(viestit):
    assert viestit.active_mailboxes([AINO, MIKKO, NORDEA, AINO]) == {AINO, NORDEA}
    assert viestit.has_active_mailbox(str(AINO)) and not viestit.has_active_mailbox(MIKKO)


def test_no_people_means_no_request(viestit, recorder):
    assert viestit.active_mailboxes([]) == set()
    assert recorder.calls == []


def test_mailbox_checks_are_batched_by_the_specs_limit(viestit, store, recorder):
    people = hetus(MAILBOX_BATCH_LIMIT + 5)
    for person in (people[0], people[-1]):
        store.set_mailbox(person.value, True)
    assert viestit.active_mailboxes(people) == {people[0], people[-1]}
    assert recorder.paths("/v1/mailboxes/active") == [200, 200]


def test_an_invalid_hetu_is_refused_before_sending_without_echoing_it(viestit, recorder):
    with pytest.raises(ValueError) as raised:
        viestit.active_mailboxes(["150385-9047"])
    assert "150385-9047" not in str(raised.value)
    assert recorder.calls == []


# ------------------------------------------------------------------------------- electronic messages


def test_sends_an_electronic_message_with_an_attachment(viestit, store):
    attachment = viestit.upload_attachment("ohjeet.txt", b"Tervetuloa kirjastoon!", "text/plain")
    result = viestit.send_electronic(
        NewElectronicMessage(external_id="kf-100", recipient=AINO, electronic=note(attachments=(attachment,), body_format="Markdown"))
    )
    assert not result.already_sent and result.external_id == "kf-100" and result.trace_id
    message = store.messages[result.message_id]
    assert (message.channel, message.endpoint, message.recipient_id) == ("electronic", "electronic", AINO.value)
    assert message.title == "Kirjastokorttisi on valmis" and message.body_format == "Markdown"
    assert [a.content for a in message.attachments] == [b"Tervetuloa kirjastoon!"]
    assert message.request["sender"] == {"serviceId": SANDBOX_SERVICE_ID}
    assert message.request["electronic"]["notifications"] == {
        "senderDetailsInNotifications": "Organisation and service name",
        "unreadMessageNotification": {"reminder": "Default reminder"},
    }


def test_a_resend_with_the_same_external_id_is_already_sent_with_the_same_message_id(viestit, store):
    first = viestit.send_electronic(NewElectronicMessage(external_id="kf-200", recipient=AINO, electronic=note()))
    again = viestit.send_electronic(NewElectronicMessage(external_id="kf-200", recipient=AINO, electronic=note(title="Toinen yritys")))
    assert (again.message_id, again.already_sent, first.already_sent) == (first.message_id, True, False)
    assert len(store.messages) == 1


def test_an_answer_lost_after_sending_is_resent_and_counts_as_sent_once(viestit, app, store, recorder):
    app.state.faults.fail_next(1, kind="lost_response", path_prefix="/v2/messages/electronic")
    result = viestit.send_electronic(NewElectronicMessage(external_id="kf-300", recipient=AINO, electronic=note()))
    assert result.already_sent and result.message_id == next(iter(store.messages))
    assert len(store.messages) == 1
    assert recorder.paths("/v2/messages/electronic") == [409]  # the lost one never reached the recorder as a response


def test_a_recipient_without_a_mailbox_is_a_specific_business_error(viestit, store, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(MailboxNotInUseError) as raised:
        viestit.send_electronic(NewElectronicMessage(external_id="kf-400", recipient=MIKKO, electronic=note()))
    error = raised.value
    assert isinstance(error, BusinessRuleError) and error.code == "MAILBOX_NOT_IN_USE" and error.status_code == 400
    assert error.business_ids == {"external_id": "kf-400"} and error.request_id  # the service's traceId
    assert MIKKO.value not in str(error) + repr(error) + (error.body or "") + caplog.text
    assert store.messages == {}


def test_a_reply_to_a_message_that_is_gone_is_a_specific_business_error(viestit):
    from connectors.suomifi_viestit import RepliedMessageNotFoundError

    with pytest.raises(RepliedMessageNotFoundError):
        viestit.send_electronic(NewElectronicMessage(external_id="kf-401", recipient=AINO, electronic=note(in_reply_to_message_id=42)))


def test_another_400_is_rejected_with_the_services_reason(store, recorder):
    with make_client(recorder, service_id="someone-elses-service") as viestit, pytest.raises(ViestitRejectedError) as raised:
        viestit.send_electronic(NewElectronicMessage(external_id="kf-402", recipient=AINO, electronic=note()))
    assert "Unknown serviceId" in str(raised.value) and isinstance(raised.value, IntegrationError)


# ------------------------------------------------------------------------------- multichannel and paper mail


def test_multichannel_without_a_mailbox_is_printed_with_its_pdf(viestit, store):
    pdf = letter_pdf()
    attachment = viestit.upload_attachment("paatos.pdf", pdf, "application/pdf")
    result = viestit.send_multichannel(
        NewMultichannelMessage(
            external_id="kf-500",
            recipient=MIKKO,
            electronic=note(),
            paper_mail=PaperMail(attachment=attachment, recipient_address=MIKKO_ADDRESS, cost_pool="KIRJASTO1"),
        )
    )
    message = store.messages[result.message_id]
    assert (message.channel, message.endpoint) == ("paper", "multichannel")
    assert message.paper.pdf.content == pdf and message.paper.pdf.filename == "paatos.pdf"
    assert message.paper.recipient_address == ["Mikko Korhonen", "Keskustie 5", "44100 Äänekoski"]
    assert message.paper.sender_address[0] == ViestitSettings().sender_name
    assert (message.paper.posti_username, message.paper.cost_pool) == (SANDBOX_POSTI_USERNAME, "KIRJASTO1")
    assert message.paper.options["createAddressPage"] is True
    assert [e.type for e in store.events_for(message.system)] == ["Paper mail created", "Sent for printing and enveloping"]


def test_multichannel_with_an_active_mailbox_is_delivered_electronically(viestit, store):
    attachment = viestit.upload_attachment("paatos.pdf", letter_pdf(), "application/pdf")
    result = viestit.send_multichannel(
        NewMultichannelMessage(
            external_id="kf-501",
            recipient=NORDEA,
            electronic=note(),
            paper_mail=PaperMail(attachment=attachment, recipient_address=MIKKO_ADDRESS),
        )
    )
    assert store.messages[result.message_id].channel == "electronic"
    assert store.messages[result.message_id].paper is None


def test_multichannel_resend_is_already_sent(viestit, store):
    attachment = viestit.upload_attachment("paatos.pdf", letter_pdf(), "application/pdf")
    message = NewMultichannelMessage(
        external_id="kf-502", recipient=MIKKO, electronic=note(), paper_mail=PaperMail(attachment=attachment, recipient_address=MIKKO_ADDRESS)
    )
    first, second = viestit.send_multichannel(message), viestit.send_multichannel(message)
    assert second.already_sent and second.message_id == first.message_id and len(store.messages) == 1


def test_an_attachment_left_unused_for_a_day_is_gone(viestit, store):
    attachment = viestit.upload_attachment("paatos.pdf", letter_pdf(), "application/pdf")
    store.advance(24 * 3600 + 1)
    with pytest.raises(ViestitRejectedError, match="not found"):
        viestit.send_multichannel(
            NewMultichannelMessage(
                external_id="kf-503", recipient=MIKKO, electronic=note(), paper_mail=PaperMail(attachment=attachment, recipient_address=MIKKO_ADDRESS)
            )
        )


def test_a_paper_letter_needs_a_pdf(viestit):
    text = viestit.upload_attachment("kirje.txt", b"ei pdf", "text/plain")
    with pytest.raises(ViestitRejectedError, match="must be a PDF"):
        viestit.send_multichannel(
            NewMultichannelMessage(
                external_id="kf-504", recipient=MIKKO, electronic=note(), paper_mail=PaperMail(attachment=text, recipient_address=MIKKO_ADDRESS)
            )
        )


def test_paper_mail_refuses_a_country_the_service_does_not_know():
    with pytest.raises(ValidationError, match="country code ZZ"):
        PaperMail(
            attachment=AttachmentReference(attachment_id="0b5c4f8e-3a7a-4d0e-9d55-0c4b3a1f2e11"),
            recipient_address=PostalAddress(name="X", street_address="Y 1", zip_code="1", city="Z", country_code="ZZ"),
        )


# ------------------------------------------------------------------------------- attachments


def test_an_attachment_over_the_limit_is_refused_before_sending(viestit, recorder):
    with pytest.raises(AttachmentTooLargeError) as raised:
        viestit.upload_attachment("iso.pdf", b"%PDF-" + b"0" * (ATTACHMENT_MAX_BYTES - 10), "application/pdf")
    assert isinstance(raised.value, BusinessRuleError)
    assert recorder.calls == []


def test_unsupported_or_fake_attachments_are_refused_before_sending(viestit, recorder):
    with pytest.raises(UnsupportedAttachmentError, match="application/zip"):
        viestit.upload_attachment("a.zip", b"PK..", "application/zip")
    with pytest.raises(UnsupportedAttachmentError, match="not a PDF"):
        viestit.upload_attachment("a.pdf", b"<html>", "application/pdf")
    with pytest.raises(UnsupportedAttachmentError, match="empty"):
        viestit.upload_attachment("a.txt", b"", "text/plain")
    assert recorder.calls == []


# ------------------------------------------------------------------------------- transient failures and malformed answers


def test_server_errors_are_retried_until_the_message_is_sent_once(viestit, app, store, recorder):
    app.state.faults.fail_next(2, kind="error", path_prefix="/v2/messages")
    result = viestit.send_electronic(NewElectronicMessage(external_id="kf-600", recipient=AINO, electronic=note()))
    assert not result.already_sent and len(store.messages) == 1
    assert recorder.paths("/v2/messages/electronic") == [503, 503, 200]


def test_server_errors_past_the_retry_policy_are_transient(viestit, app, store):
    app.state.faults.fail_next(3, kind="error", path_prefix="/v2/messages")
    with pytest.raises(ViestitUnavailableError) as raised:
        viestit.send_electronic(NewElectronicMessage(external_id="kf-601", recipient=AINO, electronic=note()))
    assert isinstance(raised.value, TransientError) and raised.value.status_code == 503
    assert store.messages == {}


def answering(status: int, content: bytes) -> httpx.MockTransport:
    """A peer that hands out tokens and answers every API call with ``content``."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 300, "token_type": "Bearer"})
        return httpx.Response(status, content=content, headers={"content-type": "application/json"})

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"<html>gateway</html>", "INVALID_JSON"), (b"{}", "UNEXPECTED_RESPONSE"), (b'{"messageId": "abc"}', "UNEXPECTED_RESPONSE")],
)
def test_a_malformed_success_is_an_integration_error(content, code):
    with make_client(answering(200, content)) as viestit, pytest.raises(IntegrationError) as raised:
        viestit.send_electronic(NewElectronicMessage(external_id="kf-700", recipient=AINO, electronic=note()))
    assert raised.value.code == code and raised.value.business_ids == {"external_id": "kf-700"}


def test_a_409_without_the_original_message_id_is_an_integration_error():
    with make_client(answering(409, b'{"reason": "External ID already in use"}')) as viestit, pytest.raises(IntegrationError) as raised:
        viestit.send_electronic(NewElectronicMessage(external_id="kf-701", recipient=AINO, electronic=note()))
    assert raised.value.code == "UNEXPECTED_RESPONSE" and "messageId" in str(raised.value)


def test_events_with_missing_fields_are_an_integration_error():
    with make_client(answering(200, b'{"events": []}')) as viestit, pytest.raises(IntegrationError, match="continuationToken"):
        viestit.events()


# ------------------------------------------------------------------------------- events


def test_events_are_paged_with_continuation_tokens(recorder):
    paged = create_app(events_page_size=2, faults=FaultSpec())
    with make_client(Recorder(SyncASGITransport(paged))) as viestit:
        sent = [viestit.send_electronic(NewElectronicMessage(external_id=f"kf-80{i}", recipient=AINO, electronic=note())) for i in range(3)]
        first = viestit.events()
        second = viestit.events(first.continuation_token)
        third = viestit.events(second.continuation_token)
        assert [len(first.events), len(second.events), third.events] == [2, 1, []]
        events = first.events + second.events
        assert [e.metadata.message_id for e in events] == [r.message_id for r in sent]
        assert {e.type for e in events} == {EventType.ELECTRONIC_MESSAGE_CREATED}
        assert [e.metadata.external_id for e in events] == ["kf-800", "kf-801", "kf-802"]
        assert all(e.metadata.service_id == SANDBOX_SERVICE_ID and e.event_time.tzinfo for e in events)

        # Nothing new: the last token keeps its place, and later events arrive through it.
        paged.state.store.mark_read(sent[0].message_id)
        later = viestit.events(third.continuation_token)
        assert [(e.type, e.metadata.message_id) for e in later.events] == [(EventType.ELECTRONIC_MESSAGE_READ, sent[0].message_id)]

        pages = list(viestit.poll_events())
        assert [len(page.events) for page in pages] == [2, 2]


def test_an_unknown_continuation_token_is_rejected(viestit):
    with pytest.raises(ViestitRejectedError, match="Invalid continuation token"):
        viestit.events("not-a-token-we-gave")


# ------------------------------------------------------------------------------- settings


def test_named_environments_and_urls():
    real = {"username": "kunta-system", "password": SecretStr("x" * 32), "service_id": "kunta-kirjasto", "posti_username": "ABCDEF"}
    assert ViestitSettings(base_url="prod", **real).base_url == "https://api.messages.suomi.fi"
    assert ViestitSettings(base_url="QA", **real).base_url == "https://api.messages-qa.suomi.fi"
    assert ViestitSettings(base_url="http://127.0.0.1:9000/suomifi_viestit/").base_url == "http://127.0.0.1:9000/suomifi_viestit"
    with pytest.raises(ValidationError, match="prod, qa or an http"):
        ViestitSettings(base_url="staging")


def test_real_environments_refuse_the_sandbox_account(monkeypatch):
    with pytest.raises(ValidationError, match="KUNTAFLOW_VIESTIT_USERNAME"):
        ViestitSettings(base_url="prod")
    monkeypatch.setenv("KUNTAFLOW_VIESTIT_BASE_URL", "qa")
    monkeypatch.setenv("KUNTAFLOW_VIESTIT_USERNAME", "kunta-system")
    monkeypatch.setenv("KUNTAFLOW_VIESTIT_PASSWORD", "y" * 32)
    monkeypatch.setenv("KUNTAFLOW_VIESTIT_SERVICE_ID", "kunta-kirjasto")
    with pytest.raises(ValidationError, match="POSTI_USERNAME"):
        ViestitSettings()


def test_posti_credentials_have_the_specs_lengths():
    with pytest.raises(ValidationError, match="exactly 4 characters"):
        ViestitSettings(posti_password=SecretStr("12345"))
    with pytest.raises(ValidationError, match="posti_username"):
        ViestitSettings(posti_username="SHORT")


# ------------------------------------------------------------------------------- password, paper mail by address, citizens' messages

ROTATED = SecretStr("Kiertava-Salasana-2026-riittavan-pitka!")


def test_change_password_then_only_the_new_one_gets_a_token(viestit, recorder):
    old = ViestitSettings().password
    viestit.change_password(old, ROTATED)
    assert viestit.password_works(ROTATED) and not viestit.password_works(old)
    change = [call for call in recorder.calls if call[1] == "/v1/change-password"]
    assert change == [("POST", "/v1/change-password", 200)]


def test_a_refused_new_password_is_rejected_and_the_old_one_still_works(viestit):
    with pytest.raises(ViestitRejectedError, match="Invalid new password") as raised:
        viestit.change_password(ViestitSettings().password, SecretStr("too-short"))
    assert "too-short" not in str(raised.value)
    assert viestit.password_works(ViestitSettings().password)


def test_the_password_is_read_anew_at_each_token_fetch_and_a_pending_one_is_tried_next(store, recorder):
    """A worker whose current password the service no longer takes (a rotation got half-way) tries the pending one."""
    old = ViestitSettings().password
    passwords = [old]
    client = ViestitClient(ViestitSettings(base_url=BASE), transport=recorder, passwords=lambda: list(passwords))
    assert client.has_active_mailbox(AINO)
    client.change_password(old, ROTATED)
    passwords.append(ROTATED)  # the store: current (now refused) and pending
    store.expire_tokens()
    assert client.has_active_mailbox(AINO)  # 401, the old password refused, the pending one taken
    assert recorder.paths("/v1/token")[-2:] == [400, 200]
    passwords[:] = [ROTATED]
    store.expire_tokens()
    assert client.has_active_mailbox(AINO)
    assert recorder.paths("/v1/token")[-1] == 200


def test_paper_mail_without_id_is_sent_once_and_a_resend_finds_the_original(viestit, store):
    pdf = viestit.upload_attachment("kirje.pdf", letter_pdf(), "application/pdf")
    letter = NewPaperMailWithoutId(external_id="letter-9", paper_mail=PaperMail(attachment=pdf, recipient_address=MIKKO_ADDRESS))
    first = viestit.send_paper_mail_without_id(letter)
    again = viestit.send_paper_mail_without_id(letter)
    assert not first.already_sent and again.already_sent and again.message_id == first.message_id
    message = store.messages[first.message_id]
    assert message.endpoint == "paper-mail-without-id" and message.paper.recipient_address[0] == "Mikko Korhonen" and message.ignored_fields == []
    assert message.paper.posti_username == SANDBOX_POSTI_USERNAME


def test_a_citizens_reply_is_read_with_its_attachment_and_never_shown_in_a_repr(viestit, store):
    sent = viestit.send_electronic(NewElectronicMessage(external_id="d-1", recipient=AINO, electronic=note(reply_allowed_by="Anyone")))
    reply = store.receive_reply(sent.message_id, "Vs: kortti", "Salainen vastaus", [("liite.txt", "text/plain", b"hei")])
    (event,) = [e for page in viestit.poll_events() for e in page.events if e.type == EventType.ELECTRONIC_MESSAGE_FROM_END_USER]
    message = viestit.message_from_end_user(event.metadata.message_id)
    assert message.message_id == reply.message_id and message.electronic.body == "Salainen vastaus"
    assert message.electronic.thread.root_message_id == sent.message_id and message.electronic.thread.thread_external_id == "d-1"
    assert message.sender.mailbox_owner.id == AINO.value
    assert viestit.end_user_attachment(message.electronic.attachments[0].attachment_id) == b"hei"
    assert "Salainen" not in repr(message) and AINO.value not in repr(message) and "Vs: kortti" not in repr(message)


def test_a_message_that_is_not_a_citizens_is_not_found(viestit):
    sent = viestit.send_electronic(NewElectronicMessage(external_id="d-2", recipient=AINO, electronic=note()))
    with pytest.raises(NotFoundError) as raised:
        viestit.message_from_end_user(sent.message_id)
    assert raised.value.status_code == 404 and raised.value.business_ids == {"message_id": sent.message_id}
