"""The role matrix (hall/services/base/role_matrix.py) holds: every public mutating service function has an entry,
and calling each one as every role gets past the permission check exactly for the roles the entry allows — every
other role is refused with a Chinese PermissionDenied, even when the service is called directly.

One small ledger for the module (a copy of the session's template hall); every call runs in its own transaction
that is rolled back, so no call sees another's writes.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import pkgutil
import shutil
import types
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from hall_fixtures import PASSWORDS, rating_pad
from sqlalchemy import select

import hall.services as services_root
from hall.errors import HallError, PermissionDenied
from hall.models.workflow import Substitution
from hall.paths import Paths
from hall.services.base import role_matrix
from hall.services.base.actor import Actor
from hall.services.bootstrap import open_hall
from hall.services.calendar import clock, workdays
from hall.services.cases import petition, petition_steps
from hall.services.cases.petition_steps import Participant
from hall.services.catalog import items as catalog
from hall.services.people import staff
from hall.services.registers import rating_channel, ratings
from hall.services.storage import ledger, settings
from hall.services.storage.node import NodeIdentity
from hall.services.sync import keys as sync_keys
from hall.services.tickets import intake
from hall.services.tickets import record as tickets

ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张三", "13812345678", "东村3组")
NOTICE = {"year": 2031, "notice": "测试用（非真实通知）",
          "holidays": [{"name": "元旦", "start": "2031-01-01", "end": "2031-01-01"}], "makeup_workdays": []}


# ------------------------------------------------------------------------------------------ discovery
def _service_modules() -> list[types.ModuleType]:
    return [importlib.import_module(i.name) for i in pkgutil.walk_packages(services_root.__path__, "hall.services.")]


def _calls(tree: ast.AST, mod: types.ModuleType) -> set[Callable[..., Any]]:
    """The module-level functions a function's body names: ``f(...)``, ``module.f(...)``, and those imported
    inside it."""
    local: dict[str, Any] = dict(vars(mod))
    for node in ast.walk(tree):  # function-level imports (``from hall.services... import x``)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hall."):
            source = importlib.import_module(node.module)
            for alias in node.names:
                if hasattr(source, alias.name):
                    local[alias.asname or alias.name] = getattr(source, alias.name)
    out: set[Callable[..., Any]] = set()
    for node in ast.walk(tree):
        target = None
        if isinstance(node, ast.Name):
            target = local.get(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            owner = local.get(node.value.id)
            if isinstance(owner, types.ModuleType) or inspect.isclass(owner):
                target = getattr(owner, node.attr, None)
        if inspect.isfunction(target):
            out.add(target)
    return out


@functools.cache
def mutating_services() -> dict[str, Callable[..., Any]]:
    """Every public function of hall.services that takes an ``actor`` (or the citizen ``channel``) and whose body
    reaches ledger.append / append_many / append_events, directly or through other service functions."""
    graph: dict[Callable[..., Any], set[Callable[..., Any]]] = {}
    for mod in _service_modules():
        defs = {n.name: n for n in ast.parse(inspect.getsource(mod)).body if isinstance(n, ast.FunctionDef)}
        for obj in vars(mod).values():
            if inspect.isfunction(obj) and obj.__module__ == mod.__name__ and obj.__name__ in defs:
                graph[obj] = _calls(defs[obj.__name__], mod)
    writes = {ledger.append, ledger.append_many, ledger.append_events}
    changed = True
    while changed:
        changed = False
        for fn, called in graph.items():
            if fn not in writes and called & writes:
                writes.add(fn)
                changed = True
    return {f"{fn.__module__.removeprefix('hall.services.')}.{fn.__name__}": fn
            for fn in writes - {ledger.append, ledger.append_many, ledger.append_events}
            if not fn.__name__.startswith("_")}


def _takes_actor(fn: Callable[..., Any]) -> bool:
    params = inspect.signature(fn).parameters
    return "actor" in params or "channel" in params


def test_every_mutating_service_has_an_entry_and_every_entry_a_service():
    every = mutating_services()
    without = sorted(n for n, fn in every.items() if not _takes_actor(fn))
    assert without == sorted(role_matrix.NO_ACTOR), "a public mutating service without an actor: say why here"
    found = {n: fn for n, fn in every.items() if _takes_actor(fn)}
    assert len(found) > 70  # the rule finds them (a broken rule would find none and pass)
    missing = sorted(set(found) - set(role_matrix.MATRIX))
    assert not missing, f"public mutating services without a role-matrix entry: {missing}"
    stale = sorted(set(role_matrix.MATRIX) - set(found))
    assert not stale, f"role-matrix entries naming no mutating service: {stale}"
    for name, roles in role_matrix.MATRIX.items():
        assert roles <= set(role_matrix.ROLES) or roles == role_matrix.INTERNAL, name


# ------------------------------------------------------------------------------------------ the prepared ledger
@dataclass
class World:
    opened: Any
    actors: dict[str, Any]  # role → Actor (or the CitizenChannel for "citizen" where a channel is taken)
    citizen: Any
    t: str  # a W02 promised ticket (c02's), accepted
    vt: str  # a ticket of village point 001
    tt: str  # a W02 ticket with a transfer to W04 pending
    closed: str  # a W02 ticket closed, poorly rated
    joint_copy: int
    rect: int
    record: int
    followup: int
    complaint: str
    appointment: int
    visit: int
    substitution: int
    peer: str
    today: date
    workday: date
    data: Any
    # 涉法信访: a 信访 ticket moved to W02 (so the W02 roles are its window's), its case open, a 移交 pending; one of
    # village point 001 with a case; a W02 case closed with its 回访; a reception slot with one booking
    pt: str = ""
    vpt: str = ""
    leg: int = 0
    pfollowup: int = 0
    slot: int = 0
    booking: int = 0
    hall_keys: Any = None


def _register(s, actor, code: str) -> str:
    marks = {m["name"]: "received" for m in catalog.current_item(s, code).materials}
    return intake.register(s, actor, intake.IntakeForm(code, ZHANG, marks)).number


@pytest.fixture(scope="module")
def world(_sqlite_template, tmp_path_factory) -> World:
    from hall.services.cases import bposts, joint, routing, workflow
    from hall.services.registers import accountability, appointments, complaints, followups, reception
    from hall.services.sync import peers

    data = tmp_path_factory.mktemp("roles") / "data"
    shutil.copytree(_sqlite_template, data)
    opened = open_hall(Paths.resolve(data))
    sysa = opened.system
    with opened.db.transaction() as s:
        staff.add_intake_point(s, sysa, "002", "西村代办点")
        staff.add_staff(s, sysa, staff.StaffForm("c04", "钱民生", "clerk", "综合窗口", "W04", password="clerk-pass-1"))
        staff.add_staff(s, sysa, staff.StaffForm("i01", "孙监察", "inspector", "效能监察员", password="inspect-pass"))
        staff.add_staff(s, sysa, staff.StaffForm("v02", "周代办", "village", "代办员", intake_point="002",
                                                 password="village-pass"))
        staff.set_b_post(s, sysa, "c02", "c03")  # c03 is the W02 clerk's B-post
    nodes = {"v01": NodeIdentity("village-node-001", "001"), "v02": NodeIdentity("village-node-002", "002")}
    with opened.db.transaction() as s:
        by_no = {no: staff.actor_for(staff.by_number(s, no), nodes.get(no, opened.node))
                 for no in ("c02", "c03", "c04", "m01", "admin", "i01", "v01", "v02")}
    pad = rating_pad(opened)
    actors = {"clerk_own": by_no["c02"], "clerk_other": by_no["c04"], "b_post": by_no["c03"],
              "manager": by_no["m01"], "inspector": by_no["i01"], "admin": by_no["admin"],
              "village_own": by_no["v01"], "village_other": by_no["v02"],
              "citizen": pad.actor()}
    today = date.today()
    with opened.db.reading() as s:
        cal = clock.calendar_for(s)
        workday = next(today + timedelta(days=n) for n in range(1, 15) if cal.is_workday(today + timedelta(days=n)))
    m, c02 = by_no["m01"], by_no["c02"]
    with opened.db.transaction() as s:
        t = _register(s, c02, "09")
        vt = _register(s, by_no["v01"], "61")
        tt = _register(s, c02, "09")
        routing.request_transfer(s, c02, tt, "W04", "不属本窗口", "材料已全部移交")
        closed = _register(s, c02, "09")
        workflow.close(s, c02, closed, "approved", "同意")
        invite = ratings.request_rating(s, c02, closed, "closure")
        ratings.rate(s, pad, invite.token, 1, "态度生硬")
        rect = ratings.rectifications(s, today)[0].id
        accountability.open_record(s, m, "test:roles", "complaint", today, staff_id=c02.staff_id,
                                   window_code="W02", detail="测试")
        record = accountability.records(s, state="open")[0].id
        followups.schedule(s, m, "test:roles", "complaint", today, window_code="W02")
        from hall.models.workflow import FollowUp
        followup = s.scalars(select(FollowUp.id).where(FollowUp.source_key == "test:roles")).one()
        complaint = complaints.register(s, by_no["c03"], "态度生硬", "现场", staff_no="c02").number
        appointment = appointments.book(s, by_no["c03"], "c02", workday, "张三").id
        visit = appointments.plan_visit(s, m, workday, "东村", ["c02"]).id
        peer_keys = sync_keys.NodeKeys.create("peer-node-003", "laptop", "002")
        peers.enrol(s, by_no["admin"], peer_keys.node_id, "002", peer_keys.sign_key, peer_keys.box_key)
    with opened.db.transaction() as s:
        pt, vpt, leg, pfollowup = _petitions(s, m, c02, by_no["v01"])
        slot = reception.post_slot(s, m, "m01", workday, "上午", "镇信访接待室", 5).id
        booking = reception.book(s, c02, slot, "王五", "13900007777", "反映拖欠工资").id
    with opened.db.transaction() as s:  # c02 on leave today: c03, the B-post, stands in for W02
        bposts.mark_attendance(s, m, "c03", "present", day=today)
        bposts.mark_attendance(s, m, "c02", "leave", day=today, note="事假")
        substitution = s.scalars(select(Substitution.id)).first()
    with opened.db.transaction() as s:  # after the leave: its owner stays c02 (W05's joint case, item 37)
        jt = _register(s, c02, "37")
        copies = joint.copy(s, c02, jt, [joint.CopyRequest("县医保中心", asked="核定参保")])
    assert substitution is not None
    return World(opened, actors, pad, t, vt, tt, closed, copies[0].id, rect, record, followup, complaint,
                 appointment, visit, substitution, peer_keys.node_id, today, workday, data, pt, vpt, leg, pfollowup,
                 slot, booking, sync_keys.NodeKeys.create(opened.node.node_id, "hall", "000"))


def _petitions(s, m: Actor, c02: Actor, v01: Actor) -> tuple[str, str, int, int]:
    """The 信访 cases of the world (item 68 is the 信访 window W10's; the manager moves two to W02, accepted by its
    clerk, so the W02 roles play the 信访 window's)."""
    from hall.models.petition import PetitionFollowUp
    from hall.services.cases import routing

    def at_w02() -> str:
        number = _register(s, m, "68")
        routing.request_transfer(s, m, number, "W02", "信访事项由本窗口办理", "材料已全部移交")
        routing.accept_transfer(s, c02, number)
        petition.register(s, m, number, "c02")
        return number

    pt, closed = at_w02(), at_w02()
    leg = petition_steps.transfer(s, c02, pt, "县人力资源和社会保障局", "示信移〔2026〕7号").id
    petition_steps.close_case(s, c02, closed, "approved", "已化解")
    pfollowup = s.scalars(select(PetitionFollowUp.id).order_by(PetitionFollowUp.id)).first()
    vpt = _register(s, v01, "68")
    petition.register(s, m, vpt, "c02")
    assert pfollowup is not None
    return pt, vpt, leg, pfollowup


# ------------------------------------------------------------------------------------------ how each is called
Call = Callable[[Any, Any, World], Any]  # (session, actor-or-channel, world)


def _ticket(w: World, role: str) -> str:
    """The ticket a role's call is about: the village roles act on the village point's ticket."""
    return w.vt if role.startswith("village") else w.t


def _petition(w: World, role: str) -> str:
    """The 信访 case a role's call is about: the village roles act on the village point's."""
    return w.vpt if role.startswith("village") else w.pt


def _calls_table() -> dict[str, Callable[[Any, Any, World, str], Any]]:
    from hall.services.calendar.derived import DateRule
    from hall.services.cases import bposts, daily, joint, proxy, recalc, rederive, routing, supplement, workflow
    from hall.services.catalog import windows
    from hall.services.registers import accountability, appointments, complaints, followups, inspection, reception
    from hall.services.reporting import papers, queue
    from hall.services.storage import anchor
    from hall.services.sync import conflicts, enrolment, peers
    from hall.services.tickets import fees

    notice = workdays.notice_from_dict(NOTICE)
    later = date(2031, 5, 6)

    def tk(fn: Callable[..., Any]) -> Callable[[Any, Any, World, str], Any]:
        return lambda s, a, w, role: fn(s, a, _ticket(w, role))

    def pc(fn: Callable[..., Any]) -> Callable[[Any, Any, World, str], Any]:
        return lambda s, a, w, role: fn(s, a, _petition(w, role))

    hearing = [Participant("人大代表", "周代表"), Participant("当事人", "张三")]
    four = petition.FourFixed("m01", ("c02",), date.today(), "约谈用人单位")
    lawyer = petition.AgentForm("李律师", "13900001111", "律师", True, "13205201810123456", "示例律师事务所")
    laptop = sync_keys.NodeKeys.create("village-node-010", "laptop", "003")  # a new point: added, then enrolled
    request = enrolment.Request(laptop.node_id, "003", laptop.sign_key, laptop.box_key)

    return {
        "calendar.workdays.add_local_holiday": lambda s, a, w, r: workdays.add_local_holiday(s, a, later, "测试节"),
        "calendar.workdays.record_calendar_event": lambda s, a, w, r: workdays.record_calendar_event(
            s, a, "calendar.local_holiday_added", {"start": "2031-05-06", "end": "2031-05-06", "name": "测试节"}),
        "calendar.workdays.record_unrecorded_seed": lambda s, a, w, r: workdays.record_unrecorded_seed(s, a),
        "calendar.workdays.seed_from_package": lambda s, a, w, r: workdays.seed_from_package(s, a),
        "calendar.workdays.set_year": lambda s, a, w, r: workdays.set_year(s, a, 2031, notice),
        "cases.recalc.add_local_holiday": lambda s, a, w, r: recalc.add_local_holiday(s, a, later, "测试节"),
        "cases.recalc.confirm_year": lambda s, a, w, r: recalc.confirm_year(s, a, 2031, notice),
        "cases.recalc.recompute_open": lambda s, a, w, r: recalc.recompute_open(s, a, since=w.today, why="测试"),
        "cases.rederive.rederive_all": lambda s, a, w, r: rederive.rederive_all(s, a, why="测试"),
        "cases.bposts.end_substitution": lambda s, a, w, r: bposts.end_substitution(s, a, w.substitution, w.today),
        "cases.bposts.mark_attendance": lambda s, a, w, r: bposts.mark_attendance(s, a, "c02", "present"),
        "cases.bposts.return_tickets": lambda s, a, w, r: bposts.return_tickets(s, a, w.today, [],
                                                                                bposts.SweepReport()),
        "cases.bposts.route_tickets": lambda s, a, w, r: bposts.route_tickets(s, a, w.today, [],
                                                                              bposts.SweepReport()),
        "cases.bposts.start_and_end": lambda s, a, w, r: bposts.start_and_end(s, a, w.today),
        "cases.bposts.sweep": lambda s, a, w, r: bposts.sweep(s, a, w.today),
        "cases.daily.run": lambda s, a, w, r: daily.run(s, a, w.today),
        "cases.daily.run_batched": None,  # takes the database and commits: see test_whole_database_services
        "cases.joint.copy": tk(lambda s, a, n: joint.copy(s, a, n, [joint.CopyRequest("县医保中心")])),
        "cases.joint.deem_consent": lambda s, a, w, r: joint.deem_consent(s, a, w.today, []),
        "cases.joint.record_opinion": lambda s, a, w, r: joint.record_opinion(s, a, w.joint_copy, "agree", "同意",
                                                                              "李科长"),
        "cases.joint.sweep_deemed_consent": lambda s, a, w, r: joint.sweep_deemed_consent(s, a, w.today),
        "cases.proxy.department_returned": tk(lambda s, a, n: proxy.department_returned(s, a, n, "approved", "同意")),
        "cases.proxy.forward": tk(lambda s, a, n: proxy.forward(s, a, n, "县民政局")),
        "cases.proxy.record_reference": tk(lambda s, a, n: proxy.record_reference(s, a, n, "MZ-1")),
        "cases.routing.accept_transfer": lambda s, a, w, r: routing.accept_transfer(s, a, w.tt),
        "cases.routing.decide": tk(lambda s, a, n: routing.decide(s, a, n, "同意", "会议纪要1号")),
        "cases.routing.decline_transfer": lambda s, a, w, r: routing.decline_transfer(s, a, w.tt, "不属本窗口"),
        "cases.routing.escalate": tk(lambda s, a, n: routing.escalate(s, a, n, "需集体研究")),
        "cases.routing.request_transfer": tk(lambda s, a, n: routing.request_transfer(s, a, n, "W03", "不属本窗口",
                                                                                      "材料已移交")),
        "cases.supplement.request": tk(lambda s, a, n: supplement.request(s, a, n, [], ["收入证明"], "补正")),
        "cases.supplement.request_from_text": tk(lambda s, a, n: supplement.request_from_text(s, a, n, "收入证明",
                                                                                              "补正")),
        "cases.workflow.change_kind": tk(lambda s, a, n: workflow.change_kind(s, a, n, "immediate", "当场办结")),
        "cases.workflow.close": tk(lambda s, a, n: workflow.close(s, a, n, "approved", "同意")),
        "cases.workflow.deliver": tk(lambda s, a, n: workflow.deliver(s, a, n, "当面领取", "张三")),
        "cases.workflow.extend": tk(lambda s, a, n: workflow.extend(s, a, n, 5, "需入户核查", "m01",
                                                                    PASSWORDS["m01"])),
        "cases.workflow.pause": tk(lambda s, a, n: workflow.pause(s, a, n, "等待补正")),
        "cases.workflow.reassign_event": None,  # internal
        "cases.workflow.resume": tk(lambda s, a, n: workflow.resume(s, a, n, "已补正")),
        "cases.workflow.special_end": tk(lambda s, a, n: workflow.special_end(s, a, n, "公示无异议")),
        "cases.workflow.special_start": tk(lambda s, a, n: workflow.special_start(s, a, n, "公示", "公示")),
        "cases.workflow.start": tk(lambda s, a, n: workflow.start(s, a, n)),
        "cases.workflow.withdraw": tk(lambda s, a, n: workflow.withdraw(s, a, n, "申请人撤回")),
        "tickets.intake.register": lambda s, a, w, r: intake.register(s, a, intake.IntakeForm("11", ZHANG)),
        "tickets.fees.charge": tk(lambda s, a, n: fees.charge(s, a, n, fees.FeeForm("张三", "R-0001"))),
        "tickets.fees.charge_ticket": None,  # internal
        "cases.petition.add_agent": pc(lambda s, a, n: petition.add_agent(s, a, n, lawyer)),
        "cases.petition.decide_acceptance": pc(lambda s, a, n: petition.decide_acceptance(s, a, n, True, "予以受理")),
        "cases.petition.fix_four": pc(lambda s, a, n: petition.fix_four(s, a, n, four)),
        "cases.petition.give_feedback": pc(lambda s, a, n: petition.give_feedback(s, a, n, "电话", "正在核查")),
        "cases.petition.register": pc(lambda s, a, n: petition.register(s, a, n, "c02")),  # already: a conflict
        "cases.petition.register_new": lambda s, a, w, r: petition.register_new(
            s, a, intake.IntakeForm("68", ZHANG, {m["name"]: "received"
                                                  for m in catalog.current_item(s, "68").materials}), "c02"),
        "cases.petition_steps.close_case": pc(lambda s, a, n: petition_steps.close_case(s, a, n, "approved", "已化解")),
        "cases.petition_steps.record_followup": lambda s, a, w, r: petition_steps.record_followup(
            s, a, w.pfollowup, "电话", "无新诉求", True),
        "cases.petition_steps.record_hearing": pc(lambda s, a, n: petition_steps.record_hearing(
            s, a, n, "hearing", date.today(), "镇综治中心", "刘书记", hearing, "陈述诉求", "达成一致")),
        "cases.petition_steps.schedule_followups": pc(lambda s, a, n: petition_steps.schedule_followups(s, a, n)),
        "cases.petition_steps.schedule_missing_followups": lambda s, a, w, r:
            petition_steps.schedule_missing_followups(s, a),
        "cases.petition_steps.transfer": pc(lambda s, a, n: petition_steps.transfer(
            s, a, n, "县市场监督管理局", "示信移〔2026〕8号", rule=DateRule(15, "day"))),
        "cases.petition_steps.transfer_answered": lambda s, a, w, r: petition_steps.transfer_answered(
            s, a, w.leg, "人社监〔2026〕31号", "已立案查处"),
        "registers.reception.post_slot": lambda s, a, w, r: reception.post_slot(s, a, "m01", w.workday, "下午",
                                                                                "镇信访接待室", 5),
        "registers.reception.book": lambda s, a, w, r: reception.book(s, a, w.slot, "李四", "13900005555", "反映事项"),
        "registers.reception.cancel": lambda s, a, w, r: reception.cancel(s, a, w.booking, "信访人改期"),
        "registers.reception.request_named": lambda s, a, w, r: reception.request_named(
            s, a, _petition(w, r), "c03", w.workday),
        "registers.inspection.open_fault_record": lambda s, a, w, r: inspection.open_fault_record(
            s, a, w.t, "c02", "超期未办结", "经查属实", measure="提醒谈话"),
        "registers.inspection.record_finding": lambda s, a, w, r: inspection.record_finding(s, a, w.t, "未按时告知"),
        "catalog.windows.add_window": lambda s, a, w, r: windows.add_window(s, a, windows.WindowForm("W99",
                                                                                                 "测试窗口")),
        "catalog.windows.set_window_active": lambda s, a, w, r: windows.set_window_active(s, a, "W04", False),
        "catalog.windows.update_window": lambda s, a, w, r: windows.update_window(s, a, windows.WindowForm(
            "W04", "综合窗口（新）")),
        "people.staff.set_profile": lambda s, a, w, r: staff.set_profile(s, a, "c03", resume="从事社保工作十年"),
        "people.staff.update_intake_point": lambda s, a, w, r: staff.update_intake_point(s, a, "002", "西村代办点",
                                                                                       True),
        "sync.enrolment.enrol": lambda s, a, w, r: enrolment.enrol(s, a, w.hall_keys, request),
        "sync.enrolment.join": lambda s, a, w, r: enrolment.join(s, a, None, b""),  # no request yet: refused after
        "tickets.record.append_event": None,  # internal
        "tickets.record.supplement_received": tk(lambda s, a, n: tickets.supplement_received(s, a, n)),
        "tickets.record.void": tk(lambda s, a, n: tickets.void(s, a, n, "重复登记")),
        "catalog.items.import_catalog": lambda s, a, w, r: catalog.import_catalog(s, a, catalog.current_spec(s),
                                                                                  "测试"),
        "catalog.items.seed_default": lambda s, a, w, r: catalog.seed_default(s, a),
        "ledger_check.rebuild": None,  # takes the database and commits: see test_whole_database_services
        "sync.heads.sign_now": None,  # takes the database and commits: see test_whole_database_services
        "people.staff.add_intake_point": lambda s, a, w, r: staff.add_intake_point(s, a, "009", "测试点"),
        "people.staff.add_staff": lambda s, a, w, r: staff.add_staff(s, a, staff.StaffForm("c99", "测试", "clerk",
                                                                                           "", "W02")),
        "people.staff.reset_password": lambda s, a, w, r: staff.reset_password(s, a, "c03", "temp-pass-99"),
        "people.staff.set_active": lambda s, a, w, r: staff.set_active(s, a, "c03", False, "调离"),
        "people.staff.set_b_post": lambda s, a, w, r: staff.set_b_post(s, a, "c04", "c03"),
        "people.staff.set_password": lambda s, a, w, r: staff.set_password(s, a, "c02", "new-pass-123"),
        "people.staff.update_staff": lambda s, a, w, r: staff.update_staff(s, a, staff.StaffForm(
            "c03", "李社保", "clerk", "社保窗口", "W03")),
        "storage.settings.set_values": lambda s, a, w, r: settings.set_values(s, a, {"hall_name": "测试中心"}),
        "storage.anchor.sign_head": lambda s, a, w, r: anchor.sign_head(s, a, sync_keys.NodeKeys.create(
            a.node_id, "hall", "000").sign),
        "sync.peers.enrol": lambda s, a, w, r: peers.enrol(s, a, "peer-node-009", "002", "00" * 32, "00" * 32),
        "sync.peers.record_join": lambda s, a, w, r: peers.record_join(s, a, "hall-node", {}),
        "sync.peers.revoke": lambda s, a, w, r: peers.revoke(s, a, w.peer, "丢失"),
        "sync.conflicts.resolve": lambda s, a, w, r: conflicts.resolve(s, a, "0" * 64, "hall", "当面确认"),
        "sync.conflicts.arrive": lambda s, a, w, r: conflicts.arrive(
            s, a, "ticket.withdrawn", {"from_state": "accepted", "to": "withdrawn", "reason": "申请人撤回",
                                       tickets.PARENT: 1}, tickets.get(s, _ticket(w, r)).uid),
        "registers.accountability.open_record": lambda s, a, w, r: accountability.open_record(
            s, a, "test:other", "complaint", w.today, staff_id=w.actors["b_post"].staff_id, detail="测试"),
        "registers.accountability.record_finding": lambda s, a, w, r: accountability.record_finding(
            s, a, w.record, "dismissed", "经核实不属实"),
        "registers.accountability.record_overdue": lambda s, a, w, r: accountability.record_overdue(s, a, w.today,
                                                                                                    []),
        "registers.accountability.sweep_overdue": lambda s, a, w, r: accountability.sweep_overdue(s, a, w.today),
        "registers.appointments.book": lambda s, a, w, r: appointments.book(s, a, "c03", w.workday, "李四"),
        "registers.appointments.finish_visit": lambda s, a, w, r: appointments.finish_visit(s, a, w.visit, "完成"),
        "registers.appointments.plan_visit": lambda s, a, w, r: appointments.plan_visit(s, a, w.workday, "西村",
                                                                                        ["c03"]),
        "registers.appointments.record_outcome": lambda s, a, w, r: appointments.record_outcome(
            s, a, w.appointment, "met", note="已接待"),
        "registers.appointments.tag_ticket": lambda s, a, w, r: appointments.tag_ticket(s, a, w.visit, w.t),
        "registers.complaints.answer": lambda s, a, w, r: complaints.answer(s, a, w.complaint, False, "已核实"),
        "registers.complaints.register": lambda s, a, w, r: complaints.register(s, a, "排队太久", "现场"),
        "registers.followups.record_outcome": lambda s, a, w, r: followups.record_outcome(s, a, w.followup, "电话",
                                                                                          "满意"),
        "registers.followups.schedule": lambda s, a, w, r: followups.schedule(s, a, "test:mine", "closure", w.today,
                                                                              window_code="W02"),
        "registers.followups.schedule_after_closure": lambda s, a, w, r: followups.schedule_after_closure(
            s, a, tickets.get(s, _ticket(w, r))),
        "registers.followups.schedule_closed": lambda s, a, w, r: followups.schedule_closed(s, a, w.today, []),
        "registers.followups.sweep_closed": lambda s, a, w, r: followups.sweep_closed(s, a, w.today),
        "registers.rating_channel.enrol": lambda s, a, w, r: rating_channel.enrol(
            s, a, rating_channel.ScreenKey.generate().public_hex),
        "registers.ratings.rate": None,  # the citizen channel: see test_only_the_enrolled_rating_screen_rates
        "registers.ratings.record_rectified": lambda s, a, w, r: ratings.record_rectified(s, a, w.rect, "已整改"),
        "registers.ratings.request_rating": tk(lambda s, a, n: ratings.request_rating(s, a, n, "closure")),
        "registers.ratings.settle_unrated": lambda s, a, w, r: ratings.settle_unrated(
            s, a, ratings.unrated_rule(s, w.today), []),
        "registers.ratings.sweep_unrated": lambda s, a, w, r: ratings.sweep_unrated(s, a, w.today),
        "registers.ratings.verify": lambda s, a, w, r: ratings.verify(s, a, w.rect, False, "经核实系误解"),
        "reporting.papers.record_print": tk(lambda s, a, n: papers.record_print(s, a, n, "receipt")),
        "reporting.queue.reveal_id": tk(lambda s, a, n: queue.reveal_id(s, a, n)),
    }


class _Undo(Exception):
    pass


def _attempt(w: World, fn: Callable[[Any], Any], name: str = "") -> HallError | None:
    """Call ``fn`` in a transaction that is always rolled back; the PermissionDenied it raised, else None."""
    denied: HallError | None = None
    try:
        with w.opened.db.transaction() as s:
            try:
                fn(s)
            except PermissionDenied as exc:
                denied = exc
            except (HallError, ValueError, LookupError):
                pass  # past the permission check: a rule of the state or the input said no
            raise _Undo
    except _Undo:
        pass
    finally:  # a rolled-back change must not linger in a cache (only the caches the call may have filled)
        settings.forget()
        if not name or name.startswith(("calendar.", "cases.recalc.", "cases.rederive.")):
            clock.forget_calendar()
        if not name or name.startswith("catalog."):
            catalog.forget_views()
    return denied


def test_each_mutating_service_as_every_role(world):
    table = _calls_table()
    assert set(table) == set(role_matrix.MATRIX), "a matrix entry without a way to call it here"
    wrong: list[str] = []
    for name, call in sorted(table.items()):
        if call is None:
            continue
        allowed = role_matrix.allowed(name)
        for role in role_matrix.ROLES:
            actor = world.actors[role]
            denied = _attempt(world, lambda s, call=call, actor=actor, role=role: call(s, actor, world, role), name)
            if role in allowed and denied is not None:
                wrong.append(f"{name} as {role}: refused ({denied})")
            elif role not in allowed and denied is None:
                wrong.append(f"{name} as {role}: allowed")
            elif denied is not None and not any("\u4e00" <= ch <= "\u9fff" for ch in str(denied)):
                wrong.append(f"{name} as {role}: the refusal is not in Chinese ({denied})")
    assert not wrong, "\n".join(wrong)


def test_whole_database_services_refuse_before_touching_anything(world):
    """daily.run_batched, ledger_check.rebuild and heads.sign_now take the database and commit themselves: every
    role they do not allow is refused before anything is written (the daily run as the manager is the daily
    tests' business)."""
    from hall.services import ledger_check
    from hall.services.cases import daily
    from hall.services.sync import heads

    for name, fn in (("cases.daily.run_batched", lambda a: daily.run_batched(world.opened.db, a, world.today)),
                     ("ledger_check.rebuild", lambda a: ledger_check.rebuild(world.opened.db, a)),
                     ("sync.heads.sign_now", lambda a: heads.sign_now(world.opened.db, a, world.data))):
        for role in sorted(set(role_matrix.ROLES) - role_matrix.allowed(name)):
            with pytest.raises(PermissionDenied):
                fn(world.actors[role])
    # The allowed side, where it is cheap and leaves the ledger as it was for the other tests: the administrator
    # signs the head (a recorded-only event) and rebuilds the projections from the events (a replay).
    assert heads.sign_now(world.opened.db, world.actors["admin"], world.data).signature_ok()
    rebuilt = ledger_check.rebuild(world.opened.db, world.actors["admin"])
    assert rebuilt.events > 0 and rebuilt.before == rebuilt.after  # the projections were the events' replay


def test_internal_helpers_are_reached_only_through_checked_services():
    """The helpers that take a locked Ticket row are called by services that checked the permission first."""
    internal = {n for n, roles in role_matrix.MATRIX.items() if roles == role_matrix.INTERNAL}
    assert internal == {"cases.workflow.reassign_event", "tickets.record.append_event", "tickets.fees.charge_ticket"}
    found = mutating_services()
    for name in internal:
        assert "t" in inspect.signature(found[name]).parameters  # a Ticket row, never a number from a screen


# ------------------------------------------------------------------------------------------ the six gaps
def test_only_the_enrolled_rating_screen_rates(world):
    """A clerk cannot rate his own ticket: the invite is sealed to the node's enrolled screen, a channel cannot be
    made without a screen key, and one made around a key of one's own opens nothing."""
    clerk = world.actors["clerk_own"]
    with world.opened.db.transaction() as s:
        number = _register(s, clerk, "09")
    from hall.services.cases import workflow

    with world.opened.db.transaction() as s:
        workflow.close(s, clerk, number, "approved", "同意")
        invite = ratings.request_rating(s, clerk, number, "closure")
    assert len(invite.token) > 60  # ciphertext, not a token the clerk could use
    with pytest.raises(PermissionDenied, match="评价器"):
        ratings.CitizenChannel(world.opened.node.node_id, key=None)  # type: ignore[arg-type]
    forged = ratings.CitizenChannel(world.opened.node.node_id, key=rating_channel.ScreenKey.generate())
    for who in (forged, *(world.actors[r] for r in role_matrix.ROLES)):
        assert _attempt(world, lambda s, who=who: ratings.rate(s, who, invite.token, 5)) is not None
    assert _attempt(world, lambda s: ratings.rate(s, world.citizen, invite.token, 5)) is None
    # Opening a screen does not replace the enrolled key: that is the administrator's act.
    with world.opened.db.transaction() as s, pytest.raises(HallError, match="系统管理员重新登记"):
        rating_channel.ensure_enrolled(s, world.opened.node.node_id, "000", rating_channel.ScreenKey.generate())


def test_an_extension_needs_the_managers_own_act(world):
    clerk, manager = world.actors["clerk_own"], world.actors["manager"]

    def extend(actor: Actor, password: str | None) -> HallError | None:
        from hall.services.cases import workflow

        return _attempt(world, lambda s: workflow.extend(s, actor, world.t, 5, "需入户核查", "m01", password))

    assert "本人当场输入密码" in str(extend(clerk, None))  # typing the manager's number proves nothing
    assert "本人当场输入密码" in str(extend(clerk, "guessed-password"))
    assert extend(clerk, PASSWORDS["m01"]) is None  # the manager typed it at the counter
    assert extend(manager, None) is None  # the manager's own session


def test_the_gaps_of_the_issue_are_refused_for_a_clerk(world):
    """The issue's list, as a W02 clerk calling the services directly."""
    from hall.services.cases import recalc
    from hall.services.registers import accountability, followups

    clerk = world.actors["clerk_own"]
    notice = workdays.notice_from_dict(NOTICE)
    for fn in (
        lambda s: accountability.open_record(s, clerk, "x:1", "complaint", world.today,
                                             staff_id=world.actors["b_post"].staff_id, detail="报复"),
        lambda s: recalc.confirm_year(s, clerk, 2031, notice),
        lambda s: workdays.set_year(s, clerk, 2031, notice),
        lambda s: recalc.add_local_holiday(s, clerk, date(2031, 5, 6), "伪造节日"),
        lambda s: workdays.add_local_holiday(s, clerk, date(2031, 5, 6), "伪造节日"),
        lambda s: followups.schedule(s, clerk, "x:2", "closure", world.today + timedelta(days=400)),
        lambda s: recalc.recompute_open(s, clerk, since=world.today, why="自行重算"),
    ):
        assert isinstance(_attempt(world, fn), PermissionDenied)



def test_the_b_post_standing_in_takes_the_fee_of_a_ticket_he_does_not_own(world):
    """一次性收费 follows the ticket rule of every other act: the B-post standing in for W02 today may take the fee of
    a W02 ticket owned by someone else (here the manager, who registered it); another window may not."""
    from hall.services.tickets import fees

    def charge(role: str) -> HallError | None:
        def go(s: Any) -> None:
            number = _register(s, world.actors["manager"], "09")
            assert tickets.get(s, number).owner_id == world.actors["manager"].staff_id
            fees.charge(s, world.actors[role], number, fees.FeeForm("张三", "R-0002"))  # free item: refused after
        return _attempt(world, go)

    assert charge("b_post") is None
    assert isinstance(charge("clerk_other"), PermissionDenied)
