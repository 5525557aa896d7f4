"""The web half of the e-mail sandbox (FastAPI): mailbox pages for people and a JSON API for tests and robots.

Pages (HTML, Finnish first): ``/_sandbox/mailbox`` (every recipient with a count),
``/_sandbox/mailbox/{address}`` (the messages to one address, with the HTML version, attachments
and the raw .eml). JSON: ``GET /_sandbox/api/messages?to=&message_id=&subject=`` (summaries,
oldest first), ``GET /_sandbox/api/messages/{number}`` (with text and HTML bodies), ``DELETE
/_sandbox/api/messages`` (empty the mailbox). Everything is under ``/_sandbox/``, so fault
injection never touches it; the SMTP faults live on :class:`SmtpSandbox`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from connectors.email.sandbox.mailbox import Mailbox

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def create_app(mailbox: Mailbox | None = None) -> FastAPI:
    """Build the mailbox web app over ``mailbox`` (a new one by default); ``app.state.store`` is it.

    Start an :class:`~connectors.email.sandbox.smtp.SmtpSandbox` on the same mailbox to fill it.
    """
    app = FastAPI(title="Sähköposti · E-mail (Kuntaflow sandbox)", version="1", docs_url="/docs")
    app.state.store = mailbox if mailbox is not None else Mailbox()
    app.state.smtp = None  # the SmtpSandbox feeding this mailbox, when one runs (shown on the pages)
    app.include_router(pages)
    app.include_router(api)
    return app


def _not_found(request: Request) -> Response:
    return TEMPLATES.TemplateResponse(request, "not_found.html", {}, status_code=404)


def _store(request: Request) -> Mailbox:
    return request.app.state.store


#: Module-level: each route reaches its app's mailbox (and SMTP server) through ``request.app.state``.
pages = APIRouter()
api = APIRouter()


@pages.get("/_sandbox/mailbox", response_class=HTMLResponse, name="mailboxes")
async def mailboxes(request: Request) -> Response:
    store = _store(request)
    smtp = request.app.state.smtp
    context = {
        "rows": store.recipients(),
        "total": len(store.messages),
        "duplicates": sum(store.duplicates.values()),
        "smtp": f"{smtp.host}:{smtp.port}" if smtp is not None else None,
    }
    return TEMPLATES.TemplateResponse(request, "mailboxes.html", context)


@pages.get("/_sandbox/mailbox/{address}", response_class=HTMLResponse, name="mailbox")
async def mailbox(request: Request, address: str) -> Response:
    store = _store(request)
    messages = list(reversed(store.to(address)))
    return TEMPLATES.TemplateResponse(request, "mailbox.html", {"address": address, "messages": messages})


@pages.get("/_sandbox/messages/{number}.eml", name="raw_message")
async def raw_message(request: Request, number: int) -> Response:
    store = _store(request)
    message = store.get(number)
    if message is None:
        return _not_found(request)
    return Response(message.raw, media_type="message/rfc822", headers=_inline(f"viesti-{number}.eml"))


@pages.get("/_sandbox/messages/{number}/html", name="html_part")
async def html_part(request: Request, number: int) -> Response:
    store = _store(request)
    message = store.get(number)
    if message is None or message.html is None:
        return _not_found(request)
    # The HTML is the sender's: show it sandboxed, with no scripts and nothing loaded from outside.
    return HTMLResponse(message.html, headers={"Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"})


@pages.get("/_sandbox/messages/{number}/attachments/{index}", name="attachment")
async def attachment(request: Request, number: int, index: int) -> Response:
    store = _store(request)
    message = store.get(number)
    if message is None or not 0 <= index < len(message.attachments):
        return _not_found(request)
    part = message.attachments[index]
    return Response(part.content, media_type=part.content_type, headers=_inline(part.filename, disposition="attachment"))


@api.get("/_sandbox/api/messages")
async def list_messages(request: Request, to: str | None = None, message_id: str | None = None, subject: str | None = None) -> JSONResponse:
    store = _store(request)
    messages = store.to(to) if to else list(store.messages)
    if message_id:
        messages = [m for m in messages if m.message_id == message_id.strip()]
    if subject:
        messages = [m for m in messages if subject.casefold() in m.subject.casefold()]
    return JSONResponse([m.summary() for m in messages])


@api.get("/_sandbox/api/messages/{number}")
async def get_message(request: Request, number: int) -> JSONResponse:
    store = _store(request)
    message = store.get(number)
    if message is None:
        return JSONResponse({"error": f"no message {number}"}, status_code=404)
    return JSONResponse(message.details())


@api.delete("/_sandbox/api/messages", status_code=204)
async def clear_messages(request: Request) -> Response:
    store = _store(request)
    store.clear()
    return Response(status_code=204)


def _inline(filename: str, disposition: str = "inline") -> dict[str, str]:
    return {"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(filename)}"}
