"""The access log: who looked at whose personal data, when, and why.

Finnish public-sector practice for population data (a henkilötunnus, for instance) is that every
look at it is for a stated purpose and leaves a trace that can be checked afterwards. Anything
that reveals such data to a person or hands it to a process writes one entry here first: the
Desk when a member of staff asks to see a henkilötunnus, the person vault on every read.

The log is append-only: there is no API to change or remove an entry. It lives in the work-item
queue's database (table ``kf_access_log``, migration 0002), on the same shared engine.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, insert, select

from kuntaflow.workitems.migrate import QueueDatabase
from kuntaflow.workitems.schema import access_log
from schemas.redaction import redact

#: Longest purpose kept; a purpose is a sentence, not a document.
MAX_PURPOSE_LENGTH = 500


class SubjectKind(StrEnum):
    """What was looked at."""

    WORK_ITEM = "work_item"  # an item's personal data, by item id
    PERSON = "person"  # a person in the vault, by the salted key Koha also holds


class AccessEntry(BaseModel):
    """One look at personal data."""

    model_config = ConfigDict(frozen=True)

    id: int
    at: datetime
    actor: str
    action: str
    subject_kind: SubjectKind
    subject_id: str
    process: str | None = None
    purpose: str


class AccessLog(QueueDatabase):
    """Append-only log of access to personal data, in the queue's database at ``url``.

    Raises:
        QueueUnavailableError: the database cannot be reached or migrated.
    """

    def record(
        self,
        *,
        actor: str,
        action: str,
        subject_kind: SubjectKind | str,
        subject_id: str | int,
        purpose: str,
        process: str | None = None,
    ) -> AccessEntry:
        """Write one entry before the data is shown or handed over; return it.

        Raises:
            ValueError: no actor, no action or no stated purpose (nothing is written).
        """
        row = entry_row(actor=actor, action=action, subject_kind=subject_kind, subject_id=subject_id, purpose=purpose, process=process)
        with self._tx() as conn:
            return write_entry(conn, row)

    def entries(
        self,
        *,
        subject_kind: SubjectKind | str | None = None,
        subject_id: str | int | None = None,
        actor: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[AccessEntry]:
        """Entries, newest first, optionally for one subject or one actor; page with ``before_id``."""
        query = select(access_log).order_by(access_log.c.id.desc()).limit(limit)
        if subject_kind is not None:
            query = query.where(access_log.c.subject_kind == SubjectKind(subject_kind).value)
        if subject_id is not None:
            query = query.where(access_log.c.subject_id == str(subject_id))
        if actor is not None:
            query = query.where(access_log.c.actor == actor)
        if before_id is not None:
            query = query.where(access_log.c.id < before_id)
        with self._tx() as conn:
            rows = conn.execute(query).all()
        return [AccessEntry.model_validate({**row._mapping, "at": _utc(row.at)}) for row in rows]


def entry_row(*, actor: str, action: str, subject_kind: SubjectKind | str, subject_id: str | int, purpose: str, process: str | None = None) -> dict[str, Any]:
    """One entry's row, checked: what :meth:`AccessLog.record` writes, for a caller that writes it in its
    own transaction beside the act it records (the person vault).

    Raises:
        ValueError: no actor, no action or no stated purpose.
    """
    purpose = " ".join(purpose.split())
    if not actor.strip():
        raise ValueError("an access-log entry needs the person or process that looks")
    if not action.strip():
        raise ValueError("an access-log entry needs the action, e.g. 'show_hetu'")
    if not purpose:
        raise ValueError("state why you need to see the personal data; the reason goes into the access log")
    if len(purpose) > MAX_PURPOSE_LENGTH:
        raise ValueError(f"the reason is {len(purpose)} characters; keep it under {MAX_PURPOSE_LENGTH}")
    return {
        "at": datetime.now(UTC),
        "actor": actor.strip(),
        "action": action.strip(),
        "subject_kind": SubjectKind(subject_kind).value,
        "subject_id": str(subject_id),
        "process": process,
        # A purpose is free text a person typed: a henkilötunnus in it is masked like anywhere else.
        "purpose": redact(purpose),
    }


def write_entry(conn: Connection, row: dict[str, Any]) -> AccessEntry:
    """Insert a row from :func:`entry_row` on ``conn`` (in the caller's transaction); return the entry."""
    entry_id = conn.execute(insert(access_log).values(**row).returning(access_log.c.id)).scalar_one()
    return AccessEntry(id=entry_id, **row)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
