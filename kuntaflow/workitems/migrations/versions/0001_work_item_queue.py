"""The work-item queue's first schema: items, their step checkpoints and their audit trail.

Written out in full rather than read from ``kuntaflow/workitems/schema.py``: a revision must stay
what it was when later revisions change the tables. It is exactly what ``metadata.create_all``
made before the queue had migrations, so such a database is stamped with this revision as it is.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identity.
_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")
_ACTIVE = sa.column("state").in_(("NEW", "APPLICATION_FAILED", "IN_PROGRESS"))


def upgrade() -> None:
    op.create_table(
        "kf_work_items",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("process", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(256), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True)),
        sa.Column("deadline", sa.DateTime(timezone=True)),
        sa.Column("lease_owner", sa.String(128)),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True)),
        sa.Column("error_type", sa.String(24)),
        sa.Column("error_code", sa.String(64)),
        sa.Column("error_message", sa.Text),
        sa.Column("output", sa.JSON),
        sa.Column("parent_id", _ID, sa.ForeignKey("kf_work_items.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("process", "reference", name="uq_kf_work_items_process_reference"),
    )
    # Claims scan only live items in id order: finished ones are outside this partial index.
    op.create_index("ix_kf_work_items_active", "kf_work_items", ["process", "id"], postgresql_where=_ACTIVE, sqlite_where=_ACTIVE)
    op.create_index("ix_kf_work_items_state", "kf_work_items", ["process", "state"])
    op.create_table(
        "kf_work_item_checkpoints",
        sa.Column("item_id", _ID, sa.ForeignKey("kf_work_items.id"), primary_key=True),
        sa.Column("step", sa.String(64), primary_key=True),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "kf_work_item_audit",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("item_id", _ID, sa.ForeignKey("kf_work_items.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(24)),
        sa.Column("to_state", sa.String(24)),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_kf_work_item_audit_item_id", "kf_work_item_audit", ["item_id"])


def downgrade() -> None:
    op.drop_table("kf_work_item_audit")
    op.drop_table("kf_work_item_checkpoints")
    op.drop_table("kf_work_items")
