"""rating screens: the enrolled public key of each node's citizen rating screen

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
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
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
