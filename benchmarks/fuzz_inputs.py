"""Hostile typed text through every service that takes it, on a real SQLite file or a real PostgreSQL.

    .venv/bin/python benchmarks/fuzz_inputs.py --inputs 100000 --db sqlite
    .venv/bin/python benchmarks/fuzz_inputs.py --inputs 100000 --db postgresql     # starts its own server
                                                                                   # (tests/pgserver.py)

Each input is one clerk action as the program runs it — ``with db.transaction(): service(...)`` — with one text
parameter replaced by a hostile string (control characters, NUL, lone surrogates, huge strings, bidi marks,
emoji, full-width digits, "0", "", blanks, Excel formula prefixes, SQL-looking text, near-valid ID numbers and
phones …) and every other parameter valid, on a record in the state the action needs (a pool of tickets,
copies, transfers, ratings, complaints … prepared through the services themselves and used up when an action
is accepted). The services cover intake, search, every workflow action, proxy, joint, routing, ratings and
rectification, follow-ups, complaints, appointments and visits, attendance, accountability, staff, settings,
the calendar, papers, the catalogue parser and the pure parsers.

Counted and reported:
- **unhandled**: anything but the project's own error (HallError) escaping a service — must be 0;
- **unclean messages**: an error message a dialog or the log could not carry (a control character, a lone
  surrogate, more than 2,000 characters) — must be 0;
- **stored bad characters**: after the run every text and JSON column of every table (and every string inside
  each event's payload) is scanned for what the free-text rule forbids, and String (one-line) columns for tab
  or newline — must be 0;
- then the monthly report of each month touched, the full and the masked ticket ledger, and the papers of the
  tickets holding the most hostile accepted text are written (A4 and 80 mm), and once more after hostile
  characters are written straight into rows (a ledger from before the rule): none may fail.

The harness itself must not hide a failure: a fixture that cannot be prepared with valid values stops the run.
``run(...)`` is what tests/services/test_fuzz_services.py calls with a few thousand inputs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import shutil
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import JSON, String, Text, select, text  # noqa: E402

from hall.errors import HallError  # noqa: E402
from hall.models import Base, Ticket  # noqa: E402
from hall.models.workflow import (  # noqa: E402
    AccountabilityRecord,
    FollowUp,
    Rectification,
)
from hall.paths import Paths  # noqa: E402
from hall.services.base import masking, validators  # noqa: E402
from hall.services.base.validators import id_check_char  # noqa: E402
from hall.services.bootstrap import Opened, open_hall  # noqa: E402
from hall.services.calendar import workdays as calendar  # noqa: E402
from hall.services.cases import bposts, joint, proxy, routing, workflow  # noqa: E402
from hall.services.catalog import items as catalog  # noqa: E402
from hall.services.catalog.spec import SHEETS, parse_sheets  # noqa: E402
from hall.services.people import staff  # noqa: E402
from hall.services.registers import accountability, appointments, complaints, followups, rating_channel, ratings  # noqa: E402
from hall.services.reporting import papers, queue  # noqa: E402
from hall.services.reporting.stats import Period  # noqa: E402
from hall.services.storage import settings  # noqa: E402
from hall.services.tickets import intake, rules  # noqa: E402
from hall.services.tickets import record as tickets  # noqa: E402
from hall.services.tickets import search as ticket_search  # noqa: E402
from hall.services.tickets.numbering import parse_number  # noqa: E402

# ------------------------------------------------------------------------------------------ hostile text
CONTROLS = [chr(c) for c in (*range(0x00, 0x20), 0x7F, 0x80, 0x85, 0x9F)]
SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff", "\ud83d"]  # \ud83d: half of an emoji
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
             "\u2066", "\u2067", "\u2068", "\u2069", "\u2028", "\u2029", "\ufeff", "\u061c", "\u00ad"]
NONCHARS = ["\ufffe", "\uffff", "\ufdd0", "\ufdef", "\U0001fffe", "\U0010ffff"]
SPACES = [" ", "\u3000", "\xa0", "\u2000", "\u2003", "\u202f", "\u205f", "\t", "\n", "\r\n", "\r", "\x0b", "\x0c"]
EMOJI = ["😀", "👍🏽", "👨\u200d👩\u200d👧\u200d👦", "🇨🇳", "🏳️\u200d🌈", "❤️", "\U0001f9d1\u200d\U0001f4bb"]
FULL_WIDTH = ["０", "１", "３", "８", "９", "Ｘ", "ｘ", "－", "（", "）", "＋", "８６", "１３８１２３４５６７８"]
OTHER_DIGITS = ["٣", "۳", "३", "¹", "²", "①", "㈠", "〇"]
FORMULAS = ["=cmd|' /C calc'!A0", "=1+1", "+1", "-1", "@SUM(A1)", "=HYPERLINK(\"http://x\",\"x\")", "=\"a\"&\"b\"",
            "\t=1", "=DDE(\"cmd\";\"/C calc\";\"A\")"]
SQLISH = ["'; DROP TABLE tickets; --", "1' OR '1'='1", "\" OR \"\"=\"", "%", "_", "\\", "%' --", "NULL", "null",
          "0x00", "\\0", "$$", "E'\\x00'", "'||(SELECT 1)||'", "/*", "*/", ";", "SELECT * FROM staff"]
WORDS = ["张三", "李四", "王小明", "欧阳娜娜", "阿依古丽·买买提", "东村3组", "县民政局", "镇民政办(W02)", "已办结",
         "材料齐全", "申请人本人", "同意", "不同意", "补充材料", "低保", "John Smith", "Jean-Pierre", "e\u0301",
         "\u05e9\u05dc\u05d5\u05dd", "\u0645\u0631\u062d\u0628\u0627", "𠀀", "\uf900", "\ue000", "ﬁ", "㍻"]
SHORT = ["", " ", "  ", "0", "00", "1", "-", "·", "X", "x", "\u3000", "\n", "\t", " \n ", "None", "undefined"]


def valid_id(rng: random.Random) -> str:
    first17 = f"{rng.choice(['110105', '320581', '440524', '510104'])}{rng.randint(1930, 2012)}" \
              f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return first17 + id_check_char(first17)


def near_valid(rng: random.Random) -> str:
    """A valid ID number, phone, ticket number or code, then mutated the way a hurried clerk (or a scanner) would."""
    base = rng.choice([valid_id(rng), f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}",
                       f"0512-{rng.randint(20000000, 99999999)}", "320581101-000-20260302-0001", "c02", "W02",
                       "09", "001", "TS-20260302-001", "2026-03", "2026Q1"])
    for _ in range(rng.randint(0, 3)):
        i = rng.randrange(len(base) + 1)
        op = rng.random()
        pick = rng.choice(CONTROLS + SURROGATES + INVISIBLE + SPACES + FULL_WIDTH + OTHER_DIGITS + ["0", "X", "-"])
        if op < 0.4:
            base = base[:i] + pick + base[i:]
        elif op < 0.7 and base:
            base = base[:i] + pick + base[i + 1:]
        elif base:
            base = base[:i] + base[i + 1:]
    return base


def hostile(rng: random.Random) -> str:
    """One hostile string (mostly short; now and then huge)."""
    r = rng.random()
    if r < 0.08:
        return rng.choice(SHORT)
    if r < 0.20:
        return near_valid(rng)
    if r < 0.23:  # huge: a pasted page, or a pasted book
        unit = rng.choice(["字", "a", " ", "0", "😀", "\u3000", "张三\n", "\x00", "=", "a\u0301"])
        return unit * rng.choice([61, 121, 201, 501, 2001, 4001, 10_000, 100_000, 1_000_000])
    pools = [CONTROLS, SURROGATES, INVISIBLE, NONCHARS, SPACES, EMOJI, FULL_WIDTH, OTHER_DIGITS, FORMULAS, SQLISH,
             WORDS, SHORT]
    parts = []
    for _ in range(rng.randint(1, 8)):
        if rng.random() < 0.15:
            parts.append(chr(rng.randint(0, 0x10FFFF)))  # any code point, surrogates included
        else:
            parts.append(rng.choice(rng.choice(pools)))
    return "".join(parts)


# --------------------------------------------------------------------------------------------- the hall
PEOPLE = {  # staff number: (name, role, post, window, password or None)
    "admin": ("系统管理员", "admin", "系统管理员", None, "admin-pass-1"),
    "c01": ("赵综合", "clerk", "综合窗口", "W01", None),
    "c02": ("王民政", "clerk", "民政窗口", "W02", "clerk-pass-1"),
    "c03": ("李社保", "clerk", "社保窗口", "W03", None),
    "c09": ("吴村建", "clerk", "村建窗口", "W09", None),
    "m01": ("赵主任", "manager", "中心主任", None, None),
}
PROMISED, PROXY, JOINT, IMMEDIATE = "09", "07", "21", "04"  # W02, W02 (县民政局), W03 (joint), W01


def build_hall(workdir: Path, url: str | None) -> Opened:
    opened = open_hall(Paths.resolve(workdir / "data"), url)
    Base.metadata.create_all(opened.db.engine)
    add_people(opened)
    return opened


def add_people(opened: Opened) -> None:
    """The staff the scenarios act as (kept when a test hands in a hall that already has some of them)."""
    with opened.db.transaction() as s:
        have = {p.staff_no for p in staff.list_staff(s)}
        if "admin" not in have and staff.needs_admin(s):
            staff.create_first_admin(s, opened.system, PEOPLE["admin"][4] or "admin-pass-1")
            have.add("admin")
        for no, (name, role, post, window, password) in PEOPLE.items():
            if no not in have:
                staff.add_staff(s, opened.system, staff.StaffForm(no, name, role, post, window, password=password))


@dataclass
class Hall:
    """The hall under fuzz: the opened database, actors, a simulated clock and the fixture pools."""

    opened: Opened
    rng: random.Random
    actors: dict[str, Any] = field(default_factory=dict)
    pools: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    step: int = 0
    serial: int = 0
    holiday: date = date(2031, 1, 6)
    days: list[date] = field(default_factory=list)
    prepared: int = 0  # fixtures made

    @property
    def db(self) -> Any:
        return self.opened.db

    def now(self) -> datetime:
        # Inputs of one simulated working day after another (1,000 actions a day), each a second apart.
        day = self.days[min(self.step // 1000, len(self.days) - 1)]
        return datetime.combine(day, datetime.min.time()) + timedelta(hours=8, seconds=self.step % 1000 * 30)

    def act(self, no: str) -> Any:
        return self.actors[no]

    def unique(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial}"

    def take(self, pool: str) -> Any:
        """A record in the state ``pool`` names (prepared with valid values when none is left)."""
        items = self.pools[pool]
        if not items:
            items.append(PREPARE[pool](self))
            self.prepared += 1
        return items.pop()

    def give_back(self, pool: str, item: Any) -> None:
        self.pools[pool].append(item)


def open_hall_for_fuzz(opened: Opened, seed: int) -> Hall:
    h = Hall(opened, random.Random(seed))
    with opened.db.transaction() as s:
        h.actors = {no: staff.actor_for(staff.by_number(s, no), opened.node) for no in PEOPLE}
        cal = rules.calendar(s)
    d = date(2026, 3, 2)
    while len(h.days) < 400:
        if cal.is_workday(d):
            h.days.append(d)
        d += timedelta(days=1)
    _pad(h)  # the hall's rating screen is enrolled before any rating is asked for
    return h


def materials(s: Any, code: str) -> dict[str, str]:
    return {m["name"]: "received" for m in catalog.current_item(s, code).materials}


APPLICANT = intake.ApplicantForm("person", "11010519491231002X", "张三", "13812345678", "东村3组")


def register(h: Hall, code: str, clerk: str, applicant: intake.ApplicantForm = APPLICANT) -> str:
    with h.db.transaction() as s:
        form = intake.IntakeForm(code, applicant, materials=materials(s, code))
        r = intake.register(s, h.act(clerk), form, now=h.now())
    return r.number


def in_db(h: Hall, fn: Callable[[Any], Any]) -> Any:
    with h.db.transaction() as s:
        return fn(s)


# Fixtures: each makes one record in the state a scenario needs, through the services, with valid values.
def _accepted(h: Hall) -> str:
    return register(h, PROMISED, "c02")


def _in_progress(h: Hall) -> str:
    n = _accepted(h)
    in_db(h, lambda s: workflow.start(s, h.act("c02"), n, now=h.now()))
    return n


def _paused(h: Hall) -> str:
    n = _in_progress(h)
    in_db(h, lambda s: workflow.pause(s, h.act("c02"), n, "等待补正", now=h.now()))
    return n


def _special(h: Hall) -> str:
    n = _in_progress(h)
    in_db(h, lambda s: workflow.special_start(s, h.act("c02"), n, "公示", "公示七日", now=h.now()))
    return n


def _escalated(h: Hall) -> str:
    n = _in_progress(h)
    in_db(h, lambda s: routing.escalate(s, h.act("c02"), n, "情况复杂须集体研究", now=h.now()))
    return n


def _closed(h: Hall) -> str:
    n = _in_progress(h)
    in_db(h, lambda s: workflow.close(s, h.act("c02"), n, "approved", "准予救助", now=h.now()))
    return n


def _proxy_accepted(h: Hall) -> str:
    return register(h, PROXY, "c02")


def _proxy_forwarded(h: Hall) -> str:
    n = _proxy_accepted(h)
    in_db(h, lambda s: proxy.forward(s, h.act("c02"), n, "县民政局", now=h.now()))
    return n


def _joint_accepted(h: Hall) -> str:
    return register(h, JOINT, "c03")


def _joint_copy(h: Hall) -> int:
    n = _joint_accepted(h)
    views = in_db(h, lambda s: joint.copy(s, h.act("c03"), n, now=h.now()))
    return views[0].id


def _transfer(h: Hall) -> str:
    n = _accepted(h)
    in_db(h, lambda s: routing.request_transfer(s, h.act("c02"), n, "W03", "不属本窗口", "材料已全部移交",
                                                now=h.now()))
    return n


_PADS: dict[int, ratings.CitizenChannel] = {}


def _pad(h: Hall) -> ratings.CitizenChannel:
    """The hall's rating screen: a key of its own, enrolled once per opened hall (invites are sealed to it)."""
    found = _PADS.get(id(h.opened.db))
    if found is None:
        key = rating_channel.ScreenKey.generate()
        in_db(h, lambda s: rating_channel.enrol(s, h.opened.system, key.public_hex))
        found = _PADS[id(h.opened.db)] = ratings.CitizenChannel(h.opened.node.node_id, key=key)
    return found


def _token(h: Hall) -> str:
    _pad(h)
    n = _closed(h)
    return in_db(h, lambda s: ratings.request_rating(s, h.act("c02"), n, "closure", now=h.now())).token


def _rect_open(h: Hall) -> int:
    token = _token(h)
    channel = _pad(h)
    rating = in_db(h, lambda s: ratings.rate(s, channel, token, 1, "等了很久", now=h.now()))
    return in_db(h, lambda s: s.scalars(select(Rectification.id).where(
        Rectification.rating_id == rating.id)).one())


def _rect_verified(h: Hall) -> int:
    rid = _rect_open(h)
    in_db(h, lambda s: ratings.verify(s, h.act("m01"), rid, False, "经核实已解释", now=h.now()))
    return rid


def _complaint(h: Hall) -> str:
    return in_db(h, lambda s: complaints.register(s, h.act("c02"), "窗口人员态度不好", "现场", window_code="W02",
                                                  now=h.now())).number


def _followup(h: Hall) -> int:
    number = _complaint(h)
    in_db(h, lambda s: complaints.answer(s, h.act("m01"), number, False, "已核实并答复", now=h.now()))
    return in_db(h, lambda s: s.scalars(select(FollowUp.id).where(FollowUp.source_key == f"complaint:{number}"))
                 .one())


def _record(h: Hall) -> int:
    number = _complaint(h)
    in_db(h, lambda s: complaints.answer(s, h.act("m01"), number, True, "投诉属实，已批评教育", now=h.now()))
    return in_db(h, lambda s: s.scalars(select(AccountabilityRecord.id).where(
        AccountabilityRecord.source_key == f"complaint:{number}")).one())


def _appointment(h: Hall) -> int:
    day = _next_workday(h)
    return in_db(h, lambda s: appointments.book(s, h.act("c02"), "c02", day, "王小明", phone="13900001111",
                                                purpose="咨询低保", now=h.now())).id


def _visit(h: Hall) -> int:
    return in_db(h, lambda s: appointments.plan_visit(s, h.act("m01"), h.now().date(), "东村", ["c02"],
                                                      place="村委会", now=h.now())).id


def _next_workday(h: Hall) -> date:
    today = h.now().date()
    return next(d for d in h.days if d > today)


PREPARE: dict[str, Callable[[Hall], Any]] = {
    "accepted": _accepted, "in_progress": _in_progress, "paused": _paused, "special": _special,
    "escalated": _escalated, "closed": _closed, "proxy_accepted": _proxy_accepted,
    "proxy_forwarded": _proxy_forwarded, "joint_accepted": _joint_accepted, "joint_copy": _joint_copy,
    "transfer": _transfer, "token": _token, "rect_open": _rect_open, "rect_verified": _rect_verified,
    "complaint": _complaint, "followup": _followup, "record": _record, "appointment": _appointment,
    "visit": _visit,
}


# -------------------------------------------------------------------------------------------- scenarios
@dataclass(frozen=True)
class Scenario:
    """One service call: ``fields`` are the text parameters fuzzed (one per input), ``call(h, session, fixture,
    value of each field)`` makes the call; ``pool`` names the record it needs (used up when accepted)."""

    name: str
    fields: dict[str, str]  # field → its valid value
    call: Callable[[Hall, Any, Any, dict[str, str]], Any]
    pool: str | None = None
    weight: float = 1.0
    writes: bool = True  # False: a read or a pure function (no transaction to keep)


def _form(v: dict[str, str], *, org: bool = False) -> intake.IntakeForm:
    agent = intake.AgentForm(v["agent_name"], v["agent_id"], v["agent_phone"]) \
        if v["agent_name"] or v["agent_id"] else None
    applicant = intake.ApplicantForm("org" if org else "person", v["id_no"], v["name"], v["phone"], v["address"])
    return intake.IntakeForm(v["item_code"], applicant, materials={v["material"]: "received"}, kind=v["kind"] or None,
                             kind_reason=v["kind_reason"], agent=agent, note=v["note"], decision=v["decision"],
                             refusal_reason=v["refusal_reason"], redirect_organ=v["redirect_organ"])


INTAKE = {"id_no": "11010519491231002X", "name": "张三", "phone": "13812345678", "address": "东村3组",
          "agent_name": "", "agent_id": "", "agent_phone": "", "note": "", "kind": "", "kind_reason": "",
          "decision": "accept", "refusal_reason": "", "redirect_organ": "", "item_code": PROMISED,
          "material": "户口簿"}


def _intake(h: Hall, s: Any, _fx: Any, v: dict[str, str], *, org: bool = False) -> Any:
    v = dict(v)
    if v["material"] == INTAKE["material"]:  # the valid default: one of the item's own materials
        v["material"] = next(iter(materials(s, PROMISED)))
    return intake.register(s, h.act("c02"), _form(v, org=org), now=h.now())


def _intake_fields() -> dict[str, str]:
    return dict(INTAKE)


SCENARIOS: list[Scenario] = [
    # intake: the applicant, the agent, the note, the kind change, the refusal, the item code, a material name
    Scenario("intake.register(person)", _intake_fields(), _intake, weight=6),
    Scenario("intake.register(agent)", {**INTAKE, "agent_name": "李四", "agent_id": "440524188001010014",
                                        "agent_phone": "13900001111"}, _intake, weight=2),
    Scenario("intake.register(kind change)", {**INTAKE, "kind": "immediate", "kind_reason": "当场可办"}, _intake),
    Scenario("intake.register(refusal)", {**INTAKE, "decision": "refuse", "refusal_reason": "不属于本中心受理范围",
                                          "redirect_organ": "县市场监管局"}, _intake, weight=2),
    Scenario("intake.register(org)", {**INTAKE, "id_no": "91350100M000100Y43", "name": "示例镇农机合作社"},
             lambda h, s, fx, v: _intake(h, s, fx, v, org=True)),
    Scenario("intake.find_applicant", {"query": "张"}, lambda h, s, fx, v: intake.find_applicant(s, v["query"]),
             writes=False, weight=2),
    Scenario("queue.find_applicants", {"query": "ZS"}, lambda h, s, fx, v: queue.find_applicants(s, v["query"]),
             writes=False),
    Scenario("queue.page(search)", {"text": "张三"}, lambda h, s, fx, v: queue.page(
        s, queue.TicketFilter(text=v["text"], open_only=False), today=h.now().date()), writes=False, weight=2),
    Scenario("queue.counts(search)", {"text": "0001"}, lambda h, s, fx, v: queue.counts(
        s, queue.TicketFilter(text=v["text"]), today=h.now().date()), writes=False),
    Scenario("queue.detail", {"number": ""}, lambda h, s, fx, v: queue.detail(
        s, h.act("c02"), v["number"] or fx, today=h.now().date()), pool="accepted", writes=False),
    Scenario("queue.reveal_id", {"number": ""}, lambda h, s, fx, v: queue.reveal_id(s, h.act("c02"), v["number"] or fx),
             pool="accepted"),
    Scenario("intake.preview_deadline", {"item_code": PROMISED},
             lambda h, s, fx, v: intake.preview_deadline(s, v["item_code"], on=h.now().date()), writes=False),
    Scenario("catalog.find_items", {"query": "dibao"}, lambda h, s, fx, v: catalog.find_items(
        catalog.item_views(s), v["query"]), writes=False),
    # the state machine
    Scenario("workflow.start", {"number": "", "note": "开始审核"}, lambda h, s, fx, v: workflow.start(
        s, h.act("c02"), v["number"] or fx, v["note"], now=h.now()), pool="accepted"),
    Scenario("workflow.withdraw", {"reason": "申请人撤回申请"}, lambda h, s, fx, v: workflow.withdraw(
        s, h.act("c02"), fx, v["reason"], now=h.now()), pool="accepted"),
    Scenario("workflow.change_kind", {"kind": "immediate", "reason": "材料齐全可当场办"},
             lambda h, s, fx, v: workflow.change_kind(s, h.act("c02"), fx, v["kind"], v["reason"], now=h.now()),
             pool="accepted"),
    Scenario("workflow.pause", {"reason": "等待补正材料"}, lambda h, s, fx, v: workflow.pause(
        s, h.act("c02"), fx, v["reason"], now=h.now()), pool="in_progress"),
    Scenario("workflow.resume", {"reason": "补正材料已收到"}, lambda h, s, fx, v: workflow.resume(
        s, h.act("c02"), fx, v["reason"], now=h.now()), pool="paused"),
    Scenario("workflow.special_start", {"step": "公示", "reason": "公示七日"},
             lambda h, s, fx, v: workflow.special_start(s, h.act("c02"), fx, v["step"], v["reason"], now=h.now()),
             pool="in_progress"),
    Scenario("workflow.special_end", {"result": "公示无异议"}, lambda h, s, fx, v: workflow.special_end(
        s, h.act("c02"), fx, v["result"], now=h.now()), pool="special"),
    Scenario("workflow.extend", {"reason": "需实地核查", "approver": "m01"}, lambda h, s, fx, v: workflow.extend(
        s, h.act("m01"), fx, 5, v["reason"], v["approver"], now=h.now()), pool="in_progress"),
    Scenario("workflow.close", {"outcome": "approved", "result": "准予救助，已发放", "doc_no": "民救〔2026〕1号"},
             lambda h, s, fx, v: workflow.close(s, h.act("c02"), fx, v["outcome"], v["result"],
                                                result_doc_no=v["doc_no"], now=h.now()), pool="in_progress", weight=3),
    Scenario("workflow.deliver", {"how": "当面领取", "signed_by": "张三", "doc_no": "", "note": ""},
             lambda h, s, fx, v: workflow.deliver(s, h.act("c02"), fx, v["how"], v["signed_by"], doc_no=v["doc_no"],
                                                  note=v["note"], now=h.now()), pool="closed", weight=2),
    Scenario("tickets.void", {"reason": "重复登记"}, lambda h, s, fx, v: tickets.void(
        s, h.act("c02"), fx, v["reason"]), pool="accepted"),
    Scenario("tickets.get", {"number": "320581101-000-20260302-0001"},
             lambda h, s, fx, v: tickets.get(s, v["number"]), writes=False),
    # proxy, joint, routing
    Scenario("proxy.forward", {"department": "县民政局", "how": "专人报送", "note": "材料原件已报送"},
             lambda h, s, fx, v: proxy.forward(s, h.act("c02"), fx, v["department"], how_sent=v["how"],
                                               note=v["note"], now=h.now()), pool="proxy_accepted", weight=2),
    Scenario("proxy.record_reference", {"dept_ref": "MZ-2026-0311"}, lambda h, s, fx, v: proxy.record_reference(
        s, h.act("c02"), fx, v["dept_ref"], now=h.now()), pool="proxy_forwarded"),
    Scenario("proxy.department_returned", {"outcome": "approved", "answer": "经审核符合条件", "dept_ref": "",
                                           "doc_no": ""},
             lambda h, s, fx, v: proxy.department_returned(s, h.act("c02"), fx, v["outcome"], v["answer"],
                                                           dept_ref=v["dept_ref"], result_doc_no=v["doc_no"],
                                                           now=h.now()), pool="proxy_forwarded", weight=2),
    Scenario("joint.copy", {"department": "县医保中心", "asked": "请审核参保信息"},
             lambda h, s, fx, v: joint.copy(s, h.act("c03"), fx, [joint.CopyRequest(v["department"],
                                                                                    asked=v["asked"])], now=h.now()),
             pool="joint_accepted", weight=2),
    Scenario("joint.record_opinion", {"answer": "disagree", "opinion": "缺少死亡证明", "answered_by": "刘科长"},
             lambda h, s, fx, v: joint.record_opinion(s, h.act("c03"), fx, v["answer"], v["opinion"],
                                                      v["answered_by"], now=h.now()), pool="joint_copy", weight=2),
    Scenario("routing.request_transfer", {"to_window": "W03", "reason": "不属本窗口", "handover": "材料已移交",
                                          "to_staff": ""},
             lambda h, s, fx, v: routing.request_transfer(s, h.act("c02"), fx, v["to_window"], v["reason"],
                                                          v["handover"], to_staff_no=v["to_staff"] or None,
                                                          now=h.now()), pool="accepted", weight=2),
    Scenario("routing.decline_transfer", {"reason": "本窗口无此职能"}, lambda h, s, fx, v: routing.decline_transfer(
        s, h.act("c03"), fx, v["reason"], now=h.now()), pool="transfer"),
    Scenario("routing.accept_transfer", {"number": ""}, lambda h, s, fx, v: routing.accept_transfer(
        s, h.act("c03"), v["number"] or fx, now=h.now()), pool="transfer"),
    Scenario("routing.escalate", {"reason": "涉及多部门须集体研究"}, lambda h, s, fx, v: routing.escalate(
        s, h.act("c02"), fx, v["reason"], now=h.now()), pool="in_progress"),
    Scenario("routing.decide", {"outcome": "同意按程序办理", "meeting": "镇党委会〔2026〕3号"},
             lambda h, s, fx, v: routing.decide(s, h.act("m01"), fx, v["outcome"], v["meeting"], now=h.now()),
             pool="escalated"),
    # ratings, follow-ups, complaints, accountability
    Scenario("ratings.request_rating", {"stage": "closure"}, lambda h, s, fx, v: ratings.request_rating(
        s, h.act("c02"), fx, v["stage"], now=h.now()), pool="closed"),
    Scenario("ratings.rate", {"token": "", "comment": "办事很快"}, lambda h, s, fx, v: ratings.rate(
        s, _pad(h), v["token"] or fx, 5, v["comment"], now=h.now()),
        pool="token", weight=2),
    Scenario("ratings.verify", {"finding": "经核实系误解"}, lambda h, s, fx, v: ratings.verify(
        s, h.act("m01"), fx, False, v["finding"], now=h.now()), pool="rect_open"),
    Scenario("ratings.record_rectified", {"action": "已向申请人当面解释"},
             lambda h, s, fx, v: ratings.record_rectified(s, h.act("m01"), fx, v["action"], now=h.now()),
             pool="rect_verified"),
    Scenario("followups.record_outcome", {"method": "电话", "outcome": "申请人表示满意"},
             lambda h, s, fx, v: followups.record_outcome(s, h.act("m01"), fx, v["method"], v["outcome"],
                                                          satisfied=True, now=h.now()), pool="followup"),
    Scenario("complaints.register", {"content": "等候时间太长", "channel": "现场", "complainant": "王先生",
                                     "phone": "13900001111", "ticket": "", "staff_no": "", "window": "W02"},
             lambda h, s, fx, v: complaints.register(s, h.act("c02"), v["content"], v["channel"],
                                                     complainant=v["complainant"], phone=v["phone"],
                                                     ticket_number=v["ticket"] or None, staff_no=v["staff_no"] or None,
                                                     window_code=v["window"] or None, now=h.now()), weight=2),
    Scenario("complaints.answer", {"number": "", "reply": "已核实并答复投诉人"},
             lambda h, s, fx, v: complaints.answer(s, h.act("m01"), v["number"] or fx, False, v["reply"],
                                                   now=h.now()), pool="complaint"),
    Scenario("accountability.record_finding", {"finding": "dismissed", "text": "情节轻微，不予追究", "measure": ""},
             lambda h, s, fx, v: accountability.record_finding(s, h.act("m01"), fx, v["finding"], v["text"],
                                                               measure=v["measure"], now=h.now()), pool="record"),
    # appointments, visits, attendance
    Scenario("appointments.book", {"staff_no": "c02", "citizen": "王小明", "phone": "13900001111",
                                   "purpose": "咨询低保政策", "slot": "上午"},
             lambda h, s, fx, v: appointments.book(s, h.act("c02"), v["staff_no"], _next_workday(h), v["citizen"],
                                                   phone=v["phone"], purpose=v["purpose"], slot=v["slot"],
                                                   now=h.now()), weight=2),
    Scenario("appointments.record_outcome", {"outcome": "kept", "ticket": "", "note": "已接待"},
             lambda h, s, fx, v: appointments.record_outcome(s, h.act("m01"), fx, v["outcome"],
                                                             ticket_number=v["ticket"] or None, note=v["note"],
                                                             now=h.now()), pool="appointment"),
    Scenario("appointments.plan_visit", {"village": "东村", "staff_no": "c02", "place": "村委会"},
             lambda h, s, fx, v: appointments.plan_visit(s, h.act("m01"), h.now().date(), v["village"],
                                                         [v["staff_no"]], place=v["place"], now=h.now())),
    Scenario("appointments.tag_ticket", {"number": "320581101-000-20260302-0001"},
             lambda h, s, fx, v: appointments.tag_ticket(s, h.act("m01"), fx, v["number"], now=h.now()),
             pool="visit"),
    Scenario("appointments.finish_visit", {"summary": "走访农户十二户，收件三件"},
             lambda h, s, fx, v: appointments.finish_visit(s, h.act("m01"), fx, v["summary"], now=h.now()),
             pool="visit"),
    Scenario("bposts.mark_attendance", {"staff_no": "c09", "status": "present", "note": "按时到岗"},
             lambda h, s, fx, v: bposts.mark_attendance(s, h.act("m01"), v["staff_no"], v["status"],
                                                        day=h.now().date(), note=v["note"], now=h.now())),
    # administration: staff, intake points, settings, the calendar, the catalogue
    Scenario("staff.add_staff", {"staff_no": "", "name": "钱新", "role": "clerk", "post": "民政窗口",
                                 "window": "W02", "point": "000", "b_post": ""},
             lambda h, s, fx, v: staff.add_staff(s, h.act("admin"), staff.StaffForm(
                 v["staff_no"] or h.unique("f"), v["name"], v["role"], v["post"], v["window"] or None,
                 v["point"], v["b_post"] or None))),
    Scenario("staff.set_b_post", {"staff_no": "c09", "b_post": "c02"}, lambda h, s, fx, v: staff.set_b_post(
        s, h.act("admin"), v["staff_no"], v["b_post"])),
    Scenario("staff.set_password", {"staff_no": "c01", "password": "new-pass-123"},
             lambda h, s, fx, v: staff.set_password(s, h.act("admin"), v["staff_no"], v["password"]), weight=0.2),
    Scenario("staff.authenticate", {"staff_no": "c02", "password": "clerk-pass-1"},
             lambda h, s, fx, v: staff.authenticate(s, v["staff_no"], v["password"], h.opened.node), weight=0.2,
             writes=False),
    Scenario("staff.add_intake_point", {"code": "", "name": "新村代办点"}, lambda h, s, fx, v: staff.add_intake_point(
        s, h.act("admin"), v["code"] or f"{h.rng.randint(2, 999):03d}", v["name"])),
    *(Scenario(f"settings.set_values({key})", {"value": str(settings.DEFAULTS[key])},
               lambda h, s, fx, v, key=key: settings.set_values(s, h.act("admin"), {key: v["value"]}), weight=0.4)
      for key in ("hall_name", "township_name", "hall_address", "service_phone", "supervision_phone",
                  "unrated_counts_as", "township_code")),
    Scenario("settings.set_values(key)", {"key": "hall_name"}, lambda h, s, fx, v: settings.set_values(
        s, h.act("admin"), {v["key"]: "示例镇便民服务中心"}), weight=0.4),
    Scenario("settings.set_values(village)", {"code": "001", "name": "东村代办点"},
             lambda h, s, fx, v: settings.set_values(s, h.act("admin"), {"village_names": {v["code"]: v["name"]}})),
    Scenario("calendar.add_local_holiday", {"name": "三月三"}, lambda h, s, fx, v: _holiday(h, s, v["name"])),
    Scenario("calendar.notice", {"name": "春节", "reference": "国办发明电〔2026〕1号", "makeup": "春节调休"},
             lambda h, s, fx, v: calendar.validate_notice(calendar.notice_from_dict({
                 "year": 2031, "notice": v["reference"],
                 "holidays": [{"name": v["name"], "start": "2031-01-27", "end": "2031-02-02"}],
                 "makeup_workdays": [{"date": "2031-01-26", "name": v["makeup"]}]})), writes=False),
    Scenario("catalog.parse_sheets", {"cell": "低保申请"}, lambda h, s, fx, v: _catalogue(h, v["cell"]),
             writes=False, weight=0.5),  # the valid cell is CATALOGUE_CELL
    # papers
    Scenario("papers.record_print", {"kind": "acceptance", "printer": "HP LaserJet"},
             lambda h, s, fx, v: papers.record_print(s, h.act("c02"), fx, v["kind"], 1, False, v["printer"]),
             pool="accepted"),
    Scenario("papers.paper_for_ticket", {"number": "", "kind": "acceptance"},
             lambda h, s, fx, v: papers.paper_for_ticket(s, v["number"] or fx, v["kind"], today=h.now().date()),
             pool="accepted", writes=False),
    Scenario("papers.item_notice", {"code": PROMISED}, lambda h, s, fx, v: papers.item_notice(s, v["code"]),
             writes=False),
    Scenario("papers.window_boards", {"code": "W02"}, lambda h, s, fx, v: papers.window_boards(s, v["code"]),
             writes=False, weight=0.5),
    # the pure parsers a typed text meets
    Scenario("validators", {"text": "张三"}, lambda h, s, fx, v: _parsers(v["text"]), writes=False, weight=2),
]


def _holiday(h: Hall, s: Any, name: str) -> Any:
    while h.holiday.weekday() >= 5:
        h.holiday += timedelta(days=1)
    day = h.holiday
    out = calendar.add_local_holiday(s, h.act("admin"), day, name)
    h.holiday += timedelta(days=1)  # the next accepted one takes another day (a rejected one keeps it)
    return out


_SHEETS_CACHE: dict[str, Any] = {}


def _catalogue(h: Hall, cell: str) -> Any:
    """The catalogue workbook's rows with one cell replaced, through the parser an import uses."""
    if not _SHEETS_CACHE:
        spec = catalog.read_tsv_dir(catalog.default_catalog_dir())
        raw = spec.to_sheets()
        _SHEETS_CACHE["sheets"] = {sheet: [{header: row.get(key, "") for key, header in SHEETS[sheet]}
                                           for row in raw[sheet]] for sheet in SHEETS}
    sheets = json.loads(json.dumps(_SHEETS_CACHE["sheets"]))
    if cell == CATALOGUE_CELL:  # the valid input: a note on the first item
        sheets["事项"][0]["备注"] = cell
    else:  # any cell of any sheet
        sheet = h.rng.choice(sorted(sheets))
        row = h.rng.choice(sheets[sheet])
        row[h.rng.choice(sorted(row))] = cell
    return parse_sheets(sheets)


CATALOGUE_CELL = "低保申请"


def _parsers(value: str) -> None:
    """Every parser a typed text meets, each allowed only to raise the project's own error."""
    parsers = [lambda t: validators.parse_id_number(t, today=date(2026, 3, 2)), validators.parse_credit_code,
               validators.parse_phone, validators.parse_person_name, parse_number, Period.parse_month,
               Period.parse_quarter]
    # The free-text rule's own functions (getattr: the harness also runs on a release without them, for the
    # figures before the rule).
    if hasattr(validators, "free_text"):
        parsers += [lambda t: validators.parse_key(t, "办件编号"),
                    lambda t: validators.free_text(t, "备注", max_len=2000, multiline=True)]
        validators.search_text(value)
        validators.shown(value)
    for parse in parsers:
        with contextlib.suppress(HallError):
            parse(value)
    ticket_search.classify(value)
    for mask in (masking.mask_name, masking.mask_id_for_clerk, masking.mask_id_for_receipt, masking.mask_phone,
                 masking.village_only, masking.find_unmasked_identifiers):
        mask(value)


# ------------------------------------------------------------------------------------------------ the run
@dataclass
class Report:
    db: str
    inputs: int = 0
    accepted: int = 0
    rejected: int = 0
    unhandled: list[dict[str, str]] = field(default_factory=list)
    unclean_messages: list[dict[str, str]] = field(default_factory=list)
    per_scenario: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    stored_bad: list[str] = field(default_factory=list)
    baseline_failures: list[str] = field(default_factory=list)
    stored_rows_scanned: int = 0
    exports: list[str] = field(default_factory=list)
    export_failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    fixtures: int = 0

    @property
    def ok(self) -> bool:
        return not (self.unhandled or self.unclean_messages or self.stored_bad or self.export_failures
                    or self.baseline_failures)

    def summary(self) -> dict[str, Any]:
        kinds = Counter(u["error"] for u in self.unhandled)
        return {"db": self.db, "inputs": self.inputs, "accepted": self.accepted, "rejected_with_message": self.rejected,
                "unhandled": len(self.unhandled), "unhandled_by_type": dict(kinds),
                "unclean_messages": len(self.unclean_messages), "stored_bad_characters": len(self.stored_bad),
                "stored_values_scanned": self.stored_rows_scanned, "exports_written": len(self.exports),
                "export_failures": len(self.export_failures), "fixtures_prepared": self.fixtures,
                "valid_baseline_failures": len(self.baseline_failures),
                "seconds": round(self.seconds, 1), "ok": self.ok}


def _message_clean(message: str) -> bool:
    """A message a dialog and the log can carry: no forbidden character (newlines allowed), not a pasted page."""
    return len(message) <= 5000 and _bad_char(message, one_line=False) is None and "\t" not in message


def _short(value: str) -> str:
    r = repr(value)
    return r if len(r) <= 160 else r[:150] + f"…(len {len(value)})"


def baseline(h: Hall, report: Report) -> None:
    """Every scenario once with all its values valid: each must be accepted, or the fuzz would only ever test
    the refusals of a fixture the harness got wrong."""
    for sc in SCENARIOS:
        fixture = h.take(sc.pool) if sc.pool is not None else None
        try:
            with h.db.transaction() as s:
                sc.call(h, s, fixture, dict(sc.fields))
        except Exception as exc:
            report.baseline_failures.append(f"{sc.name}: {type(exc).__name__}: {_short(str(exc))}")


def fuzz(h: Hall, inputs: int, report: Report, *, progress: bool = False) -> None:
    weights = [sc.weight for sc in SCENARIOS]
    started = time.perf_counter()
    for i in range(inputs):
        h.step = i
        sc = h.rng.choices(SCENARIOS, weights)[0]
        name = h.rng.choice(sorted(sc.fields))
        value = hostile(h.rng)
        args = {**sc.fields, name: value}
        fixture = h.take(sc.pool) if sc.pool is not None else None
        outcome = "accepted"
        try:
            if sc.writes:
                with h.db.transaction() as s:
                    sc.call(h, s, fixture, args)
            else:
                with h.db.reading() as s:
                    sc.call(h, s, fixture, args)
        except HallError as exc:
            outcome = "rejected"
            message = str(exc)
            if not _message_clean(message):
                report.unclean_messages.append({"scenario": sc.name, "field": name, "value": _short(value),
                                                "message": _short(message)})
        except Exception as exc:  # what the fuzzer is for: anything but the project's error is a bug
            outcome = "unhandled"
            report.unhandled.append({
                "scenario": sc.name, "field": name, "value": _short(value), "error": type(exc).__name__,
                "message": _short(str(exc))[:300],
                "where": "".join(traceback.format_tb(exc.__traceback__)[-2:])[-600:],
            })
        if sc.pool is not None and (outcome != "accepted" or not sc.writes):
            h.give_back(sc.pool, fixture)
        report.inputs += 1
        report.accepted += outcome == "accepted"
        report.rejected += outcome == "rejected"
        report.per_scenario[sc.name][outcome] += 1
        report.fixtures = h.prepared
        if progress and (i + 1) % 5000 == 0:
            rate = (i + 1) / (time.perf_counter() - started)
            print(f"  {i + 1:,} inputs, {len(report.unhandled)} unhandled, {rate:,.0f} inputs/s", flush=True)


# What the free-text rule forbids in any stored text (tab and newline allowed in Text columns only).
def _bad_char(value: str, *, one_line: bool) -> str | None:
    for c in value:
        o = ord(c)
        if c in "\t\n":
            if one_line:
                return c
            continue
        if (o < 0x20 or 0x7F <= o <= 0x9F or 0xD800 <= o <= 0xDFFF or 0x202A <= o <= 0x202E
                or 0x2066 <= o <= 0x2069 or 0xFDD0 <= o <= 0xFDEF or (o & 0xFFFE) == 0xFFFE
                or c in "\u2028\u2029"):
            return c
    return None


def _strings(obj: Any) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(obj, list | tuple):
        for v in obj:
            yield from _strings(v)


def scan_stored(h: Hall, report: Report) -> None:
    """Every text, string and JSON column of every table, and every string in each event payload."""
    with h.db.reading() as s:
        for table in Base.metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            if not cols:
                continue
            for row in s.execute(select(*cols)).yield_per(5000):
                for col, value in zip(cols, row, strict=True):
                    if value is None:
                        continue
                    one_line = isinstance(col.type, String) and not isinstance(col.type, Text)
                    if table.name == "events" and col.name == "payload":
                        value = json.loads(value)
                    values = [value] if isinstance(value, str) else list(_strings(value))
                    for v in values:
                        report.stored_rows_scanned += 1
                        bad = _bad_char(v, one_line=one_line and isinstance(value, str))
                        if bad is not None:
                            report.stored_bad.append(f"{table.name}.{col.name}: U+{ord(bad):04X} in {_short(v)}")


def _months(h: Hall) -> list[Period]:
    first, last = h.days[0], h.now().date()
    out, d = [], date(first.year, first.month, 1)
    while d <= last:
        out.append(Period.month(d.year, d.month))
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def _most_hostile(h: Hall, limit: int = 6) -> list[str]:
    """Numbers of the tickets whose stored texts are the least plain (what a paper most likely chokes on)."""
    with h.db.reading() as s:
        rows = s.execute(select(Ticket.number, Ticket.note, Ticket.result, Ticket.applicant_address,
                                Ticket.applicant_name, Ticket.refusal_reason)).all()
    def score(r: Any) -> int:
        return sum(sum(1 for c in (v or "") if not c.isascii()) + len(v or "") // 50 for v in r[1:])
    return [r[0] for r in sorted(rows, key=score, reverse=True)[:limit]]


def export_everything(h: Hall, out: Path, report: Report, tag: str) -> None:
    """Monthly reports, both ledgers and the papers of the most hostile tickets; a failure is recorded."""
    from hall.exchange import reports_xlsx
    from hall.print.receipt80 import Receipt80Renderer
    from hall.print.ticket_layout import TicketPaperRenderer

    out.mkdir(parents=True, exist_ok=True)
    today = h.now().date()

    def attempt(what: str, fn: Callable[[], Any]) -> None:
        try:
            fn()
            report.exports.append(what)
        except HallError as exc:
            # A paper the ticket's record cannot fill is a message, not a crash: not a failure.
            report.exports.append(f"{what} (refused: {str(exc)[:80]})")
        except Exception as exc:
            report.export_failures.append(f"{tag} {what}: {type(exc).__name__}: {_short(str(exc))}\n"
                                          + "".join(traceback.format_tb(exc.__traceback__)[-3:]))

    for period in _months(h):
        with h.db.reading() as s:
            attempt(f"{tag} monthly {period.label}", lambda s=s, p=period: reports_xlsx.monthly_or_quarterly(
                s, p, out / f"{tag}-month-{p.start:%Y%m}.xlsx", today=today))
    whole = Period.between(h.days[0], today)
    with h.db.transaction() as s:
        attempt(f"{tag} ledger (full)", lambda: reports_xlsx.write_ledger(
            s, h.act("admin"), whole, out / f"{tag}-ledger-full.xlsx", today=today, full=True, now=h.now()))
    with h.db.reading() as s:
        attempt(f"{tag} ledger (masked)", lambda: reports_xlsx.write_ledger(
            s, h.act("m01"), whole, out / f"{tag}-ledger.xlsx", today=today))
    for number in _most_hostile(h):
        for kind in ("acceptance", "closure", "refusal", "supplement"):
            def paper(number: str = number, kind: str = kind) -> None:
                with h.db.reading() as s:
                    data = papers.paper_for_ticket(s, number, kind, today=today)
                paper_, item, hall = data
                for renderer in (TicketPaperRenderer, Receipt80Renderer):
                    pdf = renderer(kind, paper_, hall, item).render()
                    (out / f"{tag}-{number}-{kind}-{renderer.__name__}.pdf").write_bytes(pdf)
            attempt(f"{tag} paper {kind} {number}", paper)


LEGACY = "旧\x01数据\x07含\x1b控制\x0b字符\x7f=cmd|' /C calc'!A0\u202e反向\ufffe"


def write_legacy_rows(h: Hall) -> None:
    """Hostile characters written straight into rows, as a ledger from before the rule (or a hand edit) has."""
    legacy = LEGACY if h.db.is_sqlite else LEGACY.replace("\x00", "")  # PostgreSQL text cannot hold NUL at all
    with h.db.engine.begin() as c:
        ids = [r[0] for r in c.execute(select(Ticket.id).order_by(Ticket.id).limit(20))]
        columns = ("note", "result", "applicant_address", "item_name", "applicant_name", "refusal_reason")
        value = legacy + ("\x00" if h.db.is_sqlite else "")
        c.execute(text("UPDATE tickets SET " + ", ".join(f"{col} = :{col}" for col in columns)
                       + " WHERE id IN (" + ",".join(map(str, ids)) + ")"), dict.fromkeys(columns, value))
        c.execute(text("UPDATE staff SET name = :v WHERE staff_no = 'c02'"), {"v": "王\x01民政"})


def run(*, inputs: int, db: str = "sqlite", seed: int = 20260302, workdir: Path | None = None,
        opened: Opened | None = None, pg_url: str | None = None, progress: bool = False,
        legacy: bool = True) -> Report:
    """Build (or take) a hall, fuzz ``inputs`` inputs, scan what is stored, export and print."""
    report = Report(db)
    own_dir = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="hall-fuzz-"))
    started = time.perf_counter()
    try:
        if opened is None:
            opened = build_hall(workdir, pg_url if db == "postgresql" else None)
            own_hall = True
        else:
            Base.metadata.create_all(opened.db.engine)
            add_people(opened)
            own_hall = False
        try:
            h = open_hall_for_fuzz(opened, seed)
            baseline(h, report)
            fuzz(h, inputs, report, progress=progress)
            scan_stored(h, report)
            export_everything(h, workdir / "exports", report, "after-fuzz")
            if legacy:
                write_legacy_rows(h)
                export_everything(h, workdir / "exports", report, "legacy-rows")
        finally:
            if own_hall:
                opened.db.dispose()
    finally:
        report.seconds = time.perf_counter() - started
        if own_dir:
            shutil.rmtree(workdir, ignore_errors=True)
    return report


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL server (tests/pgserver.py) with one empty database; its URL."""
    sys.path.insert(0, str(ROOT / "tests"))
    from pgserver import _admin_execute, find_bindir, start_server, stop_server

    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL binaries not found (see tests/pgserver.py)")
    base = Path(tempfile.mkdtemp(prefix="hall-fuzz-pg-"))
    server = start_server(bindir, base)
    try:
        name = f"fuzz_{uuid.uuid4().hex[:8]}"
        _admin_execute(server, f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        yield server.url(name)
    finally:
        stop_server(server)
        shutil.rmtree(base, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--inputs", type=int, default=100_000)
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--seed", type=int, default=20260302)
    p.add_argument("--json", help="write the full report (every finding) to this file")
    p.add_argument("--no-legacy", action="store_true", help="skip the export of rows written before the rule")
    args = p.parse_args(argv)
    import os

    print(f"fuzz_inputs: {args.inputs:,} inputs on {args.db}, seed {args.seed}; load {os.getloadavg()[0]:.2f}",
          flush=True)
    with postgres() if args.db == "postgresql" else contextlib.nullcontext(None) as url:
        report = run(inputs=args.inputs, db=args.db, seed=args.seed, pg_url=url, progress=True,
                     legacy=not args.no_legacy)
    summary = report.summary()
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    for u in report.unhandled[:20]:
        print(f"UNHANDLED {u['scenario']} [{u['field']}] {u['error']}: {u['message']}\n  value {u['value']}\n"
              f"{u['where']}")
    for m in report.unclean_messages[:10]:
        print(f"UNCLEAN MESSAGE {m}")
    for b in report.stored_bad[:10]:
        print(f"STORED {b}")
    for f in report.export_failures[:10]:
        print(f"EXPORT {f}")
    for f in report.baseline_failures:
        print(f"VALID INPUT REFUSED {f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "unhandled": report.unhandled,
                                               "unclean_messages": report.unclean_messages,
                                               "stored_bad": report.stored_bad,
                                               "export_failures": report.export_failures,
                                               "per_scenario": {k: dict(v) for k, v in report.per_scenario.items()}},
                                              ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"load at end {os.getloadavg()[0]:.2f}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
