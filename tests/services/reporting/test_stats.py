"""The statistics query layer: the same figures as the dashboard and as hand-computed (tests/manager_day.py)."""

from __future__ import annotations

from datetime import date

import manager_day as MD
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hall.errors import ValidationError
from hall.services.reporting import dashboard, stats
from hall.services.reporting.stats import Period


@pytest.fixture
def day(hall_db, people):
    built = MD.build(hall_db, people)
    return hall_db, people, built


def test_december_by_window_hand_computed(day):
    hall, *_ = day
    with hall.db.transaction() as s:
        t = stats.collect(s, Period.month(2026, 12), "window", today=MD.TODAY)
    assert t.period.end == MD.TODAY  # a running month is counted up to today
    rows = {r.key: r for r in t.rows}
    w01, w02 = rows["W01"], rows["W02"]
    # W01 received A C D E F H I; accepted the same; closed H (late, 7 wd) and I (on time, 2 wd).
    assert (w01.received, w01.accepted, w01.refused, w01.closed, w01.on_time, w01.closed_late) == (7, 7, 0, 2, 1, 1)
    assert w01.open_overdue == 2 and w01.avg_workdays == 4.5
    assert (w01.rated, w01.poor) == (1, 1)
    # W02 received G K N; accepted G; refused K; closed G on the spot (0 wd); M overdue.
    assert (w02.received, w02.accepted, w02.refused, w02.closed, w02.on_time, w02.open_overdue) == (3, 1, 1, 1, 1, 1)
    total = t.total
    assert (total.received, total.accepted, total.closed, total.on_time, total.overdue) == (10, 8, 3, 2, 4)
    assert total.avg_workdays == 3.0 and stats.fmt_rate(total.on_time_rate) == "66.7%"


def test_every_dimension_adds_up_to_the_same_total(day):
    hall, *_ = day
    with hall.db.transaction() as s:
        totals = {d: stats.collect(s, Period.month(2026, 12), d, today=MD.TODAY).total for d in stats.DIMENSIONS}
    first = totals["window"]
    for d, total in totals.items():
        assert total == first, d


def test_stats_agree_with_the_dashboard(day):
    hall, *_ = day
    with hall.db.transaction() as s:
        snap = dashboard.snapshot(s, MD.TODAY)
        month = stats.collect(s, Period.month(2026, 12), "window", today=MD.TODAY).total
        year = stats.collect(s, Period.year(2026), "kind", today=MD.TODAY).total
        today = stats.collect(s, Period.between(MD.TODAY, MD.TODAY), "window").total
    assert (month.closed, month.on_time) == (snap.rate_month.closed, snap.rate_month.on_time)
    assert (year.closed, year.on_time) == (snap.rate_year.closed, snap.rate_year.on_time)
    assert (today.closed, today.on_time) == (snap.rate_today.closed, snap.rate_today.on_time)
    assert month.open_overdue == snap.totals.overdue == 3


def test_november_is_a_closed_period(day):
    hall, *_ = day
    with hall.db.transaction() as s:
        t = stats.collect(s, Period.month(2026, 11), "staff", today=MD.TODAY)
    # Received B (11-30), M (11-20), J (11-16); J closed on time; nothing overdue at the end of November.
    assert (t.total.received, t.total.closed, t.total.on_time, t.total.open_overdue) == (3, 1, 1, 0)


def test_overdue_list_with_reasons(day):
    hall, *_ = day
    with hall.db.transaction() as s:
        lines = stats.overdue_list(s, Period.month(2026, 12), today=MD.TODAY)
    assert [(line.days_over, line.closed_on) for line in lines] == [(7, None), (3, None), (2, date(2026, 12, 10)),
                                                                    (2, None)]
    assert all(line.reason for line in lines)


def test_performance_lists_every_counter_person(day):
    hall, *_ = day
    with hall.db.transaction() as s:
        lines = stats.performance(s, Period.month(2026, 12), today=MD.TODAY)
    by_no = {p.staff_no: p for p in lines}
    assert by_no["c02"].stats.closed == 3 and by_no["c02"].present_days == 1
    assert by_no["c03"].away_days == 1 and by_no["c03"].stats.closed == 0


def test_ledger_rows_are_masked_unless_full(day):
    hall, *_ = day
    with hall.db.transaction() as s:
        masked = list(stats.ledger_rows(s, Period.month(2026, 12)).rows)
        full = list(stats.ledger_rows(s, Period.month(2026, 12), full=True).rows)
    assert len(masked) == len(full) == 10
    text = repr(masked)
    assert "张三丰" not in text and "张*丰" in text and "11010519491231002X" not in text and "138" not in text
    assert "东村3组" in text and "12号" not in text
    assert "11010519491231002X" in repr(full)


def test_period_parsing():
    assert Period.parse_month("2026-11") == Period(date(2026, 11, 1), date(2026, 11, 30), "2026年11月")
    assert Period.parse_quarter("2026Q4").start == date(2026, 10, 1)
    assert Period.parse_quarter("2026q1").end == date(2026, 3, 31)
    for bad in ("2026-13", "11/2026", ""):
        with pytest.raises(ValidationError, match="统计月份"):
            Period.parse_month(bad)
    with pytest.raises(ValidationError, match="统计季度"):
        Period.parse_quarter("2026Q5")


@given(st.integers(1990, 2200), st.integers(1, 12))
def test_months_tile_the_year(year, month):
    p = Period.month(year, month)
    assert p.start.day == 1 and (p.end.month == month) and (p.end.replace(day=1) == p.start)
    nxt = Period.month(year + (month == 12), month % 12 + 1)
    assert (nxt.start - p.end).days == 1
