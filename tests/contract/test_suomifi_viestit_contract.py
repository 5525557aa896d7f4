"""Every request ViestitClient sends and every answer the Suomi.fi Messages sandbox gives validate against the spec.

Spec: shared/specs/suomifi/messages-rest/messages-api.yaml (OpenAPI 3.0.1, used as it is by
openapi-core through tests/contract/conftest.py; the attachment download's ``content: {}`` is read
as "any body"). Every operation a sender uses is exercised (the sandbox's ``OPERATIONS``), the citizen's reply
coming from the sandbox's ``store.receive_reply``. Besides the client's own calls, raw requests
through the same recorder make the sandbox show each error answer the spec declares (400 shapes
per endpoint, 401, 409, 413 as text/plain, 415, 502), so those are checked too.

Known gap in the spec, not in the sandbox: only ``/v1/mailboxes/active`` declares its 401, yet every
message endpoint needs a token that "expire[s] eventually". The refresh-on-401 path is therefore
exercised here on ``/v1/mailboxes/active``; the 401 body of the other endpoints is the same
``ErrorResponseV1``, checked by ``test_every_401_has_the_declared_shape``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest
import stamina
from pydantic import SecretStr

from connectors.errors import AutomationError
from connectors.http import RetryPolicy
from connectors.letters.pdf import Letter, PostalAddress, render_letter
from connectors.sandbox_support import FaultSpec, SyncASGITransport
from connectors.suomifi_viestit import (
    ElectronicMessage,
    NewElectronicMessage,
    NewMultichannelMessage,
    NewPaperMailWithoutId,
    PaperMail,
    ViestitClient,
    ViestitSettings,
)
from connectors.suomifi_viestit.models import ATTACHMENT_MAX_BYTES
from connectors.suomifi_viestit.sandbox import OPERATIONS, create_app
from connectors.suomifi_viestit.settings import SANDBOX_PASSWORD, SANDBOX_SERVICE_ID, SANDBOX_USERNAME
from schemas.hetu import Hetu

SPEC = "suomifi/messages-rest/messages-api.yaml"
BASE = "http://viestit.test"
AINO, MIKKO = Hetu("150385-9046"), Hetu("070779-912Y")
ADDRESS = PostalAddress(name="Mikko Korhonen", street_address="Keskustie 5", zip_code="44100", city="Äänekoski")
NEW_PASSWORD = SecretStr("Kiertava-Salasana-2026-riittavan-pitka!")


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=10, cap=True):
        yield


@pytest.fixture
def contract(openapi_contract):
    return openapi_contract(SPEC, servers=[BASE])


class _AnyTrace(str):
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str)

    __hash__ = str.__hash__


ANY_TRACE = _AnyTrace()


def _pdf() -> bytes:
    return render_letter(Letter(sender=ADDRESS, recipient=ADDRESS, dated=date(2026, 3, 2), title="Päätös", paragraphs=["Hakemuksesi on hyväksytty."]))


def run_everything_the_client_does(recorder) -> None:
    app = recorder.inner.app
    viestit = ViestitClient(ViestitSettings(base_url=BASE, cost_pool="KIRJASTO1"), transport=recorder, retry=RetryPolicy(attempts=2))
    note = ElectronicMessage(title="Kirjastokortti", body="Korttisi on valmis.")

    viestit.active_mailboxes([AINO, MIKKO])
    app.state.store.expire_tokens()
    viestit.active_mailboxes([AINO])  # 401, a new token, the same request again

    text = viestit.upload_attachment("ohje.txt", b"Tervetuloa!", "text/plain")
    pdf = viestit.upload_attachment("päätös.pdf", _pdf(), "application/pdf")
    custom = {
        "title": {"fi": "Uusi viesti", "sv": "Nytt meddelande", "en": "New message"},
        "content": {"fi": "Kirjasto lähetti viestin.", "sv": "Biblioteket skickade ett meddelande.", "en": "The library sent a message."},
    }
    rich = ElectronicMessage(
        title="Kirjastokortti",
        body="# Tervetuloa\n\n**Korttisi** on valmis.",
        body_format="Markdown",
        reply_allowed_by="Anyone",
        visibility="Recipient only",
        attachments=(text,),
        notifications={"sender_details_in_notifications": "None", "reminder": "No reminders", "customised_new_message_notification": custom},
    )
    sent = viestit.send_electronic(NewElectronicMessage(external_id="c-1", recipient=AINO, electronic=rich))
    assert viestit.send_electronic(NewElectronicMessage(external_id="c-1", recipient=AINO, electronic=note)).already_sent
    with pytest.raises(AutomationError):
        viestit.send_electronic(NewElectronicMessage(external_id="c-2", recipient=MIKKO, electronic=note))  # MAILBOX_NOT_IN_USE
    with pytest.raises(AutomationError):
        viestit.send_electronic(NewElectronicMessage(external_id="c-3", recipient=AINO, electronic=note.model_copy(update={"in_reply_to_message_id": 7})))

    paper = PaperMail(
        attachment=pdf,
        recipient_address=ADDRESS.model_copy(update={"additional_name": "c/o Korhonen"}),
        color_printing=True,
        two_sided_printing=True,
    )
    viestit.send_multichannel(NewMultichannelMessage(external_id="c-4", recipient=MIKKO, electronic=note, paper_mail=paper))
    viestit.send_multichannel(NewMultichannelMessage(external_id="c-5", recipient=AINO, electronic=note, paper_mail=paper))
    assert viestit.send_multichannel(NewMultichannelMessage(external_id="c-4", recipient=MIKKO, electronic=note, paper_mail=paper)).already_sent
    with pytest.raises(AutomationError):
        viestit.send_multichannel(
            NewMultichannelMessage(external_id="c-6", recipient=MIKKO, electronic=note, paper_mail=paper.model_copy(update={"attachment": text}))
        )

    letter = NewPaperMailWithoutId(external_id="c-7", paper_mail=paper)
    posted = viestit.send_paper_mail_without_id(letter)
    assert viestit.send_paper_mail_without_id(letter) == posted.model_copy(
        update={"already_sent": True, "trace_id": ANY_TRACE}
    )  # 409, then GET /v1/messages/id

    app.state.store.mark_read(sent.message_id)
    reply = app.state.store.receive_reply(sent.message_id, "Vs: Kirjastokortti", "Kiitos!", [("kuva.png", "image/png", b"\x89PNG")])
    pages = list(viestit.poll_events())
    assert sum(len(page.events) for page in pages) == 8  # 2 electronic created, 2 x paper created + printed, 1 read, 1 reply
    viestit.events(pages[-1].continuation_token)
    with pytest.raises(AutomationError):
        viestit.events("never-given")
    message = viestit.message_from_end_user(reply.message_id)
    assert viestit.end_user_attachment(message.electronic.attachments[0].attachment_id) == b"\x89PNG"
    with pytest.raises(AutomationError):
        viestit.message_from_end_user(sent.message_id)  # 404: not a citizen's message
    answer = ElectronicMessage(title="Vs: Kirjastokortti", body="Kortti on tilattu.", in_reply_to_message_id=message.message_id)
    viestit.send_electronic(NewElectronicMessage(external_id="c-8", recipient=AINO, electronic=answer))

    assert viestit.password_works(SANDBOX_PASSWORD)
    viestit.change_password(SANDBOX_PASSWORD, NEW_PASSWORD)
    with pytest.raises(AutomationError):
        viestit.change_password(SANDBOX_PASSWORD, NEW_PASSWORD)  # the old one no longer gets a token
    assert viestit.password_works(NEW_PASSWORD) and not viestit.password_works(SANDBOX_PASSWORD)
    assert all(message.ignored_fields == [] for message in app.state.store.messages.values())  # no field the spec lacks


def provoke_every_declared_error(recorder) -> None:
    """Raw requests for the sandbox answers the client never provokes on purpose."""
    http = httpx.Client(transport=recorder, base_url=BASE)
    assert http.post("/v1/token", json={"username": SANDBOX_USERNAME, "password": "wrong"}).status_code == 400
    assert http.post("/v1/token", json={"username": SANDBOX_USERNAME}).status_code == 400
    token = http.post("/v1/token", json={"username": SANDBOX_USERNAME, "password": SANDBOX_PASSWORD.get_secret_value()}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert http.post("/v1/mailboxes/active", json={"endUsers": [{"id": AINO.value}]}).status_code == 401
    assert http.post("/v1/mailboxes/active", json={"endUsers": []}, headers=auth).status_code == 400
    assert http.post("/v2/attachments", files={"file": ("a.zip", b"PK", "application/zip")}, headers=auth).status_code == 415
    too_big = b"%PDF-" + b"0" * ATTACHMENT_MAX_BYTES
    assert http.post("/v2/attachments", files={"file": ("a.pdf", too_big, "application/pdf")}, headers=auth).status_code == 413
    assert http.post("/v2/attachments", files={"file": ("a.txt", b"", "text/plain")}, headers=auth).status_code == 400
    electronic = {"externalId": "raw-1", "recipient": {"id": AINO.value}, "sender": {"serviceId": SANDBOX_SERVICE_ID}, "electronic": {"title": ""}}
    assert http.post("/v2/messages/electronic", json=electronic, headers=auth).status_code == 400
    assert http.post("/v2/messages", json={**electronic, "paperMail": {}}, headers=auth).status_code == 400
    weak = {"accessToken": token, "currentPassword": SANDBOX_PASSWORD.get_secret_value(), "newPassword": "short"}
    assert http.post("/v1/change-password", json=weak).status_code == 400
    assert http.get("/v2/messages/123", headers=auth).status_code == 404
    assert http.get("/v2/messages/abc", headers=auth).status_code == 400
    assert http.get("/v2/messages/123").status_code == 401
    assert http.get("/v1/attachments/123", headers=auth).status_code == 404
    assert http.get("/v1/attachments/123").status_code == 401
    assert http.get("/v1/messages/id", params={"externalId": "none"}, headers=auth).status_code == 404
    assert http.get("/v1/messages/id", params={"externalId": "none"}).status_code == 401
    assert http.post("/v2/paper-mail-without-id", json={"externalId": "raw-2", "sender": {"serviceId": SANDBOX_SERVICE_ID}}, headers=auth).status_code == 400
    recorder.inner.app.state.faults.configure(error_status=502)
    recorder.inner.app.state.faults.fail_next(1, path_prefix="/v2/messages")
    assert http.post("/v2/messages", json=electronic, headers=auth).status_code == 502


def test_every_client_exchange_validates_against_the_spec(contract, recording_transport):
    recorder = recording_transport(SyncASGITransport(create_app(faults=FaultSpec())))
    run_everything_the_client_does(recorder)

    report = contract.check(recorder.exchanges)
    assert report.violations == [], "\n".join(report.violations)
    assert report.uncovered == []
    assert len(report.checked) == len(recorder.exchanges)
    assert {contract.operation_of(exchange) for exchange in recorder.exchanges} == OPERATIONS
    statuses = {(contract.operation_of(e), e.response.status_code) for e in recorder.exchanges}
    assert statuses >= {
        ("POST /v1/token", 200),
        ("POST /v1/mailboxes/active", 200),
        ("POST /v1/mailboxes/active", 401),
        ("POST /v2/attachments", 201),
        ("POST /v2/messages/electronic", 200),
        ("POST /v2/messages/electronic", 409),
        ("POST /v2/messages/electronic", 400),
        ("POST /v2/messages", 200),
        ("POST /v2/messages", 409),
        ("POST /v2/messages", 400),
        ("GET /v2/events", 200),
        ("GET /v2/events", 400),
        ("POST /v1/change-password", 200),
        ("POST /v2/paper-mail-without-id", 200),
        ("POST /v2/paper-mail-without-id", 409),
        ("GET /v1/messages/id", 200),
        ("GET /v2/messages/{id}", 200),
        ("GET /v2/messages/{id}", 404),
        ("GET /v1/attachments/{id}", 200),
    }


def test_every_error_answer_of_the_sandbox_has_the_declared_shape(contract, recording_transport):
    recorder = recording_transport(SyncASGITransport(create_app(faults=FaultSpec())))
    provoke_every_declared_error(recorder)

    report = contract.check(recorder.exchanges)
    assert report.response_violations == [], "\n".join(report.response_violations)
    assert report.uncovered == []
    # The requests built to be wrong are reported as such (and only those).
    wrong_on_purpose = [
        "/v1/token -> 400",
        "/v1/mailboxes/active -> 401",
        "/v1/mailboxes/active -> 400",
        "/v2/messages/electronic -> 400",
        "/v2/messages -> 400",
        "/v2/messages/123 -> 401",
        "/v1/attachments/123 -> 401",
        "/v1/messages/id -> 401",
        "/v2/paper-mail-without-id -> 400",
        "/v2/messages -> 502",
    ]
    assert len(report.request_violations) == len(wrong_on_purpose)
    for violation, wrong in zip(report.request_violations, wrong_on_purpose, strict=True):
        assert wrong in violation
    statuses = {(contract.operation_of(e), e.response.status_code) for e in recorder.exchanges}
    assert statuses >= {
        ("POST /v1/token", 400),
        ("POST /v2/attachments", 400),
        ("POST /v2/attachments", 413),
        ("POST /v2/attachments", 415),
        ("POST /v2/messages", 502),
        ("POST /v1/change-password", 400),
        ("GET /v2/messages/{id}", 400),
        ("GET /v2/messages/{id}", 401),
        ("GET /v2/messages/{id}", 404),
        ("GET /v1/attachments/{id}", 401),
        ("GET /v1/attachments/{id}", 404),
        ("GET /v1/messages/id", 401),
        ("GET /v1/messages/id", 404),
        ("POST /v2/paper-mail-without-id", 400),
    }


def test_the_checker_notices_a_request_off_the_spec(contract, recording_transport):
    """The contract check can fail: a request the spec forbids is reported, not passed."""
    recorder = recording_transport(SyncASGITransport(create_app(faults=FaultSpec())))
    http = httpx.Client(transport=recorder, base_url=BASE)
    token = http.post("/v1/token", json={"username": SANDBOX_USERNAME, "password": SANDBOX_PASSWORD.get_secret_value()}).json()["access_token"]
    http.post("/v1/mailboxes/active", json={"endUsers": [{"id": "too-long-to-be-an-id"}]}, headers={"Authorization": f"Bearer {token}"})
    report = contract.check(recorder.exchanges)
    assert len(report.request_violations) == 1 and "mailboxes/active" in report.request_violations[0]
    assert report.response_violations == []


def test_every_401_has_the_declared_shape(contract, recording_transport):
    """401s the spec does not declare still carry ErrorResponseV1, like the one it does."""
    app = create_app(faults=FaultSpec())
    http = httpx.Client(transport=SyncASGITransport(app), base_url=BASE)
    schema = contract.spec["components"]["schemas"]["ErrorResponseV1"]
    for method, path in [("POST", "/v2/messages"), ("POST", "/v2/messages/electronic"), ("POST", "/v2/attachments"), ("GET", "/v2/events")]:
        response = http.request(method, path, headers={"Authorization": "Bearer expired"})
        body = response.json()
        assert response.status_code == 401 and set(body) == set(schema["properties"]) and isinstance(body["reason"], str)
