"""Reading tickets and the basic actions on them; every action is a ledger event with actor and reason.

The full state machine of the five kinds (proxy legs, joint opinions, routing) builds on the helpers here.

**Per-ticket concurrency.** Eleven counters may act on one ticket at the same moment; of two conflicting actions
exactly one may win. Three things together make sure of it, on either database:

- an action loads the ticket it will change with :func:`get` / :func:`by_uid` ``lock=True`` (``SELECT … FOR UPDATE``
  on PostgreSQL, so a second counter waits for the first to commit and then reads what it left; SQLite's
  ``BEGIN IMMEDIATE`` already keeps every other writer out) and checks the version the clerk saw
  (:func:`check_version`);
- its event names the ticket version it was based on, ``parent_version`` in the payload (:func:`append_event`),
  and on a village point's ticket also the event it was built on, ``parent_head`` (hall/services/tickets/lineage.py:
  what the sync conflict gate compares, since two nodes' branches reach the same integers);
- the projector applies it as a compare-and-set on that version in SQL (:func:`touch`): an event whose parent is
  no longer the ticket's version changes nothing and raises :class:`ConflictError`, so a path that forgot the lock
  still cannot record a lost update. Events written before parents were recorded carry none and replay as they
  were applied (the version moves on by one).

The loser is told who changed the ticket, when and to what (:func:`changed_meanwhile`), and its whole transaction
rolls back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from hall.errors import ConflictError, NotFound
from hall.models import Event, Item, Staff, Ticket
from hall.models.sync import SyncHeldEvent
from hall.models.workflow import SupplementRequest
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_ticket_action
from hall.services.base.states import KIND_LABELS, STATE_LABELS
from hall.services.base.validators import free_text, parse_key
from hall.services.calendar import clock
from hall.services.storage import bulk, ledger
from hall.services.tickets import lineage


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    actor: str
    role: str
    type: str
    text: str
    payload: dict[str, Any]
    event_id: str = ""


EVENT_LABELS = {
    "ticket.received": "收件登记",
    "ticket.closed": "办结",
    "ticket.voided": "作废",
    "ticket.supplemented": "补正材料收齐",
    "supplement.requested": "补正材料通知",
    "supplement.due_changed": "补正期限随日历调整",
    "joint.due_changed": "协办答复期限随日历调整",
    "proxy.due_changed": "代办期限随日历调整",
    "rectification.due_changed": "整改期限随日历调整",
    "complaint.due_changed": "投诉办理期限随日历调整",
    "followup.due_changed": "回访日期随日历调整",
    "appointment.moved": "预约日期随日历调整",
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
    # Registers and the daily run that write on a ticket's history too (the glossary's words, never the type).
    "proxy.reference": "部门受理编号",
    "followup.scheduled": "安排回访",
    "followup.done": "回访",
    "complaint.registered": "投诉登记",
    "complaint.answered": "投诉答复",
    "rectification.opened": "差评整改",
    "rectification.done": "整改完成",
    "rectification.verified": "整改核实",
    "accountability.opened": "责任追究（待核实）",
    "accountability.found": "责任追究（核实结论）",
    "inspection.finding_recorded": "效能监察意见",
    "ticket.fee_charged": "一次性收费",
    "bpost.reassigned": "代理岗接办",
    "bpost.returned": "代理结束交回",
    "bpost.started": "代理岗开始代理",
    "bpost.ended": "代理岗结束代理",
    "appointment.booked": "点名约访预约",
    "appointment.closed": "点名约访结束",
    "visit.planned": "巡回下访计划",
    "visit.finished": "巡回下访结束",
    "attendance.marked": "考勤登记",
    "daily.swept": "每日检查",
    "report.ledger_exported": "导出办件台账",
    "ledger.head_signed": "签署台账链头",
    "rating.screen_enrolled": "登记评价器",
    "settings.changed": "修改本中心信息",
    "staff.added": "添加工作人员",
    "staff.b_post_set": "设置代理岗",
    "staff.password_set": "设置密码",
    "staff.changed": "修改工作人员信息",
    "staff.active_set": "停用或启用工作人员",
    "staff.password_reset": "重置密码",
    "sync.peer_enrolled": "登记村代办点终端",
    "sync.peer_revoked": "注销村代办点终端",
    "sync.joined": "村代办点终端接入大厅",
    "sync.conflict_resolved": "处理同步冲突",
    "calendar.seeded": "载入工作日历",
    "calendar.year_set": "确认年度节假日安排",
    "calendar.local_holiday_added": "添加本地休息日",
    "catalog.imported": "导入事项清单",
    "intake_point.added": "添加受理点",
    # 涉法信访 (hall/services/cases/petition*.py, hall/services/registers/reception.py)
    "petition.registered": "信访事项登记",
    "petition.accept_decided": "信访受理告知",
    "petition.agent_added": "登记信访代理人",
    "petition.four_fixed": "四定一包",
    "petition.feedback_given": "信访进展反馈",
    "petition.hearing_recorded": "公开听证（答询）",
    "petition.transferred": "信访事项移交",
    "petition.transfer_answered": "移交机关答复",
    "petition.followups_scheduled": "安排信访回访",
    "petition.followup_done": "信访回访",
    "petition.due_changed": "信访期限随日历调整",
    "reception.slot_posted": "安排领导接访",
    "reception.booked": "预约领导接访",
    "reception.cancelled": "取消领导接访预约",
    "intake_point.changed": "修改或停用受理点",
}


def for_change(stmt: Select[Any]) -> Select[Any]:
    """``stmt`` reading tickets (or other rows) that this transaction is about to change: the rows stay locked
    until commit on PostgreSQL (a second counter's load waits, then reads the committed result), and rows this
    session already holds are read again rather than served from its identity map. SQLite renders no FOR UPDATE:
    its write transactions (BEGIN IMMEDIATE) already run one at a time."""
    return stmt.with_for_update().execution_options(populate_existing=True)


def get(session: Session, number: str, *, lock: bool = False) -> Ticket:
    """The ticket numbered ``number``; ``lock`` when the caller will change it (see the module docstring)."""
    number = parse_key(number, "办件编号")
    stmt = select(Ticket).where(Ticket.number == number)
    t = session.scalars(for_change(stmt) if lock else stmt).first()
    if t is None:
        raise NotFound(f"办件编号“{number}”不存在")
    return t


def by_id(session: Session, ticket_id: int) -> Ticket:
    t = session.get(Ticket, ticket_id)
    if t is None:
        raise NotFound(f"办件（内部号 {ticket_id}）不存在")
    return t


# What a ticket's history says of an event a sync conflict keeps from taking effect (hall/services/sync).
HELD_LABELS = {"held": "（同步冲突，待中心主任处理）", "lost": "（未生效）"}


def history(session: Session, ticket: Ticket) -> list[HistoryLine]:
    lines = []
    held = dict(session.execute(select(SyncHeldEvent.event_id, SyncHeldEvent.status).where(
        SyncHeldEvent.ticket_uid == ticket.uid)).all())
    for ev in ledger.history(session, ticket.uid):
        p = ledger.load_payload(ev)
        text = describe(ev.type, p) + HELD_LABELS.get(held.get(ev.event_id, ""), "")
        lines.append(HistoryLine(ev.occurred_at, ev.actor_name, ev.actor_role, ev.type, text, p, ev.event_id))
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


def _editable(session: Session, actor: Actor, number: str, what: str, expected_version: int | None,
              now: datetime | None = None) -> Ticket:
    t = get(session, number, lock=True)
    require_ticket_action(actor, window_code=t.window_code, owner_id=t.owner_id, intake_point=t.intake_point,
                          what=what)
    check_version(session, t, expected_version, now)
    return t


# ------------------------------------------------------------------------------ per-ticket concurrency
PARENT = lineage.PARENT  # the payload key naming the ticket version an event was based on
PARENT_HEAD = lineage.PARENT_HEAD  # ... and the event it was built on, by hash (a village point's tickets)


def check_version(session: Session, t: Ticket, expected_version: int | None, now: datetime | None = None) -> None:
    """Refuse when the ticket is no longer at the version the clerk's screen showed (``None``: not checked).

    Called on the locked row: on PostgreSQL a counter that waited for another's commit sees its version here."""
    if expected_version is not None and t.version != expected_version:
        raise changed_meanwhile(session, t.uid, now)


def changed_meanwhile(session: Session, ticket_uid: str | None, now: datetime | None = None, *,
                      besides: str | None = None) -> ConflictError:
    """该办件已被 X 于 HH:MM 更新为“状态”: the conflict as the clerk is told it, from the committed ticket row and the
    event that changed it last (the one stamped with the row's ``updated_at``; ``besides``: this transaction's own
    event, never the one to name). Names staff only, never the applicant."""
    row = session.connection().execute(select(_T.c.state, _T.c.updated_at).where(_T.c.uid == ticket_uid)).first()
    if row is None:
        return ConflictError("该办件已不存在，请刷新后重试")
    state, updated_at = row
    e = Event.__table__.c
    mine = [e.event_id != besides] if besides else []
    last = select(e.actor_name, e.occurred_at).where(e.ticket_uid == ticket_uid, *mine).order_by(e.id.desc()).limit(1)
    found = session.connection().execute(last.where(e.occurred_at == updated_at)).first() or \
        session.connection().execute(last).first()
    who, at = (found[0], found[1]) if found else ("其他窗口", updated_at)
    when = f"{at:%H:%M}" if now is None or at.date() == now.date() else f"{at.month}月{at.day}日 {at:%H:%M}"
    return ConflictError(f"该办件已被 {who} 于 {when} 更新为“{STATE_LABELS.get(state, state)}”，请查看后重试")


def append_event(session: Session, actor: Actor, t: Ticket, type: str, payload: dict[str, Any], *,
                 at: datetime | None = None) -> Event:
    """Append an event that changes ticket ``t``, naming the version it was based on (its parent): the version
    this transaction loaded and checked, or moved on to with an earlier event of its own. On a ticket that can
    have another node's events too (a village point's) it also names that parent by content: the hash of the
    ticket's effective head (hall/services/tickets/lineage.py), one indexed query. A ticket frozen by a sync
    conflict (hall/services/sync/conflicts.py) takes no action until the manager has resolved it: refused by
    ``ledger.append`` itself, before anything is written."""
    parents: dict[str, Any] = {PARENT: t.version}
    if lineage.may_fork(t.intake_point):
        named = lineage.head(session.connection(), t.uid)
        if named is not None:
            parents[PARENT_HEAD] = named
    return ledger.append(session, actor, type, {**payload, **parents}, ticket_uid=t.uid, at=at)


FROZEN_MESSAGE = ledger.FROZEN_MESSAGE
frozen_uids = ledger.frozen_uids


def refuse_if_frozen(session: Session, ticket_uid: str) -> None:
    """Refuse an action on a ticket with an open sync conflict (for a read that would still write: a print)."""
    if ledger.is_frozen(session, ticket_uid):
        raise ConflictError(FROZEN_MESSAGE)


_T = Ticket.__table__
_CLOSE_ANY = (update(_T).where(_T.c.uid == bindparam("ticket_uid"))
              .values(state=bindparam("new_state"), result=bindparam("new_result"), is_open=False,
                      closed_at=bindparam("at"), closed_on_time=bindparam("new_on_time"), version=_T.c.version + 1,
                      updated_at=bindparam("at")))
_CLOSE = _CLOSE_ANY.where(_T.c.version == bindparam("parent"))  # the compare-and-set (see touch)


@ledger.projector("ticket.closed")
def _project_closed(session: Session, ev: Event, p: dict[str, Any]) -> None:
    if not session.identity_map and not session.new:
        # Nothing is loaded in this unit of work (the counter's on-the-spot close after intake, which writes
        # through Core): no ORM object can go stale, so one prebuilt UPDATE instead of a load and a flush.
        parent = p.get(PARENT)
        done = session.connection().execute(_CLOSE if parent is not None else _CLOSE_ANY, {
            "ticket_uid": ev.ticket_uid, "new_state": p["state"], "new_result": p["result"], "at": ev.occurred_at,
            "new_on_time": p["on_time"], "parent": parent}).rowcount
        if done != 1:
            by_uid(session, ev.ticket_uid)  # NotFound when there is no such ticket
            raise changed_meanwhile(session, ev.ticket_uid, ev.occurred_at, besides=ev.event_id)
        return
    t = by_uid(session, ev.ticket_uid)
    t.state, t.result, t.is_open = p["state"], p["result"], False
    t.closed_at, t.closed_on_time = ev.occurred_at, p["on_time"]
    touch(session, t, ev, p)


@ledger.bulk_projector("ticket.closed")
def _project_closed_many(session: Session, rows: list[dict[str, Any]], payloads: list[dict[str, Any]]) -> None:
    # A run of closes (a sync import of a village's on-the-spot tickets): the same prebuilt UPDATEs as one by one,
    # by executemany, which runs them in the events' order. Anything loaded in the unit of work: one by one (an
    # ORM object could go stale). A compare-and-set that misses refuses the whole run (the caller's transaction is
    # rolled back).
    if session.identity_map or session.new:
        for r, p in zip(rows, payloads, strict=True):
            _project_closed(session, ledger.Stored(r), p)  # type: ignore[arg-type]
        return
    params = {True: [], False: []}  # type: dict[bool, list[dict[str, Any]]]
    for r, p in zip(rows, payloads, strict=True):
        parent = p.get(PARENT)
        params[parent is not None].append({
            "ticket_uid": r["ticket_uid"], "new_state": p["state"], "new_result": p["result"], "at": r["occurred_at"],
            "new_on_time": p["on_time"], "parent": parent})
    conn = session.connection()
    done = sum(bulk.executemany(conn, _CLOSE if cas else _CLOSE_ANY, batch) for cas, batch in params.items() if batch)
    if done != len(rows):
        raise missed_closes(len(rows) - done)


def fold_closed(ticket: dict[str, Any], r: Mapping[str, Any], p: dict[str, Any]) -> bool:
    """The close ``r`` (its payload ``p``) applied to the values of a ticket row not written yet — exactly what
    ``_CLOSE`` does to the stored row, for a set-based projector that folds a ticket's on-the-spot close into its
    INSERT (ledger.bulk_projector's ``folds``). False, and nothing changed, when the compare-and-set misses."""
    parent = p.get(PARENT)
    if parent is not None and parent != ticket["version"]:
        return False
    at = r["occurred_at"]
    ticket.update(state=p["state"], result=p["result"], is_open=False, closed_at=at, closed_on_time=p["on_time"],
                  version=ticket["version"] + 1, updated_at=at)
    return True


def missed_closes(count: int) -> ConflictError:
    return ConflictError(f"{count} 件办件的办结与其当前状态不符（已被更新或不存在），未做任何更改")


def void(session: Session, actor: Actor, number: str, reason: str, *, expected_version: int | None = None,
         now: datetime | None = None) -> Ticket:
    """作废: never deleted; the entry stays with the reason and who voided it."""
    t = _editable(session, actor, number, "作废", expected_version, now)
    if t.state == "voided":
        raise ConflictError("该办件已作废")
    why = free_text(reason, "作废原因", max_len=500, min_len=2)
    append_event(session, actor, t, "ticket.voided", {"reason": why, "from_state": t.state}, at=now)
    return t


@ledger.projector("ticket.voided")
def _project_voided(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    t.state, t.is_open, t.void_reason = "voided", False, p["reason"]
    touch(session, t, ev, p)


def supplement_received(session: Session, actor: Actor, number: str, *, expected_version: int | None = None,
                        now: datetime | None = None) -> Ticket:
    """补正材料收齐: the ticket is accepted that day and its clock starts (the acceptance day not counted)."""
    now = now or datetime.now()
    t = _editable(session, actor, number, "登记补正", expected_version, now)
    if t.state != "supplement":
        raise ConflictError(f"办件当前为“{STATE_LABELS[t.state]}”，没有待补正的材料")
    item = session.get_one(Item, t.item_id)
    due, provisional = clock.quick_due(clock.calendar_for(session), item, t.kind, now.date())
    append_event(session, actor, t, "ticket.supplemented",
                 {"accepted_on": now.date(), "due_date": due, "due_provisional": provisional}, at=now)
    return t


@ledger.projector("ticket.supplemented")
def _project_supplemented(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    t.state = "accepted"
    t.accepted_on = date.fromisoformat(p["accepted_on"])
    t.due_date, t.due_provisional = date.fromisoformat(p["due_date"]), p["due_provisional"]
    t.materials = [{**m, "status": "received" if m["status"] == "missing" else m["status"]} for m in t.materials]
    touch(session, t, ev, p)
    close_supplement_requests(session, t.uid, "intake", t.accepted_on)


def close_supplement_requests(session: Session, ticket_uid: str | None, stage: str, on: date) -> None:
    """Projector step: the ticket's open 补正 requests of ``stage`` are supplied (the materials came ``on``)."""
    for r in session.scalars(select(SupplementRequest).where(
            SupplementRequest.ticket_uid == ticket_uid, SupplementRequest.stage == stage,
            SupplementRequest.state == "open")):
        r.state, r.supplied_on = "supplied", on


def today_of(now: datetime | None) -> datetime:
    return now or datetime.now()


def text(value: str | None, field: str, max_len: int = 2000, *, min_len: int = 1, multiline: bool = True) -> str:
    """Deprecated alias of :func:`hall.services.base.validators.free_text` (required unless ``min_len=0``);
    services call ``free_text`` themselves and say there whether the field is multi-line."""
    return free_text(value, field, max_len=max_len, multiline=multiline, required=min_len > 0,
                     min_len=max(min_len, 1))


def by_uid(session: Session, uid: str | None, *, lock: bool = False) -> Ticket:
    """The ticket of ``uid`` (an event's); ``lock`` when the caller will change it (see the module docstring)."""
    stmt = select(Ticket).where(Ticket.uid == uid)
    t = session.scalars(for_change(stmt) if lock else stmt).first()
    if t is None:
        raise NotFound(f"台账事件指向的办件 {uid} 不存在")
    return t


_BUMP_ANY = (update(_T).where(_T.c.id == bindparam("tid")).values(version=_T.c.version + 1, updated_at=bindparam("at"))
             .returning(_T.c.version))
_BUMP = _BUMP_ANY.where(_T.c.version == bindparam("parent"))


def touch(session: Session, t: Ticket, ev: Event, p: dict[str, Any]) -> None:
    """A projector's last step on ticket ``t`` for event ``ev``: its version moves on by one, as a compare-and-set
    in SQL on the version the event was based on (``UPDATE … WHERE version = parent``). When another transaction
    got there first nothing is changed and the conflict is raised, so the whole action rolls back. (The ORM writes
    the projector's other changes to the row at flush; the version and time are written here, and the object is
    told so, so it never writes them again.)"""
    parent = p.get(PARENT)
    stmt, params = (_BUMP, {"parent": parent}) if parent is not None else (_BUMP_ANY, {})
    row = session.connection().execute(stmt, {"tid": t.id, "at": ev.occurred_at, **params}).first()
    if row is None:
        raise changed_meanwhile(session, t.uid, ev.occurred_at, besides=ev.event_id)
    set_committed_value(t, "version", row[0])
    set_committed_value(t, "updated_at", ev.occurred_at)


def staff_name(session: Session, staff_id: int | None) -> str:
    if staff_id is None:
        return ""
    person = session.get(Staff, staff_id)
    return person.name if person else ""
