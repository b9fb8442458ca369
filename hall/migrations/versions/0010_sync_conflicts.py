"""village sync: conflicts (同步冲突) and the ticket events they hold back

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-04 03:00:00

Two new projection tables, empty on an existing ledger: before this revision a competing action from another node
was refused at import, so no stored event can have made a conflict yet.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_conflicts",
        sa.Column("conflict_id", sa.String(64), nullable=False),
        sa.Column("ticket_uid", sa.String(36), nullable=False),
        sa.Column("parent_version", sa.Integer(), nullable=False),
        sa.Column("node_a", sa.String(36), nullable=False),
        sa.Column("event_a", sa.String(36), nullable=False),
        sa.Column("node_b", sa.String(36), nullable=False),
        sa.Column("event_b", sa.String(36), nullable=False),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("kept_node", sa.String(36), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("resolved_by", sa.String(80), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolution_event", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("conflict_id", name=op.f("pk_sync_conflicts")),
    )
    op.create_index("ix_sync_conflicts_ticket", "sync_conflicts", ["ticket_uid", "state"], unique=False)
    op.create_index("ix_sync_conflicts_state", "sync_conflicts", ["state", "found_at"], unique=False)
    op.create_table(
        "sync_held_events",
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("ticket_uid", sa.String(36), nullable=False),
        sa.Column("conflict_id", sa.String(64), nullable=False),
        sa.Column("node_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_sync_held_events")),
    )
    op.create_index(op.f("ix_sync_held_events_ticket_uid"), "sync_held_events", ["ticket_uid"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sync_held_events_ticket_uid"), table_name="sync_held_events")
    op.drop_table("sync_held_events")
    op.drop_index("ix_sync_conflicts_state", table_name="sync_conflicts")
    op.drop_index("ix_sync_conflicts_ticket", table_name="sync_conflicts")
    op.drop_table("sync_conflicts")
