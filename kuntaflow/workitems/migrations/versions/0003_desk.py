"""The Desk: an item's version (optimistic locking) and assignee; indexes for its list pages.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("kf_work_items", sa.Column("version", sa.Integer, nullable=False, server_default="1"))
    op.add_column("kf_work_items", sa.Column("assignee", sa.String(128)))
    op.drop_index("ix_kf_work_items_state", table_name="kf_work_items")
    op.create_index("ix_kf_work_items_state_id", "kf_work_items", ["process", "state", "id"])
    op.create_index("ix_kf_work_items_error_id", "kf_work_items", ["process", "error_code", "id"])


def downgrade() -> None:
    op.drop_index("ix_kf_work_items_error_id", table_name="kf_work_items")
    op.drop_index("ix_kf_work_items_state_id", table_name="kf_work_items")
    op.create_index("ix_kf_work_items_state", "kf_work_items", ["process", "state"])
    with op.batch_alter_table("kf_work_items") as batch:
        batch.drop_column("assignee")
        batch.drop_column("version")
