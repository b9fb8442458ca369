"""The manager's dashboard on a real ledger with hand-computed figures (tests/manager_day.py), SQLite and PG."""

from __future__ import annotations

from datetime import date

import manager_day as MD
import pytest

from hall.services.reporting import dashboard


@pytest.fixture
def day(hall_db, people):
    built = MD.build(hall_db, people)
    with hall_db.db.transaction() as s:
        snap = dashboard.snapshot(s, MD.TODAY)
    return hall_db, people, built, snap


def test_totals_match_the_hand_computed_day(day):
    _hall, _people, _built, snap = day
    assert snap.next_workday == MD.NEXT_WORKDAY and snap.is_workday
    t = snap.totals
    # Open: A B C D E F M N; due today C; next working day D; overdue A (2 wd) B (7) M (3); F paused; E provisional.
    assert (t.open, t.due_today, t.due_next, t.overdue, t.stopped, t.provisional) == (8, 1, 1, 3, 1, 1)
    assert t.max_days_over == 7
    assert snap.overdue_by_days == ((7, 1), (3, 1), (2, 1))


def test_by_window_kind_and_staff(day):
    _hall, people, _built, snap = day
    w = {g.key: g.counts for g in snap.by_window}
    assert len(w) == 11  # every window is listed, even with nothing open
    assert (w["W01"].open, w["W01"].overdue, w["W01"].due_today, w["W01"].provisional) == (6, 2, 1, 1)
    assert (w["W02"].open, w["W02"].overdue, w["W02"].max_days_over) == (2, 1, 3)
    assert w["W03"].open == 0
    k = {g.key: g.counts for g in snap.by_kind}
    assert k["promised"].open == 8 and k["immediate"].open == 0
    # c03 is absent today: the B-post sweep handed c03's open tickets (B, E) to c02.
    staff = {g.label: g.counts for g in snap.by_staff}
    assert list(staff) == ["王民政"] and staff["王民政"].overdue == 3
    line = snap.by_staff[0]
    assert line.drill("overdue", snap).owner_id == people["c02"].staff_id


def test_on_time_rates_today_month_year(day):
    *_, snap = day
    assert (snap.rate_today.closed, snap.rate_today.on_time) == (1, 1)  # G, on the spot
    assert (snap.rate_month.closed, snap.rate_month.on_time) == (3, 2)  # G, H late, I
    assert (snap.rate_year.closed, snap.rate_year.on_time) == (4, 3)  # + J in November
    assert snap.rate_month.text == "66.7%" and snap.rate_today.text == "100.0%"


def test_series_and_overdue_trend(day):
    *_, snap = day
    assert len(snap.series) == dashboard.TREND_DAYS and snap.series[-1].day == MD.TODAY
    by_day = {p.day: p for p in snap.series}
    assert by_day[MD.TODAY].received == 2 and by_day[MD.TODAY].closed == 1  # E and G; G closed
    assert by_day[date(2026, 12, 10)].closed == 1  # H
    # Overdue at the end of each day: B from 12-08, H on 12-09 only (closed 12-10), M from 12-14, A from 12-15.
    assert by_day[date(2026, 12, 8)].overdue == 1
    assert by_day[date(2026, 12, 9)].overdue == 2
    assert by_day[date(2026, 12, 10)].overdue == 1
    assert by_day[date(2026, 12, 14)].overdue == 2
    assert by_day[date(2026, 12, 15)].overdue == 3


def test_workflow_panels_and_calendar_banner(day):
    *_, snap = day
    assert snap.rectifications.enabled and snap.rectifications.count == 1
    assert snap.rectifications.rows[0].level == 2
    assert snap.followups.enabled
    duty = {d.staff_no: d for d in snap.duty.rows}
    assert duty["c03"].status == "absent" and duty["c03"].stood_in_by == "王民政"
    assert snap.substitutions.rows[0].holder == "李社保" and snap.substitutions.rows[0].b_post == "王民政"
    assert snap.provisional_years == (2027,) and "2027 年" in snap.calendar_banner
    assert "1 件" in snap.calendar_banner


def test_drill_downs_name_the_tickets_behind_each_bucket(day):
    *_, snap = day
    assert snap.drill("due_today").due_from == MD.TODAY == snap.drill("due_today").due_to
    assert snap.drill("due_next").due_from == MD.NEXT_WORKDAY
    assert snap.drill("overdue").due_to == date(2026, 12, 15)
    w01 = next(g for g in snap.by_window if g.key == "W01")
    assert w01.drill("overdue", snap).window_code == "W01"
    assert snap.drill("provisional").due_from == date(2027, 1, 1) == snap.provisional_from
    month = snap.rate_month.drill("late")
    assert (month.bucket, month.closed_from, month.closed_to) == ("late", date(2026, 12, 1), MD.TODAY)
    assert snap.rate_month.late == 1 and "2026-12-01 至 2026-12-16" in month.title
    nobody = dashboard.GroupLine("staff", "", dashboard.NOBODY, dashboard.Counts()).drill("open", snap)
    assert nobody.nobody and nobody.owner_id is None


def test_clock_stopped_sql_agrees_with_the_snapshot(day):
    """The SQL reading of the clock (used by drill-downs) and the snapshot's Python reading name the same tickets."""
    from sqlalchemy import func, select

    from hall.models import Ticket

    hall, _people, built, snap = day
    with hall.db.transaction() as s:
        stopped = set(s.scalars(select(Ticket.number).where(Ticket.is_open.is_(True), Ticket.due_date < MD.TODAY,
                                                             dashboard.clock_stopped_sql())))
        running = s.scalar(select(func.count()).where(Ticket.is_open.is_(True), Ticket.due_date < MD.TODAY,
                                                      ~dashboard.clock_stopped_sql()))
    assert stopped == {built.numbers["F"]} and len(stopped) == snap.totals.stopped
    assert running == snap.totals.overdue


def test_a_long_panel_is_cut_to_its_first_rows_and_keeps_its_total(tmp_path, monkeypatch):
    """A follow-up backlog: the panel holds the first rows of the service's list, in its order, and the count
    of all; the pages and the count of the services agree with the whole list."""
    from ui.manager_session import build_ledger  # tests/ui: the realistic demo hall, Qt-free part

    from hall.services.registers import followups, ratings

    ledger = build_ledger(tmp_path / "data", 3000)
    with ledger.opened.db.reading() as s:
        whole = followups.due(s, ledger.today)
        assert followups.count_due(s, ledger.today) == len(whole) > dashboard.PANEL_ROWS
        assert followups.due(s, ledger.today, limit=7, offset=5) == whole[5:12]
        assert followups.count_due(s, ledger.today, within_days=7) == len(followups.due(s, ledger.today,
                                                                                         within_days=7))
        assert ratings.count_rectifications(s) == len(ratings.rectifications(s, ledger.today))
        snap, shown = dashboard.snapshot(s, ledger.today), dashboard.PANEL_ROWS
        monkeypatch.setattr(dashboard, "PANEL_ROWS", len(whole) + 1)
        small = dashboard.snapshot(s, ledger.today)
    assert snap.followups.rows == tuple(whole[:shown])
    assert snap.followups.count == len(whole) and snap.followups.truncated
    assert small.followups.total is None and small.followups.count == len(whole) and not small.followups.truncated
    ledger.opened.db.dispose()
