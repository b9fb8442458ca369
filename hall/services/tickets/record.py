"""Reading tickets and the basic actions on them; every action is a ledger event with actor and reason.

The full state machine of the five kinds (proxy legs, joint opinions, routing) builds on ``act`` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from hall.errors import ConflictError, NotFound
from hall.models import Event, Item, Staff, Ticket
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_ticket_action
from hall.services.base.states import KIND_LABELS, STATE_LABELS
from hall.services.base.validators import free_text, parse_key
from hall.services.calendar import clock
from hall.services.storage import ledger


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    actor: str
    role: str
    type: str
    text: str
    payload: dict[str, Any]


EVENT_LABELS = {
    "ticket.received": "收件登记",
    "ticket.closed": "办结",
    "ticket.voided": "作废",
    "ticket.supplemented": "补正材料收齐",
    "ticket.clock": "计时变更",
    "ticket.delivered": "送达",
    "ticket.deadline_changed": "期限重算",
    "ticket.printed": "打印文书",
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


def get(session: Session, number: str) -> Ticket:
    number = parse_key(number, "办件编号")
    t = session.scalars(select(Ticket).where(Ticket.number == number)).first()
    if t is None:
        raise NotFound(f"办件编号“{number}”不存在")
    return t


def by_id(session: Session, ticket_id: int) -> Ticket:
    t = session.get(Ticket, ticket_id)
    if t is None:
        raise NotFound(f"办件（内部号 {ticket_id}）不存在")
    return t


def history(session: Session, ticket: Ticket) -> list[HistoryLine]:
    lines = []
    for ev in ledger.history(session, ticket.uid):
        p = ledger.load_payload(ev)
        lines.append(HistoryLine(ev.occurred_at, ev.actor_name, ev.actor_role, ev.type, describe(ev.type, p), p))
    return lines


def describe(event_type: str, p: dict[str, Any]) -> str:
    label = EVENT_LABELS.get(event_type, event_type)
    if event_type == "ticket.received":
        parts = [f"{KIND_LABELS.get(p['kind'], p['kind'])}，{STATE_LABELS.get(p['state'], p['state'])}"]
        if p.get("due_date"):
            parts.append(f"承诺办结日期 {p['due_date']}{'（暂定）' if p.get('due_provisional') else ''}")
        missing = [m["name"] for m in p.get("materials", []) if m["status"] == "missing"]
        if missing:
            parts.append("需补正：" + "、".join(missing))
        return f"{label}：" + "；".join(parts)
    if event_type == "ticket.closed":
        return f"{label}：{STATE_LABELS.get(p['state'], p['state'])}，{p.get('result', '')}"
    if event_type == "ticket.deadline_changed":
        return f"{label}：{p.get('old')} → {p.get('new')}（{p.get('why', '')}）"
    reason = p.get("reason") or p.get("result") or ""
    return f"{label}：{reason}" if reason else label


def owner_name(session: Session, ticket: Ticket) -> str:
    if ticket.owner_id is None:
        return ""
    person = session.get(Staff, ticket.owner_id)
    return person.name if person else ""


def _editable(session: Session, actor: Actor, number: str, what: str, expected_version: int | None) -> Ticket:
    t = get(session, number)
    require_ticket_action(actor, window_code=t.window_code, owner_id=t.owner_id, intake_point=t.intake_point,
                          what=what)
    if expected_version is not None and t.version != expected_version:
        raise ConflictError(f"办件 {t.number} 刚被其他窗口修改，请刷新后再{what}")
    return t




_T = Ticket.__table__
_CLOSE = (update(_T).where(_T.c.uid == bindparam("ticket_uid"))
          .values(state=bindparam("new_state"), result=bindparam("new_result"), is_open=False,
                  closed_at=bindparam("at"), closed_on_time=bindparam("new_on_time"), version=_T.c.version + 1,
                  updated_at=bindparam("at")))


@ledger.projector("ticket.closed")
def _project_closed(session: Session, ev: Event, p: dict[str, Any]) -> None:
    if not session.identity_map and not session.new:
        # Nothing is loaded in this unit of work (the counter's on-the-spot close after intake, which writes
        # through Core): no ORM object can go stale, so one prebuilt UPDATE instead of a load and a flush.
        done = session.connection().execute(_CLOSE, {"ticket_uid": ev.ticket_uid, "new_state": p["state"],
                                                     "new_result": p["result"], "at": ev.occurred_at,
                                                     "new_on_time": p["on_time"]}).rowcount
        if done != 1:
            raise NotFound(f"台账事件指向的办件 {ev.ticket_uid} 不存在")
        return
    t = by_uid(session, ev.ticket_uid)
    t.state, t.result, t.is_open = p["state"], p["result"], False
    t.closed_at, t.closed_on_time = ev.occurred_at, p["on_time"]
    touch(t, ev)


def void(session: Session, actor: Actor, number: str, reason: str, *, expected_version: int | None = None) -> Ticket:
    """作废: never deleted; the entry stays with the reason and who voided it."""
    t = _editable(session, actor, number, "作废", expected_version)
    if t.state == "voided":
        raise ConflictError("该办件已作废")
    why = free_text(reason, "作废原因", max_len=500, min_len=2)
    ledger.append(session, actor, "ticket.voided", {"reason": why, "from_state": t.state},
                  ticket_uid=t.uid)
    return t


@ledger.projector("ticket.voided")
def _project_voided(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    t.state, t.is_open, t.void_reason = "voided", False, p["reason"]
    touch(t, ev)


def supplement_received(session: Session, actor: Actor, number: str, *, expected_version: int | None = None,
                        now: datetime | None = None) -> Ticket:
    """补正材料收齐: the ticket is accepted that day and its clock starts (the acceptance day not counted)."""
    t = _editable(session, actor, number, "登记补正", expected_version)
    if t.state != "supplement":
        raise ConflictError(f"办件当前为“{STATE_LABELS[t.state]}”，没有待补正的材料")
    now = now or datetime.now()
    item = session.get_one(Item, t.item_id)
    due, provisional = clock.quick_due(clock.calendar_for(session), item, t.kind, now.date())
    ledger.append(session, actor, "ticket.supplemented",
                  {"accepted_on": now.date(), "due_date": due, "due_provisional": provisional},
                  ticket_uid=t.uid, at=now)
    return t


@ledger.projector("ticket.supplemented")
def _project_supplemented(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    t.state = "accepted"
    t.accepted_on = date.fromisoformat(p["accepted_on"])
    t.due_date, t.due_provisional = date.fromisoformat(p["due_date"]), p["due_provisional"]
    t.materials = [{**m, "status": "received" if m["status"] == "missing" else m["status"]} for m in t.materials]
    touch(t, ev)


def today_of(now: datetime | None) -> datetime:
    return now or datetime.now()


def text(value: str | None, field: str, max_len: int = 2000, *, min_len: int = 1, multiline: bool = True) -> str:
    """Deprecated alias of :func:`hall.services.base.validators.free_text` (required unless ``min_len=0``);
    services call ``free_text`` themselves and say there whether the field is multi-line."""
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


def staff_name(session: Session, staff_id: int | None) -> str:
    if staff_id is None:
        return ""
    person = session.get(Staff, staff_id)
    return person.name if person else ""
