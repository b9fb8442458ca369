"""The manager's dashboard widget and the attendance view, offscreen, on the hand-computed ledger."""

from __future__ import annotations

import manager_day as MD
import pytest
from PySide6.QtCore import Qt

from hall.services.cases import workflow
from hall.services.reporting import dashboard
from hall.services.storage.changes import Changes
from hall.ui import messages
from hall.ui.attendance_view import AttendanceView
from hall.ui.dashboard import COALESCE_MS, RATE_PERIODS, TABLE_BUCKETS, DashboardWidget, DrillDialog, ticket_filter
from hall.ui.ops import ChangeSignal, Context
from hall.ui.ticket_table_model import COL_APPLICANT

MD_NUMBERS: dict[int, dict[str, str]] = {}


def dashboard_widget(qtbot, ctx) -> DashboardWidget:
    """A dashboard with its first snapshot drawn (the snapshot is read on the pool, then drawn)."""
    w = DashboardWidget(ctx, today=lambda: MD.TODAY, open_dialogs=False)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.snapshot is not None and not w.loading, timeout=10_000)
    return w


@pytest.fixture
def ctx(hall_sqlite):
    from hall_fixtures import actors_of

    people = actors_of(hall_sqlite)
    MD_NUMBERS[id(hall_sqlite)] = MD.build(hall_sqlite, people).numbers
    return Context(hall_sqlite.db, hall_sqlite.node, people["m01"], ChangeSignal())


def test_numbers_on_screen_and_drill_down(qtbot, ctx):
    w = dashboard_widget(qtbot, ctx)
    assert w.tiles["overdue"].text().startswith("3\n超期") and "最长超期 7 个工作日" in w.tiles["overdue"].text()
    assert w.tiles["due_today"].text().startswith("1\n") and w.tiles["provisional"].text().startswith("1\n")
    assert "本月 66.7%（2/3）" in w.rates_text()
    assert w.rate_labels["month"].text() == "本月 66.7%" and w.rate_buttons[("month", "on_time")].text() == "按时 2"
    assert w.banner.isVisibleTo(w) and "2027" in w.banner.text()
    table = w.tables["window"]
    assert table.rowCount() == 11 and table.item(0, 0).text().startswith("W01")
    assert table.item(0, 4).text() == "2"  # W01 overdue
    with qtbot.waitSignal(w.drill_requested) as sig:
        table.cellClicked.emit(0, 4)
    drill = sig.args[0]
    assert (drill.bucket, drill.window_code) == ("overdue", "W01")
    # The drill-down is the counter's lazy table over the queue service: the same two tickets.
    dlg = DrillDialog(ctx, drill, MD.TODAY, w)
    qtbot.addWidget(dlg)
    assert len(dlg.numbers()) == 2  # A and B; F (paused, W01) is not overdue and not in the list
    assert ticket_filter(w.snapshot.drill("due_today")).due_from == MD.TODAY


def _letters(ctx, w, drill, qtbot):
    dlg = DrillDialog(ctx, drill, MD.TODAY, w)
    qtbot.addWidget(dlg)
    return dlg.numbers()


def test_every_number_clicks_through_to_exactly_its_tickets(qtbot, ctx, hall_sqlite):
    """Tiles, every cell of the three tables and the on-time rates: the list length is the number shown."""
    w = dashboard_widget(qtbot, ctx)
    snap = w.snapshot
    seen: list[object] = []
    w.drill_requested.connect(seen.append)
    for bucket, tile in w.tiles.items():
        tile.click()
        assert len(_letters(ctx, w, seen[-1], qtbot)) == snap.totals.get(bucket), bucket
    for dim, lines in (("window", snap.by_window), ("staff", snap.by_staff), ("kind", snap.by_kind)):
        table = w.tables[dim]
        for r, line in enumerate(lines):
            for c, bucket in enumerate(TABLE_BUCKETS, 1):
                table.cellClicked.emit(r, c)
                assert len(_letters(ctx, w, seen[-1], qtbot)) == line.counts.get(bucket), (dim, line.key, bucket)
    for period, rate in zip(RATE_PERIODS, (snap.rate_today, snap.rate_month, snap.rate_year), strict=True):
        w.rate_buttons[(period, "on_time")].click()
        assert len(_letters(ctx, w, seen[-1], qtbot)) == rate.on_time
        w.rate_buttons[(period, "closed")].click()
        assert len(_letters(ctx, w, seen[-1], qtbot)) == rate.closed
    # The month's closures: G (today), H (late), I — named in the list, applicants masked as on a statistics screen.
    w.rate_buttons[("month", "closed")].click()
    dlg = DrillDialog(ctx, seen[-1], MD.TODAY, w)
    qtbot.addWidget(dlg)
    assert len(dlg.numbers()) == 3 and "办结" in dlg.windowTitle()
    shown = {dlg.shown.index(i, COL_APPLICANT).data() for i in range(dlg.shown.rowCount())}
    assert shown == {"张*丰"}
    assert dlg.shown.index(0, COL_APPLICANT).data(Qt.ItemDataRole.ToolTipRole) is None
    assert len(_letters(ctx, w, snap.drill("stopped"), qtbot)) == snap.totals.stopped == 1  # F, paused


def test_masked_ticket_list_passes_the_model_tester(qtbot, qtmodeltester, ctx):
    w = dashboard_widget(qtbot, ctx)
    dlg = DrillDialog(ctx, w.snapshot.drill("open"), MD.TODAY, w)
    qtbot.addWidget(dlg)
    assert dlg.numbers()  # the pages have arrived from the pool
    qtmodeltester.check(dlg.shown)


def test_panels_and_charts_are_filled(qtbot, ctx):
    w = dashboard_widget(qtbot, ctx)
    duty = [w.panels["duty"].item(i).text() for i in range(w.panels["duty"].count())]
    assert any("李社保：缺勤，由 王民政 代岗" in t for t in duty)
    assert w.panels["rectifications"].count() == 1 and "待核实" in w.panels["rectifications"].item(0).text()
    assert len(w.chart_daily.labels) == dashboard.TREND_DAYS
    assert w.chart_trend.series[0].values[-1] == 3
    w.resize(1400, 900)
    w.grab()  # paints every chart once (a QPainter error would raise here)


def test_a_burst_of_changes_is_one_refresh_and_a_hidden_dashboard_waits(qtbot, ctx):
    w = dashboard_widget(qtbot, ctx)
    w.show()
    qtbot.waitExposed(w)
    draws: list[int] = []
    w.drawn.connect(lambda: draws.append(1))
    first = w.snapshot
    ctx.changes.announce(Changes(registers=frozenset({"complaints", "appointments"})))  # nothing it shows
    for uid in ("a", "b", "c", "d", "e"):  # several counters saving at once
        ctx.changes.announce(Changes(tickets=frozenset({uid})))
    assert not w.loading  # nothing asked yet: the burst is coalesced first
    qtbot.waitUntil(lambda: bool(draws) and not w.loading, timeout=5000)
    qtbot.wait(COALESCE_MS + 100)
    assert len(draws) == 1 and w.snapshot is not first and w.listener.reacted == 1
    assert w.timer.isActive() and w.timer.interval() <= 60_000
    w.hide()
    ctx.changes.announce(Changes(registers=frozenset({"attendance"})))  # the duty panel
    qtbot.wait(COALESCE_MS + 100)
    assert len(draws) == 1 and not w.loading  # hidden: only marked stale
    w.show()
    qtbot.waitUntil(lambda: len(draws) == 2, timeout=5000)


def test_a_refresh_redraws_only_what_changed(qtbot, ctx, hall_sqlite):
    from datetime import datetime


    w = dashboard_widget(qtbot, ctx)
    assert "tiles" in w.redrawn and "table_window" in w.redrawn  # the first snapshot draws everything
    with qtbot.waitSignal(w.drawn, timeout=5000):
        w.refresh()
    assert w.redrawn == ()  # nothing changed: no widget touched
    # The manager closes C, the W01 ticket due today.
    number = next(n for n, letter in _letters_by_number(hall_sqlite).items() if letter == "C")
    with hall_sqlite.db.transaction() as s:
        workflow.close(s, ctx.actor, number, "approved", "已办结", now=datetime(2026, 12, 16, 15))
    with qtbot.waitSignal(w.drawn, timeout=5000):
        w.refresh()
    assert {"tiles", "rates", "table_window"} <= set(w.redrawn)
    assert not {"banner", "title", "duty", "rectifications"} & set(w.redrawn)
    assert w.tiles["due_today"].text().startswith("0\n")


def _letters_by_number(opened) -> dict[str, str]:
    return {n: k for k, n in MD_NUMBERS[id(opened)].items()}


def test_attendance_view_marks_through_the_service(qtbot, ctx, monkeypatch):
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    a = AttendanceView(ctx, today=lambda: MD.TODAY)
    qtbot.addWidget(a)
    qtbot.waitUntil(lambda: not a.loading)
    row = next(i for i, d in enumerate(a.lines) if d.staff_no == "c03")
    assert a.table.item(row, 3).text() == "缺勤"
    a.table.selectRow(row)
    with qtbot.waitSignal(ctx.changes.changed) as told:
        a.buttons["leave"].click()
    assert told.args[0].touches("attendance") and told.args[1] is a
    qtbot.waitUntil(lambda: not a.loading)
    row = next(i for i, d in enumerate(a.lines) if d.staff_no == "c03")
    assert a.table.item(row, 3).text() == "请假" and a.table.item(row, 4).text() == "主任登记"
    assert a.table.currentRow() == row  # the person marked stays selected after the reload


def test_a_follow_up_backlog_shows_its_first_rows_and_the_total(qtbot, tmp_path):
    """A hall with hundreds of follow-ups due: the panel lists the first few and says how many there are; the
    link asks for the register that lists them all."""
    from manager_session import build_ledger

    ledger = build_ledger(tmp_path / "data", 3000)
    ctx = Context(ledger.opened.db, ledger.opened.node, ledger.manager, ChangeSignal())
    w = DashboardWidget(ctx, today=lambda: ledger.today, open_dialogs=False)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.snapshot is not None and not w.loading, timeout=20_000)
    with ledger.opened.db.reading() as s:
        from hall.services.registers import followups

        due = followups.count_due(s, ledger.today)
    assert due > dashboard.PANEL_ROWS
    panel = w.snapshot.followups
    assert len(panel.rows) == dashboard.PANEL_ROWS and panel.count == due and panel.truncated
    assert w.panels["followups"].count() == dashboard.PANEL_ROWS
    assert w.panel_boxes["followups"].title().endswith(f"（{due}）")
    more = w.panel_more["followups"]
    assert not more.isHidden() and str(due) in more.text()
    with qtbot.waitSignal(w.register_requested) as sig:
        more.click()
    assert sig.args == ["followups"]
    ledger.opened.db.dispose()
