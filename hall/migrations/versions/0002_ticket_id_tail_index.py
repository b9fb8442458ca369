"""ticket search: index on the last four characters of the applicant's ID number

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 07:00:00

Built once on an existing ledger: one pass over ``tickets`` (about 2.5 s at 1,000,000 tickets on the benchmark
machine; the index is ~20 MB). SQLite's statistics, when the ledger has any, are refreshed for this index only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_id_tail", "tickets", [sa.text("substr(applicant_id_no, 15, 4)")], unique=False,
                    if_not_exists=True)
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        has_stats = bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'").first()
        if has_stats:
            bind.exec_driver_sql("ANALYZE ix_tickets_id_tail")


def downgrade() -> None:
    op.drop_index("ix_tickets_id_tail", table_name="tickets")
