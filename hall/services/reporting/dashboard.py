"""The manager's dashboard (中心主任工作台): one call, one frozen snapshot of the hall's day.

Everything about tickets comes from a handful of grouped queries shaped for the indexes on ``tickets``:

- all open tickets grouped by (due date, window, kind, owner) — read from ``ix_tickets_open_due`` alone, then
  bucketed in Python into due today / due next working day / overdue (with working days over, from the
  calendar's working-day index) per window, per person and per kind;
- the few overdue candidates whose clock may stand still (补正、特别程序、集体研究, or a pause recorded in the
  clock) — read with their clock, because a ticket whose clock is stopped is not overdue while it waits;
- open provisional deadlines, looked for only from the first unconfirmed calendar year on;
- closures of this year grouped by day and on-time flag (on-time rate today / month / year, closures chart,
  overdue trend), and intake per day for the charts.

Panels fed by the workflow services (差评 rectifications, follow-ups, attendance, B-posts) are filled when those
services are installed and say ``enabled=False`` otherwise, so the screen never shows an empty list that only
looks like "nothing to do". Services take ``today`` explicitly; nothing here reads the wall clock except the
timing of the refresh itself.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, ColumnElement, String, cast, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from hall.models import Staff, Ticket, Window
from hall.services.base.states import KIND_LABELS
from hall.services.calendar import clock
from hall.services.calendar.deadlines import next_working_day, working_days_between
from hall.services.calendar.workdays import WorkCalendar
from hall.services.cases import bposts
from hall.services.people import attendance
from hall.services.registers import followups, ratings

# States in which the clock stands still: such a ticket is not overdue while it waits (accountability agrees).
# Not 集体研究 (escalated): it does not stop the clock (an old escalation's open excluded step still counts).
CLOCK_STOPPED_STATES = ("supplement", "special")
TREND_DAYS = 30
PANEL_ROWS = 20  # rows a side panel of the dashboard shows; the register behind it lists the rest
NOBODY = "（无人负责）"
BUCKETS = ("due_today", "due_next", "overdue", "provisional")
BUCKET_LABELS = {"due_today": "今日到期", "due_next": "下一工作日到期", "overdue": "超期", "provisional": "暂定期限",
                 "open": "在办", "stopped": "计时暂停", "closed": "办结", "on_time": "按时办结"}


# ------------------------------------------------------------------------------------------- plain data
@dataclass(frozen=True)
class Drill:
    """Which tickets stand behind a number on the dashboard (the drill-down asks the queue for these).

    ``bucket``: open | due_today | due_next | overdue | provisional | stopped | closed | on_time | late.
    ``due_from``/``due_to`` bound the due date (inclusive); ``closed_from``/``closed_to`` the closing day;
    ``nobody``: the tickets nobody is responsible for (the "（无人负责）" line; ``owner_id`` is then None).
    """

    bucket: str
    window_code: str | None = None
    owner_id: int | None = None
    kind: str | None = None
    due_from: date | None = None
    due_to: date | None = None
    closed_from: date | None = None
    closed_to: date | None = None
    nobody: bool = False

    @property
    def title(self) -> str:
        parts = [BUCKET_LABELS.get(self.bucket, self.bucket)]
        if self.window_code:
            parts.append(self.window_code)
        if self.kind:
            parts.append(KIND_LABELS.get(self.kind, self.kind))
        if self.nobody:
            parts.append(NOBODY)
        if self.closed_from is not None and self.closed_to is not None:
            parts.append(self.closed_from.isoformat() if self.closed_from == self.closed_to
                         else f"{self.closed_from.isoformat()} 至 {self.closed_to.isoformat()}")
        return " · ".join(parts)


@dataclass(frozen=True)
class Counts:
    open: int = 0
    due_today: int = 0
    due_next: int = 0
    overdue: int = 0
    provisional: int = 0
    stopped: int = 0  # past the due date but the clock stands still (not counted as overdue)
    max_days_over: int = 0  # the worst overdue ticket, in working days

    def get(self, bucket: str) -> int:
        return int(getattr(self, bucket))


@dataclass(frozen=True)
class GroupLine:
    """One row of a by-window / by-staff / by-kind table."""

    dimension: str  # window | staff | kind
    key: str  # window code, staff id as text ("" for nobody), kind code
    label: str
    counts: Counts

    def drill(self, bucket: str, snapshot: DashboardSnapshot) -> Drill:
        base = snapshot.drill(bucket)
        if self.dimension == "window":
            return Drill(**{**base.__dict__, "window_code": self.key})
        if self.dimension == "kind":
            return Drill(**{**base.__dict__, "kind": self.key})
        return Drill(**{**base.__dict__, "owner_id": int(self.key) if self.key else None, "nobody": not self.key})


@dataclass(frozen=True)
class Rate:
    """按时办结率 over a period: closed (with a result) and closed on time."""

    label: str
    start: date
    end: date
    closed: int
    on_time: int

    @property
    def rate(self) -> float | None:
        return self.on_time / self.closed if self.closed else None

    @property
    def text(self) -> str:
        return "—" if self.rate is None else f"{self.rate * 100:.1f}%"

    @property
    def late(self) -> int:
        return self.closed - self.on_time

    def drill(self, bucket: str = "closed") -> Drill:
        """The closures behind the rate: ``closed`` (the denominator), ``on_time`` or ``late``."""
        return Drill(bucket, closed_from=self.start, closed_to=self.end)


@dataclass(frozen=True)
class DayPoint:
    day: date
    received: int
    closed: int
    overdue: int  # tickets open past their due date at the end of that day


@dataclass(frozen=True)
class Panel:
    """A list fed by a workflow service; ``enabled`` is False when that service is not installed.

    ``rows`` are the first :data:`PANEL_ROWS` at most (a follow-up backlog of thousands is never read whole for
    the screen); ``total`` is how many there are in all (None: ``rows`` is the whole list)."""

    enabled: bool
    rows: tuple[Any, ...] = ()
    note: str = ""
    total: int | None = None

    @property
    def count(self) -> int:
        return len(self.rows) if self.total is None else self.total

    @property
    def truncated(self) -> bool:
        return self.count > len(self.rows)


@dataclass(frozen=True)
class DashboardSnapshot:
    today: date
    next_workday: date
    is_workday: bool
    totals: Counts
    by_window: tuple[GroupLine, ...]
    by_staff: tuple[GroupLine, ...]
    by_kind: tuple[GroupLine, ...]
    overdue_by_days: tuple[tuple[int, int], ...]  # (working days over, tickets), worst first
    rate_today: Rate
    rate_month: Rate
    rate_year: Rate
    series: tuple[DayPoint, ...]  # the last TREND_DAYS days, oldest first
    rectifications: Panel
    followups: Panel
    duty: Panel
    substitutions: Panel
    calendar_banner: str  # "" when every year a deadline can reach is confirmed
    provisional_years: tuple[int, ...]
    elapsed_ms: float = field(default=0.0, compare=False)
    provisional_from: date | None = None  # provisional deadlines are counted from here (first unconfirmed year)

    def drill(self, bucket: str) -> Drill:
        """The hall-wide drill-down of one bucket."""
        t = self.today
        if bucket == "due_today":
            return Drill(bucket, due_from=t, due_to=t)
        if bucket == "due_next":
            return Drill(bucket, due_from=self.next_workday, due_to=self.next_workday)
        if bucket in ("overdue", "stopped"):
            return Drill(bucket, due_to=t - timedelta(days=1))
        if bucket in ("closed", "on_time", "late"):
            return Drill(bucket, closed_from=t, closed_to=t)
        if bucket == "provisional":
            return Drill(bucket, due_from=self.provisional_from)
        return Drill(bucket)


# --------------------------------------------------------------------------------------------- helpers
def day_of(session: Session, column: Any) -> Any:
    """The calendar day of a DATETIME column as SQL (SQLite stores text: ``date()``; PostgreSQL casts)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(column, 1, 10)  # stored as "YYYY-MM-DD HH:MM:SS…"; cheaper than date()
    return func.to_char(column, "YYYY-MM-DD")


def as_date(value: Any) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value))


def _clock_stopped(entries: list[dict[str, Any]] | None) -> bool:
    open_ = {"pause": False, "exclude": False}
    for e in entries or ():
        kind = e.get("kind")
        if kind in ("pause", "exclude_start"):
            open_["pause" if kind == "pause" else "exclude"] = True
        elif kind in ("resume", "exclude_end"):
            open_["pause" if kind == "resume" else "exclude"] = False
    return any(open_.values())


class open_stop(FunctionElement[bool]):  # lower case: a SQL function, as SQLAlchemy spells them
    """SQL: the ticket's clock list (a JSON array) has a pause or a special step still running — the last
    ``pause``/``resume`` entry is a pause, or the last ``exclude_start``/``exclude_end`` entry is a start.
    The same reading as :func:`_clock_stopped`, compiled per dialect (SQLite ``json_each``, PostgreSQL
    ``json_array_elements … WITH ORDINALITY``): the list is walked in order, never matched as text."""

    type = Boolean()
    inherit_cache = True
    name = "open_stop"


_STOP_PAIRS = (("pause", "resume"), ("exclude_start", "exclude_end"))


@compiles(open_stop, "sqlite")
def _open_stop_sqlite(element: open_stop, compiler: Any, **kw: Any) -> str:
    col = compiler.process(next(iter(element.clauses)), **kw)
    parts = [f"coalesce((SELECT json_extract(e.value, '$.kind') FROM json_each({col}) AS e "
             f"WHERE json_extract(e.value, '$.kind') IN ('{a}', '{b}') ORDER BY e.key DESC LIMIT 1), '') = '{a}'"
             for a, b in _STOP_PAIRS]
    return "(" + " OR ".join(parts) + ")"


@compiles(open_stop, "postgresql")
def _open_stop_pg(element: open_stop, compiler: Any, **kw: Any) -> str:
    col = compiler.process(next(iter(element.clauses)), **kw)
    # json_array_elements fails on a scalar: a JSON null clock reads as an empty list.
    arr = f"CASE WHEN json_typeof({col}::json) = 'array' THEN {col}::json ELSE '[]'::json END"
    parts = [f"coalesce((SELECT e.value ->> 'kind' FROM json_array_elements({arr}) WITH ORDINALITY AS e(value, i) "
             f"WHERE e.value ->> 'kind' IN ('{a}', '{b}') ORDER BY e.i DESC LIMIT 1), '') = '{a}'"
             for a, b in _STOP_PAIRS]
    return "(" + " OR ".join(parts) + ")"


def clock_stopped_sql() -> ColumnElement[bool]:
    """SQL for "this ticket's clock stands still" (a stopped state, or a stop running in its clock list) — what
    :func:`snapshot` decides in Python for its overdue candidates, so a drill-down lists the same tickets.
    An empty clock list (the common case) is recognised by its length before any JSON is walked."""
    return or_(Ticket.state.in_(CLOCK_STOPPED_STATES),
               (func.length(cast(Ticket.clock, String)) > 2) & open_stop(Ticket.clock))


def first_unconfirmed_year(cal: WorkCalendar, from_year: int) -> int:
    year = from_year
    while cal.is_confirmed(year):
        year += 1
    return year


class _Acc:
    """Mutable counters while bucketing; frozen into :class:`Counts` at the end."""

    __slots__ = ("due_next", "due_today", "max_days_over", "open", "overdue", "provisional", "stopped")

    def __init__(self) -> None:
        self.open = self.due_today = self.due_next = self.overdue = self.provisional = self.stopped = 0
        self.max_days_over = 0

    def freeze(self) -> Counts:
        return Counts(self.open, self.due_today, self.due_next, self.overdue, self.provisional, self.stopped,
                      self.max_days_over)


# ---------------------------------------------------------------------------------------------- snapshot
def snapshot(session: Session, today: date) -> DashboardSnapshot:
    """Everything the manager's screen shows for ``today`` (read-only; the caller owns the session)."""
    began = time.perf_counter()
    cal = clock.calendar_for(session)
    nxt = next_working_day(cal, today)

    # 1. Open tickets by (due date, window, kind, owner): the covering index alone.
    open_rows = session.execute(
        select(Ticket.due_date, Ticket.window_code, Ticket.kind, Ticket.owner_id, func.count())
        .where(Ticket.is_open.is_(True))
        .group_by(Ticket.due_date, Ticket.window_code, Ticket.kind, Ticket.owner_id)
    ).all()
    # 2. Overdue candidates whose clock may be stopped (state, or a pause/exclusion in the clock list).
    stopped_rows = session.execute(
        select(Ticket.due_date, Ticket.window_code, Ticket.kind, Ticket.owner_id, Ticket.state, Ticket.clock)
        .where(Ticket.is_open.is_(True), Ticket.due_date < today,
               (Ticket.state.in_(CLOCK_STOPPED_STATES)) | (func.length(cast(Ticket.clock, String)) > 2))
    ).all()
    stopped = Counter((as_date(d), w, k, o) for d, w, k, o, state, entries in stopped_rows
                      if state in CLOCK_STOPPED_STATES or _clock_stopped(entries))
    # 3. Provisional deadlines can only fall in (or run through) a year not yet confirmed.
    y0 = first_unconfirmed_year(cal, today.year)
    prov = _provisional(session, y0)

    total, per_window, per_staff, per_kind = _Acc(), defaultdict(_Acc), defaultdict(_Acc), defaultdict(_Acc)
    over_hist: Counter[int] = Counter()
    open_overdue_by_due: Counter[date] = Counter()
    over_cache: dict[date, int] = {}
    for due_raw, window, kind, owner, n in open_rows:
        accs = (total, per_window[window], per_staff[owner], per_kind[kind])
        for a in accs:
            a.open += n
        if due_raw is None:
            continue
        due = as_date(due_raw)
        if due == today:
            for a in accs:
                a.due_today += n
        elif due == nxt:
            for a in accs:
                a.due_next += n
        elif due < today:
            halted = stopped.get((due, window, kind, owner), 0)
            late = n - halted
            for a in accs:
                a.stopped += halted
            if late <= 0:
                continue
            over = over_cache.get(due)
            if over is None:
                # Working days in (due, today]; at least 1 (a weekend does not make a late ticket on time).
                over = over_cache[due] = max(working_days_between(cal, due, today), 1)
            over_hist[over] += late
            open_overdue_by_due[due] += late
            for a in accs:
                a.overdue += late
                a.max_days_over = max(a.max_days_over, over)
    for (window, kind, owner), n in prov.items():
        for a in (total, per_window[window], per_staff[owner], per_kind[kind]):
            a.provisional += n

    windows = dict(session.execute(select(Window.code, Window.name).order_by(Window.sort_order, Window.code)).all())
    staff_names = dict(session.execute(select(Staff.id, Staff.name)).all())
    by_window = tuple(GroupLine("window", code, f"{code} {windows.get(code, '')}".strip(),
                                per_window[code].freeze() if code in per_window else Counts())
                      for code in sorted(set(windows) | set(per_window)))
    by_staff = tuple(sorted(
        (GroupLine("staff", "" if sid is None else str(sid), staff_names.get(sid, NOBODY) if sid else NOBODY,
                   acc.freeze()) for sid, acc in per_staff.items()),
        key=lambda g: (-g.counts.overdue, -g.counts.due_today, -g.counts.open, g.label)))
    by_kind = tuple(GroupLine("kind", k, KIND_LABELS[k], per_kind[k].freeze() if k in per_kind else Counts())
                    for k in KIND_LABELS)

    rates, series = _closures(session, cal, today, open_overdue_by_due)
    banner, prov_years = _banner(cal, today, total.provisional)
    snap = DashboardSnapshot(
        today=today, next_workday=nxt, is_workday=cal.is_workday(today), totals=total.freeze(),
        by_window=by_window, by_staff=by_staff, by_kind=by_kind,
        overdue_by_days=tuple(sorted(over_hist.items(), reverse=True)),
        rate_today=rates[0], rate_month=rates[1], rate_year=rates[2], series=series,
        rectifications=_panel(ratings,
                              lambda m: m.rectifications(session, today, limit=PANEL_ROWS)
                              if _any_open_rectification(session) else (),
                              lambda m: m.count_rectifications(session)),
        followups=_panel(followups,
                         lambda m: m.due(session, today, limit=PANEL_ROWS), lambda m: m.count_due(session, today)),
        duty=_panel(attendance,
                    lambda m: m.on_duty(session, today)),
        substitutions=_panel(bposts,
                             lambda m: m.substitutions(session, today)),
        calendar_banner=banner, provisional_years=prov_years, provisional_from=date(y0, 1, 1),
    )
    return DashboardSnapshot(**{**snap.__dict__, "elapsed_ms": (time.perf_counter() - began) * 1000})


def _provisional(session: Session, first_unconfirmed: int) -> Counter[tuple[str, str, int | None]]:
    # A deadline is provisional only when it reaches into an unconfirmed year (confirming a year recomputes the
    # deadlines it touches), so only tickets due from that year on are looked at.
    rows = session.execute(
        select(Ticket.window_code, Ticket.kind, Ticket.owner_id, func.count())
        .where(Ticket.is_open.is_(True), Ticket.due_date >= date(first_unconfirmed, 1, 1),
               Ticket.due_provisional.is_(True))
        .group_by(Ticket.window_code, Ticket.kind, Ticket.owner_id)
    ).all()
    return Counter({(w, k, o): n for w, k, o, n in rows})


def _closures(session: Session, cal: WorkCalendar, today: date,
              open_overdue_by_due: Counter[date]) -> tuple[tuple[Rate, Rate, Rate], tuple[DayPoint, ...]]:
    """On-time rates (today / month / year), and the 30-day series: intake, closures, overdue at day end."""
    first = today - timedelta(days=TREND_DAYS - 1)
    year_start = date(today.year, 1, 1)
    end = datetime.combine(today + timedelta(days=1), datetime.min.time())
    closed_day = day_of(session, Ticket.closed_at)
    # "IN (true, false)" rather than "IS NOT NULL": two index ranges on (closed_on_time, closed_at, …).
    closed_with_result = (Ticket.closed_on_time.in_((True, False)), Ticket.state != "voided")
    month_start = today.replace(day=1)

    def since_dt(d: date) -> datetime:
        return datetime.combine(d, datetime.min.time())

    # Rates: one range count per period and flag, each read from ix_tickets_closed_rate alone in index order.
    # (Three plain counts, 11 ms for a year of a 1M ledger, beat one pass bucketing the year with CASE: 40 ms.)
    def tally(start: date) -> tuple[int, int]:
        by_flag = dict(session.execute(
            select(Ticket.closed_on_time, func.count())
            .where(Ticket.closed_at >= since_dt(start), Ticket.closed_at < end, *closed_with_result)
            .group_by(Ticket.closed_on_time)).all())
        return sum(by_flag.values()), by_flag.get(True, 0)

    rates = (Rate("今日", today, today, *tally(today)), Rate("本月", month_start, today, *tally(month_start)),
             Rate("本年", year_start, today, *tally(year_start)))
    # Closures per day over the chart's 30 days, and the late ones with their due dates: a ticket closed late
    # was overdue every day from its due date to its closing (the overdue trend).
    per_day = session.execute(
        select(closed_day, func.count())
        .where(Ticket.closed_at >= since_dt(first), Ticket.closed_at < end, *closed_with_result)
        .group_by(closed_day)).all()
    late = session.execute(
        select(Ticket.due_date, closed_day, func.count())
        .where(Ticket.closed_on_time.is_(False), Ticket.closed_at >= since_dt(first), Ticket.closed_at < end,
               Ticket.state != "voided", Ticket.due_date.is_not(None))
        .group_by(Ticket.due_date, closed_day)).all()
    received_day = day_of(session, Ticket.received_at)
    intake = {as_date(d): n for d, n in session.execute(
        select(received_day, func.count())
        .where(Ticket.received_at >= datetime.combine(first, datetime.min.time()), Ticket.received_at < end)
        .group_by(received_day)
    ).all()}

    closed_per_day = Counter({as_date(d): n for d, n in per_day})
    late_spans = [(as_date(due), as_date(d), n) for due, d, n in late]

    # Overdue at the end of day d: open now and due before d, or closed late after d and due before d.
    days = [first + timedelta(days=i) for i in range(TREND_DAYS)]
    overdue_at = _overdue_trend(days, open_overdue_by_due.items(), late_spans)
    series = tuple(DayPoint(d, intake.get(d, 0), closed_per_day.get(d, 0), overdue_at[i]) for i, d in enumerate(days))
    return rates, series


def _overdue_trend(days: list[date], open_dues: Iterable[tuple[date, int]],
                   late_spans: list[tuple[date, date, int]]) -> list[int]:
    # A difference array over the 30 days keeps this linear in the number of distinct due dates.
    first = days[0]
    n = len(days)
    diff = [0] * (n + 1)

    def add(from_day: date, to_day: date, count: int) -> None:  # overdue on days in [from_day, to_day]
        a = max((from_day - first).days, 0)
        b = min((to_day - first).days, n - 1)
        if a <= b:
            diff[a] += count
            diff[b + 1] -= count

    for due, count in open_dues:
        add(due + timedelta(days=1), days[-1], count)
    for due, closed_on, count in late_spans:
        add(due + timedelta(days=1), closed_on - timedelta(days=1), count)
    out, running = [], 0
    for i in range(n):
        running += diff[i]
        out.append(running)
    return out


def _banner(cal: WorkCalendar, today: date, provisional: int) -> tuple[str, tuple[int, ...]]:
    years = tuple(y for y in (today.year, today.year + 1) if not cal.is_confirmed(y))
    if not years:
        return "", ()
    text = "、".join(f"{y} 年" for y in years) + "节假日安排尚未确认：跨入该年的办结期限按周一至周五暂定"
    if provisional:
        text += f"，现有 {provisional} 件在办办件的期限为暂定"
    return text + "。请系统管理员在国务院通知发布后录入并确认。", years


def _any_open_rectification(session: Session) -> bool:
    # Asked of the rectifications table alone (its open index): the list joins tickets and ratings, and on a
    # ledger whose statistics predate the first 差评, SQLite's planner drives that join from every ticket.
    from hall.models.workflow import Rectification

    return session.scalar(select(Rectification.id).where(Rectification.state != "closed").limit(1)) is not None


def _panel(module: Any, fetch: Any, count: Any = None) -> Panel:
    """``fetch(module)`` gives the rows shown (bounded by the caller); ``count(module)``, when the list may be
    longer than that, how many there are — only asked when the page came back full."""
    rows = tuple(fetch(module))
    total = int(count(module)) if count is not None and len(rows) >= PANEL_ROWS else None
    return Panel(True, rows, total=total)
