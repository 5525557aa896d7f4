"""State of the service desk sandbox: operator accounts, tickets, comments.

Tests inspect and drive it through ``app.state.store``: ``store.tickets``, ``store.set_state(id,
"done")``. Every method takes the lock.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from connectors.servicedesk.catalog import KNOWN_PROFILE_CODES
from connectors.servicedesk.sandbox.seed import ASSIGNMENT_GROUPS, TITLES

FIRST_TICKET = 10001
STATES = ("new", "in_progress", "done", "cancelled")
FINAL_STATES = ("done", "cancelled")


class DeskApiError(Exception):
    """An answer other than success: ``{"error": {"code", "message"}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, code, message)
        self.status = status
        self.body = {"error": {"code": code, "message": message}}


@dataclass
class DeskStore:
    """Everything the service desk sandbox remembers."""

    accounts: dict[str, str]
    lock: threading.RLock = field(default_factory=threading.RLock)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    today: date | None = None  # None: the real date

    def check_login(self, username: str, password: str) -> bool:
        expected = self.accounts.get(username)
        return expected is not None and secrets.compare_digest(expected.encode(), password.encode())

    def ticket(self, ticket_id: str) -> dict[str, Any]:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            raise DeskApiError(404, "ticket_not_found", "No such ticket")
        return ticket

    def create(self, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Open a ticket, or return the one with the same external reference (False: not created)."""
        kind = body["type"]
        if body["details"]["kind"] != kind:
            raise DeskApiError(400, "invalid_request", "details.kind does not match type")
        with self.lock:
            existing = next((t for t in self.tickets.values() if t["external_reference"] == body["external_reference"]), None)
            if existing is not None:
                if existing["type"] != kind or existing["person"] != body["person"]:
                    raise DeskApiError(409, "reference_conflict", "The external reference already names a different request")
                return existing, False
            if kind == "it_account" and body["details"]["access_profile"] not in KNOWN_PROFILE_CODES:
                raise DeskApiError(422, "unknown_access_profile", "The access profile is not in the service catalogue")
            if date.fromisoformat(body["due_date"]) < (self.today or date.today()):
                raise DeskApiError(422, "due_date_in_past", "The due date has passed")
            person = body["person"]
            now = _now()
            ticket = {
                "ticket_id": f"REQ{FIRST_TICKET + len(self.tickets):07d}",
                "type": kind,
                "state": "new",
                "title": f"{TITLES[kind]}: {person['first_names'].split()[0]} {person['last_name']}, {person['job_title']}",
                "external_reference": body["external_reference"],
                "person": person,
                "details": body["details"],
                "due_date": body["due_date"],
                "assignment_group": ASSIGNMENT_GROUPS[kind],
                "requested_by": body["requested_by"],
                "description": body.get("description"),
                "reminders": 0,
                "comments": [],
                "resolution": None,
                "created_at": now,
                "updated_at": now,
                "resolved_at": None,
            }
            self.tickets[ticket["ticket_id"]] = ticket
            return ticket, True

    def find(self, *, employee_id: int | None, external_reference: str | None, state: str) -> list[dict[str, Any]]:
        wanted = {"open": ("new", "in_progress"), "all": STATES}.get(state, (state,))
        with self.lock:
            return [
                t
                for t in self.tickets.values()
                if t["state"] in wanted
                and (employee_id is None or t["person"].get("employee_id") == employee_id)
                and (external_reference is None or t["external_reference"] == external_reference)
            ]

    def comment(self, ticket_id: str, kind: str, text: str, author: str, reference: str | None) -> tuple[dict[str, Any], bool]:
        with self.lock:
            ticket = self.ticket(ticket_id)
            if reference is not None:
                for existing in ticket["comments"]:
                    if existing.get("external_reference") == reference:
                        return existing, False
            if ticket["state"] in FINAL_STATES:
                raise DeskApiError(422, "ticket_closed", f"The ticket is {ticket['state']}")
            comment = {
                "comment_id": sum(len(t["comments"]) for t in self.tickets.values()) + 1,
                "kind": kind,
                "text": text,
                "author": author,
                "created_at": _now(),
                "external_reference": reference,
            }
            ticket["comments"].append(comment)
            ticket["reminders"] += kind == "reminder"
            ticket["updated_at"] = comment["created_at"]
            return comment, True

    def cancel(self, ticket_id: str, reason: str) -> dict[str, Any]:
        with self.lock:
            ticket = self.ticket(ticket_id)
            if ticket["state"] == "done":
                raise DeskApiError(422, "ticket_closed", "The ticket is done")
            if ticket["state"] != "cancelled":
                self._move(ticket, "cancelled", reason)
            return ticket

    def set_state(self, ticket_id: str, state: str, resolution: str | None = None) -> dict[str, Any]:
        """Move a ticket as the desk's staff would: open tickets to any state; done and cancelled are final."""
        if state not in STATES:
            raise DeskApiError(400, "invalid_state", f"state is one of {', '.join(STATES)}")
        with self.lock:
            ticket = self.ticket(ticket_id)
            if ticket["state"] in FINAL_STATES and state != ticket["state"]:
                raise DeskApiError(409, "invalid_transition", f"A {ticket['state']} ticket stays {ticket['state']}")
            self._move(ticket, state, resolution)
            return ticket

    @staticmethod
    def _move(ticket: dict[str, Any], state: str, resolution: str | None) -> None:
        now = _now()
        ticket.update(state=state, updated_at=now)
        if state in FINAL_STATES:
            ticket.update(resolved_at=now, resolution=resolution or ticket["resolution"])


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
