"""village sync: the reference index covers every staff event type the hall relays to a village's laptop

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 22:40:00

A village's laptop now gets every staff event of that village's people (停用/启用, a password reset, a change of
name, role, window or intake point, a B-post), not only their registration and passwords: the partial index the
relay reads them through is dropped and created with the wider predicate (one pass over ``events``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# As hall/models/ledger.py has it (the migration keeps its own copy: a later change there is a new revision).
REFERENCE_WHERE = ("type IN ('calendar.local_holiday_added', 'calendar.year_set', 'catalog.imported', "
                   "'intake_point.added', 'settings.changed', 'staff.active_set', 'staff.added', "
                   "'staff.b_post_set', 'staff.changed', 'staff.password_reset', 'staff.password_set')")
# 0016's, for the downgrade.
EARLIER_WHERE = ("type IN ('calendar.local_holiday_added', 'calendar.year_set', 'catalog.imported', "
                 "'intake_point.added', 'settings.changed', 'staff.added', 'staff.password_set')")


def _recreate(where: str) -> None:
    op.drop_index("ix_events_reference", table_name="events")
    op.create_index("ix_events_reference", "events", ["node_id", "seq"], unique=False,
                    sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade() -> None:
    _recreate(REFERENCE_WHERE)


def downgrade() -> None:
    _recreate(EARLIER_WHERE)
