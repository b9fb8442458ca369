"""Shared set-up for the case-workflow tests: the conftest hall plus a W05 clerk and a W09 clerk, and helpers.

The workflow tables are not in the migration yet, so they are created on the opened database here.
"""

from __future__ import annotations

from datetime import datetime

from hall.models.base import Base
from hall.services.catalog import items as catalog
from hall.services.people import staff
from hall.services.tickets import intake

ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张三", "13812345678", "东村3组")
LI = intake.ApplicantForm("person", "440524188001010014", "李四", "13900001111", "西村1组")


def prepare(opened, people: dict) -> dict:
    """Create the workflow tables; add c05 (W05, B-post c02) and c09 (W09); return actors by staff number."""
    Base.metadata.create_all(opened.db.engine)
    with opened.db.transaction() as s:
        staff.add_staff(s, opened.system, staff.StaffForm("c05", "周卫健", "clerk", "卫健窗口", "W05",
                                                          b_post_no="c02"))
        staff.add_staff(s, opened.system, staff.StaffForm("c09", "吴村建", "clerk", "村建窗口", "W09"))
        extra = {no: staff.actor_for(staff.by_number(s, no), opened.node) for no in ("c05", "c09")}
    return {**people, **extra}


def all_received(session, code: str) -> dict[str, str]:
    return {m["name"]: "received" for m in catalog.current_item(session, code).materials}


def register(opened, actor, code: str, now: datetime, applicant=ZHANG) -> str:
    with opened.db.transaction() as s:
        form = intake.IntakeForm(code, applicant, materials=all_received(s, code))
        r = intake.register(s, actor, form, now=now)
    assert r.state == "accepted", r
    return r.number
