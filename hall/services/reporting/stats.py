"""Statistics and performance review (统计 / 效绩考核): ONE query layer for the screen and the Excel export.

For any period and one dimension (window / item / kind / staff / village) a :class:`StatsTable` gives, per key:

- received (收件): tickets received in the period (voided entries are not counted);
- accepted (受理): accepted on a day of the period; refused (不予受理): received in the period and refused;
- closed (办结): closed with a result in the period, of which on time (按时办结) and late (超期办结);
- open overdue (超期未办结): accepted, due before the last day of the period and still not closed at its end,
  with the clock running (a ticket waiting on 补正、特别程序、集体研究 is not overdue — as on the dashboard);
- average working days from acceptance to closure (acceptance day not counted), over the closures;
- ratings given in the period (好差评, deemed ratings included, lapsed ones not), 差评 among them.

Counts are additive, so the total row is the sum of the rows (the average is recomputed from sums).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, case, cast, func, select
from sqlalchemy.orm import Session

from hall.errors import ValidationError
from hall.models import IntakePoint, Item, Staff, Ticket, Window
from hall.services.base.masking import mask_free_text
from hall.services.base.states import KIND_LABELS, STATE_LABELS
from hall.services.base.validators import shown
from hall.services.calendar import clock
from hall.services.calendar.deadlines import working_days_between
from hall.services.reporting.dashboard import CLOCK_STOPPED_STATES, _clock_stopped, as_date, day_of

_YEARS = (2000, 2099)  # a statistics period typed as text: this century (a year 0 or 9999 has no last day + 1)

# The audit event of a ticket-ledger export with full personal data (recorded only: no table changes).
LEDGER_EXPORT_EVENT = "report.ledger_exported"
DIMENSIONS = {"window": "窗口", "item": "事项", "kind": "办件类型", "staff": "工作人员", "village": "受理点"}
POOR_LEVELS = (1, 2)
NOBODY = "（无人负责）"


# --------------------------------------------------------------------------------------------- periods
@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    label: str

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = date(year, month, 1)
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        return cls(first, nxt - timedelta(days=1), f"{year}年{month}月")

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        first = date(year, 3 * quarter - 2, 1)
        last = cls.month(year, 3 * quarter).end
        return cls(first, last, f"{year}年第{'一二三四'[quarter - 1]}季度")

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31), f"{year}年")

    @classmethod
    def between(cls, start: date, end: date) -> Period:
        if end < start:
            raise ValidationError("统计期间", f"结束日期 {end} 早于开始日期 {start}")
        return cls(start, end, f"{start.isoformat()} 至 {end.isoformat()}")

    @classmethod
    def parse_month(cls, text: str) -> Period:
        m = re.fullmatch(r"\s*([0-9]{4})-([0-9]{1,2})\s*", text if isinstance(text, str) else "")
        if not m or not 1 <= int(m.group(2)) <= 12 or not _YEARS[0] <= int(m.group(1)) <= _YEARS[1]:
            raise ValidationError("统计月份", f"应写成 YYYY-MM，如 2026-11（{_YEARS[0]}–{_YEARS[1]}年），"
                                          f"现为“{shown(text)}”")
        return cls.month(int(m.group(1)), int(m.group(2)))

    @classmethod
    def parse_quarter(cls, text: str) -> Period:
        m = re.fullmatch(r"\s*([0-9]{4})\s*[Qq]([1-4])\s*", text if isinstance(text, str) else "")
        if not m or not _YEARS[0] <= int(m.group(1)) <= _YEARS[1]:
            raise ValidationError("统计季度", f"应写成 YYYYQn，如 2026Q4（{_YEARS[0]}–{_YEARS[1]}年），"
                                          f"现为“{shown(text)}”")
        return cls.quarter(int(m.group(1)), int(m.group(2)))

    def clipped(self, today: date) -> Period:
        """The part of the period up to ``today`` (a month still running is counted up to today)."""
        return self if self.end <= today else replace(self, end=max(today, self.start))

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, datetime.min.time())

    @property
    def until(self) -> datetime:  # exclusive
        return datetime.combine(self.end + timedelta(days=1), datetime.min.time())


# ----------------------------------------------------------------------------------------------- rows
@dataclass(frozen=True)
class StatsRow:
    key: str
    label: str
    received: int = 0
    accepted: int = 0
    refused: int = 0
    closed: int = 0
    on_time: int = 0
    closed_late: int = 0
    open_overdue: int = 0
    workdays_sum: int = 0  # working days from acceptance to closure, summed over workdays_n closures
    workdays_n: int = 0
    rated: int = 0
    poor: int = 0

    @property
    def overdue(self) -> int:
        return self.closed_late + self.open_overdue

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.closed if self.closed else None

    @property
    def avg_workdays(self) -> float | None:
        return self.workdays_sum / self.workdays_n if self.workdays_n else None

    @property
    def satisfaction_rate(self) -> float | None:
        return (self.rated - self.poor) / self.rated if self.rated else None


COUNT_FIELDS = tuple(f.name for f in fields(StatsRow) if f.type in ("int", int))


def add_rows(key: str, label: str, rows: list[StatsRow] | tuple[StatsRow, ...]) -> StatsRow:
    return StatsRow(key, label, **{f: sum(getattr(r, f) for r in rows) for f in COUNT_FIELDS})


@dataclass(frozen=True)
class StatsTable:
    dimension: str
    period: Period
    rows: tuple[StatsRow, ...]
    total: StatsRow

    @property
    def dimension_label(self) -> str:
        return DIMENSIONS[self.dimension]


def fmt_rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def fmt_days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


# ---------------------------------------------------------------------------------------------- queries
def _key_column(dimension: str) -> Any:
    return {"window": Ticket.window_code, "item": Ticket.item_code, "kind": Ticket.kind, "staff": Ticket.owner_id,
            "village": Ticket.intake_point}[dimension]


def _labels(session: Session, dimension: str) -> tuple[dict[str, str], list[str]]:
    """Labels per key, and the keys always listed even with nothing to count (a county sheet lists every
    window, kind and intake point)."""
    if dimension == "window":
        rows = session.execute(select(Window.code, Window.name).order_by(Window.sort_order, Window.code)).all()
        return {c: f"{c} {n}" for c, n in rows}, [c for c, _ in rows]
    if dimension == "kind":
        return dict(KIND_LABELS), list(KIND_LABELS)
    if dimension == "village":
        rows = session.execute(select(IntakePoint.code, IntakePoint.name).order_by(IntakePoint.code)).all()
        return {c: f"{c} {n}" for c, n in rows}, [c for c, _ in rows]
    if dimension == "item":
        names: dict[str, str] = {}
        for code, name in session.execute(select(Item.code, Item.name).order_by(Item.id)).all():
            names[code] = f"{code} {name}"  # the latest catalogue version's name wins
        return names, []
    return {str(i): n for i, n in session.execute(select(Staff.id, Staff.name)).all()}, []


def _k(value: Any) -> str:
    return "" if value is None else str(value)


ALL_KEYS = ("window", "item", "kind", "staff", "village")
Raw = dict[tuple[str, ...], dict[str, int]]


def _all_keys() -> tuple[Any, ...]:
    return tuple(_key_column(d) for d in ALL_KEYS)


def collect(session: Session, period: Period, dimension: str, *, today: date | None = None) -> StatsTable:
    """The statistics of ``period`` by ``dimension``. ``today`` clips a running period (default: no clip)."""
    return collect_many(session, period, (dimension,), today=today)[dimension]


def collect_many(session: Session, period: Period, dimensions: tuple[str, ...], *,
                 today: date | None = None) -> dict[str, StatsTable]:
    """Several dimensions from one pass: each figure is queried once, grouped by every key column, and folded
    per dimension in Python (a monthly report reads the month once, not once per sheet)."""
    for dimension in dimensions:
        if dimension not in DIMENSIONS:
            raise ValidationError("统计维度", f"应为{'、'.join(DIMENSIONS.values())}之一")
    if today is not None:
        period = period.clipped(today)
    raw = _raw(session, period)
    return {d: _fold(session, period, d, raw) for d in dimensions}


def _raw(session: Session, period: Period) -> Raw:
    keys = _all_keys()
    acc: Raw = defaultdict(lambda: defaultdict(int))
    since, until = period.since, period.until
    live = Ticket.state != "voided"

    def k(row: Any) -> tuple[str, ...]:
        return tuple(_k(v) for v in row[:len(keys)])

    for row in session.execute(
        select(*keys, func.count(), func.sum(case((Ticket.state == "refused", 1), else_=0)))
        .where(Ticket.received_at >= since, Ticket.received_at < until, live).group_by(*keys)
    ).all():
        acc[k(row)]["received"] += row[-2]
        acc[k(row)]["refused"] += int(row[-1] or 0)
    for row in session.execute(
        select(*keys, func.count()).where(Ticket.accepted_on >= period.start, Ticket.accepted_on <= period.end,
                                          live).group_by(*keys)
    ).all():
        acc[k(row)]["accepted"] += row[-1]

    cal = clock.calendar_for(session)
    closed_day = day_of(session, Ticket.closed_at)
    for row in session.execute(
        select(*keys, Ticket.closed_on_time, Ticket.accepted_on, closed_day, func.count())
        .where(Ticket.closed_at >= since, Ticket.closed_at < until, Ticket.closed_on_time.in_((True, False)), live)
        .group_by(*keys, Ticket.closed_on_time, Ticket.accepted_on, closed_day)
    ).all():
        on_time, accepted_on, c_day, n = row[-4:]
        a = acc[k(row)]
        a["closed"] += n
        a["on_time" if on_time else "closed_late"] += n
        if accepted_on is not None:
            a["workdays_sum"] += n * max(working_days_between(cal, as_date(accepted_on), as_date(c_day)), 0)
            a["workdays_n"] += n

    for row in _open_overdue(session, period, keys):
        state, entries, n = row[-3:]
        if state in CLOCK_STOPPED_STATES or _clock_stopped(entries):
            continue
        acc[k(row)]["open_overdue"] += n

    _ratings(session, period, acc)
    return acc


def _fold(session: Session, period: Period, dimension: str, raw: Raw) -> StatsTable:
    i = ALL_KEYS.index(dimension)
    acc: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for key, figures in raw.items():
        target = acc[key[i]]
        for name, n in figures.items():
            target[name] += n
    labels, always = _labels(session, dimension)
    keys = list(always) + sorted(k for k in acc if k not in set(always))
    rows = []
    for k in keys:
        label = labels.get(k, k) if k else NOBODY
        if dimension == "staff" and k and k not in labels:
            label = f"工作人员#{k}"
        rows.append(StatsRow(k, label, **dict(acc.get(k, {}))))
    if dimension == "staff":
        rows.sort(key=lambda r: (r.key == "", r.label))
    return StatsTable(dimension, period, tuple(rows), add_rows("", "合计", rows))


def _open_overdue(session: Session, period: Period, keys: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Tickets past their due date at the end of the period and not closed by then: still open (read through
    ``ix_tickets_open_due``), or closed after the period (read through ``ix_tickets_closed``) — never a scan of
    the whole ledger. Grouped by what decides whether their clock stands still (an empty clock list is the
    common case and groups into one row)."""
    clock_text = cast(Ticket.clock, String)
    clock_or_none = case((func.length(clock_text) > 2, clock_text), else_=None)
    out: list[tuple[Any, ...]] = []
    for where in (
            (Ticket.is_open.is_(True), Ticket.due_date < period.end, Ticket.accepted_on.is_not(None)),
            # due_date inside an expression: otherwise SQLite's planner skip-scans ix_tickets_window_open over
            # every closed ticket of the ledger (1.5 s at 1M) instead of reading the few closed after the period.
            (Ticket.closed_at >= period.until, func.coalesce(Ticket.due_date, Ticket.due_date) < period.end,
             Ticket.accepted_on.is_not(None), Ticket.state.not_in(("voided", "refused", "withdrawn")))):
        stmt = select(*keys, Ticket.state, clock_or_none, func.count()).where(*where) \
            .group_by(*keys, Ticket.state, clock_or_none)
        for row in session.execute(stmt).all():
            *head, state, text, n = row
            out.append((*head, state, json.loads(text) if text else None, n))
    return out


def _ratings(session: Session, period: Period, acc: Raw) -> None:
    from hall.models.workflow import Rating

    # Window and person as they were when the rating was given; item, kind and intake point from the ticket.
    keys = (Rating.window_code, Ticket.item_code, Ticket.kind, Rating.staff_id, Ticket.intake_point)
    stmt = (select(*keys, func.count(), func.sum(case((Rating.level.in_(POOR_LEVELS), 1), else_=0)))
            .join(Ticket, Ticket.uid == Rating.ticket_uid)
            .where(Rating.rated_at >= period.since, Rating.rated_at < period.until, Rating.level.is_not(None))
            .group_by(*keys))
    for row in session.execute(stmt).all():
        key = tuple(_k(v) for v in row[:5])
        acc[key]["rated"] += row[5]
        acc[key]["poor"] += int(row[6] or 0)


# --------------------------------------------------------------------------------------- performance
@dataclass(frozen=True)
class PerformanceRow:
    """效绩考核 of one staff member: the ticket figures plus attendance and accountability in the period."""

    stats: StatsRow
    staff_no: str
    window_code: str
    present_days: int = 0
    away_days: int = 0  # absent, leave, business
    accountability_upheld: int = 0
    accountability_open: int = 0


def performance(session: Session, period: Period, *, today: date | None = None,
                table: StatsTable | None = None) -> tuple[PerformanceRow, ...]:
    """效绩考核 per person; ``table`` is the by-staff statistics when the caller already has them."""
    table = table or collect(session, period, "staff", today=today)
    period = table.period
    people = {str(p.id): p for p in session.scalars(select(Staff))}
    attendance: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    records: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    from hall.models.workflow import AccountabilityRecord, Attendance

    for sid, status, n in session.execute(
        select(Attendance.staff_id, Attendance.status, func.count())
        .where(Attendance.day >= period.start, Attendance.day <= period.end)
        .group_by(Attendance.staff_id, Attendance.status)).all():
        attendance[str(sid)]["present" if status == "present" else "away"] += n
    for sid, state, n in session.execute(
        select(AccountabilityRecord.staff_id, AccountabilityRecord.state, func.count())
        .where(AccountabilityRecord.occurred_on >= period.start, AccountabilityRecord.occurred_on <= period.end,
               AccountabilityRecord.staff_id.is_not(None))
        .group_by(AccountabilityRecord.staff_id, AccountabilityRecord.state)).all():
        records[str(sid)][state] += n
    out = []
    for row in table.rows:
        p = people.get(row.key)
        out.append(PerformanceRow(row, p.staff_no if p else "", (p.window_code or "") if p else "",
                                  attendance[row.key]["present"], attendance[row.key]["away"],
                                  records[row.key]["upheld"], records[row.key]["open"]))
    # Clerks with nothing to count still appear: a review lists every active counter person.
    listed = {r.key for r in table.rows}
    for sid, p in people.items():
        if sid not in listed and p.active and p.role in ("clerk", "village", "manager"):
            out.append(PerformanceRow(StatsRow(sid, p.name), p.staff_no, p.window_code or "",
                                      attendance[sid]["present"], attendance[sid]["away"],
                                      records[sid]["upheld"], records[sid]["open"]))
    out.sort(key=lambda r: (r.stats.key == "", r.window_code or "~", r.staff_no))
    return tuple(out)


# --------------------------------------------------------------------------------------- overdue list
@dataclass(frozen=True)
class OverdueLine:
    number: str
    item_name: str
    window_code: str
    kind: str
    owner: str
    accepted_on: date | None
    due_date: date
    closed_on: date | None  # None: still open at the end of the period
    days_over: int
    state: str
    reason: str


def overdue_list(session: Session, period: Period, *, today: date | None = None) -> list[OverdueLine]:
    """Tickets closed late in the period and tickets overdue and still open at its end, with the reasons
    recorded for them (accountability finding, extension or pause reasons), worst first."""
    if today is not None:
        period = period.clipped(today)
    cal = clock.calendar_for(session)
    names = {i: n for i, n in session.execute(select(Staff.id, Staff.name)).all()}
    # Plain columns, not ticket objects: a year's late closures at a large hall are thousands of rows.
    cols = (Ticket.uid, Ticket.number, Ticket.item_name, Ticket.window_code, Ticket.kind, Ticket.owner_id,
            Ticket.accepted_on, Ticket.due_date, Ticket.closed_at, Ticket.state, Ticket.clock)
    late_closed = select(*cols).where(Ticket.closed_at >= period.since, Ticket.closed_at < period.until,
                                      Ticket.closed_on_time.is_(False), Ticket.state != "voided")
    still_open = select(*cols).where(Ticket.is_open.is_(True), Ticket.accepted_on.is_not(None),
                                     Ticket.due_date < period.end)
    closed_after = select(*cols).where(Ticket.closed_at >= period.until, Ticket.accepted_on.is_not(None),
                                       Ticket.due_date < period.end,
                                       Ticket.state.not_in(("voided", "refused", "withdrawn")))
    listed = []
    for stmt in (late_closed, still_open, closed_after):
        for uid, number, item, window, kind, owner, accepted, due, closed_at, state, entries in session.execute(
                stmt.order_by(Ticket.due_date, Ticket.id)):
            closed_on = closed_at.date() if closed_at and closed_at < period.until else None
            if closed_on is None and (state in CLOCK_STOPPED_STATES or _clock_stopped(entries)):
                continue
            if due is None:
                continue
            days = max(working_days_between(cal, due, closed_on or period.end), 1)
            listed.append((uid, entries, (number, item, window, kind, names.get(owner, NOBODY) if owner else NOBODY,
                                          accepted, due, closed_on, days, STATE_LABELS.get(state, state))))
    findings = _findings(session, [uid for uid, _e, _l in listed])
    out = [OverdueLine(*line, _reason(entries, findings.get(uid))) for uid, entries, line in listed]
    out.sort(key=lambda line: (-line.days_over, line.due_date, line.number))
    return out


def _findings(session: Session, uids: list[str]) -> dict[str, str]:
    """The accountability findings of these tickets (looked up by ticket, never the whole register: the daily
    rules leave a record for every ticket that ever went overdue)."""
    from hall.models.workflow import AccountabilityRecord

    if not uids:
        return {}
    rows: list[Any] = []
    wanted = sorted(set(uids))
    for i in range(0, len(wanted), 500):  # bounded IN lists on any database
        rows += session.execute(select(AccountabilityRecord.ticket_uid, AccountabilityRecord.state,
                                       AccountabilityRecord.finding)
                                .where(AccountabilityRecord.cause == "overdue",
                                       AccountabilityRecord.ticket_uid.in_(wanted[i:i + 500]))
                                .order_by(AccountabilityRecord.id)).all()
    labels = {"open": "待核实", "upheld": "责任成立", "dismissed": "不予追究"}
    return {uid: f"责任追究：{labels.get(state, state)}" + (f"，{finding}" if finding else "")
            for uid, state, finding in rows if uid}


def _reason(entries: list[dict[str, Any]] | None, finding: str | None) -> str:
    parts = []
    words = {"extend": "延期", "pause": "暂停计时", "exclude_start": "特别程序"}
    for e in entries or ():
        if e.get("kind") in words:
            parts.append(f"{e.get('on', '')} {words[e['kind']]}：{e.get('reason', '')}".strip("："))
    if finding:
        parts.append(finding)
    # Reasons and findings are free text (the overdue list goes to the county): identifiers in them are masked.
    return mask_free_text("；".join(parts)) or "未登记超期原因"


# --------------------------------------------------------------------------------------- ticket ledger
LEDGER_COLUMNS_MASKED = ("办件编号", "收件时间", "受理点", "窗口", "事项编码", "事项名称", "办件类型", "状态",
                         "申请人", "住址（村/组）", "受理日期", "承诺办结日期", "暂定", "办结时间", "按时办结",
                         "经办人", "办理结果")
LEDGER_COLUMNS_FULL = ("办件编号", "收件时间", "受理点", "窗口", "事项编码", "事项名称", "办件类型", "状态",
                       "申请人", "身份证号/信用代码", "联系电话", "住址", "受理日期", "承诺办结日期", "暂定",
                       "办结时间", "按时办结", "经办人", "办理结果")


@dataclass(frozen=True)
class LedgerExport:
    columns: tuple[str, ...]
    rows: Iterator[tuple[Any, ...]]
    full: bool = field(default=False)


def ledger_rows(session: Session, period: Period, *, full: bool = False, batch: int = 2000) -> LedgerExport:
    """Every ticket received in the period, oldest first, streamed. Masked per domain-rules §6 (exported list:
    name masked, village/group only, never ID numbers or phones) unless ``full`` — the caller records a full
    export as a ledger event (:func:`hall.exchange.reports_xlsx.write_ledger` does)."""
    from hall.services.base.masking import mask_name, village_only

    names = {i: n for i, n in session.execute(select(Staff.id, Staff.name)).all()}
    cols = (Ticket.number, Ticket.received_at, Ticket.intake_point, Ticket.window_code, Ticket.item_code,
            Ticket.item_name, Ticket.kind, Ticket.state, Ticket.applicant_name, Ticket.applicant_id_no,
            Ticket.applicant_phone, Ticket.applicant_address, Ticket.accepted_on, Ticket.due_date,
            Ticket.due_provisional, Ticket.closed_at, Ticket.closed_on_time, Ticket.owner_id, Ticket.result,
            Ticket.applicant_birth, Ticket.applicant_type)
    stmt = (select(*cols).where(Ticket.received_at >= period.since, Ticket.received_at < period.until)
            .order_by(Ticket.received_at, Ticket.id).execution_options(yield_per=batch))

    def on_time(v: bool | None) -> str:
        return "" if v is None else ("是" if v else "否")

    def gen() -> Iterator[tuple[Any, ...]]:
        for (number, received, point, window, code, item, kind, state, name, id_no, phone, address, accepted,
             due, prov, closed, ok, owner, result, birth, a_type) in session.execute(stmt):
            head = (number, received, point, window, code, item, KIND_LABELS.get(kind, kind),
                    STATE_LABELS.get(state, state))
            tail = (accepted, due, "暂定" if prov else "", closed, on_time(ok), names.get(owner, "") if owner else "",
                    result)
            if full:
                yield (*head, name, id_no, phone, address, *tail)
            else:
                child = a_type == "person" and birth is not None and _age(birth, received.date()) < 14
                masked = "（未成年人，不列示）" if child else (mask_name(name) if a_type == "person" else name)
                # The result is free text a clerk typed: an ID number or phone quoted in it is masked too.
                yield (*head, masked, "" if child else (village_only(address) or ""), *tail[:-1],
                       mask_free_text(result))

    return LedgerExport(LEDGER_COLUMNS_FULL if full else LEDGER_COLUMNS_MASKED, gen(), full)


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
