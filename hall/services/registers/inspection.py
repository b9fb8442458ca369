"""效能监察: the inspector's own findings on a case, and the manager's 过错责任追究 records opened by hand.

The 效能监察员 (role ``inspector``) reads every case, deadline and register but writes nothing except a finding
(``inspection.finding_recorded``); the ledger refuses any other event of that role
(:func:`hall.services.base.permissions.require_may_write`). A finding names the case and the inspector and is
kept on the case's history; it decides nothing — the manager's 过错责任追究 record (:func:`open_fault_record`) is
the accountability step, with who, which case, what fault and the finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.errors import PermissionDenied, ValidationError
from hall.models import Event, Staff
from hall.models.supervision import InspectionFinding
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_supervisor
from hall.services.base.validators import free_text, parse_key
from hall.services.registers import accountability
from hall.services.storage import identity, ledger
from hall.services.tickets import record as tickets

FINDING_EVENT = "inspection.finding_recorded"


@dataclass(frozen=True)
class FindingView:
    id: int
    ticket_number: str
    inspector: str
    found_on: date
    text: str


def record_finding(session: Session, actor: Actor, number: str, text_: str, *,
                   now: datetime | None = None) -> None:
    """The inspector's own finding on case ``number`` (监察意见): kept on its history, never changing the case."""
    if not actor.is_inspector:
        raise PermissionDenied("只有效能监察员可以记录监察意见")
    now = now or datetime.now()
    t = tickets.get(session, number)
    said = free_text(text_, "监察意见", max_len=2000, multiline=True, min_len=2)
    ledger.append(session, actor, FINDING_EVENT, {"found_on": now.date(), "text": said,
                                                  "reason": said[:200]}, ticket_uid=t.uid, at=now)


@ledger.projector(FINDING_EVENT)
def _project_finding(session: Session, ev: Event, p: dict[str, Any]) -> None:
    session.add(InspectionFinding(event_id=ev.event_id, ticket_uid=ev.ticket_uid,
                                  inspector_id=identity.actor_staff_id(session, ev), inspector=ev.actor_name,
                                  found_on=date.fromisoformat(p["found_on"]), text=p["text"]))
    session.flush()


def findings(session: Session, number: str | None = None) -> list[FindingView]:
    """Every finding (newest first), or those on case ``number``."""
    from hall.models import Ticket

    stmt = select(InspectionFinding, Ticket.number).join(Ticket, Ticket.uid == InspectionFinding.ticket_uid)
    if number is not None:
        stmt = stmt.where(Ticket.number == parse_key(number, "办件编号"))
    stmt = stmt.order_by(InspectionFinding.found_on.desc(), InspectionFinding.id.desc())
    return [FindingView(f.id, n, f.inspector, f.found_on, f.text) for f, n in session.execute(stmt)]


def open_fault_record(session: Session, actor: Actor, number: str, staff_no: str, fault: str, finding: str, *,
                      upheld: bool = True, measure: str = "", now: datetime | None = None) -> int:
    """过错责任追究 opened by hand by the manager: who (``staff_no``), which case (``number``), what fault, and the
    finding — recorded at once (upheld with a measure, or dismissed). Returns the record's id."""
    require_supervisor(actor, "登记过错责任追究")
    now = now or datetime.now()
    t = tickets.get(session, number)
    no = parse_key(staff_no, "责任人工号", max_len=20)
    person = session.scalars(select(Staff).where(Staff.staff_no == no)).first()
    if person is None:
        raise ValidationError("责任人工号", f"工号“{no}”不存在")
    what = free_text(fault, "过错情形", max_len=500, min_len=2)
    said = free_text(finding, "认定意见", max_len=2000, multiline=True, min_len=2)
    if upheld and measure not in accountability.MEASURES[1:]:
        raise ValidationError("处理措施", f"认定属实须写明处理措施（{'、'.join(accountability.MEASURES[1:])}）")
    key = f"fault:{identity.new_uid()}"  # one record per hand entry (a case may have several faults)
    detail = f"办件 {t.number}（{t.item_name}）：{what}"
    accountability.open_record(session, actor, key, "fault", now.date(), ticket_uid=t.uid, staff_id=person.id,
                               window_code=t.window_code, detail=detail, now=now)
    rec_id = session.scalars(select(accountability.AccountabilityRecord.id)
                             .where(accountability.AccountabilityRecord.source_key == key)).one()
    accountability.record_finding(session, actor, rec_id, "upheld" if upheld else "dismissed", said,
                                  measure=measure if upheld else "", now=now)
    return int(rec_id)
