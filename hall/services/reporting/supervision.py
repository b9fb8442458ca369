"""What the 效能监察员 (and the manager) read: deemed consents, per-co-department answer statistics and the fees
taken, for a period. Plain rows; the screen and the monthly workbook show the same figures.

Answer statistics count each department's copies (抄告) made in the period, every round but those superseded by a
new round before being answered: answered (同意 / 不同意 / 需补充), answered late, deemed consent (逾期视为认可)
and still pending; the average answer time in working days from the copy day to the answer; the deemed-consent
rate = deemed ÷ (answered + deemed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.models import Staff, Ticket
from hall.models.supervision import FeeCharge
from hall.models.workflow import JointCopy
from hall.services.calendar import clock
from hall.services.calendar.deadlines import working_days_between
from hall.services.registers import accountability, inspection
from hall.services.reporting import stats
from hall.services.reporting.stats import Period
from hall.services.tickets import fees

ANSWERED = ("agree", "disagree", "needs_more")


@dataclass(frozen=True)
class DepartmentRow:
    department: str
    copies: int
    answered: int
    late: int  # answered after the deadline (before the deemed-consent rule reached it)
    deemed: int
    pending: int
    answer_days_total: int  # working days, summed over the answered copies

    @property
    def avg_answer_days(self) -> float | None:
        return self.answer_days_total / self.answered if self.answered else None

    @property
    def deemed_rate(self) -> float | None:
        settled = self.answered + self.deemed
        return self.deemed / settled if settled else None


@dataclass(frozen=True)
class DeemedLine:
    number: str
    item_name: str
    department: str
    round: int
    copied_on: date
    due_on: date
    deemed_on: date | None  # the first day after the answer deadline (the rule's date, not the sweep's)
    window_code: str


@dataclass(frozen=True)
class FeeLine:
    number: str
    item_name: str
    window_code: str
    amount_cents: int
    payer: str
    receipt_no: str
    charged_on: date
    charged_by: str

    @property
    def amount_text(self) -> str:
        return fees.yuan(self.amount_cents)


def _copies(session: Session, period: Period) -> list[JointCopy]:
    return list(session.scalars(select(JointCopy).where(
        JointCopy.copied_on >= period.start, JointCopy.copied_on <= period.end,
        JointCopy.state != "superseded").order_by(JointCopy.department, JointCopy.id)))


def department_stats(session: Session, period: Period) -> list[DepartmentRow]:
    """One row per co-department with copies in the period, by name, and none for a department not asked."""
    cal = clock.calendar_for(session)
    acc: dict[str, list[int]] = {}
    for c in _copies(session, period):
        row = acc.setdefault(c.department, [0, 0, 0, 0, 0, 0])
        row[0] += 1
        if c.state in ANSWERED:
            row[1] += 1
            row[2] += bool(c.late)
            if c.answered_on is not None:
                row[5] += working_days_between(cal, c.copied_on, c.answered_on)
        elif c.state == "deemed_consent":
            row[3] += 1
        else:
            row[4] += 1
    return [DepartmentRow(d, *v) for d, v in sorted(acc.items())]


def total_row(rows: list[DepartmentRow]) -> DepartmentRow:
    return DepartmentRow("合计", *(sum(getattr(r, f) for r in rows) for f in (
        "copies", "answered", "late", "deemed", "pending", "answer_days_total")))


def deemed_consents(session: Session, period: Period) -> list[DeemedLine]:
    """Every deemed consent whose copy was made in the period, newest first."""
    rows = session.execute(select(JointCopy, Ticket.number, Ticket.item_name, Ticket.window_code)
                           .join(Ticket, Ticket.uid == JointCopy.ticket_uid)
                           .where(JointCopy.state == "deemed_consent", JointCopy.copied_on >= period.start,
                                  JointCopy.copied_on <= period.end)
                           .order_by(JointCopy.due_on.desc(), JointCopy.id.desc()))
    return [DeemedLine(n, item, c.department, c.round, c.copied_on, c.due_on, c.answered_on, w)
            for c, n, item, w in rows]


def fee_lines(session: Session, period: Period) -> list[FeeLine]:
    """Every fee taken in the period (一次性收费), in the order taken."""
    rows = session.execute(select(FeeCharge, Ticket.number, Ticket.item_name)
                           .join(Ticket, Ticket.uid == FeeCharge.ticket_uid)
                           .where(FeeCharge.charged_on >= period.start, FeeCharge.charged_on <= period.end)
                           .order_by(FeeCharge.charged_on, FeeCharge.id))
    return [FeeLine(n, item, f.window_code, f.amount_cents, f.payer, f.receipt_no, f.charged_on, f.charged_by)
            for f, n, item in rows]


def inspectors(session: Session) -> list[str]:
    """Names of the active 效能监察员 (for the screen's title line)."""
    return list(session.scalars(select(Staff.name).where(Staff.role == "inspector", Staff.active)
                                .order_by(Staff.staff_no)))


@dataclass(frozen=True)
class InspectionLists:
    """Everything the 效能监察 screen shows for one period."""

    overdue: list[stats.OverdueLine]
    deemed: list[DeemedLine]
    departments: list[DepartmentRow]
    records: list[accountability.RecordView]
    findings: list[inspection.FindingView]
    fees: list[FeeLine]


def inspection_lists(session: Session, period: Period, today: date) -> InspectionLists:
    """The 效能监察 lists of ``period`` (clipped to ``today``), in one read."""
    clipped = period.clipped(today)
    return InspectionLists(
        stats.overdue_list(session, period, today=today), deemed_consents(session, clipped),
        department_stats(session, clipped),
        accountability.records(session, state=None, since=period.start, until=period.end),
        [f for f in inspection.findings(session) if period.start <= f.found_on <= period.end],
        fee_lines(session, clipped))
