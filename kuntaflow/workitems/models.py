"""What the queue hands out: work items, their states and audit entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from schemas.handled_by_people import HANDLED_BY_PEOPLE


class ItemState(StrEnum):
    """Where a case is. See ARCHITECTURE.md, "Work-item queue"."""

    NEW = "NEW"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    BUSINESS_FAILED = "BUSINESS_FAILED"
    APPLICATION_FAILED = "APPLICATION_FAILED"
    ABANDONED = "ABANDONED"

    @classmethod
    def parse(cls, value: ItemState | str) -> ItemState:
        """Accept a state by name in any case; raise ValueError listing the valid ones."""
        if isinstance(value, ItemState):
            return value
        try:
            return cls(str(value).strip().upper())
        except ValueError:
            valid = ", ".join(state.value for state in cls)
            raise ValueError(f"unknown state {value!r}; valid states are {valid}") from None

    @property
    def is_final(self) -> bool:
        return self in (ItemState.DONE, ItemState.BUSINESS_FAILED, ItemState.ABANDONED)


def waits_for_a_person(process: str, state: ItemState) -> bool:
    """Whether a case of ``process`` in ``state`` waits for a person: a robot's business failure or
    abandoned case (no robot takes it up again by itself), or any open case of a process people
    handle (schemas/handled_by_people.py)."""
    if process in HANDLED_BY_PEOPLE:
        return not state.is_final
    return state in (ItemState.BUSINESS_FAILED, ItemState.ABANDONED)


def waiting_states(process: str) -> tuple[ItemState, ...]:
    """The states in which a case of ``process`` waits for a person, the one to list first first."""
    return tuple(state for state in ItemState if waits_for_a_person(process, state))


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class WorkItem(BaseModel):
    """One business case as stored in the queue (a snapshot; re-read with ``WorkQueue.get``)."""

    model_config = ConfigDict(frozen=True)

    id: int
    process: str
    reference: str
    payload: dict[str, Any]
    state: ItemState
    attempts: int
    max_attempts: int
    not_before: datetime | None = None
    deadline: datetime | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    error_type: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    output: dict[str, Any] | None = None
    parent_id: int | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1
    assignee: str | None = None

    @classmethod
    def from_row(cls, row: Any, **values: Any) -> WorkItem:
        """The item of a database row; ``values`` fill in (or replace) columns, e.g. a payload that was not read."""
        data = dict(row._mapping) | values
        for key in ("not_before", "deadline", "lease_expires_at", "created_at", "updated_at"):
            data[key] = _utc(data[key])
        return cls.model_validate(data)

    def __repr__(self) -> str:
        # Payloads hold personal data; a repr must never print them.
        return f"WorkItem(id={self.id}, process={self.process!r}, state={self.state.value}, attempts={self.attempts})"

    __str__ = __repr__


class AuditEntry(BaseModel):
    """One line of an item's audit trail."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    actor: str
    action: str
    from_state: ItemState | None = None
    to_state: ItemState | None = None
    reason: str | None = None


class ItemSummary(BaseModel):
    """What a list shows of an item: no payload, no output (nothing personal, nothing to decrypt)."""

    model_config = ConfigDict(frozen=True)

    id: int
    process: str
    reference: str
    state: ItemState
    attempts: int
    error_code: str | None = None
    assignee: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> ItemSummary:
        data = dict(row._mapping)
        data["created_at"], data["updated_at"] = _utc(data["created_at"]), _utc(data["updated_at"])
        return cls.model_validate(data)


class ItemPage(BaseModel):
    """One page of a list, newest first; ``next_before_id`` continues it (None: this is the last page)."""

    items: list[ItemSummary]
    next_before_id: int | None = None


class ItemFilter(BaseModel):
    """Which items a list, a count or a bulk retry is about; ``processes`` limits it to those a person may see."""

    model_config = ConfigDict(frozen=True)

    processes: frozenset[str]
    state: ItemState | None = None
    error_code: str | None = None
    reference_prefix: str | None = None
    created_before: datetime | None = None


class StateSummary(BaseModel):
    """How many items of a process are in a state, and since when the longest-waiting of them has been in it."""

    model_config = ConfigDict(frozen=True)

    process: str
    state: ItemState
    count: int
    oldest_since: datetime | None = None


class AddedItem(WorkItem):
    """What ``WorkQueue.add`` returns: the item, and whether this call created it (False: it was there already)."""

    created: bool


@dataclass(frozen=True)
class NotedStep:
    """A checkpoint kept by a robot until the item's next write: a step harmless to redo (see
    ``processes.checkpoints.Checkpoint.REDO_IS_HARMLESS``), stored with the time it was done."""

    step: str
    data: dict[str, Any]
    noted_at: datetime
