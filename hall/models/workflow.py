"""Case-workflow tables: projections of the workflow events (hall/services/cases/workflow.py and its siblings).

Every row here is written only by a ledger projector, so history, sync and audit come from the events. Rows
refer to tickets by ``ticket_uid`` (stable across nodes), to staff by this database's ``staff.id`` (events name
staff by their stable uid; the projectors translate, hall/services/storage/identity.py). Indexes serve the
manager's lists: what is due (state + due date), what is open per window / per person.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from hall.models.base import Base

# ------------------------------------------------------------------------------------------- proxy (代办件)
PROXY_LEG_STATES = ("sent", "returned", "cancelled")


class ProxyLeg(Base):
    """One forwarding (转报) of a proxy ticket to the handling department, and what came back."""

    __tablename__ = "proxy_legs"
    __table_args__ = (
        Index("ix_proxy_legs_ticket", "ticket_uid", "seq"),
        Index("ix_proxy_legs_pending", "state", "dept_due_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    ticket_uid: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2 … when a case is sent again
    department: Mapped[str] = mapped_column(String(120))
    sent_on: Mapped[date] = mapped_column(Date)
    sent_by: Mapped[str] = mapped_column(String(40))
    how_sent: Mapped[str] = mapped_column(String(60), default="")  # 专人送达 / 邮寄 / 系统报送 …
    what_sent: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # materials: name, form, count
    note: Mapped[str] = mapped_column(Text, default="")
    dept_days: Mapped[int] = mapped_column(Integer, default=0)  # the department's own leg, working days
    dept_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # 暂定: the leg's date was counted on a year whose calendar is not confirmed (re-derived when it is).
    dept_due_provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    dept_ref: Mapped[str] = mapped_column(String(60), default="")  # the department's own reference number
    returned_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    answer: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(12), default="")  # approved | rejected | returned
    result_doc_no: Mapped[str] = mapped_column(String(60), default="")
    state: Mapped[str] = mapped_column(String(12), default="sent")


# ------------------------------------------------------------------------------------------ joint (联办件)
COPY_STATES = ("pending", "agree", "disagree", "needs_more", "deemed_consent", "superseded")


class JointCopy(Base):
    """A joint case copied (抄告) to one co-department, with its own deadline and its opinion."""

    __tablename__ = "joint_copies"
    __table_args__ = (
        Index("ix_joint_copies_ticket", "ticket_uid", "round"),
        # The deemed-consent sweep and the "opinions due" list read pending copies by due date.
        Index("ix_joint_copies_due", "state", "due_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    ticket_uid: Mapped[str] = mapped_column(String(36))
    round: Mapped[int] = mapped_column(Integer, default=1)
    department: Mapped[str] = mapped_column(String(120))
    window_code: Mapped[str | None] = mapped_column(String(8), nullable=True)  # a township office's window
    asked: Mapped[str] = mapped_column(Text, default="")  # what the lead asks the department to review
    copied_on: Mapped[date] = mapped_column(Date)
    higher_review: Mapped[bool] = mapped_column(Boolean, default=False)
    due_on: Mapped[date] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    opinion: Mapped[str] = mapped_column(Text, default="")
    answered_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    answered_by: Mapped[str] = mapped_column(String(60), default="")  # the department's person who answered
    recorded_by: Mapped[str] = mapped_column(String(40), default="")
    late: Mapped[bool] = mapped_column(Boolean, default=False)  # answered after its deadline


# --------------------------------------------------------------------------------- 补正 requests (补正材料通知)
SUPPLEMENT_STATES = ("open", "supplied")


class SupplementRequest(Base):
    """One 补正 request (补正材料通知书): at intake, or during handling after acceptance (一次性告知 holds then too).

    The supply deadline is derived by the one date rule (``limit`` days in ``unit`` after ``requested_on``) and
    derived again, with an event, when the calendar changes (hall/services/cases/rederive.py).
    """

    __tablename__ = "supplement_requests"
    __table_args__ = (
        Index("ix_supplement_requests_ticket", "ticket_uid", "requested_on"),
        Index("ix_supplement_requests_open", "state", "due_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    ticket_uid: Mapped[str] = mapped_column(String(36))
    stage: Mapped[str] = mapped_column(String(12))  # intake | handling
    requested_on: Mapped[date] = mapped_column(Date)
    requested_by: Mapped[str] = mapped_column(String(40))
    # Each material: name, form, count, issuer, source (item: from the item's list | free: named by the clerk).
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    limit_days: Mapped[int] = mapped_column(Integer)
    limit_unit: Mapped[str] = mapped_column(String(8))
    due_on: Mapped[date] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(12), default="open")
    supplied_on: Mapped[date | None] = mapped_column(Date, nullable=True)


# -------------------------------------------------------------------------------------- routing (分流)
class Transfer(Base):
    """A transfer (转办) to another window; the 首问 owner stays answerable until the receiver accepts."""

    __tablename__ = "transfers"
    __table_args__ = (
        Index("ix_transfers_ticket", "ticket_uid"),
        Index("ix_transfers_inbox", "to_window", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    ticket_uid: Mapped[str] = mapped_column(String(36))
    from_window: Mapped[str] = mapped_column(String(8))
    to_window: Mapped[str] = mapped_column(String(8))
    from_owner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    to_staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # a named receiver, if any
    reason: Mapped[str] = mapped_column(Text)
    handover: Mapped[str] = mapped_column(Text, default="")  # what was handed over (materials, state of work)
    requested_at: Mapped[datetime] = mapped_column(DateTime)
    state: Mapped[str] = mapped_column(String(12), default="pending")  # pending | accepted | declined
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decided_by: Mapped[str] = mapped_column(String(40), default="")
    decline_reason: Mapped[str] = mapped_column(Text, default="")


class Escalation(Base):
    """Submitted to collective decision (提交党委政府集体研究): the clock stands still until the outcome."""

    __tablename__ = "escalations"
    __table_args__ = (Index("ix_escalations_open", "state", "submitted_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    ticket_uid: Mapped[str] = mapped_column(String(36), index=True)
    reason: Mapped[str] = mapped_column(Text)
    submitted_on: Mapped[date] = mapped_column(Date)
    submitted_by: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(24))
    state: Mapped[str] = mapped_column(String(12), default="open")  # open | decided
    meeting: Mapped[str] = mapped_column(String(120), default="")  # which meeting decided (会议名称/纪要号)
    outcome: Mapped[str] = mapped_column(Text, default="")
    decided_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    decided_by: Mapped[str] = mapped_column(String(40), default="")


# ------------------------------------------------------------------------------- attendance and B-posts
ATTENDANCE = {"present": "在岗", "absent": "缺勤", "leave": "请假", "business": "公出"}


class Attendance(Base):
    """One staff member's attendance (考勤) on one day; the newest mark wins (a manager may override)."""

    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("staff_id", "day", name="uq_attendance_staff_day"),
        Index("ix_attendance_day", "day", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(12))  # self | manager
    note: Mapped[str] = mapped_column(Text, default="")
    marked_by: Mapped[str] = mapped_column(String(40))
    marked_at: Mapped[datetime] = mapped_column(DateTime)
    # The mark's event (hall.services.storage.ledger.stamp): the newest mark wins in any order of arrival.
    stamp: Mapped[str] = mapped_column(String(64), default="", server_default="")


class Substitution(Base):
    """A B-post standing in (职位代理) for an absent holder, from one day to the day of return."""

    __tablename__ = "substitutions"
    __table_args__ = (
        Index("ix_substitutions_open", "ended_on", "window_code"),
        Index("ix_substitutions_b_post", "b_post_id", "ended_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    holder_id: Mapped[int] = mapped_column(Integer, index=True)
    b_post_id: Mapped[int] = mapped_column(Integer)
    window_code: Mapped[str | None] = mapped_column(String(8), nullable=True)
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    reason: Mapped[str] = mapped_column(String(60), default="")


class SubstitutedTicket(Base):
    """A ticket handed to the B-post during a substitution, so the return gives back exactly these."""

    __tablename__ = "substituted_tickets"
    __table_args__ = (UniqueConstraint("substitution_id", "ticket_uid", name="uq_substituted_tickets_sub_ticket"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    substitution_id: Mapped[int] = mapped_column(Integer)
    ticket_uid: Mapped[str] = mapped_column(String(36), index=True)
    original_owner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    returned: Mapped[bool] = mapped_column(Boolean, default=False)


# ------------------------------------------------------------------------------ accountability (责任追究)
class AccountabilityRecord(Base):
    """Overdue ticket, deemed consent, upheld 差评 or complaint → a record against a person or department."""

    __tablename__ = "accountability_records"
    __table_args__ = (
        # One record per cause and source (the sweeps run every day and must not duplicate).
        UniqueConstraint("source_key", name="uq_accountability_records_source_key"),
        Index("ix_accountability_open", "state", "occurred_on"),
        Index("ix_accountability_staff", "staff_id", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_key: Mapped[str] = mapped_column(String(80))
    cause: Mapped[str] = mapped_column(String(16))  # overdue | deemed_consent | poor_rating | complaint
    ticket_uid: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    department: Mapped[str] = mapped_column(String(120), default="")
    window_code: Mapped[str | None] = mapped_column(String(8), nullable=True)
    occurred_on: Mapped[date] = mapped_column(Date)
    detail: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(12), default="open")  # open | upheld | dismissed
    finding: Mapped[str] = mapped_column(Text, default="")
    measure: Mapped[str] = mapped_column(String(60), default="")  # 提醒谈话 / 通报批评 / 扣减绩效 …
    found_by: Mapped[str] = mapped_column(String(40), default="")
    found_on: Mapped[date | None] = mapped_column(Date, nullable=True)


# ------------------------------------------------------------------------------------- ratings (好差评)
RATING_LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
RATING_STAGES = {"acceptance": "受理时评价", "closure": "办结时评价", "second": "整改后再评价"}


class RatingScreen(Base):
    """The citizen's rating screen enrolled for one node (counter PC or laptop): its public key. Invites are
    sealed to it, so only the screen holding the private key (a file of its own, never the clerk's window) can
    open one and rate."""

    __tablename__ = "rating_screens"

    node_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device: Mapped[str] = mapped_column(String(40))
    public_key: Mapped[str] = mapped_column(String(64))
    enrolled_at: Mapped[datetime] = mapped_column(DateTime)
    stamp: Mapped[str] = mapped_column(String(80))  # ledger.stamp of the enrolment kept: the newest wins


class RatingRequest(Base):
    """A request for the citizen's rating: only the hash of the citizen-side token is stored."""

    __tablename__ = "rating_requests"
    __table_args__ = (Index("ix_rating_requests_ticket", "ticket_uid", "stage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ticket_uid: Mapped[str] = mapped_column(String(36))
    stage: Mapped[str] = mapped_column(String(12))
    rectification_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    issued_by: Mapped[str] = mapped_column(String(40))
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Rating(Base):
    """A rating of one ticket at one stage: given by the citizen, or deemed/lapsed by the local rule."""

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("ticket_uid", "stage", "rectification_id", name="uq_ratings_ticket_stage"),
        Index("ix_ratings_rated", "rated_at", "level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    ticket_uid: Mapped[str] = mapped_column(String(36))
    stage: Mapped[str] = mapped_column(String(12))
    # 0 for the acceptance/closure ratings (not NULL: a unique constraint treats NULLs as distinct).
    rectification_id: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: lapsed, left unrated
    source: Mapped[str] = mapped_column(String(12))  # citizen | deemed | lapsed
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[datetime] = mapped_column(DateTime)
    window_code: Mapped[str] = mapped_column(String(8))
    staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # who handled the ticket then


class Rectification(Base):
    """整改 of a 差评: verified, rectified within the deadline, followed up, rated again."""

    __tablename__ = "rectifications"
    __table_args__ = (Index("ix_rectifications_open", "state", "due_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    ticket_uid: Mapped[str] = mapped_column(String(36), index=True)
    rating_id: Mapped[int] = mapped_column(Integer)
    staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    window_code: Mapped[str] = mapped_column(String(8))
    opened_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    # open → verified (核实) → rectified (整改完成) → closed (回访 + second rating)
    state: Mapped[str] = mapped_column(String(12), default="open")
    upheld: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    verification: Mapped[str] = mapped_column(Text, default="")
    action_taken: Mapped[str] = mapped_column(Text, default="")
    rectified_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    second_level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)


# -------------------------------------------------------------------------------------- follow-ups (回访)
class FollowUp(Base):
    __tablename__ = "follow_ups"
    __table_args__ = (
        UniqueConstraint("source_key", name="uq_follow_ups_source_key"),
        Index("ix_follow_ups_due", "state", "due_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_key: Mapped[str] = mapped_column(String(80))
    ticket_uid: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    reason: Mapped[str] = mapped_column(String(16))  # closure | poor_rating | complaint
    rectification_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    complaint_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    window_code: Mapped[str | None] = mapped_column(String(8), nullable=True)
    due_on: Mapped[date] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # 暂定
    state: Mapped[str] = mapped_column(String(12), default="due")  # due | done | unreachable
    method: Mapped[str] = mapped_column(String(20), default="")  # 电话 / 上门 / 短信
    outcome: Mapped[str] = mapped_column(Text, default="")
    satisfied: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    done_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    done_by: Mapped[str] = mapped_column(String(40), default="")


# ---------------------------------------------------------------------------------------- complaints (投诉)
class Complaint(Base):
    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_open", "state", "due_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)  # TS-YYYYMMDD-serial
    received_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(20))  # 现场 / 电话 / 信件 / 12345 / 意见箱
    complainant: Mapped[str] = mapped_column(String(80), default="")  # may be anonymous
    phone: Mapped[str] = mapped_column(String(24), default="")
    content: Mapped[str] = mapped_column(Text)
    ticket_uid: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    window_code: Mapped[str | None] = mapped_column(String(8), nullable=True)
    due_on: Mapped[date] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(12), default="open")  # open | answered
    upheld: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    answered_by: Mapped[str] = mapped_column(String(40), default="")


# ------------------------------------------------------------------- appointments and circuit visits
class Appointment(Base):
    """点名约访: a citizen books a named staff member for a date."""

    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_staff_day", "staff_id", "on_day"),
        Index("ix_appointments_day", "on_day", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    staff_id: Mapped[int] = mapped_column(Integer)
    on_day: Mapped[date] = mapped_column(Date)
    on_day_provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # 暂定
    slot: Mapped[str] = mapped_column(String(20), default="")  # 上午 / 下午 / 09:30
    citizen_name: Mapped[str] = mapped_column(String(80))
    citizen_phone: Mapped[str] = mapped_column(String(24), default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(12), default="booked")  # booked | kept | missed | cancelled
    ticket_uid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class CircuitVisit(Base):
    """巡回下访: staff take tickets in a village on market day; tickets are tagged with the visit."""

    __tablename__ = "circuit_visits"
    __table_args__ = (Index("ix_circuit_visits_day", "on_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    on_day: Mapped[date] = mapped_column(Date)
    village: Mapped[str] = mapped_column(String(80))
    place: Mapped[str] = mapped_column(String(120), default="")
    market_day: Mapped[bool] = mapped_column(Boolean, default=False)
    staff_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(12), default="planned")  # planned | done | cancelled
    summary: Mapped[str] = mapped_column(Text, default="")


class VisitTicket(Base):
    __tablename__ = "visit_tickets"
    __table_args__ = (UniqueConstraint("ticket_uid", name="uq_visit_tickets_ticket_uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(Integer, index=True)
    ticket_uid: Mapped[str] = mapped_column(String(36))
    tagged_by: Mapped[str] = mapped_column(String(40))
