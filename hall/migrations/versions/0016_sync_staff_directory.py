"""village sync: the hall's staff directory on a laptop, each import's whole ack vector, the reference events

Revision ID: 0016
Revises: 0010
Create Date: 2026-12-04 19:00:00

A new local table (not a projection, never replicated), empty until the laptop's next import from its hall; and a
column of the local exchange record, '{}' on the rows already there (those imports acknowledged only the hall's own
chain, which ``acked_seq`` still holds); and a partial index of the reference events a hall relays at every
export (built once over the existing events; a save pays nothing for it unless it is one of them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0010'
branch_labels = None
depends_on = None

# As hall/models/ledger.py has it (the migration keeps its own copy: a later change there is a new revision).
REFERENCE_WHERE = ("type IN ('calendar.local_holiday_added', 'calendar.year_set', 'catalog.imported', "
                   "'intake_point.added', 'settings.changed', 'staff.added', 'staff.password_set')")


def upgrade() -> None:
    op.create_table(
        "sync_staff_directory",
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("staff_no", sa.String(20), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("window_code", sa.String(8), nullable=True),
        sa.Column("intake_point", sa.String(3), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_sync_staff_directory")),
    )
    with op.batch_alter_table("sync_exchanges") as batch:
        batch.add_column(sa.Column("acks", sa.Text(), server_default="{}", nullable=False))
    op.create_index("ix_events_reference", "events", ["node_id", "seq"], unique=False,
                    sqlite_where=sa.text(REFERENCE_WHERE), postgresql_where=sa.text(REFERENCE_WHERE))


def downgrade() -> None:
    op.drop_index("ix_events_reference", table_name="events")
    with op.batch_alter_table("sync_exchanges") as batch:
        batch.drop_column("acks")
    op.drop_table("sync_staff_directory")
