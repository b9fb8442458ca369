"""补正 requests at any stage: the supplement_requests table (补正材料通知书 with its derived supply deadline)

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-04 01:00:00

A new, empty table: nothing existing is rewritten (a 补正 recorded before it has no request row; its notice
falls back to the rule on the received date).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('supplement_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('ticket_uid', sa.String(length=36), nullable=False),
    sa.Column('stage', sa.String(length=12), nullable=False),
    sa.Column('requested_on', sa.Date(), nullable=False),
    sa.Column('requested_by', sa.String(length=40), nullable=False),
    sa.Column('materials', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('limit_days', sa.Integer(), nullable=False),
    sa.Column('limit_unit', sa.String(length=8), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('due_provisional', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('supplied_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplement_requests')),
    sa.UniqueConstraint('event_id', name=op.f('uq_supplement_requests_event_id'))
    )
    with op.batch_alter_table('supplement_requests', schema=None) as batch_op:
        batch_op.create_index('ix_supplement_requests_open', ['state', 'due_on'], unique=False)
        batch_op.create_index('ix_supplement_requests_ticket', ['ticket_uid', 'requested_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('supplement_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_supplement_requests_ticket')
        batch_op.drop_index('ix_supplement_requests_open')
    op.drop_table('supplement_requests')
