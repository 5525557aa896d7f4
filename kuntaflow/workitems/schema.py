"""Tables of the work-item queue (SQLAlchemy Core; the same schema on SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identity.
_ID = BigInteger().with_variant(Integer, "sqlite")

work_items = Table(
    "kf_work_items",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("process", String(64), nullable=False),
    Column("reference", String(256), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("state", String(24), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False),
    Column("not_before", DateTime(timezone=True)),
    Column("deadline", DateTime(timezone=True)),
    Column("lease_owner", String(128)),
    Column("lease_expires_at", DateTime(timezone=True)),
    Column("error_type", String(24)),
    Column("error_code", String(64)),
    Column("error_message", Text),
    Column("output", JSON),
    Column("parent_id", _ID, ForeignKey("kf_work_items.id")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Bumped by every change of the row: a person's action names the version they saw (optimistic locking).
    Column("version", Integer, nullable=False, server_default="1"),
    # The member of staff who said they are handling the case (the Desk's "käsittelen"); None: nobody.
    Column("assignee", String(128)),
    UniqueConstraint("process", "reference", name="uq_kf_work_items_process_reference"),
)
# Claims scan only live items in id order; finished items (the vast majority over time) are
# outside this partial index, so a claim costs the same with 1,000 or 1,000,000 finished cases.
ACTIVE_STATES = ("NEW", "APPLICATION_FAILED", "IN_PROGRESS")
_active = work_items.c.state.in_(ACTIVE_STATES)
Index("ix_kf_work_items_active", work_items.c.process, work_items.c.id, postgresql_where=_active, sqlite_where=_active)
# The Desk's list pages newest first by id (keyset paging) within a process, by state or by error code;
# the counts by state use the first. Neither ever reads a payload.
Index("ix_kf_work_items_state_id", work_items.c.process, work_items.c.state, work_items.c.id)
Index("ix_kf_work_items_error_id", work_items.c.process, work_items.c.error_code, work_items.c.id)

checkpoints = Table(
    "kf_work_item_checkpoints",
    metadata,
    Column("item_id", _ID, ForeignKey("kf_work_items.id"), primary_key=True),
    Column("step", String(64), primary_key=True),
    Column("data", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

audit = Table(
    "kf_work_item_audit",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("item_id", _ID, ForeignKey("kf_work_items.id"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("from_state", String(24)),
    Column("to_state", String(24)),
    Column("reason", Text),
)

# Who looked at whose personal data, when and why (kuntaflow/workitems/access_log.py); append-only.
access_log = Table(
    "kf_access_log",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_id", String(128), nullable=False),
    Column("process", String(64)),
    Column("purpose", Text, nullable=False),
    Index("ix_kf_access_log_subject", "subject_kind", "subject_id"),
)

# The person vault (kuntaflow/person_vault): a person's henkilötunnus and how to reach them, sealed with the
# payload key, under the salted key Koha holds; and the relationships they are kept for (retention).
person_vault = Table(
    "kf_person_vault",
    metadata,
    Column("person_key", String(64), primary_key=True),
    Column("sealed", Text, nullable=False),
    Column("guardian_key", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

person_relations = Table(
    "kf_person_relations",
    metadata,
    Column("person_key", String(64), ForeignKey("kf_person_vault.person_key"), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("ref", String(128), primary_key=True),
    Column("process", String(64), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
