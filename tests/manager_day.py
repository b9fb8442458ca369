"""A small real ledger with hand-computed figures for the manager's dashboard, statistics and reports.

Built through the real services (intake.register, tickets.close, workflow.pause, ratings, attendance) on the
2026 calendar. "Today" is Wed 2026-12-16; the next working day Thu 2026-12-17; 2027 is not confirmed.

| ticket | item (window, limit) | accepted | due | at today |
|---|---|---|---|---|
| A | 03 (W01, 5 wd) by c02 | Mon 12-07 | Mon 12-14 | open, overdue 2 wd (12-15, 12-16) |
| B | 03 by c03 | Mon 11-30 | Mon 12-07 | open, overdue 7 wd |
| C | 03 by c02 | Wed 12-09 | Wed 12-16 | open, due today |
| D | 03 by c02 | Thu 12-10 | Thu 12-17 | open, due next working day |
| E | 02 (W01, 20 wd) by c03 | Wed 12-16 | 2027 | open, provisional |
| F | 03 by c02 | Tue 12-01 | (12-08) | paused 12-03: clock stopped, not overdue |
| M | 09 (W02, 15 wd) by c02 | Fri 11-20 | Fri 12-11 | open, overdue 3 wd |
| N | 09 by c02, material missing | — | — | open (补正), no due date |
| G | 11 (W02, immediate) by c02 | Wed 12-16 | 12-16 | closed on the spot today, on time |
| H | 03 by c02 | Tue 12-01 | Tue 12-08 | closed Thu 12-10, late (7 wd taken) |
| I | 03 by c02 | Wed 12-02 | Wed 12-09 | closed Fri 12-04, on time (2 wd); rated 不满意 12-07 |
| J | 03 by c02 | Mon 11-16 | | closed Wed 11-18, on time (2 wd) |
| K | 09 by c02, refused | — | — | refused Thu 12-03 |

And c03 is marked absent today by the manager, so c02 (c03's B-post) stands in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from hall_fixtures import rating_pad

from hall.models.base import Base
from hall.services.cases import bposts, workflow
from hall.services.catalog import items as catalog
from hall.services.registers import ratings
from hall.services.tickets import intake

TODAY = date(2026, 12, 16)
NEXT_WORKDAY = date(2026, 12, 17)
ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张三丰", "13812345678", "江苏省示例镇东村3组12号")


@dataclass(frozen=True)
class Built:
    numbers: dict[str, str]


def _all(session, code):
    return {m["name"]: "received" for m in catalog.current_item(session, code).materials}


def build(opened, people) -> Built:
    Base.metadata.create_all(opened.db.engine)  # no-op once the migration has the workflow tables
    c02, c03, m01 = people["c02"], people["c03"], people["m01"]
    numbers: dict[str, str] = {}

    def reg(name, actor, code, when, **kw):
        with opened.db.transaction() as s:
            materials = kw.pop("materials", None) or _all(s, code)
            form = intake.IntakeForm(code, ZHANG, materials=materials, **kw)
            numbers[name] = intake.register(s, actor, form, now=when).number

    def at(d: date, hour: int = 10) -> datetime:
        return datetime(d.year, d.month, d.day, hour, 0)

    reg("A", c02, "03", at(date(2026, 12, 7)))
    reg("B", c03, "03", at(date(2026, 11, 30)))
    reg("C", c02, "03", at(date(2026, 12, 9)))
    reg("D", c02, "03", at(date(2026, 12, 10)))
    reg("E", c03, "02", at(TODAY, 9))
    reg("F", c02, "03", at(date(2026, 12, 1)))
    reg("M", c02, "09", at(date(2026, 11, 20)))
    with opened.db.transaction() as s:
        marks = _all(s, "09")
        marks[next(iter(marks))] = "missing"
    reg("N", c02, "09", at(date(2026, 12, 14)), materials=marks)
    reg("G", c02, "11", at(TODAY, 11))
    reg("H", c02, "03", at(date(2026, 12, 1), 11))
    reg("I", c02, "03", at(date(2026, 12, 2)))
    reg("J", c02, "03", at(date(2026, 11, 16)))
    reg("K", c02, "09", at(date(2026, 12, 3)), decision="refuse", refusal_reason="不属于本中心受理范围")

    with opened.db.transaction() as s:
        workflow.pause(s, c02, numbers["F"], "等待申请人补交材料", now=at(date(2026, 12, 3)))
    for name, day in (("H", date(2026, 12, 10)), ("I", date(2026, 12, 4)), ("J", date(2026, 11, 18))):
        with opened.db.transaction() as s:
            workflow.close(s, c02, numbers[name], "approved", "已办结", now=at(day, 15))
    channel = rating_pad(opened)
    with opened.db.transaction() as s:
        invite = ratings.request_rating(s, c02, numbers["I"], "closure", now=at(date(2026, 12, 4), 15))
    with opened.db.transaction() as s:
        ratings.rate(s, channel, invite.token, 2, "等候时间太长", now=at(date(2026, 12, 7), 9))
    with opened.db.transaction() as s:
        bposts.mark_attendance(s, m01, "c03", "absent", day=TODAY, note="病假", now=at(TODAY, 8))
        bposts.mark_attendance(s, m01, "c02", "present", day=TODAY, now=at(TODAY, 8))
    return Built(numbers)
