"""The registers on screen (责任追究, 投诉, 回访, 差评整改, 约访/下访, 转办待接收, 集体研究), on a real SQLite hall,
with dates on the real 2026 calendar. Each action goes through the page as a click would (``perform`` with the
dialog's answers); the services' own refusals are shown as messages."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hall_fixtures import rating_pad
from manager_session import wait_until
from PySide6.QtCore import Qt

from hall.services.cases import routing, workflow
from hall.services.catalog import items as catalog
from hall.services.registers import accountability, ratings
from hall.services.tickets import intake
from hall.services.tickets import record as tickets
from hall.ui import messages
from hall.ui.ops import COALESCE_MS, ChangeSignal, Context, run
from hall.ui.registers_model import NumberRole, mask_ids
from hall.ui.registers_view import RegistersView

pytestmark = pytest.mark.gui
D = date
ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张三", "13812345678", "东村3组")
LI = intake.ApplicantForm("person", "440524188001010014", "李四", "13900001111", "西村1组")


@pytest.fixture
def hall(hall_sqlite, monkeypatch):
    from hall_fixtures import actors_of

    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    return hall_sqlite, actors_of(hall_sqlite)


def register(opened, actor, code: str, now: datetime, applicant=ZHANG) -> str:
    with opened.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, code).materials}
        r = intake.register(s, actor, intake.IntakeForm(code, applicant, marks), now=now)
    assert r.state == "accepted", r
    return r.number


def view(qtbot, opened, actor, day: date, now: datetime | None = None, changes: ChangeSignal | None = None):
    v = RegistersView(Context(opened.db, opened.node, actor, changes or ChangeSignal()), today=lambda: day,
                      now=(lambda: now) if now else None)
    qtbot.addWidget(v)
    return v


def settle(page):
    """Wait for the page's background load (a refresh, a filter change, the reload after an action)."""
    assert wait_until(lambda: not page.loading, 10), "the register did not load"
    return page


def page_of(v, name: str):
    page = v.show_register(name)
    page.refresh()
    return settle(page)


def rows(page) -> int:
    return settle(page).model.rowCount()


def column(page, header: str) -> list[str]:
    m = settle(page).model
    col = next(c for c in range(m.columnCount()) if m.headerData(c, Qt.Orientation.Horizontal) == header)
    return [m.data(m.index(r, col)) for r in range(m.rowCount())]


def last_message() -> str:
    return messages.shown[-1][1] if messages.shown else ""


# ------------------------------------------------------------------------------------ 责任追究
def test_manager_records_a_finding_a_clerk_cannot(qtbot, hall):
    opened, who = hall
    number = register(opened, who["c02"], "09", datetime(2026, 3, 2, 9))  # 承诺件 at W02, due 3/23
    with opened.db.transaction() as s:
        assert accountability.sweep_overdue(s, opened.system, D(2026, 3, 24)) == [number]

    # The clerk sees the record against them, but the finding is the manager's: button off, service refuses.
    clerk = page_of(view(qtbot, opened, who["c02"], D(2026, 3, 25)), "accountability")
    assert column(clerk, "办件编号") == [number]
    assert column(clerk, "责任人/部门") == ["王民政"]
    assert clerk.select_where(lambda r: r.ticket_number == number)
    assert not clerk.buttons["finding"].isEnabled()
    assert not clerk.perform("finding", {"finding": "dismissed", "measure": "", "text": "情有可原"})
    assert "只有中心主任" in last_message()
    # Another window's clerk sees none of it.
    assert page_of(view(qtbot, opened, who["c03"], D(2026, 3, 25)), "accountability").model.rowCount() == 0

    changes = ChangeSignal()
    v = view(qtbot, opened, who["m01"], D(2026, 3, 25), changes=changes)
    page = page_of(v, "accountability")
    assert v.tabText(0) == "责任追究（1）"
    assert page.select_where(lambda r: r.ticket_number == number)
    assert page.buttons["finding"].isEnabled()
    # An upheld finding needs a measure: the service's message names the field.
    assert not page.perform("finding", {"finding": "upheld", "measure": "", "text": "超期属实"})
    assert "处理措施" in last_message()
    with qtbot.waitSignal(changes.changed) as told:
        assert page.perform("finding", {"finding": "upheld", "measure": "批评教育", "text": "超期属实，未及时办理"})
    assert told.args[0].registers == {"accountability"} and told.args[1] is page  # what changed, and who did it
    assert rows(page) == 0  # the default list is what still waits for a finding
    page.choices["stateFilter"].setCurrentIndex(3)  # 全部
    assert column(page, "状态") == ["属实，予以追究"]
    assert column(page, "处理措施") == ["批评教育"]
    assert column(page, "认定人") == ["赵主任"]
    with opened.db.transaction() as s:
        (rec,) = accountability.records(s, state="upheld")
        assert rec.found_on == D(2026, 3, 25)  # recorded on the screen's day

    # Double-click opens the ticket.
    page.select_where(lambda r: True)
    page.table.activated.emit(page.table.currentIndex())
    (dlg,) = page.details
    assert dlg.number == number


# -------------------------------------------------------------------------------------------- 投诉
def test_a_complaint_registered_overdue_and_answered(qtbot, hall):
    opened, who = hall
    number = register(opened, who["c02"], "09", datetime(2026, 9, 21, 9))
    clerk = page_of(view(qtbot, opened, who["c03"], D(2026, 9, 22), now=datetime(2026, 9, 22, 10)), "complaints")
    assert clerk.buttons["register"].isEnabled() and not clerk.buttons["answer"].isEnabled()
    assert clerk.perform("register", {
        "channel": "现场", "complainant": "张三", "phone": "13812345678", "ticket_number": number,
        "staff_no": "c02", "window_code": "", "content": "窗口人员态度生硬，身份证 11010519491231002X 被大声念出"})
    assert column(clerk, "投诉编号") == ["TS-20260922-001"]
    # 15 working days from 9/22 over 中秋 and 国庆 (10/10 is a make-up workday).
    assert column(clerk, "答复期限") == ["2026-10-20"]
    assert column(clerk, "被投诉人") == ["王民政"] and column(clerk, "窗口") == ["W02"]
    # A clerk screen masks an ID number quoted in free text (§6); the name stays full.
    assert column(clerk, "投诉内容") == ["窗口人员态度生硬，身份证 110105********002X 被大声念出"]
    assert column(clerk, "投诉人") == ["张三"]
    clerk.select_where(lambda c: True)
    assert not clerk.buttons["answer"].isEnabled()
    assert not clerk.perform("answer", {"upheld": "yes", "reply": "属实"})
    assert "只有中心主任" in last_message()

    v = view(qtbot, opened, who["m01"], D(2026, 10, 21), now=datetime(2026, 10, 21, 9))
    page = page_of(v, "complaints")
    assert column(page, "状态") == ["已超期未答复"] and page.model.alert_count() == 1
    idx = page.model.index(0, 0)
    assert page.model.data(idx, Qt.ItemDataRole.ForegroundRole).color().name() == "#b00020"
    assert v.tabText(1) == "投诉（1，超期1）"
    page.select_where(lambda c: True)
    assert page.buttons["answer"].isEnabled()
    assert page.perform("answer", {"upheld": "yes", "reply": "已批评教育并向投诉人致歉"})
    assert rows(page) == 0 and v.tabText(1) == "投诉"
    page.choices["stateFilter"].setCurrentIndex(1)
    assert column(page, "状态") == ["已答复（属实）"]
    # An upheld complaint against a person opens an accountability record, and a follow-up call.
    assert column(page_of(v, "accountability"), "追究事由") == ["投诉属实"]
    follow = page_of(v, "followups")
    follow.choices["rangeFilter"].setCurrentIndex(2)  # 未来7天
    assert column(follow, "回访类型") == ["投诉回访"]


# -------------------------------------------------------------------------------------------- 回访
def test_a_follow_up_outcome_recorded(qtbot, hall):
    opened, who = hall
    number = register(opened, who["c02"], "09", datetime(2026, 4, 30, 9), applicant=LI)
    with opened.db.transaction() as s:
        workflow.close(s, who["c02"], number, "approved", "同意", now=datetime(2026, 4, 30, 11))
    early = page_of(view(qtbot, opened, who["c02"], D(2026, 4, 30)), "followups")
    assert rows(early) == 0  # due 5/7 (7 days, after 劳动节): not today
    early.choices["rangeFilter"].setCurrentIndex(2)
    assert column(early, "办件编号") == [number]

    assert page_of(view(qtbot, opened, who["c03"], D(2026, 5, 7)), "followups").model.rowCount() == 0  # W03
    page = page_of(view(qtbot, opened, who["c02"], D(2026, 5, 8)), "followups")
    assert column(page, "应回访日期") == ["2026-05-07"] and column(page, "状态") == ["逾期 1 天"]
    assert column(page, "申请人") == ["李四"] and column(page, "联系电话") == ["13900001111"]  # §6: clerk, full
    page.choices["rangeFilter"].setCurrentIndex(1)  # 已逾期
    assert rows(page) == 1
    page.select_where(lambda f: True)
    assert page.buttons["outcome"].isEnabled()
    assert page.perform("outcome", {"method": "电话", "reached": "yes", "satisfied": "yes",
                                    "outcome": "群众表示满意，已领取结果"})
    assert rows(page) == 0


# ------------------------------------------------------------------------------------------ 转办
def test_a_transfer_accepted_from_the_inbox_another_declined(qtbot, hall):
    opened, who = hall
    first = register(opened, who["c02"], "09", datetime(2026, 3, 2, 9))
    second = register(opened, who["c02"], "09", datetime(2026, 3, 2, 10), applicant=LI)
    with opened.db.transaction() as s:
        for n in (first, second):
            routing.request_transfer(s, who["c02"], n, "W03", "属社保业务", "申请表及身份证复印件",
                                     now=datetime(2026, 3, 3, 9))
    assert page_of(view(qtbot, opened, who["c02"], D(2026, 3, 3)), "transfers").model.rowCount() == 0
    v = view(qtbot, opened, who["c03"], D(2026, 3, 3), now=datetime(2026, 3, 3, 10))
    page = page_of(v, "transfers")
    assert column(page, "办件编号") == [first, second]
    assert column(page, "首问责任人") == ["王民政", "王民政"]
    assert not page.buttons["accept"].isEnabled()  # nothing selected yet
    page.select_where(lambda t: t.ticket_number == first)
    assert page.buttons["accept"].isEnabled()
    assert page.ask_and_perform("accept")  # the confirmation is answered yes by the test hook
    page.select_where(lambda t: t.ticket_number == second)
    assert not page.perform("decline", {"reason": ""})
    assert "退回原因" in last_message()
    assert page.perform("decline", {"reason": "该事项属民政业务，请W02办理"})
    assert rows(page) == 0
    with opened.db.transaction() as s:
        t1, t2 = tickets.get(s, first), tickets.get(s, second)
        assert (t1.window_code, t1.owner_id) == ("W03", who["c03"].staff_id)
        assert (t2.window_code, t2.owner_id) == ("W02", who["c02"].staff_id)


# ------------------------------------------------------------------------------ 约访 / 下访
def test_an_appointment_booked_and_kept(qtbot, hall):
    opened, who = hall
    booker = view(qtbot, opened, who["c03"], D(2026, 10, 9), now=datetime(2026, 10, 9, 9))
    booker.visits_tab.set_day(D(2026, 10, 12))
    page = page_of(booker, "appointments")
    assert page.perform("book", {"staff_no": "c02", "citizen_name": "张三", "phone": "13812345678", "slot": "上午",
                                 "purpose": "低保政策咨询"})
    assert column(page, "约访工作人员") == ["王民政"] and column(page, "状态") == ["已预约"]
    page.select_where(lambda a: True)
    assert not page.buttons["appointment_outcome"].isEnabled()  # only the named staff or the manager
    booker.visits_tab.set_day(D(2026, 10, 10))  # a make-up Saturday, nothing booked
    assert rows(page) == 0
    booker.visits_tab.set_day(D(2026, 10, 11))  # a Sunday: the service refuses, the message says why
    assert not page.perform("book", {"staff_no": "c02", "citizen_name": "张三", "phone": "", "slot": "",
                                     "purpose": ""})
    assert "不是工作日" in last_message()

    number = register(opened, who["c02"], "09", datetime(2026, 10, 12, 10))
    named = view(qtbot, opened, who["c02"], D(2026, 10, 12), now=datetime(2026, 10, 12, 11))
    page = page_of(named, "appointments")
    page.select_where(lambda a: True)
    assert page.buttons["appointment_outcome"].isEnabled()
    assert page.perform("appointment_outcome", {"outcome": "kept", "ticket_number": number, "note": "已受理"})
    assert column(page, "状态") == ["已接待"] and column(page, "关联办件") == [number]
    assert page.model.data(page.model.index(0, 0), NumberRole) == number


def test_a_circuit_visit_planned_tagged_and_finished(qtbot, hall):
    opened, who = hall
    mgr = view(qtbot, opened, who["m01"], D(2026, 10, 9), now=datetime(2026, 10, 9, 9))
    mgr.visits_tab.set_day(D(2026, 10, 12))
    visits = page_of(mgr, "visits")
    assert visits.perform("plan", {"village": "东村", "place": "东村集市", "market_day": "yes",
                                   "staff_nos": ["c02", "c03"]})
    assert column(visits, "下访人员") == ["王民政、李社保"] and column(visits, "逢集日") == ["是"]
    assert not page_of(view(qtbot, opened, who["c02"], D(2026, 10, 9)), "visits").buttons["plan"].isEnabled()

    number = register(opened, who["c02"], "09", datetime(2026, 10, 12, 10))
    clerk = view(qtbot, opened, who["c02"], D(2026, 10, 12), now=datetime(2026, 10, 12, 10, 5))
    page = page_of(clerk, "visits")
    page.select_where(lambda v: True)
    assert page.buttons["tag"].isEnabled() and not page.buttons["finish"].isEnabled()
    assert page.perform("tag", {"number": number})
    assert column(page, "下访办件") == [number]
    settle(visits).refresh()
    settle(visits).select_where(lambda v: True)
    assert visits.perform("finish", {"result": "done", "summary": "集市日受理1件，咨询12人次"})
    assert column(visits, "状态") == ["已完成"]


# ---------------------------------------------------------------------------------- 差评整改, 集体研究
def test_a_poor_rating_verified_and_rectified(qtbot, hall):
    opened, who = hall
    number = register(opened, who["c02"], "09", datetime(2026, 4, 1, 9))
    pad = rating_pad(opened)
    with opened.db.transaction() as s:
        workflow.close(s, who["c02"], number, "approved", "同意", now=datetime(2026, 4, 2, 9))
        invite = ratings.request_rating(s, who["c02"], number, "closure", now=datetime(2026, 4, 2, 9, 5))
        ratings.rate(s, pad, invite.token, 1, "态度生硬",
                     now=datetime(2026, 4, 2, 9, 6))
    clerk = page_of(view(qtbot, opened, who["c02"], D(2026, 4, 3)), "rectifications")
    assert column(clerk, "评价") == ["非常不满意"] and column(clerk, "状态") == ["待核实"]
    clerk.select_where(lambda r: True)
    assert not clerk.buttons["verify"].isEnabled() and not clerk.buttons["rectified"].isEnabled()
    mgr = page_of(view(qtbot, opened, who["m01"], D(2026, 4, 3), now=datetime(2026, 4, 3, 9)), "rectifications")
    mgr.select_where(lambda r: True)
    assert mgr.perform("verify", {"upheld": "yes", "finding": "经查看录像，态度生硬属实"})
    settle(clerk).refresh()
    settle(clerk).select_where(lambda r: True)
    assert clerk.buttons["rectified"].isEnabled()
    assert clerk.perform("rectified", {"action": "已当面致歉，窗口服务规范再培训"})
    assert column(clerk, "状态") == ["已整改，待回访再评价"]


def test_an_escalation_decided_by_the_manager(qtbot, hall):
    opened, who = hall
    number = register(opened, who["c02"], "09", datetime(2026, 3, 2, 9))
    with opened.db.transaction() as s:
        routing.escalate(s, who["c02"], number, "家庭情况特殊，需集体研究", now=datetime(2026, 3, 3, 9))
    clerk = page_of(view(qtbot, opened, who["c02"], D(2026, 3, 4)), "escalations")
    assert column(clerk, "办件编号") == [number] and column(clerk, "状态") == ["待研究（停止计时）"]
    clerk.select_where(lambda e: True)
    assert not clerk.buttons["decide"].isEnabled()
    mgr = page_of(view(qtbot, opened, who["m01"], D(2026, 3, 6), now=datetime(2026, 3, 6, 15)), "escalations")
    mgr.select_where(lambda e: True)
    assert mgr.perform("decide", {"outcome": "同意按特殊困难家庭纳入救助", "meeting": "镇党委会〔2026〕5号"})
    assert rows(mgr) == 0
    mgr.choices["stateFilter"].setCurrentIndex(1)
    assert column(mgr, "会议（纪要号）") == ["镇党委会〔2026〕5号"]


def test_the_view_reloads_on_a_change_when_shown_and_later_when_hidden(qtbot, hall):
    opened, who = hall
    changes = ChangeSignal()
    v = view(qtbot, opened, who["c03"], D(2026, 3, 3), changes=changes)
    v.show()
    qtbot.waitExposed(v)
    qtbot.waitUntil(lambda: not any(p.loading for p in v.pages.values()), timeout=10_000)
    assert v.tabText(5) == "转办待接收"
    number = register(opened, who["c02"], "09", datetime(2026, 3, 2, 9))
    reloads = {name: p.listener.reacted for name, p in v.pages.items()}
    # Another view of this session saves something: only the register it touched reloads.
    run(None, v.ctx, lambda s: routing.request_transfer(s, who["c02"], number, "W03", "属社保业务", "申请表",
                                                        now=datetime(2026, 3, 3, 9)))
    qtbot.waitUntil(lambda: v.tabText(5) == "转办待接收（1）", timeout=10_000)  # a hidden tab's count follows too
    # Every page's reload has landed (the counted tab may answer before the others): nothing left in flight.
    qtbot.waitUntil(lambda: not any(p.loading for p in v.pages.values()), timeout=10_000)
    assert {n for n, p in v.pages.items() if p.listener.reacted > reloads[n]} == {"transfers"}
    v.hide()
    run(None, v.ctx, lambda s: routing.accept_transfer(s, who["c03"], number, now=datetime(2026, 3, 3, 10)))
    qtbot.wait(COALESCE_MS + 100)
    assert not any(p.loading for p in v.pages.values())
    qtbot.wait(100)
    assert v.tabText(5) == "转办待接收（1）"  # hidden: only marked stale …
    v.show()
    qtbot.waitUntil(lambda: v.tabText(5) == "转办待接收", timeout=10_000)  # … and reloaded when shown again


# ------------------------------------------------------------------------------------------ model
def test_register_models_pass_qtmodeltester(qtbot, qtmodeltester, hall):
    opened, who = hall
    for i, applicant in enumerate((ZHANG, LI)):
        register(opened, who["c02"], "09", datetime(2026, 3, 2, 9 + i), applicant=applicant)
    with opened.db.transaction() as s:
        accountability.sweep_overdue(s, opened.system, D(2026, 3, 24))
    page = page_of(view(qtbot, opened, who["m01"], D(2026, 3, 25)), "accountability")
    assert rows(page) == 2
    qtmodeltester.check(page.model, force_py=True)
    page.select_where(lambda r: True)
    chosen = page.current_row()
    page.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)  # 办件编号: selection follows the row
    assert page.current_row() == chosen
    assert column(page, "办件编号") == sorted(column(page, "办件编号"), reverse=True)
    qtmodeltester.check(page.model, force_py=True)


def test_free_text_masks_id_numbers_only():
    assert mask_ids("身份证11010519491231002X，电话13812345678") == "身份证110105********002X，电话13812345678"
    assert mask_ids("编号 320581101-000-20260305-0012") == "编号 320581101-000-20260305-0012"


def test_a_backlog_is_listed_a_page_at_a_time(qtbot, tmp_path, monkeypatch):
    """A hall's follow-up and accountability backlogs run to thousands: a register lists the first rows, says how
    many there are (or that there are more), and lists the next ones on request."""
    from manager_session import build_ledger

    from hall.services.registers import followups
    from hall.ui import registers_page

    monkeypatch.setattr(registers_page, "PAGE_ROWS", 3)
    ledger = build_ledger(tmp_path / "data", 3000)  # demo hall with its daily-rules backlog
    v = RegistersView(Context(ledger.opened.db, ledger.opened.node, ledger.manager, ChangeSignal()),
                      today=lambda: ledger.today)
    qtbot.addWidget(v)
    with ledger.opened.db.reading() as s:
        due = followups.count_due(s, ledger.today)
    assert due > 100
    page = page_of(v, "followups")
    assert page.model.total_rows == 3 and page.has_more and page.total == due
    assert page.count_label.text().startswith(f"共 {due} 条，已列出前 3 条")
    assert not page.more_button.isHidden()
    assert v.tabText(v.indexOf(page)) == f"回访（{due}）" or v.tabText(v.indexOf(page)).startswith(f"回访（{due}，")
    first = [f.id for f in page.model.rows()]
    page.more_button.click()
    settle(page)
    assert page.model.total_rows == 6 and [f.id for f in page.model.rows()][:3] == first  # the same order on
    page.choices["rangeFilter"].setCurrentIndex(1)  # 已逾期: another list, from its first rows again
    settle(page)
    assert page.bound == 3 and all(f.overdue for f in page.model.rows())
    records = page_of(v, "accountability")  # more than 3 open records; this register is not counted
    assert records.has_more and records.total is None and "还有更多" in records.count_label.text()
    assert v.tabText(v.indexOf(records)) == "责任追究（3+）"
    ledger.opened.db.dispose()
