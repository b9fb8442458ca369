"""People and places: staff with roles and B-posts, intake points, and hall-wide settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hall.models.base import Base

ROLES = ("clerk", "manager", "village", "admin", "inspector")


class IntakePoint(Base):
    __tablename__ = "intake_points"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)  # 000 = the hall, 001… villages
    name: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # this database's row id: never in an event
    # The person's identity in every event and on every node (payloads and event headers name staff by it).
    uid: Mapped[str] = mapped_column(String(36), unique=True, index=True)
    staff_no: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(12))
    post: Mapped[str] = mapped_column(String(60), default="")
    window_code: Mapped[str | None] = mapped_column(ForeignKey("windows.code"), nullable=True)
    intake_point: Mapped[str] = mapped_column(ForeignKey("intake_points.code"), default="000")
    b_post_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    must_set_password: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    photo_path: Mapped[str] = mapped_column(String(260), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
