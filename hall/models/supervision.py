"""效能监察 and 一次性收费: the inspector's findings on cases, and the one fee receipt a ticket may carry."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hall.models.base import Base


class FeeCharge(Base):
    """一次性收费: the fee taken for one ticket. The service refuses a second charge; the table still keeps one
    row per event, not per ticket, because two offline nodes can each charge the same ticket before they sync —
    money taken twice must show as two receipts (the inspector's list), never vanish into a key clash that
    would make the projection depend on which node's event arrived first."""

    __tablename__ = "fee_charges"
    __table_args__ = (Index("ix_fee_charges_charged", "charged_on"), Index("ix_fee_charges_ticket", "ticket_uid"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    ticket_uid: Mapped[str] = mapped_column(String(36))
    amount_cents: Mapped[int] = mapped_column(Integer)  # 分: money is never a float
    payer: Mapped[str] = mapped_column(String(80))
    receipt_no: Mapped[str] = mapped_column(String(40))
    charged_on: Mapped[date] = mapped_column(Date)
    charged_by: Mapped[str] = mapped_column(String(40))
    window_code: Mapped[str] = mapped_column(String(8))
    item_code: Mapped[str] = mapped_column(String(16))


class InspectionFinding(Base):
    """One finding of the 效能监察员 on a case: the only thing that role may write."""

    __tablename__ = "inspection_findings"
    __table_args__ = (Index("ix_inspection_findings_ticket", "ticket_uid", "found_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    ticket_uid: Mapped[str] = mapped_column(String(36))
    inspector_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # this database's staff row
    inspector: Mapped[str] = mapped_column(String(40))
    found_on: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
