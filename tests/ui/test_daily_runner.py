"""The daily rules from the main window: off the GUI thread (no SQL there, the event loop keeps turning),
progress in the status bar, one run at a time, and a window closed mid-run neither crashes nor loses work."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from gui_guard import EventLoopMonitor, GuiThreadSql
from hall_fixtures import actors_of
from sqlalchemy import func, select

from hall.models.workflow import AccountabilityRecord
from hall.services.cases import daily
from hall.services.catalog import items as catalog
from hall.services.tickets import intake
from hall.ui import messages
from hall.ui.background import wait_idle
from hall.ui.main_window import MainWindow
from hall.ui.ops import ChangeSignal, Context

pytestmark = pytest.mark.gui

DAY = date(2026, 11, 26)


@pytest.fixture
def quiet(monkeypatch):
    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)


def _overdue(opened, n: int) -> None:
    """``n`` tickets due in June, open in November: each gets an accountability record."""
    manager = actors_of(opened)["m01"]
    with opened.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, "03").materials}
        for k in range(n):
            intake.register(s, manager, intake.IntakeForm(
                "03", intake.ApplicantForm("person", "11010519491231002X", "张三"), marks),
                now=datetime(2026, 6, 1, 9) + (datetime(2026, 6, 1, 9, 1) - datetime(2026, 6, 1, 9)) * k)


def _window(qtbot, opened, tmp_path) -> MainWindow:
    win = MainWindow(Context(opened.db, opened.node, actors_of(opened)["m01"], ChangeSignal()), tmp_path / "drafts",
                     today=lambda: DAY)
    win.stop_daily_timers()  # the test starts the runs itself
    qtbot.addWidget(win)
    return win


def _records(opened) -> int:
    with opened.db.reading() as s:
        return int(s.scalar(select(func.count()).select_from(AccountabilityRecord)) or 0)


def test_daily_run_runs_no_sql_on_the_gui_thread_and_the_loop_keeps_turning(qtbot, hall_sqlite, tmp_path, quiet):
    _overdue(hall_sqlite, 300)
    win = _window(qtbot, hall_sqlite, tmp_path)
    win.show()
    qtbot.waitExposed(win)
    wait_idle(20_000)  # the window's own first loads are not what is measured here
    qtbot.wait(50)
    steps: list[tuple[int, int, str]] = []
    told = []
    win.ctx.changes.changed.connect(lambda c, _who: told.append(c))
    page = win.registers.pages["accountability"]
    sql = GuiThreadSql(hall_sqlite.db.engine)
    monitor = EventLoopMonitor().start()
    with sql.watching():
        assert win.run_daily_now()
        assert win.daily.task is not None
        win.daily.task.progressed.connect(lambda d, t, w: steps.append((d, t, w)))
        assert not win.run_daily_quietly()  # never two runs at once
        with qtbot.waitSignal(win.daily.finished, timeout=60_000) as done:
            pass
    monitor.stop()
    assert done.args[0].accountability == 300
    assert len(told) == 1 and told[0].touches("accountability")  # the whole run: one announcement
    qtbot.waitUntil(lambda: page.listener.reacted == 1 and not page.loading, timeout=10_000)
    assert sql.statements == []  # not one statement: the run, and the views refreshing after it, are off-thread
    assert monitor.max_ms < 100, monitor.gaps[-20:]
    assert any(w.startswith("超期责任追究") and t == 300 for _d, t, w in steps), steps
    title, text = messages.shown[-1]
    assert title == "每日规则" and "超期办件责任追究记录：300 件" in text
    assert not win.daily_progress.isVisible()  # the strip goes away when the run ends


def test_hourly_run_is_quiet_and_an_explicit_request_meanwhile_gets_the_report(qtbot, hall_sqlite, tmp_path, quiet):
    _overdue(hall_sqlite, 60)
    win = _window(qtbot, hall_sqlite, tmp_path)
    with qtbot.waitSignal(win.daily.finished, timeout=60_000):
        assert win.run_daily_quietly()
        assert not win.run_daily_now()  # already running: this request gets that run's report
    assert "超期办件责任追究记录：60 件" in messages.shown[-1][1]
    shown = len(messages.shown)
    with qtbot.waitSignal(win.daily.finished, timeout=60_000):
        assert win.run_daily_quietly()
    assert len(messages.shown) == shown  # the hourly run says nothing


def test_closing_the_window_mid_run_stops_after_a_batch_and_the_next_run_carries_on(qtbot, hall_sqlite, tmp_path,
                                                                                   quiet, monkeypatch):
    monkeypatch.setattr(daily, "BATCH_ITEMS", 5)  # many small batches: the close lands in the middle
    _overdue(hall_sqlite, 200)
    win = _window(qtbot, hall_sqlite, tmp_path)
    told = []
    win.ctx.changes.changed.connect(lambda c, _who: told.append(c))
    assert win.run_daily_now()
    qtbot.waitUntil(lambda: _records(hall_sqlite) > 0, timeout=30_000)
    win.close()
    assert not win.daily.busy or wait_idle(10_000)
    qtbot.wait(50)  # the task's end is delivered on the GUI thread: no traceback, no message
    assert all("Traceback" not in text for _t, text in messages.shown)
    partial = _records(hall_sqlite)
    assert 0 < partial < 200
    # Stopped half-way, what its committed batches changed is still announced (once), for the screens to show.
    assert len(told) == 1 and told[0].touches("accountability")
    report = daily.run_batched(hall_sqlite.db, hall_sqlite.system, DAY)
    assert report.accountability == 200 - partial and _records(hall_sqlite) == 200


def test_a_run_held_by_another_pc_is_skipped_on_the_status_line_without_an_error(qtbot, hall_sqlite, tmp_path,
                                                                                 quiet):
    """Another program holds the day's run: the hourly run here skips, says so on the status line in Chinese, and
    shows no error; an explicit request is told the same as information."""
    _overdue(hall_sqlite, 5)
    win = _window(qtbot, hall_sqlite, tmp_path)
    with daily._one_run_at_a_time(hall_sqlite.db) as other:  # the other program's claim (a lock file beside the db)
        assert other.held
        with qtbot.waitSignal(win.daily.finished, timeout=60_000) as done:
            assert win.run_daily_quietly()
        assert done.args[0].skipped
        assert messages.shown == []  # nothing popped up
        status = win.statusBar().currentMessage()
        assert status.startswith("每日规则：电脑 ") and "正在执行每日规则，本机未重复执行" in status, status
        with qtbot.waitSignal(win.daily.finished, timeout=60_000):
            assert win.run_daily_now()
        assert messages.shown[-1][0] == "每日规则" and "本机未重复执行" in messages.shown[-1][1]
    assert _records(hall_sqlite) == 0
    with qtbot.waitSignal(win.daily.finished, timeout=60_000) as done:  # released: this PC runs them
        assert win.run_daily_quietly()
    assert done.args[0].accountability == 5 and _records(hall_sqlite) == 5
