"""village sync: events that wait for what they depend on (parking)

Revision ID: 0017
Revises: 0010
Create Date: 2026-12-04 19:00:00

One new local table (not a projection, never replicated), empty on an existing ledger: before this revision an
import whose events depended on something absent was refused, so nothing waits yet.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_parked",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("node_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_uid", sa.String(36), nullable=True),
        sa.Column("actor_name", sa.String(40), nullable=False),
        sa.Column("actor_role", sa.String(12), nullable=False),
        sa.Column("occurred_at", sa.String(32), nullable=False),
        sa.Column("type", sa.String(48), nullable=False),
        sa.Column("ticket_uid", sa.String(36), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("sender", sa.String(36), nullable=False),
        sa.Column("bundle_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("parked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_parked")),
        sa.UniqueConstraint("event_id", name=op.f("uq_sync_parked_event_id")),
        sa.UniqueConstraint("node_id", "seq", name="uq_sync_parked_node_seq"),
    )


def downgrade() -> None:
    op.drop_table("sync_parked")
