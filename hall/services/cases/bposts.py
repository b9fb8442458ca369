"""B-posts (职位代理制): when a holder is away, their named B-post takes over their window's tickets.

- A substitution starts the day the holder is marked away (absent / leave / business trip) and ends the day
  they are marked present again. While it runs the B-post may work the window's tickets (permissions count
  them as that window's clerk) and becomes the responsible person of:
  * every open ticket the holder owned, and
  * every new ticket of that window with no hall owner at the window (the holder, or a village intake).
- On return, exactly the tickets handed over and still held by the B-post go back to the holder.
- Every hand-over and every return is its own ledger event on the ticket.
If the B-post is away too, the B-post's own B-post stands in (one chain, no loops); with nobody present the
substitution is not started and the caller is told.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from hall.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from hall.models import Event, Staff, Ticket
from hall.models.workflow import ATTENDANCE, Attendance, SubstitutedTicket, Substitution
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_supervisor
from hall.services.base.validators import free_text
from hall.services.people.attendance import AWAY, active_substitutions, is_away, status_of
from hall.services.people.staff import by_number
from hall.services.storage import identity, ledger
from hall.services.tickets.record import for_change
from hall.services.tickets.rules import append_event, by_uid, touch


@dataclass
class SweepReport:
    started: list[int] = field(default_factory=list)  # substitution ids
    ended: list[int] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)  # ticket numbers handed to a B-post
    returned: list[str] = field(default_factory=list)  # ticket numbers given back
    warnings: list[str] = field(default_factory=list)


def stand_in_for(session: Session, holder: Staff, day: date) -> Staff | None:
    """The B-post who takes over ``holder`` on ``day``: the named B-post, or theirs if they are away too."""
    seen = {holder.id}
    current = holder
    while current.b_post_id is not None and current.b_post_id not in seen:
        candidate = session.get(Staff, current.b_post_id)
        if candidate is None or not candidate.active:
            return None
        if not is_away(session, candidate.id, day):
            return candidate
        seen.add(candidate.id)
        current = candidate
    return None


def sweep(session: Session, actor: Actor, day: date, *, now: datetime | None = None) -> SweepReport:
    """Bring substitutions in line with the day's attendance and route the window's new tickets.

    Idempotent: run after every attendance mark, at the start of the day and after intake. All of it in the
    caller's transaction; ``hall.services.cases.daily`` runs the same three steps in short transactions.
    """
    require_supervisor(actor, "启停B岗替岗")
    now = now or datetime.combine(day, time(8, 30))
    report = start_and_end(session, actor, day, now=now)
    return_tickets(session, actor, day, returns_pending(session, day), report, now=now)
    route_tickets(session, actor, day, routing_candidates(session, day), report, now=now)
    return report


def start_and_end(session: Session, actor: Actor, day: date, *, now: datetime | None = None) -> SweepReport:
    """End the substitutions of holders present again and start those of holders away (no tickets moved yet:
    :func:`return_tickets` and :func:`route_tickets` do that)."""
    require_supervisor(actor, "启停B岗替岗")
    now = now or datetime.combine(day, time(8, 30))
    report = SweepReport()
    open_subs = {s.holder_id: s for s in session.scalars(select(Substitution).where(Substitution.ended_on.is_(None)))}
    for holder_id, sub in list(open_subs.items()):
        if sub.started_on <= day and status_of(session, holder_id, day) == "present":
            _end(session, actor, sub, day, now, report, hand_back=False)
            del open_subs[holder_id]
    away_ids = select(Attendance.staff_id).where(Attendance.day == day, Attendance.status.in_(AWAY))
    for holder in session.scalars(select(Staff).where(Staff.active, Staff.id.in_(away_ids)).order_by(Staff.id)).all():
        if holder.id in open_subs or holder.b_post_id is None:
            continue
        b_post = stand_in_for(session, holder, day)
        if b_post is None:
            report.warnings.append(f"{holder.name}不在岗，其B岗（代理岗）也不在岗：请中心主任指定代理人")
            continue
        sub = _start(session, actor, holder, b_post, day, now, report)
        open_subs[holder.id] = sub
    return report


def returns_pending(session: Session, day: date) -> list[int]:
    """Hand-over rows of the substitutions that ended on ``day`` whose tickets have not gone back yet."""
    ended = select(Substitution.id).where(Substitution.ended_on == day)
    return list(session.scalars(select(SubstitutedTicket.id).where(
        SubstitutedTicket.substitution_id.in_(ended), SubstitutedTicket.returned.is_(False))
        .order_by(SubstitutedTicket.id)))


def return_tickets(session: Session, actor: Actor, day: date, ids: Sequence[int], report: SweepReport, *,
                   now: datetime | None = None) -> None:
    """Give back the tickets of the hand-over rows ``ids`` that the B-post still holds (re-checked here)."""
    require_supervisor(actor, "归还B岗办件")
    now = now or datetime.combine(day, time(8, 30))
    for i in range(0, len(ids), 500):
        rows = session.scalars(select(SubstitutedTicket).where(SubstitutedTicket.id.in_(list(ids[i:i + 500])),
                                                              SubstitutedTicket.returned.is_(False))
                               .order_by(SubstitutedTicket.id)).all()
        for row in rows:
            sub = session.get_one(Substitution, row.substitution_id)
            if sub.ended_on is None:
                continue
            _hand_back(session, actor, sub, row, now, report)


def routing_candidates(session: Session, day: date) -> list[int]:
    """Ids of the tickets the day's substitutions hand to a B-post (see :func:`_route`)."""
    ids: set[int] = set()
    for sub in active_substitutions(session, day):
        ids.update(session.scalars(select(Ticket.id).where(_routed(session, sub))))
    return sorted(ids)


def route_tickets(session: Session, actor: Actor, day: date, ids: Sequence[int], report: SweepReport, *,
                  now: datetime | None = None) -> None:
    require_supervisor(actor, "移交B岗办件")
    now = now or datetime.combine(day, time(8, 30))
    for sub in active_substitutions(session, day):
        _route(session, actor, sub, now, report, ids)


def _start(session: Session, actor: Actor, holder: Staff, b_post: Staff, day: date, now: datetime,
           report: SweepReport) -> Substitution:
    ev = ledger.append(session, actor, "bpost.started", {
        "holder_uid": holder.uid, "b_post_uid": b_post.uid, "window_code": holder.window_code, "day": day,
        "reason": f"{holder.name}{_away_word(session, holder.id, day)}，由{b_post.name}代理",
    }, at=now)
    sub = session.scalars(select(Substitution).where(Substitution.event_id == ev.event_id)).one()
    report.started.append(sub.id)
    return sub


def _away_word(session: Session, staff_id: int, day: date) -> str:
    return ATTENDANCE.get(status_of(session, staff_id, day), "不在岗")


@ledger.projector("bpost.started")
def _project_started(session: Session, ev: Event, p: dict[str, Any]) -> None:
    session.add(Substitution(event_id=ev.event_id, holder_id=identity.staff_ref(session, p, "holder_uid", "holder_id"),
                             b_post_id=identity.staff_ref(session, p, "b_post_uid", "b_post_id"),
                             window_code=p["window_code"], started_on=date.fromisoformat(p["day"]),
                             reason=p["reason"][:60]))
    session.flush()


def _routed(session: Session, sub: Substitution):  # type: ignore[no-untyped-def]
    """Open tickets of the holder, and the window's new ones with no hall owner, not yet with the B-post."""
    villagers = select(Staff.id).where(Staff.role == "village")
    return and_(Ticket.is_open, or_(Ticket.owner_id.is_(None), Ticket.owner_id != sub.b_post_id), or_(
        Ticket.owner_id == sub.holder_id,
        (Ticket.window_code == sub.window_code) & (Ticket.received_at >= datetime.combine(sub.started_on, time()))
        & (Ticket.owner_id.is_(None) | Ticket.owner_id.in_(villagers)),
    ))


def _route(session: Session, actor: Actor, sub: Substitution, now: datetime, report: SweepReport,
           ids: Sequence[int]) -> None:
    """Hand the holder's open tickets, and the window's unowned new ones, among ``ids`` to the B-post."""
    b_post = session.get_one(Staff, sub.b_post_id)
    for i in range(0, len(ids), 500):
        stmt = select(Ticket).where(_routed(session, sub), Ticket.id.in_(list(ids[i:i + 500]))).order_by(Ticket.id)
        for t in session.scalars(for_change(stmt)).all():  # locked in id order: two runs never deadlock
            append_event(session, actor, t, "bpost.reassigned", {
                "substitution": sub.event_id, "from_owner_uid": identity.uid_of(session, t.owner_id),
                "to_owner_uid": b_post.uid,
                "reason": f"职位代理：转由B岗{b_post.name}负责",
            }, at=now)
            report.moved.append(t.number)


@ledger.projector("bpost.reassigned")
def _project_reassigned(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    sub = _sub(session, p["substitution"])
    exists = session.scalars(select(SubstitutedTicket).where(
        SubstitutedTicket.substitution_id == sub.id, SubstitutedTicket.ticket_uid == t.uid)).first()
    if exists is None:
        session.add(SubstitutedTicket(substitution_id=sub.id, ticket_uid=t.uid,
                                      original_owner_id=identity.staff_ref(session, p, "from_owner_uid", "from_owner")))
    t.owner_id = identity.staff_ref(session, p, "to_owner_uid", "to_owner")
    touch(session, t, ev, p)
    session.flush()


def _end(session: Session, actor: Actor, sub: Substitution, day: date, now: datetime, report: SweepReport, *,
         hand_back: bool = True) -> None:
    holder = session.get_one(Staff, sub.holder_id)
    ledger.append(session, actor, "bpost.ended", {"substitution": sub.event_id, "day": day,
                                                  "reason": f"{holder.name}返岗"}, at=now)
    report.ended.append(sub.id)
    if not hand_back:
        return
    handed = session.scalars(select(SubstitutedTicket).where(SubstitutedTicket.substitution_id == sub.id,
                                                            SubstitutedTicket.returned.is_(False))).all()
    for row in handed:
        _hand_back(session, actor, sub, row, now, report)


def _hand_back(session: Session, actor: Actor, sub: Substitution, row: SubstitutedTicket, now: datetime,
               report: SweepReport) -> None:
    t = by_uid(session, row.ticket_uid, lock=True)
    # Only what the B-post still holds goes back: a ticket closed or transferred meanwhile stays as it is.
    if not t.is_open or t.owner_id != sub.b_post_id:
        return
    holder = session.get_one(Staff, sub.holder_id)
    append_event(session, actor, t, "bpost.returned", {
        "substitution": sub.event_id, "from_owner_uid": identity.uid_of(session, sub.b_post_id),
        "to_owner_uid": holder.uid,
        "reason": f"职位代理结束：{holder.name}返岗，办件交回",
    }, at=now)
    report.returned.append(t.number)


def _sub(session: Session, event_id: str) -> Substitution:
    # Events name a substitution by the event that started it: row ids differ between nodes, event ids do not.
    return session.scalars(select(Substitution).where(Substitution.event_id == event_id)).one()


@ledger.projector("bpost.ended")
def _project_ended(session: Session, ev: Event, p: dict[str, Any]) -> None:
    _sub(session, p["substitution"]).ended_on = date.fromisoformat(p["day"])


@ledger.projector("bpost.returned")
def _project_returned(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    row = session.scalars(select(SubstitutedTicket).where(
        SubstitutedTicket.substitution_id == _sub(session, p["substitution"]).id,
        SubstitutedTicket.ticket_uid == t.uid)).first()
    if row is not None:
        row.returned = True
    t.owner_id = identity.staff_ref(session, p, "to_owner_uid", "to_owner")
    touch(session, t, ev, p)


def end_substitution(session: Session, actor: Actor, substitution_id: int, day: date, *,
                     now: datetime | None = None) -> SweepReport:
    """The manager ends a substitution by hand (the holder is back but was not checked in)."""
    require_supervisor(actor, "结束职位代理")
    sub = session.get(Substitution, substitution_id)
    if sub is None:
        raise NotFound(f"职位代理记录 {substitution_id} 不存在")
    if sub.ended_on is not None:
        raise ConflictError("该职位代理已结束")
    report = SweepReport()
    _end(session, actor, sub, day, now or datetime.combine(day, time(8, 30)), report)
    return report


@dataclass(frozen=True)
class SubstitutionView:
    id: int
    holder: str
    b_post: str
    window_code: str | None
    started_on: date
    ended_on: date | None
    tickets_held: int


def substitutions(session: Session, day: date) -> list[SubstitutionView]:
    """Who stands in for whom on ``day`` (the dashboard's B-post panel)."""
    names = {p.id: p.name for p in session.scalars(select(Staff))}
    out = []
    for s in active_substitutions(session, day):
        held = session.scalars(select(SubstitutedTicket.ticket_uid).where(
            SubstitutedTicket.substitution_id == s.id, SubstitutedTicket.returned.is_(False))).all()
        count = 0
        if held:
            count = len(session.scalars(select(Ticket.id).where(Ticket.uid.in_(held), Ticket.is_open,
                                                               Ticket.owner_id == s.b_post_id)).all())
        out.append(SubstitutionView(s.id, names.get(s.holder_id, ""), names.get(s.b_post_id, ""), s.window_code,
                                    s.started_on, s.ended_on, count))
    return out


def mark_attendance(session: Session, actor: Actor, staff_no: str, status: str, *, day: date | None = None,
                    note: str = "", now: datetime | None = None) -> None:
    """Mark one day's attendance, then start or end the B-post substitutions it causes.

    Self check-in: a staff member marks themself present today. Anything else (absence, leave, another person,
    another day, overriding a mark) is the manager's."""
    now = now or datetime.now()
    day = day or now.date()
    if status not in ATTENDANCE:
        raise ValidationError("考勤状态", f"应为{'、'.join(ATTENDANCE.values())}之一")
    person = by_number(session, staff_no)
    if actor.is_supervisor:
        source = "manager"
    elif actor.staff_id == person.id and status == "present" and day == now.date():
        source = "self"
    elif actor.staff_id == person.id:
        raise PermissionDenied("本人只能签到（当日在岗）；请假、缺勤或补登须由中心主任登记")
    else:
        raise PermissionDenied("只有中心主任可以登记或更改他人的考勤")
    note = free_text(note, "考勤备注", max_len=200, required=False)
    # The newest mark of a day wins. A mark made after seeing one that carries a later time (another PC's clock
    # ahead of this one, a check-in stamped by a scripted clock) would otherwise lose silently: it is dated just
    # after the mark it overrides.
    seen = session.scalars(select(Attendance.marked_at).where(Attendance.staff_id == person.id,
                                                              Attendance.day == day)).first()
    if seen is not None and seen >= now:
        now = seen + timedelta(milliseconds=1)
    ledger.append(session, actor, "attendance.marked", {
        "staff_uid": person.uid, "day": day, "status": status, "source": source, "note": note,
    }, at=now)
    sweep(session, actor if actor.is_supervisor else _system_like(actor), day, now=now)


def _system_like(actor: Actor) -> Actor:
    # A self check-in that ends a substitution is recorded as done by the program on the clerk's node.
    return Actor.system(actor.node_id, actor.intake_point)
