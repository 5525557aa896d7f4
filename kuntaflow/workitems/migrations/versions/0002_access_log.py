"""The access log: who looked at whose personal data, when and why (append-only).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "kf_access_log",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(128), nullable=False),
        sa.Column("process", sa.String(64)),
        sa.Column("purpose", sa.Text, nullable=False),
    )
    op.create_index("ix_kf_access_log_subject", "kf_access_log", ["subject_kind", "subject_id"])


def downgrade() -> None:
    op.drop_index("ix_kf_access_log_subject", table_name="kf_access_log")
    op.drop_table("kf_access_log")
