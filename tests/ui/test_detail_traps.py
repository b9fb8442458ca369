"""The ticket detail's traps (issue #14 item 3): the focus after an action rests where Enter does nothing, an action
dialog keeps what was typed and says what is wrong inside itself, a refused action is disabled with the service's
own reason, and the header follows every change — a pause, the citizen's rating, another counter's action."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from hall_fixtures import PASSWORDS
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from hall.errors import HallError
from hall.services.base.validators import id_check_char
from hall.services.catalog import items as catalog
from hall.services.tickets import intake
from hall.ui import messages
from hall.ui.ops import ChangeSignal, Context
from hall.ui.ticket_detail import ActionDialog, TicketDetailDialog

pytestmark = pytest.mark.gui


@pytest.fixture
def hall(hall_sqlite, monkeypatch):
    from hall_fixtures import actors_of

    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    return hall_sqlite, actors_of(hall_sqlite)


def accept(opened, actor, code: str) -> str:
    body = "32058119620715123"
    person = intake.ApplicantForm("person", body + id_check_char(body), "钱桂英", "13900004321", "北村5组")
    with opened.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, code).materials}
        return intake.register(s, actor, intake.IntakeForm(code, person, marks),
                               now=datetime.now() - timedelta(days=2)).number


def detail(qtbot, opened, actor, number, changes: ChangeSignal | None = None) -> TicketDetailDialog:
    dlg = TicketDetailDialog(Context(opened.db, opened.node, actor, changes or ChangeSignal()), number)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.activateWindow()
    return dlg


def type_text(widget, text: str) -> None:
    """Type like a keyboard (with an input method for Chinese): one key event per character (QTest.keyClicks
    knows ASCII only)."""
    for ch in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, ch))


def in_dialog(fill: Callable[[ActionDialog], None], seen: dict) -> None:
    """Once the action dialog is up, let ``fill`` type into it like a clerk (it may press OK)."""
    box = QApplication.activeModalWidget()
    if not isinstance(box, ActionDialog):
        QTimer.singleShot(10, lambda: in_dialog(fill, seen))
        return
    fill(box)
    seen["box"] = box


def ok(box: ActionDialog) -> None:
    box.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()


def run_action(dlg: TicketDetailDialog, name: str, fill: Callable[[ActionDialog], None]) -> bool:
    seen: dict = {}
    QTimer.singleShot(0, lambda: in_dialog(fill, seen))
    return dlg.ask_and_perform(next(a for a in dlg.actions_ if a.name == name))


def enter_opens_nothing(qtbot, dlg: TicketDetailDialog) -> None:
    """Enter where the focus rests after an action: no dialog opens (a void dialog would be closed and reported)."""
    opened: list[str] = []

    def catch() -> None:
        box = QApplication.activeModalWidget()
        if box is not None:
            opened.append(box.windowTitle())
            box.reject()

    timer = QTimer(dlg, interval=5)
    timer.timeout.connect(catch)
    timer.start()
    focus = dlg.focusWidget()
    QTest.keyClick(focus, Qt.Key.Key_Return)
    QTest.keyClick(focus, Qt.Key.Key_Enter)
    qtbot.wait(30)
    timer.stop()
    assert opened == []


def test_after_close_and_deliver_the_focus_rests_on_the_history_and_enter_does_nothing(qtbot, hall):
    opened, people = hall
    number = accept(opened, people["c02"], "09")  # 承诺件
    dlg = detail(qtbot, opened, people["c02"], number)

    def close(box: ActionDialog) -> None:
        type_text(box.inputs["result"], "经审核符合条件，同意救助")
        ok(box)

    dlg.buttons["close"].setFocus()  # the clerk pressed 办结 (it becomes disabled: Qt moves its focus on)
    assert run_action(dlg, "close", close)
    assert dlg.detail.state == "closed_approved"
    assert dlg.focusWidget() is dlg.history and not dlg.buttons["void"].autoDefault()
    enter_opens_nothing(qtbot, dlg)

    def deliver(box: ActionDialog) -> None:
        type_text(box.inputs["signed_by"], "钱桂英")
        ok(box)

    dlg.buttons["deliver"].setFocus()
    assert run_action(dlg, "deliver", deliver)
    assert dlg.detail.state == "delivered" and dlg.focusWidget() is dlg.history
    enter_opens_nothing(qtbot, dlg)


def test_a_dialog_keeps_what_was_typed_and_says_what_is_wrong_inside_itself(qtbot, hall):
    opened, people = hall
    number = accept(opened, people["c02"], "09")
    dlg = detail(qtbot, opened, people["c02"], number)
    seen: dict = {}

    def short_reason(box: ActionDialog) -> None:
        type_text(box.inputs["reason"], "错")
        ok(box)  # too short: refused by the service's rule
        seen.update(open=box.isVisible(), problem=box.problem.text(), kept=box.inputs["reason"].text(),
                    focus=box.focusWidget() is box.inputs["reason"])
        box.reject()

    assert run_action(dlg, "void", short_reason) is False
    assert seen["open"] and seen["problem"].startswith("作废原因：") and seen["kept"] == "错" and seen["focus"]

    def wrong_approver(box: ActionDialog) -> None:
        box.inputs["reason"].setPlainText("需入户调查核实")
        QTest.keyClicks(box.inputs["approver"], "c03")  # a clerk, not the manager
        ok(box)
        seen.update(open2=box.isVisible(), problem2=box.problem.text(), reason=box.inputs["reason"].toPlainText(),
                    approver=box.inputs["approver"].text())
        box.inputs["approver"].setText("m01")
        box.inputs["approver_password"].setText(PASSWORDS["m01"])  # the manager types it on the spot
        ok(box)  # corrected in place: saved, the dialog closes

    assert run_action(dlg, "extend", wrong_approver)
    assert seen["open2"] and seen["problem2"] and (seen["reason"], seen["approver"]) == ("需入户调查核实", "c03")
    assert "延期" in dlg.detail.history[-1].text or any("延期" in h.text for h in dlg.detail.history)
    assert messages.shown == []  # every refusal was said inside the dialog, none in a box on top of it


def _defaults(action) -> dict:
    out = {}
    for f in action.fields:
        out[f.key] = f.options[0][0] if f.kind == "choice" and f.options else (f.default or "自动测试填写")
    return out


def test_refused_actions_are_disabled_with_the_reason_the_service_gives(qtbot, hall):
    """One answer for the screen and the service: every disabled button's tooltip is what the service raises when
    the action is called anyway — in several states, the 代办件 without a department result among them."""
    from hall.services.cases import proxy, workflow

    opened, people = hall
    clerk = people["c02"]
    waiting = accept(opened, clerk, "07")  # 代办件, not yet back from 县民政局
    paused = accept(opened, clerk, "09")
    with opened.db.transaction() as s:
        workflow.pause(s, clerk, paused, "补正收入证明")
    forwarded = accept(opened, clerk, "07")
    with opened.db.transaction() as s:
        proxy.forward(s, clerk, forwarded, "县民政局")
    other_window = people["c03"]
    checked = 0
    for number, actor in ((waiting, clerk), (paused, clerk), (forwarded, clerk), (waiting, other_window)):
        dlg = detail(qtbot, opened, actor, number)
        for action in dlg.actions_:
            reason = dlg.detail.why_not(action.name)
            button = dlg.buttons[action.name]
            assert button.isEnabled() == (not reason) and button.toolTip() == reason, action.name
            if not reason:
                continue
            with pytest.raises(HallError) as refused, opened.db.transaction() as s:
                action.call(s, actor, number, dlg.detail.version, _defaults(action))
            assert str(refused.value) == reason, action.name
            checked += 1
        dlg.close()
    assert checked > 20
    dlg = detail(qtbot, opened, clerk, waiting)
    assert not dlg.buttons["close"].isEnabled()
    assert dlg.buttons["close"].toolTip() == "代办件须先登记承办部门的办理结果，才能办结"


def test_the_header_says_paused_and_follows_the_rating_and_another_counter(qtbot, hall):
    from pathlib import Path

    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.cases import workflow
    from hall.services.registers.ratings import CitizenChannel
    from hall.ui.live import LiveFeed
    from hall.ui.rating_screen import RatingScreen

    opened, people = hall
    number = accept(opened, people["c02"], "09")
    changes = ChangeSignal()
    dlg = detail(qtbot, opened, people["c02"], number, changes)
    assert "<b>已受理</b>" in dlg.header.text()

    def pause(box: ActionDialog) -> None:
        box.inputs["materials"].setPlainText("近三个月收入证明")
        ok(box)

    assert run_action(dlg, "pause", pause)
    assert "<b>已暂停</b>" in dlg.header.text() and dlg.buttons["resume"].isEnabled()
    assert dlg.buttons["close"].toolTip() == "计时暂停中（等待补正），请先恢复计时再办结"

    # Another counter (another program on the same hall file) resumes the clock: the live feed brings it here.
    live = LiveFeed(dlg.ctx)
    live.feed.wait_ready(1.0)
    other = open_hall(Paths.resolve(Path(opened.db.engine.url.database).parent), None)
    try:
        with other.db.transaction() as s:
            workflow.resume(s, people["m01"], number, "补正材料已收到")
        qtbot.waitUntil(lambda: "<b>已受理</b>" in dlg.header.text(), timeout=5000)
    finally:
        live.stop()
        other.db.dispose()

    # The citizen rates on their own screen: the header shows it, nothing done in the detail.
    dlg.ask_rating()
    screen = next(w for w in QApplication.topLevelWidgets() if isinstance(w, RatingScreen))
    qtbot.addWidget(screen)
    assert isinstance(screen.channel, CitizenChannel)
    screen.choose(4)
    qtbot.waitUntil(lambda: "好差评：满意" in dlg.header.text(), timeout=5000)
