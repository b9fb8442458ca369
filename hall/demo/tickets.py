"""The demo township's tickets: what happens to each one, planned as the ledger events the services append.

Each ticket is the ``ticket.received`` payload of :func:`hall.services.tickets.intake.register`, then
``ticket.supplemented`` / ``ticket.closed`` / ``ticket.voided`` as :mod:`hall.services.tickets.record` appends
them, as far as they happened before the cutoff. The planner only queues :class:`~hall.services.storage.ledger.Draft`
events in time order; the ledger writes and projects them (:mod:`hall.demo.data`).
"""

from __future__ import annotations

import bisect
import heapq
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from hall.demo.people import People
from hall.errors import ValidationError
from hall.services.base.actor import Actor
from hall.services.base.states import SAME_DAY_KINDS
from hall.services.calendar.deadlines import LimitRule, due_date
from hall.services.calendar.derived import DateRule, derive
from hall.services.calendar.workdays import WorkCalendar
from hall.services.storage.ledger import Draft
from hall.services.storage.settings import DEFAULTS
from hall.services.tickets.supplement_notice import REQUESTED, request_payload

REFUSALS = (
    ("申请事项不属于本中心受理范围，请向有权机关申请", "县人民政府政务服务中心"),
    ("申请人户籍不在本镇，不符合属地受理条件", "户籍所在地乡镇便民服务中心"),
    ("该事项已由县级部门直接受理，无需重复申请", "县级主管部门"),
    ("申请人不符合申请条件", ""),
)
RESULTS = {
    "promised": "经审查符合条件，准予办理",
    "proxy": "上级部门已审批通过，结果已送达申请人",
    "joint": "各协办部门意见已汇总，准予办理",
}
REJECTED = "经审查不符合条件，不予批准，已告知理由及救济途径"
TOLERATED_RESULT = "容缺材料已在承诺期限内补齐，准予办理"
NOTES = ("申请人行动不便，已上门帮办", "预约办理", "延时服务时段受理", "申请人为残疾人，优先办理",
         "电话预约后到窗口办理")


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    window_code: str
    default_kind: str
    rule: LimitRule
    materials: tuple[dict[str, Any], ...]  # {"count", "form", "name"} + tolerable flag kept apart
    tolerable: tuple[bool, ...]
    catalog_version: str  # the uid events name the item's catalogue version by
    # The common case, everything received: one list shared by those tickets' payloads.
    all_received: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Plan:
    """What the planner knows of one ticket while planning its life (the tables learn it from the events)."""

    uid: str
    state: str
    accepted_on: date | None
    due_date: date | None
    applicant: str  # id number


class Planner:
    def __init__(self, rng: random.Random, cal: WorkCalendar, items: list[Item], people: People,
                 township: str, clerks: dict[str, list[Actor]], villagers: dict[str, Actor],
                 cutoff: datetime) -> None:
        self.rng = rng
        self.cal = cal
        self.idx = cal.index
        self.items = items
        self.item_weights = accumulate([rng.uniform(0.5, 2.0) for _ in items])
        self.people = people
        self.township = township
        self.clerks = clerks
        self.villagers = villagers
        self.cutoff = cutoff
        self.counter = 0
        self.heap: list[tuple[datetime, int, Draft]] = []

    # -- helpers
    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def workday_after(self, d: date, k: int) -> date:
        idx = self.idx
        return date.fromordinal(idx.nth(idx.through(d.toordinal()) + k))

    def office_time(self, d: date, earliest: datetime | None = None) -> datetime:
        rng = self.rng
        if rng.random() < 0.65:  # the morning rush
            minute = 8 * 60 + 30 + int(rng.triangular(0, 195, 60))
        else:
            minute = 13 * 60 + 30 + int(rng.random() * 225)
        t = datetime(d.year, d.month, d.day, minute // 60, minute % 60, rng.randint(0, 59), rng.randint(0, 999_999))
        if earliest is not None and t <= earliest:
            t = earliest + timedelta(minutes=rng.randint(2, 25), microseconds=rng.randint(0, 999_999))
        return t

    def schedule(self, at: datetime, who: Actor, type_: str, uid: str, payload: dict[str, Any]) -> bool:
        """Queue an event; False when it would fall after the cutoff (it never happened)."""
        if at > self.cutoff:
            return False
        self.counter += 1
        heapq.heappush(self.heap, (at, self.counter, Draft(who, type_, payload, uid, at, self.uuid())))
        return True

    def due_by(self, end: datetime) -> list[Draft]:
        """The queued events up to ``end``, in time order (then in the order they were planned)."""
        out = []
        heap = self.heap
        while heap and heap[0][0] <= end:
            out.append(heapq.heappop(heap)[2])
        return out

    # -- one ticket
    def ticket(self, received_at: datetime, point: str, number: str) -> Plan:
        """Plan one ticket: queue its events, return where it ends."""
        rng = self.rng
        item = self.items[pick(self.item_weights, rng.random() * self.item_weights[-1])]
        who = self.villagers[point] if point != "000" else rng.choice(self.clerks[item.window_code])
        home = int(point)
        kind, kind_reason = item.default_kind, ""
        if kind != "explain" and rng.random() < 0.03:
            kind, kind_reason = "explain", "申请人仅咨询政策，未提交申请"
        org = item.window_code in ("W08", "W09", "W11") and rng.random() < 0.25
        a = rng.choice(self.people.orgs) if org else self.people.pick(home)
        agent = None
        if a.type == "person" and a.birth is not None:
            age = received_at.year - a.birth.year
            if ((age >= 75 or age < 16) and rng.random() < 0.7) or rng.random() < 0.04:
                helper = self.people.pick(home)
                if helper.id_no != a.id_no and received_at.year - helper.birth.year >= 18:  # type: ignore[union-attr]
                    agent = {"id_no": helper.id_no, "name": helper.name, "phone": helper.phone}

        same_day = kind in SAME_DAY_KINDS
        statuses = ["received"] * len(item.materials)
        refuse = False
        r = rng.random()
        if kind == "explain":
            pass
        elif not same_day and r < 0.015:
            refuse = True
        elif r < (0.03 if same_day else 0.095) and item.materials:
            needed = [i for i, t in enumerate(item.tolerable) if not t] or list(range(len(item.materials)))
            for i in rng.sample(needed, min(len(needed), 1 + (rng.random() < 0.3))):
                statuses[i] = "missing"
        elif not same_day and r < 0.15 and any(item.tolerable):
            statuses[rng.choice([i for i, t in enumerate(item.tolerable) if t])] = "tolerated"
        if "received" in statuses and len(set(statuses)) == 1:
            marks = item.all_received
        else:
            marks = [{**m, "status": s} for m, s in zip(item.materials, statuses, strict=True)]
        missing = kind != "explain" and "missing" in statuses
        tolerated = "tolerated" in statuses

        day = received_at.date()
        accepted_on: date | None = None
        due: date | None = None
        provisional = False
        refusal, organ = ("", "")
        if refuse:
            state = "refused"
            refusal, organ = rng.choice(REFUSALS)
        elif missing:
            state = "supplement"
        else:
            state = "accepted"
            accepted_on = day
            due, provisional = due_date(self.cal, item.rule, day, kind)
        uid = self.uuid()
        note = rng.choice(NOTES) if rng.random() < 0.02 else ""
        payload = {
            "uid": uid, "number": number, "catalog_version": item.catalog_version, "item_code": item.code,
            "item_name": item.name, "window_code": item.window_code, "kind": kind, "kind_reason": kind_reason,
            "state": state,
            "applicant": {"type": a.type, "id_no": a.id_no, "name": a.name, "initials": a.initials, "sex": a.sex,
                          "birth": a.birth, "phone": a.phone, "address": a.address},
            "agent": agent, "materials": marks, "note": note, "intake_point": point,
            "received_at": received_at, "accepted_on": accepted_on, "due_date": due, "due_provisional": provisional,
            "refusal_reason": refusal, "redirect_organ": organ,
        }
        self.schedule(received_at, who, "ticket.received", uid, payload)
        if state == "supplement":  # as intake records it: the 补正 request with its deadline by the date rule
            rule = DateRule(int(DEFAULTS["supplement_days"]), "day")
            supply_due, supply_prov = derive(self.cal, day, rule)
            self.schedule(received_at, who, REQUESTED, uid, request_payload(marks, day, rule, supply_due, supply_prov))
        plan = Plan(uid, state, accepted_on, due, a.id_no)
        if not refuse:
            self._follow_up(plan, item, kind, who, received_at, tolerated)
        return plan

    def _follow_up(self, plan: Plan, item: Item, kind: str, who: Actor, at: datetime, tolerated: bool) -> None:
        """What happens after intake, as far as it happened before the cutoff; ``plan`` follows along."""
        rng = self.rng
        uid = plan.uid
        if kind in SAME_DAY_KINDS and plan.state == "accepted":
            result = "已解释告知" if kind == "explain" else "当场办结"
            if self.schedule(at, who, "ticket.closed", uid, {"state": "closed_approved", "result": result,
                                                             "on_time": True}):
                plan.state = "closed_approved"
            return
        if kind not in SAME_DAY_KINDS and rng.random() < 0.005:  # a typing slip, voided at once
            when = at + timedelta(minutes=rng.randint(3, 40), microseconds=rng.randint(0, 999_999))
            reason = "登记信息有误，作废后重新登记"
            if self.schedule(when, who, "ticket.voided", uid, {"reason": reason, "from_state": plan.state}):
                plan.state = "voided"
            return
        if plan.state == "supplement":
            if rng.random() < 0.15:  # never came back
                when = self.office_time(self.workday_after(at.date(), rng.randint(6, 12)))
                reason = "申请人逾期未补正材料，本件作废"
                if self.schedule(when, who, "ticket.voided", uid, {"reason": reason, "from_state": "supplement"}):
                    plan.state = "voided"
                return
            at = self.office_time(self.workday_after(at.date(), rng.randint(1, 5)))
            if at.hour >= 17:
                at = at.replace(hour=16)
            accepted = at.date()
            due, provisional = due_date(self.cal, item.rule, accepted, kind)
            if not self.schedule(at, who, "ticket.supplemented",
                                 uid, {"accepted_on": accepted, "due_date": due, "due_provisional": provisional}):
                return
            plan.state, plan.accepted_on, plan.due_date = "accepted", accepted, due
        due = plan.due_date
        accepted_on = plan.accepted_on
        assert due is not None and accepted_on is not None
        if kind in SAME_DAY_KINDS:  # supplemented at the counter, done on the spot
            when = at + timedelta(minutes=rng.randint(2, 20), microseconds=rng.randint(0, 999_999))
            state, result = "closed_approved", "当场办结"
        else:
            span = max(1, self.idx.through(due.toordinal()) - self.idx.through(accepted_on.toordinal()))
            k = rng.randint(1, span) if rng.random() < 0.94 else span + rng.randint(1, 10)
            when = self.office_time(self.workday_after(accepted_on, k), earliest=at)
            if tolerated:
                state, result = "closed_tolerated", TOLERATED_RESULT
            elif rng.random() < 0.04:
                state, result = "closed_rejected", REJECTED
            else:
                state, result = "closed_approved", RESULTS.get(kind, RESULTS["promised"])
        on_time = when.date() <= due
        if self.schedule(when, who, "ticket.closed", uid, {"state": state, "result": result, "on_time": on_time}):
            plan.state = state


def accumulate(values: list[float]) -> list[float]:
    total, out = 0.0, []
    for v in values:
        total += v
        out.append(total)
    return out


def pick(cum: list[float], x: float) -> int:
    """The index ``x`` falls on in the cumulative weights ``cum``."""
    return min(bisect.bisect_right(cum, x), len(cum) - 1)


def daily_counts(rng: random.Random, cal: WorkCalendar, start: date, end: date,
                 tickets: int) -> list[tuple[date, int]]:
    """Tickets per working day: Monday peaks, quieter Fridays and make-up Saturdays, a busy January."""
    weekday = (1.3, 1.1, 1.0, 1.0, 0.8, 0.7, 0.7)
    month = (1.2, 0.8, 1.1, 1.0, 1.0, 1.0, 0.9, 0.9, 1.0, 1.0, 1.05, 1.15)
    days, weights = [], []
    d = start
    while d <= end:
        if cal.is_workday(d):
            days.append(d)
            weights.append(weekday[d.weekday()] * month[d.month - 1] * rng.uniform(0.85, 1.15))
        d += timedelta(days=1)
    if not days:
        raise ValidationError("日期范围", f"{start} 至 {end} 之间没有工作日")
    total = sum(weights)
    out, acc, given = [], 0.0, 0
    for d, w in zip(days, weights, strict=True):
        acc += w
        upto = round(tickets * acc / total)
        out.append((d, upto - given))
        given = upto
    return out
