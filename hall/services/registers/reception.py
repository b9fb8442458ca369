"""一把手接访日 (the leaders' reception schedule) and the staff board for 点名约访.

- The manager posts a reception slot: which leader, which working day, which time slot, where, for how many
  (``reception.slot_posted``); the schedule is printed as a public notice (hall/print/petition_papers.py).
- A petitioner is booked into a slot (``reception.booked``) while it has room; the same petitioner (by phone) holds
  at most one live booking a day, so no one is booked twice, and a leader is never posted twice for the same day
  and time slot. A booking may be cancelled (``reception.cancelled``), which frees its place.
- 点名约访: the board of staff with photo and short résumé (the résumé field comes with the staff administration;
  a person without photo or résumé shows a placeholder), and a request for a named staff member, which is an
  ordinary appointment (hall/services/registers/appointments.py) naming the 信访 case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from hall.models import Event, Staff, Ticket, Window
from hall.models.petition import PetitionCase, ReceptionBooking, ReceptionSlot
from hall.models.workflow import Appointment
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_supervisor
from hall.services.base.validators import free_text, parse_key, parse_person_name, parse_phone
from hall.services.registers import appointments
from hall.services.storage import identity, ledger
from hall.services.tickets import record as tickets
from hall.services.tickets.rules import calendar, permit_petition, today_of

MAX_CAPACITY = 50
PHOTO_PLACEHOLDER = "（暂无照片）"
RESUME_PLACEHOLDER = "（简历待补充）"


@dataclass(frozen=True)
class SlotView:
    id: int
    on_day: date
    slot: str
    leader_name: str
    leader_post: str
    place: str
    capacity: int
    booked: int
    topic: str

    @property
    def free(self) -> int:
        return max(self.capacity - self.booked, 0)


@dataclass(frozen=True)
class BookingView:
    id: int
    slot_id: int
    on_day: date
    petitioner_name: str
    petitioner_phone: str
    subject: str
    ticket_number: str
    state: str


@dataclass(frozen=True)
class BoardEntry:
    """One staff member on the 点名约访 board (never their ID number or personal phone)."""

    staff_no: str
    name: str
    post: str
    window: str
    photo_path: str
    resume: str

    @property
    def photo_text(self) -> str:
        return "" if self.photo_path else PHOTO_PLACEHOLDER

    @property
    def resume_text(self) -> str:
        return self.resume or RESUME_PLACEHOLDER


def _leader(session: Session, staff_no: str) -> Staff:
    staff_no = parse_key(staff_no, "接访领导", max_len=20)
    person = session.scalars(select(Staff).where(Staff.staff_no == staff_no, Staff.active)).first()
    if person is None:
        raise ValidationError("接访领导", f"工号“{staff_no}”不存在或已停用")
    return person


# ----------------------------------------------------------------------------------------------- slots
def post_slot(session: Session, actor: Actor, leader_no: str, on_day: date, slot: str, place: str, capacity: int,
              *, topic: str = "", now: datetime | None = None) -> ReceptionSlot:
    """一把手接访日: one leader, one working day, one time slot, a place and how many petitioners."""
    require_supervisor(actor, "安排领导接访")
    now = today_of(now)
    leader = _leader(session, leader_no)
    if on_day < now.date():
        raise ValidationError("接访日期", "不能早于今天")
    if not calendar(session).is_workday(on_day):
        raise ValidationError("接访日期", f"{on_day} 不是工作日")
    slot = free_text(slot, "接访时段", max_len=20, min_len=2)
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 1 <= capacity <= MAX_CAPACITY:
        raise ValidationError("接访人数", f"应为 1 至 {MAX_CAPACITY} 之间的整数")
    clash = session.scalars(select(ReceptionSlot).where(ReceptionSlot.leader_id == leader.id,
                                                        ReceptionSlot.on_day == on_day,
                                                        ReceptionSlot.slot == slot)).first()
    if clash is not None:
        raise ConflictError(f"{leader.name}在 {on_day} {slot} 已安排接访")
    ev = ledger.append(session, actor, "reception.slot_posted", {
        "leader_uid": leader.uid, "on_day": on_day, "slot": slot,
        "place": free_text(place, "接访地点", max_len=120, min_len=2), "capacity": capacity,
        "topic": free_text(topic, "接访主题", max_len=120, required=False),
    }, at=now)
    return session.scalars(select(ReceptionSlot).where(ReceptionSlot.event_id == ev.event_id)).one()


@ledger.projector("reception.slot_posted")
def _project_slot(session: Session, ev: Event, p: dict[str, Any]) -> None:
    session.add(ReceptionSlot(event_id=ev.event_id, leader_id=identity.staff_id(session, p["leader_uid"]),
                              on_day=date.fromisoformat(p["on_day"]), slot=p["slot"], place=p["place"],
                              capacity=p["capacity"], topic=p["topic"]))
    session.flush()


def _booked(session: Session, slot_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(ReceptionBooking).where(
        ReceptionBooking.slot_id == slot_id, ReceptionBooking.state == "booked")) or 0)


def book(session: Session, actor: Actor, slot_id: int, name: str, phone: str, subject: str, *,
         ticket_number: str | None = None, now: datetime | None = None) -> ReceptionBooking:
    """Book a petitioner into a slot: while it has room, and only once a day per petitioner (by phone)."""
    if actor.role not in ("clerk", "manager", "admin", "system"):
        raise PermissionDenied("当前身份不能登记接访预约")
    now = today_of(now)
    s = session.get(ReceptionSlot, slot_id)
    if s is None:
        raise NotFound(f"接访安排 {slot_id} 不存在")
    # Two counters booking the same day at once: every slot of the day is locked (in id order) before counting,
    # so the room left and "already booked that day" are read after the other's commit (PostgreSQL; SQLite's
    # BEGIN IMMEDIATE already serialises the writers).
    session.execute(select(ReceptionSlot.id).where(ReceptionSlot.on_day == s.on_day).order_by(ReceptionSlot.id)
                    .with_for_update()).all()
    if s.on_day < now.date():
        raise ConflictError(f"{s.on_day} 的接访已过，不能预约")
    name = parse_person_name(name, "信访人姓名")
    phone = parse_phone(phone, "信访人电话")
    same = session.scalars(select(ReceptionBooking).where(ReceptionBooking.on_day == s.on_day,
                                                          ReceptionBooking.petitioner_phone == phone,
                                                          ReceptionBooking.state == "booked")).first()
    if same is not None:
        raise ConflictError(f"该信访人（电话 {phone[:3]}****{phone[-4:]}）在 {s.on_day} 已有接访预约，不能重复预约")
    if _booked(session, s.id) >= s.capacity:
        raise ConflictError(f"{s.on_day} {s.slot} 的接访已约满（{s.capacity} 人），请改约其他时段")
    uid = tickets.get(session, ticket_number).uid if ticket_number else None
    ev = ledger.append(session, actor, "reception.booked", {
        "slot": s.event_id, "on_day": s.on_day, "name": name, "phone": phone,
        "subject": free_text(subject, "反映事项", max_len=500, multiline=True, min_len=2),
        "reason": f"预约 {s.on_day} {s.slot} 领导接访",
    }, ticket_uid=uid, at=now)
    return session.scalars(select(ReceptionBooking).where(ReceptionBooking.event_id == ev.event_id)).one()


@ledger.projector("reception.booked")
def _project_booked(session: Session, ev: Event, p: dict[str, Any]) -> None:
    s = session.scalars(select(ReceptionSlot).where(ReceptionSlot.event_id == p["slot"])).one()
    session.add(ReceptionBooking(event_id=ev.event_id, slot_id=s.id, on_day=date.fromisoformat(p["on_day"]),
                                 petitioner_name=p["name"], petitioner_phone=p["phone"], subject=p["subject"],
                                 ticket_uid=ev.ticket_uid, state="booked"))
    session.flush()


def cancel(session: Session, actor: Actor, booking_id: int, reason: str, *, now: datetime | None = None) -> None:
    if actor.role not in ("clerk", "manager", "admin", "system"):
        raise PermissionDenied("当前身份不能取消接访预约")
    b = session.get(ReceptionBooking, booking_id)
    if b is None:
        raise NotFound(f"接访预约 {booking_id} 不存在")
    if b.state != "booked":
        raise ConflictError("该预约已取消")
    ledger.append(session, actor, "reception.cancelled", {
        "booking": b.event_id, "why": free_text(reason, "取消原因", max_len=200, min_len=2),
        "reason": "取消领导接访预约",
    }, ticket_uid=b.ticket_uid, at=today_of(now))


@ledger.projector("reception.cancelled")
def _project_cancelled(session: Session, ev: Event, p: dict[str, Any]) -> None:
    b = session.scalars(select(ReceptionBooking).where(ReceptionBooking.event_id == p["booking"])).one()
    b.state = "cancelled"


# ----------------------------------------------------------------------------------------------- reads
def schedule(session: Session, since: date, until: date) -> list[SlotView]:
    rows = list(session.scalars(select(ReceptionSlot).where(ReceptionSlot.on_day >= since,
                                                            ReceptionSlot.on_day <= until)
                                .order_by(ReceptionSlot.on_day, ReceptionSlot.slot, ReceptionSlot.id)))
    counts = dict(session.execute(select(ReceptionBooking.slot_id, func.count()).where(
        ReceptionBooking.state == "booked").group_by(ReceptionBooking.slot_id)).all())
    people = {p.id: p for p in session.scalars(select(Staff))}
    return [SlotView(s.id, s.on_day, s.slot, people[s.leader_id].name if s.leader_id in people else "",
                     people[s.leader_id].post if s.leader_id in people else "", s.place, s.capacity,
                     int(counts.get(s.id, 0)), s.topic) for s in rows]


def bookings(session: Session, slot_id: int) -> list[BookingView]:
    rows = list(session.scalars(select(ReceptionBooking).where(ReceptionBooking.slot_id == slot_id)
                                .order_by(ReceptionBooking.id)))
    uids = [b.ticket_uid for b in rows if b.ticket_uid]
    numbers = dict(session.execute(select(Ticket.uid, Ticket.number).where(Ticket.uid.in_(uids))).all()) \
        if uids else {}
    return [BookingView(b.id, b.slot_id, b.on_day, b.petitioner_name, b.petitioner_phone, b.subject,
                        numbers.get(b.ticket_uid, ""), b.state) for b in rows]


# ---------------------------------------------------------------------------------------- 点名约访
def staff_board(session: Session) -> list[BoardEntry]:
    """Every active counter and manager staff member, with photo and résumé when recorded."""
    windows = dict(session.execute(select(Window.code, Window.name)).all())
    people = session.scalars(select(Staff).where(Staff.active, Staff.role.in_(("clerk", "manager")))
                             .order_by(Staff.window_code, Staff.staff_no))
    # The résumé column is added by the staff administration's own change; until then every résumé is missing.
    return [BoardEntry(p.staff_no, p.name, p.post, windows.get(p.window_code or "", ""), p.photo_path or "",
                       str(getattr(p, "resume", "") or "")) for p in people]


def request_named(session: Session, actor: Actor, number: str, staff_no: str, on_day: date, *, slot: str = "",
                  now: datetime | None = None) -> Appointment:
    """点名约访 on a 信访 case: the petitioner asks for a named staff member (an appointment naming the case).
    Those who act on the case book it (it copies the petitioner's name and phone from the case)."""
    t = tickets.get(session, number)
    case = session.scalars(select(PetitionCase).where(PetitionCase.ticket_uid == t.uid)).first()
    if case is None:
        raise NotFound(f"办件 {t.number} 不是信访件（未登记信访事项）")
    permit_petition(session, actor, t, case.first_owner_id, "登记点名约访", today_of(now).date())
    return appointments.book(session, actor, staff_no, on_day, t.applicant_name, phone=t.applicant_phone,
                             purpose=f"信访点名约访（{t.number}）", slot=slot, now=now)
