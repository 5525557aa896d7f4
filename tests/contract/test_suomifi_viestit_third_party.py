"""A Suomi.fi Messages client nobody here wrote, against the sandbox on a real port.

The client is the City of Helsinki's ``django-helsinki-suomifi-messages`` 1.0.0 (PyPI, MIT;
github.com/City-of-Helsinki/django-helsinki-suomifi-messages, ``suomifi_messages/client.py``), a
dev dependency. It talks ``requests`` to the API root (``urljoin`` with absolute paths, so the
sandbox is served at the root as the real service is, not under the local stack's mount), sends
the raw token in ``Authorization`` (no ``Bearer``), uploads attachments without a part
Content-Type, and takes its Posti account from its settings object (Django's ``SUOMIFI_*``). Every exchange it makes is also
checked against the spec (shared/specs/suomifi/messages-rest/messages-api.yaml), so where it and
the sandbox disagree the spec decides.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from types import SimpleNamespace

import pytest
from suomifi_messages import SuomiFiClient, SuomiFiClientError, SuomiFiDuplicateMessageError, app_settings
from suomifi_messages.schemas import Address, BodyFormat, EventType

from connectors.letters.pdf import Letter, PostalAddress, render_letter
from connectors.sandbox_support import FaultSpec
from connectors.servers import free_port, serve_in_thread
from connectors.suomifi_viestit.sandbox import OPERATIONS, create_app
from connectors.suomifi_viestit.settings import SANDBOX_PASSWORD, SANDBOX_POSTI_PASSWORD, SANDBOX_POSTI_USERNAME, SANDBOX_SERVICE_ID, SANDBOX_USERNAME

SPEC = "suomifi/messages-rest/messages-api.yaml"
AINO, MIKKO = "150385-9046", "070779-912Y"  # an active mailbox; none (paper)
MIKKO_ADDRESS = Address(name="Mikko Korhonen", street_address="Keskustie 5", zip_code="44100", city="Äänekoski", country_code="FI")
LIBRARY = Address(name="Kaupunginkirjasto", street_address="Kirjastonkatu 1", zip_code="40100", city="Jyväskylä", country_code="FI")
NEW_PASSWORD = "Helsingin-Asiakas-Vaihtaa-Salasanan-2026!"
#: Everything the sandbox serves but the messageId lookup, which this client has no method for.
EXERCISED = OPERATIONS - {"GET /v1/messages/id"}


@pytest.fixture(scope="module")
def served(recording_asgi) -> Iterator[tuple[object, object, str]]:
    """The sandbox at the root of a free port, behind a recorder of every exchange."""
    # Its settings object (Django's SUOMIFI_* settings) is replaced for the module instead of configuring
    # Django, whose settings are per process and may belong to another test's Django app.
    posti = SimpleNamespace(
        USERNAME="",
        PASSWORD="",
        SERVICE_ID="",
        POSTI_EMAIL="viestit@kuntaflow.example",
        POSTI_USERNAME=SANDBOX_POSTI_USERNAME,
        POSTI_PASSWORD=SANDBOX_POSTI_PASSWORD.get_secret_value(),
    )
    app = create_app(faults=FaultSpec())
    port = free_port()
    recorder = recording_asgi(app, f"http://127.0.0.1:{port}")
    with pytest.MonkeyPatch.context() as patch, serve_in_thread(recorder, port=port) as url:
        patch.setattr(app_settings, "_settings", posti)
        yield app, recorder, url


def _client(url: str) -> SuomiFiClient:
    client = SuomiFiClient(type="qa")
    client.base_url = url  # its hosts are fixed; the attribute is what every call joins onto
    return client


def _pdf() -> bytes:
    return render_letter(
        Letter(
            sender=PostalAddress(name="Kaupunginkirjasto", street_address="Kirjastonkatu 1", zip_code="40100", city="Jyväskylä"),
            recipient=PostalAddress(name="Mikko Korhonen", street_address="Keskustie 5", zip_code="44100", city="Äänekoski"),
            dated=date(2026, 3, 2),
            title="Päätös",
            paragraphs=["Hakemuksesi on hyväksytty."],
        )
    )


def test_helsinkis_client_does_everything_a_sender_does_and_the_spec_agrees(served, openapi_contract):
    app, recorder, url = served
    store = app.state.store
    client = _client(url)
    client.login(SANDBOX_USERNAME, SANDBOX_PASSWORD.get_secret_value())

    assert client.check_mailboxes([AINO, MIKKO]) == [AINO]
    assert client.check_mailbox(MIKKO) is False
    note = client.upload_attachment("ohje.txt", b"Tervetuloa kirjastoon!")
    pdf = client.upload_attachment("paatos.pdf", _pdf())
    assert store.attachments[note].media_type == "text/plain" and store.attachments[pdf].media_type == "application/pdf"

    message_id, external_id = client.send_electronic_message(
        "Kirjastokortti", "Korttisi on valmis.", BodyFormat.TEXT, AINO, service_id=SANDBOX_SERVICE_ID, attachment_ids=[note], reply_allowed=True
    )
    with pytest.raises(SuomiFiDuplicateMessageError) as duplicate:
        client.send_electronic_message("Kirjastokortti", "Uudestaan", BodyFormat.TEXT, AINO, service_id=SANDBOX_SERVICE_ID, external_id=external_id)
    assert duplicate.value.message_id == message_id
    with pytest.raises(SuomiFiClientError) as no_mailbox:
        client.send_electronic_message("Kirjastokortti", "x", BodyFormat.TEXT, MIKKO, service_id=SANDBOX_SERVICE_ID)
    assert no_mailbox.value.response_body["validationErrors"][0]["errorCode"] == "MAILBOX_NOT_IN_USE"

    letter_id, _ = client.send_multichannel_message(
        "Päätös", "Päätös liitteenä.", BodyFormat.MARKDOWN, MIKKO, MIKKO_ADDRESS, LIBRARY, pdf, service_id=SANDBOX_SERVICE_ID
    )
    assert store.messages[letter_id].channel == "paper" and store.messages[letter_id].paper.options["colorPrinting"] is True
    posted_id, posted_external = client.send_paper_mail_without_id(MIKKO_ADDRESS, LIBRARY, pdf, service_id=SANDBOX_SERVICE_ID)
    assert store.messages[posted_id].recipient_id is None
    with pytest.raises(SuomiFiDuplicateMessageError) as posted_again:
        client.send_paper_mail_without_id(MIKKO_ADDRESS, LIBRARY, pdf, service_id=SANDBOX_SERVICE_ID, external_id=posted_external)
    assert posted_again.value.message_id is None  # the spec's 409 here is ErrorResponseV1: no messageId

    reply = store.receive_reply(message_id, "Vs: Kirjastokortti", "Kiitos! Kortti on hukassa.", [("kuva.png", "image/png", b"\x89PNG")])
    events, token = client.get_events()
    assert [e.type for e in events].count(EventType.ELECTRONIC_MESSAGE_FROM_END_USER) == 1
    assert client.get_events(token)[0] == []  # nothing more for now
    (event,) = [e for e in events if e.type == EventType.ELECTRONIC_MESSAGE_FROM_END_USER]
    received = client.get_message(event.metadata.message_id)
    assert received.message_id == reply.message_id and received.electronic.body == "Kiitos! Kortti on hukassa."
    assert received.electronic.thread.root_message_id == message_id and received.electronic.thread.thread_external_id == external_id
    assert received.sender.mailbox_owner.id == AINO
    assert client.get_attachment(received.electronic.attachments[0].attachment_id) == b"\x89PNG"
    answer_id, _ = client.send_electronic_message(
        "Vs: Kirjastokortti", "Uusi kortti on tilattu.", BodyFormat.TEXT, AINO, service_id=SANDBOX_SERVICE_ID, reply_to=reply.message_id
    )
    assert store.messages[answer_id].request["electronic"]["inReplyToMessageId"] == reply.message_id

    client.change_password(SANDBOX_PASSWORD.get_secret_value(), NEW_PASSWORD)
    with pytest.raises(SuomiFiClientError):
        _client(url).login(SANDBOX_USERNAME, SANDBOX_PASSWORD.get_secret_value())
    client.login(SANDBOX_USERNAME, NEW_PASSWORD)
    assert client.check_mailbox(AINO)
    assert all(message.ignored_fields == [] for message in store.messages.values())

    contract = openapi_contract(SPEC, servers=[url])
    report = contract.check(recorder.exchanges)
    assert report.uncovered == []
    assert report.violations == [], "\n".join(report.violations)
    assert {contract.operation_of(exchange) for exchange in recorder.exchanges} == EXERCISED
