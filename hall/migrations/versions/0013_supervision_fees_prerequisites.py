"""效能监察, 一次性收费, 先锋岗 and item prerequisites

Revision ID: 0013
Revises: 0007
Create Date: 2026-12-04 03:00:00

Two new, empty tables (inspection_findings, fee_charges) and columns with defaults: staff.vanguard (no one is
marked until the administrator says so), items.fee_cents (0: 免费), items.prerequisite ("": none), and the 暂定
flags of proxy legs, follow-ups and appointments (false: the next calendar change re-derives them). Nothing
existing is rewritten.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fee_charges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('ticket_uid', sa.String(length=36), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('payer', sa.String(length=80), nullable=False),
    sa.Column('receipt_no', sa.String(length=40), nullable=False),
    sa.Column('charged_on', sa.Date(), nullable=False),
    sa.Column('charged_by', sa.String(length=40), nullable=False),
    sa.Column('window_code', sa.String(length=8), nullable=False),
    sa.Column('item_code', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_charges')),
    sa.UniqueConstraint('event_id', name=op.f('uq_fee_charges_event_id'))
    )
    with op.batch_alter_table('fee_charges', schema=None) as batch_op:
        batch_op.create_index('ix_fee_charges_charged', ['charged_on'], unique=False)
        batch_op.create_index('ix_fee_charges_ticket', ['ticket_uid'], unique=False)
    op.create_table('inspection_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('ticket_uid', sa.String(length=36), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=True),
    sa.Column('inspector', sa.String(length=40), nullable=False),
    sa.Column('found_on', sa.Date(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_findings')),
    sa.UniqueConstraint('event_id', name=op.f('uq_inspection_findings_event_id'))
    )
    with op.batch_alter_table('inspection_findings', schema=None) as batch_op:
        batch_op.create_index('ix_inspection_findings_ticket', ['ticket_uid', 'found_on'], unique=False)
    # Plain ADD COLUMN (a constant default), not a batch table copy: staff and items are referenced by foreign
    # keys, and SQLite's copy-and-rename would break them.
    op.add_column('staff', sa.Column('vanguard', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('items', sa.Column('fee_cents', sa.Integer(), server_default='0', nullable=False))
    op.add_column('items', sa.Column('prerequisite', sa.String(length=16), server_default='', nullable=False))
    # 暂定 on the derived dates that kept none (a row written before reads as confirmed until re-derived).
    op.add_column('proxy_legs', sa.Column('dept_due_provisional', sa.Boolean(), server_default=sa.false(),
                                          nullable=False))
    op.add_column('follow_ups', sa.Column('due_provisional', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('appointments', sa.Column('on_day_provisional', sa.Boolean(), server_default=sa.false(),
                                            nullable=False))


def downgrade() -> None:
    for table, column in (('appointments', 'on_day_provisional'), ('follow_ups', 'due_provisional'),
                          ('proxy_legs', 'dept_due_provisional')):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('prerequisite')
        batch_op.drop_column('fee_cents')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('vanguard')
    with op.batch_alter_table('inspection_findings', schema=None) as batch_op:
        batch_op.drop_index('ix_inspection_findings_ticket')
    op.drop_table('inspection_findings')
    with op.batch_alter_table('fee_charges', schema=None) as batch_op:
        batch_op.drop_index('ix_fee_charges_ticket')
        batch_op.drop_index('ix_fee_charges_charged')
    op.drop_table('fee_charges')
