"""The walkthrough's 涉法信访 part: a 信访 case from registration to 回访, and the leaders' reception schedule.

Called by :mod:`hall.demo.walkthrough` with its own one-action-per-transaction runner (``do``), its clock (``at``)
and its citizens, so every petition event type is in the walked ledger: registration with a lawyer agent, the
受理告知, a 移交 answered, 四定一包, progress feedback, a 公开听证, a 点名约访, closure, 回访 scheduled and one made;
a reception slot posted, one booking kept and one cancelled; and (:func:`around`) a 移交 whose answer date a local
holiday moves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from hall.services.base.actor import Actor
from hall.services.calendar.derived import DateRule
from hall.services.cases import petition, petition_steps, workflow
from hall.services.cases.petition_steps import Participant
from hall.services.catalog import items as catalog
from hall.services.registers import appointments, reception
from hall.services.tickets import intake
from hall.services.tickets import record as tickets

T = TypeVar("T")
Do = Callable[[Callable[[Session], T]], T]
ITEM = "68"  # 信访事项登记受理 in the default catalogue


def _open_case(do: Do[Any], clerk: Actor, owner_no: str, applicant: intake.ApplicantForm, matter: str,
               when: datetime, agents: tuple[petition.AgentForm, ...] = ()) -> str:
    def go(s: Session) -> str:
        marks = {m["name"]: "received" for m in catalog.current_item_view(s, ITEM).materials}
        form = intake.IntakeForm(ITEM, applicant, marks, note=matter)
        case = petition.register_new(s, clerk, form, owner_no, agents=agents, now=when)
        return tickets.by_uid(s, case.ticket_uid).number

    return do(go)


class Days:
    """The dated part, one step per working day of ``d`` (the walkthrough calls :meth:`day` inside each day's
    block, so the ledger stays in time order); :attr:`numbers` are the tickets it registered."""

    def __init__(self, do: Do[Any], at: Callable[[date], datetime], person: Callable[[], intake.ApplicantForm],
                 clerk: Actor, clerk_no: str, other_no: str, manager: Actor, manager_no: str, d: list[date]) -> None:
        self.do, self.at, self.person, self.d = do, at, person, d
        self.clerk, self.clerk_no, self.other_no = clerk, clerk_no, other_no
        self.manager, self.manager_no = manager, manager_no
        self.numbers: list[str] = []
        self._steps = (self._d0, self._d1, self._d2, self._d3, self._d4, self._d5, lambda: None, lambda: None,
                       self._d8, self._d9)

    def day(self, i: int) -> None:
        self._steps[i]()

    def _d0(self) -> None:
        do, at, d, clerk = self.do, self.at, self.d, self.clerk
        self.number = number = _open_case(
            do, clerk, self.clerk_no, self.person(), "反映某建筑公司拖欠务工工资（演示）", at(d[0]), agents=(
                petition.AgentForm("钱律师", "13900001111", "律师", True, "13205201810123456", "示例律师事务所"),))
        self.numbers.append(number)
        slot = do(lambda s: reception.post_slot(s, self.manager, self.manager_no, d[6], "上午 9:00—11:30",
                                                "镇信访接待室", 5, topic="劳资纠纷", now=at(d[0])))
        do(lambda s: reception.book(s, clerk, slot.id, "孙演示", "13900005555", "反映欠薪问题",
                                    ticket_number=number, now=at(d[0])))
        self.gone = do(lambda s: reception.book(s, clerk, slot.id, "周演示", "13900006666", "反映宅基地纠纷",
                                                now=at(d[0])))

    def _d1(self) -> None:
        do, at, d, clerk, number = self.do, self.at, self.d, self.clerk, self.number
        do(lambda s: petition.add_agent(s, clerk, number, petition.AgentForm("孙小演", "13900007777", "近亲属（子）"),
                                        now=at(d[1])))
        do(lambda s: petition.decide_acceptance(s, clerk, number, True, "属本机关职权范围，予以受理", now=at(d[1])))
        self.leg = do(lambda s: petition_steps.transfer(s, clerk, number, "县人力资源和社会保障局", "示信移〔演示〕1号",
                                                        now=at(d[1])))
        self.named = do(lambda s: reception.request_named(s, clerk, number, self.other_no, d[4], slot="下午",
                                                          now=at(d[1])))

    def _d2(self) -> None:
        do, at, d = self.do, self.at, self.d
        do(lambda s: petition.fix_four(s, self.manager, self.number, petition.FourFixed(
            self.manager_no, (self.clerk_no, self.other_no), d[9], "约谈用人单位，督促补发拖欠工资"), now=at(d[2])))
        do(lambda s: reception.cancel(s, self.clerk, self.gone.id, "信访人改约", now=at(d[2])))

    def _d3(self) -> None:
        self.do(lambda s: petition.give_feedback(s, self.clerk, self.number, "电话", "已移交县人社局，正在核查用工情况",
                                                 now=self.at(self.d[3])))

    def _d4(self) -> None:
        do, at, d = self.do, self.at, self.d
        do(lambda s: appointments.record_outcome(s, self.manager, self.named.id, "kept", ticket_number=self.number,
                                                 note="点名约访，当面听取诉求", now=at(d[4])))
        do(lambda s: petition_steps.transfer_answered(s, self.clerk, self.leg.id, "人社监〔演示〕3号",
                                                      "已立案查处，责令限期支付", now=at(d[4])))

    def _d5(self) -> None:
        d = self.d
        self.do(lambda s: petition_steps.record_hearing(
            s, self.manager, self.number, "hearing", d[5], "镇综治中心", "赵主任",
            [Participant("人大代表", "周代表", "镇人大"), Participant("法律专家", "吴教授", "县法律顾问团"),
             Participant("当事人", "孙演示")],
            "信访人陈述诉求；用人单位说明欠薪原因；法律专家释法明理。", "用人单位同意限期付清拖欠工资。",
            now=self.at(d[5])))

    def _d8(self) -> None:
        do, at, d = self.do, self.at, self.d
        do(lambda s: workflow.close(s, self.clerk, self.number, "approved", "拖欠工资已付清，信访人表示满意",
                                    now=at(d[8])))
        self.visits = do(lambda s: petition_steps.schedule_followups(s, self.clerk, self.number, now=at(d[8])))

    def _d9(self) -> None:
        self.do(lambda s: petition_steps.record_followup(s, self.clerk, self.visits[0].id, "电话",
                                                        "工资已到账，无新诉求", True, now=self.at(self.d[9])))


def around(do: Do[Any], at: Callable[[date], datetime], person: Callable[[], intake.ApplicantForm], clerk: Actor,
           clerk_no: str, base: date, hol: date) -> list[str]:
    """An open 信访 case whose 移交 answer is due on ``hol`` (a local holiday added afterwards moves it)."""
    number = _open_case(do, clerk, clerk_no, person(), "反映村道占用纠纷（演示）", at(base))
    rule = DateRule((hol - base).days, "day")
    do(lambda s: petition_steps.transfer(s, clerk, number, "县交通运输局", "示信移〔演示〕2号", rule=rule,
                                         now=at(base)))
    return [number]
