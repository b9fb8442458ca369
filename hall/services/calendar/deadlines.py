"""The deadline engine (限时办结): due dates derived from an item's rule, the calendar and clock events.

Pure Python, no database access: the caller loads a :class:`~hall.services.calendar.workdays.WorkCalendar` once and
passes it in. Counting uses a precomputed working-day index (cumulative counts per day ordinal, inverted with
``bisect``), so one due date costs a few list look-ups whatever the limit; only the human-readable explanation
walks the days, and only up to the due date.

Rules (domain-rules.md §3):
- The acceptance day is not counted (民法典 §201): the due date is the N-th working day *after* acceptance.
- Natural-day limits landing on a non-working day move to the next working day (民法典 §203).
- 即办件 / 解释件 are due on the acceptance day.
- A pause (补正, waiting for the citizen) and an excluded special step (特别程序) stop the clock for every day
  from the day it starts to the day it ends, both included ("自出具补正告知书之日起至收到补正材料之日止，
  不计算在办理时限内"). With ``restart_on_supplement`` the full limit counts again from the day after the
  supplement arrives.
- An extension (延期) adds approved days in the rule's own unit after the rule's own due date: working days for a
  working-day limit; natural days for a natural-day limit, counted from the N-th natural day and moved off a
  non-working last day again (§203). (It once counted working days for every unit, which made a 信访 extension
  of 30 日 about six weeks.)
- A year with no confirmed calendar counts Mon–Fri and makes the result provisional (暂定). Never raises for
  a year outside the data.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from typing import Literal, Protocol

from hall.errors import ValidationError

Unit = Literal["workday", "day"]
EventKind = Literal["pause", "resume", "exclude_start", "exclude_end", "extend"]

SAME_DAY_KINDS = frozenset({"immediate", "explain"})
MAX_LIMIT = 3660  # ten years of days: far beyond any statutory limit, well inside date arithmetic
WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
UNIT_NAMES = {"workday": "个工作日", "day": "日"}


# --------------------------------------------------------------------------------------------- plain data
@dataclass(frozen=True)
class LimitRule:
    """An item's time limit: ``limit`` days in ``unit``; ``restart_on_supplement`` is a local item setting."""

    limit: int
    unit: Unit = "workday"
    restart_on_supplement: bool = False


@dataclass(frozen=True)
class ClockEvent:
    """One recorded event on a ticket's clock. ``days`` and ``approver`` are for ``extend`` only."""

    kind: EventKind
    on: date
    days: int = 0
    reason: str = ""
    approver: str = ""


@dataclass(frozen=True)
class Deadline:
    """A derived due date and how it was reached.

    ``paused_since`` is set while a pause or special step has no end yet: the clock is stopped and ``due`` is
    the earliest possible date (as if it ended that same day); it is recomputed when the end is recorded.
    """

    due: date
    provisional: bool
    explanation: tuple[str, ...]
    counted_days: tuple[date, ...]
    provisional_years: tuple[int, ...] = ()
    paused_since: date | None = None
    limit: int = 0
    unit: Unit = "workday"
    extension_days: int = 0


# ------------------------------------------------------------------------------------------ the index
def _weekdays_through(ordinal: int) -> int:
    """Mon–Fri days among ordinals 1..ordinal (ordinal 1, 0001-01-01, is a Monday). Closed form."""
    weeks, rest = divmod(ordinal, 7)
    return 5 * weeks + min(rest, 5)


def _weekday_ordinal(count: int) -> int:
    """Smallest ordinal whose Mon–Fri count reaches ``count`` (inverse of :func:`_weekdays_through`)."""
    weeks, rest = divmod(count - 1, 5)
    return 7 * weeks + rest + 1


class WorkdayIndex:
    """Cumulative working-day counts for every day of ``first_year``..``last_year``.

    ``through(o)`` is the number of working days up to and including ordinal ``o`` (relative to the span
    start, so it may be negative before the span); ``nth(t)`` is the smallest ordinal with ``through >= t``.
    Outside the span the calendar is plain Mon–Fri and both use closed forms, so no date ever raises.
    The same is kept for "days in an unconfirmed year" to decide provisional results in O(1).
    """

    __slots__ = ("_base", "_end", "_prov", "_work", "_work_before", "_work_end", "first_year", "last_year")

    def __init__(self, first_year: int, last_year: int, is_workday: Callable[[date], bool],
                 confirmed_years: Iterable[int]) -> None:
        self.first_year = first_year
        self.last_year = last_year
        start = date(first_year, 1, 1)
        self._base = start.toordinal()
        self._end = date(last_year, 12, 31).toordinal()
        confirmed = frozenset(confirmed_years)
        days = [start + timedelta(days=i) for i in range(self._end - self._base + 1)]
        self._work = list(accumulate(1 if is_workday(d) else 0 for d in days))
        self._prov = list(accumulate(0 if d.year in confirmed else 1 for d in days))
        self._work_before = _weekdays_through(self._base - 1)
        self._work_end = _weekdays_through(self._end)

    def through(self, ordinal: int) -> int:
        i = ordinal - self._base
        if i < 0:
            return _weekdays_through(ordinal) - self._work_before
        if ordinal > self._end:
            return self._work[-1] + _weekdays_through(ordinal) - self._work_end
        return self._work[i]

    def nth(self, count: int) -> int:
        if count <= 0:
            return _weekday_ordinal(count + self._work_before)
        if count > self._work[-1]:
            return _weekday_ordinal(count - self._work[-1] + self._work_end)
        return self._base + bisect.bisect_left(self._work, count)

    def unconfirmed_through(self, ordinal: int) -> int:
        """Days in unconfirmed years up to ``ordinal`` (every day outside the span is unconfirmed)."""
        i = ordinal - self._base
        if i < 0:
            return i
        if ordinal > self._end:
            return self._prov[-1] + ordinal - self._end
        return self._prov[i]


# ------------------------------------------------------------------------------------------ validation
def _validate(rule: LimitRule, accepted_on: date, events: Sequence[ClockEvent]) -> None:
    if not isinstance(rule.limit, int) or not 0 <= rule.limit <= MAX_LIMIT:
        raise ValidationError("办理时限", f"应为 0 至 {MAX_LIMIT} 之间的整数，现为 {rule.limit}")
    if rule.unit not in UNIT_NAMES:
        raise ValidationError("时限单位", f"应为 workday（工作日）或 day（自然日），现为 {rule.unit}")
    for ev in events:
        if ev.on < accepted_on:
            raise ValidationError("计时事件", f"{ev.on.isoformat()} 早于受理日 {accepted_on.isoformat()}")
        if ev.kind == "extend" and not 0 < ev.days <= MAX_LIMIT:
            raise ValidationError("延期天数", f"应为 1 至 {MAX_LIMIT} 之间的整数，现为 {ev.days}")
        if ev.kind not in ("pause", "resume", "exclude_start", "exclude_end", "extend"):
            raise ValidationError("计时事件", f"未知类型 {ev.kind}")


@dataclass(frozen=True)
class _Stop:
    """A stretch [start, end] (ordinals, inclusive) where the clock stands still."""

    start: int
    end: int
    kind: str  # "pause" | "exclude"
    reason: str
    open: bool  # no end recorded yet: ``end`` is the start day, an estimate


def _stops(events: Sequence[ClockEvent]) -> tuple[list[_Stop], date | None]:
    """Pair pause/resume and exclude_start/exclude_end into stops; report a still-open one."""
    stops: list[_Stop] = []
    open_since: dict[str, tuple[int, str]] = {}
    for ev in sorted(events, key=lambda e: e.on):  # stable: same-day events keep their recorded order
        o = ev.on.toordinal()
        if ev.kind in ("pause", "exclude_start"):
            key = "pause" if ev.kind == "pause" else "exclude"
            open_since.setdefault(key, (o, ev.reason))
        elif ev.kind in ("resume", "exclude_end"):
            key = "pause" if ev.kind == "resume" else "exclude"
            began = open_since.pop(key, None)
            if began is None:
                raise ValidationError("计时事件", f"{ev.on.isoformat()} 的结束事件没有对应的开始事件")
            stops.append(_Stop(began[0], o, key, began[1], False))
    paused_since = None
    for key, (o, reason) in open_since.items():
        stops.append(_Stop(o, o, key, reason, True))
        first = date.fromordinal(o)
        paused_since = first if paused_since is None or first < paused_since else paused_since
    stops.sort(key=lambda s: s.start)
    return stops, paused_since


# ------------------------------------------------------------------------------------------- counting
def _walk(start: int, need: int, stops: Sequence[_Stop], through: Callable[[int], int],
          nth: Callable[[int], int]) -> tuple[int, list[tuple[int, int]]]:
    """Count ``need`` units after ordinal ``start``, skipping stops; return the last ordinal and the segments
    ``(after, upto)`` that were counted (for the explanation)."""
    cur = start
    segments: list[tuple[int, int]] = []
    if need == 0:
        return start, segments
    for stop in stops:
        if stop.end <= cur:
            continue
        first_stopped = max(stop.start, cur + 1)
        available = through(first_stopped - 1) - through(cur)
        if need <= available:
            break
        if available:
            segments.append((cur, first_stopped - 1))
        need -= available
        cur = stop.end
    last = nth(through(cur) + need)
    segments.append((cur, last))
    return last, segments


def _identity(o: int) -> int:
    return o


@dataclass(frozen=True)
class _Plan:
    due: int
    base_due: int  # the rule's own due date, before extensions (and, for days, before moving)
    natural_end: int  # natural-day unit: the N-th day, before moving to a working day
    start: int  # ordinal after which counting (re)started
    restart_from: int | None  # resume ordinal when the limit was restarted after 补正
    segments: list[tuple[int, int]]
    ext_segment: tuple[int, int] | None
    stops: list[_Stop]
    paused_since: date | None
    extension_days: int


def _moved_to_workday(idx: WorkdayIndex, o: int) -> int:
    """民法典 §203: a last day that is not a working day moves to the next working day."""
    return o if idx.through(o) != idx.through(o - 1) else idx.nth(idx.through(o) + 1)


def _plan(calendar: WorkCalendar, rule: LimitRule, accepted_on: date,
          events: Sequence[ClockEvent]) -> _Plan:
    idx = calendar.index
    stops, paused_since = _stops(events)
    start = accepted_on.toordinal()
    restart_from = None
    if rule.restart_on_supplement:
        resumes = [s.end for s in stops if s.kind == "pause"]
        if resumes:
            restart_from = start = max(resumes)
    extension = sum(ev.days for ev in events if ev.kind == "extend")
    if rule.unit == "workday":
        base_due, segments = _walk(start, rule.limit, stops, idx.through, idx.nth)
        natural_end = base_due
    else:
        natural_end, segments = _walk(start, rule.limit, stops, _identity, _identity)
        base_due = _moved_to_workday(idx, natural_end)
    due = base_due
    ext_segment = None
    if extension:
        if rule.unit == "workday":
            due = idx.nth(idx.through(base_due) + extension)
            ext_segment = (base_due, due)
        else:
            last = natural_end + extension
            due = _moved_to_workday(idx, last)
            ext_segment = (natural_end, last)
    return _Plan(due, base_due, natural_end, start, restart_from, segments, ext_segment, stops,
                 paused_since, extension)


def due_date(calendar: WorkCalendar, rule: LimitRule, accepted_on: date, kind: str = "promised",
             events: Sequence[ClockEvent] = ()) -> tuple[date, bool]:
    """The due date and whether it is provisional, without the explanation (for bulk recomputation)."""
    if kind in SAME_DAY_KINDS:
        return accepted_on, False
    idx = calendar.index
    a = accepted_on.toordinal()
    if not events and rule.unit == "workday" and 0 <= rule.limit <= MAX_LIMIT:
        # The common case in two index look-ups and one bisect.
        due = idx.nth(idx.through(a) + rule.limit) if rule.limit else a
    else:
        _validate(rule, accepted_on, events)
        due = _plan(calendar, rule, accepted_on, events).due
    return date.fromordinal(due), idx.unconfirmed_through(due) != idx.unconfirmed_through(a)


def recompute(calendar: WorkCalendar,
              jobs: Iterable[tuple[LimitRule, date, str, Sequence[ClockEvent]]]) -> list[tuple[date, bool]]:
    """Due date and provisional flag for many open tickets at once (after a calendar change).

    The common case (working days, no clock events, inside the index span) is inlined over local
    references to the index arrays; everything else goes through :func:`due_date`.
    """
    idx = calendar.index
    work, prov, base = idx._work, idx._prov, idx._base
    last = len(work) - 1
    top = work[-1]
    find = bisect.bisect_left
    from_ordinal = date.fromordinal
    out: list[tuple[date, bool]] = []
    append = out.append
    for rule, accepted, kind, events in jobs:
        i = accepted.toordinal() - base
        n = rule.limit
        if not events and kind not in SAME_DAY_KINDS and 0 <= i <= last and 0 < n <= MAX_LIMIT:
            if rule.unit == "workday":
                target = work[i] + n
                if target <= top:
                    j = find(work, target)
                    append((from_ordinal(base + j), prov[j] != prov[i]))
                    continue
            elif rule.unit == "day" and i + n <= last:
                j = i + n
                if work[j] == work[j - 1]:  # the N-th day is not worked: the next working day (§203)
                    j = find(work, work[j] + 1) if work[j] < top else -1
                if j >= 0:
                    append((from_ordinal(base + j), prov[j] != prov[i]))
                    continue
        append(due_date(calendar, rule, accepted, kind, events))
    return out


def working_days_between(calendar: WorkCalendar, a: date, b: date) -> int:
    """Working days in (a, b]: "days left" from today ``a`` to due ``b``; negative when ``b`` is before ``a``
    (then ``-working_days_between(b, a)`` — the working days overdue)."""
    idx = calendar.index
    return idx.through(b.toordinal()) - idx.through(a.toordinal())


def next_working_day(calendar: WorkCalendar, d: date, *, include_today: bool = False) -> date:
    """The first working day after ``d`` (or ``d`` itself when ``include_today`` and it is worked)."""
    idx = calendar.index
    o = d.toordinal()
    if include_today and calendar.is_workday(d):
        return d
    return date.fromordinal(idx.nth(idx.through(o) + 1))


# ------------------------------------------------------------------------------------- the explanation
def _fmt(o: int) -> str:
    d = date.fromordinal(o)
    return f"{d.isoformat()}（{WEEKDAY_NAMES[d.weekday()]}）"


def _span(first: int, last: int) -> str:
    return _fmt(first) if first == last else f"{_fmt(first)} 至 {_fmt(last)}"


def _numbers(first: int, last: int, unit_word: str) -> str:
    return f"第 {first} {unit_word}" if first == last else f"第 {first}–{last} {unit_word}"


def compute_due(calendar: WorkCalendar, rule: LimitRule, accepted_on: date, kind: str = "promised",
                events: Sequence[ClockEvent] = ()) -> Deadline:
    """Derive the due date for one ticket, with a line-by-line Chinese explanation."""
    if kind in SAME_DAY_KINDS:
        kind_name = "即办件" if kind == "immediate" else "解释件"
        return Deadline(accepted_on, False, (f"{kind_name}：受理当日办结，期限 {_fmt(accepted_on.toordinal())}。",),
                        (), limit=0, unit=rule.unit)
    _validate(rule, accepted_on, events)
    plan = _plan(calendar, rule, accepted_on, events)
    a = accepted_on.toordinal()
    idx = calendar.index
    unit_word = UNIT_NAMES[rule.unit]
    lines = [f"受理日 {_fmt(a)} 不计入期限（民法典第二百零一条）。",
             f"办理时限：{rule.limit} {unit_word}" + ("（补正后重新计算）" if rule.restart_on_supplement else "")
             + "。"]

    # Which ordinals were counted, and as which number.
    counted: dict[int, tuple[int, bool]] = {}  # ordinal -> (number, is_extension)
    n = 0
    for after, upto in plan.segments:
        for o in range(after + 1, upto + 1):
            if rule.unit == "day" or calendar.is_workday(date.fromordinal(o)):
                n += 1
                counted[o] = (n, False)
    if plan.ext_segment:
        m = 0
        for o in range(plan.ext_segment[0] + 1, plan.ext_segment[1] + 1):
            if rule.unit == "day" or calendar.is_workday(date.fromordinal(o)):
                m += 1
                counted[o] = (m, True)

    stop_of: dict[int, _Stop] = {}
    for stop in plan.stops:
        for o in range(stop.start, stop.end + 1):
            stop_of.setdefault(o, stop)

    def label(o: int) -> tuple[str, str]:
        """(group key, text) for one day; consecutive days with the same key share a line."""
        d = date.fromordinal(o)
        info = calendar.day_info(d)
        note = f"（{d.year} 年节假日未确认，暂按周一至周五）" if info.provisional else ""
        if o in counted:
            is_ext = counted[o][1]
            if info.kind == "makeup":
                return (f"makeup{o}", f"计入 {{span}}：调休上班日（{info.name}），{{numbers}}{note}")
            if is_ext:
                return ("ext" + note, f"计入 {{span}}：延期 {{numbers}}{note}")
            return ("count" + note, f"计入 {{span}}：{{numbers}}{note}")
        if o in stop_of:
            stop = stop_of[o]
            what = "补正期间" if stop.kind == "pause" else "特别程序"
            why = f"（{stop.reason}）" if stop.reason else ""
            return (f"stop{stop.start}", f"暂停 {{span}}：{what}{why}，不计入")
        if plan.restart_from is not None and o <= plan.restart_from:
            return ("reset", "不计入 {span}：补正材料送达后重新计算，此前已计日数作废")
        if not info.is_workday:
            if info.kind in ("holiday", "local"):
                local = "（地方节假日）" if info.kind == "local" else ""
                return (f"hol{info.name}", f"跳过 {{span}}：{info.name}{local}")
            return ("weekend" + note, f"跳过 {{span}}：周末{note}")
        return ("other", "不计入 {span}")

    # Runs of equal labels, numbered for counted runs.
    o = a + 1
    while o <= plan.due:
        key, text = label(o)
        end = o
        while end + 1 <= plan.due and label(end + 1)[0] == key:
            end += 1
        nums = [counted[x][0] for x in range(o, end + 1) if x in counted]
        word = "个工作日" if rule.unit == "workday" else "日"  # an extension counts in the rule's own unit
        lines.append(text.format(span=_span(o, end), numbers=_numbers(nums[0], nums[-1], word) if nums else ""))
        o = end + 1

    for stop in plan.stops:
        what = "补正" if stop.kind == "pause" else "特别程序"
        why = f"（{stop.reason}）" if stop.reason else ""
        if stop.open:
            lines.append(f"{what}{why}自 {_fmt(stop.start)} 起暂停计时，尚未结束：期限按当日结束估算，"
                         f"结束后重新计算。")
    if plan.restart_from is not None:
        lines.append(f"补正材料于 {_fmt(plan.restart_from)} 送达，自次日起重新计算 {rule.limit} {unit_word}。")
    if rule.unit == "day" and plan.base_due != plan.natural_end and not plan.extension_days:
        lines.append(f"第 {rule.limit} 日 {_fmt(plan.natural_end)} 不是工作日，顺延至 {_fmt(plan.base_due)}"
                     f"（民法典第二百零三条）。")
    for ev in events:
        if ev.kind == "extend":
            who = f"，批准人 {ev.approver}" if ev.approver else ""
            why = f"，理由：{ev.reason}" if ev.reason else ""
            lines.append(f"延期 {ev.days} {unit_word}（{ev.on.isoformat()} 批准{who}{why}）。")
    if rule.unit == "day" and plan.ext_segment and plan.ext_segment[1] != plan.due:
        lines.append(f"延期后第 {rule.limit + plan.extension_days} 日 {_fmt(plan.ext_segment[1])} 不是工作日，"
                     f"顺延至 {_fmt(plan.due)}（民法典第二百零三条）。")

    provisional = idx.unconfirmed_through(plan.due) != idx.unconfirmed_through(a)
    prov_years: tuple[int, ...] = ()
    if provisional:
        prov_years = tuple(y for y in range(accepted_on.year, date.fromordinal(plan.due).year + 1)
                           if not calendar.is_confirmed(y))
        years = "、".join(str(y) for y in prov_years)
        lines.append(f"暂定：{years} 年的节假日安排尚未确认，按周一至周五推算；确认后将重新计算。")
    total = f"{rule.limit} {unit_word}" + (f" + 延期 {plan.extension_days} {unit_word}" if plan.extension_days else "")
    lines.append(f"办结期限：{_fmt(plan.due)}（{total}）" + ("，暂定" if provisional else "") + "。")
    return Deadline(
        due=date.fromordinal(plan.due),
        provisional=provisional,
        explanation=tuple(lines),
        counted_days=tuple(date.fromordinal(x) for x in sorted(counted)),
        provisional_years=prov_years,
        paused_since=plan.paused_since,
        limit=rule.limit,
        unit=rule.unit,
        extension_days=plan.extension_days,
    )


class WorkCalendar(Protocol):
    """What the engine needs of a calendar (:class:`hall.services.calendar.workdays.WorkCalendar`): its index.

    A protocol rather than an import, so the calendar store builds on this module and not the other way round."""

    @property
    def index(self) -> WorkdayIndex: ...
