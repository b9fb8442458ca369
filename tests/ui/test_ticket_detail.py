"""Ticket detail: history from the ledger, the clerk's actions through the real services, the logged reveal,
and the print hook opening the real print preview."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from hall.services.base.validators import id_check_char
from hall.services.catalog import items as catalog
from hall.services.tickets import intake
from hall.services.tickets import record as tickets
from hall.ui import messages
from hall.ui.ops import ChangeSignal, Context
from hall.ui.ticket_detail import TicketDetailDialog, papers_for_state

pytestmark = pytest.mark.gui
TODAY = date(2026, 11, 26)


@pytest.fixture
def setup(hall_sqlite, monkeypatch):
    from hall_fixtures import actors_of

    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    people = actors_of(hall_sqlite)
    body = "32058119550303123"
    applicant = intake.ApplicantForm("person", body + id_check_char(body), "周建华", "13900001234", "南村2组")
    with hall_sqlite.db.transaction() as s:
        waiting = intake.register(s, people["c02"], intake.IntakeForm("09", applicant),
                                  now=datetime(2026, 11, 20, 9)).number  # everything missing → 补正
        item = catalog.current_item(s, "09")
        accepted = intake.register(s, people["c02"], intake.IntakeForm(
            "09", applicant, {m["name"]: "received" for m in item.materials}), now=datetime(2026, 10, 9, 9)).number
    return hall_sqlite, people, waiting, accepted


def dialog(qtbot, hall, actor, number, changes=None) -> TicketDetailDialog:
    dlg = TicketDetailDialog(Context(hall.db, hall.node, actor, changes or ChangeSignal()), number, today=lambda: TODAY)
    qtbot.addWidget(dlg)
    return dlg


def history_texts(dlg) -> list[str]:
    return [dlg.history.item(r, 2).text() for r in range(dlg.history.rowCount())]


def test_history_and_supplement_received(qtbot, setup):
    hall, people, waiting, _ = setup
    changes = ChangeSignal()
    dlg = dialog(qtbot, hall, people["c02"], waiting, changes)
    assert "待补正" in dlg.header.text() and "补正材料收齐之日起" in dlg.due_value.text()
    texts = history_texts(dlg)
    assert len(texts) == 2 and texts[0].startswith("收件登记") and "需补正" in texts[0]
    assert texts[1].startswith("补正材料通知") and "前补正" in texts[1]  # in writing, with its deadline
    assert dlg.history.item(0, 1).text() == "王民政（窗口工作人员）"
    assert dlg.buttons["supplement"].isEnabled() and "Alt+S" in dlg.buttons["supplement"].text()
    with qtbot.waitSignal(changes.changed) as told:
        assert dlg.perform("supplement", {})
    assert told.args[0].tickets == {dlg.detail.uid} and told.args[1] is dlg  # what changed, and who did it
    assert not dlg.loading  # it showed the outcome itself: no second read for its own change
    assert "已受理" in dlg.header.text() and "承诺办结日期" in dlg.due_value.text()
    assert history_texts(dlg)[-1].startswith("补正材料收齐")
    assert not dlg.buttons["supplement"].isEnabled()


def test_void_needs_a_reason_and_is_recorded(qtbot, setup):
    hall, people, _, accepted = setup
    dlg = dialog(qtbot, hall, people["c02"], accepted)
    assert "已超期" in dlg.due_value.text()  # due 2026-10-30, shown red
    assert not dlg.perform("void", {"reason": ""})
    assert "作废原因" in messages.shown[-1][1]
    assert dlg.perform("void", {"reason": "重复登记"})
    assert "已作废" in dlg.header.text() and "作废原因：重复登记" in dlg.due_value.text()
    assert history_texts(dlg)[-1] == "作废：重复登记"
    with hall.db.transaction() as s:
        assert tickets.get(s, accepted).void_reason == "重复登记"


def test_close_with_result(qtbot, setup):
    hall, people, _, accepted = setup
    dlg = dialog(qtbot, hall, people["c02"], accepted)
    assert dlg.buttons["close"].isEnabled() and "close" in dlg.detail.actions
    assert dlg.perform("close", {"outcome": "approved", "result": "准予临时救助800元", "doc_no": ""})
    assert "办结（通过）" in dlg.header.text() and "准予临时救助800元" in dlg.due_value.text()


def test_another_windows_clerk_is_refused_by_the_service(qtbot, setup):
    hall, people, _, accepted = setup
    dlg = dialog(qtbot, hall, people["c03"], accepted)  # W03 clerk, W02 ticket
    assert not dlg.perform("void", {"reason": "不是我的"})
    assert "无权" in messages.shown[-1][1]
    with hall.db.transaction() as s:
        assert tickets.get(s, accepted).state == "accepted"


def test_reveal_shows_the_full_number_and_is_logged(qtbot, setup):
    hall, people, waiting, _ = setup
    dlg = dialog(qtbot, hall, people["c02"], waiting)
    masked = dlg.id_value.text()
    assert masked.startswith("320581") and "********" in masked
    dlg.reveal_btn.click()
    assert dlg.id_value.text() == "32058119550303123" + id_check_char("32058119550303123")
    assert history_texts(dlg)[-1] == "查看完整证件号码：窗口核对证件"


def test_print_hook_opens_the_paper_for_the_state(qtbot, setup):
    hall, people, waiting, _ = setup
    dlg = dialog(qtbot, hall, people["c02"], waiting)
    assert papers_for_state("supplement", "promised")[0] == "supplement"
    seen: list[str] = []

    def close_preview() -> None:
        w = QApplication.activeModalWidget()
        seen.append(type(w).__name__ if w else "")
        if w is not None:
            w.reject()

    QTimer.singleShot(1500, close_preview)
    dlg.print_btn.click()
    assert seen and seen[0] == "PrintPreviewDialog", seen
