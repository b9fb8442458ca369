"""涉法信访 on the ticket engine: a case from registration to 回访 with the 2026 calendar, every derived date by the
one rule (natural days moved off holidays), the natural-day extension, and the case's own records."""

from __future__ import annotations

from datetime import date

import pytest
from hall_fixtures import PASSWORDS
from petition_env import at, petition_form, prepare
from sqlalchemy import func, select

from hall.errors import ConflictError, PermissionDenied, ValidationError
from hall.models import Event
from hall.models.petition import PetitionAgent, PetitionCase, PetitionFollowUp
from hall.services.cases import petition, petition_steps, recalc, workflow
from hall.services.cases.petition_steps import Participant
from hall.services.storage import ledger
from hall.services.tickets import record as tickets

D = date


@pytest.fixture
def env(hall_sqlite):
    from hall_fixtures import actors_of

    return hall_sqlite, prepare(hall_sqlite, actors_of(hall_sqlite))


def test_a_petition_from_registration_to_followup_on_the_2026_calendar(env):
    opened, who = env
    c10, m01 = who["c10"], who["m01"]
    db = opened.db
    # Registered Fri 2026-09-18: 受理告知 within 15 日 → Sat 10-03, inside 国庆 (10-01…10-07): moved to Thu 10-08.
    with db.transaction() as s:
        case = petition.register_new(s, c10, petition_form(s), "c10", agents=(
            petition.AgentForm("李律师", "13900001111", "律师", True, "13205201810123456", "示例律师事务所"),
            petition.AgentForm("张小三", "13900002222", "近亲属（子）")), now=at(2026, 9, 18))
        assert (case.accept_due_on, case.accept_provisional) == (D(2026, 10, 8), False)
        t = tickets.by_uid(s, case.ticket_uid)
        number = t.number
        # 办结 60 日: 09-18 + 60 = Tue 11-17, a working day.
        assert (t.kind, t.due_date) == ("promised", D(2026, 11, 17))
        assert s.scalar(select(func.count()).select_from(PetitionAgent)) == 2
    with db.transaction() as s, pytest.raises(ConflictError, match="不超过 2 人"):
        petition.add_agent(s, c10, number, petition.AgentForm("王五", "13900003333", "朋友"))
    with db.transaction() as s, pytest.raises(ValidationError, match="17 位数字"):
        petition.check_agent(petition.AgentForm("赵律师", "13900004444", "律师", True, "1234", "某所"))
    with db.transaction() as s:
        petition.decide_acceptance(s, c10, number, True, "属本机关职权范围，予以受理", now=at(2026, 9, 21))
        # 移交 on Mon 09-21 + 15 日 = Tue 10-06 (国庆) → Thu 10-08.
        leg = petition_steps.transfer(s, c10, number, "县人力资源和社会保障局", "示信移〔2026〕7号",
                                      now=at(2026, 9, 21))
        assert (leg.due_on, leg.due_provisional) == (D(2026, 10, 8), False)
        leg_id = leg.id
    with db.transaction() as s, pytest.raises(PermissionDenied):
        petition.fix_four(s, c10, number, petition.FourFixed("m02", ("c10",), D(2026, 11, 10), "约谈用人单位"))
    with db.transaction() as s:
        petition.fix_four(s, m01, number, petition.FourFixed("m02", ("c10", "c02"), D(2026, 11, 10),
                                                             "约谈用人单位，督促补发拖欠工资"), now=at(2026, 9, 22))
        petition.give_feedback(s, c10, number, "电话", "已移交县人社局，正在核查用工情况", now=at(2026, 9, 28))
        petition_steps.transfer_answered(s, c10, leg_id, "人社监〔2026〕31号", "已立案查处，责令限期支付",
                                         now=at(2026, 10, 9))
        h = petition_steps.record_hearing(
            s, m01, number, "hearing", D(2026, 10, 20), "镇综治中心", "刘书记",
            [Participant("人大代表", "周代表"), Participant("法律专家", "吴教授", "县法律顾问团"),
             Participant("当事人", "张三"), Participant("当事人近亲属", "张小三")],
            "信访人陈述诉求；用人单位说明欠薪原因；专家释法", "用人单位同意11月5日前付清", now=at(2026, 10, 20))
        assert [p["role"] for p in h.participants][:2] == ["人大代表", "法律专家"]
    with db.transaction() as s, pytest.raises(ValidationError, match="人大代表、政协委员、法律专家或律师"):
        petition_steps.record_hearing(s, m01, number, "hearing", D(2026, 10, 20), "镇综治中心", "刘书记",
                                      [Participant("当事人", "张三")], "记录", "结论", now=at(2026, 10, 21))
    # The extension counts in the item's natural days, capped at 30 日 (half of 60): 60 + 30 = 90 日 → Thu 12-17.
    with db.transaction() as s, pytest.raises(ValidationError, match="不得超过 30 日"):
        workflow.extend(s, c10, number, 31, "需等待劳动仲裁结果", "m01", PASSWORDS["m01"],
                        now=at(2026, 11, 2))
    with db.transaction() as s:
        workflow.extend(s, c10, number, 30, "需等待劳动仲裁结果", "m01", PASSWORDS["m01"],
                        now=at(2026, 11, 2))
        assert tickets.get(s, number).due_date == D(2026, 12, 17)
    with db.transaction() as s:
        workflow.close(s, c10, number, "approved", "拖欠工资已付清，信访人表示满意", now=at(2026, 11, 10))
    with db.transaction() as s, pytest.raises(ConflictError, match="已办结"):
        petition.give_feedback(s, c10, number, "电话", "再次反馈", now=at(2026, 11, 11))
    # 回访 by rule from the closure day (Tue 11-10): +30 日 = Thu 12-10; +90 日 = Mon 2027-02-08 — 2027 is not a
    # confirmed year in this hall, so that one is 暂定.
    with db.transaction() as s:
        visits = petition_steps.schedule_followups(s, c10, number, now=at(2026, 11, 10))
        assert [(v.due_on, v.due_provisional) for v in visits] == [(D(2026, 12, 10), False), (D(2027, 2, 8), True)]
    # A local holiday on 12-10 moves the first 回访 (one petition.due_changed) and nothing else of this case.
    with db.transaction() as s:
        before = s.scalar(select(func.count()).select_from(Event).where(Event.type == "petition.due_changed"))
        recalc.add_local_holiday(s, opened.system, D(2026, 12, 10), "本镇民俗节")
    with db.transaction() as s:
        moved = list(s.scalars(select(Event).where(Event.type == "petition.due_changed")))
        assert len(moved) - before == 1 and ledger.load_payload(moved[-1])["new"] == "2026-12-11"
        first = s.scalars(select(PetitionFollowUp).order_by(PetitionFollowUp.seq)).first()
        assert first.due_on == D(2026, 12, 11)
        petition_steps.record_followup(s, c10, first.id, "当面", "工资已足额到账，无新诉求", True, now=at(2026, 12, 11))
    with db.transaction() as s, pytest.raises(ConflictError, match="已于"):
        petition_steps.record_followup(s, c10, first.id, "当面", "再次", True, now=at(2026, 12, 11))
    with db.transaction() as s:
        labels = " ".join(line.text for line in tickets.history(s, tickets.get(s, number)))
    for label in ("信访事项登记", "登记信访代理人", "信访受理告知", "信访事项移交", "四定一包", "信访进展反馈",
                  "移交机关答复", "公开听证（答询）", "安排信访回访", "信访期限随日历调整", "信访回访"):
        assert label in labels


def test_not_accepted_closes_the_ticket_and_a_calendar_change_moves_the_accept_deadline(env):
    opened, who = env
    c10 = who["c10"]
    with opened.db.transaction() as s:
        case = petition.register_new(s, c10, petition_form(s), "c10", now=at(2026, 12, 14))
        # 12-14 + 15 日 = Tue 12-29.
        assert case.accept_due_on == D(2026, 12, 29)
        number = tickets.by_uid(s, case.ticket_uid).number
    with opened.db.transaction() as s:
        recalc.add_local_holiday(s, opened.system, D(2026, 12, 29), "本镇民俗节")
    with opened.db.transaction() as s:
        assert s.scalars(select(PetitionCase)).one().accept_due_on == D(2026, 12, 30)
        petition.decide_acceptance(s, c10, number, False, "已经人民法院判决，依法不予受理", now=at(2026, 12, 15))
    with opened.db.transaction() as s:
        t = tickets.get(s, number)
        assert (t.is_open, t.state) == (False, "closed_rejected")
        assert s.scalars(select(PetitionCase)).one().accept_state == "not_accepted"
    with opened.db.transaction() as s, pytest.raises(ConflictError):
        petition_steps.transfer(s, c10, number, "县法院", "示信移〔2026〕8号", now=at(2026, 12, 16))


def test_only_a_petition_item_opens_a_case(env):
    opened, who = env
    from workflow_env import register

    number = register(opened, who["c02"], "02", at(2026, 3, 2))
    with opened.db.transaction() as s, pytest.raises(ValidationError, match="不是信访事项"):
        petition.register(s, who["m01"], number, "c10", now=at(2026, 3, 2))


def test_a_petition_closed_from_the_ordinary_detail_gets_its_followups_from_the_daily_rules(env):
    from hall.services.cases import daily

    opened, who = env
    c10 = who["c10"]
    with opened.db.transaction() as s:
        case = petition.register_new(s, c10, petition_form(s), "c10", now=at(2026, 9, 18))
        number = tickets.by_uid(s, case.ticket_uid).number
        petition.decide_acceptance(s, c10, number, True, "属本机关职权范围，予以受理", now=at(2026, 9, 21))
        workflow.close(s, c10, number, "approved", "已化解", now=at(2026, 11, 10))  # not 办结并安排回访
        assert s.scalar(select(func.count()).select_from(PetitionFollowUp)) == 0
    with opened.db.transaction() as s:
        report = daily.run(s, opened.system, D(2026, 11, 11))
    assert report.petition_followups == 1 and any("信访件回访已排期：1 件" in line for line in report.lines())
    with opened.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(PetitionFollowUp)) == 2  # +30 and +90 日
        assert daily.run(s, opened.system, D(2026, 11, 12)).petition_followups == 0  # scheduled once
    report = daily.run_batched(opened.db, opened.system, D(2026, 11, 13))
    assert report.petition_followups == 0
