"""The 效能监察员's window on a real hall: every case, the 效能监察 lists, the catalogue's warnings, and a case
detail with every date explained, no action buttons at all, and only 记录监察意见 — which records the finding."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from PySide6.QtGui import QColor

from hall.services.cases import joint
from hall.services.catalog import items as catalog
from hall.services.people import staff
from hall.services.tickets import intake
from hall.services.tickets import record as tickets
from hall.ui import messages
from hall.ui.inspector_window import InspectorWindow
from hall.ui.ops import ChangeSignal, Context
from hall.ui.ticket_detail import ActionDialog, TicketDetailDialog

pytestmark = pytest.mark.gui
TODAY = date(2026, 3, 20)
ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张三", "13812345678", "东村3组")


@pytest.fixture
def hall(hall_sqlite, monkeypatch):
    from hall_fixtures import actors_of

    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    people = actors_of(hall_sqlite)
    with hall_sqlite.db.transaction() as s:
        staff.add_staff(s, hall_sqlite.system, staff.StaffForm("c05", "周卫健", "clerk", "卫健窗口", "W05"))
        staff.add_staff(s, hall_sqlite.system, staff.StaffForm("j01", "钱监察", "inspector", "效能监察员"))
        c05 = staff.actor_for(staff.by_number(s, "c05"), hall_sqlite.node)
        inspector = staff.actor_for(staff.by_number(s, "j01"), hall_sqlite.node)
        marks = {m["name"]: "received" for m in catalog.current_item(s, "37").materials}
        number = intake.register(s, c05, intake.IntakeForm("37", ZHANG, marks), now=datetime(2026, 3, 2, 9)).number
        joint.copy(s, c05, number, [joint.CopyRequest("县医保中心")], now=datetime(2026, 3, 2, 10))
    with hall_sqlite.db.transaction() as s:  # silent past Mon 3/9: deemed to consent on Tue 3/10
        joint.sweep_deemed_consent(s, hall_sqlite.system, date(2026, 3, 12))
    ctx = Context(hall_sqlite.db, hall_sqlite.node, inspector, ChangeSignal())
    return hall_sqlite, people, ctx, number


def test_the_inspector_follows_everything_and_can_only_record_findings(qtbot, hall, monkeypatch):
    opened, _people, ctx, number = hall
    win = InspectorWindow(ctx, today=lambda: TODAY)
    qtbot.addWidget(win)
    win.show()
    assert [win.tabs.tabText(i) for i in range(win.tabs.count())] == ["全部办件 F3", "效能监察 F4", "事项清单 F10"]
    assert win.queue.scope == "all"
    win.tabs.setCurrentWidget(win.inspector)
    qtbot.waitUntil(lambda: win.inspector.lists is not None and not win.inspector.loader.busy, timeout=5000)
    view = win.inspector
    assert view.period.label.startswith("2026年3月")
    deemed = view.tables["deemed"]
    assert deemed.rowCount() == 1 and deemed.item(0, 2).text() == "县医保中心"
    assert deemed.item(0, 6).text() == "2026-03-10"  # the day after the deadline, not the sweep's day
    depts = view.tables["departments"]
    assert [depts.item(r, 0).text() for r in range(depts.rowCount())] == ["县医保中心", "合计"]
    assert depts.item(0, 7).text() == "100.0%"
    records = view.tables["records"]
    assert records.rowCount() == 1 and records.item(0, 1).text() == "逾期未回复（视为认可）"
    assert all(not b.isVisible() for b in view.findChildren(type(win.queue.quick_buttons["open"]))
               if b.objectName().startswith("action_"))

    win.tabs.setCurrentWidget(win.catalog)
    qtbot.waitUntil(lambda: bool(win.catalog.rows), timeout=5000)
    flagged = [r for r in win.catalog.rows if r.warnings]
    assert any(r.code == "37" for r in flagged)
    row37 = next(i for i, r in enumerate(win.catalog.rows) if r.code == "37")
    assert win.catalog.table.item(row37, 8).foreground().color() == QColor("#b00020")
    assert "协办部门最长答复时间" in win.catalog.table.item(row37, 8).text()

    dlg = win.open_ticket(number)
    assert isinstance(dlg, TicketDetailDialog)
    # No write button exists for the inspector: neither the workflow's actions nor rating, fee or the ID reveal.
    names = {b.objectName() for b in dlg.findChildren(type(dlg.print_btn)) if b.isVisibleTo(dlg)}
    assert {n for n in names if n.startswith("action_")} == {"action_print", "action_finding"}
    assert dlg.buttons == {} and not dlg.reveal_btn.isVisibleTo(dlg)
    # Every date, explained day by day.
    kinds = [dlg.dates.item(r, 0).text() for r in range(dlg.dates.rowCount())]
    assert kinds == ["承诺办结日期", "协办部门答复期限"]
    dlg.dates.setCurrentCell(1, 0)
    text = dlg.date_explanation.text()
    assert text.startswith("协办部门答复期限　2026-03-09") and "起算日 2026-03-02" in text

    def answer(self: ActionDialog) -> int:
        self.inputs["text"].setPlainText("协办部门逾期未答复，建议约谈")
        self.accept()
        return self.result()

    monkeypatch.setattr(ActionDialog, "exec", answer)
    assert dlg.ask_finding()
    assert "钱监察：协办部门逾期未答复，建议约谈" in dlg.materials_value.text()
    with opened.db.reading() as s:
        assert tickets.get(s, number).state == "in_progress"  # the finding changed nothing of the case
    dlg.close()


def test_a_clerk_sees_actions_but_no_finding_button(qtbot, hall):
    opened, people, _ctx, number = hall
    ctx = Context(opened.db, opened.node, people["m01"], ChangeSignal())
    dlg = TicketDetailDialog(ctx, number, today=lambda: TODAY)
    qtbot.addWidget(dlg)
    assert dlg.buttons and not dlg.finding_btn.isVisibleTo(dlg) and dlg.fee_btn.isVisibleTo(dlg)
    assert not dlg.fee_btn.isEnabled()  # item 37 is free
    assert "收费：免费" in dlg.materials_value.text()
    # The manager reads the same 效能监察 lists from the 管理 menu.
    from hall.ui.inspector_view import InspectorDialog

    lists = InspectorDialog(ctx, today=lambda: TODAY)
    qtbot.addWidget(lists)
    lists.show()
    qtbot.waitUntil(lambda: lists.view.lists is not None, timeout=5000)
    assert lists.view.tables["deemed"].rowCount() == 1


def test_the_intake_form_names_a_missing_prerequisite_and_takes_the_fee(qtbot, hall_sqlite, tmp_path, monkeypatch):
    """先照后证 shown before save; 一次性收费 typed with the intake and recorded with it."""
    from dataclasses import replace

    from hall_fixtures import actors_of

    from hall.services.storage.drafts import DraftStore
    from hall.services.tickets import fees
    from hall.ui.intake_form import IntakeFormWidget

    monkeypatch.setattr(messages, "shown", [])
    with hall_sqlite.db.transaction() as s:
        spec = catalog.current_spec(s)
        items = tuple(replace(i, fee="补换卡工本费", fee_cents=2000) if i.code == "22" else
                      replace(i, prerequisite="18") if i.code == "20" else i for i in spec.items)
        catalog.import_catalog(s, hall_sqlite.system, replace(spec, items=items), "测试")
        views = {v.code: v for v in catalog.item_views(s)}
    ctx = Context(hall_sqlite.db, hall_sqlite.node, actors_of(hall_sqlite)["c03"], ChangeSignal())
    form = IntakeFormWidget(ctx, DraftStore(tmp_path / "drafts"), today=lambda: TODAY,
                            now=lambda: datetime(2026, 3, 20, 9))
    qtbot.addWidget(form)
    form.show()
    form.load_item(views["20"])
    form.id_edit.setText(ZHANG.id_no)
    qtbot.waitUntil(lambda: form.prerequisite_label.isVisible(), timeout=3000)
    assert "须先办结“18 城乡居民基本养老保险参保登记”" in form.prerequisite_label.text()
    assert not form.fee_receipt.isVisible() and form.fee_label.text() == "收费：免费"

    form.load_item(views["22"])
    assert not form.prerequisite_label.isVisible() and form.fee_receipt.isVisible()
    assert form.fee_label.text() == "收费：20.00 元（补换卡工本费）"
    form.name_edit.setText(ZHANG.name)
    form.all_received()
    form.fee_receipt.setText("SF-7")
    result = form.save()
    assert result is not None and result.state == "accepted"
    with hall_sqlite.db.reading() as s:
        taken = fees.charged(s, tickets.get(s, result.number).uid)
    assert (taken.amount_cents, taken.payer, taken.receipt_no) == (2000, "张三", "SF-7")
