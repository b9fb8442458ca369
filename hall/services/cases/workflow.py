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

from hall.errors import ConflictError, ValidationError
from hall.models import Event, Item, Ticket
from hall.models.workflow import JointCopy, ProxyLeg
from hall.services.base.actor import Actor
from hall.services.base.states import FINISHED, KIND_LABELS
from hall.services.base.validators import free_text
from hall.services.calendar import clock
from hall.services.calendar.derived import check_extension
from hall.services.people import staff as staff_people
from hall.services.storage import identity, ledger
from hall.services.tickets.record import close_supplement_requests
from hall.services.tickets.rules import (
    CLOSE_STATES,
    DELIVERY_METHODS,
    append_event,
    by_uid,
    calendar,
    load,
    open_stop,
    today_of,
    touch,
)


# ------------------------------------------------------------------------------------- simple actions
def start(session: Session, actor: Actor, number: str, note: str = "", *, now: datetime | None = None,
          expected_version: int | None = None) -> Ticket:
    """部门开始办理: accepted → in progress."""
    now = today_of(now)
    t = load(session, actor, number, "start", now, expected_version)
    note = free_text(note, "说明", max_len=500, required=False)
    append_event(session, actor, t, "ticket.started", {"from_state": t.state, "to": "in_progress", "reason": note},
                 at=now)
    return t


def withdraw(session: Session, actor: Actor, number: str, reason: str, *, now: datetime | None = None,
             expected_version: int | None = None) -> Ticket:
    """撤回: the applicant withdraws; the clock stops, the entry stays with the reason."""
    now = today_of(now)
    t = load(session, actor, number, "withdraw", now, expected_version)
    why = free_text(reason, "撤回原因", max_len=500, min_len=2)
    append_event(session, actor, t, "ticket.withdrawn", {"from_state": t.state, "to": "withdrawn", "reason": why},
                 at=now)
    return t


@ledger.projector("ticket.started")
@ledger.projector("ticket.withdrawn")
def _project_state(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    t.state = p["to"]
    if p["to"] in FINISHED:
        t.is_open = False
        t.closed_at = ev.occurred_at
    touch(session, t, ev, p)


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
    append_event(session, actor, t, "ticket.kind_changed", {
        "from": t.kind, "to": kind, "reason": free_text(reason, "变更原因", max_len=500, min_len=2),
        "old_due": t.due_date, "due_date": due, "due_provisional": provisional,
    }, at=now)
    return t


@ledger.projector("ticket.kind_changed")
def _project_kind(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    t.kind = p["to"]
    t.due_date = date.fromisoformat(p["due_date"]) if p["due_date"] else None
    t.due_provisional = p["due_provisional"]
    touch(session, t, ev, p)


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
    append_event(session, actor, t, "ticket.clock", {
        "entry": entry, "what": what, "reason": f"{what}：{entry.get('reason', '')}".rstrip("："),
        "old_due": old, "new_due": due, "due_provisional": provisional, "to": to_state,
    }, at=now)
    return ClockChange(t.number, old, due, provisional)


@ledger.projector("ticket.clock")
def _project_clock(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    t.clock = [*t.clock, p["entry"]]  # a new list: JSON columns only notice reassignment
    t.due_date = date.fromisoformat(p["new_due"]) if p["new_due"] else None
    t.due_provisional = p["due_provisional"]
    if p.get("to"):
        t.state = p["to"]
    touch(session, t, ev, p)
    if p["entry"]["kind"] == "resume":  # the materials of a 补正 during handling have arrived
        close_supplement_requests(session, t.uid, "handling", date.fromisoformat(p["entry"]["on"]))


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


def extend(session: Session, actor: Actor, number: str, days: int, reason: str, approver_no: str,
           approver_password: str | None = None, *, now: datetime | None = None,
           expected_version: int | None = None) -> ClockChange:
    """延期: extra days in the item's unit approved by a manager, with a reason (the citizen is told in writing
    by the 延期告知书); all extensions together are capped by the item's statutory limit (derived.extension_cap)."""
    now = today_of(now)
    t = load(session, actor, number, "extend", now, expected_version)
    item = session.get_one(Item, t.item_id)
    already = sum(int(e.get("days", 0)) for e in t.clock if e.get("kind") == "extend")
    check_extension(days, item.statutory_limit, item.limit_unit, already)
    why = free_text(reason, "延期理由", max_len=500, multiline=True, min_len=2)
    # The manager's own act: their session, or their password typed on the spot (people.staff.approve).
    approver = staff_people.approve(session, actor, approver_no, approver_password, roles=("manager",), what="延期")
    entry = {"kind": "extend", "on": now.date().isoformat(), "days": days,
             "reason": why, "approver": approver.name,
             "approver_uid": approver.uid}
    return _clock_event(session, actor, t, entry, now, None, "延期")


# ------------------------------------------------------------------------------------ close, deliver
def close_blocker(session: Session, t: Ticket, outcome: str | None = None) -> str:
    """Why 办结 cannot be done now with ``outcome`` (None: with any outcome), or "" when it can.

    The kind's preconditions, in one place: :func:`close` raises this text and the ticket detail shows it as the
    reason its 办结 button is disabled (:mod:`hall.services.cases.offers`), so the screen never offers what the
    service refuses. A proxy case is decided by the department, so every outcome needs its result back."""
    from hall.services.cases import joint

    if open_stop(t, "pause"):
        return "计时暂停中（等待补正），请先恢复计时再办结"
    if t.kind == "proxy":
        returned = session.scalars(select(ProxyLeg.id).where(ProxyLeg.ticket_uid == t.uid,
                                                             ProxyLeg.state == "returned")).first()
        if returned is None:
            return "代办件须先登记承办部门的办理结果，才能办结"
    if t.kind == "joint":
        status = joint.status(session, t)
        if not status.copied:
            return "联办件须先抄告协办部门"
        if status.pending:
            return "还有协办部门未回复且未到期：" + "、".join(status.pending)
        if outcome not in (None, "rejected") and status.objections:
            return "有协办部门不同意或要求补充，不能以通过办结：" + "；".join(status.objections)
    return ""


def close(session: Session, actor: Actor, number: str, outcome: str, result: str, *, result_doc_no: str = "",
          now: datetime | None = None, expected_version: int | None = None) -> Ticket:
    """办结 with the kind's preconditions: a proxy case needs the department's result back; a joint case
    needs every co-department answered or deemed to consent, and approval is refused while any disagrees."""
    from hall.services.registers import followups

    now = today_of(now)
    t = load(session, actor, number, "close", now, expected_version)
    if outcome not in CLOSE_STATES:
        raise ValidationError("办结结果", "应为通过、容缺通过或不通过")
    blocker = close_blocker(session, t, outcome)
    if blocker:
        raise ConflictError(blocker)
    body = free_text(result, "办理结果", max_len=2000, multiline=True)
    doc_no = free_text(result_doc_no, "结果文书编号", max_len=60, required=False)
    on_time = t.due_date is None or now.date() <= t.due_date
    append_event(session, actor, t, "ticket.closed", {
        "state": CLOSE_STATES[outcome], "result": body, "on_time": on_time,
        "result_doc_no": doc_no,
    }, at=now)
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
    append_event(session, actor, t, "ticket.delivered", {
        "how": how, "delivered_on": on, "signed_by": signer,
        "doc_no": free_text(doc_no, "送达回证编号", max_len=60, required=False),
        "note": free_text(note, "备注", max_len=500, multiline=True, required=False),
        "from_state": t.state, "reason": f"{how}，{on.isoformat()}，签收人 {signer}",
    }, at=now)
    return t


@ledger.projector("ticket.delivered")
def _project_delivered(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    t.state = "delivered"
    touch(session, t, ev, p)


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
    """Record a change of the responsible person (a manager's reassignment within the window)."""
    append_event(session, actor, t, "ticket.reassigned", {
        "from_owner_uid": identity.uid_of(session, t.owner_id), "to_owner_uid": identity.uid_of(session, to_staff_id),
        "reason": reason, **extra,
    }, at=now)


@ledger.projector("ticket.reassigned")
def _project_reassigned(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    t.owner_id = identity.staff_ref(session, p, "to_owner_uid", "to_owner")
    if p.get("window_code"):
        t.window_code = p["window_code"]
    touch(session, t, ev, p)

