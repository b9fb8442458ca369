"""Shared set-up for the 涉法信访 tests: the conftest hall plus a W10 clerk (c10) and a township leader (m02)."""

from __future__ import annotations

from datetime import datetime

from hall.services.catalog import items as catalog
from hall.services.people import staff
from hall.services.tickets import intake

PETITIONER = intake.ApplicantForm("person", "11010519491231002X", "张三", "13812345678", "东村3组")
ITEM = "68"  # 信访事项登记受理 (60 日, natural days)


def prepare(opened, people: dict) -> dict:
    with opened.db.transaction() as s:
        staff.add_staff(s, opened.system, staff.StaffForm("c10", "陈综治", "clerk", "综治信访窗口", "W10"))
        staff.add_staff(s, opened.system, staff.StaffForm("m02", "刘书记", "manager", "镇党委书记"))
        extra = {no: staff.actor_for(staff.by_number(s, no), opened.node) for no in ("c10", "m02")}
    return {**people, **extra}


def petition_form(session, applicant=PETITIONER) -> intake.IntakeForm:
    marks = {m["name"]: "received" for m in catalog.current_item(session, ITEM).materials}
    return intake.IntakeForm(ITEM, applicant, materials=marks)


def at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, 0)


def worked_case(opened, who: dict) -> str:
    """A 信访 case with an agent, 受理告知, 四定一包, a 移交 answered, feedback and a 公开听证 (2026-09/10)."""
    from datetime import date

    from hall.services.cases import petition, petition_steps
    from hall.services.cases.petition_steps import Participant
    from hall.services.tickets import record as tickets

    c10, m01 = who["c10"], who["m01"]
    with opened.db.transaction() as s:
        form = petition_form(s)
        form = intake.IntakeForm(form.item_code, form.applicant, form.materials,
                                 note="反映某建筑公司拖欠务工工资 3.2 万元")
        case = petition.register_new(s, c10, form, "c10", agents=(
            petition.AgentForm("李律师", "13900001111", "律师", True, "13205201810123456", "示例律师事务所"),),
            now=at(2026, 9, 18))
        number = tickets.by_uid(s, case.ticket_uid).number
        petition.decide_acceptance(s, c10, number, True, "属本机关职权范围，予以受理", now=at(2026, 9, 21))
        leg = petition_steps.transfer(s, c10, number, "县人力资源和社会保障局", "示信移〔2026〕7号",
                                      now=at(2026, 9, 21))
        petition.fix_four(s, m01, number, petition.FourFixed("m02", ("c10", "c02"), date(2026, 11, 10),
                                                             "约谈用人单位，督促补发拖欠工资"), now=at(2026, 9, 22))
        petition.give_feedback(s, c10, number, "电话", "已移交县人社局，正在核查用工情况", now=at(2026, 9, 28))
        petition_steps.transfer_answered(s, c10, leg.id, "人社监〔2026〕31号", "已立案查处，责令限期支付",
                                         now=at(2026, 10, 9))
        petition_steps.record_hearing(
            s, m01, number, "hearing", date(2026, 10, 20), "镇综治中心", "刘书记",
            [Participant("人大代表", "周代表", "镇人大"), Participant("法律专家", "吴教授", "县法律顾问团"),
             Participant("律师", "李律师", "示例律师事务所"), Participant("当事人", "张三"),
             Participant("当事人近亲属", "张小三")],
            "信访人陈述诉求；用人单位说明欠薪原因；法律专家释法明理。", "用人单位同意11月5日前付清拖欠工资。",
            now=at(2026, 10, 20))
    return number
