"""补正 at any stage (补正材料通知书): at intake, and during handling after acceptance (一次性告知 holds then too).

A 补正 during handling is never a bare pause on a free-text reason: the clerk names every material to supply —
from the item's list, plus any the list does not name — and the request is recorded with its supply deadline,
derived by the one date rule (``supplement_days`` natural days, moved off a non-working last day, 民法典 §203;
:mod:`hall.services.calendar.derived`). The clock stops that day (a ``pause`` marked as a 补正) and runs again
when the materials arrive (``workflow.resume``, which closes the request). The notice the citizen receives is
printed from this request (hall/services/reporting/papers.py → hall/print/ticket_papers.py ``supplement``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.errors import ConflictError
from hall.models import Item, Ticket
from hall.models.workflow import SupplementRequest
from hall.services.base.actor import Actor
from hall.services.base.validators import free_text
from hall.services.cases.workflow import ClockChange, _clock_event
from hall.services.storage import ledger
from hall.services.tickets.rules import derive_date, load, open_stop, today_of
from hall.services.tickets.supplement_notice import REQUESTED, materials_lines, supply_rule


@dataclass(frozen=True)
class SupplementView:
    event_id: str
    stage: str
    requested_on: date
    materials: tuple[dict[str, Any], ...]
    reason: str
    due_on: date
    due_provisional: bool
    state: str


def request(session: Session, actor: Actor, number: str, materials: Sequence[str], free: Sequence[str] = (),
            reason: str = "", *, now: datetime | None = None, expected_version: int | None = None) -> ClockChange:
    """补正 during handling: the materials (the item's list plus free ones), the deadline by the date rule, and
    the clock stopped from today until the materials arrive."""
    now = today_of(now)
    t = load(session, actor, number, "pause", now, expected_version)
    if open_stop(t, "pause"):
        raise ConflictError("计时已暂停（等待补正或容缺材料），请先恢复计时再发出新的补正通知")
    item = session.get_one(Item, t.item_id)
    lines = materials_lines(item, list(materials), list(free))
    why = free_text(reason, "补正原因", max_len=200, required=False)
    rule = supply_rule(session)
    due, provisional = derive_date(session, now.date(), rule)
    names = "、".join(m["name"] for m in lines)
    entry = {"kind": "pause", "on": now.date().isoformat(), "reason": f"补正：{names}"[:200], "supplement": True}
    change = _clock_event(session, actor, t, entry, now, None, "补正（暂停计时）")
    ledger.append(session, actor, REQUESTED, {
        "stage": "handling", "materials": lines, "note": why, "on": now.date(), "rule": rule.to_json(),
        "due_on": due, "due_provisional": provisional,
        "reason": f"{names}（{due} 前补正{'，暂定' if provisional else ''}）",
    }, ticket_uid=t.uid, at=now)
    return change


def request_from_text(session: Session, actor: Actor, number: str, materials: str, reason: str = "", *,
                      now: datetime | None = None, expected_version: int | None = None) -> ClockChange:
    """:func:`request` from the clerk's list, one material a line (or separated by ；): names on the item's list
    are taken from it (form, count), the others are free materials."""
    t = load(session, actor, number, "pause", today_of(now), expected_version)
    listed = {m["name"] for m in session.get_one(Item, t.item_id).materials}
    names = [n.strip() for n in materials.replace("；", "\n").replace(";", "\n").splitlines() if n.strip()]
    return request(session, actor, number, [n for n in names if n in listed], [n for n in names if n not in listed],
                   reason, now=now, expected_version=expected_version)


def latest(session: Session, t: Ticket) -> SupplementView | None:
    """The ticket's newest 补正 request (its notice), open or supplied."""
    r = session.scalars(select(SupplementRequest).where(SupplementRequest.ticket_uid == t.uid)
                        .order_by(SupplementRequest.requested_on.desc(), SupplementRequest.id.desc())).first()
    if r is None:
        return None
    return SupplementView(r.event_id, r.stage, r.requested_on, tuple(r.materials), r.reason, r.due_on,
                          r.due_provisional, r.state)
