"""A local fake of the Suomi.fi Messages REST API (FastAPI), faithful to shared/specs/suomifi/messages-rest/messages-api.yaml.

Routes (spec operation in brackets):

- ``POST /v1/token`` (postV1Token): 200 ``AccessTokenResponse``; 400 ``ErrorResponseV1`` "Authentication failed".
- ``POST /v1/change-password`` (postV1ChangePassword): the access token in the body; 200 ``{}``; 400
  ``ErrorResponseV1`` for a bad token or current password, a new password under the policy (32
  characters, lower, upper, number, symbol) or a change sooner than ``password_change_interval_seconds``.
- ``POST /v1/mailboxes/active`` (postV1MailboxesActive): 200 ``EndUsersWithActiveMailbox``; 400; 401.
- ``POST /v2/attachments`` (postV3Attachments): multipart ``file``; 201 ``AttachmentReference``;
  400; 413 ``text/plain`` over 10 485 760 bytes; 415 for a content type the spec does not list.
  Unused attachments disappear after 24 h (sandbox clock).
- ``POST /v2/messages/electronic`` (postV2MessagesElectronic): 200 ``MessageResponse``; 400
  ``ValidationErrorResponseV1`` (``MAILBOX_NOT_IN_USE``, ``MESSAGE_BEING_REPLIED_TO_NOT_FOUND``);
  409 ``MessageAlreadyExistsResponse`` for a reused ``externalId``.
- ``POST /v2/messages`` (postV2MessagesController): electronic when the recipient's mailbox is
  active, otherwise paper mail (the one PDF attachment is kept with the letter); 200; 400; 409.
- ``POST /v2/paper-mail-without-id`` (postV2PaperMailWithoutId): printed to the given address; 200
  ``PaperMailResponse``; 400; 409 ``ErrorResponseV1``.
- ``GET /v2/messages/{id}`` (getV2Messages): a citizen's message (here: a reply made on the mailbox
  page or with ``store.receive_reply``); 200 ``MessageFromEndUserResponseV2``; 400; 404.
- ``GET /v1/attachments/{id}`` (getV1Attachment): the file a citizen attached; 200; 404.
- ``GET /v1/messages/id?externalId=`` (getV1MessagesId): the messageId of a sent message; 200; 400; 404.
- ``GET /v2/events`` (getV2Events): ``Electronic message created``/``read``, ``Paper mail created``,
  ``Sent for printing and enveloping``, ``Electronic message from end user``, paged by opaque
  continuation tokens.

Every message endpoint answers 401 ``ErrorResponseV1`` for a missing, unknown or expired token
(tokens expire after ``token_ttl_seconds`` of sandbox time; ``store.advance()`` moves it). Every
answer carries a ``traceId`` header. Faults come from connectors/sandbox_support.py with
``{"reason": …}`` bodies. The routes are in ``routes.py``, one router per resource; the mailbox pages for people are in
``pages.py`` under ``/_sandbox/``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.sandbox_api import api_error_handler
from connectors.sandbox_people import sandbox_population
from connectors.sandbox_support import FaultSpec, install_faults
from connectors.suomifi_viestit.sandbox.pages import install_pages
from connectors.suomifi_viestit.sandbox.routes import ROUTERS, UnauthorizedError
from connectors.suomifi_viestit.sandbox.seed import TestCitizen, citizens_of
from connectors.suomifi_viestit.sandbox.store import MessagesApiError, ViestitStore
from connectors.suomifi_viestit.settings import SANDBOX_PASSWORD, SANDBOX_SERVICE_ID, SANDBOX_USERNAME


class ViestitSandboxSettings(BaseSettings):
    """How ``kuntaflow sandbox`` builds this sandbox (env prefix ``KUNTAFLOW_VIESTIT_SANDBOX_``)."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_VIESTIT_SANDBOX_", extra="ignore")

    token_ttl_seconds: int = Field(default=900, ge=0, description="Lifetime of an access token (the real value is not documented).")
    events_page_size: int = Field(default=1000, ge=1, le=1000, description="Events per GET /v2/events (the spec's maximum is 1000).")
    password_change_interval_seconds: int = Field(
        default=0, ge=0, description="Least time between two password changes ('there can be a delay before allowing password updates again')."
    )
    active_mailboxes: str | None = Field(
        default=None,
        description="Comma-separated test hetus with an active mailbox; replaces the seed's choice when set.",
    )


def create_app(
    *,
    citizens: Iterable[TestCitizen] | None = None,
    active_mailboxes: Iterable[str] | None = None,
    credentials: dict[str, SecretStr] | None = None,
    service_ids: dict[str, set[str]] | None = None,
    token_ttl_seconds: int | None = None,
    events_page_size: int | None = None,
    password_change_interval_seconds: int | None = None,
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
        token_ttl_seconds, events_page_size, password_change_interval_seconds: override ``ViestitSandboxSettings``.
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
        password_change_interval_seconds=(
            settings.password_change_interval_seconds if password_change_interval_seconds is None else password_change_interval_seconds
        ),
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
    app.middleware("http")(_trace_id)
    app.add_exception_handler(MessagesApiError, api_error_handler())
    app.add_exception_handler(UnauthorizedError, _unauthorized)
    for router in ROUTERS:
        app.include_router(router)
    install_pages(app, store)
    return app


async def _trace_id(request: Request, call_next: Any) -> Any:
    """Every answer of the real service carries a ``traceId`` header."""
    response = await call_next(request)
    response.headers.setdefault("traceId", str(uuid.uuid4()))
    return response


async def _unauthorized(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"reason": "Unauthorized: the access token is missing, invalid or expired"}, status_code=401)
