"""Accountability for overdue tickets, follow-ups after closure, complaints, appointments and circuit visits."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from workflow_env import LI, prepare, register

from hall.errors import ConflictError, PermissionDenied, ValidationError
from hall.services.cases import bposts, workflow
from hall.services.registers import accountability, appointments, complaints, followups
from hall.services.tickets import record as tickets

D = date


@pytest.fixture
def env(hall_db, people):
    return hall_db, prepare(hall_db, people)


def test_overdue_tickets_open_accountability_records_once(env):
    hall, who = env
    late = register(hall, who["c02"], "09", datetime(2026, 3, 2, 9))  # due 3/23
    paused = register(hall, who["c02"], "09", datetime(2026, 3, 2, 9), applicant=LI)
    with hall.db.transaction() as s:
        workflow.pause(s, who["c02"], paused, "补正收入证明", now=datetime(2026, 3, 3, 9))
        assert accountability.sweep_overdue(s, hall.system, D(2026, 3, 23)) == []
        with pytest.raises(PermissionDenied):
            accountability.sweep_overdue(s, who["c02"], D(2026, 3, 24))
        assert accountability.sweep_overdue(s, hall.system, D(2026, 3, 24)) == [late]
        assert accountability.sweep_overdue(s, hall.system, D(2026, 3, 25)) == []
        (rec,) = accountability.records(s)
        assert (rec.cause_label, rec.staff_name, rec.window_code) == ("超期办件", "王民政", "W02")
        with pytest.raises(ValidationError, match="处理措施"):
            accountability.record_finding(s, who["m01"], rec.id, "upheld", "超期属实")
        with pytest.raises(PermissionDenied):
            accountability.record_finding(s, who["c02"], rec.id, "dismissed", "不追究")
        accountability.record_finding(s, who["m01"], rec.id, "dismissed", "申请人要求暂缓，情有可原",
                                      now=datetime(2026, 3, 25, 9))
        assert accountability.records(s, state="dismissed")[0].found_by == "赵主任"


def test_follow_up_after_closure_including_on_the_spot_closures(env):
    hall, who = env
    number = register(hall, who["c02"], "09", datetime(2026, 4, 30, 9), applicant=LI)
    with hall.db.transaction() as s:
        # tickets.close goes through workflow.close, which schedules the follow-up itself; the daily sweep
        # (the safety net for on-the-spot closures at intake) finds nothing left to do.
        workflow.close(s, who["c02"], number, "approved", "同意", now=datetime(2026, 4, 30, 11))
        assert followups.sweep_closed(s, hall.system, D(2026, 4, 30)) == 0
        (f,) = followups.due(s, D(2026, 5, 30))
        # 7 days after 4/30 is 5/7, a working day after 劳动节 (5/1–5/5).
        assert (f.ticket_number, f.due_on, f.applicant_name) == (number, D(2026, 5, 7), "李四")
        with pytest.raises(PermissionDenied):
            followups.record_outcome(s, who["c03"], f.id, "电话", "满意")
        followups.record_outcome(s, who["c02"], f.id, "电话", "无人接听", reached=False, now=datetime(2026, 5, 7, 9))
        with pytest.raises(ConflictError):
            followups.record_outcome(s, who["c02"], f.id, "电话", "满意", now=datetime(2026, 5, 7, 10))


def test_complaint_register_with_its_own_deadline(env):
    hall, who = env
    number = register(hall, who["c02"], "09", datetime(2026, 9, 21, 9))
    with hall.db.transaction() as s:
        c = complaints.register(s, who["c03"], "窗口人员态度生硬", "现场", complainant="张三", phone="13812345678",
                                ticket_number=number, staff_no="c02", now=datetime(2026, 9, 22, 10))
        # 15 working days from Tue 9/22: 中秋 9/25 and 国庆 10/1–10/7 skipped, 10/10 make-up counted.
        assert (c.number, c.due_on, c.window_code) == ("TS-20260922-001", D(2026, 10, 20), "W02")
        with pytest.raises(ValidationError, match="投诉渠道"):
            complaints.register(s, who["c03"], "内容", "传闻", now=datetime(2026, 9, 22, 10))
        with pytest.raises(PermissionDenied):
            complaints.answer(s, who["c03"], c.number, True, "属实")
        (view,) = complaints.register_list(s, D(2026, 10, 21))
        assert view.overdue and view.staff_name == "王民政" and view.ticket_number == number
        complaints.answer(s, who["m01"], c.number, True, "已批评教育并向投诉人致歉", now=datetime(2026, 10, 9, 9))
        assert complaints.register_list(s, D(2026, 10, 21)) == []
        (rec,) = accountability.records(s)
        assert (rec.cause, rec.staff_name) == ("complaint", "王民政")
        assert [f.reason for f in followups.due(s, D(2026, 10, 31))] == ["complaint"]


def test_appointments_and_circuit_visits(env):
    hall, who = env
    with hall.db.transaction() as s:
        with pytest.raises(ValidationError, match="不是工作日"):
            appointments.book(s, who["c03"], "c02", D(2026, 10, 5), "张三", now=datetime(2026, 9, 28, 9))
        bposts.mark_attendance(s, who["m01"], "c02", "leave", day=D(2026, 10, 9), now=datetime(2026, 9, 28, 9))
        with pytest.raises(ConflictError, match="不在岗"):
            appointments.book(s, who["c03"], "c02", D(2026, 10, 9), "张三", now=datetime(2026, 9, 28, 9))
        a = appointments.book(s, who["c03"], "c02", D(2026, 10, 10), "张三", phone="13812345678",
                              purpose="低保政策咨询", slot="上午", now=datetime(2026, 9, 28, 9))  # make-up Saturday
        assert [v.citizen_name for v in appointments.for_day(s, D(2026, 10, 10))] == ["张三"]
        visit = appointments.plan_visit(s, who["m01"], D(2026, 10, 12), "东村", ["c02", "c03"], place="东村集市",
                                        market_day=True, now=datetime(2026, 9, 28, 9))
    number = register(hall, who["c02"], "09", datetime(2026, 10, 12, 10))
    with hall.db.transaction() as s:
        with pytest.raises(PermissionDenied):
            appointments.record_outcome(s, who["c03"], a.id, "kept")
        appointments.record_outcome(s, who["c02"], a.id, "kept", ticket_number=number, now=datetime(2026, 10, 10, 9))
        assert appointments.for_day(s, D(2026, 10, 10))[0].ticket_number == number
        with pytest.raises(PermissionDenied):
            appointments.tag_ticket(s, who["c05"], visit.id, number)
        appointments.tag_ticket(s, who["c02"], visit.id, number, now=datetime(2026, 10, 12, 10, 5))
        with pytest.raises(ConflictError, match="已标记"):
            appointments.tag_ticket(s, who["c03"], visit.id, number)
        assert [t.number for t in appointments.visit_tickets(s, visit.id)] == [number]
        appointments.finish_visit(s, who["m01"], visit.id, "集市日受理4件，咨询12人次", now=datetime(2026, 10, 12, 17))
        texts = [h.text for h in tickets.history(s, tickets.get(s, number))]
        assert "巡回下访办件：2026-10-12 东村巡回下访（逢集日）" in texts
