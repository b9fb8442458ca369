"""queue search: the four search keys over the open tickets only (partial indexes) for a search's figures

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 21:30:00

A search's figures (due today, overdue, provisional) count open tickets; with these they read a few index
entries instead of every ticket the search matched. Each index holds only the open tickets (a few thousand at
1M), built in one pass over ``tickets``. SQLite's statistics, when the ledger has any, are refreshed for them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# As hall/models/ticket.py has them (the migration keeps its own copy: a later change there is a new revision).
KEYS = {
    "ix_tickets_open_name": "applicant_name",
    "ix_tickets_open_initials": "applicant_initials",
    "ix_tickets_open_id_tail": "substr(applicant_id_no, 15, 4)",
    "ix_tickets_open_phone_tail": "substr(applicant_phone, length(applicant_phone) - 3, 4)",
}


def upgrade() -> None:
    for name, key in KEYS.items():
        op.create_index(name, "tickets", [sa.text(key)], unique=False, if_not_exists=True,
                        sqlite_where=sa.text("+is_open IS 1"), postgresql_where=sa.text("is_open IS true"))
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        has_stats = bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'").first()
        if has_stats:
            for name in KEYS:
                bind.exec_driver_sql(f"ANALYZE {name}")


def downgrade() -> None:
    for name in reversed(KEYS):
        op.drop_index(name, table_name="tickets")
