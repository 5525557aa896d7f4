"""A local fake of the Suomi.fi Messages REST API (FastAPI), faithful to shared/specs/suomifi/messages-rest/messages-api.yaml.

Routes (spec operation in brackets):

- ``POST /v1/token`` (postV1Token): 200 ``AccessTokenResponse``; 400 ``ErrorResponseV1`` "Authentication failed".
- ``POST /v1/mailboxes/active`` (postV1MailboxesActive): 200 ``EndUsersWithActiveMailbox``; 400; 401.
- ``POST /v2/attachments`` (postV3Attachments): multipart ``file``; 201 ``AttachmentReference``;
  400; 413 ``text/plain`` over 10 485 760 bytes; 415 for a content type the spec does not list.
  Unused attachments disappear after 24 h (sandbox clock).
- ``POST /v2/messages/electronic`` (postV2MessagesElectronic): 200 ``MessageResponse``; 400
  ``ValidationErrorResponseV1`` (``MAILBOX_NOT_IN_USE``, ``MESSAGE_BEING_REPLIED_TO_NOT_FOUND``);
  409 ``MessageAlreadyExistsResponse`` for a reused ``externalId``.
- ``POST /v2/messages`` (postV2MessagesController): electronic when the recipient's mailbox is
  active, otherwise paper mail (the one PDF attachment is kept with the letter); 200; 400; 409.
- ``GET /v2/events`` (getV2Events): ``Electronic message created``/``read``, ``Paper mail created``,
  ``Sent for printing and enveloping``, paged by opaque continuation tokens.

Every message endpoint answers 401 ``ErrorResponseV1`` for a missing, unknown or expired token
(tokens expire after ``token_ttl_seconds`` of sandbox time; ``store.advance()`` moves it). Every
answer carries a ``traceId`` header. Faults come from connectors/sandbox_support.py with
``{"reason": …}`` bodies. The mailbox pages for people are in ``pages.py`` under ``/_sandbox/``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.datastructures import UploadFile

from connectors.sandbox_people import sandbox_population
from connectors.sandbox_support import FaultSpec, install_faults
from connectors.suomifi_viestit.models import ATTACHMENT_MAX_BYTES, ATTACHMENT_MEDIA_TYPES
from connectors.suomifi_viestit.sandbox import schemas
from connectors.suomifi_viestit.sandbox.pages import install_pages
from connectors.suomifi_viestit.sandbox.seed import TestCitizen, citizens_of
from connectors.suomifi_viestit.sandbox.store import ApiFailure, PaperLetter, StoredAttachment, ViestitStore
from connectors.suomifi_viestit.settings import SANDBOX_PASSWORD, SANDBOX_SERVICE_ID, SANDBOX_USERNAME
from schemas.hetu import parse_hetu

M = TypeVar("M", bound=BaseModel)
TOO_LARGE = f"HTTP content length exceeded {ATTACHMENT_MAX_BYTES} bytes."
BUSINESS_ID = re.compile(r"^[0-9]{7}-[0-9]$")
BUSINESS_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


class ViestitSandboxSettings(BaseSettings):
    """How ``kuntaflow sandbox`` builds this sandbox (env prefix ``KUNTAFLOW_VIESTIT_SANDBOX_``)."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_VIESTIT_SANDBOX_", extra="ignore")

    token_ttl_seconds: int = Field(default=900, ge=0, description="Lifetime of an access token (the real value is not documented).")
    events_page_size: int = Field(default=1000, ge=1, le=1000, description="Events per GET /v2/events (the spec's maximum is 1000).")
    active_mailboxes: str | None = Field(
        default=None,
        description="Comma-separated test hetus with an active mailbox; replaces the seed's choice when set.",
    )


class _Unauthorized(Exception):
    pass


def create_app(
    *,
    citizens: Iterable[TestCitizen] | None = None,
    active_mailboxes: Iterable[str] | None = None,
    credentials: dict[str, SecretStr] | None = None,
    service_ids: dict[str, set[str]] | None = None,
    token_ttl_seconds: int | None = None,
    events_page_size: int | None = None,
    faults: FaultSpec | None = None,
) -> FastAPI:
    """Build a Suomi.fi Messages sandbox with its own store.

    Args:
        citizens: the test people and their mailbox state; by default everyone with a hetu in
            ``sandbox_population()`` (``KUNTAFLOW_SANDBOX_POPULATION_*``).
        active_mailboxes: hetus whose mailbox is active, replacing the citizens' own flags
            (``KUNTAFLOW_VIESTIT_SANDBOX_ACTIVE_MAILBOXES`` when not given).
        credentials: system username (systemId) → password; by default the sandbox account.
        service_ids: system username → the serviceIds it may send as.
        token_ttl_seconds, events_page_size: override ``ViestitSandboxSettings``.
        faults: fault injection; by default from ``KUNTAFLOW_SANDBOX_FAULT_*``.
    """
    settings = ViestitSandboxSettings()
    if active_mailboxes is None and settings.active_mailboxes is not None:
        active_mailboxes = [part.strip() for part in settings.active_mailboxes.split(",") if part.strip()]
    credentials = credentials or {SANDBOX_USERNAME: SANDBOX_PASSWORD}
    store = ViestitStore(
        credentials={user: password.get_secret_value() for user, password in credentials.items()},
        service_ids=service_ids or {user: {SANDBOX_SERVICE_ID} for user in credentials},
        citizens=citizens if citizens is not None else citizens_of(sandbox_population()),
        token_ttl_seconds=settings.token_ttl_seconds if token_ttl_seconds is None else token_ttl_seconds,
        events_page_size=events_page_size or settings.events_page_size,
    )
    if active_mailboxes is not None:
        wanted = set(active_mailboxes)
        for hetu in {*store.recipients, *wanted}:
            store.set_mailbox(hetu, hetu in wanted)

    app = FastAPI(
        title="Suomi.fi Messages REST API (Kuntaflow sandbox)",
        version="1.0.0",
        description="Sandbox of https://api.messages.suomi.fi; contract shared/specs/suomifi/messages-rest/messages-api.yaml.",
        docs_url="/docs",
    )
    app.state.store = store
    install_faults(app, faults, error_body=lambda status, message: {"reason": message})

    @app.middleware("http")
    async def _trace_id(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers.setdefault("traceId", str(uuid.uuid4()))
        return response

    @app.exception_handler(ApiFailure)
    async def _api_failure(request: Request, failure: ApiFailure) -> JSONResponse:
        return JSONResponse(failure.body, status_code=failure.status)

    @app.exception_handler(_Unauthorized)
    async def _unauthorized(request: Request, error: _Unauthorized) -> JSONResponse:
        return JSONResponse({"reason": "Unauthorized: the access token is missing, invalid or expired"}, status_code=401)

    def system_of(request: Request) -> str:
        """The spec's security scheme is an apiKey in ``Authorization``; public clients send it with and without ``Bearer``."""
        header = request.headers.get("authorization", "").strip()
        scheme, _, rest = header.partition(" ")
        token = rest.strip() if scheme.lower() == "bearer" else header
        system = store.system_for_token(token) if token else None
        if system is None:
            raise _Unauthorized()
        return system

    # ------------------------------------------------------------------ auth

    @app.post("/v1/token")
    async def token(request: Request) -> JSONResponse:
        body = _parse(schemas.AccessTokenRequestBody, await request.body())
        return JSONResponse(store.issue_token(body.username, body.password))

    # ------------------------------------------------------------------ mailboxes

    @app.post("/v1/mailboxes/active")
    async def mailboxes_active(request: Request) -> JSONResponse:
        system_of(request)
        body = _parse(schemas.EndUsers, await request.body())
        seen: set[str] = set()
        active = []
        for end_user in body.endUsers:
            if end_user.id not in seen and store.has_active_mailbox(end_user.id):
                active.append({"id": end_user.id})
            seen.add(end_user.id)
        return JSONResponse({"endUsersWithActiveMailbox": active})

    # ------------------------------------------------------------------ attachments

    @app.post("/v2/attachments", status_code=201)
    async def upload_attachment(request: Request) -> Any:
        system = system_of(request)
        raw = await request.body()
        if len(raw) > ATTACHMENT_MAX_BYTES:
            return PlainTextResponse(TOO_LARGE, status_code=413)
        if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
            raise ApiFailure(415, {"reason": "Unsupported media type: send multipart/form-data with a 'file' part"})
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiFailure(400, {"reason": "Missing multipart part 'file'"})
        media_type = (upload.content_type or "").split(";")[0].strip().lower()
        if media_type not in ATTACHMENT_MEDIA_TYPES:
            raise ApiFailure(415, {"reason": f"Unsupported media type {media_type or '(none)'}"})
        content = await upload.read()
        if not content:
            raise ApiFailure(400, {"reason": "The file is empty"})
        if not upload.filename:
            raise ApiFailure(400, {"reason": "The file part has no filename"})
        attachment = store.add_attachment(system, upload.filename, media_type, content)
        return JSONResponse({"attachmentId": attachment.attachment_id}, status_code=201)

    # ------------------------------------------------------------------ messages

    def check_sender(system: str, service_id: str, *, electronic: bool) -> None:
        if service_id not in store.service_ids.get(system, set()):
            raise _rejected("Unknown serviceId for this system", electronic=electronic)

    def check_recipient(recipient_id: str, *, electronic: bool) -> None:
        if not _valid_end_user_id(recipient_id):
            raise _rejected("Invalid recipient id: not a personal identity code or business ID", electronic=electronic)

    def attachments_of(system: str, references: list[schemas.AttachmentReference], *, electronic: bool) -> list[StoredAttachment]:
        found = []
        for reference in references:
            attachment = store.usable_attachment(system, reference.attachmentId)
            if attachment is None:
                raise _rejected(f"Attachment {reference.attachmentId} not found (unused attachments are removed after 24 hours)", electronic=electronic)
            found.append(attachment)
        return found

    def already_sent(system: str, external_id: str) -> JSONResponse | None:
        message_id = store.existing_message_id(system, external_id)
        if message_id is None:
            return None
        return JSONResponse({"messageId": message_id, "reason": "External ID already in use"}, status_code=409)

    @app.post("/v2/messages/electronic")
    async def send_electronic(request: Request) -> JSONResponse:
        system = system_of(request)
        body = _parse(schemas.ElectronicMessageRequestBody, await request.body(), electronic=True)
        if (duplicate := already_sent(system, body.externalId)) is not None:
            return duplicate
        check_sender(system, body.sender.serviceId, electronic=True)
        check_recipient(body.recipient.id, electronic=True)
        attachments = attachments_of(system, body.electronic.attachments, electronic=True)
        if body.electronic.inReplyToMessageId is not None:
            # The sandbox receives no messages from end users, so there is nothing to reply to.
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
            attachments=attachments,
        )
        return JSONResponse({"messageId": message.message_id})

    @app.post("/v2/messages")
    async def send_multichannel(request: Request) -> JSONResponse:
        system = system_of(request)
        body = _parse(schemas.MultichannelMessageRequestBody, await request.body())
        if (duplicate := already_sent(system, body.externalId)) is not None:
            return duplicate
        check_sender(system, body.sender.serviceId, electronic=False)
        check_recipient(body.recipient.id, electronic=False)
        if body.electronic.inReplyToMessageId is not None:
            raise _rejected("The message you replied to does not exist", electronic=False)
        electronic_attachments = attachments_of(system, body.electronic.attachments, electronic=False)
        (pdf,) = attachments_of(system, body.paperMail.attachments, electronic=False)
        if pdf.media_type != "application/pdf" or not pdf.content.startswith(b"%PDF-"):
            raise _rejected("The paper mail attachment must be a PDF file", electronic=False)
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
        }
        if store.has_active_mailbox(body.recipient.id):
            message = store.add_message(channel="electronic", attachments=electronic_attachments, **common)
        else:
            paper = body.paperMail
            letter = PaperLetter(
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
            message = store.add_message(channel="paper", paper=letter, **common)
        return JSONResponse({"messageId": message.message_id})

    # ------------------------------------------------------------------ events

    @app.get("/v2/events")
    async def events(request: Request, continuationToken: str | None = None) -> JSONResponse:  # noqa: N803 - the spec's name
        system = system_of(request)
        return JSONResponse(store.events_page(system, continuationToken or None))

    install_pages(app, store)
    return app


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
            raise ApiFailure(400, {"reason": "Invalid request body", "validationErrors": [{"error": p} for p in problems]}) from None
        raise ApiFailure(400, {"reason": "Invalid request body: " + "; ".join(problems)}) from None


def _rejected(reason: str, *, electronic: bool) -> ApiFailure:
    if electronic:
        return ApiFailure(400, {"reason": reason, "validationErrors": [{"error": reason}]})
    return ApiFailure(400, {"reason": reason})


def _validation_failure(error: str, code: str) -> ApiFailure:
    return ApiFailure(400, {"reason": "Bad request", "validationErrors": [{"error": error, "errorCode": code}]})


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
