"""rating screens (the enrolled key of each node's citizen rating screen) and an index of signed chain heads

Revision ID: 0015
Revises: 0007
Create Date: 2026-12-04 03:00:00

Invites for a rating are sealed to the screen's key, so a clerk's window cannot rate (issue 15 item 1). A new
table, empty on an existing ledger: each node's screen enrols itself the first time it is opened.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0013'
branch_labels = None
depends_on = None


HEAD_SIGNED_WHERE = "type = 'ledger.head_signed'"


def upgrade() -> None:
    # Signed chain heads (ledger.head_signed), found without scanning the events (partial: saves pay nothing).
    op.create_index("ix_events_head_signed", "events", ["node_id", "seq"], unique=False,
                    sqlite_where=sa.text(HEAD_SIGNED_WHERE), postgresql_where=sa.text(HEAD_SIGNED_WHERE))
    op.create_table(
        "rating_screens",
        sa.Column("node_id", sa.String(length=36), nullable=False),
        sa.Column("device", sa.String(length=40), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(), nullable=False),
        sa.Column("stamp", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("node_id", name=op.f("pk_rating_screens")),
    )


def downgrade() -> None:
    op.drop_table("rating_screens")
    op.drop_index("ix_events_head_signed", table_name="events")
