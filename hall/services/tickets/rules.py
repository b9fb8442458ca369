"""The ticket's state rules (domain-rules.md §2): which action is legal for which kind in which state, who may
act on a ticket, and the small helpers every action shares (the ticket by uid, its version, the calendar).

The actions themselves live in :mod:`hall.services.cases.workflow` and its kind-specific neighbours; registers
(accountability, follow-ups, ratings, …) use these rules too, which is why they sit below both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from hall.errors import ConflictError, PermissionDenied
from hall.models import Ticket
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_ticket_action
from hall.services.base.states import KIND_LABELS, STATE_LABELS
from hall.services.calendar import clock
from hall.services.calendar.derived import DateRule, derive
from hall.services.people.attendance import standing_in_for
from hall.services.tickets import record as tickets
from hall.services.tickets.record import (  # noqa: F401  (the actions' toolbox)
    append_event,
    by_uid,
    staff_name,
    text,
    today_of,
    touch,
)

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











def permit(session: Session, actor: Actor, t: Ticket, what: str, day: date) -> None:
    """The ticket permission of services/permissions.py, with the windows the actor stands in for today."""
    windows = standing_in_for(session, actor.staff_id, day) if actor.staff_id is not None else ()
    require_ticket_action(actor, window_code=t.window_code, owner_id=t.owner_id, intake_point=t.intake_point,
                          what=what, standing_in_for=windows)


def refuse_village_on_petition(actor: Actor, what: str) -> None:
    """A village 代办员 may take a 信访 in at the point as an ordinary ticket, but the case is the township's:
    受理告知, 四定一包, 听证, 移交, 约访 and 回访 are the 信访 window's and the manager's acts (docs/petition.md)."""
    if actor.role == "village":
        raise PermissionDenied(f"村代办员不能{what}：信访事项由镇信访窗口或中心主任办理")


def permit_petition(session: Session, actor: Actor, t: Ticket, first_owner_id: int | None, what: str,
                    day: date) -> None:
    """Acting on a 信访 case (here, below both the cases and the registers that act on one): the ticket's window
    (with a B-post standing in), the case's 首办责任人, the manager — not a village 代办员."""
    refuse_village_on_petition(actor, what)
    if first_owner_id is not None and actor.staff_id == first_owner_id:
        return
    permit(session, actor, t, what, day)


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
    """The ticket for ``action``, locked until commit: permission first (say nothing about a ticket one may not
    touch), then the version the clerk saw (a counter that waited for another's commit is told who changed it),
    then state."""
    t = tickets.get(session, number, lock=True)
    tr = TRANSITIONS[action]
    permit(session, actor, t, tr.label, now.date())
    tickets.check_version(session, t, expected_version, now)
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
    return derive(calendar(session), start, DateRule(days, "workday"))


def derive_date(session: Session, start: date, rule: DateRule) -> tuple[date, bool]:
    """A derived date by the one date rule (:mod:`hall.services.calendar.derived`) on the database calendar."""
    return derive(calendar(session), start, rule)




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
