"""Joint tickets on the 2026 calendar: one department agrees, one is silent and deemed to consent, one disagrees."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select
from workflow_env import prepare, register

from hall.errors import ConflictError, PermissionDenied
from hall.models import Event
from hall.services.cases import joint, workflow
from hall.services.registers import accountability
from hall.services.storage import ledger
from hall.services.tickets import record as tickets

D = date


@pytest.fixture
def env(hall_db, people):
    return hall_db, prepare(hall_db, people)


def test_joint_answered_deemed_and_disagreeing(env):
    hall, who = env
    # 新生儿出生一件事 (item 37, W05): lead 镇卫健办, three co-departments.
    number = register(hall, who["c05"], "37", datetime(2026, 3, 2, 9, 30))  # Monday
    with hall.db.transaction() as s:
        copies = joint.copy(s, who["c05"], number, [
            joint.CopyRequest("县医保中心", asked="核定参保"),
            joint.CopyRequest("县人社局（社保卡）", higher_review=True, asked="制卡"),
            joint.CopyRequest("派出所户籍室", asked="出生登记"),
        ], now=datetime(2026, 3, 2, 10))
        assert tickets.get(s, number).state == "awaiting_opinions"
    due = {c.department: c.due_on for c in copies}
    # 5 working days from the copy day (not counted): Tue 3/3 … Mon 3/9; +3 for a higher review → Thu 3/12.
    assert due == {"县医保中心": D(2026, 3, 9), "县人社局（社保卡）": D(2026, 3, 12), "派出所户籍室": D(2026, 3, 9)}
    ids = {c.department: c.id for c in copies}

    with hall.db.transaction() as s:
        joint.record_opinion(s, who["c05"], ids["县医保中心"], "agree", "", "医保中心刘某",
                             now=datetime(2026, 3, 5, 15))
        # A clerk of another window cannot record the opinion of a county department.
        with pytest.raises(PermissionDenied):
            joint.record_opinion(s, who["c03"], ids["派出所户籍室"], "agree", "", "x", now=datetime(2026, 3, 6, 9))
        joint.record_opinion(s, who["c05"], ids["派出所户籍室"], "disagree", "出生医学证明姓名与户口簿不一致",
                             "户籍民警陈某", now=datetime(2026, 3, 6, 11))
        t = tickets.get(s, number)
        # The disagreement goes back to the lead at once, with its reasons.
        assert t.state == "in_progress"
        st = joint.status(s, t)
        assert st.pending == ("县人社局（社保卡）",)
        assert st.objections == ("派出所户籍室不同意：出生医学证明姓名与户口簿不一致",)
        with pytest.raises(ConflictError, match="未回复"):
            workflow.close(s, who["c05"], number, "approved", "办结", now=datetime(2026, 3, 6, 16))

    # The sweep on the deadline day does nothing: the deadline is the close of that day.
    with hall.db.transaction() as s:
        assert joint.sweep_deemed_consent(s, hall.system, D(2026, 3, 12)) == []
    with hall.db.transaction() as s:
        with pytest.raises(PermissionDenied):
            joint.sweep_deemed_consent(s, who["c05"], D(2026, 3, 13))
        deemed = joint.sweep_deemed_consent(s, hall.system, D(2026, 3, 13))
        assert [(d.department, d.due_on, d.deemed_on) for d in deemed] == [
            ("县人社局（社保卡）", D(2026, 3, 12), D(2026, 3, 13))]
        # Idempotent, and a late answer is refused: the department is already deemed to consent.
        assert joint.sweep_deemed_consent(s, hall.system, D(2026, 3, 14)) == []
        with pytest.raises(ConflictError, match="视为认可"):
            joint.record_opinion(s, who["c05"], ids["县人社局（社保卡）"], "agree", "", "x",
                                 answered_on=D(2026, 3, 13), now=datetime(2026, 3, 13, 10))
        t = tickets.get(s, number)
        st = joint.status(s, t)
        assert st.complete and st.deemed == ("县人社局（社保卡）",) and st.agreed == ("县医保中心",)
        # A distinct, visible event on the ticket, and an accountability record against the department.
        ev = s.scalars(select(Event).where(Event.ticket_uid == t.uid, Event.type == "joint.deemed_consent")).one()
        assert ev.actor_role == "system"
        assert "逾期视为认可" in [h.text.split("：")[0] for h in tickets.history(s, t)]
        recs = accountability.records(s)
        assert [(r.cause, r.department, r.ticket_number) for r in recs] == [
            ("deemed_consent", "县人社局（社保卡）", number)]
        # Disagreement blocks approval even though everyone has answered.
        with pytest.raises(ConflictError, match="不同意"):
            workflow.close(s, who["c05"], number, "approved", "办结", now=datetime(2026, 3, 13, 11))

    # The lead fixes the papers and copies the police desk again (round 2), which now agrees.
    with hall.db.transaction() as s:
        again = joint.copy(s, who["c05"], number, [joint.CopyRequest("派出所户籍室", asked="已更正姓名")],
                           now=datetime(2026, 3, 16, 9))
        assert again[0].round == 2 and again[0].due_on == D(2026, 3, 23)
        joint.record_opinion(s, who["c05"], again[0].id, "agree", "已登记", "户籍民警陈某",
                             now=datetime(2026, 3, 17, 9))
        t = tickets.get(s, number)
        assert t.state == "in_progress" and joint.status(s, t).objections == ()
        assert [c.state for c in joint.history(s, t)] == ["agree", "deemed_consent", "superseded", "agree"]
        workflow.close(s, who["c05"], number, "approved", "出生登记、参保、制卡均已办结",
                       now=datetime(2026, 3, 17, 15))
        assert tickets.get(s, number).state == "closed_approved"


def test_township_office_clerk_records_its_own_opinion(env):
    hall, who = env
    # 农村危房改造 (item 62, W09): co-departments 镇民政办(W02) and 镇农业农村办(W08).
    number = register(hall, who["c09"], "62", datetime(2026, 4, 7, 9))
    with hall.db.transaction() as s:
        copies = {c.department: c for c in joint.copy(s, who["c09"], number, now=datetime(2026, 4, 7, 10))}
        assert set(copies) == {"镇民政办(W02)", "镇农业农村办(W08)"}
        # 4/7 + 5 working days, across no holiday → Tue 4/14.
        assert copies["镇民政办(W02)"].due_on == D(2026, 4, 14)
        joint.record_opinion(s, who["c02"], copies["镇民政办(W02)"].id, "needs_more", "请补充低保认定文件",
                             "民政办王某", now=datetime(2026, 4, 8, 9))
        with pytest.raises(PermissionDenied):
            joint.record_opinion(s, who["c02"], copies["镇农业农村办(W08)"].id, "agree", "", "x",
                                 now=datetime(2026, 4, 8, 9))
        with pytest.raises(ConflictError, match="未回复"):
            workflow.close(s, who["c09"], number, "rejected", "不予改造", now=datetime(2026, 4, 8, 10))


def test_copy_is_only_for_joint_tickets_and_the_lead(env):
    hall, who = env
    number = register(hall, who["c05"], "37", datetime(2026, 3, 2, 9, 30))
    with hall.db.transaction() as s:
        with pytest.raises(PermissionDenied):
            joint.copy(s, who["c03"], number, now=datetime(2026, 3, 2, 10))
        with pytest.raises(Exception, match="主办部门"):
            joint.copy(s, who["c05"], number, [joint.CopyRequest("镇卫健办(W05)")], now=datetime(2026, 3, 2, 10))
        joint.copy(s, who["m01"], number, now=datetime(2026, 3, 2, 10))
        with pytest.raises(ConflictError):
            joint.copy(s, who["c05"], number, [joint.CopyRequest("县医保中心")], now=datetime(2026, 3, 3, 10))
        events = [e.type for e in ledger.history(s, tickets.get(s, number).uid)]
        assert events == ["ticket.received", "joint.copied"]
