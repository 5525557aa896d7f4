"""The Suomi.fi Messages sandbox's pages for people: every test citizen's mailbox, as a citizen would see it.

Server-rendered HTML (Jinja2), Finnish first, then Swedish and English. Under ``/_sandbox/`` so
fault injection never touches them. A person can open or close a mailbox (to see the paper
fallback), open a message (which produces the ``Electronic message read`` event), answer a message that
allows replies (the ``Electronic message from end user`` event; sandbox-only: in the real service
the citizen writes in the Suomi.fi mailbox) and download attachments and the printed letters' PDFs. Hetus are shown masked; page URLs carry a running
number or the shared population's key (``/_sandbox/people/aino``), never the hetu.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from connectors.suomifi_viestit.sandbox.store import ViestitStore

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def install_pages(app: FastAPI, store: ViestitStore) -> None:
    """Add the mailbox pages to the sandbox app."""

    @app.get("/_sandbox/mailboxes", response_class=HTMLResponse, name="mailboxes")
    async def mailboxes(request: Request) -> Response:
        rows = [(recipient, len(store.messages_to(recipient.hetu))) for recipient in store.recipient_list()]
        return TEMPLATES.TemplateResponse(request, "mailboxes.html", {"rows": rows})

    @app.get("/_sandbox/mailboxes/{key}", response_class=HTMLResponse, name="mailbox")
    async def mailbox(request: Request, key: int) -> Response:
        recipient = store.recipient_by_key(key)
        if recipient is None:
            return TEMPLATES.TemplateResponse(request, "not_found.html", {}, status_code=404)
        messages = sorted(store.messages_to(recipient.hetu), key=lambda m: m.message_id, reverse=True)
        context: dict[str, Any] = {"recipient": recipient, "messages": messages}
        return TEMPLATES.TemplateResponse(request, "mailbox.html", context)

    @app.get("/_sandbox/people/{person_key}", name="person_mailbox")
    async def person_mailbox(request: Request, person_key: str) -> Response:
        """The mailbox of a person in the shared sandbox population, by the key the IdP uses."""
        recipient = store.recipient_by_person_key(person_key)
        if recipient is None:
            return TEMPLATES.TemplateResponse(request, "not_found.html", {}, status_code=404)
        return RedirectResponse(request.url_for("mailbox", key=recipient.key), status_code=303)

    @app.post("/_sandbox/mailboxes/{key}/state", name="set_mailbox")
    async def set_mailbox(request: Request, key: int, active: str = Form(...)) -> Response:
        recipient = store.recipient_by_key(key)
        if recipient is None:
            return TEMPLATES.TemplateResponse(request, "not_found.html", {}, status_code=404)
        store.set_mailbox(recipient.hetu, active == "1")
        return RedirectResponse(request.url_for("mailbox", key=key), status_code=303)

    @app.post("/_sandbox/messages/{message_id}/read", name="mark_read")
    async def mark_read(request: Request, message_id: int) -> Response:
        message = store.mark_read(message_id)
        if message is None:
            return TEMPLATES.TemplateResponse(request, "not_found.html", {}, status_code=404)
        recipient = store.recipients[message.recipient_id]
        return RedirectResponse(request.url_for("mailbox", key=recipient.key), status_code=303)

    @app.post("/_sandbox/messages/{message_id}/reply", name="reply")
    async def reply(request: Request, message_id: int, title: str = Form(""), body: str = Form("")) -> Response:
        """The recipient answers the message, as in the Suomi.fi mailbox (sandbox only)."""
        original = store.messages.get(message_id)
        if original is None or original.recipient_id is None:
            return TEMPLATES.TemplateResponse(request, "not_found.html", {}, status_code=404)
        try:
            store.receive_reply(message_id, title or f"Vs: {original.title}", body)
        except (LookupError, ValueError) as refused:
            return PlainTextResponse(f"Vastausta ei lähetetty · Svaret skickades inte · Reply not sent: {refused}", status_code=400)
        recipient = store.recipients[original.recipient_id]
        return RedirectResponse(request.url_for("mailbox", key=recipient.key), status_code=303)

    @app.get("/_sandbox/attachments/{attachment_id}", name="attachment")
    async def attachment(request: Request, attachment_id: str) -> Response:
        stored = store.attachments.get(attachment_id)
        if stored is None:
            return TEMPLATES.TemplateResponse(request, "not_found.html", {}, status_code=404)
        return Response(stored.content, media_type=stored.media_type, headers=_inline(stored.filename))

    @app.get("/_sandbox/letters/{message_id}.pdf", name="letter_pdf")
    async def letter_pdf(request: Request, message_id: int) -> Response:
        message = store.messages.get(message_id)
        if message is None or message.paper is None:
            return TEMPLATES.TemplateResponse(request, "not_found.html", {}, status_code=404)
        return Response(message.paper.pdf.content, media_type="application/pdf", headers=_inline(f"kirje-{message_id}.pdf"))


def _inline(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}"}
