"""The catalogue (事项清单): windows and versioned item types.

An item row is immutable once written: an import writes a new catalogue version with new rows, so a ticket keeps
pointing at the rule that was in force on its intake day.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hall.models.base import Base

KINDS = ("explain", "immediate", "promised", "proxy", "joint")
UNITS = ("workday", "day")


class Window(Base):
    __tablename__ = "windows"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)  # W01 … W11
    name: Mapped[str] = mapped_column(String(80))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    phone: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CatalogVersion(Base):
    __tablename__ = "catalog_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The version's identity in events (a ticket names its item by this uid and the item code).
    uid: Mapped[str] = mapped_column(String(36), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    source: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    is_current: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("version_id", "code", name="uq_items_version_code"),
        Index("ix_items_current_window", "is_current", "window_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("catalog_versions.id"))
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)  # 简称 clerks and citizens use: 低保申请
    # Pinyin initials of the name and of each alias, space-separated, for the item finder ("dbsq").
    initials: Mapped[str] = mapped_column(String(400), default="")
    window_code: Mapped[str] = mapped_column(ForeignKey("windows.code"))
    default_kind: Mapped[str] = mapped_column(String(12))
    statutory_limit: Mapped[int] = mapped_column(Integer)
    promised_limit: Mapped[int] = mapped_column(Integer)
    limit_unit: Mapped[str] = mapped_column(String(8))
    statutory_anchored: Mapped[bool] = mapped_column(Boolean, default=False)
    restart_on_supplement: Mapped[bool] = mapped_column(Boolean, default=True)
    departments: Mapped[list[str]] = mapped_column(JSON, default=list)
    conditions: Mapped[str] = mapped_column(Text, default="")
    procedure: Mapped[list[str]] = mapped_column(JSON, default=list)
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    fee: Mapped[str] = mapped_column(Text, default="")
    # The amount charged per ticket (分; 0: 免费), beside the fee standard's wording above (一次性收费).
    fee_cents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # 先照后证: the code of an item whose closed (approved) ticket the same applicant must have first ("": none).
    prerequisite: Mapped[str] = mapped_column(String(16), default="", server_default="")
    policy_basis: Mapped[str] = mapped_column(Text, default="")
    retention: Mapped[str] = mapped_column(String(20), default="10年")
    follow_up_days: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")

    window: Mapped[Window] = relationship(lazy="joined")
