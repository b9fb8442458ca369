"""What each role finds in the main window: the manager's dashboard, attendance for all, admin settings,
and the hall's daily rules run from the hall's own node."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from hall.services.catalog import items as catalog
from hall.services.tickets import intake
from hall.ui import messages
from hall.ui.main_window import MainWindow
from hall.ui.ops import ChangeSignal, Context

pytestmark = pytest.mark.gui


@pytest.fixture
def quiet(monkeypatch):
    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)


def window(qtbot, opened, actor, tmp_path, today=date(2026, 11, 26)) -> MainWindow:
    win = MainWindow(Context(opened.db, opened.node, actor, ChangeSignal()), tmp_path / "drafts", today=lambda: today)
    qtbot.addWidget(win)
    return win


def tab_titles(win: MainWindow) -> list[str]:
    return [win.tabs.tabText(i) for i in range(win.tabs.count())]


def menu_titles(win: MainWindow) -> list[str]:
    return [a.text() for a in win.menuBar().actions()]


def test_clerk_has_intake_queue_and_attendance_but_no_dashboard(qtbot, hall_sqlite, tmp_path, quiet):
    from hall_fixtures import actors_of

    win = window(qtbot, hall_sqlite, actors_of(hall_sqlite)["c02"], tmp_path)
    assert win.minimumSizeHint().height() <= 700 and win.minimumSizeHint().width() <= 1366
    assert tab_titles(win) == ["收件登记 F2", "办件队列 F3", "台账 F12", "考勤 F11"]
    assert win.dashboard is None and "管理(&G)" not in menu_titles(win)


def test_manager_gets_the_dashboard_and_runs_the_daily_rules(qtbot, hall_sqlite, tmp_path, quiet):
    from hall_fixtures import actors_of

    people = actors_of(hall_sqlite)
    with hall_sqlite.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, "03").materials}
        intake.register(s, people["m01"], intake.IntakeForm(
            "03", intake.ApplicantForm("person", "11010519491231002X", "张三"), marks), now=datetime(2026, 6, 1, 9))
    win = window(qtbot, hall_sqlite, people["m01"], tmp_path)
    assert tab_titles(win) == ["收件登记 F2", "办件队列 F3", "中心看板 F4", "统计考核 F10", "台账 F12", "考勤 F11",
                              "信访"]
    assert "管理(&G)" in menu_titles(win)
    win.go_dashboard()
    assert win.tabs.currentWidget().widget() is win.dashboard
    assert win.minimumSizeHint().height() <= 700  # fits a 1366×768 counter screen with its taskbar
    with qtbot.waitSignal(win.daily.finished, timeout=20_000):
        win.run_daily_now()  # in the background: the report arrives when the run is done
    title, text = messages.shown[-1]
    assert title == "每日规则" and "超期办件责任追究记录：1 件" in text
    with qtbot.waitSignal(win.daily.finished, timeout=20_000):
        win.run_daily_now()  # the same day again: nothing new
    assert "超期办件责任追究记录：0 件" in messages.shown[-1][1]


def test_admin_reaches_the_calendar_settings(qtbot, hall_sqlite, tmp_path, quiet):
    from hall_fixtures import actors_of

    win = window(qtbot, hall_sqlite, actors_of(hall_sqlite)["admin"], tmp_path)
    manage = next(a.menu() for a in win.menuBar().actions() if a.text() == "管理(&G)")
    assert any("节假日与调休设置" in a.text() for a in manage.actions())


def test_the_managers_window_shows_at_once_and_fills_in(qtbot, hall_sqlite, tmp_path, quiet):
    """Nothing a manager's screen counts is read while the window is built: the dashboard's snapshot arrives
    from the pool, the statistics count when their tab is first shown, a panel's link opens its register."""
    from gui_guard import GuiThreadSql
    from hall_fixtures import actors_of

    people = actors_of(hall_sqlite)
    watch = GuiThreadSql(hall_sqlite.db.engine)
    with watch.watching():
        win = window(qtbot, hall_sqlite, people["m01"], tmp_path)
    counted_on_gui = [s for s in watch.statements if "GROUP BY" in s or "follow_ups" in s or "ratings" in s]
    assert counted_on_gui == []  # the dashboard's and the statistics' counts were not run while building
    assert win.stats is not None and win.stats.table is None and not win.stats.loading
    qtbot.waitUntil(lambda: win.dashboard.snapshot is not None, timeout=10_000)
    win.show()
    with qtbot.waitSignal(win.stats.counted, timeout=10_000):
        win.go_stats()
    assert win.stats.table is not None
    win.dashboard.register_requested.emit("followups")
    assert win.tabs.currentWidget() is win.registers
    assert win.registers.currentWidget() is win.registers.pages["followups"]
    win.dashboard.register_requested.emit("attendance")
    assert win.tabs.currentWidget() is win.attendance
