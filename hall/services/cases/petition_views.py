"""What the 信访 screen and papers read: the case list, one case in full, as frozen values (no ORM rows leave).

Phones of petitioners and agents come masked (138****5678); the screen and papers never show an ID number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from hall.errors import NotFound
from hall.models import Item, Staff, Ticket
from hall.models.petition import (
    PetitionAgent,
    PetitionCase,
    PetitionFeedback,
    PetitionFollowUp,
    PetitionHearing,
    PetitionTransfer,
)
from hall.services.base.masking import mask_phone
from hall.services.base.states import STATE_LABELS
from hall.services.calendar.clock import calendar_for
from hall.services.calendar.derived import DateRule, explain
from hall.services.cases.petition import ACCEPT_LABELS
from hall.services.cases.petition_steps import HEARING_FORMS


@dataclass(frozen=True)
class CaseRow:
    number: str
    petitioner: str
    received_on: date
    accept_state: str
    accept_due_on: date
    due_date: date | None
    due_provisional: bool
    state: str
    is_open: bool
    first_owner: str
    followups_scheduled: bool = False

    @property
    def accept_label(self) -> str:
        return ACCEPT_LABELS.get(self.accept_state, self.accept_state)

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)


@dataclass(frozen=True)
class FourFixedView:
    leader: str
    staff: tuple[str, ...]
    by_date: date
    measures: str
    pledge: str
    fixed_on: date
    fixed_by: str


@dataclass(frozen=True)
class AgentView:
    seq: int
    name: str
    phone: str  # masked
    relation: str
    is_lawyer: bool
    license_no: str
    firm: str


@dataclass(frozen=True)
class HearingView:
    id: int
    form: str
    held_on: date
    place: str
    host: str
    participants: tuple[tuple[str, str, str], ...]  # role, name, unit
    record: str
    conclusion: str

    @property
    def form_label(self) -> str:
        return HEARING_FORMS.get(self.form, self.form)


@dataclass(frozen=True)
class FeedbackView:
    told_on: date
    channel: str
    content: str
    told_by: str


@dataclass(frozen=True)
class TransferView:
    id: int
    organ: str
    reference: str
    sent_on: date
    due_on: date
    due_provisional: bool
    state: str
    answered_on: date | None
    organ_ref: str
    answer: str


@dataclass(frozen=True)
class FollowUpView:
    id: int
    seq: int
    due_on: date
    due_provisional: bool
    state: str
    done_on: date | None
    channel: str
    outcome: str
    satisfied: bool | None


@dataclass(frozen=True)
class CaseDetail:
    row: CaseRow
    item_name: str
    petitioner_phone: str  # masked
    petitioner_address: str
    matter: str  # the ticket's note: what the petition asks
    accept_told_on: date | None
    accept_note: str
    extensions: tuple[tuple[int, str, str], ...]  # days, reason, approver
    agents: tuple[AgentView, ...]
    four_fixed: FourFixedView | None
    hearings: tuple[HearingView, ...]
    feedback: tuple[FeedbackView, ...]
    transfers: tuple[TransferView, ...]
    followups: tuple[FollowUpView, ...]
    # The 受理告知 deadline day by day, as a due date is explained (counted, skipped, moved off a rest day).
    accept_explanation: tuple[str, ...] = ()


def _names(session: Session) -> tuple[dict[int, str], dict[str, str]]:
    people = list(session.execute(select(Staff.id, Staff.uid, Staff.name)))
    return {i: n for i, _u, n in people}, {u: n for _i, u, n in people}


def _row(t: Ticket, c: PetitionCase, by_id: dict[int, str]) -> CaseRow:
    return CaseRow(t.number, t.applicant_name, t.received_at.date(), c.accept_state, c.accept_due_on, t.due_date,
                   bool(t.due_provisional), t.state, bool(t.is_open), by_id.get(c.first_owner_id or -1, ""))


_LIST = (Ticket.number, Ticket.applicant_name, Ticket.received_at, PetitionCase.accept_state,
         PetitionCase.accept_due_on, Ticket.due_date, Ticket.due_provisional, Ticket.state, Ticket.is_open,
         PetitionCase.first_owner_id,
         exists().where(PetitionFollowUp.ticket_uid == Ticket.uid).label("followups"))


def case_list(session: Session, *, open_only: bool = False, limit: int = 500) -> list[CaseRow]:
    """The 信访 cases, newest first (open ones only when asked); columns, not ORM rows (a list screen)."""
    stmt = select(*_LIST).join(PetitionCase, PetitionCase.ticket_uid == Ticket.uid)
    if open_only:
        stmt = stmt.where(Ticket.is_open)
    by_id, _ = _names(session)
    return [CaseRow(number, name, received.date(), accept, accept_due, due, bool(prov), state, bool(is_open),
                    by_id.get(owner or -1, ""), bool(scheduled))
            for number, name, received, accept, accept_due, due, prov, state, is_open, owner, scheduled
            in session.execute(
                stmt.order_by(Ticket.received_at.desc(), Ticket.id.desc()).limit(limit))]


def case_detail(session: Session, number: str) -> CaseDetail:
    got = session.execute(select(Ticket, PetitionCase).join(PetitionCase, PetitionCase.ticket_uid == Ticket.uid)
                          .where(Ticket.number == number.strip())).first()
    if got is None:
        raise NotFound(f"信访件 {number} 不存在")
    t, c = got
    by_id, by_uid = _names(session)
    uid = t.uid
    ff = None
    if c.four_fixed:
        f = c.four_fixed
        ff = FourFixedView(by_uid.get(f["leader_uid"], ""), tuple(by_uid.get(u, "") for u in f["staff_uids"]),
                           date.fromisoformat(f["by_date"]), f["measures"], f["pledge"],
                           date.fromisoformat(f["fixed_on"]), f["fixed_by"])
    agents = tuple(AgentView(a.seq, a.name, mask_phone(a.phone), a.relation, a.is_lawyer, a.license_no, a.firm)
                   for a in session.scalars(select(PetitionAgent).where(PetitionAgent.ticket_uid == uid)
                                            .order_by(PetitionAgent.seq)))
    hearings = tuple(HearingView(h.id, h.form, h.held_on, h.place, h.host,
                                 tuple((p["role"], p["name"], p.get("unit", "")) for p in h.participants),
                                 h.record, h.conclusion)
                     for h in session.scalars(select(PetitionHearing).where(PetitionHearing.ticket_uid == uid)
                                              .order_by(PetitionHearing.held_on, PetitionHearing.id)))
    feedback = tuple(FeedbackView(f.told_on, f.channel, f.content, f.told_by)
                     for f in session.scalars(select(PetitionFeedback).where(PetitionFeedback.ticket_uid == uid)
                                              .order_by(PetitionFeedback.told_on, PetitionFeedback.id)))
    transfers = tuple(TransferView(x.id, x.organ, x.reference, x.sent_on, x.due_on, x.due_provisional, x.state,
                                   x.answered_on, x.organ_ref, x.answer)
                      for x in session.scalars(select(PetitionTransfer).where(PetitionTransfer.ticket_uid == uid)
                                               .order_by(PetitionTransfer.sent_on, PetitionTransfer.id)))
    followups = tuple(FollowUpView(v.id, v.seq, v.due_on, v.due_provisional, v.state, v.done_on, v.channel,
                                 v.outcome, v.satisfied)
                     for v in session.scalars(select(PetitionFollowUp).where(PetitionFollowUp.ticket_uid == uid)
                                              .order_by(PetitionFollowUp.seq)))
    item = session.get(Item, t.item_id)
    extensions = tuple((int(e.get("days", 0)), str(e.get("reason", "")), str(e.get("approver", "")))
                       for e in t.clock if e.get("kind") == "extend")
    explained = explain(calendar_for(session), c.registered_on, DateRule(c.accept_days, c.accept_unit),  # type: ignore[arg-type]
                        "petition_accept").explanation
    return CaseDetail(_row(t, c, by_id), item.name if item else "", mask_phone(t.applicant_phone or ""),
                      t.applicant_address or "", t.note or "", c.accept_told_on, c.accept_note, extensions, agents,
                      ff, hearings, feedback, transfers, followups, tuple(explained))
