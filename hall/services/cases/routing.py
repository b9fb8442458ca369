"""Routing (分流): transfer to another window with a recorded handover, and escalation to collective decision.

首问负责制: the first staff member asked owns the case until a recorded handover. A transfer is therefore two
steps — the request (with reason and what is handed over) and the receiver's acceptance; until the receiver
accepts, the ticket stays at the old window with its owner answerable. The receiver may decline with reasons.

Escalation (提交党委政府集体研究) does **not** stop the clock: only the 行政许可法 §45 special steps are excluded
from the time limit. A case that needs more time for the decision goes through the extension (approver, reason,
延期告知书), so the promised date and the on-time rate stay honest. The ticket returns to the state it was in when
the manager records the outcome. (Escalations recorded before this rule stopped the clock with an excluded step;
their decision still closes it, so their history replays as it was.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from hall.models import Event, Staff, Ticket, Window
from hall.models.workflow import Escalation, Transfer
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_supervisor
from hall.services.base.validators import free_text, parse_key
from hall.services.cases.workflow import ClockChange, _clock_event
from hall.services.people.attendance import standing_in_for
from hall.services.storage import identity, ledger
from hall.services.tickets import record as tickets
from hall.services.tickets.rules import (
    append_event,
    by_uid,
    check_transition,
    load,
    open_stop,
    staff_name,
    today_of,
    touch,
)


@dataclass(frozen=True)
class TransferView:
    id: int
    ticket_number: str
    item_name: str
    from_window: str
    to_window: str
    from_owner: str
    to_staff: str
    reason: str
    handover: str
    requested_at: datetime
    state: str


def request_transfer(session: Session, actor: Actor, number: str, to_window: str, reason: str, handover: str, *,
                     to_staff_no: str | None = None, now: datetime | None = None,
                     expected_version: int | None = None) -> Transfer:
    """转办: ask another window to take the case; the current owner stays answerable until it is accepted."""
    now = today_of(now)
    t = load(session, actor, number, "transfer", now, expected_version)
    to_window = parse_key(to_window, "接收窗口", max_len=8)
    why = free_text(reason, "转办原因", max_len=500, min_len=2)
    handed = free_text(handover, "移交内容", max_len=1000, multiline=True, min_len=2)
    window = session.get(Window, to_window)
    if window is None or not window.active:
        raise ValidationError("接收窗口", f"窗口“{to_window}”不存在")
    if to_window == t.window_code:
        raise ValidationError("接收窗口", "与当前窗口相同")
    if _pending(session, t) is not None:
        raise ConflictError("该办件已有待接收的转办，请等对方接收或退回")
    to_staff = None
    if to_staff_no:
        to_staff_no = parse_key(to_staff_no, "接收人", max_len=20)
        to_staff = session.scalars(select(Staff).where(Staff.staff_no == to_staff_no)).first()
        if to_staff is None or to_staff.window_code != to_window:
            raise ValidationError("接收人", f"工号“{to_staff_no}”不是{to_window}窗口的工作人员")
    ev = append_event(session, actor, t, "routing.transfer_requested", {
        "from_window": t.window_code, "to_window": to_window, "from_owner_uid": identity.uid_of(session, t.owner_id),
        "to_staff_uid": to_staff.uid if to_staff else None, "reason": why, "handover": handed,
    }, at=now)
    return session.scalars(select(Transfer).where(Transfer.event_id == ev.event_id)).one()


@ledger.projector("routing.transfer_requested")
def _project_requested(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    session.add(Transfer(event_id=ev.event_id, ticket_uid=t.uid, from_window=p["from_window"],
                         to_window=p["to_window"],
                         from_owner_id=identity.staff_ref(session, p, "from_owner_uid", "from_owner"),
                         to_staff_id=identity.staff_ref(session, p, "to_staff_uid", "to_staff_id"),
                         reason=p["reason"], handover=p["handover"], requested_at=ev.occurred_at, state="pending"))
    touch(session, t, ev, p)
    session.flush()


def _pending(session: Session, t: Ticket) -> Transfer | None:
    return session.scalars(select(Transfer).where(Transfer.ticket_uid == t.uid, Transfer.state == "pending")).first()


def _receiver_check(session: Session, actor: Actor, tr: Transfer, day: date) -> None:
    if actor.is_supervisor:
        return
    if tr.to_staff_id is not None and actor.staff_id != tr.to_staff_id:
        raise PermissionDenied(f"该转办指定由{staff_name(session, tr.to_staff_id)}接收")
    windows = {actor.window_code, *standing_in_for(session, actor.staff_id, day)}
    if actor.role != "clerk" or tr.to_window not in windows:
        raise PermissionDenied(f"只有{tr.to_window}窗口的工作人员可以接收或退回这件转办")


def _for_receiver(session: Session, actor: Actor, number: str, now: datetime) -> tuple[Ticket, Transfer]:
    """The ticket and its pending transfer, for the receiving window's answer (accept or decline)."""
    t = tickets.get(session, number, lock=True)  # then the pending transfer as the last commit left it
    tr = _pending(session, t)
    if tr is None:
        raise ConflictError(f"办件 {t.number} 没有待接收的转办")
    _receiver_check(session, actor, tr, now.date())
    return t, tr


def receiver_refusal(session: Session, actor: Actor, t: Ticket, day: date) -> str:
    """Why ``actor`` cannot accept a transfer of ``t`` now, or "" — asked as :func:`accept_transfer` asks (the
    ticket detail's 接收转办 button, :mod:`hall.services.cases.offers`)."""
    tr = _pending(session, t)
    if tr is None:
        return f"办件 {t.number} 没有待接收的转办"
    try:
        _receiver_check(session, actor, tr, day)
        check_transition(t, "accept_transfer")
    except (PermissionDenied, ConflictError) as exc:
        return str(exc)
    return ""


def _decided(session: Session, ev: Event, p: dict[str, Any], state: str) -> Transfer:
    """The receiving window's answer on the transfer row: which, when and by whom."""
    tr = session.scalars(select(Transfer).where(Transfer.event_id == p["transfer"])).one()
    tr.state, tr.decided_at, tr.decided_by = state, ev.occurred_at, ev.actor_name
    tr.decided_by_id = identity.actor_staff_id(session, ev)
    return tr


def accept_transfer(session: Session, actor: Actor, number: str, *, now: datetime | None = None) -> Ticket:
    """The receiver accepts: the ticket moves to their window and they become the responsible person."""
    now = today_of(now)
    t, tr = _for_receiver(session, actor, number, now)
    check_transition(t, "accept_transfer")
    owner = actor.staff_id if actor.role == "clerk" else (tr.to_staff_id or t.owner_id)
    append_event(session, actor, t, "routing.transfer_accepted", {
        "transfer": tr.event_id, "window_code": tr.to_window, "from_owner_uid": identity.uid_of(session, t.owner_id),
        "to_owner_uid": identity.uid_of(session, owner),
        "reason": f"{tr.to_window}窗口接收转办（{tr.reason}）",
    }, at=now)
    return t


@ledger.projector("routing.transfer_accepted")
def _project_accepted(session: Session, ev: Event, p: dict[str, Any]) -> None:
    _decided(session, ev, p, "accepted")
    t = by_uid(session, ev.ticket_uid)
    t.window_code, t.owner_id = p["window_code"], identity.staff_ref(session, p, "to_owner_uid", "to_owner")
    touch(session, t, ev, p)


def decline_transfer(session: Session, actor: Actor, number: str, reason: str, *,
                     now: datetime | None = None) -> Ticket:
    """The receiver sends it back with reasons; the ticket never left its owner."""
    now = today_of(now)
    t, tr = _for_receiver(session, actor, number, now)
    append_event(session, actor, t, "routing.transfer_declined", {
        "transfer": tr.event_id, "reason": free_text(reason, "退回原因", max_len=500, multiline=True, min_len=2),
    }, at=now)
    return t


@ledger.projector("routing.transfer_declined")
def _project_declined(session: Session, ev: Event, p: dict[str, Any]) -> None:
    tr = _decided(session, ev, p, "declined")
    tr.decline_reason = p["reason"]
    touch(session, by_uid(session, ev.ticket_uid), ev, p)


def inbox(session: Session, window_code: str) -> list[TransferView]:
    """Transfers waiting for a window to accept (the counter's 待接收 list)."""
    rows = session.execute(select(Transfer, Ticket).join(Ticket, Ticket.uid == Transfer.ticket_uid)
                           .where(Transfer.to_window == window_code, Transfer.state == "pending")
                           .order_by(Transfer.requested_at)).all()
    return [TransferView(tr.id, t.number, t.item_name, tr.from_window, tr.to_window,
                         staff_name(session, tr.from_owner_id), staff_name(session, tr.to_staff_id), tr.reason,
                         tr.handover, tr.requested_at, tr.state) for tr, t in rows]


def transfers_of(session: Session, t: Ticket) -> list[Transfer]:
    return list(session.scalars(select(Transfer).where(Transfer.ticket_uid == t.uid).order_by(Transfer.id)))


# ------------------------------------------------------------------------------------------ escalation
def escalate(session: Session, actor: Actor, number: str, reason: str, *, now: datetime | None = None,
             expected_version: int | None = None) -> ClockChange:
    """提交集体研究: the case waits for the township's collective decision; its clock keeps running (more time
    only through :func:`hall.services.cases.workflow.extend`)."""
    now = today_of(now)
    t = load(session, actor, number, "escalate", now, expected_version)
    if open_stop(t, "pause") or open_stop(t, "exclude"):
        raise ConflictError("计时暂停中，请先恢复计时再提交集体研究")
    why = free_text(reason, "提交理由", max_len=1000, multiline=True, min_len=2)
    back = t.state
    append_event(session, actor, t, "routing.escalated", {
        "reason": why, "from_state": back, "on": now.date(), "to": "escalated", "clock": "running",
    }, at=now)
    return ClockChange(t.number, t.due_date, t.due_date, t.due_provisional)


@ledger.projector("routing.escalated")
def _project_escalated(session: Session, ev: Event, p: dict[str, Any]) -> None:
    session.add(Escalation(event_id=ev.event_id, ticket_uid=ev.ticket_uid, reason=p["reason"],
                           submitted_on=date.fromisoformat(p["on"]), submitted_by=ev.actor_name,
                           from_state=p["from_state"], state="open"))
    if p.get("to"):  # since collective study no longer stops the clock, the event itself moves the ticket
        t = by_uid(session, ev.ticket_uid)
        t.state = p["to"]
        touch(session, t, ev, p)
    session.flush()


def decide(session: Session, actor: Actor, number: str, outcome: str, meeting: str, *,
           now: datetime | None = None) -> ClockChange:
    """The collective decision, recorded by the manager; the clock runs again and the case returns."""
    require_supervisor(actor, "登记集体研究结果")
    now = today_of(now)
    t = load(session, actor, number, "decide", now)
    esc = session.scalars(select(Escalation).where(Escalation.ticket_uid == t.uid, Escalation.state == "open")
                          ).first()
    if esc is None:
        raise NotFound("没有待研究的集体研究记录")
    body = free_text(outcome, "研究结论", max_len=2000, multiline=True, min_len=2)
    meeting = free_text(meeting, "会议（纪要号）", max_len=120)
    payload = {"escalation": esc.event_id, "outcome": body, "meeting": meeting, "on": now.date(),
               "reason": body[:200]}
    running = open_stop(t, "exclude")
    if running is not None and str(running.get("reason", "")).startswith("集体研究"):
        # An escalation recorded when collective study still stopped the clock: end that stop as it began.
        entry = {"kind": "exclude_end", "on": now.date().isoformat(), "reason": f"集体研究结论：{body[:100]}"}
        change = _clock_event(session, actor, t, entry, now, esc.from_state, "集体研究结束")
        ledger.append(session, actor, "routing.decided", payload, ticket_uid=t.uid, at=now)
        return change
    append_event(session, actor, t, "routing.decided", {**payload, "to": esc.from_state}, at=now)
    return ClockChange(t.number, t.due_date, t.due_date, t.due_provisional)


@ledger.projector("routing.decided")
def _project_decided(session: Session, ev: Event, p: dict[str, Any]) -> None:
    esc = session.scalars(select(Escalation).where(Escalation.event_id == p["escalation"])).one()
    esc.state, esc.outcome, esc.meeting = "decided", p["outcome"], p["meeting"]
    esc.decided_on, esc.decided_by = date.fromisoformat(p["on"]), ev.actor_name
    if p.get("to"):
        t = by_uid(session, ev.ticket_uid)
        t.state = p["to"]
        touch(session, t, ev, p)


def escalations(session: Session, *, state: str = "open") -> list[tuple[Ticket, Escalation]]:
    rows = session.execute(select(Ticket, Escalation).join(Escalation, Escalation.ticket_uid == Ticket.uid)
                           .where(Escalation.state == state).order_by(Escalation.submitted_on)).all()
    return [(t, e) for t, e in rows]
