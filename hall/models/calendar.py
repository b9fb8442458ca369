"""Calendar tables: which years are confirmed, and the days that differ from a plain Mon–Fri week.

Only exceptions are stored (holidays, make-up workdays, local holidays); every other date is a working day
when it is Monday–Friday. A year with no ``confirmed`` row falls back to Mon–Fri and makes every deadline
that touches it provisional (暂定).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hall.models.base import Base

YEAR_STATUSES = ("confirmed", "provisional")
YEAR_SOURCES = ("chinese_calendar", "notice", "weekday-fallback")
DAY_KINDS = ("holiday", "makeup", "local")


class CalendarYear(Base):
    """One calendar year and where its holiday data came from."""

    __tablename__ = "calendar_years"
    __table_args__ = (
        CheckConstraint("status IN ('confirmed', 'provisional')", name="status"),
        CheckConstraint("source IN ('chinese_calendar', 'notice', 'weekday-fallback')", name="source"),
    )

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(24))
    # The State Council notice (文号/标题) or the package version the data came from.
    notice_ref: Mapped[str] = mapped_column(Text, default="")
    # The confirming event's time: a naive local time of the hall, like every stored time.
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    confirmed_by: Mapped[str | None] = mapped_column(String(100), default=None)


class CalendarDay(Base):
    """A date whose working status differs from Mon–Fri, or that lies inside a named holiday range.

    ``kind``: ``holiday`` (statutory holiday range day, not worked), ``makeup`` (调休上班日, a weekend day
    that is worked), ``local`` (a local extra holiday, e.g. an ethnic-minority festival). Weekend days inside
    a holiday range are kept so the explanation can name the holiday instead of just "weekend".
    """

    __tablename__ = "calendar_days"
    __table_args__ = (
        CheckConstraint("kind IN ('holiday', 'makeup', 'local')", name="kind"),
        # A make-up day is the only kind that is worked; anything else would contradict itself.
        CheckConstraint("(kind = 'makeup') = is_workday", name="kind_workday"),
    )

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100), default="")
