"""Joint tickets (联办件, 并联审批): 一门受理、抄告相关、并联审批、限时反馈.

The lead window (主办) copies the case (抄告) to each co-department (协办). Each copy has its own deadline:
5 working days from the copy day (the copy day not counted), +3 when a higher level must review. Each answers
agree / disagree / needs more, with an opinion. A department silent past its deadline is recorded by
:func:`sweep_deemed_consent` as deemed consent (逾期视为认可): its own event, visible on the ticket and on
paper, and an accountability record against that department — never a silent default.

Any disagreement (or request for more) goes back to the lead with the reasons and blocks approval; the lead may
copy that department again (a new round) after fixing the case, or close it as not approved. The lead closes
only when every co-department has answered or is deemed to consent (workflow.close checks :func:`status`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from hall.models import Event, Item, Ticket
from hall.models.workflow import JointCopy
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_supervisor
from hall.services.base.validators import free_text
from hall.services.calendar.derived import DateRule
from hall.services.storage import ledger
from hall.services.tickets import record as tickets
from hall.services.tickets.rules import (
    append_event,
    by_uid,
    check_transition,
    derive_date,
    load,
    permit,
    today_of,
    touch,
)

OPINION_DAYS = 5
HIGHER_REVIEW_DAYS = 3
ANSWERS = {"agree": "同意", "disagree": "不同意", "needs_more": "需补充"}
COPY_STATE_LABELS = {**ANSWERS, "pending": "待回复", "deemed_consent": "逾期视为认可", "superseded": "已重新抄告"}
WINDOW_IN_NAME = re.compile(r"[(（](W\d{2})[)）]")


@dataclass(frozen=True)
class CopyRequest:
    department: str
    higher_review: bool = False
    asked: str = ""


@dataclass(frozen=True)
class CopyView:
    id: int
    department: str
    round: int
    copied_on: date
    due_on: date
    due_provisional: bool
    higher_review: bool
    state: str
    state_label: str
    opinion: str
    answered_on: date | None
    answered_by: str
    asked: str


@dataclass(frozen=True)
class JointStatus:
    copied: bool
    copies: tuple[CopyView, ...]  # the current round per department
    pending: tuple[str, ...]  # departments still inside their deadline
    objections: tuple[str, ...]  # "department：opinion" of each disagreement / request for more
    deemed: tuple[str, ...]
    agreed: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return self.copied and not self.pending


def answer_rule(higher_review: bool) -> DateRule:
    """A co-department's answer deadline: 5 working days from the copy day, +3 with a higher-level review."""
    return DateRule(OPINION_DAYS + (HIGHER_REVIEW_DAYS if higher_review else 0), "workday")


def co_departments(item: Item) -> list[str]:
    """The item's departments other than the lead (the catalogue lists the lead first)."""
    return list(item.departments[1:])


def window_of(department: str) -> str | None:
    """A township office named with its window, e.g. 镇民政办(W02): its clerks may record its opinion."""
    m = WINDOW_IN_NAME.search(department)
    return m.group(1) if m else None


def copy(session: Session, actor: Actor, number: str, requests: list[CopyRequest] | None = None, *,
         now: datetime | None = None, expected_version: int | None = None) -> list[CopyView]:
    """抄告: copy the case to each co-department (default: the item's co-departments), each with its deadline.

    Copying a department again starts a new round for it; its earlier copy is kept as superseded.
    """
    now = today_of(now)
    t = load(session, actor, number, "copy", now, expected_version)
    item = session.get_one(Item, t.item_id)
    reqs = requests if requests is not None else [CopyRequest(d) for d in co_departments(item)]
    if not reqs:
        raise ValidationError("协办部门", "至少抄告一个部门")
    names = [free_text(r.department, "协办部门", max_len=120) for r in reqs]
    asked = [free_text(r.asked, "抄告事项", max_len=500, multiline=True, required=False) for r in reqs]
    if len(set(names)) != len(names):
        raise ValidationError("协办部门", "同一部门不能重复抄告")
    allowed = set(item.departments)
    unknown = [n for n in names if allowed and n not in allowed]
    if unknown:
        raise ValidationError("协办部门", f"“{'、'.join(unknown)}”不在事项清单所列部门中")
    if item.departments and item.departments[0] in names:
        raise ValidationError("协办部门", f"{item.departments[0]}是主办部门，不需抄告")
    copied_on = now.date()
    rounds = dict(session.execute(select(JointCopy.department, func.max(JointCopy.round))
                                  .where(JointCopy.ticket_uid == t.uid).group_by(JointCopy.department)).all())
    pending_now = set(session.scalars(select(JointCopy.department).where(JointCopy.ticket_uid == t.uid,
                                                                         JointCopy.state == "pending")))
    again = [n for n in names if n in pending_now]
    if again:
        raise ConflictError(f"{'、'.join(again)}的上一轮抄告尚未回复，不能重复抄告")
    entries = []
    for r, name, what in zip(reqs, names, asked, strict=True):
        rule = answer_rule(r.higher_review)
        due, provisional = derive_date(session, copied_on, rule)
        entries.append({"department": name, "round": rounds.get(name, 0) + 1, "higher_review": r.higher_review,
                         "asked": what, "window_code": window_of(name),
                         "copied_on": copied_on, "due_on": due, "due_provisional": provisional})
    ev = append_event(session, actor, t, "joint.copied", {
        "copies": entries, "reason": "抄告" + "、".join(f"{e['department']}（{e['due_on']}前回复）" for e in entries),
    }, at=now)
    rows = session.scalars(select(JointCopy).where(JointCopy.event_id == ev.event_id).order_by(JointCopy.id))
    return [_view(c) for c in rows]


@ledger.projector("joint.copied")
def _project_copied(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    for e in p["copies"]:
        for old in session.scalars(select(JointCopy).where(JointCopy.ticket_uid == t.uid,
                                                           JointCopy.department == e["department"],
                                                           JointCopy.round < e["round"])):
            if old.state != "superseded":
                old.state = "superseded"
        session.add(JointCopy(
            event_id=ev.event_id, ticket_uid=t.uid, round=e["round"], department=e["department"],
            window_code=e["window_code"], asked=e["asked"], copied_on=date.fromisoformat(e["copied_on"]),
            higher_review=e["higher_review"], due_on=date.fromisoformat(e["due_on"]),
            due_provisional=e["due_provisional"], state="pending",
        ))
    t.state = "awaiting_opinions"
    touch(session, t, ev, p)
    session.flush()


def _copy(session: Session, copy_id: int) -> JointCopy:
    c = session.get(JointCopy, copy_id)
    if c is None:
        raise NotFound(f"抄告记录 {copy_id} 不存在")
    return c


def record_opinion(session: Session, actor: Actor, copy_id: int, answer: str, opinion: str, answered_by: str, *,
                   answered_on: date | None = None, now: datetime | None = None) -> CopyView:
    """A co-department's opinion, recorded by the lead window or by the clerk of that office's own window."""
    now = today_of(now)
    c = _copy(session, copy_id)
    t = by_uid(session, c.ticket_uid, lock=True)
    session.refresh(c)  # as the last commit on its ticket left it (another counter may have just answered)
    if not (c.window_code and actor.role == "clerk" and actor.window_code == c.window_code):
        try:
            permit(session, actor, t, "登记审核意见", now.date())
        except PermissionDenied:
            raise PermissionDenied(f"无权登记{c.department}的审核意见：只有主办窗口或该部门窗口可以登记") from None
    check_transition(t, "opinion")
    if c.state == "deemed_consent":
        raise ConflictError(f"{c.department}逾期未回复，已于期限届满后视为认可，不能再登记意见")
    if c.state != "pending":
        raise ConflictError(f"{c.department}本轮已回复（{COPY_STATE_LABELS[c.state]}）")
    if answer not in ANSWERS:
        raise ValidationError("审核意见", "应为同意、不同意或需补充")
    body = free_text(opinion, "意见内容", max_len=2000, multiline=True, required=answer != "agree",
                     min_len=1 if answer == "agree" else 2)
    who = free_text(answered_by, "答复人", max_len=60)
    on = answered_on or now.date()
    if on < c.copied_on or on > now.date():
        raise ValidationError("回复日期", f"应在抄告日 {c.copied_on} 与今天之间")
    if on > c.due_on:
        raise ConflictError(f"{c.department}的回复期限为 {c.due_on}，{on} 的回复已逾期：按规定视为认可，"
                            "由系统登记逾期视为认可")
    others = [x for x in _current(session, t, fresh=True) if x.id != c.id]
    objection = answer != "agree" or any(x.state in ("disagree", "needs_more") for x in others)
    all_done = all(x.state != "pending" for x in others)
    # Back to the lead at once on an objection (with reasons), or when every department has answered.
    to = "in_progress" if (objection or all_done) and t.state == "awaiting_opinions" else None
    append_event(session, actor, t, "joint.opinion", {
        "department": c.department, "round": c.round, "answer": answer, "opinion": body, "answered_on": on,
        "answered_by": who, "to": to,
        "reason": f"{c.department}：{ANSWERS[answer]}" + (f"（{body}）" if body else ""),
    }, at=now)
    return _view(c)


@ledger.projector("joint.opinion")
def _project_opinion(session: Session, ev: Event, p: dict[str, Any]) -> None:
    c = _by_key(session, ev.ticket_uid, p["department"], p["round"])
    c.state, c.opinion, c.answered_by = p["answer"], p["opinion"], p["answered_by"]
    c.answered_on, c.recorded_by = date.fromisoformat(p["answered_on"]), ev.actor_name
    t = by_uid(session, ev.ticket_uid)
    if p["to"]:
        t.state = p["to"]
    touch(session, t, ev, p)


def _by_key(session: Session, uid: str | None, department: str, round_: int) -> JointCopy:
    # Events name a copy by (ticket, department, round): row ids differ between nodes.
    return session.scalars(select(JointCopy).where(JointCopy.ticket_uid == uid, JointCopy.department == department,
                                                   JointCopy.round == round_)).one()


@dataclass(frozen=True)
class DeemedConsent:
    """A printable deemed-consent record (逾期视为认可记录)."""

    ticket_number: str
    item_name: str
    department: str
    copied_on: date
    due_on: date
    deemed_on: date  # the first day after the deadline: when the consent took effect
    recorded_by: str
    swept_on: date | None = None  # the day the daily rules recorded it (later when the hall PC was off)


def deemed_on(due_on: date) -> date:
    """Deemed consent takes effect on the first day after the answer deadline, whenever the sweep runs."""
    return due_on + timedelta(days=1)


def deemed_consent_candidates(session: Session, today: date) -> list[int]:
    """Ids of the copies still unanswered after their deadline day, on cases still open (an index range: each
    is settled once). A withdrawn, voided or closed case needs no opinion any more: its silent departments are
    not deemed to consent and get no accountability record."""
    return list(session.scalars(select(JointCopy.id).join(Ticket, Ticket.uid == JointCopy.ticket_uid)
                                .where(JointCopy.state == "pending", JointCopy.due_on < today, Ticket.is_open)
                                .order_by(JointCopy.due_on, JointCopy.id)))


def deem_consent(session: Session, actor: Actor, today: date, ids: Sequence[int], *,
                 now: datetime | None = None) -> list[DeemedConsent]:
    """Record deemed consent for the copies of ``ids`` still pending past their deadline (re-checked here, so a
    department that answered meanwhile, or another run that got there first, is left alone)."""
    require_supervisor(actor, "认定逾期视为同意")
    if actor.role not in ("system", "manager", "admin"):
        raise PermissionDenied("逾期视为认可只能由系统或中心主任登记")
    from hall.services.registers import accountability

    now = now or datetime.combine(today, datetime.min.time())
    out = []
    for i in range(0, len(ids), 500):
        overdue = session.scalars(select(JointCopy).where(JointCopy.state == "pending", JointCopy.due_on < today,
                                                          JointCopy.id.in_(list(ids[i:i + 500])))
                                  .order_by(JointCopy.due_on, JointCopy.id)).all()
        for c in overdue:
            t = by_uid(session, c.ticket_uid, lock=True)
            session.refresh(c)
            if c.state != "pending" or not t.is_open:
                continue  # answered meanwhile, or the case was withdrawn/closed while this run waited
            others = [x for x in _current(session, t, fresh=True) if x.id != c.id]
            to = "in_progress" if t.state == "awaiting_opinions" and all(x.state != "pending" for x in others) \
                else None
            effective = deemed_on(c.due_on)
            late = f"，每日规则于 {today} 登记" if today > effective else ""
            append_event(session, actor, t, "joint.deemed_consent", {
                "department": c.department, "round": c.round, "due_on": c.due_on, "deemed_on": effective,
                "swept_on": today, "to": to,
                "reason": f"{c.department}逾期未回复（期限 {c.due_on}），自 {effective} 起视为认可{late}",
            }, at=now)
            accountability.open_record(
                session, actor, f"deemed:{t.uid}:{c.department}:{c.round}", "deemed_consent", effective,
                ticket_uid=t.uid, department=c.department, window_code=c.window_code,
                detail=f"办件 {t.number}（{t.item_name}）抄告{c.department}，期限 {c.due_on} 未回复，"
                       f"自 {effective} 起逾期视为认可{late}",
                now=now)
            out.append(DeemedConsent(t.number, t.item_name, c.department, c.copied_on, c.due_on, effective,
                                     actor.name, today))
    return out


def sweep_deemed_consent(session: Session, actor: Actor, today: date, *,
                         now: datetime | None = None) -> list[DeemedConsent]:
    """Every copy still unanswered after its deadline day becomes deemed consent (run daily; idempotent)."""
    require_supervisor(actor, "认定逾期视为同意")
    if actor.role not in ("system", "manager", "admin"):
        raise PermissionDenied("逾期视为认可只能由系统或中心主任登记")
    return deem_consent(session, actor, today, deemed_consent_candidates(session, today), now=now)


@ledger.projector("joint.deemed_consent")
def _project_deemed(session: Session, ev: Event, p: dict[str, Any]) -> None:
    c = _by_key(session, ev.ticket_uid, p["department"], p["round"])
    c.state, c.answered_on, c.recorded_by = "deemed_consent", date.fromisoformat(p["deemed_on"]), ev.actor_name
    if "swept_on" in p:  # the record says when the consent took effect, and when the daily rules recorded it
        late = f"（每日规则于 {p['swept_on']} 登记）" if p["swept_on"] > p["deemed_on"] else ""
        c.opinion = f"逾期未回复，自 {p['deemed_on']} 起视为认可{late}"
    else:
        c.opinion = "逾期未回复，视为认可"
    t = by_uid(session, ev.ticket_uid)
    if p["to"]:
        t.state = p["to"]
    touch(session, t, ev, p)


def _current(session: Session, t: Ticket, *, fresh: bool = False) -> list[JointCopy]:
    """The ticket's copies of the current rounds; ``fresh``: read again, not taken from the identity map (after
    the ticket was locked, to decide on what the last commit left)."""
    stmt = select(JointCopy).where(JointCopy.ticket_uid == t.uid, JointCopy.state != "superseded")
    if fresh:
        stmt = stmt.execution_options(populate_existing=True)
    return list(session.scalars(stmt.order_by(JointCopy.id)))


def _view(c: JointCopy) -> CopyView:
    return CopyView(c.id, c.department, c.round, c.copied_on, c.due_on, c.due_provisional, c.higher_review, c.state,
                    COPY_STATE_LABELS[c.state], c.opinion, c.answered_on, c.answered_by, c.asked)


def status(session: Session, t: Ticket) -> JointStatus:
    current = _current(session, t)
    return JointStatus(
        copied=bool(current),
        copies=tuple(_view(c) for c in current),
        pending=tuple(c.department for c in current if c.state == "pending"),
        objections=tuple(f"{c.department}{ANSWERS[c.state]}：{c.opinion}" for c in current
                         if c.state in ("disagree", "needs_more")),
        deemed=tuple(c.department for c in current if c.state == "deemed_consent"),
        agreed=tuple(c.department for c in current if c.state == "agree"),
    )


def status_of(session: Session, number: str) -> JointStatus:
    return status(session, tickets.get(session, number))


def history(session: Session, t: Ticket) -> list[CopyView]:
    """Every copy of every round (the 联办抄告单 and the audit view)."""
    rows = session.scalars(select(JointCopy).where(JointCopy.ticket_uid == t.uid)
                           .order_by(JointCopy.round, JointCopy.id))
    return [_view(c) for c in rows]


def opinions_due(session: Session, today: date, *, within_days: int = 1) -> list[tuple[Ticket, CopyView]]:
    """Pending copies due by ``today`` + ``within_days`` calendar days (the manager's 待反馈 list)."""
    limit = today + timedelta(days=within_days)
    rows = session.execute(select(JointCopy, Ticket).join(Ticket, Ticket.uid == JointCopy.ticket_uid)
                           .where(JointCopy.state == "pending", JointCopy.due_on <= limit)
                           .order_by(JointCopy.due_on, JointCopy.id)).all()
    return [(t, _view(c)) for c, t in rows]
