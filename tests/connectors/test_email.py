"""EmailClient against the SMTP sandbox on a real local port: happy path, each error class, retries, idempotent resend."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
import stamina
from pydantic import SecretStr, ValidationError

from connectors.email import (
    EmailAttachment,
    EmailAuthenticationError,
    EmailClient,
    EmailSettings,
    EmailUnavailableError,
    MessageRejectedError,
    OutgoingEmail,
    RecipientRefusedError,
    message_id_for,
)
from connectors.email.sandbox import SmtpSandbox
from connectors.errors import BusinessRuleError, IntegrationError, TransientError
from connectors.sandbox_support import FaultSpec
from connectors.servers import free_port

HETU = "150385-9046"
AINO = "aino.virtanen@example.org"
XLSX = b"PK\x03\x04 not really a workbook, but bytes all the same"
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Kuntaflow//FI\r\nBEGIN:VEVENT\r\nUID:1@kuntaflow\r\n"
    "DTSTART:20270104T080000Z\r\nSUMMARY:Ensimmäinen työpäivä\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=10, cap=True):
        yield


@pytest.fixture
def smtp() -> Iterator[SmtpSandbox]:
    with SmtpSandbox(faults=FaultSpec()) as sandbox:
        yield sandbox


@pytest.fixture
def client(smtp) -> EmailClient:
    return EmailClient(smtp.settings(retry_attempts=3))


def welcome(**fields) -> OutgoingEmail:
    values = {
        "to": [AINO],
        "subject": "Tervetuloa Helsingin kaupungille",
        "text": "Hei Aino,\n\nensimmäinen työpäiväsi on 4.1.2027 Malmin terveysasemalla.\n",
        "idempotency_key": "employment_start:42:welcome",
    }
    return OutgoingEmail(**(values | fields))


# ------------------------------------------------------------------------------- happy path


def test_sends_text_html_and_attachments_that_arrive_intact(client, smtp):
    email = welcome(
        html="<p>Hei Aino,</p><p>ensimmäinen työpäiväsi on <b>4.1.2027</b>.</p>",
        cc=["esihenkilo.malmi@example.org"],
        attachments=[EmailAttachment.calendar("ensimmainen-paiva.ics", ICS), EmailAttachment.excel("raportti.xlsx", XLSX)],
    )
    result = client.send(email)
    assert (result.accepted, result.already_delivered, result.refused) == (2, False, {})
    assert result.message_id == message_id_for("employment_start:42:welcome", "kuntaflow.example")
    [received] = smtp.mailbox.messages
    assert received.recipients == [AINO, "esihenkilo.malmi@example.org"]
    assert received.message_id == result.message_id
    assert received.subject == "Tervetuloa Helsingin kaupungille"
    assert received.sender == "Kuntaflow-kaupunki <no-reply@kuntaflow.example>"
    assert received.text.startswith("Hei Aino,\n\nensimmäinen työpäiväsi")
    assert "<b>4.1.2027</b>" in received.html
    assert received.parsed["Auto-Submitted"] == "auto-generated"
    ics, xlsx = received.attachments
    assert (ics.filename, ics.content.decode()) == ("ensimmainen-paiva.ics", ICS)
    assert ics.content_type.startswith("text/calendar") and 'method="REQUEST"' in ics.content_type
    assert (xlsx.filename, xlsx.content) == ("raportti.xlsx", XLSX)
    assert xlsx.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_the_message_id_comes_from_the_key_and_hides_its_wording():
    one = message_id_for("employment_start:42:welcome", "hel.fi")
    assert one == message_id_for("employment_start:42:welcome", "hel.fi") != message_id_for("employment_start:43:welcome", "hel.fi")
    assert one.startswith("<kf-") and one.endswith("@hel.fi>") and "welcome" not in one


def test_build_message_is_a_well_formed_mime_tree(client):
    message = client.build_message(welcome(html="<p>Hei</p>", attachments=[EmailAttachment.excel("r.xlsx", XLSX)], reply_to="hr@example.org"))
    assert isinstance(message, EmailMessage) and message.get_content_type() == "multipart/mixed"
    assert [part.get_content_type() for part in message.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ]
    assert message["Reply-To"] == "hr@example.org"


# ------------------------------------------------------------------------------- idempotency


def test_the_same_key_twice_is_delivered_once(client, smtp):
    first = client.send(welcome())
    again = client.send(welcome(text="A reworded body does not make it another message.\n"))
    assert (first.already_delivered, again.already_delivered) == (False, True)
    assert again.message_id == first.message_id
    assert len(smtp.mailbox.to(AINO)) == 1
    assert smtp.mailbox.duplicates[first.message_id] == 1


def test_a_send_whose_answer_was_lost_is_resent_and_not_delivered_twice(client, smtp):
    smtp.faults.fail_next(1, kind="lost_response")
    result = client.send(welcome())
    assert result.already_delivered
    assert len(smtp.mailbox.messages) == 1
    assert [f.kind for f in smtp.faults.injected] == ["lost_response"]


def test_a_connection_dropped_before_delivery_is_resent_and_delivered(client, smtp):
    smtp.faults.fail_next(1, kind="drop")
    result = client.send(welcome())
    assert not result.already_delivered and len(smtp.mailbox.messages) == 1


# ------------------------------------------------------------------------------- transient failures


@pytest.mark.parametrize("kind", ["error", "rate_limit"])
def test_temporary_failures_are_retried_then_succeed(client, smtp, kind):
    smtp.faults.fail_next(2, kind=kind)
    result = client.send(welcome())
    assert not result.already_delivered
    assert len(smtp.mailbox.messages) == 1
    assert [f.kind for f in smtp.faults.injected] == [kind, kind]


def test_temporary_failures_past_the_attempts_are_email_unavailable(client, smtp):
    smtp.faults.fail_next(5, kind="error")
    with pytest.raises(EmailUnavailableError) as raised:
        client.send(welcome())
    assert isinstance(raised.value, TransientError)
    assert (raised.value.code, raised.value.status_code) == ("SMTP_451", 451)
    assert str(raised.value) == "SMTP_451: email: DATA answered 451 4.3.0"
    assert len(smtp.faults.injected) == 3 and not smtp.mailbox.messages


def test_a_configured_failure_rate_is_ridden_out():
    with SmtpSandbox(faults=FaultSpec(error_rate=0.3, seed=4)) as smtp:
        client = EmailClient(smtp.settings(retry_attempts=10))
        for number in range(8):
            client.send(welcome(idempotency_key=f"mass_recruitment:job-7:invite:{number}"))
        assert len(smtp.mailbox.messages) == 8
        assert smtp.faults.injected, "the seeded rate injected at least one failure"


def test_nobody_listening_is_email_unavailable():
    client = EmailClient(EmailSettings(port=free_port(), retry_attempts=2))
    with pytest.raises(EmailUnavailableError) as raised:
        client.send(welcome())
    assert raised.value.code == "CONNECT_FAILED"


def test_a_server_that_stops_answering_times_out():
    with SmtpSandbox(faults=FaultSpec(hang_seconds=2)) as smtp:
        smtp.faults.fail_next(1, kind="timeout")
        client = EmailClient(smtp.settings(timeout_seconds=0.3, retry_attempts=1))
        with pytest.raises(EmailUnavailableError) as raised:
            client.send(welcome())
    assert raised.value.code == "TIMEOUT"


# ------------------------------------------------------------------------------- permanent failures


def test_an_unknown_recipient_is_a_business_case_and_the_address_stays_out_of_the_message(client, smtp):
    with pytest.raises(RecipientRefusedError) as raised:
        client.send(welcome(to=["ei.ole@tuntematon.invalid"]))
    error = raised.value
    assert isinstance(error, BusinessRuleError)
    assert (error.code, error.status_code, error.refused) == ("EMAIL_RECIPIENT_REFUSED", 550, {"ei.ole@tuntematon.invalid": 550})
    assert "tuntematon" not in str(error) and "tuntematon" not in repr(error)
    assert not smtp.mailbox.messages


def test_a_refused_recipient_among_good_ones_is_reported_and_the_rest_delivered(client, smtp):
    smtp.mailbox.unknown_recipients.add("lahtenyt@example.org")
    result = client.send(welcome(cc=["lahtenyt@example.org"]))
    assert (result.accepted, result.refused) == (1, {"lahtenyt@example.org": 550})
    assert smtp.mailbox.messages[0].recipients == [AINO]
    assert "lahtenyt" not in repr(result)


def test_a_message_too_large_for_the_server_is_rejected():
    with SmtpSandbox(faults=FaultSpec(), max_message_bytes=2_000) as smtp:
        client = EmailClient(smtp.settings())
        with pytest.raises(MessageRejectedError) as raised:
            client.send(welcome(attachments=[EmailAttachment.excel("iso.xlsx", b"x" * 5_000)]))
    assert isinstance(raised.value, BusinessRuleError)
    assert (raised.value.code, raised.value.status_code) == ("EMAIL_REJECTED_552", 552)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_smtp_auth_with_the_right_credentials_sends():
    with SmtpSandbox(faults=FaultSpec(), credentials={"kuntaflow": "salasana"}) as smtp:
        client = EmailClient(smtp.settings(username="kuntaflow", password=SecretStr("salasana")))
        assert client.send(welcome()).accepted == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
@pytest.mark.parametrize("credentials", [{"username": "kuntaflow", "password": SecretStr("vaara-salasana")}, {}], ids=["wrong", "none"])
def test_refused_or_missing_smtp_credentials_are_an_integration_error(credentials):
    with SmtpSandbox(faults=FaultSpec(), credentials={"kuntaflow": "salasana"}) as smtp:
        client = EmailClient(smtp.settings(**credentials))
        with pytest.raises(EmailAuthenticationError) as raised:
            client.send(welcome())
    assert isinstance(raised.value, IntegrationError) and raised.value.status_code in (530, 535)
    assert "vaara" not in str(raised.value)


def test_starttls_with_auth_over_tls_sends():
    with SmtpSandbox(faults=FaultSpec(), credentials={"kuntaflow": "salasana"}, tls=True) as smtp:
        settings = smtp.settings(username="kuntaflow", password=SecretStr("salasana"))
        assert settings.starttls and settings.ca_file == smtp.ca_file
        assert EmailClient(settings).send(welcome()).accepted == 1
        with pytest.raises(EmailAuthenticationError) as plain:
            EmailClient(smtp.settings(starttls=False, username="kuntaflow", password=SecretStr("salasana"))).send(welcome(idempotency_key="k2"))
    assert len(smtp.mailbox.messages) == 1 and plain.value.code == "EMAIL_AUTHENTICATION"


def test_an_untrusted_tls_certificate_is_a_settings_problem_not_an_outage():
    with SmtpSandbox(faults=FaultSpec(), tls=True) as smtp, pytest.raises(EmailAuthenticationError) as raised:
        EmailClient(smtp.settings(ca_file=None)).send(welcome())
    assert raised.value.code == "TLS_UNTRUSTED" and not smtp.mailbox.messages


# ------------------------------------------------------------------------------- privacy and validation


def test_a_hetu_anywhere_in_the_message_is_refused_before_sending():
    for fields in ({"text": f"Henkilötunnus {HETU}"}, {"subject": f"Hakemus {HETU}"}, {"attachments": [EmailAttachment.calendar(f"{HETU}.ics", ICS)]}):
        with pytest.raises(ValidationError, match="holds a henkilötunnus") as raised:
            welcome(**fields)
        assert HETU not in str(raised.value)


def test_nothing_personal_reaches_the_log_or_the_model_repr(client, smtp, caplog):
    caplog.set_level(logging.DEBUG)
    email = welcome()
    client.send(email)
    smtp.faults.fail_next(5, kind="error")
    with pytest.raises(EmailUnavailableError) as raised:
        client.send(welcome(idempotency_key="employment_start:42:reminder"))
    for text in (caplog.text, repr(email), str(email), str(raised.value), repr(raised.value)):
        assert AINO not in text and "Aino" not in text and "Tervetuloa" not in text
    assert "sent <kf-" in caplog.text


@pytest.mark.parametrize(
    "fields",
    [{"to": []}, {"to": ["not an address"]}, {"to": ["äiti@example.org"]}, {"subject": "two\nlines"}, {"idempotency_key": "has space"}],
)
def test_malformed_messages_are_refused_with_a_clear_error(fields):
    with pytest.raises(ValidationError):
        welcome(**fields)


def test_attachment_content_types_are_checked():
    with pytest.raises(ValidationError, match="type/subtype"):
        EmailAttachment(filename="x.bin", content=b"x", content_type="nonsense")
    with pytest.raises(ValidationError, match="path separators"):
        EmailAttachment(filename="../x.pdf", content=b"x", content_type="application/pdf")


def test_settings_refuse_contradictions():
    with pytest.raises(ValidationError, match="not both"):
        EmailSettings(starttls=True, use_ssl=True)
    with pytest.raises(ValidationError, match="go together"):
        EmailSettings(username="kuntaflow")
    with pytest.raises(ValidationError, match="ASCII"):
        EmailSettings(username="kuntaflow", password=SecretStr("väärä"))
    assert EmailSettings(from_address="rekrytointi@hel.fi").id_domain == "hel.fi"
