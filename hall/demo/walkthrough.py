"""A walkthrough of every workflow (全流程走查) on a hall's ledger, through the product's own services.

The demo generator (``hall.demo.data``) writes a township's tickets fast, as intake and closure events.
This module then plays the rest of a hall's life on top of it, one clerk action per transaction, exactly as the
counters, the manager and the daily rules would — nothing here writes a row or an event itself:

- proxy (代办件: forwarded, department reference, returned, closed, delivered), joint (联办件: copied, opinions
  agreeing and disagreeing, a department silent past its deadline deemed to consent by the daily rules), routing
  (transfer requested, declined, requested again and accepted; collective decision escalated and decided),
  the clock (pause and resume for 补正, a special step, an extension), kind change, reassignment, supplement,
  withdrawal, voiding, closure approved and rejected, delivery;
- ratings (acceptance and closure, a 差评 with its rectification verified, done and rated again, unrated tickets
  settled by the local rule), follow-ups (scheduled and made), a complaint (registered, answered), accountability
  (opened by the rules, found by the manager);
- attendance and B-posts (holder on leave, tickets handed to the B-post and given back), appointments (kept and
  missed), a circuit visit (planned, a ticket tagged, finished);
- 涉法信访 (hall/demo/petition_walk.py, a step on each day): a case from registration to 回访 with an agent, the
  受理告知, 四定一包, feedback, a 公开听证, a 移交 answered and a 点名约访; the leaders' reception schedule booked;
- administration: settings, an intake point, a staff member with a password, a B-post, the year's holiday
  notice confirmed again, a local holiday (open deadlines recomputed), a catalogue update, printing, an ID
  revealed at the counter, a full ledger export.

The dated part happens on the :data:`DAYS` working days before ``today`` (deadlines fall in the past, so the
daily rules have something to decide); run the demo generator up to the day before :func:`first_day` for a
ledger in time order. Services that take no time of their own (staff, settings, void, print, calendar,
catalogue) stamp the real time, as they do at a counter: administration first, those ticket actions last.

``tests/demo/test_walkthrough.py`` proves the result holds every event type any service appends.
"""

from __future__ import annotations

import random
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall.demo import petition_walk
from hall.demo.people import village_node_id
from hall.errors import ValidationError
from hall.exchange import reports_xlsx
from hall.models import CalendarDay, Event, IntakePoint, Staff
from hall.services.base.actor import Actor
from hall.services.base.validators import id_check_char
from hall.services.calendar import clock
from hall.services.calendar.workdays import HolidayRange, MakeupDay, WorkCalendar, YearNotice
from hall.services.cases import bposts, daily, joint, proxy, recalc, routing, supplement, workflow
from hall.services.catalog import items as catalog
from hall.services.people import staff
from hall.services.registers import (
    accountability,
    appointments,
    complaints,
    followups,
    inspection,
    rating_channel,
    ratings,
)
from hall.services.registers.rating_channel import ScreenKey
from hall.services.reporting import papers, queue
from hall.services.reporting.stats import Period
from hall.services.storage import anchor, settings
from hall.services.storage.db import Database
from hall.services.storage.node import NodeIdentity
from hall.services.sync import conflicts as sync_conflicts
from hall.services.sync import keys as sync_keys
from hall.services.sync import peers as sync_peers
from hall.services.tickets import fees, intake, rules
from hall.services.tickets import record as tickets

DAYS = 10  # working days the dated part spans, all before ``today``
WINDOWS = ("W01", "W02", "W03", "W05", "W08", "W09", "W10")  # the windows whose clerks take part
VILLAGE_POINT = "001"
FEE_ITEM = "04"  # the item the walkthrough's catalogue update gives a fee standard (一次性收费)
PASSWORD = "walkthrough-pass-1"  # the walkthrough's new staff member's first password (a demo hall only)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉梅文辉"

T = TypeVar("T")


@dataclass(frozen=True)
class WalkthroughReport:
    days: tuple[date, ...]  # the working days of the dated part
    tickets: tuple[str, ...]  # numbers of the tickets the walkthrough registered
    events: dict[str, int]  # events it appended (the daily run in the middle included), per type
    seconds: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def total_events(self) -> int:
        return sum(self.events.values())

    def lines(self) -> list[str]:
        return [
            f"全流程走查：{self.days[0]} 至 {self.days[-1]}，新登记 {len(self.tickets)} 件办件，"
            f"台账事件 {self.total_events:,} 条（{len(self.events)} 种），用时 {self.seconds:.1f} 秒",
            *[f"  {k}：{v:,}" for k, v in sorted(self.events.items())],
            *[f"  提示：{n}" for n in self.notes],
        ]


def scenario_days(cal: WorkCalendar, today: date) -> list[date]:
    """The :data:`DAYS` working days just before ``today`` (today not included)."""
    idx = cal.index
    last = idx.through(today.toordinal() - 1)  # working days up to yesterday
    return [date.fromordinal(idx.nth(last - DAYS + 1 + i)) for i in range(DAYS)]


def first_day(db: Database, today: date) -> date:
    """The first day the walkthrough writes events on (demo tickets should end before it)."""
    with db.reading() as s:
        return scenario_days(clock.calendar_for(s), today)[0]


# ------------------------------------------------------------------------------------------ the cast
@dataclass
class _Cast:
    system: Actor
    manager: Actor
    manager_no: str
    clerks: dict[str, list[tuple[str, Actor]]]  # window -> [(staff number, actor)], two each
    villager: Actor
    citizen: ratings.CitizenChannel

    def clerk(self, window: str, n: int = 0) -> Actor:
        return self.clerks[window][n][1]

    def clerk_no(self, window: str, n: int = 0) -> str:
        return self.clerks[window][n][0]


class _Citizens:
    """Applicants with valid ID numbers and phones, drawn from the seed."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def name(self) -> str:
        r = self.rng
        return r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2))))

    def person(self, village: str = "示例镇") -> intake.ApplicantForm:
        r = self.rng
        birth = date(r.randint(1950, 2000), r.randint(1, 12), r.randint(1, 28))
        body = f"320581{birth:%Y%m%d}{r.randint(1, 999):03d}"
        return intake.ApplicantForm("person", body + id_check_char(body), self.name(), self.phone(),
                                    f"{village}{r.randint(1, 12)}组")

    def phone(self) -> str:
        return f"139{self.rng.randint(0, 99_999_999):08d}"


class _Times:
    """Office-hour moments, each later than the one before on its day (one clerk action after another)."""

    def __init__(self) -> None:
        self._last: dict[date, datetime] = {}

    def at(self, day: date) -> datetime:
        prev = self._last.get(day)
        t = datetime(day.year, day.month, day.day, 8, 40) if prev is None else prev + timedelta(minutes=6)
        self._last[day] = t
        return t


# ------------------------------------------------------------------------------------------ the run
class _Walk:
    def __init__(self, db: Database, node: NodeIdentity, rng: random.Random, today: date,
                 progress: Callable[[str], None]) -> None:
        self.db, self.node, self.today = db, node, today
        self.people = _Citizens(rng)
        self.times = _Times()
        self.progress = progress
        self.numbers: list[str] = []
        self.notes: list[str] = []
        self.system = Actor.system(node.node_id, node.intake_point)
        self.voided = self.printed = ""  # tickets the real-time actions at the end use
        self.head_key: Ed25519PrivateKey | None = None

    @contextmanager
    def tx(self) -> Iterator[Session]:
        with self.db.transaction() as s:
            yield s

    def do(self, fn: Callable[[Session], T]) -> T:
        """One clerk action: one transaction, as the counter's operation runner does it."""
        with self.tx() as s:
            return fn(s)

    # -- set-up (administration, stamped with the real time as the staff services do)
    def cast(self) -> _Cast:
        with self.tx() as s:
            if s.get(IntakePoint, VILLAGE_POINT) is None:
                names = settings.get(s, "village_names")
                staff.add_intake_point(s, self.system, VILLAGE_POINT, names.get(VILLAGE_POINT, "东村代办点"))
            clerks: dict[str, list[tuple[str, Actor]]] = {}
            for w in WINDOWS:
                people = list(s.scalars(select(Staff).where(Staff.active, Staff.role == "clerk",
                                                            Staff.window_code == w).order_by(Staff.staff_no)))
                for _ in range(len(people), 2):
                    no = self._free_no(s, f"{w}X")
                    staff.add_staff(s, self.system, staff.StaffForm(no, self.people.name(), "clerk", f"{w}窗口",
                                                                    window_code=w))
                    people.append(staff.by_number(s, no))
                clerks[w] = [(p.staff_no, staff.actor_for(p, self.node)) for p in people[:2]]
            manager = s.scalars(select(Staff).where(Staff.active, Staff.role == "manager")
                                .order_by(Staff.staff_no)).first()
            if manager is None:
                no = self._free_no(s, "MX")
                staff.add_staff(s, self.system, staff.StaffForm(no, self.people.name(), "manager", "中心主任"))
                manager = staff.by_number(s, no)
            villager = s.scalars(select(Staff).where(Staff.active, Staff.role == "village",
                                                     Staff.intake_point == VILLAGE_POINT)
                                 .order_by(Staff.staff_no)).first()
            if villager is None:
                no = self._free_no(s, "VX")
                staff.add_staff(s, self.system, staff.StaffForm(no, self.people.name(), "village", "村代办员",
                                                                intake_point=VILLAGE_POINT))
                villager = staff.by_number(s, no)
            laptop = NodeIdentity(village_node_id(self.node.node_id, VILLAGE_POINT), VILLAGE_POINT)
            # The hall's rating screen enrols its key on its first opening (a demo key from a fixed seed).
            screen = ScreenKey.from_seed(f"hall-demo/{self.node.node_id}".encode())
            rating_channel.ensure_enrolled(s, self.node.node_id, self.node.intake_point, screen)
            return _Cast(self.system, staff.actor_for(manager, self.node), manager.staff_no, clerks,
                         staff.actor_for(villager, laptop), ratings.CitizenChannel(self.node.node_id, key=screen))

    @staticmethod
    def _free_no(s: Session, prefix: str) -> str:
        taken = set(s.scalars(select(Staff.staff_no).where(Staff.staff_no.startswith(prefix))))
        return next(f"{prefix}{n:02d}" for n in range(1, 100) if f"{prefix}{n:02d}" not in taken)

    def administration(self, c: _Cast) -> None:
        """What the administrator does before the days played: local rules, a new intake point, a new clerk
        with a password, and the B-post of the W05 holder (used when they go on leave); another who changes post,
        has the password reset and leaves."""
        self.progress("系统设置、受理点、工作人员")
        self.do(lambda s: settings.set_values(s, c.system, {"rectify_workdays": 7}))
        with self.tx() as s:
            taken = set(s.scalars(select(IntakePoint.code)))
            code = next(f"{n:03d}" for n in range(5, 1000) if f"{n:03d}" not in taken)
            staff.add_intake_point(s, c.system, code, f"演示代办点{code}")
        self.do(lambda s: staff.update_intake_point(s, c.system, code, f"演示代办点{code}（村委会）", True))
        self.laptops(c, code)
        with self.tx() as s:
            no = self._free_no(s, "WK")
            staff.add_staff(s, c.system, staff.StaffForm(no, self.people.name(), "clerk", "综合窗口（新到岗）",
                                                         window_code="W01"))
        self.do(lambda s: staff.set_password(s, c.system, no, PASSWORD))
        self.do(lambda s: staff.set_b_post(s, c.system, c.clerk_no("W05"), c.clerk_no("W05", 1)))
        # Someone who moves post, forgets the password (a temporary one, to be replaced at login) and leaves.
        with self.tx() as s:
            left = self._free_no(s, "WL")
            staff.add_staff(s, c.system, staff.StaffForm(left, self.people.name(), "clerk", "综合窗口",
                                                         window_code="W01", password=PASSWORD))
        self.do(lambda s: staff.update_staff(s, c.system, staff.StaffForm(left, staff.view(s, left).name, "clerk",
                                                                          "民政窗口（轮岗）", window_code="W02")))
        self.do(lambda s: staff.reset_password(s, c.system, left, PASSWORD + "-tmp"))
        self.do(lambda s: staff.set_active(s, c.system, left, False, "调离本中心"))

    def laptops(self, c: _Cast, code: str) -> None:
        """The new point's laptop is enrolled (its join recorded, as its first event would arrive), then lost and
        revoked; a replacement is enrolled for the same point."""
        first, second = (
            sync_keys.NodeKeys.from_seed(str(uuid.uuid5(uuid.NAMESPACE_URL, f"hall-demo-laptop/{code}/{n}")),
                                         "laptop", code, f"demo-laptop/{code}/{n}".encode())
            for n in (1, 2))
        self.do(lambda s: sync_peers.enrol(s, c.system, first.node_id, code, first.sign_key, first.box_key))
        self.do(lambda s: sync_peers.record_join(s, Actor.system(first.node_id, code), c.system.node_id,
                                                 sync_peers.serial_floor(s, code)))
        self.do(lambda s: sync_peers.revoke(s, c.system, code, "演示：笔记本电脑丢失"))
        self.do(lambda s: sync_peers.enrol(s, c.system, second.node_id, code, second.sign_key, second.box_key))

    # -- tickets
    def register(self, actor: Actor, item_code: str, day: date, *, missing: int = 0,
                 applicant: intake.ApplicantForm | None = None, note: str = "") -> str:
        def go(s: Session) -> str:
            item = catalog.current_item_view(s, item_code)
            names = [m["name"] for m in item.materials]
            marks = {n: "received" for n in names}
            for n in names[:missing]:
                marks[n] = "missing"
            form = intake.IntakeForm(item_code, applicant or self.people.person(), marks, note=note)
            return intake.register(s, actor, form, now=self.times.at(day)).number

        number = self.do(go)
        self.numbers.append(number)
        return number

    def rate(self, c: _Cast, clerk: Actor, number: str, stage: str, level: int, comment: str, day: date, *,
             rectification_id: int | None = None) -> None:
        invite = self.do(lambda s: ratings.request_rating(s, clerk, number, stage,
                                                          rectification_id=rectification_id,
                                                          now=self.times.at(day)))
        # The token goes to the citizen's own screen; the citizen rates there, never the clerk.
        self.do(lambda s: ratings.rate(s, c.citizen, invite.token, level, comment, now=self.times.at(day)))

    # -- the days
    def play(self, c: _Cast, d: list[date]) -> None:
        at = self.times.at
        w01, w02, w03, w08, w09, w10 = (c.clerk(w) for w in ("W01", "W02", "W03", "W08", "W09", "W10"))
        holder, b_post = c.clerk("W05"), c.clerk("W05", 1)
        m = c.manager

        self.progress(f"{d[0]} 收件")
        # 涉法信访 from registration to 回访 and the leaders' reception schedule, a step on each day
        pet = petition_walk.Days(self.do, at, self.people.person, w10, c.clerk_no("W10"), c.clerk_no("W10", 1), m,
                                 c.manager_no, d)
        pet.day(0)
        acc = self.register(w01, "02", d[0])  # 承诺件, rated at acceptance
        self.rate(c, w01, acc, "acceptance", 5, "", d[0])
        supp = self.register(w01, "02", d[0], missing=1)  # 补正: one paper missing
        kind = self.register(w09, "64", d[0])
        withdrawn = self.register(w10, "67", d[0])
        voided = self.register(w10, "68", d[0])
        prox = self.register(w02, "07", d[0])
        joint_ok = self.register(w09, "59", d[0])
        joint_no = self.register(w03, "21", d[0])
        moved = self.register(w02, "09", d[0])
        esc = self.register(w08, "52", d[0])
        paused = self.register(w08, "51", d[0])
        special = self.register(w09, "61", d[0])
        self.register(holder, "35", d[0])  # the holder's own open ticket: goes to the B-post and back
        self.register(w01, "04", d[0])  # 即办件, closed on the spot at intake (left unrated)
        booked = self.do(lambda s: appointments.book(s, m, c.clerk_no("W01"), d[2], self.people.name(),
                                                     phone=self.people.phone(), purpose="咨询临时救助政策",
                                                     slot="上午", now=at(d[0])))
        missed = self.do(lambda s: appointments.book(s, m, c.clerk_no("W01", 1), d[3], self.people.name(),
                                                     purpose="办理高龄津贴", slot="下午", now=at(d[0])))
        visit = self.do(lambda s: appointments.plan_visit(s, m, d[3], "东村", [c.clerk_no("W08")],
                                                          place="东村村委会", market_day=True, now=at(d[0])))

        self.progress(f"{d[1]} 办理")
        self.do(lambda s: workflow.start(s, w08, esc, "部门开始审查", now=at(d[1])))
        self.do(lambda s: proxy.forward(s, w02, prox, "县民政局", now=at(d[1])))
        self.do(lambda s: joint.copy(s, w09, joint_ok, now=at(d[1])))
        self.do(lambda s: joint.copy(s, w03, joint_no, now=at(d[1])))
        self.do(lambda s: routing.request_transfer(s, w02, moved, "W01", "申请人所询事项属综合窗口",
                                                   "申请书及身份证复印件", now=at(d[1])))
        self.do(lambda s: routing.decline_transfer(s, w01, moved, "不属本窗口职责，请按事项清单办理",
                                                   now=at(d[1])))
        self.do(lambda s: workflow.pause(s, w08, paused, "等待申请人补正土地流转合同附图", now=at(d[1])))
        self.do(lambda s: workflow.special_start(s, w09, special, "现场勘查", "放样现场核查", now=at(d[1])))
        self.register(c.villager, "10", d[1], applicant=self.people.person("东村"))  # on the village laptop

        pet.day(1)
        self.progress(f"{d[2]} 办理")
        self.do(lambda s: proxy.record_reference(s, w02, prox, "民政受〔演示〕001号", now=at(d[2])))
        self.do(lambda s: tickets.supplement_received(s, w01, supp, now=at(d[2])))
        self.do(lambda s: routing.escalate(s, w08, esc, "涉及多户土地边界，需提交党委政府集体研究", now=at(d[2])))
        self.do(lambda s: routing.request_transfer(s, w02, moved, "W10", "申请人反映的是邻里纠纷，转司法调解窗口",
                                                   "申请书、情况说明", to_staff_no=c.clerk_no("W10"),
                                                   now=at(d[2])))
        self.do(lambda s: routing.accept_transfer(s, w10, moved, now=at(d[2])))
        kept_ticket = self.register(w01, "04", d[2], note="点名约访")
        self.do(lambda s: appointments.record_outcome(s, w01, booked.id, "kept", ticket_number=kept_ticket,
                                                      note="按约接待", now=at(d[2])))
        self.do(lambda s: workflow.withdraw(s, w10, withdrawn, "申请人已自行和解，申请撤回", now=at(d[2])))
        copies_ok = self.do(lambda s: joint.status_of(s, joint_ok).copies)
        first = copies_ok[0]  # one co-department (a W09 office) answers; the other stays silent past its deadline
        self.do(lambda s: joint.record_opinion(s, w09, first.id, "agree", "", "自然资源所经办人", now=at(d[2])))
        copies_no = {v.department: v for v in self.do(lambda s: joint.status_of(s, joint_no).copies)}
        self.do(lambda s: joint.record_opinion(s, w03, copies_no["县医保中心"].id, "disagree",
                                               "逝者医保个人账户尚有未结算费用，暂不同意办理", "医保中心经办人",
                                               now=at(d[2])))
        self.do(lambda s: joint.record_opinion(s, c.clerk("W02"), copies_no["镇民政办(W02)"].id, "agree", "",
                                               "民政办经办人", now=at(d[2])))

        pet.day(2)
        self.progress(f"{d[3]} 办理")
        self.do(lambda s: workflow.resume(s, w08, paused, "补正材料已收到", now=at(d[3])))
        self.do(lambda s: workflow.special_end(s, w09, special, "现场勘查符合放样要求", now=at(d[3])))
        on_visit = self.register(w08, "53", d[3], applicant=self.people.person("东村"), note="巡回下访")
        self.do(lambda s: appointments.tag_ticket(s, w08, visit.id, on_visit, now=at(d[3])))
        self.do(lambda s: appointments.finish_visit(s, m, visit.id, "逢集日下访，受理耕地地力补贴等事项",
                                                    now=at(d[3])))
        self.do(lambda s: appointments.record_outcome(s, c.clerk("W01", 1), missed.id, "missed",
                                                      note="约访人未到，已电话联系", now=at(d[3])))
        self.do(lambda s: workflow.change_kind(s, w09, kind, "proxy", "须报县自然资源局审批，改为代办件",
                                               now=at(d[3])))
        complaint = self.do(lambda s: complaints.register(
            s, w01, "转办过程中窗口人员推诿，多跑了一次", "现场", complainant=self.people.name(),
            phone=self.people.phone(), ticket_number=moved, staff_no=c.clerk_no("W02"), now=at(d[3])))
        self.do(lambda s: workflow.close(s, w03, joint_no, "rejected", "协办部门不同意：医保个人账户费用未结清",
                                         now=at(d[3])))

        pet.day(3)
        self.progress(f"{d[4]} 考勤与B岗")
        self.do(lambda s: proxy.department_returned(s, w02, prox, "approved", "经县民政局审批，准予纳入低保",
                                                    result_doc_no="民保〔演示〕12号", now=at(d[4])))
        self.do(lambda s: bposts.mark_attendance(s, m, c.clerk_no("W05"), "leave", day=d[4], note="事假",
                                          now=at(d[4])))
        self.do(lambda s: bposts.mark_attendance(s, b_post, c.clerk_no("W05", 1), "present", day=d[4], now=at(d[4])))
        self.do(lambda s: workflow.close(s, w08, paused, "approved", "经审查符合条件，准予备案", now=at(d[4])))
        self.do(lambda s: workflow.close(s, w09, special, "approved", "放样核查完成，准予开工", now=at(d[4])))

        def reassign(s: Session) -> None:
            now = at(d[4])
            t = rules.load(s, m, kind, "reassign", now)
            to = staff.by_number(s, c.clerk_no("W09", 1))
            workflow.reassign_event(s, m, t, to.id, "原经办人另有任务，改由同窗口同事负责", now)

        self.do(reassign)

        pet.day(4)
        self.progress(f"{d[5]} 办结、评价")
        self.do(lambda s: workflow.close(s, w02, prox, "approved", "上级部门已审批通过，准予办理", now=at(d[5])))
        self.do(lambda s: workflow.deliver(s, w02, prox, "当面领取", self.people.name(), doc_no="送〔演示〕1号",
                                           now=at(d[5])))
        self.rate(c, w02, prox, "closure", 1, "往返跑了三次才办成，窗口解释不清楚", d[5])
        self.do(lambda s: routing.decide(s, m, esc, "经集体研究，同意按村民小组意见确定边界",
                                         "党政联席会议纪要〔演示〕3号", now=at(d[5])))
        self.do(lambda s: complaints.answer(s, m, complaint.number, True, "经核实，窗口人员未一次性告知，已批评教育",
                                            now=at(d[5])))

        pet.day(5)
        self.progress(f"{d[6]} 返岗、核实差评、延期")
        self.do(lambda s: bposts.mark_attendance(s, m, c.clerk_no("W05"), "present", day=d[6], now=at(d[6])))
        rect_id = self.do(lambda s: next(r.id for r in ratings.rectifications(s, d[6]) if r.ticket_number == prox))
        self.do(lambda s: ratings.verify(s, m, rect_id, True, "经调阅记录，一次性告知不到位，差评属实",
                                         now=at(d[6])))
        self.do(lambda s: workflow.extend(s, m, esc, 10, "集体研究后需补充测绘，申请延期", c.manager_no,
                                          now=at(d[6])))

        pet.day(6)
        self.progress(f"{d[7]} 每日规则")
        daily_report = daily.run_batched(self.db, c.system, d[7])
        # The node signs its chain head after the day's rules.
        self.do(lambda s: anchor.sign_head(s, c.system, self.head_key, at=at(d[7])))
        if not daily_report.deemed_consents:  # the joint case above must have been settled by the rule
            self.notes.append("每日规则未登记逾期视为认可")
        self.do(lambda s: ratings.record_rectified(s, c.clerk("W02"), rect_id,
                                                   "已对窗口人员批评教育并重新培训一次性告知", now=at(d[7])))

        def findings(s: Session) -> None:
            now = at(d[7])
            for r in accountability.records(s, state="open"):
                if r.cause == "complaint" and r.ticket_number == moved:
                    accountability.record_finding(s, m, r.id, "upheld", "投诉属实，予以追究", measure="提醒谈话",
                                                  now=now)
                elif r.cause == "deemed_consent" and r.ticket_number == joint_ok:
                    accountability.record_finding(s, m, r.id, "dismissed", "该部门当期人员调整，不予追究", now=now)

        self.do(findings)

        pet.day(7)
        self.progress(f"{d[8]} 办结、回访")
        self.do(lambda s: workflow.close(s, w09, joint_ok, "approved", "各协办部门意见已汇总，准予办理",
                                         now=at(d[8])))
        self.do(lambda s: workflow.deliver(s, w09, joint_ok, "邮寄送达", self.people.name(), now=at(d[8])))

        def call(who: Actor, number: str, reason: str, outcome: str, day: date) -> None:
            def go(s: Session) -> None:
                f = next(f for f in followups.of_ticket(s, tickets.get(s, number))
                         if f.reason == reason and f.state == "due")
                followups.record_outcome(s, who, f.id, "电话", outcome, satisfied=True, now=at(day))
            self.do(go)

        call(c.clerk("W02"), prox, "poor_rating", "申请人认可整改措施", d[8])
        call(m, moved, "complaint", "投诉人对答复满意", d[8])

        pet.day(8)
        self.progress(f"{d[9]} 再评价、办结")
        self.rate(c, c.clerk("W02"), prox, "second", 4, "", d[9], rectification_id=rect_id)
        self.do(lambda s: workflow.close(s, w10, moved, "approved", "调解成功，双方签订调解协议", now=at(d[9])))
        call(w03, joint_no, "closure", "申请人已知晓不予办理的原因", d[9])

        pet.day(9)
        self.numbers += pet.numbers
        self.voided, self.printed = voided, acc
        self.sync_conflicts(c, d)

    def sync_conflicts(self, c: _Cast, d: list[date]) -> None:
        """Two village tickets acted on at both ends from the same version: the manager closes each at the hall
        while the village's withdrawal of it is on its way (it arrives through the sync conflict gate). The first
        conflict is resolved (the hall's close kept), the second is left for the manager to see."""
        self.progress(f"{d[-1]} 同步冲突")
        for n, keep in enumerate(("hall", None)):
            number = self.register(c.villager, "09", d[-1], applicant=self.people.person("东村"))
            self.do(lambda s, no=number: workflow.close(s, c.manager, no, "approved", "材料齐全，准予办理",
                                                        now=self.times.at(d[-1])))
            uid = self.do(lambda s, no=number: tickets.get(s, no).uid)
            when = self.times.at(d[-1]) - timedelta(minutes=3 + n)  # written at the village before the close came
            self.do(lambda s, u=uid, w=when: sync_conflicts.arrive(
                s, c.villager, "ticket.withdrawn", {"from_state": "accepted", "to": "withdrawn",
                                                    "reason": "申请人在村里申请撤回", tickets.PARENT: 1},
                u, at=w))
            if keep is not None:
                found = self.do(lambda s, u=uid: sync_conflicts.of_ticket(s, u)[0].conflict_id)
                self.do(lambda s, cid=found, k=keep: sync_conflicts.resolve(
                    s, c.manager, cid, k, "申请人到中心当面确认继续办理", now=self.times.at(d[-1])))

    def afterwards(self, c: _Cast, d: list[date]) -> None:
        """Actions whose services stamp the real time: voiding, printing, a look at an ID, the calendar, the
        catalogue, a full export."""
        self.progress("作废、打印、日历、事项清单、导出")
        w01, w10 = c.clerk("W01"), c.clerk("W10")
        self.do(lambda s: tickets.void(s, w10, self.voided, "登记信息有误，作废后重新登记"))
        self.do(lambda s: papers.record_print(s, w01, self.printed, "acceptance", printer="窗口打印机"))
        self.do(lambda s: papers.record_print(s, w01, self.printed, "acceptance", reprint=True,
                                              printer="窗口打印机"))
        self.do(lambda s: queue.reveal_id(s, w01, self.printed))
        year = self.today.year
        self.do(lambda s: recalc.confirm_year(s, c.system, year, _notice_as_stored(s, year)))
        # Far enough ahead that the dates around it (from five days before it) come after every day played.
        hol = self.do(lambda s: _local_holiday_day(s, self.today + timedelta(days=6)))
        self.dates_around(c, hol)
        # Moves the open tickets' due dates and every derived date above, one recorded event each.
        self.do(lambda s: recalc.add_local_holiday(s, c.system, hol, "示例镇民俗文化节（演示）"))

        def catalogue(s: Session) -> None:
            spec = catalog.current_spec(s)
            items = tuple(replace(i, note=(i.note + "（演示：事项清单更新）")[:500]) if i.code == "01" else
                          replace(i, fee="工本费（演示）", fee_cents=1000) if i.code == FEE_ITEM else i
                          for i in spec.items)
            catalog.import_catalog(s, c.system, replace(spec, items=items), "演示：事项清单更新")

        self.do(catalogue)
        self.supervision(c)
        with tempfile.TemporaryDirectory(prefix="hall-walkthrough-") as tmp:
            self.do(lambda s: reports_xlsx.write_ledger(s, c.system, Period.between(d[0], d[-1]),
                                                        Path(tmp) / "台账.xlsx", today=self.today, full=True))


    def supervision(self, c: _Cast) -> None:
        """一次性收费 at the counter (the item the catalogue update gave a fee), the 效能监察员's finding on a case
        and the manager's 过错责任追究 record opened by hand."""
        self.progress("一次性收费、效能监察、过错责任追究")
        w01 = c.clerk("W01")
        paying = self.people.person()

        def pay(s: Session) -> str:
            form = intake.IntakeForm(FEE_ITEM, paying, fee=fees.FeeForm(paying.name, f"FS{self.today:%Y%m%d}01"))
            return intake.register(s, w01, form).number

        number = self.do(pay)
        self.numbers.append(number)
        with self.tx() as s:
            no = self._free_no(s, "JC")
            staff.add_staff(s, c.system, staff.StaffForm(no, self.people.name(), "inspector", "效能监察员"))
            inspector = staff.actor_for(staff.by_number(s, no), self.node)
        self.do(lambda s: inspection.record_finding(s, inspector, self.printed, "受理通知书补打两次，请核实原因"))
        self.do(lambda s: inspection.open_fault_record(s, c.manager, self.printed, c.clerk_no("W01"),
                                                       "受理通知书打印错误致补打", "经核实属实", measure="提醒谈话"))

    def dates_around(self, c: _Cast, hol: date) -> None:
        """One open date of every derived kind that a local holiday on ``hol`` moves: a 补正 during handling
        (5 日 ending on ``hol``), a copy to a co-department, a department leg, a 差评 rectification and its
        follow-up, a complaint, an appointment on that day."""
        self.progress("补正、抄告、转报、整改、投诉、约访：节假日前后的期限")
        at, base = self.times.at, hol - timedelta(days=5)
        w02, w09, m = c.clerk("W02"), c.clerk("W09"), c.manager
        supp = self.register(w02, "09", base)

        def ask(s: Session) -> None:
            first = catalog.current_item_view(s, "09").materials[2]["name"]
            supplement.request(s, w02, supp, [first], ["村委会出具的家庭困难情况说明"], "医疗票据不全",
                               now=at(base))

        self.do(ask)
        copied = self.register(w09, "59", base)
        self.do(lambda s: joint.copy(s, w09, copied, now=at(base)))
        sent = self.register(w02, "07", base)
        self.do(lambda s: proxy.forward(s, w02, sent, "县民政局", now=at(base)))
        rated = self.register(w02, "09", base)
        self.do(lambda s: workflow.close(s, w02, rated, "approved", "符合条件，准予临时救助", now=at(base)))
        self.rate(c, w02, rated, "closure", 2, "等候时间过长", base)
        self.do(lambda s: complaints.register(s, m, "咨询电话长时间无人接听", "电话", ticket_number=sent,
                                              now=at(base)))
        self.do(lambda s: appointments.book(s, m, c.clerk_no("W01"), hol, self.people.name(),
                                            purpose="咨询残疾人两项补贴", slot="上午", now=at(base)))
        self.numbers += petition_walk.around(self.do, at, self.people.person, c.clerk("W10"), c.clerk_no("W10"),
                                             base, hol)


def _notice_as_stored(s: Session, year: int) -> YearNotice:
    """The year's statutory days as the calendar holds them, as a notice: confirming it again changes no date
    but is a calendar change like any other (an event, and the open deadlines looked at again)."""
    rows = s.execute(select(CalendarDay.day, CalendarDay.kind, CalendarDay.name).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31),
        CalendarDay.kind.in_(("holiday", "makeup"))).order_by(CalendarDay.day)).all()
    holidays: list[HolidayRange] = []
    makeups: list[MakeupDay] = []
    for day, kind, name in rows:
        if kind == "makeup":
            makeups.append(MakeupDay(day, name))
        elif holidays and holidays[-1].name == name and holidays[-1].end == day - timedelta(days=1):
            holidays[-1] = HolidayRange(name, holidays[-1].start, day)
        else:
            holidays.append(HolidayRange(name, day, day))
    if not holidays:
        raise ValidationError("节假日安排", f"日历中没有 {year} 年的法定节假日，无法重新确认")
    return YearNotice(year, f"国务院办公厅关于{year}年部分节假日安排的通知（演示：按已存日历重新确认）",
                      tuple(holidays), tuple(makeups))


def _local_holiday_day(s: Session, today: date) -> date:
    """A plain working day a few days ahead (open tickets' deadlines run over it)."""
    cal = clock.calendar_for(s)
    taken = set(s.scalars(select(CalendarDay.day).where(CalendarDay.day >= today)))
    d = today + timedelta(days=3)
    while not (cal.is_workday(d) and d.weekday() < 5 and d not in taken):
        d += timedelta(days=1)
    return d


def _counts(db: Database) -> Counter[str]:
    with db.reading() as s:
        return Counter(dict(s.execute(select(Event.type, func.count()).group_by(Event.type)).all()))


def run(db: Database, node: NodeIdentity, *, seed: int = 1, today: date | None = None,
        progress: Callable[[str], None] | None = None,
        head_key: Ed25519PrivateKey | None = None) -> WalkthroughReport:
    """Play every workflow on the hall's ledger (see the module docstring); returns what it wrote.

    ``head_key``: the node key that signs the chain head after the day's rules (``hall-admin demo`` passes the
    data directory's own; without one a demo key from a fixed seed signs, which that directory's verify refuses).

    ``today`` (default: the real today, never later) is the day after the dated part. Each action is its own
    transaction, so an error stops the walkthrough with everything before it kept, as at a counter.
    """
    real_today = date.today()
    today = today or real_today
    if today > real_today:
        raise ValidationError("走查日期", "不能晚于今天（台账不能有将来的时间）")
    started = time.perf_counter()
    before = _counts(db)
    walk = _Walk(db, node, random.Random(seed), today, progress or (lambda _what: None))
    walk.head_key = head_key or sync_keys.NodeKeys.from_seed(node.node_id, "hall", "000", b"hall-demo-head").sign
    cast = walk.cast()
    with db.reading() as s:
        days = scenario_days(clock.calendar_for(s), today)
    walk.administration(cast)
    walk.play(cast, days)
    walk.afterwards(cast, days)
    after = _counts(db)
    written = {k: after[k] - before.get(k, 0) for k in after if after[k] > before.get(k, 0)}
    return WalkthroughReport(tuple(days), tuple(walk.numbers), written, time.perf_counter() - started,
                             tuple(walk.notes))


def event_types(session: Session) -> set[str]:
    """The event types present in a ledger."""
    return set(session.scalars(select(Event.type).distinct()))


__all__ = ["DAYS", "WalkthroughReport", "event_types", "first_day", "run", "scenario_days"]
