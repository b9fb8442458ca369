"""village-laptop sync: the local record of bundles exported and imported

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-04 03:00:00

One new local table (not a projection, never replicated): empty on an existing ledger, so tickets synced before
it show 未同步 until the next exchange.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_exchanges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("node", sa.String(36), nullable=False),
        sa.Column("peer", sa.String(36), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("bundle_id", sa.String(64), nullable=False),
        sa.Column("chains", sa.Text(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("new_events", sa.Integer(), nullable=False),
        sa.Column("sent_seq", sa.Integer(), nullable=False),
        sa.Column("acked_seq", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_exchanges")),
    )
    op.create_index(op.f("ix_sync_exchanges_peer"), "sync_exchanges", ["peer"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sync_exchanges_peer"), table_name="sync_exchanges")
    op.drop_table("sync_exchanges")
