"""Tickets (办件) and applicants: current-state projections of the ledger events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hall.models.base import Base


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # The queue and the dashboard read open tickets by due date, per window and per owner.
        Index("ix_tickets_open_due", "is_open", "due_date", "window_code", "kind", "owner_id"),
        Index("ix_tickets_window_open", "window_code", "is_open", "due_date"),
        Index("ix_tickets_owner_open", "owner_id", "is_open", "due_date"),
        Index("ix_tickets_received", "received_at"),
        Index("ix_tickets_closed", "closed_at"),
        # On-time rates for today / month / year are counted from the index alone (dashboard ≤ 50 ms at 1M).
        Index("ix_tickets_closed_rate", "closed_on_time", "closed_at", "state"),
        # "Accepted in the period" for monthly statistics.
        Index("ix_tickets_accepted", "accepted_on"),
        # The queue's 作废 filter: the few voided tickets in due-date order, not a walk of every closed one.
        Index("ix_tickets_state_due", "state", "due_date"),
        # The queue's 全部 filter in its default order (by due date) over every ticket: read in index order, the
        # first page without sorting the ledger (a sort of 1M rows is a second).
        Index("ix_tickets_due", "due_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    item_code: Mapped[str] = mapped_column(String(16))
    item_name: Mapped[str] = mapped_column(String(120))
    window_code: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(24))
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)

    applicant_type: Mapped[str] = mapped_column(String(8))  # person | org
    applicant_name: Mapped[str] = mapped_column(String(80), index=True)
    applicant_initials: Mapped[str] = mapped_column(String(40), index=True)
    applicant_id_no: Mapped[str] = mapped_column(String(18), index=True)
    applicant_sex: Mapped[str] = mapped_column(String(8), default="")
    applicant_birth: Mapped[date | None] = mapped_column(Date, nullable=True)
    applicant_phone: Mapped[str] = mapped_column(String(24), default="")
    applicant_address: Mapped[str] = mapped_column(String(120), default="")
    agent: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    intake_point: Mapped[str] = mapped_column(String(3))
    node_id: Mapped[str] = mapped_column(String(36))
    first_owner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    owner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    received_at: Mapped[datetime] = mapped_column(DateTime)
    accepted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    clock: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    closed_on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    result: Mapped[str] = mapped_column(Text, default="")
    refusal_reason: Mapped[str] = mapped_column(Text, default="")
    void_reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


# A citizen is asked for the last four characters of the ID number (后四位): characters 15–18 of an 18-character
# ID or credit code. Literal numbers, not bound parameters, so that SQLite's planner recognises the expression
# in a query (hall.services.tickets.search uses this very object).
ID_TAIL = func.substr(Ticket.applicant_id_no, literal_column("15"), literal_column("4"))
Index("ix_tickets_id_tail", ID_TAIL)

# The last four digits of the applicant's phone (a mobile's or a landline's), which citizens give as readily as
# the ID tail. length() - 3 rather than a negative start: PostgreSQL's substr does not count from the end.
PHONE_TAIL = func.substr(Ticket.applicant_phone, func.length(Ticket.applicant_phone) - literal_column("3"),
                         literal_column("4"))
Index("ix_tickets_phone_tail", PHONE_TAIL)

# The same four search keys over the **open** tickets only (a few thousand of a million): a search's figures — due
# today, overdue, provisional — count open tickets, and through these they read a handful of index entries instead
# of every ticket the search matched (hall.services.reporting.queue.counts). SQLite uses a partial index only for
# a WHERE containing its predicate, so queries write it exactly so (hall.services.tickets.search.OpenKeyed); the
# unary plus keeps SQLite's planner, which has no statistics on a hall's ledger, from reading ``is_open IS 1`` as
# a walk of every open ticket through ix_tickets_open_due instead.
OPEN_WHERE_SQLITE, OPEN_WHERE_PG = "+is_open IS 1", "is_open IS true"
for _name, _key in (("ix_tickets_open_name", Ticket.applicant_name),
                    ("ix_tickets_open_initials", Ticket.applicant_initials),
                    ("ix_tickets_open_id_tail", ID_TAIL), ("ix_tickets_open_phone_tail", PHONE_TAIL)):
    Index(_name, _key, sqlite_where=text(OPEN_WHERE_SQLITE), postgresql_where=text(OPEN_WHERE_PG))


class TicketSerial(Base):
    """Daily serial per intake point: an atomic upsert makes numbers unique with concurrent writers."""

    __tablename__ = "ticket_serials"

    point: Mapped[str] = mapped_column(String(3), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)  # YYYYMMDD
    last: Mapped[int] = mapped_column(Integer)


class Applicant(Base):
    """Returning citizens: the latest details told at the counter, found again by ID number or name."""

    __tablename__ = "applicants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_no: Mapped[str] = mapped_column(String(18), unique=True)
    applicant_type: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(80), index=True)
    initials: Mapped[str] = mapped_column(String(40), index=True)
    sex: Mapped[str] = mapped_column(String(8), default="")
    birth: Mapped[date | None] = mapped_column(Date, nullable=True)
    phone: Mapped[str] = mapped_column(String(24), default="")
    address: Mapped[str] = mapped_column(String(120), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # Which event told each field (hall.services.storage.ledger.stamp: occurred_at and event id): the newest
    # non-empty value wins whatever order two nodes' events arrive in. The name stamp covers name, initials,
    # type, sex and birth; an empty phone or address never has a stamp.
    name_stamp: Mapped[str] = mapped_column(String(64), default="", server_default="")
    phone_stamp: Mapped[str] = mapped_column(String(64), default="", server_default="")
    address_stamp: Mapped[str] = mapped_column(String(64), default="", server_default="")
