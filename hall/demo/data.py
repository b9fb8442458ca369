"""Demo data (演示数据): a realistic township ledger, fast enough for a million tickets.

Every ticket is a real ledger event chain, exactly as the services write it: the ``ticket.received`` payload
of :func:`hall.services.tickets.intake.register`, then ``ticket.supplemented`` / ``ticket.closed`` /
``ticket.voided`` as :mod:`hall.services.tickets.record` writes them, hashed with
:func:`hall.services.storage.ledger.event_hash` on one chain per node (the hall on this node, each village proxy
point on its own node), with ``node_heads`` kept in step. The projections (tickets, applicants, ticket serials)
are computed here in plain Python to the values the projectors would produce, so a replay of the events
reproduces them and ``hall-admin ledger verify`` passes.

Speed comes from not using the ORM per ticket: rows are built as dicts and written with Core ``insert()``
executemany in batches inside one transaction (a half-written demo ledger would not verify). On SQLite the
generator's own connection runs with ``synchronous=OFF`` and a large page cache, restored afterwards.

Staff and intake points are created through the real services (``staff.add_staff``,
``staff.add_intake_point``), since they are few.
"""

from __future__ import annotations

import heapq
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Connection, Table, bindparam, case, func, insert, select, update

from hall.errors import ValidationError
from hall.models import Applicant, CatalogVersion, Event, IntakePoint, NodeHead, Staff, Ticket, TicketSerial
from hall.services.base.actor import Actor
from hall.services.base.pinyin import initials
from hall.services.base.states import SAME_DAY_KINDS
from hall.services.base.validators import CREDIT_ALPHABET, credit_check_char, id_check_char
from hall.services.calendar import clock
from hall.services.calendar.deadlines import LimitRule, due_date
from hall.services.calendar.workdays import WorkCalendar
from hall.services.catalog import items as catalog
from hall.services.people import staff
from hall.services.storage import settings
from hall.services.storage.db import Database, upsert_insert
from hall.services.storage.ledger import FORMAT, GENESIS, canonical, event_hash, stamp
from hall.services.storage.node import NodeIdentity

BATCH = 5000
NO_CLOCK: list[dict[str, Any]] = []  # shared by every generated ticket row; never mutated
MAX_TICKETS = 20_000_000
VILLAGES = ("001", "002", "003", "004")
HALL_SHARE = 0.80  # the rest is shared evenly by the village proxy points
TYPICAL_PER_DAY = 400  # a busy hall with its villages; sets the default date span

# Surnames roughly by frequency (the first ones repeat to weigh them), then a few compound surnames.
SURNAMES = (
    "王王王李李李张张张刘刘陈陈杨杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
    "叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "慕容")
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国志红玉梅文辉鹏飞宇浩然俊峰婷雪琴云莲"
    "凤春晓晨阳林海波斌亮军荣新民福贵德义中学成德兴旺宏光永胜佳怡欣悦子涵梓轩诗雨思彤嘉豪一鸣"
)
AREA_CODES = ("320581",) * 12 + ("320582", "320583", "320585", "320506", "341221", "510722", "412723", "370826")
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
                   "157", "158", "159", "177", "180", "181", "182", "187", "188", "189", "198", "199")
STREETS = ("人民路", "建设路", "新华街", "中心街", "文化路", "长江路", "园区大道")
ORG_WORDS = ("兴农", "丰收", "绿源", "鑫盛", "宏达", "福满", "金穗", "惠民", "顺发", "永安", "瑞丰", "康乐", "和美")
ORG_SUFFIXES = ("种植专业合作社", "农机专业合作社", "家庭农场", "商贸有限公司", "建材经营部", "便利店", "小吃店",
                "养殖场", "劳务服务有限公司")
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


# ----------------------------------------------------------------------------------------- plain data
@dataclass(frozen=True)
class DemoReport:
    tickets: int
    events: int
    applicants: int
    staff_added: int
    seconds: float
    first_day: date
    last_day: date
    by_state: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Tickets per second."""
        return self.tickets / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class _Item:
    id: int
    code: str
    name: str
    window_code: str
    default_kind: str
    rule: LimitRule
    materials: tuple[dict[str, Any], ...]  # {"count", "form", "name"} + tolerable flag kept apart
    tolerable: tuple[bool, ...]
    # The common case, everything received: one list shared by those tickets (serialised once). Keys in
    # sorted order, as the projector stores them after the canonical JSON round trip.
    all_received: list[dict[str, Any]] = field(default_factory=list)
    catalog_version: str = ""  # the uid events name the item's catalogue version by


@dataclass(frozen=True)
class _Person:
    type: str  # person | org
    id_no: str
    name: str
    sex: str
    birth: date | None
    phone: str
    address: str
    initials: str


@dataclass(frozen=True)
class _Who:
    """An event's actor: staff id (this database's) and uid (the event's), name, role and the node whose chain
    it is written on."""

    staff_id: int | None
    name: str
    role: str
    node_id: str
    uid: str | None = None


def default_span(tickets: int, end: date) -> tuple[date, date]:
    """A period that gives a busy hall's daily volume: at least two months, at most ten years."""
    days = int(max(60, min(3650, tickets / TYPICAL_PER_DAY * 7 / 5)))
    return end - timedelta(days=days), end


def village_node_id(hall_node_id: str, point: str) -> str:
    """A village laptop's node id, stable for one hall so repeated runs extend the same chains."""
    return str(uuid.uuid5(uuid.UUID(hall_node_id), f"hall-demo-village-{point}"))


# ------------------------------------------------------------------------------------------ set-up
def _ensure_points_and_staff(db: Database, system: Actor, rng: random.Random) -> int:
    """Two clerks per window, a manager and one proxy-staff per village point, created through the services."""
    added = 0
    with db.transaction() as session:
        names = settings.get(session, "village_names")
        for point in VILLAGES:
            if session.get(IntakePoint, point) is None:
                staff.add_intake_point(session, system, point, names.get(point, f"代办点{point}"))
        existing = set(session.scalars(select(Staff.staff_no)))
        forms = []
        for w in catalog.windows(session):
            for n in (1, 2):
                forms.append(staff.StaffForm(f"{w.code}{n:02d}", _person_name(rng), "clerk", f"{w.name}窗口",
                                             window_code=w.code))
        forms.append(staff.StaffForm("M001", _person_name(rng), "manager", "中心主任"))
        for point in VILLAGES:
            forms.append(staff.StaffForm(f"V{point}", _person_name(rng), "village", "村代办员",
                                         intake_point=point))
        for form in forms:
            if form.staff_no not in existing:
                staff.add_staff(session, system, form)
                added += 1
    return added


def _person_name(rng: random.Random) -> str:
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.01 else rng.choice(SURNAMES)
    given = rng.choice(GIVEN_CHARS) if rng.random() < 0.3 else rng.choice(GIVEN_CHARS) + rng.choice(GIVEN_CHARS)
    return surname + given


class _People:
    """The township's citizens and businesses, by home (0 = the town, 1… = the villages)."""

    def __init__(self, rng: random.Random, tickets: int, start: date, village_names: list[str]) -> None:
        self.rng = rng
        self._initials: dict[str, str] = {}
        size = max(60, int(tickets * 0.35))
        # Names repeat in real life (张伟); a bounded pool also keeps the pinyin look-ups few.
        pool = sorted({_person_name(rng) for _ in range(min(size, 20_000))})
        seen: set[str] = set()
        homes = ["示例镇", *village_names]
        self.by_home: list[list[_Person]] = [[] for _ in homes]
        latest_birth = date(start.year - 1, 1, 1).toordinal()
        earliest_birth = date(1935, 1, 1).toordinal()
        for i in range(size):
            home = i % len(homes)
            while True:
                birth = date.fromordinal(rng.randint(earliest_birth, latest_birth))
                seq = rng.randint(1, 999)
                body = f"{rng.choice(AREA_CODES)}{birth:%Y%m%d}{seq:03d}"
                id_no = body + id_check_char(body)
                if id_no not in seen:
                    seen.add(id_no)
                    break
            name = rng.choice(pool)
            phone = self._mobile() if rng.random() < 0.93 else ""
            if home == 0:
                address = f"示例镇{rng.choice(STREETS)}{rng.randint(1, 199)}号"
            else:
                address = f"{homes[home]}{rng.randint(1, 12)}组"
            self.by_home[home].append(_Person("person", id_no, name, "male" if seq % 2 else "female", birth,
                                              phone, address, self.initials(name)))
        self.orgs: list[_Person] = []
        org_seen: set[str] = set()
        for _ in range(max(10, size // 20)):
            body = "92" if rng.random() < 0.6 else "91"
            body += "320581" + "".join(rng.choice(CREDIT_ALPHABET) for _ in range(9))
            code = body + credit_check_char(body)
            name = f"示例镇{rng.choice(ORG_WORDS)}{rng.choice(ORG_SUFFIXES)}"
            if code in org_seen:
                continue
            org_seen.add(code)
            phone = f"0512-5{rng.randint(0, 9999999):07d}"
            self.orgs.append(_Person("org", code, name, "", None, phone,
                                     f"示例镇{rng.choice(STREETS)}{rng.randint(1, 199)}号", self.initials(name)))
        self.everyone = [p for group in self.by_home for p in group]

    def initials(self, name: str) -> str:
        got = self._initials.get(name)
        if got is None:
            got = self._initials[name] = initials(name)[:40]
        return got

    def _mobile(self) -> str:
        return f"{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randint(0, 99_999_999):08d}"

    def pick(self, home: int) -> _Person:
        # Some citizens come back often: a skewed pick over the home's list.
        group = self.by_home[home] if home else self.everyone
        return group[int(len(group) * self.rng.random() ** 1.4)]


# ------------------------------------------------------------------------------------------ the plan
class _Generator:
    def __init__(self, rng: random.Random, cal: WorkCalendar, items: list[_Item], people: _People,
                 township: str, hall_node: str, clerks: dict[str, list[_Who]], manager: _Who,
                 villagers: dict[str, _Who], cutoff: datetime) -> None:
        self.rng = rng
        self.cal = cal
        self.idx = cal.index
        self.items = items
        self.item_weights = list(_accumulate([rng.uniform(0.5, 2.0) for _ in items]))
        self.people = people
        self.township = township
        self.hall_node = hall_node
        self.clerks = clerks
        self.manager = manager
        self.villagers = villagers
        self.cutoff = cutoff
        self.counter = 0
        self.heap: list[tuple[datetime, int, _Who, str, str, dict[str, Any], str]] = []
        self.last_event_id = ""  # of the event :meth:`schedule` queued last

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

    def schedule(self, at: datetime, who: _Who, type_: str, uid: str, payload: dict[str, Any]) -> bool:
        """Queue an event; False when it would fall after the cutoff (it never happened)."""
        if at > self.cutoff:
            return False
        self.counter += 1
        self.last_event_id = self.uuid()
        heapq.heappush(self.heap, (at, self.counter, who, type_, uid, payload, self.last_event_id))
        return True

    # -- one ticket
    def ticket(self, received_at: datetime, point: str, number: str,
               ticket_id: int) -> tuple[dict[str, Any], str, str]:
        """Plan one ticket: queue its events, return its projected row (final state), applicant id and the
        ``ticket.received`` event's stamp (which applicant details are newest)."""
        rng = self.rng
        item = self.items[_bisect(self.item_weights, rng.random() * self.item_weights[-1])]
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
        told = stamp(received_at, self.last_event_id)
        row = {
            "id": ticket_id, "uid": uid, "number": number, "item_id": item.id, "item_code": item.code,
            "item_name": item.name, "window_code": item.window_code, "kind": kind, "state": state,
            "is_open": state != "refused", "applicant_type": a.type, "applicant_name": a.name,
            "applicant_initials": a.initials, "applicant_id_no": a.id_no, "applicant_sex": a.sex,
            "applicant_birth": a.birth, "applicant_phone": a.phone, "applicant_address": a.address, "agent": agent,
            "materials": marks, "note": note, "intake_point": point, "node_id": who.node_id,
            "first_owner_id": who.staff_id, "owner_id": who.staff_id, "received_at": received_at,
            "accepted_on": accepted_on, "due_date": due, "due_provisional": provisional, "clock": NO_CLOCK,
            "closed_at": received_at if refuse else None, "closed_on_time": None, "result": "",
            "refusal_reason": refusal, "void_reason": "", "version": 1, "updated_at": received_at,
        }
        if not refuse:
            self._follow_up(row, item, kind, who, received_at, tolerated)
        return row, a.id_no, told

    def _follow_up(self, row: dict[str, Any], item: _Item, kind: str, who: _Who, at: datetime,
                   tolerated: bool) -> None:
        """What happens after intake, as far as it happened before the cutoff; ``row`` follows along."""
        rng = self.rng
        uid = row["uid"]
        if kind in SAME_DAY_KINDS and row["state"] == "accepted":
            result = "已解释告知" if kind == "explain" else "当场办结"
            if self.schedule(at, who, "ticket.closed", uid, {"state": "closed_approved", "result": result,
                                                             "on_time": True}):
                _closed(row, at, "closed_approved", result, True)
            return
        if kind not in SAME_DAY_KINDS and rng.random() < 0.005:  # a typing slip, voided at once
            when = at + timedelta(minutes=rng.randint(3, 40), microseconds=rng.randint(0, 999_999))
            reason = "登记信息有误，作废后重新登记"
            if self.schedule(when, who, "ticket.voided", uid, {"reason": reason, "from_state": row["state"]}):
                _voided(row, when, reason)
            return
        if row["state"] == "supplement":
            if rng.random() < 0.15:  # never came back
                when = self.office_time(self.workday_after(at.date(), rng.randint(6, 12)))
                reason = "申请人逾期未补正材料，本件作废"
                if self.schedule(when, who, "ticket.voided", uid, {"reason": reason, "from_state": "supplement"}):
                    _voided(row, when, reason)
                return
            at = self.office_time(self.workday_after(at.date(), rng.randint(1, 5)))
            if at.hour >= 17:
                at = at.replace(hour=16)
            accepted = at.date()
            due, provisional = due_date(self.cal, item.rule, accepted, kind)
            if not self.schedule(at, who, "ticket.supplemented",
                                 uid, {"accepted_on": accepted, "due_date": due, "due_provisional": provisional}):
                return
            row.update(state="accepted", accepted_on=accepted, due_date=due, due_provisional=provisional,
                       materials=[{**m, "status": "received" if m["status"] == "missing" else m["status"]}
                                  for m in row["materials"]])
            touch(row, at)
        due = row["due_date"]
        if kind in SAME_DAY_KINDS:  # supplemented at the counter, done on the spot
            when = at + timedelta(minutes=rng.randint(2, 20), microseconds=rng.randint(0, 999_999))
            state, result = "closed_approved", "当场办结"
        else:
            span = max(1, self.idx.through(due.toordinal()) - self.idx.through(row["accepted_on"].toordinal()))
            k = rng.randint(1, span) if rng.random() < 0.94 else span + rng.randint(1, 10)
            when = self.office_time(self.workday_after(row["accepted_on"], k), earliest=at)
            if tolerated:
                state, result = "closed_tolerated", TOLERATED_RESULT
            elif rng.random() < 0.04:
                state, result = "closed_rejected", REJECTED
            else:
                state, result = "closed_approved", RESULTS.get(kind, RESULTS["promised"])
        on_time = when.date() <= due
        if self.schedule(when, who, "ticket.closed", uid, {"state": state, "result": result, "on_time": on_time}):
            _closed(row, when, state, result, on_time)


def _closed(row: dict[str, Any], at: datetime, state: str, result: str, on_time: bool) -> None:
    row.update(state=state, result=result, is_open=False, closed_at=at, closed_on_time=on_time)
    touch(row, at)


def _voided(row: dict[str, Any], at: datetime, reason: str) -> None:
    row.update(state="voided", is_open=False, void_reason=reason)
    touch(row, at)


def touch(row: dict[str, Any], at: datetime) -> None:
    row["version"] += 1
    row["updated_at"] = at


def _accumulate(values: list[float]) -> list[float]:
    total, out = 0.0, []
    for v in values:
        total += v
        out.append(total)
    return out


def _bisect(cum: list[float], x: float) -> int:
    import bisect

    return min(bisect.bisect_right(cum, x), len(cum) - 1)


def _daily_counts(rng: random.Random, cal: WorkCalendar, start: date, end: date,
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


# ------------------------------------------------------------------------------------------ writing
def generate(db: Database, node: NodeIdentity, tickets: int, *, seed: int = 1, start: date | None = None,
             end: date | None = None, progress: Callable[[int, int], None] | None = None) -> DemoReport:
    """Write ``tickets`` demo tickets received between ``start`` and ``end`` (both included).

    The ledger is as of the end of ``end``: follow-up events after it have not happened, so recent tickets
    are open and some of them overdue. The hall's tickets go on ``node``'s chain, each village point's on its
    own node. The same seed on the same database state gives the same tickets.
    """
    if not 0 <= tickets <= MAX_TICKETS:
        raise ValidationError("办件数量", f"应为 0 至 {MAX_TICKETS} 之间的整数")
    today = date.today()
    end = end or today - timedelta(days=1)
    start = start or default_span(tickets, end)[0]
    if start > end:
        raise ValidationError("日期范围", f"开始日期 {start} 晚于结束日期 {end}")
    if end >= today:
        raise ValidationError("结束日期", "应早于今天（演示数据不能有将来或今天尚未发生的时间）")
    started = time.perf_counter()
    rng = random.Random(seed)
    system = Actor.system(node.node_id, node.intake_point)
    staff_added = _ensure_points_and_staff(db, system, rng)

    with db.transaction() as session:
        cal = clock.calendar_for(session)
        all_settings = settings.get_all(session)
        version_uid = session.scalars(select(CatalogVersion.uid).where(CatalogVersion.is_current)).one()
        items = [
            _Item(it.id, it.code, it.name, it.window_code, it.default_kind, clock.rule_of(it),
                  tuple({"count": m["count"], "form": m["form"], "name": m["name"]} for m in it.materials),
                  tuple(bool(m.get("tolerable")) for m in it.materials),
                  [{"count": m["count"], "form": m["form"], "name": m["name"], "status": "received"}
                   for m in it.materials], version_uid)
            for it in catalog.current_items(session)
        ]
        people_staff = session.scalars(select(Staff).where(Staff.active)).all()
        clerks: dict[str, list[_Who]] = {}
        villagers: dict[str, _Who] = {}
        manager = None
        village_nodes = {p: village_node_id(node.node_id, p) for p in VILLAGES}
        for p in people_staff:
            if p.role == "clerk" and p.window_code:
                clerks.setdefault(p.window_code, []).append(_Who(p.id, p.name, "clerk", node.node_id, p.uid))
            elif p.role == "village" and p.intake_point in village_nodes and p.intake_point not in villagers:
                villagers[p.intake_point] = _Who(p.id, p.name, "village", village_nodes[p.intake_point], p.uid)
            elif p.role == "manager" and manager is None:
                manager = _Who(p.id, p.name, "manager", node.node_id, p.uid)
        assert manager is not None
        missing_windows = {it.window_code for it in items} - set(clerks)
        if missing_windows:
            raise ValidationError("窗口工作人员", f"窗口 {'、'.join(sorted(missing_windows))} 没有在岗工作人员")
        heads = {h.node_id: (h.seq, h.hash) for h in session.scalars(select(NodeHead))}
        first_day, last_day = start.strftime("%Y%m%d"), end.strftime("%Y%m%d")
        serials = {(s.point, s.day): s.last for s in session.scalars(
            select(TicketSerial).where(TicketSerial.day >= first_day, TicketSerial.day <= last_day))}
        next_ticket_id = (session.scalar(select(func.max(Ticket.id))) or 0) + 1
        next_applicant_id = (session.scalar(select(func.max(Applicant.id))) or 0) + 1

    names = all_settings["village_names"]
    village_places = [names.get(p, f"代办点{p}").removesuffix("代办点") for p in VILLAGES]
    people = _People(rng, tickets, start, village_places)
    cutoff = datetime.combine(end, datetime.max.time())
    gen = _Generator(rng, cal, items, people, all_settings["township_code"], node.node_id, clerks, manager,
                     villagers, cutoff)
    counts = _daily_counts(rng, cal, start, end, tickets)
    points = ["000", *VILLAGES]
    point_cum = _accumulate([HALL_SHARE] + [(1 - HALL_SHARE) / len(VILLAGES)] * len(VILLAGES))

    writer = _Writer(db, heads)
    to_json = Ticket.__table__.c.materials.type._cached_bind_processor(db.engine.dialect)
    for shared in [None, NO_CLOCK, *(it.all_received for it in items)]:  # None: no agent
        writer.shared_json[id(shared)] = to_json(shared)
    # id_no -> (last intake time, its event's stamp); insertion order is the order of first sighting (tickets
    # come in time order)
    applicants: dict[str, tuple[datetime, str]] = {}
    by_state: Counter[str] = Counter()
    done = 0
    try:
        writer.open()
        for day, n in counts:
            if n:
                times = sorted((gen.office_time(day), points[_bisect(point_cum, rng.random())]) for _ in range(n))
                key = day.strftime("%Y%m%d")
                for at, point in times:
                    serial = serials.get((point, key), 0) + 1
                    serials[(point, key)] = serial
                    number = f"{gen.township}-{point}-{key}-{serial:04d}"
                    row, id_no, told = gen.ticket(at, point, number, next_ticket_id)
                    next_ticket_id += 1
                    by_state[row["state"]] += 1
                    seen = applicants.get(id_no)
                    applicants[id_no] = (at, told) if seen is None or told > seen[1] else seen
                    writer.ticket(row)
                    done += 1
            day_end = datetime.combine(day, datetime.max.time())
            while gen.heap and gen.heap[0][0] <= day_end:
                writer.event(*heapq.heappop(gen.heap))
            if progress is not None and writer.flushed_tickets():
                progress(done, tickets)
        while gen.heap:  # safety only: every kept event falls on a working day up to ``end``
            writer.event(*heapq.heappop(gen.heap))
        by_id = {p.id_no: p for p in people.everyone}
        by_id.update({p.id_no: p for p in people.orgs})
        writer.applicants(applicants, by_id, next_applicant_id)
        writer.finish(serials)
    except BaseException:
        writer.abort()
        raise
    writer.close()
    if progress is not None:
        progress(done, tickets)
    return DemoReport(done, writer.events, len(applicants), staff_added, time.perf_counter() - started,
                      start, end, dict(by_state))


class _Writer:
    """Batches rows into Core executemany inserts on one connection, inside one transaction."""

    def __init__(self, db: Database, heads: dict[str, tuple[int, str]]) -> None:
        self.db = db
        self.heads = heads
        self.events = 0
        self._events: list[dict[str, Any]] = []
        self._tickets: list[dict[str, Any]] = []
        self._flushed = False
        self._conn: Connection | None = None
        self._saved: dict[str, Any] = {}
        self._plans: dict[str, tuple[str, list[str], list[Any], list[bool]]] = {}
        # id(value) -> serialised JSON, for values shared by many rows and alive for the whole run
        self.shared_json: dict[int, str] = {}

    def open(self) -> None:
        self._conn = conn = self.db.engine.connect()
        if self.db.is_sqlite:
            raw = conn.connection.driver_connection
            assert raw is not None
            # Only this connection, only for the run: a crash loses the demo data, never real data
            # (the generator's transaction is all-or-nothing). Restored in close().
            for pragma in ("synchronous", "cache_size"):
                self._saved[pragma] = raw.execute(f"PRAGMA {pragma}").fetchone()[0]
            raw.execute("PRAGMA synchronous = OFF")
            raw.execute("PRAGMA cache_size = -400000")  # 400 MB: the random-key indexes stay in memory
        self._tx = conn.begin()

    def ticket(self, row: dict[str, Any]) -> None:
        self._tickets.append(row)
        if len(self._tickets) >= BATCH:
            self._flush_tickets()

    def flushed_tickets(self) -> bool:
        flushed, self._flushed = self._flushed, False
        return flushed

    def event(self, at: datetime, _order: int, who: _Who, type_: str, uid: str, payload: dict[str, Any],
              event_id: str) -> None:
        seq, prev = self.heads.get(who.node_id, (0, GENESIS))
        seq += 1
        text = canonical(payload)
        fields = dict(event_id=event_id, node_id=who.node_id, seq=seq, format=FORMAT, actor_id=None,
                      actor_uid=who.uid, actor_name=who.name, actor_role=who.role, occurred_at=at, type=type_,
                      ticket_uid=uid, payload=text)
        digest = event_hash(prev, **fields)  # type: ignore[arg-type]
        fields["prev_hash"] = prev
        fields["hash"] = digest
        self.heads[who.node_id] = (seq, digest)
        self._events.append(fields)
        self.events += 1
        if len(self._events) >= BATCH:
            self._flush_events()

    def _flush_events(self) -> None:
        if self._events:
            self._insert(Event.__table__, self._events)
            self._events = []

    def _flush_tickets(self) -> None:
        if self._tickets:
            self._insert(Ticket.__table__, self._tickets)
            self._tickets = []
            self._flushed = True

    def _insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Core executemany. On SQLite the per-row parameter compilation of SQLAlchemy costs more than the
        insert itself, so the rows go to the driver with the columns' own bind processors applied here
        (the stored text is the same); JSON values shared between rows are serialised once."""
        conn = self._conn
        assert conn is not None
        if conn.dialect.name != "sqlite":
            conn.execute(insert(table), rows)
            return
        plan = self._plans.get(table.name)
        if plan is None:
            cols = [c for c in table.columns if c.name in rows[0]]
            sql = f"INSERT INTO {table.name} ({', '.join(c.name for c in cols)}) VALUES ({', '.join('?' * len(cols))})"
            procs = [c.type._cached_bind_processor(conn.dialect) for c in cols]
            plan = self._plans[table.name] = (sql, [c.name for c in cols], procs,
                                              [isinstance(c.type, JSON) for c in cols])
        sql, names, procs, is_json = plan
        shared = self.shared_json
        out = []
        for r in rows:
            values = []
            for name, proc, js in zip(names, procs, is_json, strict=True):
                v = r[name]
                if js:
                    text = shared.get(id(v))
                    values.append(text if text is not None else proc(v))  # type: ignore[misc]
                else:
                    values.append(proc(v) if proc is not None and v is not None else v)
            out.append(tuple(values))
        conn.exec_driver_sql(sql, out)

    def applicants(self, seen: dict[str, tuple[datetime, str]], people: dict[str, _Person], next_id: int) -> None:
        """One row per distinct ID, as the intake projector leaves it; citizens already known are updated by its
        rule (per field, the newest told wins; an empty value never does). A generated citizen tells the same
        details at every visit, so the newest visit decides all of them."""
        conn = self._conn
        assert conn is not None
        self._flush_events()
        self._flush_tickets()
        known: set[str] = set()
        ids = list(seen)
        for i in range(0, len(ids), 900):
            known.update(conn.scalars(select(Applicant.id_no).where(Applicant.id_no.in_(ids[i:i + 900]))))
        rows, updates = [], []
        for id_no, (last, told) in seen.items():  # in order of first sighting: the projector's numbering
            p = people[id_no]
            if id_no in known:
                updates.append({"b_id_no": id_no, "b_name": p.name, "b_initials": p.initials, "b_type": p.type,
                                "b_sex": p.sex, "b_birth": p.birth, "b_phone": p.phone, "b_address": p.address,
                                "b_at": last, "b_stamp": told, "b_phone_stamp": told if p.phone else "",
                                "b_address_stamp": told if p.address else ""})
            else:
                rows.append({"id": next_id, "id_no": id_no, "applicant_type": p.type, "name": p.name,
                             "initials": p.initials, "sex": p.sex, "birth": p.birth, "phone": p.phone,
                             "address": p.address, "updated_at": last, "name_stamp": told,
                             "phone_stamp": told if p.phone else "", "address_stamp": told if p.address else ""})
                next_id += 1
        for i in range(0, len(rows), BATCH):
            conn.execute(insert(Applicant.__table__), rows[i:i + BATCH])
        if updates:
            t = Applicant.__table__
            b_at, b_birth = bindparam("b_at", type_=t.c.updated_at.type), bindparam("b_birth", type_=t.c.birth.type)
            newer = bindparam("b_stamp") > t.c.name_stamp
            newer_phone = bindparam("b_phone_stamp") > t.c.phone_stamp
            newer_address = bindparam("b_address_stamp") > t.c.address_stamp
            conn.execute(update(t).where(t.c.id_no == bindparam("b_id_no")).values(
                name=case((newer, bindparam("b_name")), else_=t.c.name),
                initials=case((newer, bindparam("b_initials")), else_=t.c.initials),
                applicant_type=case((newer, bindparam("b_type")), else_=t.c.applicant_type),
                sex=case((newer, bindparam("b_sex")), else_=t.c.sex),
                birth=case((newer, b_birth), else_=t.c.birth),
                name_stamp=case((newer, bindparam("b_stamp")), else_=t.c.name_stamp),
                phone=case((newer_phone, bindparam("b_phone")), else_=t.c.phone),
                phone_stamp=case((newer_phone, bindparam("b_phone_stamp")), else_=t.c.phone_stamp),
                address=case((newer_address, bindparam("b_address")), else_=t.c.address),
                address_stamp=case((newer_address, bindparam("b_address_stamp")), else_=t.c.address_stamp),
                updated_at=case((b_at > t.c.updated_at, b_at), else_=t.c.updated_at)),
                updates)

    def finish(self, serials: dict[tuple[str, str], int]) -> None:
        assert self._conn is not None
        self._flush_events()
        self._flush_tickets()
        conn = self._conn
        dialect_insert = upsert_insert(conn.dialect.name)
        rows = [{"point": p, "day": d, "last": last} for (p, d), last in serials.items()]
        for i in range(0, len(rows), BATCH):
            stmt = dialect_insert(TicketSerial.__table__)
            stmt = stmt.on_conflict_do_update(index_elements=["point", "day"], set_={"last": stmt.excluded.last})
            conn.execute(stmt, rows[i:i + BATCH])
        heads = [{"node_id": n, "seq": s, "hash": h} for n, (s, h) in self.heads.items()]
        stmt = dialect_insert(NodeHead.__table__)
        stmt = stmt.on_conflict_do_update(index_elements=["node_id"],
                                          set_={"seq": stmt.excluded.seq, "hash": stmt.excluded.hash})
        conn.execute(stmt, heads)
        if conn.dialect.name == "postgresql":
            # Tickets and applicants went in with explicit ids: move their id sequences past them, or the next
            # ticket a counter saves collides with a demo row's primary key.
            for table in (Ticket.__table__, Applicant.__table__):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), max(id)) "
                                     f"FROM {table.name} HAVING max(id) IS NOT NULL")
        self._tx.commit()

    def abort(self) -> None:
        if self._conn is not None:
            self._tx.rollback()
            self._restore()
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        assert self._conn is not None
        if self.db.is_sqlite:
            raw = self._conn.connection.driver_connection
            assert raw is not None
            raw.execute("ANALYZE")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            self._conn.exec_driver_sql("ANALYZE")
            self._conn.commit()
        self._restore()
        self._conn.close()
        self._conn = None

    def _restore(self) -> None:
        if self.db.is_sqlite and self._conn is not None and self._saved:
            raw = self._conn.connection.driver_connection
            assert raw is not None
            for pragma, value in self._saved.items():
                raw.execute(f"PRAGMA {pragma} = {int(value)}")

