"""Every date around a ticket by the one date rule, on the 2026 calendar: re-derived with one event each when the
calendar changes, deemed consent dated by the rule whenever the daily rules run, withdrawn cases left alone."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import pytest
from hall_fixtures import rating_pad
from sqlalchemy import select
from workflow_env import ZHANG, all_received, prepare, register

from hall.models import Event
from hall.models.petition import PetitionTransfer
from hall.models.workflow import (
    Appointment,
    Complaint,
    FollowUp,
    JointCopy,
    ProxyLeg,
    Rectification,
    SupplementRequest,
)
from hall.services import ledger_check
from hall.services.calendar import clock
from hall.services.calendar.derived import DateRule, derive
from hall.services.cases import daily, joint, petition, petition_steps, proxy, recalc, rederive, supplement, workflow
from hall.services.catalog import items as catalog
from hall.services.registers import accountability, appointments, complaints, ratings
from hall.services.tickets import intake
from hall.services.tickets import record as tickets

D = date


@pytest.fixture
def env(hall_db, people):
    return hall_db, prepare(hall_db, people)


def _copy(hall, who, on: datetime) -> tuple[str, int]:
    number = register(hall, who["c05"], "37", on)
    with hall.db.transaction() as s:
        (c, *_rest) = joint.copy(s, who["c05"], number, [joint.CopyRequest("县医保中心")], now=on)
    return number, c.id


def test_a_calendar_change_rederives_every_kind_of_derived_date_with_one_event_each(env):
    hall, who = env
    mon = datetime(2026, 6, 8, 9)
    joint_no, _ = _copy(hall, who, mon)
    proxy_no = register(hall, who["c03"], "19", mon)
    rated = register(hall, who["c02"], "09", mon)
    paused = register(hall, who["c02"], "09", mon)
    pad = rating_pad(hall, "W02评价器")
    with hall.db.transaction() as s:
        proxy.forward(s, who["c03"], proxy_no, "县社保中心", dept_days=5, now=mon)
        workflow.close(s, who["c02"], rated, "approved", "同意救助", now=mon)  # closure follow-up: 6/15
        invite = ratings.request_rating(s, who["c02"], rated, "closure", now=mon)
        ratings.rate(s, pad, invite.token, 2, "等了很久", now=mon)  # rectification + its follow-up
        complaints.register(s, who["c03"], "窗口人员态度生硬", "现场", ticket_number=rated, now=mon)
        appointments.book(s, who["c03"], "c02", D(2026, 6, 10), "张三", now=mon)
        first = catalog.current_item(s, "09").materials[0]["name"]
        supplement.request(s, who["c02"], paused, [first], ["村委会出具的情况说明"], now=mon)  # 5 日 → Mon 6/15
        # 信访: a 移交 whose organ answers in 4 日 (Fri 6/12); its 受理告知 date (6/23) is outside the festival
        pet = petition.register_new(s, who["m01"], intake.IntakeForm("68", ZHANG, all_received(s, "68")), "c02",
                                    now=mon)
        petition_steps.transfer(s, who["m01"], tickets.by_uid(s, pet.ticket_uid).number, "县司法局", "示信移1号",
                                rule=DateRule(4, "day"), now=mon)

    def values(s):
        return {
            "joint_copy": [(c.due_on, c.due_provisional) for c in s.scalars(select(JointCopy))],
            "proxy_leg": [leg.dept_due_on for leg in s.scalars(select(ProxyLeg))],
            "rectification": [r.due_on for r in s.scalars(select(Rectification))],
            "complaint": [k.due_on for k in s.scalars(select(Complaint))],
            "followup": sorted((f.reason, f.due_on) for f in s.scalars(select(FollowUp))),
            "appointment": [a.on_day for a in s.scalars(select(Appointment))],
            "supplement": [r.due_on for r in s.scalars(select(SupplementRequest))],
        }

    with hall.db.transaction() as s:
        before = values(s)
        assert before["supplement"] == [D(2026, 6, 15)] and before["appointment"] == [D(2026, 6, 10)]
        seen = s.scalar(select(Event.id).order_by(Event.id.desc()).limit(1))
        # A local festival Wed 6/10 – Mon 6/15 (weekdays 6/10, 6/11, 6/12, 6/15 stop being worked).
        recalc.add_local_holiday(s, who["admin"], D(2026, 6, 10), "地方节日（测试）", end=D(2026, 6, 15))
    with hall.db.transaction() as s:
        after = values(s)
        new = [e.type for e in s.scalars(select(Event).where(Event.id > seen))]
        cal = clock.calendar_for(s)
        again = rederive.rederive_all(s, who["admin"], why="再算一次")
    counts = Counter(new)
    assert {t: counts[t] for t in rederive.EVENTS.values()} == {
        "joint.due_changed": 1, "proxy.due_changed": 1, "rectification.due_changed": 1,
        "complaint.due_changed": 1, "followup.due_changed": 2,  # the closure call and the 差评 call
        "appointment.moved": 1, "supplement.due_changed": 1, "petition.due_changed": 1}
    assert again == []  # derived again on the same calendar: nothing moves, nothing is written
    start = D(2026, 6, 8)
    assert after["joint_copy"] == [(derive(cal, start, DateRule(5))[0], False)] == [(D(2026, 6, 22), False)]
    assert after["proxy_leg"] == [D(2026, 6, 22)]
    assert after["supplement"] == [D(2026, 6, 16)]  # 5 日 = Sat 6/13 → Mon 6/15 was; now Tue 6/16
    with hall.db.transaction() as s:
        assert [x.due_on for x in s.scalars(select(PetitionTransfer))] == [D(2026, 6, 16)]
    assert after["appointment"] == [D(2026, 6, 16)]
    assert after["rectification"] == after["complaint"] == [derive(cal, start, DateRule(15))[0]]
    assert after["followup"] == sorted([("closure", D(2026, 6, 16)), ("poor_rating", after["rectification"][0])])
    for kind in before:
        assert after[kind] != before[kind], kind
    with hall.db.transaction() as s:
        line = tickets.history(s, tickets.get(s, joint_no))[-1]
        assert line.type == "joint.due_changed" and "2026-06-15 → 2026-06-22" in line.text
    report = ledger_check.check(hall.db, limit=10)
    assert report.ok, report.comparison.differences if report.comparison else report.replay_error


def test_a_joint_copy_moves_with_a_local_holiday_and_is_deemed_only_after_the_new_deadline(env):
    hall, who = env
    _number, copy_id = _copy(hall, who, datetime(2026, 6, 1, 10))  # Mon: 5 working days → Mon 6/8
    with hall.db.transaction() as s:
        assert s.get(JointCopy, copy_id).due_on == D(2026, 6, 8)
        recalc.add_local_holiday(s, who["admin"], D(2026, 6, 3), "三月三（测试）")
        assert s.get(JointCopy, copy_id).due_on == D(2026, 6, 9)
    with hall.db.transaction() as s:
        # The old deadline has passed, the department still has today: nobody is deemed, nobody accused.
        assert daily.run(s, hall.system, D(2026, 6, 9)).deemed_consents == 0
    with hall.db.transaction() as s:
        (c,) = joint.sweep_deemed_consent(s, hall.system, D(2026, 6, 10))
        assert (c.due_on, c.deemed_on, c.swept_on) == (D(2026, 6, 9), D(2026, 6, 10), D(2026, 6, 10))
        assert s.get(JointCopy, copy_id).opinion == "逾期未回复，自 2026-06-10 起视为认可"


def test_deemed_consent_when_the_daily_rules_run_three_days_late(env):
    hall, who = env
    number, copy_id = _copy(hall, who, datetime(2026, 3, 2, 10))  # due Mon 3/9: consent from Tue 3/10
    with hall.db.transaction() as s:
        report = daily.run(s, hall.system, D(2026, 3, 13))  # the hall PC was off 3/10–3/12
        assert report.deemed_consents == 1
        c = s.get(JointCopy, copy_id)
        assert (c.state, c.answered_on) == ("deemed_consent", D(2026, 3, 10))
        assert c.opinion == "逾期未回复，自 2026-03-10 起视为认可（每日规则于 2026-03-13 登记）"
        (rec,) = [r for r in accountability.records(s) if r.cause == "deemed_consent"]
        assert rec.occurred_on == D(2026, 3, 10)
        assert "自 2026-03-10 起逾期视为认可，每日规则于 2026-03-13 登记" in rec.detail
        (line,) = [x for x in tickets.history(s, tickets.get(s, number)) if x.type == "joint.deemed_consent"]
        assert "自 2026-03-10 起视为认可，每日规则于 2026-03-13 登记" in line.text


def test_a_withdrawn_joint_case_is_not_swept(env):
    hall, who = env
    number, copy_id = _copy(hall, who, datetime(2026, 3, 2, 10))
    with hall.db.transaction() as s:
        workflow.withdraw(s, who["c05"], number, "申请人撤回申请", now=datetime(2026, 3, 4, 9))
    with hall.db.transaction() as s:
        report = daily.run(s, hall.system, D(2026, 3, 13))
        assert (report.deemed_consents, report.accountability) == (0, 0)
        assert s.get(JointCopy, copy_id).state == "pending"
        assert [r for r in accountability.records(s, state=None) if r.ticket_number == number] == []
        assert joint.deemed_consent_candidates(s, D(2026, 3, 13)) == []
