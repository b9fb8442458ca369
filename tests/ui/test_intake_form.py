"""The intake form driven through real widgets and a real SQLite hall: keyboard only, 补正, bad ID, refusal,
returning citizens, kind change, and drafts surviving a crash."""

from __future__ import annotations

import gc
import json
from datetime import date, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication

from hall.services.base.validators import id_check_char
from hall.services.catalog import items as catalog
from hall.services.reporting import queue
from hall.services.tickets import intake
from hall.services.tickets import record as tickets
from hall.ui import messages
from hall.ui.main_window import MainWindow
from hall.ui.ops import ChangeSignal, Context

pytestmark = pytest.mark.gui
TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 9, 30)
GOOD_ID = "11010519491231002X"


@pytest.fixture
def answers(monkeypatch):
    """Message boxes answered without blocking; every shown message recorded."""
    replies: list[bool] = []
    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: replies.pop(0) if replies else True)
    return replies


@pytest.fixture
def clerk(hall_sqlite):
    from hall_fixtures import actors_of

    return actors_of(hall_sqlite)["c02"]  # W02 民政


def open_window(qtbot, hall, actor, drafts) -> MainWindow:
    win = MainWindow(Context(hall.db, hall.node, actor, ChangeSignal()), drafts, today=lambda: TODAY, now=lambda: NOW)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is win.finder.search)
    return win


class Keyboard:
    """Types into whatever has the focus, like a person; counts the keys that are not text."""

    def __init__(self, qtbot) -> None:
        self.qtbot = qtbot
        self.presses: list[str] = []

    def type(self, text: str) -> None:
        widget = QApplication.focusWidget()
        if text.isascii():
            self.qtbot.keyClicks(widget, text)
            return
        # Chinese arrives from the input method as one committed string, not as key codes.
        event = QInputMethodEvent()
        event.setCommitString(text)
        QApplication.sendEvent(widget, event)

    def press(self, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
        self.presses.append(f"{modifier.name}+{key.name}")
        self.qtbot.keyClick(QApplication.focusWidget(), key, modifier)


def ticket(hall, number):
    with hall.db.transaction() as s:
        t = tickets.get(s, number)
        s.expunge(t)
        return t


def test_keyboard_only_intake_of_an_immediate_item(qtbot, hall_sqlite, clerk, answers, tmp_path):
    win = open_window(qtbot, hall_sqlite, clerk, tmp_path / "drafts")
    kb = Keyboard(qtbot)
    kb.type("lnyd")  # 老年优待证 (an alias) by pinyin initials
    assert win.finder.current_item().code == "11"
    kb.press(Qt.Key.Key_Return)  # take the item; the cursor goes to the ID number
    assert QApplication.focusWidget() is win.intake.id_edit
    kb.type(GOOD_ID)
    assert (win.intake.sex_value.text(), win.intake.birth_value.text()) == ("女", "1949-12-31")  # derived
    assert "有效" in win.intake.id_status.text()
    kb.press(Qt.Key.Key_Tab)
    kb.type("王秀英")
    kb.press(Qt.Key.Key_Tab)
    kb.type("13912345678")
    kb.press(Qt.Key.Key_Tab)
    kb.type("东村3组")
    assert "承诺办结日期：2026-11-26" in win.intake.due_label.text()
    assert "当场办结" in win.intake.outcome_label.text()
    kb.press(Qt.Key.Key_Return)  # Enter saves
    result = win.intake.last_result
    assert result is not None and result.state == "closed_approved"
    assert len(kb.presses) <= 8, kb.presses
    assert len(kb.presses) == 5
    t = ticket(hall_sqlite, result.number)
    assert (t.applicant_name, t.applicant_sex, t.applicant_birth, t.applicant_address) == \
        ("王秀英", "female", date(1949, 12, 31), "东村3组")
    assert [m["status"] for m in t.materials] == ["received"] * 3
    assert result.number in win.intake.result_label.text()
    assert win.intake.print_btn.isVisible() and "受理通知书" in win.intake.print_btn.text()
    assert QApplication.focusWidget() is win.finder.search  # ready for the next citizen
    assert not win.intake.is_dirty() and not list((tmp_path / "drafts").glob("*.json"))
    assert messages.shown == []


def test_missing_materials_turn_the_save_into_supplement(qtbot, hall_sqlite, clerk, answers, tmp_path):
    win = open_window(qtbot, hall_sqlite, clerk, tmp_path / "drafts")
    kb = Keyboard(qtbot)
    kb.type("09")  # 临时救助申请, 承诺件 15 working days
    kb.press(Qt.Key.Key_Return)
    kb.type("440524188001010014")
    win.intake.name_edit.setText("陈大文")
    win.intake.materials.setFocus()
    win.intake.materials.setCurrentCell(0, 0)
    names = [m["name"] for m in win.intake.item.materials]
    kb.press(Qt.Key.Key_1)  # first material received, the others still missing
    win.intake.materials.setCurrentCell(1, 0)
    kb.press(Qt.Key.Key_Space)  # missing → received
    assert "缺 3 项材料" in win.intake.outcome_label.text() and "一次性告知" in win.intake.outcome_label.text()
    assert "补正后起算" in win.intake.due_label.text()
    kb.press(Qt.Key.Key_Return)
    r = win.intake.last_result
    assert r.state == "supplement" and r.missing == tuple(names[2:])
    assert r.papers == ("supplement", "one_time_notice")
    assert "需补正" in win.intake.result_label.text()
    assert "补正材料通知书" in win.intake.print_btn.text() and "一次性告知单" in win.intake.print2_btn.text()
    t = ticket(hall_sqlite, r.number)
    assert t.state == "supplement" and t.due_date is None


def test_all_received_promised_item_is_accepted_with_its_due_date(qtbot, hall_sqlite, clerk, answers, tmp_path):
    win = open_window(qtbot, hall_sqlite, clerk, tmp_path / "drafts")
    kb = Keyboard(qtbot)
    kb.type("09")
    kb.press(Qt.Key.Key_Return)
    kb.type(GOOD_ID)
    kb.press(Qt.Key.Key_Tab)
    kb.type("王秀英")
    kb.press(Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)  # 全部已收
    with hall_sqlite.db.transaction() as s:
        expected = intake.preview_deadline(s, "09", "promised", TODAY)
    assert expected.due.isoformat() in win.intake.due_label.text() and win.intake.explain_label.text()
    kb.press(Qt.Key.Key_Return)
    r = win.intake.last_result
    assert r.state == "accepted" and r.due_date == expected.due


def test_bad_id_number_is_refused_with_the_message_shown(qtbot, hall_sqlite, clerk, answers, tmp_path):
    win = open_window(qtbot, hall_sqlite, clerk, tmp_path / "drafts")
    kb = Keyboard(qtbot)
    kb.type("11")
    kb.press(Qt.Key.Key_Return)
    kb.type("110105194912310021")  # wrong check character
    assert "公民身份号码" in win.intake.id_status.text() and "校验" in win.intake.id_status.text()
    assert win.intake.sex_value.text() == "—"
    kb.press(Qt.Key.Key_Tab)
    kb.type("王秀英")
    kb.press(Qt.Key.Key_Return)
    assert win.intake.last_result is None
    title, text = messages.shown[-1]
    assert title == "未保存" and "公民身份号码" in text and "申请人信息有误" in text
    assert win.intake.id_edit.text() == "110105194912310021"  # nothing typed is lost
    with hall_sqlite.db.transaction() as s:
        assert queue.count(s, queue.TicketFilter(open_only=False), today=TODAY) == 0


def test_refusal_records_the_reason(qtbot, hall_sqlite, clerk, answers, tmp_path):
    win = open_window(qtbot, hall_sqlite, clerk, tmp_path / "drafts")
    kb = Keyboard(qtbot)
    kb.type("09")
    kb.press(Qt.Key.Key_Return)
    kb.type(GOOD_ID)
    kb.press(Qt.Key.Key_Tab)
    kb.type("王秀英")
    kb.press(Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is win.intake.refusal_reason
    kb.press(Qt.Key.Key_Return)  # no reason yet: refused by the service, message shown
    assert "不予受理理由" in messages.shown[-1][1] and win.intake.last_result is None
    kb.type("户籍不在本镇")
    kb.press(Qt.Key.Key_Return)
    r = win.intake.last_result
    assert r.state == "refused" and r.papers == ("refusal",)
    assert ticket(hall_sqlite, r.number).refusal_reason == "户籍不在本镇"


def test_returning_citizen_is_prefilled_by_id_and_by_name(qtbot, hall_sqlite, clerk, answers, tmp_path):
    body = "32058119600505123"
    old_id = body + id_check_char(body)
    with hall_sqlite.db.transaction() as s:
        item = catalog.current_item(s, "11")
        intake.register(s, clerk, intake.IntakeForm(
            "11", intake.ApplicantForm("person", old_id, "欧阳建国", "13800001111", "西村5组"),
            {m["name"]: "received" for m in item.materials}), now=datetime(2026, 5, 6, 10))
    win = open_window(qtbot, hall_sqlite, clerk, tmp_path / "drafts")
    kb = Keyboard(qtbot)
    kb.type("11")
    kb.press(Qt.Key.Key_Return)
    kb.type(old_id)
    f = win.intake
    assert (f.name_edit.text(), f.phone_edit.text(), f.address_edit.text()) == ("欧阳建国", "13800001111", "西村5组")
    assert "老申请人" in f.returning_label.text()
    kb.press(Qt.Key.Key_Return)  # the ID reader's own Enter: on to the papers (every field is filled), no save
    assert win.intake.last_result is None and f.materials.hasFocus()
    kb.press(Qt.Key.Key_Return)  # the clerk's Enter, from the form: saves
    assert win.intake.last_result.state == "closed_approved"

    # By name (pinyin initials) with Ctrl+L: the ID number comes back too.
    kb.type("11")
    kb.press(Qt.Key.Key_Return)
    kb.press(Qt.Key.Key_Tab)
    kb.type("oyjg")
    kb.press(Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert f.id_edit.text() == ""  # the search runs off the GUI thread; the form fills in when it answers
    qtbot.waitUntil(lambda: f.id_edit.text() == old_id, timeout=5000)
    assert (f.id_edit.text(), f.name_edit.text(), f.phone_edit.text()) == (old_id, "欧阳建国", "13800001111")
    assert f.sex_value.text() == "男"


def test_kind_change_needs_a_reason(qtbot, hall_sqlite, clerk, answers, tmp_path):
    win = open_window(qtbot, hall_sqlite, clerk, tmp_path / "drafts")
    kb = Keyboard(qtbot)
    kb.type("11")
    kb.press(Qt.Key.Key_Return)
    kb.type(GOOD_ID)
    win.intake.name_edit.setText("王秀英")
    win.intake.kind_combo.setCurrentIndex(win.intake.kind_combo.findData("promised"))
    assert win.intake.kind_reason.isEnabled()
    win.intake.save()
    assert "须填写原因" in messages.shown[-1][1]
    win.intake.kind_reason.setText("需入户核查，不能当场办结")
    r = win.intake.save()
    assert r.kind == "promised"


def test_draft_survives_a_crash_and_is_offered_back(qtbot, hall_sqlite, clerk, answers, tmp_path):
    drafts = tmp_path / "drafts"
    win = open_window(qtbot, hall_sqlite, clerk, drafts)
    kb = Keyboard(qtbot)
    kb.type("09")
    kb.press(Qt.Key.Key_Return)
    kb.type(GOOD_ID)
    kb.press(Qt.Key.Key_Tab)
    kb.type("王秀英")
    kb.press(Qt.Key.Key_Tab)
    kb.type("13912345678")
    win.intake.materials.setCurrentCell(0, 0)
    win.intake.materials.setFocus()
    kb.press(Qt.Key.Key_Space)
    files = list(drafts.glob("intake-*.json"))
    qtbot.waitUntil(lambda: bool(list(drafts.glob("intake-*.json"))), timeout=3000)  # the debounced autosave
    files = list(drafts.glob("intake-*.json"))
    assert len(files) == 1
    saved = json.loads(files[0].read_text(encoding="utf-8"))["data"]
    assert saved["name"] == "王秀英" and saved["phone"] == "13912345678"

    # The crash: the window goes away without closeEvent, nothing flushed or asked.
    win.hide()
    win.deleteLater()
    qtbot.wait(10)
    # The Python side goes too (it sits in a reference cycle with its slots, and the window froze the heap it was
    # built in — hall.ui.app.settle_heap): pytest-qt must not close it again.
    del win
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    answers.append(True)  # "restore?" — yes
    again = MainWindow(Context(hall_sqlite.db, hall_sqlite.node, clerk, ChangeSignal()), drafts, today=lambda: TODAY,
                       now=lambda: NOW)
    qtbot.addWidget(again)
    assert again.offer_drafts()
    f = again.intake
    assert messages.shown[-1][0] == "恢复未保存的登记" and "王秀英" in messages.shown[-1][1]
    assert (f.item.code, f.id_edit.text(), f.name_edit.text(), f.phone_edit.text()) == \
        ("09", GOOD_ID, "王秀英", "13912345678")
    assert f.sex_value.text() == "女"
    first = f.item.materials[0]["name"]
    assert f.statuses[first] == "received"
    r = f.save()
    assert r is not None and not list(drafts.glob("intake-*.json"))  # saved: the draft is gone


def test_declined_draft_is_deleted_and_close_with_unsaved_work_asks(qtbot, hall_sqlite, clerk, answers, tmp_path):
    drafts = tmp_path / "drafts"
    win = open_window(qtbot, hall_sqlite, clerk, drafts)
    win.finder.search.setText("11")
    win.finder.choose_current()
    win.intake.name_edit.setText("王秀英")
    answers.append(False)  # "still quit?" — no
    assert not win.close() and win.isVisible()
    assert messages.shown[-1][0] == "有未保存的登记"
    assert len(list(drafts.glob("intake-*.json"))) == 1  # flushed before asking
    answers.append(True)
    assert win.close()
    answers.append(False)  # "restore?" — no: the draft is deleted
    again = MainWindow(Context(hall_sqlite.db, hall_sqlite.node, clerk, ChangeSignal()), drafts)
    qtbot.addWidget(again)
    assert not again.offer_drafts()
    assert not list(drafts.glob("intake-*.json"))


def test_an_id_reader_enter_moves_on_and_never_saves(qtbot, hall_sqlite, clerk, answers, tmp_path):
    """A reader in keyboard mode types the number and Enter: the cursor goes to the next empty field; nothing is
    saved until the clerk presses Enter in the form (or Ctrl+S anywhere in it, the ID field too)."""
    win = open_window(qtbot, hall_sqlite, clerk, tmp_path / "drafts")
    kb = Keyboard(qtbot)
    kb.type("11")
    kb.press(Qt.Key.Key_Return)
    f = win.intake
    body = "32058119700707123"
    kb.type(body + id_check_char(body))
    kb.press(Qt.Key.Key_Return)
    assert f.last_result is None and f.name_edit.hasFocus()
    kb.type("李四")
    f.id_edit.setFocus()
    kb.press(Qt.Key.Key_Return)  # again from the ID field: the phone is the next empty one
    assert f.last_result is None and f.phone_edit.hasFocus()
    f.id_edit.setFocus()
    kb.press(Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # an explicit save, even from the ID field
    assert f.last_result is not None and f.last_result.number

    number = f.last_result.number
    assert win.finder.search.hasFocus()  # saved: back to the item finder for the next citizen
    kb.press(Qt.Key.Key_Return)  # a reflexive second Enter takes the item again …
    assert number in f.result_label.text() and f.last_result is not None  # … and the saved line stays
    assert not f.print_btn.isHidden()  # Ctrl+P still prints the saved ticket's paper
    kb.type("3")  # the next citizen's first keystroke: now it goes
    assert f.result_label.text() == "" and f.last_result is None
