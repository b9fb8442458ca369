"""The state machine, the clock actions, routing and the permission of each action by role (2026 calendar)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from workflow_env import prepare, register

from hall.errors import ConflictError, PermissionDenied, ValidationError
from hall.models import Event
from hall.services.calendar import clock
from hall.services.cases import routing, workflow
from hall.services.storage import ledger
from hall.services.tickets import intake, rules
from hall.services.tickets import record as tickets

D = date


@pytest.fixture
def env(hall_db, people):
    return hall_db, prepare(hall_db, people)


def test_legal_and_illegal_transitions(env):
    hall, who = env
    number = register(hall, who["c02"], "09", datetime(2026, 3, 2, 9))  # 临时救助, promised, W02
    with hall.db.transaction() as s:
        t = tickets.get(s, number)
        assert "start" in rules.allowed_actions(s, who["c02"], t, now=datetime(2026, 3, 2, 9))
        assert rules.allowed_actions(s, who["c03"], t, now=datetime(2026, 3, 2, 9)) == []
        with pytest.raises(ConflictError, match="只适用于代办件"):
            rules.check_transition(t, "forward")
        with pytest.raises(ConflictError, match="不能送达"):
            workflow.deliver(s, who["c02"], number, "当面领取", "张三", now=datetime(2026, 3, 2, 10))
        workflow.start(s, who["c02"], number, now=datetime(2026, 3, 2, 10))
        assert tickets.get(s, number).state == "in_progress"
        with pytest.raises(ConflictError, match="办理中"):
            workflow.start(s, who["c02"], number, now=datetime(2026, 3, 2, 11))
        with pytest.raises(ConflictError):  # optimistic version check
            workflow.withdraw(s, who["c02"], number, "申请人撤回申请", expected_version=1,
                              now=datetime(2026, 3, 2, 11))
        workflow.close(s, who["c02"], number, "approved", "同意救助", now=datetime(2026, 3, 3, 10))
        with pytest.raises(ConflictError, match="不能撤回"):
            workflow.withdraw(s, who["c02"], number, "申请人撤回申请", now=datetime(2026, 3, 3, 11))
        workflow.deliver(s, who["c02"], number, "邮寄送达", "张三", now=datetime(2026, 3, 4, 10))
    other = register(hall, who["c02"], "09", datetime(2026, 3, 2, 9), )
    with hall.db.transaction() as s:
        workflow.withdraw(s, who["c02"], other, "申请人撤回申请", now=datetime(2026, 3, 5, 9))
        t = tickets.get(s, other)
        assert (t.state, t.is_open) == ("withdrawn", False)


def test_clock_pause_special_step_and_extension(env):
    hall, who = env
    number = register(hall, who["c02"], "09", datetime(2026, 3, 2, 9))
    with hall.db.transaction() as s:
        t = tickets.get(s, number)
        item = intake.item_for_ticket(s, t)
        base = t.due_date
        assert base == D(2026, 3, 23)  # 15 wd after Mon 3/2
        change = workflow.pause(s, who["c02"], number, "补充收入证明", now=datetime(2026, 3, 4, 9))
        assert change.old_due == base
        with pytest.raises(ConflictError, match="已暂停"):
            workflow.pause(s, who["c02"], number, "again", now=datetime(2026, 3, 4, 10))
        with pytest.raises(ConflictError, match="恢复计时"):
            workflow.close(s, who["c02"], number, "approved", "x", now=datetime(2026, 3, 5, 9))
        change = workflow.resume(s, who["c02"], number, now=datetime(2026, 3, 9, 9))
        t = tickets.get(s, number)
        # Always derived by the engine from the recorded clock, never typed.
        assert change.new_due == t.due_date == clock.quick_due(clock.calendar_for(s), item, "promised",
                                                                D(2026, 3, 2), t.clock)[0]
        assert t.due_date > base
        with pytest.raises(ValidationError, match="特别程序"):
            workflow.special_start(s, who["c02"], number, "喝茶", now=datetime(2026, 3, 10, 9))
        workflow.special_start(s, who["c02"], number, "公示", "公示7日", now=datetime(2026, 3, 10, 9))
        assert tickets.get(s, number).state == "special"
        workflow.special_end(s, who["c02"], number, "公示无异议", now=datetime(2026, 3, 17, 9))
        assert tickets.get(s, number).state == "accepted"
        before = tickets.get(s, number).due_date
        with pytest.raises(PermissionDenied, match="中心主任"):
            workflow.extend(s, who["c02"], number, 5, "需入户核查", "c03", "clerk-pass-1", now=datetime(2026, 3, 18, 9))
        with pytest.raises(ValidationError, match="延期理由"):
            workflow.extend(s, who["c02"], number, 5, "", "m01", "manager-pass", now=datetime(2026, 3, 18, 9))
        change = workflow.extend(s, who["c02"], number, 5, "需入户核查", "m01", "manager-pass",
                                 now=datetime(2026, 3, 18, 9))
        assert change.old_due == before and change.new_due > before
        t = tickets.get(s, number)
        assert [e["kind"] for e in t.clock] == ["pause", "resume", "exclude_start", "exclude_end", "extend"]
        assert t.clock[-1]["approver"] == "赵主任"
        ev = ledger.history(s, t.uid)[-1]
        p = ledger.load_payload(ev)
        assert (ev.type, p["old_due"], p["new_due"]) == ("ticket.clock", before.isoformat(),
                                                         change.new_due.isoformat())


def test_transfer_keeps_the_first_owner_answerable_until_accepted(env):
    hall, who = env
    number = register(hall, who["c02"], "09", datetime(2026, 3, 2, 9))
    with hall.db.transaction() as s:
        with pytest.raises(PermissionDenied):
            routing.request_transfer(s, who["c03"], number, "W03", "不归我", "全部材料", now=datetime(2026, 3, 2, 10))
        routing.request_transfer(s, who["c02"], number, "W03", "属社保事项", "申请书等材料原件3份",
                                 now=datetime(2026, 3, 2, 10))
        t = tickets.get(s, number)
        assert (t.window_code, t.owner_id) == ("W02", who["c02"].staff_id)
        assert [v.ticket_number for v in routing.inbox(s, "W03")] == [number]
        with pytest.raises(PermissionDenied):
            routing.accept_transfer(s, who["c05"], number, now=datetime(2026, 3, 2, 11))
        with pytest.raises(ConflictError, match="待接收"):
            routing.request_transfer(s, who["c02"], number, "W05", "x理由", "材料", now=datetime(2026, 3, 2, 11))
        routing.decline_transfer(s, who["c03"], number, "不属于社保事项", now=datetime(2026, 3, 2, 11))
        assert tickets.get(s, number).window_code == "W02"
        routing.request_transfer(s, who["c02"], number, "W03", "经核实属社保事项", "材料3份",
                                 now=datetime(2026, 3, 3, 9))
        routing.accept_transfer(s, who["c03"], number, now=datetime(2026, 3, 3, 10))
        t = tickets.get(s, number)
        assert (t.window_code, t.owner_id, t.first_owner_id) == ("W03", who["c03"].staff_id, who["c02"].staff_id)
        with pytest.raises(PermissionDenied):
            workflow.start(s, who["c02"], number, now=datetime(2026, 3, 3, 11))
        workflow.start(s, who["c03"], number, now=datetime(2026, 3, 3, 11))


def test_collective_study_does_not_stop_the_clock(env):
    hall, who = env
    number = register(hall, who["c02"], "09", datetime(2026, 3, 2, 9))
    with hall.db.transaction() as s:
        base = tickets.get(s, number).due_date
        routing.escalate(s, who["c02"], number, "救助金额超出窗口权限", now=datetime(2026, 3, 3, 9))
        t = tickets.get(s, number)
        assert (t.state, t.due_date, t.clock) == ("escalated", base, [])
        with pytest.raises(PermissionDenied):
            routing.decide(s, who["c02"], number, "同意", "党政联席会", now=datetime(2026, 3, 10, 9))
        change = routing.decide(s, who["m01"], number, "同意按最高标准救助", "2026年第5次党政联席会议",
                                now=datetime(2026, 3, 10, 9))
        t = tickets.get(s, number)
        assert t.state == "accepted"
        # 15 working days from 2026-03-02 whatever the meeting took: the promise did not move by itself.
        assert change.new_due == t.due_date == base == D(2026, 3, 23)
        (_, esc), = routing.escalations(s, state="decided")
        assert (esc.meeting, esc.decided_by) == ("2026年第5次党政联席会议", "赵主任")


def test_collective_study_needing_more_time_goes_through_the_extension(env):
    hall, who = env
    number = register(hall, who["c02"], "09", datetime(2026, 3, 2, 9))
    with hall.db.transaction() as s:
        routing.escalate(s, who["c02"], number, "救助金额超出窗口权限", now=datetime(2026, 3, 3, 9))
        change = workflow.extend(s, who["c02"], number, 5, "待党政联席会议研究", "m01", "manager-pass",
                                 now=datetime(2026, 3, 4, 9))
        assert (change.old_due, change.new_due) == (D(2026, 3, 23), D(2026, 3, 30))
        assert tickets.get(s, number).state == "escalated"
        with pytest.raises(ValidationError, match="延长合计不得超过 7 个工作日"):  # 15 → at most 7 more (§42)
            workflow.extend(s, who["c02"], number, 3, "再议", "m01", "manager-pass", now=datetime(2026, 3, 5, 9))


def test_permissions_by_role(env):
    hall, who = env
    number = register(hall, who["c02"], "09", datetime(2026, 3, 2, 9))
    with hall.db.transaction() as s:
        for actor in (who["c03"], who["v01"]):
            for action in (lambda a: workflow.start(s, a, number, now=datetime(2026, 3, 2, 10)),
                           lambda a: workflow.pause(s, a, number, "x", now=datetime(2026, 3, 2, 10)),
                           lambda a: workflow.withdraw(s, a, number, "撤回理由", now=datetime(2026, 3, 2, 10)),
                           lambda a: workflow.close(s, a, number, "approved", "x", now=datetime(2026, 3, 2, 10))):
                with pytest.raises(PermissionDenied):
                    action(actor)
        workflow.start(s, who["m01"], number, now=datetime(2026, 3, 2, 10))  # the manager may act on any
        t = tickets.get(s, number)
        assert [e.actor_role for e in ledger.history(s, t.uid)] == ["clerk", "manager"]
        assert s.query(Event).filter(Event.ticket_uid == t.uid).count() == 2


def test_change_kind_rederives_the_deadline(env):
    hall, who = env
    number = register(hall, who["c02"], "09", datetime(2026, 3, 2, 9))
    with hall.db.transaction() as s:
        with pytest.raises(ValidationError, match="变更原因"):
            workflow.change_kind(s, who["c02"], number, "immediate", "", now=datetime(2026, 3, 2, 10))
        workflow.change_kind(s, who["c02"], number, "immediate", "材料齐全可当场办结", now=datetime(2026, 3, 2, 10))
        t = tickets.get(s, number)
        assert (t.kind, t.due_date) == ("immediate", D(2026, 3, 2))
