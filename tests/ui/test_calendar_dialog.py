"""The administrator confirms next year's notice from the GUI and sees which promises moved."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from PySide6.QtCore import QDate

from hall.services import calendar as calendar_service
from hall.services import catalog, intake, tickets
from hall.ui import messages
from hall.ui.calendar_dialog import CalendarDialog
from hall.ui.ops import Changes, Context

pytestmark = pytest.mark.gui


@pytest.fixture
def answer_yes(monkeypatch):
    monkeypatch.setattr(messages, "ask_hook", lambda title, text: True)
    messages.shown.clear()


def test_confirming_2027_in_the_dialog_recomputes_open_tickets(qtbot, hall_sqlite, answer_yes, tmp_path):
    from hall_fixtures import actors_of

    people = actors_of(hall_sqlite)
    with hall_sqlite.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, "03").materials}
        number = intake.register(s, people["m01"], intake.IntakeForm(
            "03", intake.ApplicantForm("person", "11010519491231002X", "张三"), materials=marks),
            now=datetime(2026, 12, 28, 9)).number
    ctx = Context(hall_sqlite.db, hall_sqlite.node, people["admin"], Changes())
    notice = tmp_path / "2027.json"
    notice.write_text(json.dumps({
        "year": 2027, "notice": "测试用（非真实通知）",
        "holidays": [{"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"}],
        "makeup_workdays": [],
    }, ensure_ascii=False), encoding="utf-8")
    dlg = CalendarDialog(ctx, open_file=lambda _parent: str(notice), today=date(2026, 12, 28))
    qtbot.addWidget(dlg)
    assert "暂定" in dlg.status.text()
    dlg.load_file()
    assert dlg.holidays.rowCount() == 1 and dlg.reference.text() == "测试用（非真实通知）"
    with qtbot.waitSignal(ctx.changes.tickets_changed):
        dlg.confirm()
    assert "已确认" in dlg.status.text()
    assert f"{number}：2027-01-04 → 2027-01-05" in dlg.result_label.text()
    with hall_sqlite.db.transaction() as s:
        assert calendar_service.year_overview(s, 2027).status == "confirmed"
        assert tickets.get(s, number).due_provisional is False


def test_a_bad_makeup_day_is_named(qtbot, hall_sqlite, answer_yes):
    from hall_fixtures import actors_of

    ctx = Context(hall_sqlite.db, hall_sqlite.node, actors_of(hall_sqlite)["admin"], Changes())
    dlg = CalendarDialog(ctx, today=date(2026, 12, 1))
    qtbot.addWidget(dlg)
    dlg.add_holiday_row("元旦", date(2027, 1, 1), date(2027, 1, 1))
    dlg.makeup.setText("2027-13-40")
    dlg.confirm()
    assert any("调休上班日" in text and "2027-13-40" in text for _t, text in messages.shown)
    assert "暂定" in dlg.status.text()


def test_a_clerk_cannot_confirm(qtbot, hall_sqlite, answer_yes):
    from hall_fixtures import actors_of

    ctx = Context(hall_sqlite.db, hall_sqlite.node, actors_of(hall_sqlite)["c02"], Changes())
    dlg = CalendarDialog(ctx, today=date(2026, 12, 1))
    qtbot.addWidget(dlg)
    dlg.add_holiday_row("元旦", date(2027, 1, 1), date(2027, 1, 1))
    dlg.local_from.setDate(QDate(2027, 1, 1))
    dlg.confirm()
    assert any("系统管理员" in text for _t, text in messages.shown)
