"""The manager's screens never read the database on the GUI thread: a dashboard refresh and its drill-down, a
statistics recount, a register load and an Excel export each run their SQL on the pool while the event loop keeps
turning.

``GuiThreadSql`` records every statement executed on the GUI thread (whatever the ledger's size, so a small
ledger proves what the 1M benchmarks time); ``EventLoopMonitor`` records how long the loop went without turning.
"""

from __future__ import annotations

import manager_day as MD
import pytest
from gui_guard import EventLoopMonitor, GuiThreadSql
from manager_session import build_ledger

from hall.services.storage.changes import Changes
from hall.ui import messages
from hall.ui.dashboard import DashboardWidget, DrillDialog
from hall.ui.ops import ChangeSignal, Context
from hall.ui.registers_view import RegistersView
from hall.ui.stats_view import TAB_OVERDUE, StatsView

pytestmark = pytest.mark.gui
MAX_GAP_MS = 100


@pytest.fixture
def md_ctx(hall_sqlite, monkeypatch):
    from hall_fixtures import actors_of

    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    people = actors_of(hall_sqlite)
    MD.build(hall_sqlite, people)
    return Context(hall_sqlite.db, hall_sqlite.node, people["m01"], ChangeSignal())


def test_dashboard_refreshes_read_nothing_on_the_gui_thread(qtbot, tmp_path):
    ledger = build_ledger(tmp_path / "data", 3000)  # demo hall with its daily-rules backlog
    ctx = Context(ledger.opened.db, ledger.opened.node, ledger.manager, ChangeSignal())
    watch = GuiThreadSql(ledger.opened.db.engine)
    with watch.watching():
        w = DashboardWidget(ctx, today=lambda: ledger.today, open_dialogs=False)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitUntil(lambda: w.snapshot is not None and not w.loading, timeout=20_000)
        monitor = EventLoopMonitor().start()
        for _ in range(3):
            w._drawn.clear()  # every part drawn again, as after a busy minute
            with qtbot.waitSignal(w.drawn, timeout=10_000):
                w.refresh()
        with qtbot.waitSignal(w.drawn, timeout=10_000):
            for _ in range(3):
                ctx.changes.announce(Changes(tickets=frozenset({"a-ticket"})))
        drill = DrillDialog(ctx, w.snapshot.drill("open"), ledger.today, w)  # a number clicked: its tickets
        qtbot.addWidget(drill)
        assert len(drill.numbers()) == w.snapshot.totals.open
        gap = monitor.stop()
    ledger.opened.db.dispose()
    assert watch.statements == []
    assert monitor.gaps, "the event loop never turned"
    assert gap < MAX_GAP_MS, f"the event loop stood still for {gap:.0f} ms"
    assert w.snapshot.followups.count > len(w.snapshot.followups.rows)  # a real backlog was on screen


def test_statistics_recount_and_export_read_nothing_on_the_gui_thread(qtbot, md_ctx, tmp_path):
    watch = GuiThreadSql(md_ctx.db.engine)
    with watch.watching():
        v = StatsView(md_ctx, today=lambda: MD.TODAY, open_dialogs=False,
                      save_dialog=lambda *_a: str(tmp_path / "overdue.xlsx"))
        qtbot.addWidget(v)
        with qtbot.waitSignal(v.counted, timeout=10_000):
            v.show()
        with qtbot.waitSignal(v.exported, timeout=20_000):
            v.export_current()  # the first workbook of a session imports openpyxl's writers (once, on the pool)
        monitor = EventLoopMonitor().start()
        with qtbot.waitSignal(v.counted, timeout=10_000):
            v.refresh()
        with qtbot.waitSignal(v.counted, timeout=10_000):
            v.choose("this_year", "staff")
        v.tabs.setCurrentIndex(TAB_OVERDUE)
        with qtbot.waitSignal(v.exported, timeout=20_000):
            assert v.export_current() is not None
            assert not v.export_button.isEnabled()  # one export at a time
        gap = monitor.stop()
    assert watch.statements == []
    assert monitor.gaps and gap < MAX_GAP_MS, f"the event loop stood still for {gap:.0f} ms"
    assert (tmp_path / "overdue.xlsx").exists() and v.export_button.isEnabled()


def test_register_loads_read_nothing_on_the_gui_thread(qtbot, md_ctx):
    watch = GuiThreadSql(md_ctx.db.engine)
    with watch.watching():
        v = RegistersView(md_ctx, today=lambda: MD.TODAY)
        qtbot.addWidget(v)
        monitor = EventLoopMonitor().start()
        v.show()  # shown while stale: every register loads
        qtbot.waitUntil(lambda: not any(p.loading for p in v.pages.values()), timeout=10_000)
        page = v.show_register("rectifications")
        assert page.model.rowCount() == 1  # I's 不满意
        page.choices["stateFilter"].setCurrentIndex(1)  # 全部: a reload with another filter
        qtbot.waitUntil(lambda: not page.loading, timeout=10_000)
        v.visits_tab.set_day(MD.NEXT_WORKDAY)  # the day picker reloads both pages of its tab
        qtbot.waitUntil(lambda: not any(p.loading for p in v.pages.values()), timeout=10_000)
        gap = monitor.stop()
    assert watch.statements == []
    assert monitor.gaps and gap < MAX_GAP_MS, f"the event loop stood still for {gap:.0f} ms"
