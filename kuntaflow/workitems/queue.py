"""The durable work-item queue: one row per business case, leased to one robot at a time.

SQLite (WAL, writers serialised with ``BEGIN IMMEDIATE``) is the embedded default; PostgreSQL
is the scale-out backend, where claims use ``FOR UPDATE SKIP LOCKED`` so that any number of
workers on any number of machines can claim from one queue without blocking each other.

Every state change appends an audit row in the same transaction as the change itself.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel, SecretStr
from sqlalchemy import Connection, and_, bindparam, case, false, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from kuntaflow.workitems.errors import (
    InvalidTransitionError,
    ItemChangedError,
    ItemNotFoundError,
    LeaseLostError,
    PayloadError,
)
from kuntaflow.workitems.migrate import QueueDatabase
from kuntaflow.workitems.models import AddedItem, AuditEntry, ItemFilter, ItemPage, ItemState, ItemSummary, NotedStep, StateSummary, WorkItem, waiting_states
from kuntaflow.workitems.schema import ACTIVE_STATES, audit, checkpoints, work_items
from schemas.redaction import redact

DEFAULT_LEASE_SECONDS = 300
SEALED = "_sealed"
#: What a finished payload keeps once its personal data is cleared (clear_personal_data), and its audit action.
CLEARED_FIELD = "_personal_data_cleared"
CLEARED_ACTION = "clear_personal_data"
_AUDIT_INSERT = insert(audit)
#: The per-item hot path's reads, built once (building a statement costs about as much as running it on SQLite).
_ITEM_BY_ID = select(work_items).where(work_items.c.id == bindparam("item_id"))
_CHECKPOINTS_OF_ITEM = (
    select(checkpoints.c.step, checkpoints.c.data).where(checkpoints.c.item_id == bindparam("item_id")).order_by(checkpoints.c.created_at, checkpoints.c.step)
)
DEFAULT_MAX_ATTEMPTS = 5


def exponential_backoff(attempts: int, *, base_seconds: float = 30) -> timedelta:
    """``base_seconds``, then twice that per attempt (30 s, 1 min, 2 min …), capped at one hour:
    long outages are Prefect's and the queue's job."""
    return timedelta(seconds=min(base_seconds * 2 ** max(attempts - 1, 0), 3600))


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything we store is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _json_ready(what: str, value: Any) -> Any:
    """Return ``value`` as plain JSON data, or raise PayloadError naming what is wrong."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise PayloadError(f"{what} is not JSON-serialisable: {exc}") from None


class WorkQueue(QueueDatabase):
    """The work-item queue on one database.

    Args:
        url: SQLAlchemy URL, ``sqlite:///path.db`` or ``postgresql+psycopg://…``.
        payload_key: a Fernet key; payloads are then stored encrypted and opened on read.
        max_attempts: attempts (claims) before an item is ABANDONED.
        backoff: attempts → delay before an APPLICATION_FAILED item may be claimed again.

    Queues on one database share one engine per process (kuntaflow/workitems/engines.py); the
    first queue on a database in a process brings its tables to the newest Alembic revision
    (kuntaflow/workitems/migrate.py). Close a queue when done (``with WorkQueue(url) as queue:``).

    Raises:
        QueueUnavailableError: the database cannot be reached or migrated.
    """

    def __init__(
        self,
        url: str,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff: Callable[[int], timedelta] = exponential_backoff,
        payload_key: SecretStr | None = None,
    ) -> None:
        # Payloads hold personal data (a citizen's henkilötunnus, address): sealed at rest when a key is given.
        self._cipher = Fernet(payload_key.get_secret_value().encode()) if payload_key else None
        self.max_attempts = max_attempts
        self.backoff = backoff
        super().__init__(url)

    def dispose(self) -> None:
        """The same as :meth:`close`; the name callers used when every queue had an engine of its own."""
        self.close()

    # ------------------------------------------------------------------ adding

    def add(
        self,
        process: str,
        *,
        reference: str,
        payload: Mapping[str, Any] | BaseModel,
        parent_id: int | None = None,
        deadline: datetime | None = None,
        not_before: datetime | None = None,
        max_attempts: int | None = None,
        actor: str = "system",
    ) -> AddedItem:
        """Add a case, or return the existing one with the same (process, reference); ``.created`` tells which.

        Raises:
            PayloadError: the payload cannot be stored as JSON, or process/reference is empty.
        """
        if not process or not reference:
            raise PayloadError("a work item needs a process name and a non-empty reference")
        data = _json_ready(f"payload for {process} item {reference!r}", payload)
        if not isinstance(data, dict):
            raise PayloadError(f"payload for {process} item {reference!r} must be a JSON object, not {type(data).__name__}")
        now = _now()
        try:
            with self._tx() as conn:
                row = conn.execute(
                    insert(work_items)
                    .values(
                        process=process,
                        reference=reference,
                        payload=self._seal(data),
                        state=ItemState.NEW.value,
                        attempts=0,
                        max_attempts=max_attempts or self.max_attempts,
                        not_before=not_before,
                        deadline=deadline,
                        parent_id=parent_id,
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(*work_items.c)
                ).one()
                self._audit(conn, [row.id], actor, "add", None, ItemState.NEW, None, now)
        except IntegrityError:
            # The same (process, reference) exists: the case was submitted before.
            existing = self.find(process, reference)
            if existing is None:
                raise PayloadError(f"parent item {parent_id} does not exist") from None
            return AddedItem(**dict(existing), created=False)
        return AddedItem(**dict(self._item(row)), created=True)

    # ------------------------------------------------------------------ robots

    def claim(self, process: str, *, owner: str, limit: int = 50, lease_seconds: int = DEFAULT_LEASE_SECONDS, payloads: bool = True) -> list[WorkItem]:
        """Lease up to ``limit`` claimable items to ``owner``, oldest first.

        Claimable: NEW or APPLICATION_FAILED whose ``not_before`` has passed, and IN_PROGRESS
        whose lease expired (its robot died). Each claim counts as an attempt; an expired item
        that has used up its attempts is ABANDONED instead. ``payloads=False``: the items come
        back with empty payloads, none decrypted (a flow that hands the ids to a robot).
        """
        if limit <= 0:
            return []
        now = _now()
        with self._tx() as conn:
            self._abandon_exhausted(conn, process, now)
            rows = self._claimable(conn, process, now, limit)
            if not rows:
                return []
            claimed = self._lease(conn, rows, owner, now, expires=now + timedelta(seconds=lease_seconds))
        items = (self._item(row) if payloads else WorkItem.from_row(row, payload={}) for row in claimed)
        return sorted(items, key=lambda item: item.id)

    def claimable_count(self, process: str, *, up_to: int) -> int:
        """How many items of ``process`` a claim would find now, counted up to ``up_to`` (a read, no lease).

        A flow sizes its parallel batches by it, so robots side by side get even shares of a backlog.
        """
        query = select(work_items.c.id).where(*self._claimable_conditions(process, _now())).limit(up_to).subquery()
        with self._tx() as conn:
            return int(conn.execute(select(func.count()).select_from(query)).scalar_one())

    @staticmethod
    def _claimable_conditions(process: str, now: datetime) -> list[Any]:
        c = work_items.c
        claimable = or_(
            c.state.in_([ItemState.NEW.value, ItemState.APPLICATION_FAILED.value]) & (c.not_before.is_(None) | (c.not_before <= now)),
            (c.state == ItemState.IN_PROGRESS.value) & (c.lease_expires_at < now),
        )
        # The explicit state list matches the partial index's predicate so the planner uses it.
        return [c.process == process, c.state.in_(ACTIVE_STATES), claimable]

    def _claimable(self, conn: Connection, process: str, now: datetime, limit: int) -> list[Any]:
        """The oldest ``limit`` items of ``process`` a robot may claim now, locked against other claims."""
        c = work_items.c
        query = select(c.id, c.state, c.lease_owner).where(*self._claimable_conditions(process, now)).order_by(c.id).limit(limit)
        if self._is_postgres:
            query = query.with_for_update(skip_locked=True)
        return list(conn.execute(query).all())

    def _lease(self, conn: Connection, rows: list[Any], owner: str, now: datetime, *, expires: datetime) -> list[Any]:
        """Lease the claimable ``rows`` to ``owner``, count the attempts and audit each claim; return the updated rows."""
        c = work_items.c
        # A reclaimed item its dead robot never started did not use the attempt its claim counted.
        unstarted = self._not_started(conn, [(row.id, row.lease_owner) for row in rows if row.state == ItemState.IN_PROGRESS.value])
        counted = c.attempts + (case((c.id.in_(unstarted), 0), else_=1) if unstarted else 1)
        claimed = conn.execute(
            update(work_items)
            .where(c.id.in_([row.id for row in rows]))
            .values(
                state=ItemState.IN_PROGRESS.value,
                lease_owner=owner,
                lease_expires_at=expires,
                attempts=counted,
                not_before=None,
                updated_at=now,
                version=c.version + 1,
            )
            .returning(*work_items.c)
        ).all()
        conn.execute(insert(audit), [_claim_audit_row(row, owner, now, refunded=row.id in unstarted) for row in rows])
        return list(claimed)

    def _abandon_exhausted(self, conn: Connection, process: str, now: datetime) -> None:
        c = work_items.c
        query = select(c.id, c.lease_owner).where(
            c.process == process,
            c.state == ItemState.IN_PROGRESS.value,
            c.lease_expires_at < now,
            c.attempts >= c.max_attempts,
        )
        if self._is_postgres:
            query = query.with_for_update(skip_locked=True)
        rows = conn.execute(query).all()
        unstarted = self._not_started(conn, [(row.id, row.lease_owner) for row in rows])
        ids = [row.id for row in rows if row.id not in unstarted]
        if not ids:
            return
        conn.execute(
            update(work_items)
            .where(c.id.in_(ids))
            .values(
                state=ItemState.ABANDONED.value,
                lease_owner=None,
                lease_expires_at=None,
                error_type="APPLICATION",
                error_code="LEASE_EXPIRED",
                error_message="the robot holding the item stopped answering on its last attempt",
                updated_at=now,
                version=c.version + 1,
            )
        )
        self._audit(conn, ids, "system", "abandon", ItemState.IN_PROGRESS, ItemState.ABANDONED, "lease expired after the last attempt", now)

    def start(self, item_id: int, *, owner: str) -> WorkItem:
        """The robot begins working on its claimed item: recorded (audit ``start``), so that if the
        robot dies, only the item it had started has used an attempt; the rest of its batch get
        theirs back when released or reclaimed. Returns the item.

        Raises:
            LeaseLostError: the item is leased to someone else.
            InvalidTransitionError: the item is not IN_PROGRESS.
            ItemNotFoundError: no such item.
        """
        return self.start_with_checkpoints(item_id, owner=owner)[0]

    def start_with_checkpoints(self, item_id: int, *, owner: str) -> tuple[WorkItem, dict[str, dict[str, Any]]]:
        """:meth:`start`, and the item's checkpoints (as :meth:`checkpoints`) read in the same transaction.

        A robot reads an item's checkpoints as it begins the item; one transaction instead of two is
        one fewer round for the SQLite write lock per item. Raises as :meth:`start`.
        """
        with self._tx() as conn:
            row = conn.execute(_ITEM_BY_ID, {"item_id": item_id}).first()
            if row is None or row.state != ItemState.IN_PROGRESS.value or row.lease_owner != owner:
                self._raise_why_not(conn, item_id, owner, "start")
            self._audit(conn, [item_id], owner, "start", None, None, f"attempt {row.attempts} of {row.max_attempts}", _now())
            steps = self._checkpoints_of(conn, item_id)
        return self._item(row), steps

    def _not_started(self, conn: Connection, leases: list[tuple[int, str | None]]) -> set[int]:
        """Of these (item, lease owner) pairs, the items their owner never started."""
        if not leases:
            return set()
        a = audit.c
        owners = {owner for _, owner in leases if owner}
        started = {
            (row.item_id, row.actor)
            for row in conn.execute(
                select(a.item_id, a.actor).where(a.item_id.in_([item_id for item_id, _ in leases]), a.action == "start", a.actor.in_(owners))
            )
        }
        return {item_id for item_id, owner in leases if (item_id, owner) not in started}

    def heartbeat(self, item_id: int, *, owner: str, lease_seconds: int = DEFAULT_LEASE_SECONDS) -> None:
        """Extend ``owner``'s lease on an item it is working on.

        Raises:
            LeaseLostError: the item is no longer IN_PROGRESS for ``owner``.
        """
        now = _now()
        with self._tx() as conn:
            self._update_leased(conn, item_id, owner, "heartbeat", lease_expires_at=now + timedelta(seconds=lease_seconds), updated_at=now)

    def _update_leased(self, conn: Connection, item_id: int, owner: str, action: str, **values: Any) -> None:
        """Update an item ``owner`` holds IN_PROGRESS, or raise why it cannot."""
        c = work_items.c
        result = conn.execute(
            update(work_items).where(c.id == item_id, c.state == ItemState.IN_PROGRESS.value, c.lease_owner == owner).values(**values, version=c.version + 1)
        )
        if result.rowcount == 0:
            self._raise_why_not(conn, item_id, owner, action)

    def renew_leases(self, *, owner: str, lease_seconds: int = DEFAULT_LEASE_SECONDS) -> int:
        """Extend every lease ``owner`` holds (one statement; a robot calls it as it moves on)."""
        c = work_items.c
        now = _now()
        with self._tx() as conn:
            return conn.execute(
                update(work_items)
                .where(c.lease_owner == owner, c.state == ItemState.IN_PROGRESS.value)
                .values(lease_expires_at=now + timedelta(seconds=lease_seconds), updated_at=now, version=c.version + 1)
            ).rowcount

    def checkpoint(self, item_id: int, step: str, data: Mapping[str, Any] | BaseModel | None = None, *, earlier: Sequence[NotedStep] = ()) -> dict[str, Any]:
        """Record that ``step`` of the item is done, with the ids it produced (idempotent); the data as stored.

        ``earlier``: steps a robot noted since its last write (``NotedStep``), written first in the
        same transaction, each with the time it was noted.
        """
        record = _json_ready(f"checkpoint {step!r} of item {item_id}", data or {})
        self._write_steps(item_id, [*self._ready(item_id, earlier), (step, record, _now())])
        return record

    def record_noted(self, item_id: int, noted: Sequence[NotedStep]) -> None:
        """Write noted checkpoints (``NotedStep``) in one transaction, in their order, each with its time."""
        self._write_steps(item_id, self._ready(item_id, noted))

    @staticmethod
    def _ready(item_id: int, noted: Sequence[NotedStep]) -> list[tuple[str, Any, datetime]]:
        return [(one.step, _json_ready(f"checkpoint {one.step!r} of item {item_id}", one.data), one.noted_at) for one in noted]

    def _write_steps(self, item_id: int, steps: Sequence[tuple[str, Any, datetime]]) -> None:
        rows = [{"c_item_id": item_id, "c_step": step, "c_data": data, "c_created_at": at} for step, data, at in steps]
        if not rows:
            return
        try:
            with self._tx() as conn:
                conn.execute(_checkpoint_upsert(self._is_postgres), rows[0] if len(rows) == 1 else rows)
        except IntegrityError:  # the foreign key: one statement per checkpoint, not a lookup first
            raise ItemNotFoundError(f"work item {item_id} does not exist") from None

    def checkpoints(self, item_id: int) -> dict[str, dict[str, Any]]:
        """The item's completed steps: ``{step: data}`` in the order they were recorded."""
        with self._tx() as conn:
            return self._checkpoints_of(conn, item_id)

    @staticmethod
    def _checkpoints_of(conn: Connection, item_id: int) -> dict[str, dict[str, Any]]:
        return {row.step: row.data for row in conn.execute(_CHECKPOINTS_OF_ITEM, {"item_id": item_id})}

    def checkpoint_of_many(self, item_ids: Sequence[int], step: str) -> dict[int, dict[str, Any]]:
        """``{item id: data}`` of one step for many items, in a query per 500 ids (a run's summary
        reads one step of every item it decided; a query per item cost a millisecond each)."""
        found: dict[int, dict[str, Any]] = {}
        ids = list(dict.fromkeys(item_ids))
        with self._tx() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                query = select(checkpoints.c.item_id, checkpoints.c.data).where(checkpoints.c.item_id.in_(chunk), checkpoints.c.step == step)
                found.update({row.item_id: row.data for row in conn.execute(query)})
        return found

    def complete(self, item_id: int, *, output: Mapping[str, Any] | BaseModel | None = None, owner: str | None = None) -> None:
        """IN_PROGRESS → DONE.

        Raises:
            LeaseLostError: ``owner`` given and the item belongs to someone else now.
            InvalidTransitionError: the item is not IN_PROGRESS.
        """
        data = _json_ready(f"output of item {item_id}", output) if output is not None else None
        self._finish(item_id, owner, ItemState.DONE, "complete", output=data)

    def fail_business(
        self,
        item_id: int,
        *,
        code: str,
        message: str,
        owner: str | None = None,
        output: Mapping[str, Any] | BaseModel | None = None,
    ) -> None:
        """IN_PROGRESS → BUSINESS_FAILED: the data is wrong or a person must decide."""
        data = _json_ready(f"output of item {item_id}", output) if output is not None else None
        self._finish(
            item_id,
            owner,
            ItemState.BUSINESS_FAILED,
            "fail_business",
            error_type="BUSINESS",
            code=code,
            message=message,
            output=data,
        )

    def fail_application(self, item_id: int, *, code: str, message: str, owner: str | None = None, retry_in: timedelta | None = None) -> ItemState:
        """IN_PROGRESS → APPLICATION_FAILED (claimable again after a backoff), or ABANDONED.

        Returns:
            The state the item ended in.
        """
        item = self.get(item_id)
        exhausted = item.attempts >= item.max_attempts
        state = ItemState.ABANDONED if exhausted else ItemState.APPLICATION_FAILED
        delay = retry_in if retry_in is not None else self.backoff(item.attempts)
        self._finish(
            item_id,
            owner,
            state,
            "fail_application",
            error_type="APPLICATION",
            code=code,
            message=message,
            not_before=None if exhausted else _now() + delay,
            reason=f"attempt {item.attempts} of {item.max_attempts}" + ("; no attempts left" if exhausted else ""),
        )
        return state

    def release(self, item_id: int, *, owner: str, reason: str) -> ItemState:
        """Give back an item its robot did not finish (e.g. the robot was killed): NEW again.

        If the robot had started the item (:meth:`start`), the attempt stays counted and an item
        out of attempts is ABANDONED instead; if it never got to it, the attempt is given back.
        """
        item = self.get(item_id)
        c = work_items.c
        with self._tx() as conn:
            unstarted = item_id in self._not_started(conn, [(item_id, owner)])
            if unstarted:  # the lease conditions are _finish's own; a lost lease refunds nothing
                conn.execute(
                    update(work_items)
                    .where(c.id == item_id, c.lease_owner == owner, c.state == ItemState.IN_PROGRESS.value, c.attempts > 0)
                    .values(attempts=c.attempts - 1, version=c.version + 1)
                )
                reason = f"{reason}; not started, so the attempt is not counted"
        state = ItemState.ABANDONED if not unstarted and item.attempts >= item.max_attempts else ItemState.NEW
        self._finish(
            item_id,
            owner,
            state,
            "release",
            reason=reason,
            error_type="APPLICATION" if state is ItemState.ABANDONED else None,
            code="ROBOT_DID_NOT_FINISH" if state is ItemState.ABANDONED else None,
            message=reason if state is ItemState.ABANDONED else None,
        )
        return state

    def postpone(self, item_id: int, *, owner: str, until: datetime, reason: str) -> None:
        """IN_PROGRESS → NEW, not claimable before ``until``; the claim is not counted as an attempt.

        For items that wait on a person or a date (a supervisor's confirmation, a reminder due
        later): waiting is not failing, so it neither shows as APPLICATION_FAILED nor uses up attempts.

        Raises:
            LeaseLostError: the item belongs to someone else now.
            InvalidTransitionError: the item is not IN_PROGRESS.
        """
        if not reason.strip():
            raise ValueError("postpone needs a reason for the audit trail")
        c = work_items.c
        now = _now()
        with self._tx() as conn:
            self._update_leased(
                conn,
                item_id,
                owner,
                "postpone",
                state=ItemState.NEW.value,
                lease_owner=None,
                lease_expires_at=None,
                not_before=until,
                attempts=func.greatest(c.attempts - 1, 0) if self._is_postgres else func.max(c.attempts - 1, 0),
                updated_at=now,
            )
            self._audit(
                conn, [item_id], owner, "postpone", ItemState.IN_PROGRESS, ItemState.NEW, redact(f"{reason} (until {until.isoformat(timespec='minutes')})"), now
            )

    def _finish(
        self,
        item_id: int,
        owner: str | None,
        to_state: ItemState,
        action: str,
        *,
        error_type: str | None = None,
        code: str | None = None,
        message: str | None = None,
        output: Any = None,
        not_before: datetime | None = None,
        reason: str | None = None,
    ) -> None:
        now = _now()
        params: dict[str, Any] = {
            "b_id": item_id,
            "b_owner": owner,
            "b_state": to_state.value,
            "b_error_type": error_type,
            "b_error_code": code,
            "b_error_message": redact(message) if message else None,
            "b_not_before": not_before,
            "b_updated_at": now,
            "b_output": output,
        }
        statement = self._finish_statement(owner is not None, output is not None)
        with self._tx() as conn:
            result = conn.execute(statement, params)
            if result.rowcount == 0:
                self._raise_why_not(conn, item_id, owner, action)
            detail = reason or (f"{code}: {params['b_error_message']}" if code else None)  # the masked message, never the raw one
            self._audit(conn, [item_id], owner or "system", action, ItemState.IN_PROGRESS, to_state, detail, now)

    @functools.cache  # noqa: B019 - four statements per queue, built once: the per-item hot path
    def _finish_statement(self, with_owner: bool, with_output: bool):
        c = work_items.c
        condition = [c.id == bindparam("b_id"), c.state == ItemState.IN_PROGRESS.value]
        if with_owner:
            condition.append(c.lease_owner == bindparam("b_owner"))
        values: dict[str, Any] = {
            "state": bindparam("b_state"),
            "lease_owner": None,
            "lease_expires_at": None,
            "error_type": bindparam("b_error_type"),
            "error_code": bindparam("b_error_code"),
            "error_message": bindparam("b_error_message"),
            "not_before": bindparam("b_not_before", type_=c.not_before.type),
            "updated_at": bindparam("b_updated_at", type_=c.updated_at.type),
            "version": c.version + 1,
        }
        if with_output:
            values["output"] = bindparam("b_output", type_=c.output.type)
        return update(work_items).where(*condition).values(**values)

    def _raise_why_not(self, conn: Connection, item_id: int, owner: str | None, action: str) -> None:
        row = conn.execute(select(work_items.c.state, work_items.c.lease_owner).where(work_items.c.id == item_id)).first()
        if row is None:
            raise ItemNotFoundError(f"work item {item_id} does not exist")
        if row.state != ItemState.IN_PROGRESS.value:
            raise InvalidTransitionError(f"cannot {action} work item {item_id}: it is {row.state}, not IN_PROGRESS")
        raise LeaseLostError(f"cannot {action} work item {item_id}: it is leased to {row.lease_owner}, not {owner}")

    # ------------------------------------------------------------------ operators

    #: The states a person may send back to the robots.
    RETRYABLE = frozenset({ItemState.BUSINESS_FAILED, ItemState.APPLICATION_FAILED, ItemState.ABANDONED})

    def retry(self, item_id: int, *, reason: str, actor: str, expected_version: int | None = None) -> None:
        """Put a failed or abandoned item back to NEW, with a fresh set of attempts.

        ``expected_version`` (every operator action takes it): the version the person saw; if the item
        changed since, :class:`ItemChangedError` is raised and nothing is written.
        """
        self._operator(
            item_id, actor, "retry", reason, allowed=self.RETRYABLE, to_state=ItemState.NEW, extra={"attempts": 0}, expected_version=expected_version
        )

    def mark_done(self, item_id: int, *, reason: str, actor: str, expected_version: int | None = None) -> None:
        """A person handled the case outside the robot: DONE."""
        self._operator(
            item_id,
            actor,
            "mark_done",
            reason,
            allowed={ItemState.NEW, ItemState.BUSINESS_FAILED, ItemState.APPLICATION_FAILED, ItemState.ABANDONED},
            to_state=ItemState.DONE,
            expected_version=expected_version,
        )

    def abandon(self, item_id: int, *, reason: str, actor: str, expected_version: int | None = None) -> None:
        """Stop working on a case: ABANDONED."""
        self._operator(
            item_id,
            actor,
            "abandon",
            reason,
            allowed={ItemState.NEW, ItemState.BUSINESS_FAILED, ItemState.APPLICATION_FAILED},
            to_state=ItemState.ABANDONED,
            expected_version=expected_version,
        )

    def edit_payload(self, item_id: int, payload: Mapping[str, Any] | BaseModel, *, reason: str, actor: str, expected_version: int | None = None) -> None:
        """Correct a case's data (e.g. after a business failure); the state is unchanged."""
        data = _json_ready(f"payload for item {item_id}", payload)
        item = self.get(item_id)
        if item.state is ItemState.IN_PROGRESS:
            raise InvalidTransitionError(f"cannot edit work item {item_id} while a robot is working on it")
        self._operator(
            item_id,
            actor,
            "edit_payload",
            reason,
            allowed={item.state},
            to_state=item.state,
            extra={"payload": self._seal(data)},
            expected_version=expected_version,
        )

    def assign(self, item_id: int, *, assignee: str | None, actor: str, expected_version: int | None = None) -> None:
        """Say who handles the case (``assignee``, usually ``actor`` taking it), or that nobody does (None).

        The state is unchanged; the version is bumped, so a colleague's form loaded before is refused.
        """
        reason = f"handled by {assignee}" if assignee else "no longer handled by anyone"
        self._operator(
            item_id,
            actor,
            "take" if assignee else "give_back",
            reason,
            allowed=set(ItemState),
            to_state=None,
            extra={"assignee": assignee},
            expected_version=expected_version,
        )

    def _operator(
        self,
        item_id: int,
        actor: str,
        action: str,
        reason: str,
        *,
        allowed: set[ItemState] | frozenset[ItemState],
        to_state: ItemState | None,
        extra: dict[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> None:
        """Apply a person's action in one transaction; ``to_state`` None keeps the state (an edit, a take)."""
        if not reason or not reason.strip():
            raise ValueError(f"{action} needs a reason for the audit trail")
        c = work_items.c
        now = _now()
        with self._tx() as conn:
            current, version = self._current(conn, item_id, action, expected_version)
            if current not in allowed:
                raise InvalidTransitionError(f"cannot {action.replace('_', ' ')} work item {item_id}: it is {current.value}")
            target = current if to_state is None else to_state
            values: dict[str, Any] = {"state": target.value, "updated_at": now, "version": c.version + 1, **(extra or {})}
            if target is not current:
                values.update(not_before=None, lease_owner=None, lease_expires_at=None)
            if to_state in (ItemState.NEW, ItemState.DONE):
                values.update(error_type=None, error_code=None, error_message=None)
            result = conn.execute(update(work_items).where(c.id == item_id, c.version == version).values(**values))
            if result.rowcount == 0:
                raise ItemChangedError(f"work item {item_id} changed while {action} was applied; nothing was changed, try again")
            self._audit(conn, [item_id], actor, action, current if to_state else None, to_state, redact(reason), now)

    @staticmethod
    def _current(conn: Connection, item_id: int, action: str, expected_version: int | None) -> tuple[ItemState, int]:
        """The item's state and version, refusing when it is not the version the person saw."""
        row = conn.execute(select(work_items.c.state, work_items.c.version).where(work_items.c.id == item_id)).first()
        if row is None:
            raise ItemNotFoundError(f"work item {item_id} does not exist")
        if expected_version is not None and row.version != expected_version:
            raise ItemChangedError(
                f"work item {item_id} changed since it was shown (version {expected_version}, now {row.version}); nothing was changed by {action}"
            )
        return ItemState(row.state), row.version

    def retry_matching(self, matching: ItemFilter, *, up_to_id: int, reason: str, actor: str) -> int:
        """Retry every failed or abandoned item ``matching`` selects with an id up to ``up_to_id``; return how many.

        ``up_to_id`` is the newest id the person was shown when they confirmed, so an item that
        arrived or failed after that is not swept in unseen; items that changed state since are skipped.
        One transaction; each item gets its audit row.
        """
        if not reason.strip():
            raise ValueError("retry needs a reason for the audit trail")
        c = work_items.c
        now = _now()
        states = [state.value for state in self.RETRYABLE if matching.state is None or state is matching.state]
        query = select(c.id, c.state).where(*_conditions(matching, is_postgres=self._is_postgres), c.state.in_(states), c.id <= up_to_id).order_by(c.id)
        if self._is_postgres:
            query = query.with_for_update(skip_locked=True)  # a robot's claim of the same item wins; it is skipped
        retried = 0
        with self._tx() as conn:
            found = conn.execute(query).all()
            for start in range(0, len(found), 500):  # well under SQLite's bound-parameter limit
                chunk = found[start : start + 500]
                conn.execute(
                    update(work_items)
                    .where(c.id.in_([row.id for row in chunk]))
                    .values(
                        state=ItemState.NEW.value,
                        attempts=0,
                        not_before=None,
                        lease_owner=None,
                        lease_expires_at=None,
                        error_type=None,
                        error_code=None,
                        error_message=None,
                        updated_at=now,
                        version=c.version + 1,
                    )
                )
                conn.execute(
                    insert(audit),
                    [
                        {
                            "item_id": row.id,
                            "at": now,
                            "actor": actor,
                            "action": "retry",
                            "from_state": row.state,
                            "to_state": ItemState.NEW.value,
                            "reason": redact(reason),
                        }
                        for row in chunk
                    ],
                )
                retried += len(chunk)
        return retried

    # ------------------------------------------------------------------ reading

    def _seal(self, payload: dict[str, Any]) -> dict[str, Any]:
        if self._cipher is None:
            return payload
        return {SEALED: self._cipher.encrypt(json.dumps(payload, separators=(",", ":")).encode()).decode()}

    def _item(self, row: Any) -> WorkItem:
        item = WorkItem.from_row(row)
        sealed = item.payload.get(SEALED) if len(item.payload) == 1 else None
        if sealed is None:
            return item
        if self._cipher is None:
            raise PayloadError(f"work item {item.id}'s payload is encrypted; set KUNTAFLOW_PAYLOAD_KEY to read it")
        try:
            payload = json.loads(self._cipher.decrypt(sealed.encode()))
        except InvalidToken:
            raise PayloadError(f"work item {item.id}'s payload cannot be opened with this KUNTAFLOW_PAYLOAD_KEY") from None
        return item.model_copy(update={"payload": payload})

    def get(self, item_id: int) -> WorkItem:
        """Raises: ItemNotFoundError."""
        with self._tx() as conn:
            row = conn.execute(_ITEM_BY_ID, {"item_id": item_id}).first()
        if row is None:
            raise ItemNotFoundError(f"work item {item_id} does not exist")
        return self._item(row)

    def get_many(self, item_ids: Sequence[int], *, payloads: bool = True) -> list[WorkItem]:
        """The items with these ids, in that order, in one query (a robot batch's 250 are one round trip).

        ``payloads=False``: each item's ``payload`` is left empty, neither read nor decrypted; for
        what follows a batch (states, outcomes, leases), where opening a thousand sealed payloads
        took longer than the rest of it.

        Raises: ItemNotFoundError (naming the first missing id).
        """
        rows: dict[int, Any] = {}
        columns = [work_items] if payloads else [column for column in work_items.c if column.name != "payload"]
        with self._tx() as conn:
            for start in range(0, len(item_ids), 500):  # well under SQLite's bound-parameter limit
                chunk = list(item_ids[start : start + 500])
                rows |= {row.id: row for row in conn.execute(select(*columns).where(work_items.c.id.in_(chunk)))}
        if missing := [item_id for item_id in item_ids if item_id not in rows]:
            raise ItemNotFoundError(f"work item {missing[0]} does not exist")
        if not payloads:
            return [WorkItem.from_row(rows[item_id], payload={}) for item_id in item_ids]
        return [self._item(rows[item_id]) for item_id in item_ids]

    def find_ids(self, process: str, references: Iterable[str]) -> dict[str, int]:
        """``{reference: item id}`` for the references that have an item; no payload is read or opened."""
        wanted = list(dict.fromkeys(references))
        found: dict[str, int] = {}
        with self._tx() as conn:
            for start in range(0, len(wanted), 500):  # well under SQLite's bound-parameter limit
                chunk = wanted[start : start + 500]
                query = select(work_items.c.reference, work_items.c.id).where(work_items.c.process == process, work_items.c.reference.in_(chunk))
                found |= {row.reference: row.id for row in conn.execute(query)}
        return found

    def exists(self, process: str, reference: str) -> bool:
        """Whether the case was added, without reading its payload (a payload-key problem does not fail it)."""
        return bool(self.find_ids(process, [reference]))

    def find(self, process: str, reference: str) -> WorkItem | None:
        with self._tx() as conn:
            row = conn.execute(select(work_items).where(work_items.c.process == process, work_items.c.reference == reference)).first()
        return self._item(row) if row else None

    def list(self, *, process: str | None = None, state: ItemState | str | None = None, limit: int = 100) -> list[WorkItem]:
        """Items newest first, optionally of one process and one state."""
        query = select(work_items).order_by(work_items.c.id.desc()).limit(limit)
        if process:
            query = query.where(work_items.c.process == process)
        if state is not None:
            query = query.where(work_items.c.state == ItemState.parse(state).value)
        with self._tx() as conn:
            return [self._item(row) for row in conn.execute(query)]

    def children(self, parent_id: int) -> list[WorkItem]:
        with self._tx() as conn:
            rows = conn.execute(select(work_items).where(work_items.c.parent_id == parent_id).order_by(work_items.c.id))
            return [self._item(row) for row in rows]

    def counts(self) -> dict[str, dict[str, int]]:
        """``{process: {state: count}}`` with every state present."""
        c = work_items.c
        with self._tx() as conn:
            rows = conn.execute(select(c.process, c.state, func.count()).group_by(c.process, c.state)).all()
        result: dict[str, dict[str, int]] = {}
        for process, state, count in rows:
            result.setdefault(process, {s.value: 0 for s in ItemState})[state] = count
        return dict(sorted(result.items()))

    def page(self, matching: ItemFilter, *, before_id: int | None = None, limit: int = 50) -> ItemPage:
        """One page of ``matching`` items, newest first, after ``before_id`` (keyset paging by id).

        Reads the list's columns only, never a payload (none is decrypted), on the indexes of
        migration 0003, so a page deep in 100,000 items costs what the first one does.
        """
        c = work_items.c
        query = select(*_SUMMARY_COLUMNS).where(*_conditions(matching, is_postgres=self._is_postgres)).order_by(c.id.desc()).limit(limit + 1)
        if before_id is not None:
            query = query.where(c.id < before_id)
        with self._tx() as conn:
            rows = conn.execute(query).all()
        items = [ItemSummary.from_row(row) for row in rows[:limit]]
        return ItemPage(items=items, next_before_id=items[-1].id if len(rows) > limit else None)

    def count(self, matching: ItemFilter, *, states: Sequence[ItemState] | None = None) -> tuple[int, int | None]:
        """How many items ``matching`` selects (only those in ``states`` when given), and the newest one's id."""
        c = work_items.c
        query = select(func.count(), func.max(c.id)).where(*_conditions(matching, is_postgres=self._is_postgres))
        if states is not None:
            query = query.where(c.state.in_([state.value for state in states]))
        with self._tx() as conn:
            total, newest = conn.execute(query).one()
        return total, newest

    def state_summary(self, processes: Sequence[str]) -> list[StateSummary]:
        """Per process and state: how many items, and for the states that wait for a person
        (:func:`waiting_states`), since when the longest-waiting one has.

        Two queries: the counts from the (process, state, id) index alone, the oldest change only over
        the waiting states' rows (the finished ones, most of the table, are never read).
        """
        c = work_items.c
        mine = c.process.in_(list(processes))
        per_process = [and_(c.process == process, c.state.in_([state.value for state in waiting_states(process)])) for process in processes]
        waiting = or_(*per_process) if per_process else false()
        with self._tx() as conn:
            counts = conn.execute(select(c.process, c.state, func.count()).where(mine).group_by(c.process, c.state).order_by(c.process, c.state)).all()
            oldest = (
                {
                    (process, state): since
                    for process, state, since in conn.execute(select(c.process, c.state, func.min(c.updated_at)).where(waiting).group_by(c.process, c.state))
                }
                if processes
                else {}
            )
        return [
            StateSummary(process=process, state=ItemState(state), count=count, oldest_since=_aware(oldest.get((process, state))))
            for process, state, count in counts
        ]

    def audit(self, item_id: int) -> list[AuditEntry]:
        """Every change of the item, oldest first."""
        with self._tx() as conn:
            rows = conn.execute(select(audit).where(audit.c.item_id == item_id).order_by(audit.c.id)).all()
        return [
            AuditEntry(
                at=_aware(row.at),
                actor=row.actor,
                action=row.action,
                from_state=ItemState(row.from_state) if row.from_state else None,
                to_state=ItemState(row.to_state) if row.to_state else None,
                reason=row.reason,
            )
            for row in rows
        ]

    def _audit(
        self,
        conn: Connection,
        ids: list[int],
        actor: str,
        action: str,
        from_state: ItemState | None,
        to_state: ItemState | None,
        reason: str | None,
        at: datetime,
    ) -> None:
        rows = [
            {
                "item_id": item_id,
                "at": at,
                "actor": actor,
                "action": action,
                "from_state": from_state.value if from_state else None,
                "to_state": to_state.value if to_state else None,
                "reason": reason,
            }
            for item_id in ids
        ]
        conn.execute(_AUDIT_INSERT, rows[0] if len(rows) == 1 else rows)

    def record(self, item_id: int, *, actor: str, action: str, reason: str, expected_version: int | None = None) -> None:
        """Append a non-state event to the audit trail (e.g. who approved a human step, a note).

        The item itself is unchanged (its version too); ``expected_version`` refuses a note on an
        item that changed since the person saw it.
        """
        if not reason.strip():
            raise ValueError(f"{action} needs a reason for the audit trail")
        with self._tx() as conn:
            self._current(conn, item_id, action, expected_version)
            self._audit(conn, [item_id], actor, action, None, None, redact(reason), _now())

    def clear_personal_data(self, *, finished_before: datetime, keep: Mapping[str, Collection[str]], actor: str, limit: int = 500) -> list[int]:
        """Strip the payloads of items finished before ``finished_before`` down to the fields ``keep`` names
        for their process, plus ``_personal_data_cleared`` (when); return the ids cleared, at most ``limit``.

        State, codes, output, checkpoints and the audit trail stay; each clearing is an audit entry
        ``clear_personal_data``. An item cleared since its last change is left alone, so a second run clears
        nothing twice; one an operator changed since (an edit, a retry) is cleared again when it is finished again.
        """
        c, a = work_items.c, audit.c
        cleared_since_change = select(a.id).where(a.item_id == c.id, a.action == CLEARED_ACTION, a.at >= c.updated_at).exists()
        final = [state.value for state in ItemState if state.is_final]
        query = select(work_items).where(c.state.in_(final), c.updated_at < finished_before, ~cleared_since_change).order_by(c.id).limit(limit)
        now = _now()
        cleared: list[int] = []
        with self._tx() as conn:
            for row in conn.execute(query.with_for_update(skip_locked=True) if self._is_postgres else query).all():
                kept = {name: value for name, value in self._item(row).payload.items() if name in keep.get(row.process, ())}
                payload = self._seal({**kept, CLEARED_FIELD: now.isoformat(timespec="seconds")})
                conn.execute(update(work_items).where(c.id == row.id).values(payload=payload, version=c.version + 1))
                reason = f"personal data removed from the payload; kept: {', '.join(sorted(kept)) or 'nothing'}"
                self._audit(conn, [row.id], actor, CLEARED_ACTION, None, None, reason, now)
                cleared.append(row.id)
        return cleared


#: What a list shows of an item: everything but the payload and the output.
_SUMMARY_COLUMNS = tuple(
    work_items.c[name] for name in ("id", "process", "reference", "state", "attempts", "error_code", "assignee", "version", "created_at", "updated_at")
)


def _conditions(matching: ItemFilter, *, is_postgres: bool) -> list[Any]:
    """The WHERE clauses of a filter; each one an index of migration 0003 serves."""
    c = work_items.c
    conditions: list[Any] = [c.process.in_(sorted(matching.processes))]
    if matching.state is not None:
        conditions.append(c.state == matching.state.value)
    if matching.error_code:
        conditions.append(c.error_code == matching.error_code)
    if matching.reference_prefix:
        # Bounds let the (process, reference) unique index read just the prefix's range; LIKE keeps it exact
        # whatever the collation (SQLite's is binary, so there the upper bound is exact too).
        prefix = matching.reference_prefix
        conditions += [c.reference >= prefix, c.reference.startswith(prefix, autoescape=True)]
        if not is_postgres:
            conditions.append(c.reference < prefix[:-1] + chr(ord(prefix[-1]) + 1))
    if matching.created_before is not None:
        conditions.append(c.created_at < matching.created_before)
    return conditions


def _dialect_insert(is_postgres: bool):
    return postgresql_insert if is_postgres else sqlite_insert


@functools.cache
def _checkpoint_upsert(is_postgres: bool):
    """One checkpoint, inserted or its data replaced: built once per dialect, as a robot writes several per item."""
    c = checkpoints.c
    statement = _dialect_insert(is_postgres)(checkpoints).values(
        item_id=bindparam("c_item_id"),
        step=bindparam("c_step"),
        data=bindparam("c_data", type_=c.data.type),
        created_at=bindparam("c_created_at", type_=c.created_at.type),
    )
    newer = statement.excluded
    return statement.on_conflict_do_update(index_elements=["item_id", "step"], set_={"data": newer.data, "created_at": newer.created_at})


def _claim_audit_row(row: Any, owner: str, now: datetime, *, refunded: bool) -> dict[str, Any]:
    """The audit row of one claim; a reclaim names the expired lease and whether its attempt was given back."""
    reclaimed = row.state == ItemState.IN_PROGRESS.value
    reason = None
    if reclaimed:
        reason = f"lease of {row.lease_owner} expired" + ("; it never started the item, so the attempt is not counted" if refunded else "")
    return {
        "item_id": row.id,
        "at": now,
        "actor": owner,
        "action": "reclaim" if reclaimed else "claim",
        "from_state": row.state,
        "to_state": ItemState.IN_PROGRESS.value,
        "reason": reason,
    }


__all__ = ["WorkQueue", "exponential_backoff"]
