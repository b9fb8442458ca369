"""涉法信访 on the ticket engine: petition cases, agents, hearings, feedback, 移交, 回访, the reception schedule

Revision ID: 0014
Revises: 0007
Create Date: 2026-12-04 03:00:00

New, empty tables: nothing existing is rewritten (a 信访 ticket registered before has no petition row; opening its
case registers one).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('petition_agents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('ticket_uid', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('phone', sa.String(length=24), nullable=False),
    sa.Column('relation', sa.String(length=40), nullable=False),
    sa.Column('is_lawyer', sa.Boolean(), nullable=False),
    sa.Column('license_no', sa.String(length=17), nullable=False),
    sa.Column('firm', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petition_agents')),
    sa.UniqueConstraint('event_id', name=op.f('uq_petition_agents_event_id'))
    )
    with op.batch_alter_table('petition_agents', schema=None) as batch_op:
        batch_op.create_index('ix_petition_agents_ticket', ['ticket_uid', 'seq'], unique=False)

    op.create_table('petition_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('ticket_uid', sa.String(length=36), nullable=False),
    sa.Column('registered_on', sa.Date(), nullable=False),
    sa.Column('first_owner_id', sa.Integer(), nullable=True),
    sa.Column('accept_days', sa.Integer(), nullable=False),
    sa.Column('accept_unit', sa.String(length=8), nullable=False),
    sa.Column('accept_due_on', sa.Date(), nullable=False),
    sa.Column('accept_provisional', sa.Boolean(), nullable=False),
    sa.Column('accept_state', sa.String(length=14), nullable=False),
    sa.Column('accept_told_on', sa.Date(), nullable=True),
    sa.Column('accept_note', sa.Text(), nullable=False),
    sa.Column('four_fixed', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petition_cases')),
    sa.UniqueConstraint('event_id', name=op.f('uq_petition_cases_event_id')),
    sa.UniqueConstraint('ticket_uid', name=op.f('uq_petition_cases_ticket_uid'))
    )
    with op.batch_alter_table('petition_cases', schema=None) as batch_op:
        batch_op.create_index('ix_petition_cases_accept', ['accept_state', 'accept_due_on'], unique=False)

    op.create_table('petition_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('ticket_uid', sa.String(length=36), nullable=False),
    sa.Column('told_on', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('told_by', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petition_feedback')),
    sa.UniqueConstraint('event_id', name=op.f('uq_petition_feedback_event_id'))
    )
    with op.batch_alter_table('petition_feedback', schema=None) as batch_op:
        batch_op.create_index('ix_petition_feedback_ticket', ['ticket_uid', 'told_on'], unique=False)

    op.create_table('petition_hearings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('ticket_uid', sa.String(length=36), nullable=False),
    sa.Column('form', sa.String(length=10), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=120), nullable=False),
    sa.Column('host', sa.String(length=40), nullable=False),
    sa.Column('participants', sa.JSON(), nullable=False),
    sa.Column('record', sa.Text(), nullable=False),
    sa.Column('conclusion', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petition_hearings')),
    sa.UniqueConstraint('event_id', name=op.f('uq_petition_hearings_event_id'))
    )
    with op.batch_alter_table('petition_hearings', schema=None) as batch_op:
        batch_op.create_index('ix_petition_hearings_ticket', ['ticket_uid', 'held_on'], unique=False)

    op.create_table('petition_follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('ticket_uid', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=False),
    sa.Column('limit_days', sa.Integer(), nullable=False),
    sa.Column('limit_unit', sa.String(length=8), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('due_provisional', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    sa.Column('done_by', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petition_follow_ups'))
    )
    with op.batch_alter_table('petition_follow_ups', schema=None) as batch_op:
        batch_op.create_index('ix_petition_follow_ups_due', ['state', 'due_on'], unique=False)
        batch_op.create_index('ix_petition_follow_ups_ticket', ['ticket_uid', 'seq'], unique=False)

    op.create_table('petition_transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('ticket_uid', sa.String(length=36), nullable=False),
    sa.Column('organ', sa.String(length=120), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('sent_on', sa.Date(), nullable=False),
    sa.Column('limit_days', sa.Integer(), nullable=False),
    sa.Column('limit_unit', sa.String(length=8), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('due_provisional', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.Column('organ_ref', sa.String(length=60), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petition_transfers')),
    sa.UniqueConstraint('event_id', name=op.f('uq_petition_transfers_event_id'))
    )
    with op.batch_alter_table('petition_transfers', schema=None) as batch_op:
        batch_op.create_index('ix_petition_transfers_open', ['state', 'due_on'], unique=False)
        batch_op.create_index('ix_petition_transfers_ticket', ['ticket_uid', 'sent_on'], unique=False)

    op.create_table('reception_bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('on_day', sa.Date(), nullable=False),
    sa.Column('petitioner_name', sa.String(length=40), nullable=False),
    sa.Column('petitioner_phone', sa.String(length=24), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('ticket_uid', sa.String(length=36), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reception_bookings')),
    sa.UniqueConstraint('event_id', name=op.f('uq_reception_bookings_event_id'))
    )
    with op.batch_alter_table('reception_bookings', schema=None) as batch_op:
        batch_op.create_index('ix_reception_bookings_slot', ['slot_id', 'state'], unique=False)

    op.create_table('reception_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('leader_id', sa.Integer(), nullable=True),
    sa.Column('on_day', sa.Date(), nullable=False),
    sa.Column('slot', sa.String(length=20), nullable=False),
    sa.Column('place', sa.String(length=120), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reception_slots')),
    sa.UniqueConstraint('event_id', name=op.f('uq_reception_slots_event_id'))
    )
    with op.batch_alter_table('reception_slots', schema=None) as batch_op:
        batch_op.create_index('ix_reception_slots_day', ['on_day', 'slot'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('reception_slots', schema=None) as batch_op:
        batch_op.drop_index('ix_reception_slots_day')

    op.drop_table('reception_slots')
    with op.batch_alter_table('reception_bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_reception_bookings_slot')

    op.drop_table('reception_bookings')
    with op.batch_alter_table('petition_transfers', schema=None) as batch_op:
        batch_op.drop_index('ix_petition_transfers_ticket')
        batch_op.drop_index('ix_petition_transfers_open')

    op.drop_table('petition_transfers')
    with op.batch_alter_table('petition_follow_ups', schema=None) as batch_op:
        batch_op.drop_index('ix_petition_follow_ups_ticket')
        batch_op.drop_index('ix_petition_follow_ups_due')

    op.drop_table('petition_follow_ups')
    with op.batch_alter_table('petition_hearings', schema=None) as batch_op:
        batch_op.drop_index('ix_petition_hearings_ticket')

    op.drop_table('petition_hearings')
    with op.batch_alter_table('petition_feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_petition_feedback_ticket')

    op.drop_table('petition_feedback')
    with op.batch_alter_table('petition_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_petition_cases_accept')

    op.drop_table('petition_cases')
    with op.batch_alter_table('petition_agents', schema=None) as batch_op:
        batch_op.drop_index('ix_petition_agents_ticket')

    op.drop_table('petition_agents')
