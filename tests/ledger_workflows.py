"""A hall that has lived: demo tickets, then every workflow the service tests exercise, then the daily rules.

Built through the real services only (the demo generator, then intake, workflow, proxy, joint, routing, ratings,
follow-ups, complaints, accountability, attendance and B-posts, appointments and circuit visits, the calendar,
settings, staff and a catalogue import), on SQLite or PostgreSQL, so that `ledger check` has something real to
replay. ``build`` returns the ticket numbers it made, by name.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

from hall_fixtures import rating_pad
from sqlalchemy import select
from workflow_env import LI, ZHANG, all_received, prepare, register

from hall.demo import data as demo_data
from hall.models.workflow import FollowUp
from hall.services.calendar.workdays import notice_from_dict
from hall.services.cases import bposts, daily, joint, proxy, recalc, routing, workflow
from hall.services.catalog import items as catalog
from hall.services.people import staff
from hall.services.registers import accountability, appointments, complaints, followups, ratings
from hall.services.storage import settings as hall_settings
from hall.services.tickets import intake
from hall.services.tickets import record as tickets

D = date
DEMO_TICKETS = 300
NOTICE_2027 = {
    "year": 2027, "notice": "测试用 2027 年安排（非真实通知）",
    "holidays": [{"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"},
                 {"name": "春节", "start": "2027-02-06", "end": "2027-02-14"}],
    "makeup_workdays": [{"date": "2027-01-31", "name": "春节"}, "2027-02-20"],
}


def at(d: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute)


def build(hall, people, *, demo_tickets: int = DEMO_TICKETS, daily_on: date | None = None) -> dict[str, str]:
    """Every workflow once (most of them on 2026 dates), with ``demo_tickets`` demo tickets before them."""
    demo_data.generate(hall.db, hall.node, demo_tickets, seed=7)
    who = prepare(hall, people)
    n: dict[str, str] = {}
    system = hall.system

    # Administration: settings, a B-post change, a password, a new catalogue version (one limit changed).
    with hall.db.transaction() as s:
        hall_settings.set_values(s, who["admin"], {"unrated_days": 5})
        staff.set_b_post(s, who["admin"], "c09", "c05")
        staff.set_password(s, who["admin"], "c09", "village-pass-2")
        spec = catalog.current_spec(s)
        items = [dataclasses.replace(it, promised_limit=it.promised_limit + 1) if it.code == "02" else it
                 for it in spec.items]
        catalog.import_catalog(s, who["admin"], dataclasses.replace(spec, items=tuple(items)), "测试：修改事项02")

    # Proxy (代办件): forwarded, reference, returned, closed, delivered.
    n["proxy"] = register(hall, who["c02"], "07", datetime(2026, 3, 2, 9))
    with hall.db.transaction() as s:
        proxy.forward(s, who["c02"], n["proxy"], "县民政局", how_sent="专人报送", now=datetime(2026, 3, 4, 9))
        proxy.record_reference(s, who["c02"], n["proxy"], "MZ-2026-0311", now=datetime(2026, 3, 5, 9))
        proxy.department_returned(s, who["c02"], n["proxy"], "approved", "经审核符合低保条件",
                                  returned_on=D(2026, 3, 20), now=datetime(2026, 3, 20, 9))
        workflow.close(s, who["c02"], n["proxy"], "approved", "县民政局批准低保", result_doc_no="县民低保〔2026〕45号",
                       now=datetime(2026, 3, 23, 9))
        workflow.deliver(s, who["c02"], n["proxy"], "当面领取", "张三", doc_no="SD-0001", now=datetime(2026, 3, 24, 10))

    # Joint (联办件) with an answer, a disagreement, a deemed consent and a second round.
    n["joint"] = register(hall, who["c05"], "37", datetime(2026, 3, 2, 9, 30))
    with hall.db.transaction() as s:
        copies = joint.copy(s, who["c05"], n["joint"], [
            joint.CopyRequest("县医保中心", asked="核定参保"),
            joint.CopyRequest("县人社局（社保卡）", higher_review=True, asked="制卡"),
            joint.CopyRequest("派出所户籍室", asked="出生登记"),
        ], now=datetime(2026, 3, 2, 10))
        ids = {c.department: c.id for c in copies}
        joint.record_opinion(s, who["c05"], ids["县医保中心"], "agree", "", "医保中心刘某",
                             now=datetime(2026, 3, 5, 15))
        joint.record_opinion(s, who["c05"], ids["派出所户籍室"], "disagree", "姓名与户口簿不一致", "户籍民警陈某",
                             now=datetime(2026, 3, 6, 11))
    with hall.db.transaction() as s:
        joint.sweep_deemed_consent(s, system, D(2026, 3, 13))
    with hall.db.transaction() as s:
        again = joint.copy(s, who["c05"], n["joint"], [joint.CopyRequest("派出所户籍室", asked="已更正姓名")],
                           now=datetime(2026, 3, 16, 9))
        joint.record_opinion(s, who["c05"], again[0].id, "agree", "已登记", "户籍民警陈某",
                             now=datetime(2026, 3, 17, 9))
        workflow.close(s, who["c05"], n["joint"], "approved", "均已办结", now=datetime(2026, 3, 17, 15))

    # Transfer (转办) declined then accepted; collective decision (集体研究); clock changes; kind change; withdrawal.
    n["transfer"] = register(hall, who["c02"], "09", datetime(2026, 3, 2, 9))
    with hall.db.transaction() as s:
        routing.request_transfer(s, who["c02"], n["transfer"], "W03", "属社保事项", "申请书等材料原件3份",
                                 now=datetime(2026, 3, 2, 10))
        routing.decline_transfer(s, who["c03"], n["transfer"], "不属于社保事项", now=datetime(2026, 3, 2, 11))
        routing.request_transfer(s, who["c02"], n["transfer"], "W03", "经核实属社保事项", "材料3份",
                                 now=datetime(2026, 3, 3, 9))
        routing.accept_transfer(s, who["c03"], n["transfer"], now=datetime(2026, 3, 3, 10))
    n["collective"] = register(hall, who["c02"], "09", datetime(2026, 3, 2, 9), applicant=LI)
    with hall.db.transaction() as s:
        routing.escalate(s, who["c02"], n["collective"], "救助金额超出窗口权限", now=datetime(2026, 3, 3, 9))
        routing.decide(s, who["m01"], n["collective"], "同意按最高标准救助", "2026年第5次党政联席会议",
                       now=datetime(2026, 3, 10, 9))
    n["clock"] = register(hall, who["c02"], "09", datetime(2026, 3, 3, 9))
    with hall.db.transaction() as s:
        workflow.start(s, who["c02"], n["clock"], now=datetime(2026, 3, 3, 10))
        workflow.pause(s, who["c02"], n["clock"], "等待补交收入证明", now=datetime(2026, 3, 4, 9))
        workflow.resume(s, who["c02"], n["clock"], now=datetime(2026, 3, 6, 9))
        workflow.special_start(s, who["c02"], n["clock"], "公示", "公示7日", now=datetime(2026, 3, 10, 9))
        workflow.special_end(s, who["c02"], n["clock"], "公示无异议", now=datetime(2026, 3, 17, 9))
        workflow.extend(s, who["c02"], n["clock"], 5, "需入户核查", "m01", "manager-pass",
                        now=datetime(2026, 3, 18, 9))
    n["kind"] = register(hall, who["c02"], "09", datetime(2026, 3, 2, 9))
    with hall.db.transaction() as s:
        workflow.change_kind(s, who["c02"], n["kind"], "immediate", "材料齐全可当场办结", now=datetime(2026, 3, 2, 10))
    n["withdrawn"] = register(hall, who["c02"], "09", datetime(2026, 3, 5, 9))
    with hall.db.transaction() as s:
        workflow.withdraw(s, who["c02"], n["withdrawn"], "申请人撤回申请", now=datetime(2026, 3, 5, 10))
        n["voided"] = intake.register(s, who["c02"], intake.IntakeForm("09", ZHANG, materials=all_received(s, "09")),
                                      now=datetime(2026, 3, 5, 11)).number
        tickets.void(s, who["m01"], n["voided"], "重复登记")
    with hall.db.transaction() as s:  # 补正 then supplied; a refusal; the village point's own chain
        marks = all_received(s, "09")
        marks[next(iter(marks))] = "missing"
        n["supplement"] = intake.register(s, who["c02"], intake.IntakeForm("09", ZHANG, materials=marks),
                                          now=datetime(2026, 3, 9, 9)).number
        tickets.supplement_received(s, who["c02"], n["supplement"], now=datetime(2026, 3, 11, 9))
        n["refused"] = intake.register(s, who["c02"], intake.IntakeForm(
            "09", LI, decision="refuse", refusal_reason="不属于本中心受理范围"), now=datetime(2026, 3, 9, 10)).number
        n["village"] = intake.register(s, who["v01"], intake.IntakeForm("61", LI, materials=all_received(s, "61")),
                                       now=datetime(2026, 3, 9, 11)).number

    # Rating (好差评) with a 差评, its rectification, the follow-up and the second rating; accountability finding.
    pad = rating_pad(hall, "W02评价器")
    n["rated"] = register(hall, who["c02"], "09", datetime(2026, 3, 2, 9))
    with hall.db.transaction() as s:
        workflow.close(s, who["c02"], n["rated"], "approved", "同意救助", now=datetime(2026, 3, 2, 9, 30))
        invite = ratings.request_rating(s, who["c02"], n["rated"], "closure", now=datetime(2026, 3, 2, 10))
        ratings.rate(s, pad, invite.token, 2, "等了很久", now=datetime(2026, 3, 2, 10, 1))
        (rect,) = ratings.rectifications(s, D(2026, 3, 2))
        ratings.verify(s, who["m01"], rect.id, True, "调阅监控属实", now=datetime(2026, 3, 3, 9))
        ratings.record_rectified(s, who["c02"], rect.id, "增设叫号提醒", now=datetime(2026, 3, 10, 9))
        call = s.scalars(select(FollowUp).where(FollowUp.reason == "poor_rating")).one()
        followups.record_outcome(s, who["c02"], call.id, "电话", "申请人表示认可", satisfied=True,
                                 now=datetime(2026, 3, 11, 9))
        second = ratings.request_rating(s, who["c02"], n["rated"], "second", rectification_id=rect.id,
                                        now=datetime(2026, 3, 11, 9))
        ratings.rate(s, pad, second.token, 4, now=datetime(2026, 3, 11, 9, 5))
        rec = next(r for r in accountability.records(s) if r.cause == "poor_rating")
        accountability.record_finding(s, who["m01"], rec.id, "upheld", "等候过长属实", measure="批评教育",
                                      now=datetime(2026, 3, 12, 9))

    # Complaint (投诉), answered and upheld; an overdue ticket swept into accountability.
    n["complained"] = register(hall, who["c02"], "09", datetime(2026, 9, 21, 9))
    with hall.db.transaction() as s:
        c = complaints.register(s, who["c03"], "窗口人员态度生硬", "现场", complainant="张三", phone="13812345678",
                                ticket_number=n["complained"], staff_no="c02", now=datetime(2026, 9, 22, 10))
        complaints.answer(s, who["m01"], c.number, True, "已批评教育并致歉", now=datetime(2026, 10, 9, 9))
        accountability.sweep_overdue(s, system, D(2026, 10, 30))

    # Attendance and the B-post standing in, then returning; an appointment and a circuit visit.
    n["bpost"] = register(hall, who["c03"], "19", datetime(2026, 4, 6, 9))
    with hall.db.transaction() as s:
        bposts.mark_attendance(s, who["m01"], "c03", "leave", day=D(2026, 4, 7), note="病假",
                               now=datetime(2026, 4, 7, 8))
        bposts.sweep(s, system, D(2026, 4, 7), now=datetime(2026, 4, 7, 10))
        workflow.start(s, who["c02"], n["bpost"], now=datetime(2026, 4, 7, 11))
    with hall.db.transaction() as s:
        bposts.mark_attendance(s, who["c03"], "c03", "present", day=D(2026, 4, 8), now=datetime(2026, 4, 8, 8, 5))
        a = appointments.book(s, who["c03"], "c02", D(2026, 10, 10), "张三", phone="13812345678",
                              purpose="低保政策咨询", slot="上午", now=datetime(2026, 9, 28, 9))
        visit = appointments.plan_visit(s, who["m01"], D(2026, 10, 12), "东村", ["c02", "c03"], place="东村集市",
                                        market_day=True, now=datetime(2026, 9, 28, 9))
    n["visit"] = register(hall, who["c02"], "09", datetime(2026, 10, 12, 10))
    with hall.db.transaction() as s:
        appointments.record_outcome(s, who["c02"], a.id, "kept", ticket_number=n["visit"],
                                    now=datetime(2026, 10, 10, 9))
        appointments.tag_ticket(s, who["c02"], visit.id, n["visit"], now=datetime(2026, 10, 12, 10, 5))
        appointments.finish_visit(s, who["m01"], visit.id, "集市日受理4件", now=datetime(2026, 10, 12, 17))

    # The calendar: a year confirmed from its notice and a local holiday, each re-deriving the open deadlines.
    n["into_2027"] = register(hall, who["c02"], "02", datetime(2026, 12, 28, 9))
    with hall.db.transaction() as s:
        recalc.confirm_year(s, who["admin"], 2027, notice_from_dict(NOTICE_2027))
        recalc.add_local_holiday(s, who["admin"], D(2027, 3, 10), "三月三（测试）")

    # The daily rules, as the hall's PC runs them (batched, incremental).
    daily.run_batched(hall.db, system, daily_on or date.today())
    return n
