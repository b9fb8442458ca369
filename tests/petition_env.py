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
