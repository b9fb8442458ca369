"""涉法信访 tables: projections of the petition events (hall/services/cases/petition*.py, reception.py).

A 信访 case is a ticket of a 信访 item (the same engine: number, due date, clock, extension, papers); these rows
hold what only a petition has. Rows name the ticket by ``ticket_uid`` and staff by this database's ``staff.id``
(events carry the stable staff uid; the projectors translate). Every derived date here (the 受理告知 deadline, a
移交 organ's answer, a 回访) is computed by the one date rule and carries its rule, so a calendar change derives
it again with an event (hall/services/cases/petition_dates.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hall.models.base import Base

ACCEPT_STATES = ("pending", "accepted", "not_accepted")


class PetitionCase(Base):
    """The petition part of a 信访 ticket: 首办责任人, the 受理告知 deadline and decision, 四定一包."""

    __tablename__ = "petition_cases"
    __table_args__ = (Index("ix_petition_cases_accept", "accept_state", "accept_due_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    ticket_uid: Mapped[str] = mapped_column(String(36), unique=True)
    registered_on: Mapped[date] = mapped_column(Date)
    first_owner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 首办责任人
    accept_days: Mapped[int] = mapped_column(Integer)
    accept_unit: Mapped[str] = mapped_column(String(8))
    accept_due_on: Mapped[date] = mapped_column(Date)
    accept_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    accept_state: Mapped[str] = mapped_column(String(14), default="pending")
    accept_told_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    accept_note: Mapped[str] = mapped_column(Text, default="")
    # 四定一包: leader_uid, staff_uids, by_date, measures, pledge, fixed_on, fixed_by (None until fixed).
    four_fixed: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class PetitionAgent(Base):
    """A petitioner's 信访代理人 (at most two per case; a lawyer with the 执业证号 and firm)."""

    __tablename__ = "petition_agents"
    __table_args__ = (Index("ix_petition_agents_ticket", "ticket_uid", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    ticket_uid: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(24), default="")
    relation: Mapped[str] = mapped_column(String(40), default="")  # 近亲属 / 所在单位推荐 / 律师 …
    is_lawyer: Mapped[bool] = mapped_column(Boolean, default=False)
    license_no: Mapped[str] = mapped_column(String(17), default="")
    firm: Mapped[str] = mapped_column(String(80), default="")


class PetitionHearing(Base):
    """公开听证 / 答询: who took part (by role) and the record."""

    __tablename__ = "petition_hearings"
    __table_args__ = (Index("ix_petition_hearings_ticket", "ticket_uid", "held_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    ticket_uid: Mapped[str] = mapped_column(String(36))
    form: Mapped[str] = mapped_column(String(10))  # hearing | inquiry
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(120), default="")
    host: Mapped[str] = mapped_column(String(40), default="")
    participants: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # role, name, unit
    record: Mapped[str] = mapped_column(Text, default="")
    conclusion: Mapped[str] = mapped_column(Text, default="")


class PetitionFeedback(Base):
    """Progress told to the petitioner while the case is open (each dated)."""

    __tablename__ = "petition_feedback"
    __table_args__ = (Index("ix_petition_feedback_ticket", "ticket_uid", "told_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    ticket_uid: Mapped[str] = mapped_column(String(36))
    told_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(20), default="")
    content: Mapped[str] = mapped_column(Text, default="")
    told_by: Mapped[str] = mapped_column(String(40), default="")


class PetitionTransfer(Base):
    """分流/移交 to the competent organ, tracked like a proxy leg: its reference, deadline and answer."""

    __tablename__ = "petition_transfers"
    __table_args__ = (Index("ix_petition_transfers_open", "state", "due_on"),
                      Index("ix_petition_transfers_ticket", "ticket_uid", "sent_on"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    ticket_uid: Mapped[str] = mapped_column(String(36))
    organ: Mapped[str] = mapped_column(String(120))
    reference: Mapped[str] = mapped_column(String(60), default="")  # 移交函文号
    sent_on: Mapped[date] = mapped_column(Date)
    limit_days: Mapped[int] = mapped_column(Integer)
    limit_unit: Mapped[str] = mapped_column(String(8))
    due_on: Mapped[date] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(10), default="sent")  # sent | answered
    answered_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    organ_ref: Mapped[str] = mapped_column(String(60), default="")  # the organ's own reference (受理编号)
    answer: Mapped[str] = mapped_column(Text, default="")


class PetitionFollowUp(Base):
    """A periodic 回访 of a closed case: dated by rule from the closure day, then recorded."""

    __tablename__ = "petition_follow_ups"
    __table_args__ = (Index("ix_petition_follow_ups_due", "state", "due_on"),
                      Index("ix_petition_follow_ups_ticket", "ticket_uid", "seq"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))  # the scheduling event (one schedules several)
    ticket_uid: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(Integer)
    closed_on: Mapped[date] = mapped_column(Date)
    limit_days: Mapped[int] = mapped_column(Integer)
    limit_unit: Mapped[str] = mapped_column(String(8))
    due_on: Mapped[date] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(8), default="due")  # due | done
    done_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    channel: Mapped[str] = mapped_column(String(20), default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    satisfied: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    done_by: Mapped[str] = mapped_column(String(40), default="")


class ReceptionSlot(Base):
    """一把手接访日: one leader receiving petitioners on a day, in a time slot, at a place, for so many."""

    __tablename__ = "reception_slots"
    __table_args__ = (Index("ix_reception_slots_day", "on_day", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    leader_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    on_day: Mapped[date] = mapped_column(Date)
    slot: Mapped[str] = mapped_column(String(20))  # 上午 / 下午 / 09:00—11:30
    place: Mapped[str] = mapped_column(String(120), default="")
    capacity: Mapped[int] = mapped_column(Integer)
    topic: Mapped[str] = mapped_column(String(120), default="")


class ReceptionBooking(Base):
    """A petitioner booked into a reception slot (at most one live booking per petitioner and day)."""

    __tablename__ = "reception_bookings"
    __table_args__ = (Index("ix_reception_bookings_slot", "slot_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    slot_id: Mapped[int] = mapped_column(Integer)
    on_day: Mapped[date] = mapped_column(Date)
    petitioner_name: Mapped[str] = mapped_column(String(40))
    petitioner_phone: Mapped[str] = mapped_column(String(24))
    subject: Mapped[str] = mapped_column(Text, default="")
    ticket_uid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    state: Mapped[str] = mapped_column(String(10), default="booked")  # booked | cancelled
