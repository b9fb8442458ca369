"""先照后证: an item may need another item's approved, closed ticket for the same applicant before intake.

The catalogue names the prerequisite item by code (``items.prerequisite``). The intake service refuses a ticket
without it (:func:`check`), and the intake form asks the same function before the clerk saves (:func:`missing`),
so the message on screen and the refusal are one rule.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.errors import ValidationError
from hall.models import Event, Item, Ticket
from hall.services.storage import ledger

APPROVED = ("closed_approved", "closed_tolerated")
FIELD = "前置事项"


def _name(session: Session, code: str) -> str:
    name = session.scalars(select(Item.name).where(Item.is_current, Item.code == code)).first()
    return name or session.scalars(select(Item.name).where(Item.code == code).order_by(Item.id.desc())).first() or ""


def satisfied(session: Session, prerequisite: str, id_no: str) -> bool:
    """The applicant ``id_no`` has a ticket of item ``prerequisite`` closed as approved (delivered afterwards
    counts: its closure is what decides)."""
    rows = session.execute(select(Ticket.uid, Ticket.state).where(
        Ticket.applicant_id_no == id_no, Ticket.item_code == prerequisite,
        Ticket.state.in_((*APPROVED, "delivered")))).all()
    for uid, state in rows:
        if state in APPROVED:
            return True
        closed = session.scalars(select(Event).where(Event.ticket_uid == uid, Event.type == "ticket.closed")
                                 .order_by(Event.id.desc()).limit(1)).first()
        if closed is not None and ledger.load_payload(closed).get("state") in APPROVED:
            return True
    return False


def missing(session: Session, item_code: str, prerequisite: str, id_no: str) -> str | None:
    """The message naming the missing prerequisite item, or None when there is none or it is met."""
    if not prerequisite or not id_no:
        return None
    if satisfied(session, prerequisite, id_no):
        return None
    return (f"办理“{_name(session, item_code) or item_code}”须先办结“{prerequisite} {_name(session, prerequisite)}”"
            f"（先照后证）：该申请人没有已办结（通过）的该事项办件")


def check(session: Session, item_code: str, prerequisite: str, id_no: str) -> None:
    problem = missing(session, item_code, prerequisite, id_no)
    if problem is not None:
        raise ValidationError(FIELD, problem)
