"""Join the two branches made side by side from 0002: the Desk's columns and indexes (0003) and the person vault (0004).

They change different tables, so either order is right: a database at 0003 gets the vault, one at
0004 (made before the Desk) gets the Desk's columns, and both end here.

Revision ID: 0005
Revises: 0003, 0004
Create Date: 2026-12-04
"""

revision = "0005"
down_revision = ("0003", "0004")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # a join: 0003 and 0004 did the work


def downgrade() -> None:
    pass
