"""The deadline engine against the official 2026 notice (domain-rules.md §3) and as properties."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hall.errors import ValidationError
from hall.services.calendar.deadlines import (
    ClockEvent,
    LimitRule,
    compute_due,
    due_date,
    next_working_day,
    recompute,
    working_days_between,
)
from hall.services.calendar.workdays import WorkCalendar

D = date
CAL = WorkCalendar.from_package()  # immutable; chinese_calendar 1.11 carries the 2026 notice

# 国务院办公厅 2025-11-04: the 2026 holiday ranges and make-up workdays.
HOLIDAYS_2026 = {
    "元旦": (D(2026, 1, 1), D(2026, 1, 3)),
    "春节": (D(2026, 2, 15), D(2026, 2, 23)),
    "清明节": (D(2026, 4, 4), D(2026, 4, 6)),
    "劳动节": (D(2026, 5, 1), D(2026, 5, 5)),
    "端午节": (D(2026, 6, 19), D(2026, 6, 21)),
    "中秋节": (D(2026, 9, 25), D(2026, 9, 27)),
    "国庆节": (D(2026, 10, 1), D(2026, 10, 7)),
}
MAKEUP_2026 = [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)]


def wd(n: int, unit: str = "workday", restart: bool = False) -> LimitRule:
    return LimitRule(n, unit, restart)  # type: ignore[arg-type]


def brute_force_due(accepted: date, n: int) -> date:
    """The day-by-day definition, for cross-checking the index."""
    d, left = accepted, n
    while left:
        d += timedelta(days=1)
        if CAL.is_workday(d):
            left -= 1
    return d


# ------------------------------------------------------------------------------------------ examples
def test_worked_example_thursday_plus_five_crosses_spring_festival():
    dl = compute_due(CAL, wd(5), D(2026, 2, 12))
    assert dl.due == D(2026, 2, 26)
    assert not dl.provisional
    assert dl.counted_days == (D(2026, 2, 13), D(2026, 2, 14), D(2026, 2, 24), D(2026, 2, 25), D(2026, 2, 26))
    text = "\n".join(dl.explanation)
    assert "受理日 2026-02-12（周四） 不计入期限" in text
    assert "计入 2026-02-14（周六）：调休上班日（春节），第 2 个工作日" in text
    assert "跳过 2026-02-15（周日） 至 2026-02-23（周一）：春节" in text
    assert dl.explanation[-1] == "办结期限：2026-02-26（周四）（5 个工作日）。"


def test_worked_example_friday_plus_one_is_the_makeup_saturday():
    dl = compute_due(CAL, wd(1), D(2026, 2, 13))
    assert dl.due == D(2026, 2, 14)
    assert dl.due.weekday() == 5


@pytest.mark.parametrize("makeup", MAKEUP_2026)
def test_every_makeup_weekend_day_is_a_working_day(makeup):
    assert makeup.weekday() >= 5
    assert CAL.is_workday(makeup)
    info = CAL.day_info(makeup)
    assert info.kind == "makeup" and info.name
    # The make-up day is the next working day after the last working day before it.
    before = makeup - timedelta(days=1)
    while not CAL.is_workday(before):
        before -= timedelta(days=1)
    assert compute_due(CAL, wd(1), before).due == makeup
    assert next_working_day(CAL, before) == makeup


@pytest.mark.parametrize(("name", "accepted", "expected"), [
    ("元旦", D(2025, 12, 31), D(2026, 1, 4)),  # straight onto the make-up Sunday
    ("春节", D(2026, 2, 14), D(2026, 2, 24)),
    ("清明节", D(2026, 4, 3), D(2026, 4, 7)),
    ("劳动节", D(2026, 4, 30), D(2026, 5, 6)),
    ("端午节", D(2026, 6, 18), D(2026, 6, 22)),
    ("中秋节", D(2026, 9, 24), D(2026, 9, 28)),
    ("国庆节", D(2026, 9, 30), D(2026, 10, 8)),
])
def test_every_holiday_boundary(name, accepted, expected):
    start, end = HOLIDAYS_2026[name]
    d = start
    while d <= end:
        assert not CAL.is_workday(d), d
        assert CAL.day_info(d).name == name
        d += timedelta(days=1)
    assert CAL.is_workday(start - timedelta(days=1)) or (start - timedelta(days=1)).weekday() >= 5
    dl = compute_due(CAL, wd(1), accepted)
    assert dl.due == expected
    assert any(name in line and "跳过" in line for line in dl.explanation)
    # The last holiday day itself: accepted on it, the next working day is due.
    assert compute_due(CAL, wd(1), end).due == expected


def test_2026_has_248_working_days():
    assert working_days_between(CAL, D(2025, 12, 31), D(2026, 12, 31)) == 248
    assert sum(CAL.is_workday(D(2026, 1, 1) + timedelta(days=i)) for i in range(365)) == 248


def test_calendar_matches_chinese_calendar_every_day_it_covers():
    d = D(2004, 1, 1)
    while d <= D(2026, 12, 31):
        assert CAL.is_workday(d) == chinese_calendar.is_workday(d), d
        d += timedelta(days=1)


def test_guoqing_explanation():
    dl = compute_due(CAL, wd(20), D(2026, 9, 28))
    assert dl.due == D(2026, 10, 30)
    assert len(dl.counted_days) == 20
    assert dl.explanation == (
        "受理日 2026-09-28（周一） 不计入期限（民法典第二百零一条）。",
        "办理时限：20 个工作日。",
        "计入 2026-09-29（周二） 至 2026-09-30（周三）：第 1–2 个工作日",
        "跳过 2026-10-01（周四） 至 2026-10-07（周三）：国庆节",
        "计入 2026-10-08（周四） 至 2026-10-09（周五）：第 3–4 个工作日",
        "计入 2026-10-10（周六）：调休上班日（国庆节），第 5 个工作日",
        "跳过 2026-10-11（周日）：周末",
        "计入 2026-10-12（周一） 至 2026-10-16（周五）：第 6–10 个工作日",
        "跳过 2026-10-17（周六） 至 2026-10-18（周日）：周末",
        "计入 2026-10-19（周一） 至 2026-10-23（周五）：第 11–15 个工作日",
        "跳过 2026-10-24（周六） 至 2026-10-25（周日）：周末",
        "计入 2026-10-26（周一） 至 2026-10-30（周五）：第 16–20 个工作日",
        "办结期限：2026-10-30（周五）（20 个工作日）。",
    )


# ------------------------------------------------------------------------------------------ year crossing
def test_year_crossing_into_an_unconfirmed_year_is_provisional_and_never_raises():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(2027, 1, 4))  # the package itself gives up here
    dl = compute_due(CAL, wd(5), D(2026, 12, 28))
    assert dl.due == D(2027, 1, 4)  # Mon–Fri fallback: 12/29, 12/30, 12/31, 1/1, 1/4
    assert dl.provisional
    assert dl.provisional_years == (2027,)
    assert any(line.startswith("暂定：2027 年") for line in dl.explanation)
    assert dl.explanation[-1].endswith("，暂定。")
    assert due_date(CAL, wd(5), D(2026, 12, 28)) == (D(2027, 1, 4), True)


def test_inside_a_confirmed_year_is_not_provisional():
    assert due_date(CAL, wd(5), D(2026, 12, 21)) == (D(2026, 12, 28), False)
    assert due_date(CAL, wd(3), D(2026, 12, 28)) == (D(2026, 12, 31), False)
    assert due_date(CAL, wd(1), D(2026, 12, 31)) == (D(2027, 1, 1), True)


def test_far_outside_the_data_never_raises():
    assert due_date(CAL, wd(10), D(2040, 6, 1)) == (D(2040, 6, 15), True)
    assert due_date(CAL, wd(10), D(1995, 6, 1)) == (D(1995, 6, 15), True)
    assert compute_due(CAL, wd(300), D(2026, 6, 1)).provisional
    assert working_days_between(CAL, D(2039, 12, 31), D(2040, 12, 31)) == 261
    assert next_working_day(CAL, D(2040, 6, 1)) == D(2040, 6, 4)  # a Friday → Monday


# ------------------------------------------------------------------------------------------ kinds & units
@pytest.mark.parametrize("kind", ["immediate", "explain"])
def test_same_day_kinds_are_due_on_the_acceptance_day(kind):
    dl = compute_due(CAL, wd(20), D(2026, 10, 10), kind)
    assert dl.due == D(2026, 10, 10) and not dl.provisional
    assert due_date(CAL, wd(20), D(2030, 3, 3), kind) == (D(2030, 3, 3), False)


def test_natural_days_landing_on_a_holiday_move_to_the_next_working_day():
    dl = compute_due(CAL, wd(60, "day"), D(2026, 8, 3))  # 8/3 + 60 days = 10/2, inside 国庆
    assert dl.due == D(2026, 10, 8)
    assert len(dl.counted_days) == 60
    assert any("顺延至 2026-10-08" in line for line in dl.explanation)


def test_natural_days_landing_on_a_working_day_stay():
    assert compute_due(CAL, wd(30, "day"), D(2026, 3, 2)).due == D(2026, 4, 1)


# ------------------------------------------------------------------------------------------ clock events
def test_pause_stops_the_clock_from_notice_day_to_supplement_day():
    # Mon 3/2 + 5: counted 3/3, paused 3/4–3/6, then 3/9–3/12.
    events = [ClockEvent("pause", D(2026, 3, 4), reason="缺户口簿复印件"), ClockEvent("resume", D(2026, 3, 6))]
    assert compute_due(CAL, wd(5), D(2026, 3, 2)).due == D(2026, 3, 9)
    dl = compute_due(CAL, wd(5), D(2026, 3, 2), events=events)
    assert dl.due == D(2026, 3, 12)
    assert "暂停 2026-03-04（周三） 至 2026-03-06（周五）：补正期间（缺户口簿复印件），不计入" in dl.explanation
    assert dl.paused_since is None


def test_restart_after_supplement_counts_the_full_limit_again():
    events = [ClockEvent("pause", D(2026, 3, 4)), ClockEvent("resume", D(2026, 3, 6))]
    dl = compute_due(CAL, wd(5, restart=True), D(2026, 3, 2), events=events)
    assert dl.due == D(2026, 3, 13)
    assert dl.counted_days == tuple(D(2026, 3, d) for d in (9, 10, 11, 12, 13))
    assert any("重新计算 5 个工作日" in line for line in dl.explanation)
    assert any(line.startswith("不计入 2026-03-03") for line in dl.explanation)


def test_open_pause_is_reported_and_estimated():
    dl = compute_due(CAL, wd(5), D(2026, 3, 2), events=[ClockEvent("pause", D(2026, 3, 4))])
    assert dl.paused_since == D(2026, 3, 4)
    assert dl.due == D(2026, 3, 10)  # as if the supplement came the same day
    assert any("尚未结束" in line for line in dl.explanation)


def test_special_step_is_excluded():
    events = [ClockEvent("exclude_start", D(2026, 3, 3), reason="专家评审"),
              ClockEvent("exclude_end", D(2026, 3, 10))]
    dl = compute_due(CAL, wd(2), D(2026, 3, 2), events=events)
    assert dl.due == D(2026, 3, 12)
    assert any("特别程序（专家评审）" in line for line in dl.explanation)


def test_extension_adds_approved_working_days():
    ev = ClockEvent("extend", D(2026, 9, 30), days=3, reason="需实地核查", approver="王主任")
    dl = compute_due(CAL, wd(2), D(2026, 9, 28), events=[ev])
    assert dl.due == D(2026, 10, 10)  # 9/29, 9/30, then +3: 10/8, 10/9, 10/10 (make-up Saturday)
    assert dl.extension_days == 3
    assert "延期 3 个工作日（2026-09-30 批准，批准人 王主任，理由：需实地核查）。" in dl.explanation
    assert dl.explanation[-1] == "办结期限：2026-10-10（周六）（2 个工作日 + 延期 3 个工作日）。"


def test_extension_on_a_natural_day_rule_counts_natural_days_and_moves_off_the_holiday():
    # 信访 60 日 from 2026-08-03: day 60 is 10/2 (国庆). Extended by 1 日 the last day is 10/3, still 国庆, so it
    # moves to 10/8 — not one working day after the moved date (10/9), as when extensions counted working days.
    ev = ClockEvent("extend", D(2026, 9, 1), days=1, approver="王主任")
    dl = compute_due(CAL, wd(60, "day"), D(2026, 8, 3), events=[ev])
    assert dl.due == D(2026, 10, 8)
    assert "延期 1 日（2026-09-01 批准，批准人 王主任）。" in dl.explanation
    assert any("延期后第 61 日 2026-10-03（周六） 不是工作日，顺延至 2026-10-08（周四）" in ln for ln in dl.explanation)
    assert dl.explanation[-1] == "办结期限：2026-10-08（周四）（60 日 + 延期 1 日）。"


def test_natural_day_extension_of_30_days_is_30_days():
    # 信访 60 日 + 30 日 from Mon 2026-03-02: day 90 is Sun 5/31 → Mon 6/1 (30 working days would reach mid-June).
    ev = ClockEvent("extend", D(2026, 4, 20), days=30, approver="王主任")
    assert compute_due(CAL, wd(60, "day"), D(2026, 3, 2), events=[ev]).due == D(2026, 6, 1)


@pytest.mark.parametrize(("rule", "events", "field"), [
    (LimitRule(-1), [], "办理时限"),
    (LimitRule(5, "hour"), [], "时限单位"),  # type: ignore[arg-type]
    (LimitRule(5), [ClockEvent("pause", D(2026, 2, 1))], "计时事件"),
    (LimitRule(5), [ClockEvent("resume", D(2026, 3, 5))], "计时事件"),
    (LimitRule(5), [ClockEvent("extend", D(2026, 3, 5))], "延期天数"),
])
def test_bad_input_is_a_chinese_validation_error(rule, events, field):
    with pytest.raises(ValidationError) as err:
        compute_due(CAL, rule, D(2026, 3, 2), events=events)
    assert err.value.field == field


def test_working_days_between_for_days_left_and_overdue():
    assert working_days_between(CAL, D(2026, 9, 28), D(2026, 10, 30)) == 20
    assert working_days_between(CAL, D(2026, 10, 30), D(2026, 9, 28)) == -20
    assert working_days_between(CAL, D(2026, 10, 1), D(2026, 10, 7)) == 0
    assert next_working_day(CAL, D(2026, 10, 10), include_today=True) == D(2026, 10, 10)
    assert next_working_day(CAL, D(2026, 10, 3), include_today=True) == D(2026, 10, 8)


def test_recompute_matches_single_computation():
    jobs = [(wd(n, unit), D(2026, 1, 1) + timedelta(days=k), "promised", ())
            for unit in ("workday", "day") for n in (1, 7, 30) for k in range(0, 365, 3)]
    jobs.append((wd(5), D(2026, 3, 2), "promised", (ClockEvent("pause", D(2026, 3, 4)),)))
    jobs.append((wd(5), D(2026, 3, 2), "immediate", ()))
    jobs.append((wd(5), D(2060, 3, 2), "promised", ()))
    assert recompute(CAL, jobs) == [due_date(CAL, *job) for job in jobs]
    assert recompute(CAL, jobs) == [(compute_due(CAL, *job).due, compute_due(CAL, *job).provisional)
                                    for job in jobs]


# ------------------------------------------------------------------------------------------ properties
dates = st.dates(min_value=D(2003, 6, 1), max_value=D(2032, 12, 31))
limits = st.integers(min_value=1, max_value=120)
units = st.sampled_from(["workday", "day"])


@settings(max_examples=300, deadline=None)
@given(dates, limits, units)
def test_due_date_is_always_a_working_day(accepted, n, unit):
    dl = compute_due(CAL, wd(n, unit), accepted)
    assert CAL.is_workday(dl.due)
    assert dl.due > accepted


@settings(max_examples=300, deadline=None)
@given(dates, limits)
def test_index_agrees_with_the_day_by_day_definition(accepted, n):
    dl = compute_due(CAL, wd(n), accepted)
    assert dl.due == brute_force_due(accepted, n)
    assert len(dl.counted_days) == n
    assert all(CAL.is_workday(d) for d in dl.counted_days)


@settings(max_examples=300, deadline=None)
@given(dates, limits, units)
def test_monotone_in_the_limit(accepted, n, unit):
    assert due_date(CAL, wd(n, unit), accepted)[0] <= due_date(CAL, wd(n + 1, unit), accepted)[0]


@settings(max_examples=300, deadline=None)
@given(dates, limits, units, st.booleans(), st.integers(0, 60), st.integers(0, 30))
def test_pausing_never_shortens(accepted, n, unit, restart, offset, length):
    rule = wd(n, unit, restart)
    pause = accepted + timedelta(days=offset)
    events = [ClockEvent("pause", pause), ClockEvent("resume", pause + timedelta(days=length))]
    plain = due_date(CAL, rule, accepted)[0]
    assert due_date(CAL, rule, accepted, events=events)[0] >= plain
    assert due_date(CAL, rule, accepted, events=events[:1])[0] >= plain  # still open


@settings(max_examples=300, deadline=None)
@given(dates, limits, units, st.integers(1, 30))
def test_extension_never_shortens(accepted, n, unit, days):
    rule = wd(n, unit)
    extended = due_date(CAL, rule, accepted, events=[ClockEvent("extend", accepted, days=days)])[0]
    plain = due_date(CAL, rule, accepted)[0]
    if unit == "workday":
        assert extended > plain
        assert working_days_between(CAL, plain, extended) == days
    else:  # natural days after the N-th day, moved off a non-working last day (§203)
        # Never earlier; the same day when both last days fall in one holiday and move to its end.
        last = accepted + timedelta(days=n + days)
        assert extended >= plain and extended >= last and CAL.is_workday(extended)
        assert all(not CAL.is_workday(last + timedelta(days=i)) for i in range((extended - last).days))


@settings(max_examples=200, deadline=None)
@given(dates, limits)
def test_provisional_exactly_when_the_span_touches_an_unconfirmed_year(accepted, n):
    due, provisional = due_date(CAL, wd(n), accepted)
    touched = range(accepted.year if accepted.month < 12 or accepted.day < 31 else accepted.year + 1,
                    due.year + 1)
    assert provisional == any(not CAL.is_confirmed(y) for y in touched)


# The bulk path of recompute_open: deadlines.recompute inlines the common case over the index arrays; it must
# give what due_date gives ticket by ticket, for every shape a ticket can have and any calendar.
def _clock(accepted: date):
    def events(draw):
        out, day = [], accepted
        for kind in draw(st.lists(st.sampled_from(["pause", "exclude", "extend"]), max_size=3)):
            day += timedelta(days=draw(st.integers(0, 20)))
            if kind == "extend":
                out.append(ClockEvent("extend", day, days=draw(st.integers(1, 30))))
                continue
            start, end = ("pause", "resume") if kind == "pause" else ("exclude_start", "exclude_end")
            out.append(ClockEvent(start, day))  # type: ignore[arg-type]
            if draw(st.booleans()):  # ended, or still running
                day += timedelta(days=draw(st.integers(0, 20)))
                out.append(ClockEvent(end, day))  # type: ignore[arg-type]
        return tuple(out)
    return events


@st.composite
def tickets_(draw):
    accepted = draw(st.dates(min_value=D(1995, 1, 1), max_value=D(2040, 12, 31)))
    rule = LimitRule(draw(st.integers(0, 400)), draw(units), draw(st.booleans()))  # type: ignore[arg-type]
    kind = draw(st.sampled_from(["promised", "proxy", "joint", "immediate", "explain"]))
    events = _clock(accepted)(draw) if draw(st.booleans()) else ()
    return rule, accepted, kind, events


@st.composite
def calendars(draw):
    """The package's calendar, with a few local holidays or make-up days added, and 2027/2028 sometimes confirmed."""
    from hall.services.calendar.workdays import DayException

    base = [e for y in range(CAL.index.first_year, CAL.index.last_year + 1) for e in CAL.exceptions(y)]
    taken = {e.on for e in base}
    extra = []
    for d in draw(st.lists(st.dates(min_value=D(2025, 6, 1), max_value=D(2028, 6, 30)), max_size=8, unique=True)):
        if d not in taken:
            extra.append(DayException(d, d.weekday() >= 5, "makeup" if d.weekday() >= 5 else "local", "测试"))
    years = set(CAL.confirmed_years) | set(draw(st.lists(st.sampled_from([2027, 2028]), unique=True)))
    return WorkCalendar([*base, *extra], years, today=D(2026, 12, 1))


@settings(max_examples=200, deadline=None)
@given(calendars(), st.lists(tickets_(), min_size=1, max_size=40))
def test_bulk_recompute_equals_one_ticket_at_a_time(cal, jobs):
    assert recompute(cal, jobs) == [due_date(cal, *job) for job in jobs]
