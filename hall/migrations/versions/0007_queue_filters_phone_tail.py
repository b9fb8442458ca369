"""queue finding: indexes on the applicant's phone tail, on state (作废) and on due date (全部)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 01:00:00

Built once on an existing ledger: one pass over ``tickets`` per index. SQLite's statistics, when the ledger has
any, are refreshed for these indexes only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_phone_tail", "tickets",
                    [sa.text("substr(applicant_phone, length(applicant_phone) - 3, 4)")], unique=False,
                    if_not_exists=True)
    op.create_index("ix_tickets_state_due", "tickets", ["state", "due_date"], unique=False, if_not_exists=True)
    op.create_index("ix_tickets_due", "tickets", ["due_date"], unique=False, if_not_exists=True)
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        has_stats = bind.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'").first()
        if has_stats:
            bind.exec_driver_sql("ANALYZE ix_tickets_phone_tail")
            bind.exec_driver_sql("ANALYZE ix_tickets_state_due")
            bind.exec_driver_sql("ANALYZE ix_tickets_due")


def downgrade() -> None:
    op.drop_index("ix_tickets_due", table_name="tickets")
    op.drop_index("ix_tickets_state_due", table_name="tickets")
    op.drop_index("ix_tickets_phone_tail", table_name="tickets")
