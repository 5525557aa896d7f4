"""The Suomi.fi Messages sandbox's REST routes, one router per resource: token, password, mailboxes, attachments, messages, paper mail, events.

Each route reaches the sandbox's state through ``request.app.state.store``, so the routers are plain
module-level objects that any number of sandbox apps (each with its own store) include. Status codes
and bodies follow shared/specs/suomifi/messages-rest/messages-api.yaml (see ``app.py``).
"""

from __future__ import annotations

import json
import mimetypes
import re
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from connectors.suomifi_viestit.models import ATTACHMENT_MAX_BYTES, ATTACHMENT_MEDIA_TYPES
from connectors.suomifi_viestit.sandbox import schemas
from connectors.suomifi_viestit.sandbox.store import MessagesApiError, PaperLetter, StoredAttachment, ViestitStore
from schemas.hetu import parse_hetu

M = TypeVar("M", bound=BaseModel)
TOO_LARGE = f"HTTP content length exceeded {ATTACHMENT_MAX_BYTES} bytes."
BUSINESS_ID = re.compile(r"^[0-9]{7}-[0-9]$")
BUSINESS_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


class UnauthorizedError(Exception):
    """A missing, unknown or expired access token: the app answers 401 ``ErrorResponseV1``."""


def _store(request: Request) -> ViestitStore:
    return request.app.state.store


def _system_of(request: Request) -> str:
    """The spec's security scheme is an apiKey in ``Authorization``; public clients send it with and without ``Bearer``."""
    header = request.headers.get("authorization", "").strip()
    scheme, _, rest = header.partition(" ")
    token = rest.strip() if scheme.lower() == "bearer" else header
    system = _store(request).system_for_token(token) if token else None
    if system is None:
        raise UnauthorizedError()
    return system


# ---------------------------------------------------------------------------------- auth

token = APIRouter(prefix="/v1/token")


@token.post("")
async def issue_token(request: Request) -> JSONResponse:
    body = _parse(schemas.AccessTokenRequestBody, await request.body())
    return JSONResponse(_store(request).issue_token(body.username, body.password))


# ---------------------------------------------------------------------------------- password

password = APIRouter(prefix="/v1/change-password")


@password.post("")
async def change_password(request: Request) -> JSONResponse:
    """The access token travels in the body, not in ``Authorization`` (the spec declares no security here)."""
    body = _parse(schemas.ChangePasswordRequestBody, await request.body())
    _store(request).change_password(body.accessToken, body.currentPassword, body.newPassword)
    return JSONResponse({})


# ---------------------------------------------------------------------------------- mailboxes

mailboxes = APIRouter(prefix="/v1/mailboxes")


@mailboxes.post("/active")
async def mailboxes_active(request: Request) -> JSONResponse:
    _system_of(request)
    body = _parse(schemas.EndUsers, await request.body())
    store = _store(request)
    seen: set[str] = set()
    active = []
    for end_user in body.endUsers:
        if end_user.id not in seen and store.has_active_mailbox(end_user.id):
            active.append({"id": end_user.id})
        seen.add(end_user.id)
    return JSONResponse({"endUsersWithActiveMailbox": active})


# ---------------------------------------------------------------------------------- attachments

attachments = APIRouter(prefix="/v2/attachments")


@attachments.post("", status_code=201)
async def upload_attachment(request: Request) -> Any:
    system = _system_of(request)
    raw = await request.body()
    if len(raw) > ATTACHMENT_MAX_BYTES:
        return PlainTextResponse(TOO_LARGE, status_code=413)
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise MessagesApiError(415, {"reason": "Unsupported media type: send multipart/form-data with a 'file' part"})
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise MessagesApiError(400, {"reason": "Missing multipart part 'file'"})
    media_type = _media_type_of(upload)
    if media_type not in ATTACHMENT_MEDIA_TYPES:
        raise MessagesApiError(415, {"reason": f"Unsupported media type {media_type or '(none)'}"})
    content = await upload.read()
    if not content:
        raise MessagesApiError(400, {"reason": "The file is empty"})
    if not upload.filename:
        raise MessagesApiError(400, {"reason": "The file part has no filename"})
    attachment = _store(request).add_attachment(system, upload.filename, media_type, content)
    return JSONResponse({"attachmentId": attachment.attachment_id}, status_code=201)


def _media_type_of(upload: UploadFile) -> str:
    """The part's declared type; from the file name when the client declares none (or only octet-stream).

    The spec lists the supported types but not how they are told; clients in production (e.g.
    python-requests with ``files={"file": (name, data)}``) send no part Content-Type at all, and the
    recipient sees the file by its name, so the name's extension decides then.
    """
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if declared and declared != "application/octet-stream":
        return declared
    guessed, _ = mimetypes.guess_type(upload.filename or "", strict=False)
    return (guessed or declared).lower()


# ---------------------------------------------------------------------------------- messages

messages = APIRouter(prefix="/v2/messages")


def _check_sender(store: ViestitStore, system: str, service_id: str, *, electronic: bool) -> None:
    if service_id not in store.service_ids.get(system, set()):
        raise _rejected("Unknown serviceId for this system", electronic=electronic)


def _check_recipient(recipient_id: str, *, electronic: bool) -> None:
    if not _valid_end_user_id(recipient_id):
        raise _rejected("Invalid recipient id: not a personal identity code or business ID", electronic=electronic)


def _attachments_of(store: ViestitStore, system: str, references: list[schemas.AttachmentReference], *, electronic: bool) -> list[StoredAttachment]:
    found = []
    for reference in references:
        attachment = store.usable_attachment(system, reference.attachmentId)
        if attachment is None:
            raise _rejected(f"Attachment {reference.attachmentId} not found (unused attachments are removed after 24 hours)", electronic=electronic)
        found.append(attachment)
    return found


def _already_sent(store: ViestitStore, system: str, external_id: str) -> JSONResponse | None:
    message_id = store.existing_message_id(system, external_id)
    if message_id is None:
        return None
    return JSONResponse({"messageId": message_id, "reason": "External ID already in use"}, status_code=409)


@messages.post("/electronic")
async def send_electronic(request: Request) -> JSONResponse:
    system = _system_of(request)
    store = _store(request)
    body = _parse(schemas.ElectronicMessageRequestBody, await request.body(), electronic=True)
    if (duplicate := _already_sent(store, system, body.externalId)) is not None:
        return duplicate
    _check_sender(store, system, body.sender.serviceId, electronic=True)
    _check_recipient(body.recipient.id, electronic=True)
    found = _attachments_of(store, system, body.electronic.attachments, electronic=True)
    if body.electronic.inReplyToMessageId is not None and store.message_from_end_user(system, body.electronic.inReplyToMessageId) is None:
        raise _validation_failure("The message you replied to does not exist", "MESSAGE_BEING_REPLIED_TO_NOT_FOUND")
    if not store.has_active_mailbox(body.recipient.id):
        raise _validation_failure("Recipient mailbox is not active", "MAILBOX_NOT_IN_USE")
    message = store.add_message(
        external_id=body.externalId,
        system=system,
        service_id=body.sender.serviceId,
        endpoint="electronic",
        channel="electronic",
        recipient_id=body.recipient.id,
        title=body.electronic.title,
        body=body.electronic.body,
        body_format=body.electronic.bodyFormat,
        request=body.model_dump(exclude_none=True),
        attachments=found,
        ignored_fields=schemas.unknown_fields(body),
    )
    return JSONResponse({"messageId": message.message_id})


@messages.post("")
async def send_multichannel(request: Request) -> JSONResponse:
    system = _system_of(request)
    store = _store(request)
    body = _parse(schemas.MultichannelMessageRequestBody, await request.body())
    if (duplicate := _already_sent(store, system, body.externalId)) is not None:
        return duplicate
    _check_sender(store, system, body.sender.serviceId, electronic=False)
    _check_recipient(body.recipient.id, electronic=False)
    if body.electronic.inReplyToMessageId is not None:
        raise _rejected("The message you replied to does not exist", electronic=False)
    electronic_attachments = _attachments_of(store, system, body.electronic.attachments, electronic=False)
    pdf = _printable_pdf(store, system, body.paperMail)
    common = {
        "external_id": body.externalId,
        "system": system,
        "service_id": body.sender.serviceId,
        "endpoint": "multichannel",
        "recipient_id": body.recipient.id,
        "title": body.electronic.title,
        "body": body.electronic.body,
        "body_format": body.electronic.bodyFormat,
        "request": body.model_dump(exclude_none=True),
        "ignored_fields": schemas.unknown_fields(body),
    }
    if store.has_active_mailbox(body.recipient.id):
        message = store.add_message(channel="electronic", attachments=electronic_attachments, **common)
    else:
        message = store.add_message(channel="paper", paper=_paper_letter(body.paperMail, pdf), **common)
    return JSONResponse({"messageId": message.message_id})


@messages.get("/{message_id}")
async def message_from_end_user(request: Request, message_id: str) -> JSONResponse:
    """``getV2Messages``: a message a citizen sent to this system's services, kept 60 days."""
    system = _system_of(request)
    if not (message_id.isascii() and message_id.isdigit()):
        raise MessagesApiError(400, {"reason": "Invalid message id: a number expected"})
    message = _store(request).message_from_end_user(system, int(message_id))
    if message is None:
        raise MessagesApiError(404, {"reason": "Message not found"})
    return JSONResponse(message.as_json())


def _printable_pdf(store: ViestitStore, system: str, paper: schemas.PaperMailPart) -> StoredAttachment:
    (pdf,) = _attachments_of(store, system, paper.attachments, electronic=False)
    if pdf.media_type != "application/pdf" or not pdf.content.startswith(b"%PDF-"):
        raise _rejected("The paper mail attachment must be a PDF file", electronic=False)
    return pdf


def _paper_letter(paper: schemas.PaperMailPart, pdf: StoredAttachment) -> PaperLetter:
    """The letter the printing service gets when the recipient has no active mailbox; the one PDF is kept with it."""
    return PaperLetter(
        pdf=pdf,
        recipient_address=paper.recipient.address.lines(),
        sender_address=paper.sender.address.lines(),
        posti_username=paper.printingAndEnvelopingService.postiMessaging.username,
        cost_pool=paper.printingAndEnvelopingService.costPool,
        options={
            "colorPrinting": paper.colorPrinting,
            "createAddressPage": paper.createAddressPage,
            "rotateLandscapePages": paper.rotateLandscapePages,
            "twoSidedPrinting": paper.twoSidedPrinting,
            "messageServiceType": paper.messageServiceType,
        },
    )


# ---------------------------------------------------------------------------------- paper mail by address

paper_mail = APIRouter(prefix="/v2/paper-mail-without-id")


@paper_mail.post("")
async def send_paper_mail_without_id(request: Request) -> JSONResponse:
    """``postV2PaperMailWithoutId``: printed to the address given; a reused externalId is 409 ``ErrorResponseV1`` (no messageId)."""
    system = _system_of(request)
    store = _store(request)
    body = _parse(schemas.PaperMailWithoutIdRequestBody, await request.body())
    if store.existing_message_id(system, body.externalId) is not None:
        raise MessagesApiError(409, {"reason": "External ID already in use"})
    _check_sender(store, system, body.sender.serviceId, electronic=False)
    pdf = _printable_pdf(store, system, body.paperMail)
    message = store.add_message(
        external_id=body.externalId,
        system=system,
        service_id=body.sender.serviceId,
        endpoint="paper-mail-without-id",
        channel="paper",
        recipient_id=None,
        title=pdf.filename,
        body="",
        body_format="Text",
        request=body.model_dump(exclude_none=True),
        paper=_paper_letter(body.paperMail, pdf),
        ignored_fields=schemas.unknown_fields(body),
    )
    return JSONResponse({"messageId": message.message_id})


# ---------------------------------------------------------------------------------- v1 reads a sender still uses

v1_messages = APIRouter(prefix="/v1")


@v1_messages.get("/messages/id")
async def message_id_for_external_id(request: Request, externalId: str = "") -> JSONResponse:  # noqa: N803 - the spec's name
    """``getV1MessagesId``: the messageId of a message this system sent, by its externalId."""
    system = _system_of(request)
    if not externalId:
        raise MessagesApiError(400, {"reason": "Bad request", "validationErrors": [{"error": "externalId is required"}]})
    message_id = _store(request).existing_message_id(system, externalId)
    if message_id is None:
        raise MessagesApiError(404, {"reason": "Message not found"})
    return JSONResponse({"messageId": message_id})


@v1_messages.get("/attachments/{attachment_id}")
async def end_user_attachment(request: Request, attachment_id: str) -> Response:
    """``getV1Attachment``: a file a citizen attached to a message to this system, kept 60 days."""
    system = _system_of(request)
    attachment = _store(request).end_user_attachment(system, attachment_id)
    if attachment is None:
        raise MessagesApiError(404, {"reason": "Attachment not found"})
    return Response(attachment.content, media_type=attachment.media_type)


# ---------------------------------------------------------------------------------- events

events = APIRouter(prefix="/v2/events")


@events.get("")
async def events_page(request: Request, continuationToken: str | None = None) -> JSONResponse:  # noqa: N803 - the spec's name
    system = _system_of(request)
    return JSONResponse(_store(request).events_page(system, continuationToken or None))


#: In the order the app includes them; each is one resource of the API.
ROUTERS = (token, password, mailboxes, attachments, messages, paper_mail, v1_messages, events)


def _parse(model: type[M], raw: bytes, *, electronic: bool = False) -> M:
    """Validate a JSON body against the spec's schema; 400 in the endpoint's error shape otherwise."""
    try:
        payload = json.loads(raw) if raw.strip() else None
    except ValueError:
        raise _rejected("Request body is not valid JSON", electronic=electronic) from None
    if not isinstance(payload, dict):
        raise _rejected("Request body must be a JSON object", electronic=electronic)
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in problem['loc']) or '(body)'}: {problem['msg']}"
            for problem in error.errors(include_input=False, include_url=False, include_context=False)
        ]
        if electronic:
            raise MessagesApiError(400, {"reason": "Invalid request body", "validationErrors": [{"error": p} for p in problems]}) from None
        raise MessagesApiError(400, {"reason": "Invalid request body: " + "; ".join(problems)}) from None


def _rejected(reason: str, *, electronic: bool) -> MessagesApiError:
    if electronic:
        return MessagesApiError(400, {"reason": reason, "validationErrors": [{"error": reason}]})
    return MessagesApiError(400, {"reason": reason})


def _validation_failure(error: str, code: str) -> MessagesApiError:
    return MessagesApiError(400, {"reason": "Bad request", "validationErrors": [{"error": error, "errorCode": code}]})


def _valid_end_user_id(value: str) -> bool:
    """A henkilötunnus or a business ID (Y-tunnus) with a correct check digit."""
    if BUSINESS_ID.match(value):
        remainder = sum(int(digit) * weight for digit, weight in zip(value[:7], BUSINESS_ID_WEIGHTS, strict=True)) % 11
        return remainder != 1 and int(value[8]) == (0 if remainder == 0 else 11 - remainder)
    try:
        parse_hetu(value)
    except ValueError:
        return False
    return True
