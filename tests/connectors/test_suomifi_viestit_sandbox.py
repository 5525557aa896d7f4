"""The Suomi.fi Messages sandbox on its own: auth, the spec's error shapes, per-system scoping, faults, the mailbox pages."""

from __future__ import annotations

import re
from datetime import date

import httpx
import pytest
from pydantic import SecretStr

from connectors.sandbox_support import FaultSpec, SyncASGITransport
from connectors.suomifi_viestit.models import ATTACHMENT_MAX_BYTES
from connectors.suomifi_viestit.sandbox import OPERATIONS, PAGES, create_app
from connectors.suomifi_viestit.sandbox.seed import TEST_CITIZENS
from connectors.suomifi_viestit.settings import SANDBOX_PASSWORD, SANDBOX_SERVICE_ID, SANDBOX_USERNAME
from schemas.hetu import parse_hetu
from schemas.redaction import HETU_PATTERN

AINO, MIKKO = "150385-9046", "070779-912Y"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
ADDRESS = {"name": "Mikko Korhonen", "streetAddress": "Keskustie 5", "zipCode": "44100", "city": "Äänekoski", "countryCode": "FI"}
ELECTRONIC = {
    "title": "Kirjastokortti",
    "body": "Korttisi on valmis.",
    "bodyFormat": "Text",
    "messageServiceType": "Normal",
    "replyAllowedBy": "No one",
    "visibility": "Normal",
    "attachments": [],
    "notifications": {"senderDetailsInNotifications": "Organisation and service name", "unreadMessageNotification": {"reminder": "Default reminder"}},
}


@pytest.fixture
def app():
    return create_app(faults=FaultSpec())


@pytest.fixture
def store(app):
    return app.state.store


SANDBOX_PASSWORD_TEXT = SANDBOX_PASSWORD.get_secret_value()


@pytest.fixture
def http(app):
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://viestit.test") as client:
        yield client


def login(http, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD_TEXT) -> dict[str, str]:
    token = http.post("/v1/token", json={"username": username, "password": password}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def electronic(external_id: str, recipient: str = AINO, **changes) -> dict:
    return {"externalId": external_id, "recipient": {"id": recipient}, "sender": {"serviceId": SANDBOX_SERVICE_ID}, "electronic": {**ELECTRONIC, **changes}}


def multichannel(external_id: str, attachment_id: str, recipient: str = MIKKO, **paper_changes) -> dict:
    paper = {
        "attachments": [{"attachmentId": attachment_id}],
        "colorPrinting": False,
        "createAddressPage": True,
        "messageServiceType": "Normal",
        "rotateLandscapePages": False,
        "twoSidedPrinting": True,
        "printingAndEnvelopingService": {"postiMessaging": {"username": "KFLOW1", "password": "1234", "contactDetails": {"email": "a@b.fi"}}},
        "recipient": {"address": ADDRESS},
        "sender": {"address": {**ADDRESS, "name": "Kaupungin kirjasto"}},
        **paper_changes,
    }
    return {**electronic(external_id, recipient), "paperMail": paper}


def upload(http, auth, content=PDF, media_type="application/pdf", filename="kirje.pdf") -> httpx.Response:
    return http.post("/v2/attachments", files={"file": (filename, content, media_type)}, headers=auth)


# ------------------------------------------------------------------------------- seed and configuration


def test_the_seed_has_adults_with_and_without_a_mailbox():
    adults = [c for c in TEST_CITIZENS if parse_hetu(c.hetu).age_on(date(2026, 1, 1)) >= 18]
    assert any(c.active_mailbox for c in adults) and any(not c.active_mailbox for c in adults)
    assert all(parse_hetu(c.hetu).temporary for c in TEST_CITIZENS)  # test codes only


def test_active_mailboxes_can_be_chosen(monkeypatch):
    chosen = create_app(active_mailboxes=[MIKKO, "010101-123N"], faults=FaultSpec()).state.store
    assert chosen.has_active_mailbox(MIKKO) and chosen.has_active_mailbox("010101-123N") and not chosen.has_active_mailbox(AINO)
    monkeypatch.setenv("KUNTAFLOW_VIESTIT_SANDBOX_ACTIVE_MAILBOXES", f" {AINO} ")
    from_env = create_app(faults=FaultSpec()).state.store
    assert from_env.has_active_mailbox(AINO) and not from_env.has_active_mailbox("210281-9988")


# ------------------------------------------------------------------------------- auth


def test_tokens_are_needed_and_expire(http, store):
    assert http.get("/v2/events").status_code == 401
    auth = login(http)
    assert http.get("/v2/events", headers=auth).status_code == 200
    raw = {"Authorization": auth["Authorization"].removeprefix("Bearer ")}  # some public clients send it bare
    assert http.get("/v2/events", headers=raw).status_code == 200
    store.advance(store.token_ttl_seconds)
    answer = http.get("/v2/events", headers=auth)
    assert answer.status_code == 401 and answer.json() == {"reason": "Unauthorized: the access token is missing, invalid or expired"}


def test_wrong_credentials_and_malformed_token_requests_are_400(http):
    assert http.post("/v1/token", json={"username": SANDBOX_USERNAME, "password": "x"}).json() == {"reason": "Authentication failed"}
    answer = http.post("/v1/token", content=b"username=a&password=b", headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 400 and answer.json() == {"reason": "Request body is not valid JSON"}


def test_every_answer_carries_a_trace_id(http):
    for answer in (http.post("/v1/token", json={}), http.get("/v2/events")):
        assert re.fullmatch(r"[0-9a-f-]{36}", answer.headers["traceId"])


# ------------------------------------------------------------------------------- the spec's error shapes


def test_electronic_400s_are_validation_error_responses_without_the_hetu(http):
    auth = login(http)
    answer = http.post("/v2/messages/electronic", json=electronic("e-1", recipient="150385-9047"), headers=auth)
    assert answer.status_code == 400
    body = answer.json()
    assert set(body) == {"reason", "validationErrors"} and "150385-9047" not in answer.text
    answer = http.post("/v2/messages/electronic", json=electronic("e-2", bodyFormat="HTML", title=""), headers=auth)
    errors = [e["error"] for e in answer.json()["validationErrors"]]
    assert any(e.startswith("electronic.bodyFormat:") for e in errors) and any(e.startswith("electronic.title:") for e in errors)


def test_multichannel_400s_are_error_responses(http):
    auth = login(http)
    answer = http.post("/v2/messages", json=electronic("m-1"), headers=auth)
    assert answer.status_code == 400 and list(answer.json()) == ["reason"] and "paperMail: Field required" in answer.json()["reason"]


def test_unknown_fields_are_accepted_like_the_real_service_and_remembered_so_typos_show(http, store):
    auth = login(http)
    attachment = upload(http, auth).json()["attachmentId"]
    answer = http.post("/v2/messages", json=multichannel("m-2", attachment, colourPrinting=True), headers=auth)
    assert answer.status_code == 200
    assert store.messages[answer.json()["messageId"]].ignored_fields == ["paperMail.colourPrinting"]


def test_an_attachment_without_a_part_content_type_is_typed_by_its_name(http, store):
    """python-requests' files={"file": (name, data)} sends no part Content-Type; the extension decides."""
    auth = login(http)
    typed = http.post("/v2/attachments", files={"file": ("liite.pdf", PDF)}, headers=auth)
    assert typed.status_code == 201 and store.attachments[typed.json()["attachmentId"]].media_type == "application/pdf"
    assert upload(http, auth, b"PK", "application/octet-stream", "taulukko.xlsx").status_code == 201
    assert http.post("/v2/attachments", files={"file": ("ohjelma.exe", b"MZ")}, headers=auth).status_code == 415


STRONG = "Uusi-Salasana-2026-joka-on-riittavan-pitka!"


def test_change_password_takes_the_token_in_the_body_and_the_new_password_works(http, store):
    token = login(http)["Authorization"].removeprefix("Bearer ")
    body = {"accessToken": token, "currentPassword": SANDBOX_PASSWORD_TEXT, "newPassword": STRONG}
    answer = http.post("/v1/change-password", json=body)
    assert answer.status_code == 200 and answer.json() == {}
    assert http.post("/v1/token", json={"username": SANDBOX_USERNAME, "password": SANDBOX_PASSWORD_TEXT}).status_code == 400
    assert http.post("/v1/token", json={"username": SANDBOX_USERNAME, "password": STRONG}).status_code == 200
    # A token issued before the change keeps working until it expires.
    assert http.post("/v1/mailboxes/active", json={"endUsers": [{"id": AINO}]}, headers={"Authorization": token}).status_code == 200


@pytest.mark.parametrize(
    ("current", "new", "reason"),
    [
        ("wrong", STRONG, "Authentication failed"),
        (SANDBOX_PASSWORD_TEXT, "Lyhyt-1!", "shorter than 32"),
        (SANDBOX_PASSWORD_TEXT, "kaikki-pienella-ja-numerot-12345678", "no upper case"),
        (SANDBOX_PASSWORD_TEXT, "IlmanSymbolejaMuttaPitka1234567890", "no symbol"),
    ],
)
def test_change_password_refusals_are_400_error_responses_without_the_password(http, current, new, reason):
    token = login(http)["Authorization"].removeprefix("Bearer ")
    answer = http.post("/v1/change-password", json={"accessToken": token, "currentPassword": current, "newPassword": new})
    assert answer.status_code == 400 and list(answer.json()) == ["reason"] and reason in answer.json()["reason"]
    assert new not in answer.text and current not in answer.text.replace("Authentication failed", "")


def test_change_password_needs_a_live_token_and_may_wait_between_changes():
    app = create_app(faults=FaultSpec(), password_change_interval_seconds=3600)
    http = httpx.Client(transport=SyncASGITransport(app), base_url="http://viestit.test")
    body = {"accessToken": "not-a-token", "currentPassword": SANDBOX_PASSWORD_TEXT, "newPassword": STRONG}
    assert http.post("/v1/change-password", json=body).status_code == 400
    token = login(http)["Authorization"].removeprefix("Bearer ")
    assert http.post("/v1/change-password", json={**body, "accessToken": token}).status_code == 200
    again = {"accessToken": token, "currentPassword": STRONG, "newPassword": STRONG + "2"}
    assert "recently" in http.post("/v1/change-password", json=again).json()["reason"]
    app.state.store.advance(3601)
    token = login(http, password=STRONG)["Authorization"].removeprefix("Bearer ")
    assert http.post("/v1/change-password", json={**again, "accessToken": token}).status_code == 200


def test_paper_mail_without_id_is_printed_and_a_reused_external_id_is_409_without_a_message_id(http, store):
    auth = login(http)
    attachment = upload(http, auth).json()["attachmentId"]
    paper = multichannel("unused", attachment)["paperMail"]
    body = {"externalId": "letter-1", "sender": {"serviceId": SANDBOX_SERVICE_ID}, "paperMail": paper}
    answer = http.post("/v2/paper-mail-without-id", json=body, headers=auth)
    assert answer.status_code == 200
    message = store.messages[answer.json()["messageId"]]
    assert message.channel == "paper" and message.recipient_id is None and message.paper.recipient_address[0] == "Mikko Korhonen"
    assert [e.type for e in store.events_for(SANDBOX_USERNAME)] == ["Paper mail created", "Sent for printing and enveloping"]
    again = http.post("/v2/paper-mail-without-id", json=body, headers=auth)
    assert again.status_code == 409 and list(again.json()) == ["reason"]
    assert http.get("/v1/messages/id", params={"externalId": "letter-1"}, headers=auth).json() == {"messageId": message.message_id}
    assert http.get("/v1/messages/id", params={"externalId": "never"}, headers=auth).status_code == 404


def test_a_citizens_reply_is_an_event_a_message_and_attachments_for_60_days(http, store):
    auth = login(http)
    sent = http.post("/v2/messages/electronic", json=electronic("d-1", replyAllowedBy="Anyone"), headers=auth).json()["messageId"]
    reply = store.receive_reply(sent, "Vs: Kirjastokortti", "Kiitos, kortti on hukassa.", [("kuva.png", "image/png", b"\x89PNG")])
    events = http.get("/v2/events", headers=auth).json()["events"]
    assert events[-1] == {
        "type": "Electronic message from end user",
        "eventTime": events[-1]["eventTime"],
        "metadata": {"messageId": reply.message_id, "serviceId": SANDBOX_SERVICE_ID},
    }
    body = http.get(f"/v2/messages/{reply.message_id}", headers=auth).json()
    assert body["electronic"]["body"] == "Kiitos, kortti on hukassa." and body["electronic"]["thread"] == {"rootMessageId": sent, "threadExternalId": "d-1"}
    assert body["sender"]["mailboxOwner"]["id"] == AINO
    (attachment,) = body["electronic"]["attachments"]
    assert attachment["filename"] == "kuva.png" and attachment["sizeBytes"] == 4
    download = http.get(f"/v1/attachments/{attachment['attachmentId']}", headers=auth)
    assert download.status_code == 200 and download.content == b"\x89PNG" and download.headers["content-type"] == "image/png"
    answer = electronic("d-2", inReplyToMessageId=reply.message_id)
    assert http.post("/v2/messages/electronic", json=answer, headers=auth).status_code == 200
    assert http.get(f"/v2/messages/{sent}", headers=auth).status_code == 404  # our own message is not a citizen's
    assert http.get("/v2/messages/abc", headers=auth).status_code == 400
    assert http.get("/v2/messages/²", headers=auth).status_code == 400  # a digit to str.isdigit, not a number
    store.advance(61 * 24 * 3600)
    auth = login(http)
    assert http.get(f"/v2/messages/{reply.message_id}", headers=auth).status_code == 404
    assert http.get(f"/v1/attachments/{attachment['attachmentId']}", headers=auth).status_code == 404


def test_only_messages_that_allow_replies_can_be_answered(http, store):
    auth = login(http)
    closed = http.post("/v2/messages/electronic", json=electronic("d-3"), headers=auth).json()["messageId"]
    with pytest.raises(LookupError):
        store.receive_reply(closed, "Vs", "Hei")
    open_ = http.post("/v2/messages/electronic", json=electronic("d-4", replyAllowedBy="Anyone"), headers=auth).json()["messageId"]
    with pytest.raises(ValueError, match="title and a body"):
        store.receive_reply(open_, "Vs", "  ")


def test_a_citizen_replies_on_the_mailbox_page(http, store):
    auth = login(http)
    sent = http.post("/v2/messages/electronic", json=electronic("d-5", replyAllowedBy="Anyone"), headers=auth).json()["messageId"]
    page = http.get(f"/_sandbox/mailboxes/{store.recipients[AINO].key}").text
    assert 'for="reply-body-' in page and "Lähetä vastaus" in page
    answer = http.post(f"/_sandbox/messages/{sent}/reply", data={"title": "Vs: Kirjastokortti", "body": "Kiitos!"})
    assert answer.status_code == 303
    (reply,) = store.messages[sent].replies
    assert reply.body == "Kiitos!" and "Kiitos!" in http.get(f"/_sandbox/mailboxes/{store.recipients[AINO].key}").text
    assert http.post(f"/_sandbox/messages/{sent}/reply", data={"title": "x", "body": ""}).status_code == 400


def test_a_country_outside_the_specs_list_is_refused(http):
    auth = login(http)
    attachment = upload(http, auth).json()["attachmentId"]
    body = multichannel("m-3", attachment, recipient={"address": {**ADDRESS, "countryCode": "ZZ"}})
    assert http.post("/v2/messages", json=body, headers=auth).status_code == 400


def test_mailbox_checks_answer_only_active_ids_once(http):
    auth = login(http)
    answer = http.post("/v1/mailboxes/active", json={"endUsers": [{"id": AINO}, {"id": MIKKO}, {"id": AINO}, {"id": "1572860-0"}]}, headers=auth)
    assert answer.json() == {"endUsersWithActiveMailbox": [{"id": AINO}]}
    too_many = {"endUsers": [{"id": AINO}] * 10_001}
    assert http.post("/v1/mailboxes/active", json=too_many, headers=auth).status_code == 400


# ------------------------------------------------------------------------------- attachments


def test_attachment_limits_and_types(http):
    auth = login(http)
    answer = upload(http, auth, content=b"%PDF-" + b"0" * ATTACHMENT_MAX_BYTES)
    assert answer.status_code == 413 and answer.headers["content-type"].startswith("text/plain")
    assert answer.text == "HTTP content length exceeded 10485760 bytes."
    assert upload(http, auth, content=b"PK", media_type="application/zip").status_code == 415
    assert http.post("/v2/attachments", json={"file": "x"}, headers=auth).status_code == 415
    assert http.post("/v2/attachments", files={"other": ("a.txt", b"x", "text/plain")}, headers=auth).status_code == 400
    created = upload(http, auth, content=b"hello", media_type="text/plain; charset=utf-8", filename="ohje.txt")
    assert created.status_code == 201 and re.fullmatch(r"[0-9a-f-]{36}", created.json()["attachmentId"])


def test_systems_do_not_see_each_others_attachments_or_external_ids():
    app = create_app(
        credentials={"city-a": SecretStr("a" * 32), "city-b": SecretStr("b" * 32)},
        service_ids={"city-a": {SANDBOX_SERVICE_ID}, "city-b": {SANDBOX_SERVICE_ID}},
        faults=FaultSpec(),
    )
    http = httpx.Client(transport=SyncASGITransport(app), base_url="http://viestit.test")
    a, b = login(http, "city-a", "a" * 32), login(http, "city-b", "b" * 32)
    attachment = upload(http, a).json()["attachmentId"]
    answer = http.post("/v2/messages", json=multichannel("same-id", attachment), headers=b)
    assert answer.status_code == 400 and "not found" in answer.json()["reason"]
    assert http.post("/v2/messages", json=multichannel("same-id", attachment), headers=a).status_code == 200
    assert http.post("/v2/messages/electronic", json=electronic("same-id"), headers=b).status_code == 200
    first_a = http.get("/v2/events", headers=a).json()
    assert {e["metadata"]["externalId"] for e in first_a["events"]} == {"same-id"} and len(first_a["events"]) == 2
    assert http.get("/v2/events", params={"continuationToken": first_a["continuationToken"]}, headers=b).status_code == 400


# ------------------------------------------------------------------------------- faults


def test_faults_answer_in_the_specs_error_shape_and_spare_the_pages(app, http):
    app.state.faults.configure(error_rate=1.0, error_status=502)
    answer = http.post("/v1/token", json={})
    assert answer.status_code == 502 and set(answer.json()) == {"reason"}
    assert http.get("/_sandbox/mailboxes").status_code == 200


# ------------------------------------------------------------------------------- mailbox pages


def test_the_mailbox_pages_show_messages_and_letters_without_hetus(http, store):
    auth = login(http)
    text = upload(http, auth, content=b"Tervetuloa", media_type="text/plain", filename="ohje.txt").json()["attachmentId"]
    http.post("/v2/messages/electronic", json=electronic("p-1", attachments=[{"attachmentId": text}], title="Kortti <valmis>"), headers=auth)
    pdf = upload(http, auth).json()["attachmentId"]
    letter_id = http.post("/v2/messages", json=multichannel("p-2", pdf), headers=auth).json()["messageId"]

    mikko_page = http.get("/_sandbox/people/mikko")  # the shared population's key finds the mailbox
    assert mikko_page.status_code == 303 and http.get("/_sandbox/people/nobody").status_code == 404
    mikko_path = mikko_page.headers["location"].removeprefix("http://viestit.test")
    pages = [http.get(path) for path in ["/_sandbox/mailboxes", "/_sandbox/mailboxes/1", mikko_path]]
    assert all(page.status_code == 200 for page in pages)
    assert all(HETU_PATTERN.search(page.text) is None for page in pages)
    listing, aino, mikko = (page.text for page in pages)
    assert "150385-****" in listing and "Aino Virtanen" in listing and "Mikko Korhonen" in listing
    assert "Kortti &lt;valmis&gt;" in aino and "ohje.txt" in aino and "Merkitse luetuksi" in aino
    assert "Paperikirje" in mikko and "Kaupungin kirjasto" in mikko and f"/_sandbox/letters/{letter_id}.pdf" in mikko

    letter = http.get(f"/_sandbox/letters/{letter_id}.pdf")
    assert letter.headers["content-type"] == "application/pdf" and letter.content == PDF
    attachment = http.get(f"/_sandbox/attachments/{text}")
    assert attachment.content == b"Tervetuloa" and "ohje.txt" in attachment.headers["content-disposition"]
    assert http.get("/_sandbox/mailboxes/99").status_code == 404
    assert http.get(f"/_sandbox/letters/{letter_id + 99}.pdf").status_code == 404


def test_a_person_can_open_a_mailbox_and_read_a_message(http, store):
    auth = login(http)
    mikko = store.recipients[MIKKO].key
    answer = http.post(f"/_sandbox/mailboxes/{mikko}/state", data={"active": "1"})
    assert answer.status_code == 303 and answer.headers["location"].endswith(f"/_sandbox/mailboxes/{mikko}")
    assert store.has_active_mailbox(MIKKO)
    message_id = http.post("/v2/messages/electronic", json=electronic("r-1", recipient=MIKKO), headers=auth).json()["messageId"]
    assert http.post(f"/_sandbox/messages/{message_id}/read").status_code == 303
    events = http.get("/v2/events", headers=auth).json()["events"]
    assert [e["type"] for e in events] == ["Electronic message created", "Electronic message read"]
    assert "Luettu" in http.get(f"/_sandbox/mailboxes/{mikko}").text
    http.post(f"/_sandbox/mailboxes/{mikko}/state", data={"active": "0"})
    assert not store.has_active_mailbox(MIKKO)


def test_unknown_recipients_get_a_mailbox_page_too(http, store):
    auth = login(http)
    pdf = upload(http, auth).json()["attachmentId"]
    http.post("/v2/messages", json=multichannel("u-1", pdf, recipient="010101-123N"), headers=auth)
    newcomer = store.recipients["010101-123N"]
    assert newcomer.name is None and newcomer.masked_hetu == "010101-****"
    page = http.get(f"/_sandbox/mailboxes/{newcomer.key}").text
    assert "Tuntematon vastaanottaja" in page and "010101-123N" not in page


def test_the_pages_the_index_advertises_exist(http):
    for _, path in PAGES:
        assert http.get(path).status_code == 200


def test_the_operations_the_sandbox_lists_are_exactly_its_api_routes(app):
    served = {
        f"{method.upper()} {re.sub(r'{[^}]+}', '{id}', path)}" for path, item in app.openapi()["paths"].items() if path.startswith("/v") for method in item
    }
    assert served == OPERATIONS
