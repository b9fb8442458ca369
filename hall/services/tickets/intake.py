"""Intake (收件/受理): a citizen's request becomes a ticket, in one event, with its derived deadline."""

from __future__ import annotations

import contextlib
import operator
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import repeat
from operator import itemgetter
from typing import Any, Literal

from sqlalchemy import and_, bindparam, case, insert, select
from sqlalchemy.orm import Session

from hall.errors import HallError, ValidationError, ValidationErrors
from hall.models import Applicant, Event, Item, Ticket
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_intake
from hall.services.base.pinyin import initials
from hall.services.base.states import KIND_LABELS, SAME_DAY_KINDS
from hall.services.base.validators import (
    free_text,
    parse_credit_code,
    parse_id_number,
    parse_key,
    parse_person_name,
    parse_phone,
    search_text,
    shown,
)
from hall.services.calendar import clock
from hall.services.calendar.deadlines import Deadline
from hall.services.catalog import items as catalog
from hall.services.storage import bulk, identity, ledger, settings
from hall.services.storage.db import upsert_insert
from hall.services.tickets import fees, prerequisites, record, supplement_notice
from hall.services.tickets.numbering import next_number

MaterialStatus = Literal["received", "missing", "tolerated"]


@dataclass(frozen=True)
class ApplicantForm:
    type: Literal["person", "org"]
    id_no: str
    name: str
    phone: str = ""
    address: str = ""


@dataclass(frozen=True)
class AgentForm:
    name: str
    id_no: str
    phone: str = ""


@dataclass(frozen=True)
class IntakeForm:
    item_code: str
    applicant: ApplicantForm
    materials: dict[str, MaterialStatus] = field(default_factory=dict)
    kind: str | None = None
    kind_reason: str = ""
    agent: AgentForm | None = None
    note: str = ""
    decision: Literal["accept", "refuse"] = "accept"
    refusal_reason: str = ""
    redirect_organ: str = ""
    complete_now: bool | None = None  # immediate/explain: close on the spot (default yes)
    fee: fees.FeeForm | None = None  # 一次性收费 taken at the counter with this save (an item with a fee standard)


@dataclass(frozen=True)
class CleanApplicant:
    type: str
    id_no: str
    name: str
    sex: str
    birth: date | None
    phone: str
    address: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class IntakeResult:
    ticket_id: int
    number: str
    state: str
    kind: str
    due_date: date | None
    due_provisional: bool
    missing: tuple[str, ...]
    tolerated: tuple[str, ...]
    papers: tuple[str, ...]  # which papers to offer, most important first
    warnings: tuple[str, ...] = ()
    already_saved: bool = False  # the form had been saved before (see ``register(uid=…)``): nothing new written


def check_applicant(form: ApplicantForm, today: date | None = None) -> CleanApplicant:
    """Every applicant problem at once (the clerk fixes them in one go)."""
    problems: list[str] = []
    warnings: list[str] = []
    id_no, sex, birth = "", "", None
    name = ""
    try:
        if form.type == "person":
            parsed = parse_id_number(form.id_no, today=today)
            id_no, sex, birth = parsed.number, parsed.sex, parsed.birth_date
            if not parsed.area_known:
                warnings.append("公民身份号码的地区码不常见，请核对证件")
        elif form.type == "org":
            id_no = parse_credit_code(form.id_no)
        else:
            problems.append("申请人类型：应为自然人或法人/其他组织")
    except ValidationError as exc:
        problems.append(str(exc))
    try:
        name = (parse_person_name(form.name, "申请人姓名") if form.type == "person"
                else free_text(form.name, "单位名称", max_len=80))
    except ValidationError as exc:
        problems.append(str(exc))
    phone = ""
    if _given(form.phone):
        try:
            phone = parse_phone(form.phone)
        except ValidationError as exc:
            problems.append(str(exc))
    address = ""
    try:
        address = free_text(form.address, "住址（村/组）", max_len=120, required=False)
    except ValidationError as exc:
        problems.append(str(exc))
    if problems:
        raise ValidationErrors(problems, "申请人信息有误，未保存")
    return CleanApplicant(form.type, id_no, name, sex, birth, phone, address, tuple(warnings))


def _given(value: object) -> bool:
    """An optional field the clerk filled in (a field left blank is skipped, whatever its type)."""
    return value is not None and (not isinstance(value, str) or bool(value.strip()))


def preview_deadline(session: Session, item_code: str, kind: str | None = None,
                     on: date | None = None) -> Deadline:
    """The promised due date and its explanation, as the clerk sees it while typing (nothing is saved)."""
    item = catalog.current_item_view(session, parse_key(item_code, "事项编码", max_len=16))
    return clock.deadline(clock.calendar_for(session), item, kind or item.default_kind, on or date.today())


def register(session: Session, actor: Actor, form: IntakeForm, *, now: datetime | None = None,
             uid: str | None = None) -> IntakeResult:
    """Register one ticket. The caller owns the transaction (one per clerk action).

    ``uid``: the ticket's id, chosen by the form that was filled in (its draft's key). Saving the same form again
    — after the hall server went away during a save whose commit may or may not have reached it — finds the ticket
    that was saved and returns it (``already_saved``) instead of registering the citizen twice."""
    now = now or datetime.now()
    require_intake(actor, actor.intake_point)
    if uid is not None:
        uid = str(uuid.UUID(uid))
        existing = session.scalars(select(Ticket).where(Ticket.uid == uid)).first()
        if existing is not None:
            return _result_of(existing)
    item = catalog.current_item_view(session, parse_key(form.item_code, "事项编码", max_len=16))
    applicant = check_applicant(form.applicant, now.date())
    problems: list[str] = []
    kind = form.kind or item.default_kind
    if kind not in KIND_LABELS:
        problems.append(f"办件类型：应为{'、'.join(KIND_LABELS.values())}之一")
    kind_reason = ""
    try:
        kind_reason = free_text(form.kind_reason, "改变类型的原因", max_len=500, required=False)
    except ValidationError as exc:
        problems.append(str(exc))
    if kind != item.default_kind and kind != "explain" and not kind_reason and kind in KIND_LABELS:
        problems.append(f"办件类型：由{KIND_LABELS[item.default_kind]}改为{KIND_LABELS.get(kind, kind)}须填写原因")
    agent = None
    if form.agent is not None and (_given(form.agent.name) or _given(form.agent.id_no)):
        try:
            agent_id = parse_id_number(form.agent.id_no, today=now.date(), field="代理人身份证号")
            agent = {"name": parse_person_name(form.agent.name, "代理人姓名"), "id_no": agent_id.number,
                     "phone": parse_phone(form.agent.phone, "代理人电话") if _given(form.agent.phone) else ""}
        except ValidationError as exc:
            problems.append(str(exc))
    note = ""
    try:
        note = free_text(form.note, "备注", max_len=2000, multiline=True, required=False)
    except ValidationError as exc:
        problems.append(str(exc))
    known = {m["name"]: m for m in item.materials}
    unknown = [shown(name) for name in form.materials if name not in known]
    if unknown:
        problems.append(f"申请材料：“{'、'.join(unknown[:5])}”不在该事项的材料清单中")
    bad_status = [n for n, s in form.materials.items() if s not in ("received", "missing", "tolerated")]
    if bad_status:
        problems.append("申请材料：状态应为已收、需补正或容缺")
    marks: list[dict[str, Any]] = []
    for m in item.materials:
        status = form.materials.get(m["name"], "received" if kind in SAME_DAY_KINDS else "missing")
        if status == "tolerated" and not m.get("tolerable"):
            problems.append(f"申请材料：“{m['name']}”不是可容缺材料")
        marks.append({"name": m["name"], "form": m["form"], "count": m["count"], "status": status})
    refusal = redirect = ""
    try:
        # Printed as a paragraph on the refusal notice: a pasted reason may keep its lines.
        refusal = free_text(form.refusal_reason, "不予受理理由", max_len=2000, multiline=True, required=False)
    except ValidationError as exc:
        problems.append(str(exc))
    else:
        if form.decision == "refuse" and not refusal:
            problems.append("不予受理理由：不予受理必须写明理由")
    try:
        redirect = free_text(form.redirect_organ, "告知向其申请的机关", max_len=120, required=False)
    except ValidationError as exc:
        problems.append(str(exc))
    if form.decision not in ("accept", "refuse"):
        problems.append("受理决定：应为受理或不予受理")
    if item.prerequisite and form.decision == "accept" and kind != "explain" and applicant.id_no:
        # 先照后证: the one rule the form also asks before save (a consultation or a refusal needs nothing first).
        needed = prerequisites.missing(session, item.code, item.prerequisite, applicant.id_no)
        if needed:
            problems.append(f"{prerequisites.FIELD}：{needed}")
    if form.fee is not None:
        if form.decision == "refuse":
            problems.append("收费金额：不予受理的办件不收费")
        else:
            try:
                fees.check_form(form.fee, item.fee_cents, item.name)
            except ValidationError as exc:
                problems.append(str(exc))
    if problems:
        raise ValidationErrors(problems, "办件信息有误，未保存")

    missing = tuple(m["name"] for m in marks if m["status"] == "missing")
    tolerated = tuple(m["name"] for m in marks if m["status"] == "tolerated")
    if kind == "explain":
        missing = ()  # a consultation takes no papers; what is missing is told, not demanded
    today = now.date()
    accepted_on: date | None = None
    due: date | None = None
    provisional = False
    if form.decision == "refuse":
        state, papers = "refused", ("refusal",)
    elif missing:
        state, papers = "supplement", ("supplement", "one_time_notice")
    else:
        state = "accepted"
        accepted_on = today
        due, provisional = clock.quick_due(clock.calendar_for(session), item, kind, today)
        papers = ("acceptance", "tolerance") if tolerated else ("acceptance",)
        if kind == "explain":
            papers = ("one_time_notice",)
    complete_now = form.complete_now if form.complete_now is not None else kind in SAME_DAY_KINDS
    number = next_number(session, settings.get_cached(session, "township_code"), actor.intake_point, today)
    uid = uid or str(uuid.uuid4())
    payload = {
        "uid": uid, "number": number, "catalog_version": item.catalog_version, "item_code": item.code,
        "item_name": item.name, "window_code": item.window_code, "kind": kind, "kind_reason": kind_reason,
        "state": state,
        # The initials travel in the event: computed once here, never by a replay (pypinyin's answers change
        # between its versions).
        "applicant": {"type": applicant.type, "id_no": applicant.id_no, "name": applicant.name,
                      "initials": initials(applicant.name)[:40], "sex": applicant.sex, "birth": applicant.birth,
                      "phone": applicant.phone, "address": applicant.address},
        "agent": agent, "materials": marks, "note": note, "intake_point": actor.intake_point,
        "received_at": now, "accepted_on": accepted_on, "due_date": due, "due_provisional": provisional,
        "refusal_reason": refusal, "redirect_organ": redirect,
    }
    ledger.append(session, actor, "ticket.received", payload, ticket_uid=uid, at=now)
    if state == "supplement":
        # 一次性告知 in writing: the 补正 request with its supply deadline by the date rule (only on this path).
        ledger.append(session, actor, supplement_notice.REQUESTED,
                      supplement_notice.intake_payload(session, marks, today), ticket_uid=uid, at=now)
    if form.fee is not None:
        ticket = session.scalars(select(Ticket).where(Ticket.uid == uid)).one()
        fees.charge_ticket(session, actor, ticket, form.fee, now=now)
    if complete_now and state == "accepted" and kind in SAME_DAY_KINDS:
        result = "已解释告知" if kind == "explain" else "当场办结"
        ledger.append(session, actor, "ticket.closed",
                      {"state": "closed_approved", "result": result, "on_time": True}, ticket_uid=uid, at=now)
        state = "closed_approved"
        if kind == "immediate":
            papers = ("acceptance", "completion")
    ticket_id = session.connection().execute(_TICKET_ID, {"uid": uid}).scalar_one()
    return IntakeResult(ticket_id, number, state, kind, due, provisional, missing, tolerated, papers,
                        applicant.warnings)


def _result_of(t: Ticket) -> IntakeResult:
    """What the save of an already registered ticket had answered (its papers as the first save offered them)."""
    marks = t.materials or []
    missing = tuple(m["name"] for m in marks if m.get("status") == "missing") if t.kind != "explain" else ()
    tolerated = tuple(m["name"] for m in marks if m.get("status") == "tolerated")
    if t.state == "refused":
        papers: tuple[str, ...] = ("refusal",)
    elif t.state == "supplement":
        papers = ("supplement", "one_time_notice")
    elif t.kind == "explain":
        papers = ("one_time_notice",)
    elif t.kind == "immediate" and t.state == "closed_approved":
        papers = ("acceptance", "completion")
    else:
        papers = ("acceptance", "tolerance") if tolerated else ("acceptance",)
    when = t.received_at.strftime("%H:%M")
    return IntakeResult(t.id, t.number, t.state, t.kind, t.due_date, t.due_provisional, missing, tolerated, papers,
                        (f"该登记已于 {when} 保存（服务器中断前已写入），未重复登记。",), already_saved=True)


@ledger.projector("ticket.received")
def _project_received(session: Session, ev: Event, p: dict[str, Any]) -> None:
    ticket, applicant = _received_rows(session, ev, p)
    # Prebuilt Core statements on the session's connection: the counter's save is the hot path, and the ORM
    # unit of work (or building statements each time) would double its cost.
    conn = session.connection()
    conn.execute(_INSERT_TICKET, ticket)
    conn.execute(_applicant_upsert(conn.dialect.name), applicant)


@ledger.bulk_projector("ticket.received", folds="ticket.closed")
def _project_received_many(session: Session, rows: list[dict[str, Any]], payloads: list[dict[str, Any]], *,
                           then: ledger.Then | None = None) -> None:
    # The same rows as one by one, by executemany. All tickets before all applicants changes nothing: neither
    # statement reads the other table, and the upserts still run in the events' order (executemany is sequential),
    # so a citizen who came twice in the run ends as after two single upserts. ``then``: each ticket's on-the-spot
    # close, folded into its row before the INSERT (record.fold_closed: what the close's UPDATE would leave).
    conn = session.connection()
    refs: dict[tuple[Any, ...], int | None] = {}  # a run names the same few clerks and items thousands of times
    columns = _received_columns(session, rows, payloads, then, refs)
    if columns is not None:
        bulk.execute_columns(conn, _INSERT_TICKET, columns[0])
        bulk.execute_columns(conn, _applicant_upsert(conn.dialect.name), columns[1])
        return
    # Row by row: what the columns did not cover (release 1's events, a close that misses), and the error of the
    # first event that fails, as one by one.
    built = [_received_rows(session, ledger.Stored(r), p, refs) for r, p in zip(rows, payloads, strict=True)]  # type: ignore[arg-type]
    if then is not None:
        missed = [t[0] for (ticket, _a), t in zip(built, then, strict=True)
                  if t is not None and not record.fold_closed(ticket, *t)]
        if missed:
            raise ledger.Folded(missed[0], record.missed_closes(len(missed)))
    bulk.executemany(conn, _INSERT_TICKET, [t for t, _a in built])
    bulk.executemany(conn, _applicant_upsert(conn.dialect.name), [a for _t, a in built])


_G = itemgetter
_APPLICANT_OF, _RECEIVED_AT, _ACTOR_UID, _ACTOR_ID, _NODE_ID = (
    _G("applicant"), _G("received_at"), _G("actor_uid"), _G("actor_id"), _G("node_id"))
_GET_VERSION, _GET_ITEM_ID = operator.methodcaller("get", "catalog_version"), operator.methodcaller("get", "item_id")
_ISO_MICRO = operator.methodcaller("isoformat", timespec="microseconds")
_AS_IS = ("uid", "number", "item_code", "item_name", "window_code", "kind", "state", "agent", "materials", "note",
          "intake_point", "due_provisional", "refusal_reason")


class _Days(dict[Any, Any]):
    """A day's text to its date (falsy: None), each distinct text parsed once: a run shares a few hundred days."""

    def __missing__(self, text: Any) -> date | None:
        day = self[text] = date.fromisoformat(text) if text else None
        return day


def _received_columns(session: Session, rows: list[dict[str, Any]], payloads: list[dict[str, Any]],
                      then: ledger.Then | None, refs: dict[tuple[Any, ...], int | None]
                      ) -> tuple[dict[str, list[Any]], dict[str, list[Any]]] | None:
    """The columns of the ticket rows and the applicant upserts that :func:`_received_rows` gives row by row, with
    each close of ``then`` folded in (record.fold_closed) — the same values, each column by one loop in C over the
    run. None when it cannot say (an event of release 1 without its applicant's initials, a close that misses, any
    error): the caller then builds them row by row, which names the failing event as always."""
    try:
        n = len(rows)
        apps = list(map(_APPLICANT_OF, payloads))
        if not all(map(operator.contains, apps, repeat("initials"))):
            return None
        owner_keys = list(zip(map(_ACTOR_UID, rows), map(_ACTOR_ID, rows), strict=True))
        item_keys = list(zip(map(operator.contains, payloads, repeat("catalog_version")),
                             map(_GET_VERSION, payloads), map(_G("item_code"), payloads),
                             map(_GET_ITEM_ID, payloads), strict=True))
        owners_of: dict[tuple[Any, ...], int | None] = {}
        for k, r in zip(owner_keys, rows, strict=True):  # resolved in the order the rows first name them
            if k not in owners_of:
                who = ("actor", *k)
                owners_of[k] = refs[who] if who in refs else refs.setdefault(
                    who, identity.actor_staff_id(session, ledger.Stored(r)))  # type: ignore[arg-type]
        items_of: dict[tuple[Any, ...], int | None] = {}
        for k, p in zip(item_keys, payloads, strict=True):
            if k not in items_of:
                what = ("item", *k)
                items_of[k] = refs[what] if what in refs else refs.setdefault(what, identity.item_ref(session, p))
        owners = list(map(owners_of.__getitem__, owner_keys))
        items = list(map(items_of.__getitem__, item_keys))
        ticket = {name: list(map(_G(name), payloads)) for name in _AS_IS}
        states = ticket["state"]
        received_at = list(map(datetime.fromisoformat, map(_RECEIVED_AT, payloads)))
        days = _Days()
        birth = list(map(days.__getitem__, map(operator.methodcaller("get", "birth"), apps)))
        initials_ = list(map(_G("initials"), apps))
        phones, addresses = list(map(_G("phone"), apps)), list(map(_G("address"), apps))
        ticket.update(
            item_id=items, is_open=list(map(operator.ne, states, repeat("refused"))),
            applicant_type=list(map(_G("type"), apps)), applicant_name=list(map(_G("name"), apps)),
            applicant_initials=initials_, applicant_id_no=list(map(_G("id_no"), apps)),
            applicant_sex=list(map(_G("sex"), apps)), applicant_birth=birth, applicant_phone=phones,
            applicant_address=addresses, node_id=list(map(_NODE_ID, rows)), first_owner_id=owners,
            owner_id=list(owners), received_at=received_at,
            accepted_on=list(map(days.__getitem__, map(_G("accepted_on"), payloads))),
            due_date=list(map(days.__getitem__, map(_G("due_date"), payloads))),
            clock=[[] for _ in range(n)], result=[""] * n, void_reason=[""] * n,
            closed_at=([at if s == "refused" else None for at, s in zip(received_at, states, strict=True)]
                       if "refused" in states else [None] * n),
            closed_on_time=[None] * n, version=[1] * n, updated_at=list(received_at))
        if any(s.__class__ is not str for s in states):  # (is_open above compared them as text)
            return None
        if then is not None:
            version = ticket["version"]
            for i, t in enumerate(then):
                if t is not None:
                    folded = {"version": version[i]}  # what fold_closed reads (anything else: KeyError, row by row)
                    if not record.fold_closed(folded, *t) or not folded.keys() <= _FOLDED:
                        return None
                    for name, value in folded.items():
                        ticket[name][i] = value
        # ledger.stamp of each row, by loops in C: its moment's text (microseconds), "|", its event id.
        told = list(map("{}|{}".format, map(_ISO_MICRO, map(_G("occurred_at"), rows)), map(_G("event_id"), rows)))
        applicant = {
            "id_no": ticket["applicant_id_no"], "applicant_type": ticket["applicant_type"],
            "name": ticket["applicant_name"], "initials": initials_, "sex": ticket["applicant_sex"], "birth": birth,
            "phone": phones, "address": addresses, "updated_at": received_at, "name_stamp": told,
            "phone_stamp": [t if v else "" for t, v in zip(told, phones, strict=True)],
            "address_stamp": [t if v else "" for t, v in zip(told, addresses, strict=True)],
        }
        return ticket, applicant
    except Exception:  # (whatever it is, the row-by-row build meets it again and says which event)
        return None


# What record.fold_closed may write of a ticket row (anything else: checked on each fold, then row by row).
_FOLDED = frozenset({"state", "result", "is_open", "closed_at", "closed_on_time", "version", "updated_at"})


def _received_rows(session: Session, ev: Event, p: dict[str, Any], refs: dict[tuple[Any, ...], int | None] | None = None
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ticket row and the applicant upsert's values a ``ticket.received`` event gives. ``refs``: the local ids
    already resolved for this run of events (by the names that resolve to them: nothing changes them within it)."""
    a = p["applicant"]
    birth = date.fromisoformat(a["birth"]) if a.get("birth") else None
    received_at = datetime.fromisoformat(p["received_at"])
    if refs is None:
        owner, item = identity.actor_staff_id(session, ev), identity.item_ref(session, p)
    else:
        who = ("actor", ev.actor_uid, ev.actor_id)
        owner = refs[who] if who in refs else refs.setdefault(who, identity.actor_staff_id(session, ev))
        what = ("item", "catalog_version" in p, p.get("catalog_version"), p["item_code"], p.get("item_id"))
        item = refs[what] if what in refs else refs.setdefault(what, identity.item_ref(session, p))
    name_keys = _initials_of(session, ev, a)
    ticket = {
        "uid": p["uid"], "number": p["number"], "item_id": item, "item_code": p["item_code"],
        "item_name": p["item_name"], "window_code": p["window_code"], "kind": p["kind"], "state": p["state"],
        "is_open": p["state"] not in ("refused",), "applicant_type": a["type"], "applicant_name": a["name"],
        "applicant_initials": name_keys, "applicant_id_no": a["id_no"], "applicant_sex": a["sex"],
        "applicant_birth": birth, "applicant_phone": a["phone"], "applicant_address": a["address"],
        "agent": p["agent"], "materials": p["materials"], "note": p["note"], "intake_point": p["intake_point"],
        "node_id": ev.node_id, "first_owner_id": owner, "owner_id": owner, "received_at": received_at,
        "accepted_on": date.fromisoformat(p["accepted_on"]) if p["accepted_on"] else None,
        "due_date": date.fromisoformat(p["due_date"]) if p["due_date"] else None,
        "due_provisional": p["due_provisional"], "clock": [], "refusal_reason": p["refusal_reason"], "result": "",
        "void_reason": "", "closed_at": received_at if p["state"] == "refused" else None, "closed_on_time": None,
        "version": 1, "updated_at": received_at,
    }
    told = ledger.stamp(ev.occurred_at, ev.event_id)
    applicant = {
        "id_no": a["id_no"], "applicant_type": a["type"], "name": a["name"], "initials": name_keys,
        "sex": a["sex"], "birth": birth, "phone": a["phone"], "address": a["address"], "updated_at": received_at,
        "name_stamp": told, "phone_stamp": told if a["phone"] else "", "address_stamp": told if a["address"] else "",
    }
    return ticket, applicant


def _initials_of(session: Session, ev: Event, a: dict[str, Any]) -> str:
    if "initials" in a:
        return a["initials"]
    # Release 1 computed them here; the upgrade froze what it computed. (An event of release 1 the upgrade never
    # saw — none exists in an upgraded ledger — falls back to release 1's own rule.)
    frozen = identity.legacy_applicant_initials(session, ev.event_id)
    return frozen if frozen is not None else initials(a["name"])[:40]


_INSERT_TICKET = insert(Ticket.__table__)
_TICKET_ID = select(Ticket.__table__.c.id).where(Ticket.__table__.c.uid == bindparam("uid"))
_UPSERTS: dict[str, Any] = {}


def _applicant_upsert(dialect: str) -> Any:
    """A returning citizen: per field, the newest value told at any counter of any node wins, by (occurred_at,
    event id) — so the same events in any order of arrival leave the same row — and an empty phone or address
    never blanks a known one. One statement, as before: no read on the save path."""
    stmt = _UPSERTS.get(dialect)
    if stmt is None:
        table = Applicant.__table__
        ins = upsert_insert(dialect)(table)
        new = ins.excluded
        newer_name = new.name_stamp > table.c.name_stamp
        newer_phone = new.phone_stamp > table.c.phone_stamp  # an empty phone has the empty stamp: never newer
        newer_address = new.address_stamp > table.c.address_stamp

        def pick(newer: Any, column: str) -> Any:
            return case((newer, new[column]), else_=table.c[column])

        stmt = _UPSERTS[dialect] = ins.on_conflict_do_update(
            index_elements=[table.c.id_no],
            set_={
                **{c: pick(newer_name, c) for c in ("name", "initials", "applicant_type", "sex", "birth",
                                                    "name_stamp")},
                "phone": pick(newer_phone, "phone"), "phone_stamp": pick(newer_phone, "phone_stamp"),
                "address": pick(newer_address, "address"), "address_stamp": pick(newer_address, "address_stamp"),
                "updated_at": pick(new.updated_at > table.c.updated_at, "updated_at"),
            },
        )
    return stmt


APPLICANT_CANDIDATES = 200  # index entries read per kind of match: bounded, whatever the township's size
_TOP = "\U0010ffff"  # above every character: the end of a prefix range


def _prefix_range(col: Any, q: str) -> Any:
    # The range lets SQLite walk the index (its LIKE cannot use one); the LIKE keeps the meaning exact whatever
    # a PostgreSQL collation does with the top code point.
    return and_(col >= q, col < q + _TOP, col.startswith(q, autoescape=True))


def find_applicant(session: Session, query: str, limit: int = 10) -> list[Applicant]:
    """A returning citizen by ID number (exact) or by name / pinyin initials: exact names first, then latest first.

    Each kind of match is one bounded walk of its index (an exact name, a name prefix, an initials prefix — at
    most ``APPLICANT_CANDIDATES`` entries each), so a common surname such as "王" at a township of 300,000
    applicants costs what a rare one costs; the latest of those candidates come first.
    """
    query = search_text(query)
    q = query.upper()
    if not q:
        return []
    if len(q) >= 15 and q[:-1].isdigit():
        with contextlib.suppress(HallError):
            q = parse_id_number(q).number
        return list(session.scalars(select(Applicant).where(Applicant.id_no == q).limit(limit)))
    text = query.strip()
    found: dict[int, Applicant] = {}
    exact: set[int] = set()
    walks = [(Applicant.name == text, Applicant.name, True),
             (_prefix_range(Applicant.name, text), Applicant.name, False)]
    if text.isascii() and text.isalpha():
        low = text.lower()
        walks.append((_prefix_range(Applicant.initials, low), Applicant.initials, False))
    for where, col, is_exact in walks:
        for a in session.scalars(select(Applicant).where(where).order_by(col, Applicant.id)
                                 .limit(APPLICANT_CANDIDATES)):
            found.setdefault(a.id, a)
            if is_exact:
                exact.add(a.id)
    ranked = sorted(found.values(), key=lambda a: (a.id not in exact, -a.updated_at.timestamp(), a.id))
    return ranked[:limit]


def item_for_ticket(session: Session, ticket: Ticket) -> Item:
    return session.get_one(Item, ticket.item_id)
