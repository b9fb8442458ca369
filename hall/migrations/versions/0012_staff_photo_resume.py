"""staff: the badge board's photo (a small JPEG, base64) and short résumé

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 03:00:00

Both are set through ``staff.changed`` events (管理 → 工作人员 → 修改); existing staff get empty values.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'  # was '0007'; chained after main's 0007 → 0014 → 0011 when main was merged in
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photo', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('resume', sa.String(length=400), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('resume')
        batch_op.drop_column('photo')
