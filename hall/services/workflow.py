"""The ticket state machine (domain-rules.md §2) and the clock actions (§3).

One function per action. Each loads the ticket, checks the actor's permission (a B-post standing in for a window
counts as that window's clerk), checks the transition against :data:`TRANSITIONS`, appends one ledger event and
lets the projector update the ticket. Projectors use only the stored payload, so replay and sync give the same
tables. Kind-specific actions live beside this module: proxy.py (转报), joint.py (抄告), routing.py (分流).

Clock actions (pause / resume / special step / extension) append to ``Ticket.clock`` and re-derive the due date
with the deadline engine; the event records the old and the new due date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from hall.models import Event, Item, Staff, Ticket
from hall.models.workflow import JointCopy, ProxyLeg
from hall.services import clock, ledger, tickets
from hall.services.actor import Actor
from hall.services.attendance import standing_in_for
from hall.services.deadlines import LimitRule, due_date
from hall.services.permissions import require_ticket_action
from hall.services.states import FINISHED, KIND_LABELS, STATE_LABELS
from hall.services.validators import free_text, parse_key

ALL_KINDS = frozenset(KIND_LABELS)
TIMED_KINDS = frozenset({"promised", "proxy", "joint"})
CLOSED = frozenset({"closed_approved", "closed_tolerated", "closed_rejected"})
WORKING = frozenset({"accepted", "in_progress", "forwarded", "awaiting_opinions"})
OPEN = frozenset({"received", "supplement", *WORKING, "special", "escalated"})


@dataclass(frozen=True)
class Transition:
    """A legal action: for which kinds, from which states, to which state (None: the state stays)."""

    label: str
    kinds: frozenset[str]
    sources: frozenset[str]
    target: str | None


# The table of legal transitions. Anything not listed here is refused with the ticket's current state named.
TRANSITIONS: dict[str, Transition] = {
    "start": Transition("开始办理", TIMED_KINDS, frozenset({"accepted"}), "in_progress"),
    "forward": Transition("转报", frozenset({"proxy"}), frozenset({"accepted", "in_progress"}), "forwarded"),
    "department_returned": Transition("登记部门办理结果", frozenset({"proxy"}), frozenset({"forwarded"}),
                                      "in_progress"),
    "copy": Transition("抄告协办部门", frozenset({"joint"}), frozenset({"accepted", "in_progress"}),
                       "awaiting_opinions"),
    "opinion": Transition("登记审核意见", frozenset({"joint"}),
                          frozenset({"awaiting_opinions", "in_progress", "special", "escalated"}), None),
    "pause": Transition("暂停计时（补正）", TIMED_KINDS, WORKING, None),
    "resume": Transition("恢复计时", TIMED_KINDS, WORKING, None),
    "special_start": Transition("特别程序开始", TIMED_KINDS, WORKING, "special"),
    "special_end": Transition("特别程序结束", TIMED_KINDS, frozenset({"special"}), None),
    "extend": Transition("延期", TIMED_KINDS, frozenset({*WORKING, "special", "escalated"}), None),
    "escalate": Transition("提交集体研究", TIMED_KINDS, frozenset({"accepted", "in_progress"}), "escalated"),
    "decide": Transition("登记集体研究结果", TIMED_KINDS, frozenset({"escalated"}), None),
    "transfer": Transition("转办", ALL_KINDS, OPEN, None),
    "accept_transfer": Transition("接收转办", ALL_KINDS, OPEN, None),
    "change_kind": Transition("变更办件类型", ALL_KINDS, frozenset({"received", "supplement", "accepted",
                                                                 "in_progress"}), None),
    "close": Transition("办结", ALL_KINDS, frozenset({"accepted", "in_progress"}), None),
    "deliver": Transition("送达", ALL_KINDS, CLOSED, "delivered"),
    "withdraw": Transition("撤回", ALL_KINDS, OPEN, "withdrawn"),
    "reassign": Transition("改派", ALL_KINDS, OPEN, None),
}

CLOSE_STATES = {"approved": "closed_approved", "tolerated": "closed_tolerated", "rejected": "closed_rejected"}
DELIVERY_METHODS = ("当面领取", "邮寄送达", "村代办员代送", "电子送达", "留置送达")

EVENT_LABELS = {
    "ticket.started": "开始办理",
    "ticket.withdrawn": "撤回",
    "ticket.kind_changed": "变更办件类型",
    "ticket.reassigned": "改派",
    "proxy.forwarded": "转报",
    "proxy.returned": "部门办理结果返回",
    "joint.copied": "抄告协办部门",
    "joint.opinion": "协办部门审核意见",
    "joint.deemed_consent": "逾期视为认可",
    "routing.transfer_requested": "转办（待接收）",
    "routing.transfer_accepted": "接收转办",
    "routing.transfer_declined": "退回转办",
    "routing.escalated": "提交集体研究",
    "routing.decided": "集体研究结果",
    "rating.requested": "请申请人评价",
    "rating.given": "申请人评价",
    "rating.deemed": "逾期未评价",
    "visit.ticket_tagged": "巡回下访办件",
    "appointment.kept": "点名约访办件",
}


# ------------------------------------------------------------------------------------------ helpers
def today_of(now: datetime | None) -> datetime:
    return now or datetime.now()


def text(value: str | None, field: str, max_len: int = 2000, *, min_len: int = 1, multiline: bool = True) -> str:
    """Deprecated alias of :func:`hall.services.validators.free_text` (required unless ``min_len=0``); services
    call ``free_text`` themselves and say there whether the field is multi-line."""
    return free_text(value, field, max_len=max_len, multiline=multiline, required=min_len > 0,
                     min_len=max(min_len, 1))


def by_uid(session: Session, uid: str | None) -> Ticket:
    t = session.scalars(select(Ticket).where(Ticket.uid == uid)).first()
    if t is None:
        raise NotFound(f"台账事件指向的办件 {uid} 不存在")
    return t


def touch(t: Ticket, ev: Event) -> None:
    t.version += 1
    t.updated_at = ev.occurred_at


def permit(session: Session, actor: Actor, t: Ticket, what: str, day: date) -> None:
    """The ticket permission of services/permissions.py, with the windows the actor stands in for today."""
    windows = standing_in_for(session, actor.staff_id, day) if actor.staff_id is not None else ()
    require_ticket_action(actor, window_code=t.window_code, owner_id=t.owner_id, intake_point=t.intake_point,
                          what=what, standing_in_for=windows)


def check_transition(t: Ticket, action: str) -> Transition:
    tr = TRANSITIONS[action]
    if t.kind not in tr.kinds:
        kinds = "、".join(KIND_LABELS[k] for k in sorted(tr.kinds))
        raise ConflictError(f"“{tr.label}”只适用于{kinds}，本办件是{KIND_LABELS.get(t.kind, t.kind)}")
    if t.state not in tr.sources:
        raise ConflictError(f"办件 {t.number} 当前为“{STATE_LABELS.get(t.state, t.state)}”，不能{tr.label}")
    return tr


def load(session: Session, actor: Actor, number: str, action: str, now: datetime,
         expected_version: int | None = None) -> Ticket:
    """The ticket for ``action``: permission first (say nothing about a ticket one may not touch), then state."""
    t = tickets.get(session, number)
    tr = TRANSITIONS[action]
    permit(session, actor, t, tr.label, now.date())
    if expected_version is not None and t.version != expected_version:
        raise ConflictError(f"办件 {t.number} 刚被其他窗口修改，请刷新后再{tr.label}")
    check_transition(t, action)
    return t


SUPERVISOR_ONLY = frozenset({"decide"})


def allowed_actions(session: Session, actor: Actor, t: Ticket, *, now: datetime | None = None) -> list[str]:
    """The actions the ticket detail may offer this actor now (the services still check on the call)."""
    day = today_of(now).date()
    try:
        permit(session, actor, t, "办理", day)
    except PermissionDenied:
        return []
    out = []
    for name, tr in TRANSITIONS.items():
        if t.kind in tr.kinds and t.state in tr.sources:
            if name == "resume" and not open_stop(t, "pause"):
                continue
            if name == "pause" and open_stop(t, "pause"):
                continue
            if name in SUPERVISOR_ONLY and not actor.is_supervisor:
                continue  # the service would refuse it; the screen does not offer it
            out.append(name)
    return out


def calendar(session: Session):  # type: ignore[no-untyped-def]
    return clock.calendar_for(session)


def add_workdays(session: Session, start: date, days: int) -> tuple[date, bool]:
    """The ``days``-th working day after ``start`` (the start day not counted) and whether it is provisional."""
    return due_date(calendar(session), LimitRule(days, "workday"), start, "promised")


def staff_name(session: Session, staff_id: int | None) -> str:
    if staff_id is None:
        return ""
    person = session.get(Staff, staff_id)
    return person.name if person else ""


def open_stop(t: Ticket, kind: str) -> dict[str, Any] | None:
    """The pause (``pause``) or special step (``exclude``) still running on the ticket's clock, if any."""
    start, end = ("pause", "resume") if kind == "pause" else ("exclude_start", "exclude_end")
    running = None
    for entry in t.clock:
        if entry["kind"] == start:
            running = entry
        elif entry["kind"] == end:
            running = None
    return running


# ------------------------------------------------------------------------------------- simple actions
def start(session: Session, actor: Actor, number: str, note: str = "", *, now: datetime | None = None,
          expected_version: int | None = None) -> Ticket:
    """部门开始办理: accepted → in progress."""
    now = today_of(now)
    t = load(session, actor, number, "start", now, expected_version)
    note = free_text(note, "说明", max_len=500, required=False)
    ledger.append(session, actor, "ticket.started", {"from_state": t.state, "to": "in_progress", "reason": note},
                  ticket_uid=t.uid, at=now)
    return t


def withdraw(session: Session, actor: Actor, number: str, reason: str, *, now: datetime | None = None,
             expected_version: int | None = None) -> Ticket:
    """撤回: the applicant withdraws; the clock stops, the entry stays with the reason."""
    now = today_of(now)
    t = load(session, actor, number, "withdraw", now, expected_version)
    why = free_text(reason, "撤回原因", max_len=500, min_len=2)
    ledger.append(session, actor, "ticket.withdrawn", {"from_state": t.state, "to": "withdrawn", "reason": why},
                  ticket_uid=t.uid, at=now)
    return t


@ledger.projector("ticket.started")
@ledger.projector("ticket.withdrawn")
def _project_state(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    t.state = p["to"]
    if p["to"] in FINISHED:
        t.is_open = False
        t.closed_at = ev.occurred_at
    touch(t, ev)


def change_kind(session: Session, actor: Actor, number: str, kind: str, reason: str, *,
                now: datetime | None = None, expected_version: int | None = None) -> Ticket:
    """The kind may change with a recorded reason; the due date is derived again for the new kind."""
    now = today_of(now)
    t = load(session, actor, number, "change_kind", now, expected_version)
    if kind not in KIND_LABELS:
        raise ValidationError("办件类型", f"应为{'、'.join(KIND_LABELS.values())}之一")
    if kind == t.kind:
        raise ValidationError("办件类型", "与当前类型相同")
    if session.scalars(select(ProxyLeg.id).where(ProxyLeg.ticket_uid == t.uid)).first() is not None or \
            session.scalars(select(JointCopy.id).where(JointCopy.ticket_uid == t.uid)).first() is not None:
        raise ConflictError("办件已转报或已抄告，不能再变更类型")
    due, provisional = t.due_date, t.due_provisional
    if t.accepted_on is not None:
        item = session.get_one(Item, t.item_id)
        due, provisional = clock.quick_due(calendar(session), item, kind, t.accepted_on, t.clock)
    ledger.append(session, actor, "ticket.kind_changed", {
        "from": t.kind, "to": kind, "reason": free_text(reason, "变更原因", max_len=500, min_len=2),
        "old_due": t.due_date, "due_date": due, "due_provisional": provisional,
    }, ticket_uid=t.uid, at=now)
    return t


@ledger.projector("ticket.kind_changed")
def _project_kind(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    t.kind = p["to"]
    t.due_date = date.fromisoformat(p["due_date"]) if p["due_date"] else None
    t.due_provisional = p["due_provisional"]
    touch(t, ev)


# ------------------------------------------------------------------------------------------- clock
@dataclass(frozen=True)
class ClockChange:
    number: str
    old_due: date | None
    new_due: date | None
    provisional: bool


def _clock_event(session: Session, actor: Actor, t: Ticket, entry: dict[str, Any], now: datetime,
                 to_state: str | None, what: str) -> ClockChange:
    if t.accepted_on is None:
        raise ConflictError(f"办件 {t.number} 尚未受理，没有计时可以{what}")
    item = session.get_one(Item, t.item_id)
    new_clock = [*t.clock, entry]
    due, provisional = clock.quick_due(calendar(session), item, t.kind, t.accepted_on, new_clock)
    old = t.due_date
    ledger.append(session, actor, "ticket.clock", {
        "entry": entry, "what": what, "reason": f"{what}：{entry.get('reason', '')}".rstrip("："),
        "old_due": old, "new_due": due, "due_provisional": provisional, "to": to_state,
    }, ticket_uid=t.uid, at=now)
    return ClockChange(t.number, old, due, provisional)


@ledger.projector("ticket.clock")
def _project_clock(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    t.clock = [*t.clock, p["entry"]]  # a new list: JSON columns only notice reassignment
    t.due_date = date.fromisoformat(p["new_due"]) if p["new_due"] else None
    t.due_provisional = p["due_provisional"]
    if p.get("to"):
        t.state = p["to"]
    touch(t, ev)


def pause(session: Session, actor: Actor, number: str, reason: str, *, now: datetime | None = None,
          expected_version: int | None = None) -> ClockChange:
    """暂停计时: waiting on the citizen (补正/容缺材料) during handling; the clock stands still until resume."""
    now = today_of(now)
    t = load(session, actor, number, "pause", now, expected_version)
    if open_stop(t, "pause"):
        raise ConflictError("计时已暂停，请先恢复计时")
    entry = {"kind": "pause", "on": now.date().isoformat(), "reason": free_text(reason, "暂停原因", max_len=200)}
    return _clock_event(session, actor, t, entry, now, None, "暂停计时")


def resume(session: Session, actor: Actor, number: str, reason: str = "补正材料已收到", *,
           now: datetime | None = None, expected_version: int | None = None) -> ClockChange:
    now = today_of(now)
    t = load(session, actor, number, "resume", now, expected_version)
    if not open_stop(t, "pause"):
        raise ConflictError("计时没有暂停，无需恢复")
    entry = {"kind": "resume", "on": now.date().isoformat(), "reason": free_text(reason, "恢复原因", max_len=200)}
    return _clock_event(session, actor, t, entry, now, None, "恢复计时")


SPECIAL_STEPS = ("听证", "检验", "检测", "检疫", "鉴定", "专家评审", "公示", "现场勘查")


def special_start(session: Session, actor: Actor, number: str, step: str, reason: str = "", *,
                  now: datetime | None = None, expected_version: int | None = None) -> ClockChange:
    """特别程序开始 (听证、检验、鉴定、专家评审、公示期 …, 行政许可法 §45): excluded from the time limit."""
    now = today_of(now)
    t = load(session, actor, number, "special_start", now, expected_version)
    if step not in SPECIAL_STEPS:
        raise ValidationError("特别程序", f"应为{'、'.join(SPECIAL_STEPS)}之一")
    note = free_text(reason, "说明", max_len=200, required=False)
    why = step + (f"：{note}" if note else "")
    entry = {"kind": "exclude_start", "on": now.date().isoformat(), "reason": why, "back_to": t.state}
    return _clock_event(session, actor, t, entry, now, "special", "特别程序开始")


def special_end(session: Session, actor: Actor, number: str, result: str, *, now: datetime | None = None,
                expected_version: int | None = None) -> ClockChange:
    now = today_of(now)
    t = load(session, actor, number, "special_end", now, expected_version)
    running = open_stop(t, "exclude")
    back = running.get("back_to", "in_progress") if running else "in_progress"
    entry = {"kind": "exclude_end", "on": now.date().isoformat(),
             "reason": free_text(result, "特别程序结果", max_len=500)}
    return _clock_event(session, actor, t, entry, now, back, "特别程序结束")


def extend(session: Session, actor: Actor, number: str, days: int, reason: str, approver_no: str, *,
           now: datetime | None = None, expected_version: int | None = None) -> ClockChange:
    """延期: extra working days approved by a manager, with a reason (the citizen is told in writing)."""
    now = today_of(now)
    t = load(session, actor, number, "extend", now, expected_version)
    if not isinstance(days, int) or not 1 <= days <= 60:
        raise ValidationError("延期天数", "应为1到60个工作日")
    why = free_text(reason, "延期理由", max_len=500, multiline=True, min_len=2)
    approver_no = parse_key(approver_no, "批准人工号", max_len=20)
    approver = session.scalars(select(Staff).where(Staff.staff_no == approver_no)).first()
    if approver is None:
        raise ValidationError("批准人工号", f"工号“{approver_no}”不存在")
    if approver.role != "manager" or not approver.active:
        raise PermissionDenied(f"延期须由中心主任批准，{approver.name}不是中心主任")
    entry = {"kind": "extend", "on": now.date().isoformat(), "days": days,
             "reason": why, "approver": approver.name,
             "approver_id": approver.id}
    return _clock_event(session, actor, t, entry, now, None, "延期")


# ------------------------------------------------------------------------------------ close, deliver
def close(session: Session, actor: Actor, number: str, outcome: str, result: str, *, result_doc_no: str = "",
          now: datetime | None = None, expected_version: int | None = None) -> Ticket:
    """办结 with the kind's preconditions: a proxy case needs the department's result back; a joint case
    needs every co-department answered or deemed to consent, and approval is refused while any disagrees."""
    from hall.services import followups, joint

    now = today_of(now)
    t = load(session, actor, number, "close", now, expected_version)
    if outcome not in CLOSE_STATES:
        raise ValidationError("办结结果", "应为通过、容缺通过或不通过")
    if open_stop(t, "pause"):
        raise ConflictError("计时暂停中（等待补正），请先恢复计时再办结")
    if t.kind == "proxy" and outcome != "rejected":
        returned = session.scalars(select(ProxyLeg.id).where(ProxyLeg.ticket_uid == t.uid,
                                                             ProxyLeg.state == "returned")).first()
        if returned is None:
            raise ConflictError("代办件须先登记承办部门的办理结果，才能办结")
    if t.kind == "joint":
        status = joint.status(session, t)
        if not status.copied:
            raise ConflictError("联办件须先抄告协办部门")
        if status.pending:
            raise ConflictError("还有协办部门未回复且未到期：" + "、".join(status.pending))
        if outcome != "rejected" and status.objections:
            raise ConflictError("有协办部门不同意或要求补充，不能以通过办结：" + "；".join(status.objections))
    body = free_text(result, "办理结果", max_len=2000, multiline=True)
    doc_no = free_text(result_doc_no, "结果文书编号", max_len=60, required=False)
    on_time = t.due_date is None or now.date() <= t.due_date
    ledger.append(session, actor, "ticket.closed", {
        "state": CLOSE_STATES[outcome], "result": body, "on_time": on_time,
        "result_doc_no": doc_no,
    }, ticket_uid=t.uid, at=now)
    followups.schedule_after_closure(session, actor, t, now=now)
    return t


def deliver(session: Session, actor: Actor, number: str, how: str, signed_by: str, *,
            delivered_on: date | None = None, doc_no: str = "", note: str = "", now: datetime | None = None,
            expected_version: int | None = None) -> Ticket:
    """送达: how the result reached the applicant, when, and who signed for it (送达回证)."""
    now = today_of(now)
    t = load(session, actor, number, "deliver", now, expected_version)
    if how not in DELIVERY_METHODS:
        raise ValidationError("送达方式", f"应为{'、'.join(DELIVERY_METHODS)}之一")
    on = delivered_on or now.date()
    if t.closed_at is not None and on < t.closed_at.date():
        raise ValidationError("送达日期", f"不能早于办结日期 {t.closed_at.date().isoformat()}")
    if on > now.date():
        raise ValidationError("送达日期", "不能晚于今天")
    signer = free_text(signed_by, "签收人", max_len=40)
    ledger.append(session, actor, "ticket.delivered", {
        "how": how, "delivered_on": on, "signed_by": signer,
        "doc_no": free_text(doc_no, "送达回证编号", max_len=60, required=False),
        "note": free_text(note, "备注", max_len=500, multiline=True, required=False),
        "from_state": t.state, "reason": f"{how}，{on.isoformat()}，签收人 {signer}",
    }, ticket_uid=t.uid, at=now)
    return t


@ledger.projector("ticket.delivered")
def _project_delivered(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    t.state = "delivered"
    touch(t, ev)


@dataclass(frozen=True)
class Delivery:
    how: str
    delivered_on: date
    signed_by: str
    doc_no: str
    recorded_by: str


def delivery_of(session: Session, t: Ticket) -> Delivery | None:
    ev = session.scalars(select(Event).where(Event.ticket_uid == t.uid, Event.type == "ticket.delivered")
                         .order_by(Event.id.desc())).first()
    if ev is None:
        return None
    p = ledger.load_payload(ev)
    return Delivery(p["how"], date.fromisoformat(p["delivered_on"]), p["signed_by"], p["doc_no"], ev.actor_name)


# ------------------------------------------------------------------------------------------- reassign
def reassign_event(session: Session, actor: Actor, t: Ticket, to_staff_id: int | None, reason: str,
                   now: datetime, **extra: Any) -> None:
    """Record a change of the responsible person (B-post substitution, its return, an accepted transfer)."""
    ledger.append(session, actor, "ticket.reassigned", {
        "from_owner": t.owner_id, "to_owner": to_staff_id, "reason": reason, **extra,
    }, ticket_uid=t.uid, at=now)


@ledger.projector("ticket.reassigned")
def _project_reassigned(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    t.owner_id = p["to_owner"]
    if p.get("window_code"):
        t.window_code = p["window_code"]
    touch(t, ev)


def _register_labels() -> None:
    # The ticket history (tickets.describe) reads its label table; workflow events add theirs at import,
    # the same way projectors register themselves.
    for key, label in EVENT_LABELS.items():
        tickets.EVENT_LABELS.setdefault(key, label)


_register_labels()
