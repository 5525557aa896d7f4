"""The e-mail sandbox's web side: mailbox pages (Finnish first), the JSON API, .eml files in the data dir."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from connectors.email import EmailAttachment, EmailClient, EmailSettings, OutgoingEmail
from connectors.email.sandbox import DESCRIPTION, PAGES, TITLE, Mailbox, create_app, serve_smtp
from connectors.sandbox_support import FaultSpec, SyncASGITransport

AINO = "aino.virtanen@example.org"


@pytest.fixture
def app(tmp_path):
    return create_app(Mailbox(data_dir=tmp_path / "eml"))


@pytest.fixture
def web(app) -> Iterator[httpx.Client]:
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://email.test") as client:
        yield client


@pytest.fixture
def sent(app):
    """Two messages to Aino and one to her supervisor, through real SMTP into the app's mailbox."""
    with serve_smtp(app, faults=FaultSpec()) as smtp:
        client = EmailClient(smtp.settings())
        client.send(
            OutgoingEmail(
                to=[AINO],
                subject="Tervetuloa töihin",
                text="Hei Aino!\nTervetuloa.",
                html="<p>Hei <b>Aino</b>!</p><script>alert(1)</script>",
                attachments=[EmailAttachment.calendar("eka-paiva.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")],
                idempotency_key="employment_start:1:welcome",
            )
        )
        client.send(OutgoingEmail(to=[AINO], subject="Muistutus", text="Muistathan verokortin.", idempotency_key="employment_start:1:reminder"))
        client.send(
            OutgoingEmail(to=["satu.lehtonen@example.org"], subject="Uusi työntekijä", text="Aino aloittaa.", idempotency_key="employment_start:1:supervisor")
        )
    return app.state.store


def test_it_describes_itself_for_the_sandbox_index():
    assert TITLE.startswith("Sähköposti") and "SMTP" in DESCRIPTION
    assert ("Postilaatikot · Brevlådor · Mailboxes", "/_sandbox/mailbox") in PAGES


def test_the_index_lists_each_recipient_with_a_count(web, sent):
    page = web.get("/_sandbox/mailbox")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="fi">' in page.text and "Postilaatikot" in page.text
    assert AINO in page.text and "satu.lehtonen@example.org" in page.text
    assert "Yhteensä" in page.text and ": 3" in page.text


def test_a_recipients_page_shows_their_messages_newest_first(web, sent):
    page = web.get(f"/_sandbox/mailbox/{AINO}")
    assert page.status_code == 200
    assert page.text.index("Muistutus") < page.text.index("Tervetuloa töihin")
    assert "Uusi työntekijä" not in page.text
    assert "eka-paiva.ics" in page.text and "Liitteet" in page.text


def test_the_html_part_is_served_sandboxed(web, sent):
    number = sent.to(AINO)[0].number
    part = web.get(f"/_sandbox/messages/{number}/html")
    assert "<b>Aino</b>" in part.text
    assert part.headers["content-security-policy"].startswith("sandbox")


def test_attachments_and_raw_messages_download(web, sent):
    number = sent.to(AINO)[0].number
    ics = web.get(f"/_sandbox/messages/{number}/attachments/0")
    assert ics.content == b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n" and ics.headers["content-type"].startswith("text/calendar")
    raw = web.get(f"/_sandbox/messages/{number}.eml")
    assert raw.headers["content-type"] == "message/rfc822" and b"Subject:" in raw.content
    assert web.get("/_sandbox/messages/99/attachments/0").status_code == 404


def test_the_json_api_filters_by_recipient_message_id_and_subject(web, sent):
    to_aino = web.get("/_sandbox/api/messages", params={"to": AINO.upper()}).json()
    assert [m["subject"] for m in to_aino] == ["Tervetuloa töihin", "Muistutus"]
    message_id = to_aino[1]["message_id"]
    assert [m["number"] for m in web.get("/_sandbox/api/messages", params={"message_id": message_id}).json()] == [to_aino[1]["number"]]
    assert len(web.get("/_sandbox/api/messages", params={"subject": "muistutus"}).json()) == 1
    detail = web.get(f"/_sandbox/api/messages/{to_aino[0]['number']}").json()
    assert detail["text"] == "Hei Aino!\nTervetuloa.\n" and detail["attachments"][0]["filename"] == "eka-paiva.ics"
    assert web.get("/_sandbox/api/messages/42").status_code == 404


def test_messages_are_kept_as_eml_files_and_can_be_cleared(web, sent, tmp_path):
    assert sorted(p.name for p in (tmp_path / "eml").iterdir()) == ["000001.eml", "000002.eml", "000003.eml"]
    assert web.delete("/_sandbox/api/messages").status_code == 204
    assert web.get("/_sandbox/api/messages").json() == []


def test_the_all_sandboxes_server_runs_the_smtp_side_beside_the_pages(monkeypatch, tmp_path):
    from connectors.sandbox_server import create_app as all_sandboxes
    from connectors.servers import free_port, serve_in_thread

    port = free_port()
    monkeypatch.setenv("KUNTAFLOW_EMAIL_SANDBOX_SMTP_PORT", str(port))
    monkeypatch.setenv("KUNTAFLOW_EMAIL_SANDBOX_KEEP_EML", "true")
    server = all_sandboxes(only=["email"])
    with serve_in_thread(server) as url:
        assert server.state.sandboxes["email"].error is None
        sent = EmailClient(EmailSettings(port=port)).send(OutgoingEmail(to=[AINO], subject="Tervetuloa", text="Hei!", idempotency_key="k"))
        page = httpx.get(f"{url}/email/_sandbox/mailbox").text
        assert AINO in page and f"127.0.0.1:{port}" in page
        assert httpx.get(f"{url}/email/_sandbox/api/messages").json()[0]["message_id"] == sent.message_id
    assert [p.name for p in (tmp_path / "kuntaflow-data" / "email-sandbox").iterdir()] == ["000001.eml"]
