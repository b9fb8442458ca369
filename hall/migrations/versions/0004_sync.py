"""village-laptop sync: enrolled peers

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 01:00:00

One new projection table, empty on an existing ledger (no event has made it yet).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_peers",
        sa.Column("node_id", sa.String(36), nullable=False),
        sa.Column("intake_point", sa.String(3), nullable=False),
        sa.Column("sign_key", sa.String(64), nullable=False),
        sa.Column("box_key", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("node_id", name=op.f("pk_sync_peers")),
    )


def downgrade() -> None:
    op.drop_table("sync_peers")
