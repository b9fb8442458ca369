"""The manager's dashboard widget and the attendance view, offscreen, on the hand-computed ledger."""

from __future__ import annotations

import manager_day as MD
import pytest

from hall.services import dashboard
from hall.ui import messages
from hall.ui.attendance_view import AttendanceView
from hall.ui.dashboard import DashboardWidget, DrillDialog, ticket_filter
from hall.ui.ops import Changes, Context


@pytest.fixture
def ctx(hall_sqlite):
    from hall_fixtures import actors_of

    people = actors_of(hall_sqlite)
    MD.build(hall_sqlite, people)
    return Context(hall_sqlite.db, hall_sqlite.node, people["m01"], Changes())


def test_numbers_on_screen_and_drill_down(qtbot, ctx):
    w = DashboardWidget(ctx, today=lambda: MD.TODAY, open_dialogs=False)
    qtbot.addWidget(w)
    assert w.tiles["overdue"].text().startswith("3\n超期") and "最长超期 7 个工作日" in w.tiles["overdue"].text()
    assert w.tiles["due_today"].text().startswith("1\n") and w.tiles["provisional"].text().startswith("1\n")
    assert "本月 66.7%（2/3）" in w.rates.text()
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
    numbers = {dlg.model.row_at(i).number for i in range(dlg.model.rowCount())}
    overdue_or_paused = 3  # A and B overdue, F paused (the queue shows stopped clocks in the same list)
    assert len(numbers) == overdue_or_paused
    assert ticket_filter(w.snapshot.drill("due_today")).due_on == MD.TODAY


def test_panels_and_charts_are_filled(qtbot, ctx):
    w = DashboardWidget(ctx, today=lambda: MD.TODAY, open_dialogs=False)
    qtbot.addWidget(w)
    duty = [w.panels["duty"].item(i).text() for i in range(w.panels["duty"].count())]
    assert any("李社保：缺勤，由 王民政 代岗" in t for t in duty)
    assert w.panels["rectifications"].count() == 1 and "待核实" in w.panels["rectifications"].item(0).text()
    assert len(w.chart_daily.labels) == dashboard.TREND_DAYS
    assert w.chart_trend.series[0].values[-1] == 3
    w.resize(1400, 900)
    w.grab()  # paints every chart once (a QPainter error would raise here)


def test_refreshes_on_tickets_changed_and_timer(qtbot, ctx):
    w = DashboardWidget(ctx, today=lambda: MD.TODAY, open_dialogs=False)
    qtbot.addWidget(w)
    first = w.snapshot
    ctx.changes.tickets_changed.emit()
    assert w.snapshot is not first
    assert w.timer.isActive() and w.timer.interval() <= 60_000


def test_panels_say_not_enabled_without_workflow_tables(qtbot, hall_sqlite):
    from hall_fixtures import actors_of

    MD.drop_workflow_tables(hall_sqlite)
    ctx = Context(hall_sqlite.db, hall_sqlite.node, actors_of(hall_sqlite)["m01"], Changes())
    w = DashboardWidget(ctx, today=lambda: MD.TODAY, open_dialogs=False)
    qtbot.addWidget(w)
    assert w.panels["rectifications"].item(0).text().startswith("未启用")
    assert not w.panels["duty"].isEnabled()
    a = AttendanceView(ctx, today=lambda: MD.TODAY)
    qtbot.addWidget(a)
    assert a.note.text().startswith("考勤未启用") and not a.buttons["absent"].isEnabled()


def test_attendance_view_marks_through_the_service(qtbot, ctx, monkeypatch):
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    a = AttendanceView(ctx, today=lambda: MD.TODAY)
    qtbot.addWidget(a)
    row = next(i for i, d in enumerate(a.lines) if d.staff_no == "c03")
    assert a.table.item(row, 3).text() == "缺勤"
    a.table.selectRow(row)
    with qtbot.waitSignal(ctx.changes.tickets_changed):
        a.buttons["leave"].click()
    row = next(i for i, d in enumerate(a.lines) if d.staff_no == "c03")
    assert a.table.item(row, 3).text() == "请假" and a.table.item(row, 4).text() == "主任登记"
