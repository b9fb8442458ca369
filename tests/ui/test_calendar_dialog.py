"""The administrator confirms next year's notice from the GUI and sees which promises moved; the change and its
recomputation run off the GUI thread with progress, the dialog stays responsive, failures are plain messages."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import date, datetime

import pytest
from gui_guard import EventLoopMonitor, GuiThreadSql
from PySide6.QtCore import QDate

from hall.services.calendar import workdays as calendar_service
from hall.services.catalog import items as catalog
from hall.services.tickets import intake
from hall.services.tickets import record as tickets
from hall.ui import messages
from hall.ui.background import wait_idle
from hall.ui.calendar_dialog import CalendarDialog
from hall.ui.ops import ChangeSignal, Context

pytestmark = pytest.mark.gui

NOTICE_2027 = {
    "year": 2027, "notice": "测试用（非真实通知）",
    "holidays": [{"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"}],
    "makeup_workdays": [],
}


@pytest.fixture
def answer_yes(monkeypatch):
    monkeypatch.setattr(messages, "ask_hook", lambda title, text: True)
    messages.shown.clear()


def _people(opened):
    from hall_fixtures import actors_of

    return actors_of(opened)


def _accept(opened, actor, code: str, on: datetime) -> str:
    with opened.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, code).materials}
        return intake.register(s, actor, intake.IntakeForm(
            code, intake.ApplicantForm("person", "11010519491231002X", "张三"), materials=marks), now=on).number


def _dialog(qtbot, opened, actor, tmp_path=None, **kw) -> tuple[CalendarDialog, Context]:
    ctx = Context(opened.db, opened.node, actor, ChangeSignal())
    if tmp_path is not None:
        notice = tmp_path / "2027.json"
        notice.write_text(json.dumps(NOTICE_2027, ensure_ascii=False), encoding="utf-8")
        kw["open_file"] = lambda _parent: str(notice)
    dlg = CalendarDialog(ctx, **kw)
    qtbot.addWidget(dlg)
    return dlg, ctx


def _settled(qtbot, dlg: CalendarDialog) -> None:
    """The change (if any) saved and the overview read back."""
    qtbot.waitUntil(lambda: not dlg.busy and not dlg.loader.busy, timeout=10_000)


def test_confirming_2027_in_the_dialog_recomputes_open_tickets(qtbot, hall_sqlite, answer_yes, tmp_path):
    people = _people(hall_sqlite)
    number = _accept(hall_sqlite, people["m01"], "03", datetime(2026, 12, 28, 9))
    dlg, ctx = _dialog(qtbot, hall_sqlite, people["admin"], tmp_path, today=date(2026, 12, 28))
    _settled(qtbot, dlg)
    assert "暂定" in dlg.status.text()
    dlg.load_file()
    assert dlg.holidays.rowCount() == 1 and dlg.reference.text() == "测试用（非真实通知）"
    progress: list[tuple[int, int, str]] = []
    with qtbot.waitSignal(ctx.changes.changed, timeout=10_000) as told:
        task = dlg.confirm()
        assert task is not None
        task.progressed.connect(lambda d, t, w: progress.append((d, t, w)))
    _settled(qtbot, dlg)
    assert told.args[0].calendar and told.args[0].any_tickets and told.args[1] is dlg  # one announcement, by it
    assert "已确认" in dlg.status.text()
    assert f"{number}：2027-01-04 → 2027-01-05" in dlg.result_label.text()
    assert progress and progress[-1] == (1, 1, "记录期限变化")
    with hall_sqlite.db.transaction() as s:
        assert calendar_service.year_overview(s, 2027).status == "confirmed"
        assert tickets.get(s, number).due_provisional is False


def test_no_sql_on_the_gui_thread_and_the_dialog_keeps_turning_while_a_change_waits(
        qtbot, hall_sqlite, answer_yes, tmp_path):
    """Another program holds the write lock: the change waits for it off the GUI thread; meanwhile the dialog
    repaints, refuses to close and to start a second change; then the change lands, all without one SQL
    statement on the GUI thread (from opening the dialog to the refreshed overview)."""
    people = _people(hall_sqlite)
    number = _accept(hall_sqlite, people["m01"], "03", datetime(2026, 12, 28, 9))
    path = hall_sqlite.db.engine.url.database
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    watch = GuiThreadSql(hall_sqlite.db.engine)
    with watch.watching():
        dlg, ctx = _dialog(qtbot, hall_sqlite, people["admin"], tmp_path, today=date(2026, 12, 28))
        dlg.show()
        _settled(qtbot, dlg)
        dlg.load_file()
        blocker.execute("BEGIN IMMEDIATE")
        monitor = EventLoopMonitor().start()
        task = dlg.confirm()
        assert task is not None and dlg.busy
        qtbot.wait(600)  # the task is waiting for the lock now
        assert dlg.busy and not dlg.confirm_button.isEnabled() and not dlg.add_local_button.isEnabled()
        assert dlg.confirm() is None and dlg.add_local() is None  # one change at a time
        dlg.reject()
        assert dlg.isVisible()
        assert "完成后才能关闭" in dlg.result_label.text()
        threading.Timer(0.3, blocker.rollback).start()
        with qtbot.waitSignal(ctx.changes.changed, timeout=10_000):
            pass
        _settled(qtbot, dlg)
        gap = monitor.stop()
    blocker.close()
    assert watch.statements == []
    assert gap < 100, f"the event loop stood still for {gap:.0f} ms"
    assert f"{number}：2027-01-04 → 2027-01-05" in dlg.result_label.text() and "已确认" in dlg.status.text()
    assert dlg.confirm_button.isEnabled()


def test_a_bad_makeup_day_is_named(qtbot, hall_sqlite, answer_yes):
    dlg, _ctx = _dialog(qtbot, hall_sqlite, _people(hall_sqlite)["admin"], today=date(2026, 12, 1))
    dlg.add_holiday_row("元旦", date(2027, 1, 1), date(2027, 1, 1))
    dlg.makeup.setText("2027-13-40")
    assert dlg.confirm() is None
    assert any("调休上班日" in text and "2027-13-40" in text for _t, text in messages.shown)
    _settled(qtbot, dlg)
    assert "暂定" in dlg.status.text()


def test_a_clerk_cannot_confirm_and_is_told_in_chinese(qtbot, hall_sqlite, answer_yes):
    dlg, _ctx = _dialog(qtbot, hall_sqlite, _people(hall_sqlite)["c02"], today=date(2026, 12, 1))
    dlg.add_holiday_row("元旦", date(2027, 1, 1), date(2027, 1, 1))
    dlg.local_from.setDate(QDate(2027, 1, 1))
    task = dlg.confirm()
    assert task is not None
    with qtbot.waitSignal(task.ended, timeout=10_000):
        pass
    assert any(title == "无法确认" and "系统管理员" in text for title, text in messages.shown)
    assert "未保存" in dlg.result_label.text()
    _settled(qtbot, dlg)
    assert "暂定" in dlg.status.text() and dlg.confirm_button.isEnabled()


def test_a_local_holiday_without_a_name_is_refused_and_nothing_changes(qtbot, hall_sqlite, answer_yes):
    people = _people(hall_sqlite)
    number = _accept(hall_sqlite, people["m01"], "03", datetime(2026, 6, 1, 9))
    dlg, _ctx = _dialog(qtbot, hall_sqlite, people["admin"], today=date(2026, 6, 1))
    dlg.local_from.setDate(QDate(2026, 6, 3))
    dlg.local_to.setDate(QDate(2026, 6, 3))
    task = dlg.add_local()
    assert task is not None
    with qtbot.waitSignal(task.ended, timeout=10_000):
        pass
    assert any("地方节假日名称" in text for _t, text in messages.shown)
    dlg.local_name.setText("三月三（测试）")
    ended = dlg.add_local()
    assert ended is not None
    with qtbot.waitSignal(ended.ended, timeout=10_000):
        pass
    assert f"{number}：2026-06-08 → 2026-06-09" in dlg.result_label.text()
    wait_idle()
