"""The ticket detail drives the case workflows: a proxy round trip, a joint copy with opinions, the clock,
collective decision, and asking the citizen for a rating (the citizen's own screen rates)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from hall.services.base.validators import id_check_char
from hall.services.catalog import items as catalog
from hall.services.registers import ratings
from hall.services.tickets import intake
from hall.services.tickets import record as tickets
from hall.ui import messages
from hall.ui.ops import ChangeSignal, Context
from hall.ui.ticket_detail import TicketDetailDialog

pytestmark = pytest.mark.gui


@pytest.fixture
def hall(hall_sqlite, monkeypatch):
    from hall_fixtures import actors_of

    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    return hall_sqlite, actors_of(hall_sqlite)


def accept(opened, actor, code: str, days_ago: int = 3) -> str:
    body = "32058119620715123"
    person = intake.ApplicantForm("person", body + id_check_char(body), "钱桂英", "13900004321", "北村5组")
    with opened.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, code).materials}
        return intake.register(s, actor, intake.IntakeForm(code, person, marks),
                               now=datetime.now() - timedelta(days=days_ago)).number


def dialog(qtbot, opened, actor, number, changes=None) -> TicketDetailDialog:
    dlg = TicketDetailDialog(Context(opened.db, opened.node, actor, changes or ChangeSignal()), number,
                             today=date.today)
    qtbot.addWidget(dlg)
    return dlg


def history(dlg) -> str:
    return "\n".join(dlg.history.item(r, 2).text() for r in range(dlg.history.rowCount()))


def perform(dlg, name: str, **values) -> None:
    assert dlg.buttons[name].isEnabled(), f"{name} disabled; shown: {messages.shown}"
    assert dlg.perform(name, values), messages.shown


def test_proxy_round_trip_from_the_detail(qtbot, hall):
    opened, people = hall
    number = accept(opened, people["c02"], "07")  # 最低生活保障 → 县民政局
    dlg = dialog(qtbot, opened, people["c02"], number)
    assert not dlg.buttons["deliver"].isEnabled()
    perform(dlg, "forward", department="县民政局")
    assert "县民政局" in history(dlg)
    perform(dlg, "department_returned", outcome="approved", answer="经审核，同意纳入低保", dept_ref="MZ-2026-118",
            doc_no="")
    perform(dlg, "close", outcome="approved", result="县民政局批准纳入低保", doc_no="民低〔2026〕118号")
    perform(dlg, "deliver", how="当面领取", signed_by="钱桂英")
    with opened.db.transaction() as s:
        assert tickets.get(s, number).state == "delivered"
    assert "送达" in history(dlg)


def test_joint_copy_and_opinions_from_the_detail(qtbot, hall):
    opened, people = hall
    number = accept(opened, people["m01"], "62")  # 危房改造: lead W09, co-departments W02, W08
    dlg = dialog(qtbot, opened, people["m01"], number)
    perform(dlg, "copy")
    assert "抄告" in history(dlg)
    perform(dlg, "opinion", department="镇民政办(W02)", answer="agree", opinion="符合低收入条件",
            answered_by="民政办 陈")
    assert "同意" in history(dlg)
    # A clerk of another window cannot act on it.
    other = dialog(qtbot, opened, people["c03"], number)
    assert not other.buttons["copy"].isEnabled() and not other.buttons["close"].isEnabled()


def test_clock_actions_and_a_rating_request(qtbot, hall):
    opened, people = hall
    number = accept(opened, people["c02"], "09")  # 承诺件
    changes = ChangeSignal()
    dlg = dialog(qtbot, opened, people["c02"], number, changes)
    before = dlg.detail.due_date
    perform(dlg, "pause", materials="家庭经济状况核对授权书\n近三个月收入证明", reason="补正收入证明")
    assert "补正材料通知" in history(dlg)  # in writing, with the supply deadline
    assert dlg.buttons["resume"].isEnabled() and not dlg.buttons["pause"].isEnabled()
    perform(dlg, "resume", reason="补正材料已收到")
    perform(dlg, "extend", days=5, reason="需入户调查核实", approver="m01", approver_password="manager-pass")
    assert dlg.detail.due_date > before
    assert "延期" in history(dlg)
    # 好差评: the clerk asks; the citizen's screen gets a single-use invite, the clerk's window has no buttons.
    assert dlg.rate_btn.isEnabled() and dlg.rating_stage() == "acceptance"
    with qtbot.waitSignal(changes.changed) as told:
        dlg.ask_rating()
    assert told.args[0].touches("ratings") and told.args[0].history == {dlg.detail.uid}
    from hall.ui.rating_screen import rating_screen_for

    screen = rating_screen_for(dlg.ctx)
    qtbot.addWidget(screen)
    assert screen.state == "rate" and screen.pending is not None
    assert screen.pending.ticket_number == number and screen.pending.stage == "acceptance"
    assert number in screen.ticket_label.text()
    with opened.db.transaction() as s:
        assert ratings.ratings_of(s, tickets.get(s, number)) == []  # asked, not rated: only the citizen rates
    screen.choose(4)  # the citizen touches 满意 on their screen
    with opened.db.transaction() as s:
        (given,) = ratings.ratings_of(s, tickets.get(s, number))
        assert given.stage == "acceptance"


def test_escalation_and_decision(qtbot, hall):
    opened, people = hall
    number = accept(opened, people["c02"], "09")
    dlg = dialog(qtbot, opened, people["c02"], number)
    perform(dlg, "escalate", reason="申请人家庭情况特殊，需党委政府集体研究")
    assert not dlg.buttons["decide"].isEnabled()  # only the manager records the decision
    manager = dialog(qtbot, opened, people["m01"], number)
    perform(manager, "decide", outcome="同意按特殊困难给予临时救助", meeting="镇党委会纪要〔2026〕12号")
    assert "集体研究" in history(manager)


def test_a_conflicting_save_keeps_the_dialog_open_with_what_was_typed(qtbot, hall):
    """Another counter closes the ticket while this clerk is typing the result: OK is refused with who changed it,
    when and to what, the dialog stays open with every field as typed, and the detail shows the ticket as it is."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QDialogButtonBox
    from sqlalchemy import func, select

    from hall.models import Event
    from hall.services.base.states import STATE_LABELS
    from hall.services.cases import workflow
    from hall.ui.ticket_detail import ActionDialog

    opened, people = hall
    number = accept(opened, people["c02"], "09")
    with opened.db.transaction() as s:
        workflow.start(s, people["c02"], number)
    dlg = dialog(qtbot, opened, people["c02"], number)
    assert dlg.buttons["close"].isEnabled()
    seen: dict = {}

    def type_then_save() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, ActionDialog):
            QTimer.singleShot(10, type_then_save)
            return
        box.inputs["result"].setPlainText("经入户核查，家庭收入低于标准，同意临时救助")
        box.inputs["doc_no"].setText("民救〔2026〕7号")
        with opened.db.transaction() as s:  # the manager's PC, a moment earlier
            workflow.close(s, people["m01"], number, "rejected", "不符合救助条件")
        box.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
        seen.update(open=box.isVisible(), result=box.inputs["result"].toPlainText(),
                    doc_no=box.inputs["doc_no"].text(), problem=box.problem.text(),
                    problem_shown=box.problem.isVisible(), behind=dlg.detail.state)
        box.reject()  # the clerk reads the message, looks at the ticket and gives up

    QTimer.singleShot(0, type_then_save)
    assert dlg.ask_and_perform(next(a for a in dlg.actions_ if a.name == "close")) is False
    assert seen["open"] and seen["problem_shown"]
    assert (seen["result"], seen["doc_no"]) == ("经入户核查，家庭收入低于标准，同意临时救助", "民救〔2026〕7号")
    assert seen["problem"].startswith("该办件已被 赵主任 于 ")
    assert seen["problem"].endswith(f"更新为“{STATE_LABELS['closed_rejected']}”，请查看后重试")
    assert all(text != seen["problem"] for _t, text in messages.shown)  # shown in the dialog, not in a box on top
    assert seen["behind"] == "closed_rejected"  # the detail behind the dialog already shows what happened
    assert not dlg.buttons["close"].isEnabled()
    with opened.db.reading() as s:
        t = tickets.get(s, number)
        assert t.state == "closed_rejected"
        closed = s.scalar(select(func.count()).select_from(Event).where(Event.ticket_uid == t.uid,
                                                                        Event.type == "ticket.closed"))
    assert closed == 1  # nothing of the refused save was written
