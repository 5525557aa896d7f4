"""Typed client for the service desk REST API v1: requests (tickets), comments and reminders.

Contract: connectors/servicedesk/README.md ("The API"), served faithfully by
connectors/servicedesk/sandbox. HTTP Basic with the robot operator's application password.
``external_reference`` is the idempotency key of a request: ``POST /requests`` with a reference
the desk has answers 200 with the existing ticket (201 when it made one), so creates are resent
after timeouts and 5xx. Comments and reminders carry their own reference the same way.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.errors import AutomationError
from connectors.http import ConnectorClient, ErrorDetails, RetryPolicy
from connectors.servicedesk.errors import (
    ReferenceConflictError,
    ServiceDeskAuthenticationError,
    ServiceDeskRejectedError,
    ServiceDeskUnavailableError,
    ServiceDeskValidationError,
    TicketClosedError,
    TicketNotFoundError,
)
from connectors.servicedesk.models import Comment, Reference, ServiceRequestCreate, Ticket, TicketCreated, _no_hetu
from connectors.servicedesk.settings import ServiceDeskSettings

SYSTEM = "servicedesk"


class _CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    text: str = Field(min_length=1, max_length=4000)
    external_reference: Reference | None = None


class _Cancellation(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class ServiceDeskClient(ConnectorClient):
    """Service desk REST API v1. Contract: connectors/servicedesk/README.md."""

    def __init__(self, settings: ServiceDeskSettings | None = None, *, transport: httpx.BaseTransport | None = None, retry: RetryPolicy | None = None) -> None:
        self.settings = settings or ServiceDeskSettings()
        self.api = self.api_client(
            self.settings,
            system=SYSTEM,
            auth=httpx.BasicAuth(self.settings.username, self.settings.app_password.get_secret_value()),
            error_mapper=_map_servicedesk_error,
            transient_error=ServiceDeskUnavailableError,
            transport=transport,
            retry=retry,
        )

    def create_request(self, request: ServiceRequestCreate) -> TicketCreated:
        """Open a ticket, or get the one the desk already has for ``request.external_reference``.

        Raises:
            ServiceDeskValidationError: an unknown access profile or unit, a due date in the past …
            ReferenceConflictError: the reference already names a different request.
            ServiceDeskUnavailableError: the desk is down or slow, after retries.
        """
        payload = {"type": request.type, "requested_by": self.settings.requested_by, **request.model_dump(mode="json", exclude_none=True)}
        ids = {"external_reference": request.external_reference}
        response = self.api.request("POST", "/requests", json=payload, resend=True, business_ids=ids)
        ticket = self.api.decode(response, Ticket, business_ids=ids)
        return TicketCreated(ticket=ticket, created=response.status_code == 201)

    def get_ticket(self, ticket_id: str) -> Ticket:
        """Raises: TicketNotFoundError."""
        return self.api.request_model(Ticket, "GET", f"/tickets/{_ticket_path(ticket_id)}", business_ids={"ticket_id": ticket_id})

    def list_open_tickets(self, *, employee_id: int | None = None, external_reference: str | None = None) -> list[Ticket]:
        """Open tickets (new or in progress) for a person, a reference, or both; oldest first."""
        if employee_id is None and external_reference is None:
            raise ValueError("name the employee_id, the external_reference or both")
        params: dict[str, Any] = {"state": "open"}
        if employee_id is not None:
            params["employee_id"] = int(employee_id)
        if external_reference is not None:
            params["external_reference"] = external_reference
        return self.api.request_model(list[Ticket], "GET", "/tickets", params=params)

    def add_comment(self, ticket_id: str, text: str, *, reminder: bool = False, external_reference: str | None = None) -> Comment:
        """Comment on a ticket, or remind its assignees (a reminder also counts in ``ticket.reminders``).

        With ``external_reference`` the same comment sent twice is added once.

        Raises:
            TicketClosedError: the ticket is done or cancelled.
            TicketNotFoundError: no such ticket.
        """
        body = _CommentCreate(kind="reminder" if reminder else "comment", text=text, external_reference=external_reference)
        _no_hetu(body.text, "text")
        return self.api.request_model(
            Comment,
            "POST",
            f"/tickets/{_ticket_path(ticket_id)}/comments",
            json=body.model_dump(exclude_none=True),
            resend=external_reference is not None,
            business_ids={"ticket_id": ticket_id},
        )

    def cancel_request(self, ticket_id: str, reason: str) -> Ticket:
        """Cancel an open request (the hire fell through); cancelling a cancelled one changes nothing.

        Raises:
            TicketClosedError: the ticket is already done.
            TicketNotFoundError: no such ticket.
        """
        _no_hetu(reason, "reason")
        return self.api.request_model(
            Ticket,
            "POST",
            f"/tickets/{_ticket_path(ticket_id)}/cancellation",
            json=_Cancellation(reason=reason).model_dump(),
            resend=True,
            business_ids={"ticket_id": ticket_id},
        )


def _ticket_path(ticket_id: str) -> str:
    if not ticket_id or not ticket_id.isalnum():
        raise ValueError("a ticket id is letters and digits, e.g. REQ0010001")
    return ticket_id


class _ErrorBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str = "unknown"
    message: str = ""


def _error_body(response: httpx.Response) -> _ErrorBody | None:
    try:
        payload = response.json()
        return _ErrorBody.model_validate(payload["error"])
    except (ValueError, KeyError, TypeError, ValidationError):
        return None


def _map_servicedesk_error(response: httpx.Response, details: ErrorDetails) -> AutomationError | None:
    status = response.status_code
    where = f"{response.request.method} {response.request.url.path.split('/api/v1', 1)[-1]}"
    body = _error_body(response)
    said = f": {body.message}" if body and body.message else ""
    code = body.code.upper() if body and body.code.replace("_", "").isalnum() else None
    if status in (401, 403):
        return ServiceDeskAuthenticationError(f"{SYSTEM}: {where} answered {status}{said}; check KUNTAFLOW_SERVICEDESK_USERNAME and _APP_PASSWORD", **details)
    if status == 404 and "/tickets/" in response.request.url.path:
        return TicketNotFoundError(f"{SYSTEM}: {where}: no such ticket", **details)
    if status == 409 and code == "REFERENCE_CONFLICT":
        return ReferenceConflictError(f"{SYSTEM}: {where}{said}", **details)
    if status == 400:
        return ServiceDeskRejectedError(f"{SYSTEM}: {where} rejected{said}", code=code or "SERVICEDESK_REJECTED", **details)
    if status == 422:
        if code == "TICKET_CLOSED":
            return TicketClosedError(f"{SYSTEM}: {where}{said}", **details)
        return ServiceDeskValidationError(f"{SYSTEM}: {where} refused{said}", code=code or "SERVICEDESK_VALIDATION", **details)
    return None
