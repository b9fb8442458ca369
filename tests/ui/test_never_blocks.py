"""The manager's main window never blocks: the heavy things a manager and a clerk do — the daily rules, typing a
search, a dashboard refresh, a statistics recount and an Excel export, the registers — run no SQL on the GUI thread,
and the event loop keeps turning meanwhile.

No SQL on the GUI thread is what makes the window independent of the ledger's size (the 1M-ticket figures are in
``benchmarks/bench_ui_block.py``); the event-loop monitor checks the rest of the work done there — filling models,
painting — stays under 100 ms on a realistic ledger (demo tickets with the daily rules' backlogs).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from gui_guard import EventLoopMonitor, GuiThreadSql
from manager_session import build_ledger
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from hall.services.storage.changes import Changes
from hall.ui import messages
from hall.ui.background import active_jobs
from hall.ui.main_window import MainWindow
from hall.ui.ops import ChangeSignal, Context

pytestmark = pytest.mark.gui
BLOCK_MS = 100


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    led = build_ledger(tmp_path_factory.mktemp("never-blocks") / "data", tickets=4000)
    yield led
    led.opened.db.dispose()


@pytest.fixture
def window(qtbot, ledger, tmp_path, monkeypatch):
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    ctx = Context(ledger.opened.db, ledger.opened.node, ledger.manager, ChangeSignal())
    win = MainWindow(ctx, tmp_path / "drafts", today=lambda: ledger.today + timedelta(days=1))
    win.stop_daily_timers()  # the test starts the run itself
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    settle(qtbot)
    yield win
    win.daily.shutdown() if hasattr(win.daily, "shutdown") else None
    settle(qtbot)


def settle(qtbot) -> None:
    """Every background job done and delivered — waited for with the event loop turning (``wait_idle`` would
    block it, which is what the monitor is there to catch)."""
    for _ in range(2):  # a delivery may start a follow-up job (a page, then its counts)
        qtbot.waitUntil(lambda: active_jobs() == 0, timeout=60_000)
        qtbot.wait(30)


def watched(qtbot, win, action, done) -> tuple[float, list[str]]:
    sql = GuiThreadSql(win.ctx.db.engine)
    monitor = EventLoopMonitor(sample_after_ms=float(os.environ.get("HALL_STALL_MS", BLOCK_MS / 2)))
    dump = os.environ.get("HALL_DUMP_STACKS")
    if dump:  # a C watchdog: sees the GUI thread even while it holds the interpreter in a long Qt call
        import faulthandler

        fh = open(dump, "a")  # noqa: SIM115
        faulthandler.dump_traceback_later(0.02, repeat=True, file=fh)
    with sql.watching():
        monitor.start()
        action()
        qtbot.waitUntil(done, timeout=60_000)
        settle(qtbot)
        gap = monitor.stop()
    if dump:
        faulthandler.cancel_dump_traceback_later()
        fh.close()
    print(f"max event-loop gap {gap:.0f} ms")
    if gap >= BLOCK_MS or os.environ.get("HALL_SHOW_STALLS"):  # where the GUI thread was: what to fix
        print(f"event loop blocked {gap:.0f} ms; GUI thread seen at:\n" + "\n----\n".join(monitor.stalls))
    return gap, sql.statements


def test_daily_rules_run_in_the_background(qtbot, window):
    gap, statements = watched(qtbot, window, window.run_daily_quietly, lambda: not window.daily.busy)
    assert statements == []
    assert gap < BLOCK_MS


def test_typing_a_search_and_scanning_a_number(qtbot, window):
    window.go_queue()
    settle(qtbot)
    q = window.queue

    def type_name():  # an input method commits each character into the box
        for ch in "王晓":
            q.search.insert(ch)
            qtbot.wait(40)

    gap, statements = watched(qtbot, window, type_name, lambda: not q.loading if hasattr(q, "loading") else True)
    assert statements == [] and gap < BLOCK_MS

    def scan():
        q.search.clear()
        QTest.keyClicks(q.search, "wxm")
        QTest.keyClick(q.search, Qt.Key.Key_Return)

    gap, statements = watched(qtbot, window, scan, lambda: not q.loading if hasattr(q, "loading") else True)
    assert statements == [] and gap < BLOCK_MS


def test_dashboard_refresh_statistics_export_and_registers(qtbot, window, tmp_path):
    window.go_dashboard()
    settle(qtbot)
    dash = window.dashboard
    before = dash.draws if hasattr(dash, "draws") else None
    gap, statements = watched(qtbot, window, dash.refresh, lambda: not dash.loading)
    assert statements == [] and gap < BLOCK_MS
    assert before is None or dash.snapshot is not None

    window.go_stats()
    stats = window.stats
    gap, statements = watched(qtbot, window, lambda: stats.choose("this_year", "item"), lambda: not stats.loading)
    assert statements == [] and gap < BLOCK_MS

    stats._save_dialog = lambda _p, _c, _s: str(tmp_path / "month.xlsx")
    gap, statements = watched(qtbot, window, stats.export_current,
                              lambda: stats.export_task is not None and not stats.export_task.running)
    assert statements == [] and gap < BLOCK_MS
    assert (tmp_path / "month.xlsx").stat().st_size > 0

    window.go_registers()
    # Everything changed (a reconnect to the hall's server, say): every screen of the window reloads what it
    # shows — the queue, the dashboard, the statistics, every register, attendance, the intake's promised date,
    # the window's catalogue — all of it in the background.
    gap, statements = watched(qtbot, window, lambda: window.ctx.changes.announce(Changes.everything()), lambda: True)
    assert statements == [] and gap < BLOCK_MS
