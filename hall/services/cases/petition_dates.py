"""The 信访 case's derived dates, derived again when the calendar changes (one ``petition.due_changed`` each).

- the 受理告知 deadline of a case not yet told (registration day + its recorded rule);
- a 移交 organ's answer deadline while it has not answered (the sending day + its rule);
- each 回访 still due (the closure day + its rule).

:func:`hall.services.cases.rederive.rederive_all` reads :func:`candidates` beside the other kinds; the projector
writes only what the event says.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.models import Event, Ticket
from hall.models.petition import PetitionCase, PetitionFollowUp, PetitionTransfer
from hall.services.calendar.derived import DateRule, derive
from hall.services.calendar.workdays import WorkCalendar
from hall.services.storage import ledger

KINDS = ("petition_accept", "petition_transfer", "petition_followup")
EVENT = "petition.due_changed"

Candidate = tuple[str, str, str | None, dict[str, Any], date, bool, date, bool]


def _numbers(session: Session, uids: set[str]) -> dict[str, tuple[str, bool]]:
    out: dict[str, tuple[str, bool]] = {}
    ordered = sorted(uids)
    for i in range(0, len(ordered), 500):
        for uid, number, is_open in session.execute(select(Ticket.uid, Ticket.number, Ticket.is_open)
                                                    .where(Ticket.uid.in_(ordered[i:i + 500]))):
            out[uid] = (number, bool(is_open))
    return out


def candidates(session: Session, cal: WorkCalendar) -> Iterator[Candidate]:
    """(kind, what, ticket uid, key, old, old provisional, new, new provisional) of every open 信访 date."""
    cases = list(session.scalars(select(PetitionCase).where(PetitionCase.accept_state == "pending")
                                 .order_by(PetitionCase.id)))
    legs = list(session.scalars(select(PetitionTransfer).where(PetitionTransfer.state == "sent")
                                .order_by(PetitionTransfer.id)))
    visits = list(session.scalars(select(PetitionFollowUp).where(PetitionFollowUp.state == "due")
                                  .order_by(PetitionFollowUp.id)))
    facts = _numbers(session, {c.ticket_uid for c in cases} | {x.ticket_uid for x in legs}
                     | {v.ticket_uid for v in visits})
    for c in cases:
        number, is_open = facts.get(c.ticket_uid, ("", False))
        if is_open:
            due, prov = derive(cal, c.registered_on, DateRule(c.accept_days, c.accept_unit))  # type: ignore[arg-type]
            yield ("petition_accept", number, c.ticket_uid, {"what": "accept", "ref": c.event_id, "seq": 0},
                   c.accept_due_on, c.accept_provisional, due, prov)
    for x in legs:
        number, is_open = facts.get(x.ticket_uid, ("", False))
        if is_open:
            due, prov = derive(cal, x.sent_on, DateRule(x.limit_days, x.limit_unit))  # type: ignore[arg-type]
            yield ("petition_transfer", f"{number} {x.organ}", x.ticket_uid,
                   {"what": "transfer", "ref": x.event_id, "seq": 0}, x.due_on, x.due_provisional, due, prov)
    for v in visits:
        number, _open = facts.get(v.ticket_uid, ("", False))
        due, prov = derive(cal, v.closed_on, DateRule(v.limit_days, v.limit_unit))  # type: ignore[arg-type]
        yield ("petition_followup", f"{number} 第{v.seq}次", v.ticket_uid,
               {"what": "followup", "ref": v.event_id, "seq": v.seq}, v.due_on, v.due_provisional, due, prov)


@ledger.projector(EVENT)
def _project_due_changed(session: Session, ev: Event, p: dict[str, Any]) -> None:
    new, provisional = date.fromisoformat(p["new"]), bool(p["new_provisional"])
    if p["what"] == "accept":
        c = session.scalars(select(PetitionCase).where(PetitionCase.event_id == p["ref"])).one()
        c.accept_due_on, c.accept_provisional = new, provisional
    elif p["what"] == "transfer":
        x = session.scalars(select(PetitionTransfer).where(PetitionTransfer.event_id == p["ref"])).one()
        x.due_on, x.due_provisional = new, provisional
    else:
        v = session.scalars(select(PetitionFollowUp).where(PetitionFollowUp.event_id == p["ref"],
                                                          PetitionFollowUp.seq == p["seq"])).one()
        v.due_on, v.due_provisional = new, provisional
