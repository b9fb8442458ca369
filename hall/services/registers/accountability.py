"""Accountability (责任追究制 / 效能监察): overdue tickets, deemed consents, upheld 差评 and upheld complaints
each open a record against the responsible person or department; the manager records the finding.

Records are keyed by their source (``overdue:<ticket>``, ``deemed:<ticket>:<department>:<round>``,
``rating:<rectification>``, ``complaint:<number>``), so the daily sweeps never duplicate one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from hall.errors import ConflictError, NotFound, ValidationError
from hall.models import Event, Staff, Ticket
from hall.models.workflow import AccountabilityRecord
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_supervisor
from hall.services.base.validators import free_text
from hall.services.calendar.deadlines import working_days_between
from hall.services.storage import identity, ledger
from hall.services.tickets.rules import calendar

CAUSES = {"overdue": "超期办件", "deemed_consent": "逾期未回复（视为认可）", "poor_rating": "差评属实",
          "complaint": "投诉属实", "fault": "过错责任追究"}
FINDINGS = {"upheld": "属实，予以追究", "dismissed": "不予追究"}
MEASURES = ("", "提醒谈话", "批评教育", "通报批评", "责令整改", "扣减绩效", "移交纪检")


@dataclass(frozen=True)
class RecordView:
    id: int
    cause: str
    cause_label: str
    ticket_number: str
    staff_name: str
    department: str
    window_code: str | None
    occurred_on: date
    detail: str
    state: str
    finding: str
    measure: str
    found_by: str
    found_on: date | None


def open_record(session: Session, actor: Actor, source_key: str, cause: str, occurred_on: date, *,
                ticket_uid: str | None = None, staff_id: int | None = None, department: str = "",
                window_code: str | None = None, detail: str = "", now: datetime | None = None) -> bool:
    """Open a record unless one exists for ``source_key``; True when a new one was written."""
    require_supervisor(actor, "登记责任追究")  # the inspector only records findings (inspection.py)
    if cause not in CAUSES:
        raise ValidationError("追究事由", f"应为{'、'.join(CAUSES.values())}之一")
    exists = session.scalars(select(AccountabilityRecord.id).where(AccountabilityRecord.source_key == source_key)
                             ).first()
    if exists is not None:
        return False
    ledger.append(session, actor, "accountability.opened", {
        "source_key": source_key, "cause": cause, "occurred_on": occurred_on,
        "staff_uid": identity.uid_of(session, staff_id),
        "department": department, "window_code": window_code, "detail": detail[:2000],
        "reason": f"{CAUSES[cause]}：{detail[:200]}",
    }, ticket_uid=ticket_uid, at=now)
    return True


@ledger.projector("accountability.opened")
def _project_opened(session: Session, ev: Event, p: dict[str, Any]) -> None:
    session.add(AccountabilityRecord(
        source_key=p["source_key"], cause=p["cause"], ticket_uid=ev.ticket_uid,
        staff_id=identity.staff_ref(session, p, "staff_uid", "staff_id"),
        department=p["department"], window_code=p["window_code"], occurred_on=date.fromisoformat(p["occurred_on"]),
        detail=p["detail"], state="open",
    ))
    session.flush()


# States whose clock stands still. Not 集体研究 (escalated): it no longer stops the clock, so a case waiting for
# the meeting past its date is overdue unless an extension was approved (an escalation recorded when it still
# stopped the clock has its open excluded step, which _clock_stopped sees).
STOPPED_STATES = ("special", "supplement")


def _unrecorded():  # type: ignore[no-untyped-def]
    # Correlated (one index probe per ticket), not NOT IN (SELECT …): that list is every overdue record ever,
    # built again by each statement — ruinous for a batch of a few tickets on a ten-year ledger.
    return ~exists().where(AccountabilityRecord.ticket_uid == Ticket.uid, AccountabilityRecord.cause == "overdue")


def _late_open(today: date):  # type: ignore[no-untyped-def]
    return (Ticket.is_open, Ticket.due_date < today, Ticket.state.not_in(STOPPED_STATES), _unrecorded())


def _late_closed():  # type: ignore[no-untyped-def]
    return (Ticket.is_open.is_(False), Ticket.closed_on_time.is_(False), _unrecorded())


def overdue_window(today: date) -> tuple[date | None, date | None]:
    """The due dates an open ticket can be overdue with on ``today`` (the part of the rule the day moves)."""
    return None, today


def overdue_candidates(session: Session, today: date, ranges: Sequence[tuple[date | None, date | None]] = (),
                       touched: Iterable[str] | None = None) -> list[int]:
    """Ids of the tickets :func:`record_overdue` may have to record on ``today``.

    ``touched=None``: every ticket of the rule (the first run). Otherwise the incremental run: open tickets whose
    due date falls in ``ranges`` (the days that came due since the last run) and the ``touched`` tickets (changed
    since the last run) — an untouched ticket closed late, or open and due before the last run, was decided then.
    """
    late_open = select(Ticket.id).where(*_late_open(today))
    late_closed = select(Ticket.id).where(*_late_closed())
    if touched is None:
        return sorted({*session.scalars(late_open), *session.scalars(late_closed)})
    ids: set[int] = set()
    for lo, hi in ranges:
        stmt = late_open
        if lo is not None:
            stmt = stmt.where(Ticket.due_date >= lo)
        if hi is not None:
            stmt = stmt.where(Ticket.due_date < hi)
        ids.update(session.scalars(stmt))
    uids = sorted(set(touched))
    for i in range(0, len(uids), 500):  # bounded IN lists on any database
        chunk = uids[i:i + 500]
        ids.update(session.scalars(late_open.where(Ticket.uid.in_(chunk))))
        ids.update(session.scalars(late_closed.where(Ticket.uid.in_(chunk))))
    return sorted(ids)


def record_overdue(session: Session, actor: Actor, today: date, ids: Sequence[int], *,
                   now: datetime | None = None) -> list[str]:
    """Record the tickets of ``ids`` that are overdue on ``today`` and have no record yet (re-checked here, in
    the caller's write transaction, so a candidate that changed meanwhile or was recorded by another run is
    left alone). Returns the numbers of the tickets newly recorded."""
    require_supervisor(actor, "登记超期责任追究")
    if actor.role not in ("system", "manager", "admin"):
        require_supervisor(actor, "登记超期责任")
    now = now or datetime.combine(today, datetime.min.time())
    cal = calendar(session)
    out = []
    for i in range(0, len(ids), 500):
        chunk = list(ids[i:i + 500])
        for where in (_late_open(today), _late_closed()):
            stmt = select(Ticket).where(*where, Ticket.id.in_(chunk)).order_by(Ticket.due_date, Ticket.id)
            for t in session.scalars(stmt).all():
                if t.is_open and _clock_stopped(t):
                    continue
                end = t.closed_at.date() if t.closed_at else today
                over = working_days_between(cal, t.due_date, end) if t.due_date else 0
                detail = (f"办件 {t.number}（{t.item_name}）承诺办结日期 {t.due_date}，"
                          + (f"{end} 办结，" if t.closed_at else "至今未办结，") + f"超期 {over} 个工作日")
                if open_record(session, actor, f"overdue:{t.uid}", "overdue", today, ticket_uid=t.uid,
                               staff_id=t.owner_id, window_code=t.window_code, detail=detail, now=now):
                    out.append(t.number)
    return out


def sweep_overdue(session: Session, actor: Actor, today: date, *, now: datetime | None = None) -> list[str]:
    """Every ticket past its due date (open, or closed late) gets a record against its responsible person.

    A ticket whose clock is stopped (补正, 特别程序, 集体研究) is not overdue while it stands still: its due date
    is an estimate until the stop ends. Returns the numbers of the tickets newly recorded. The whole rule in the
    caller's transaction; ``hall.services.cases.daily`` runs it incrementally, in short transactions.
    """
    require_supervisor(actor, "登记超期责任追究")
    if actor.role not in ("system", "manager", "admin"):
        require_supervisor(actor, "登记超期责任")
    return record_overdue(session, actor, today, overdue_candidates(session, today), now=now)


def _clock_stopped(t: Ticket) -> bool:
    depth = {"pause": 0, "exclude": 0}
    for e in t.clock:
        if e["kind"] in ("pause", "exclude_start"):
            depth["pause" if e["kind"] == "pause" else "exclude"] = 1
        elif e["kind"] in ("resume", "exclude_end"):
            depth["pause" if e["kind"] == "resume" else "exclude"] = 0
    return any(depth.values())


def record_finding(session: Session, actor: Actor, record_id: int, finding: str, text_: str, *, measure: str = "",
                   now: datetime | None = None) -> None:
    """The manager's finding on one record: upheld (with a measure) or dismissed, with the reasons."""
    require_supervisor(actor, "作出责任追究认定")
    now = now or datetime.now()
    rec = session.get(AccountabilityRecord, record_id)
    if rec is None:
        raise NotFound(f"责任追究记录 {record_id} 不存在")
    if rec.state != "open":
        raise ConflictError("该记录已有认定结论")
    if finding not in FINDINGS:
        raise ValidationError("认定结论", "应为属实或不予追究")
    if measure not in MEASURES:
        raise ValidationError("处理措施", f"应为{'、'.join(m for m in MEASURES if m)}之一")
    if finding == "upheld" and not measure:
        raise ValidationError("处理措施", "认定属实须写明处理措施")
    said = free_text(text_, "认定意见", max_len=2000, multiline=True, min_len=2)
    ledger.append(session, actor, "accountability.found", {
        "source_key": rec.source_key, "finding": finding, "text": said,
        "measure": measure, "found_on": now.date(), "reason": f"{FINDINGS[finding]}：{said[:200]}",
    }, ticket_uid=rec.ticket_uid, at=now)


@ledger.projector("accountability.found")
def _project_found(session: Session, ev: Event, p: dict[str, Any]) -> None:
    rec = session.scalars(select(AccountabilityRecord).where(AccountabilityRecord.source_key == p["source_key"])
                          ).one()
    rec.state, rec.finding, rec.measure = p["finding"], p["text"], p["measure"]
    rec.found_by, rec.found_on = ev.actor_name, date.fromisoformat(p["found_on"])


def records(session: Session, *, state: str | None = "open", since: date | None = None, until: date | None = None,
            staff_id: int | None = None, limit: int | None = None) -> list[RecordView]:
    """The manager's list, newest first (all of it unless ``limit``: a silently cut list hides someone's case)."""
    stmt = select(AccountabilityRecord)
    if state:
        stmt = stmt.where(AccountabilityRecord.state == state)
    if since:
        stmt = stmt.where(AccountabilityRecord.occurred_on >= since)
    if until:
        stmt = stmt.where(AccountabilityRecord.occurred_on <= until)
    if staff_id is not None:
        stmt = stmt.where(AccountabilityRecord.staff_id == staff_id)
    stmt = stmt.order_by(AccountabilityRecord.occurred_on.desc(), AccountabilityRecord.id.desc())
    rows = session.scalars(stmt.limit(limit) if limit else stmt).all()
    uids = {r.ticket_uid for r in rows if r.ticket_uid}
    numbers: dict[str, str] = {}
    batch = sorted(uids)
    for i in range(0, len(batch), 500):  # bounded IN lists on any database
        numbers.update(session.execute(select(Ticket.uid, Ticket.number)
                                       .where(Ticket.uid.in_(batch[i:i + 500]))).all())
    names = {p.id: p.name for p in session.scalars(select(Staff))}
    return [RecordView(r.id, r.cause, CAUSES[r.cause], numbers.get(r.ticket_uid, ""), names.get(r.staff_id, "")
                       if r.staff_id else "", r.department, r.window_code, r.occurred_on, r.detail, r.state,
                       r.finding, r.measure, r.found_by, r.found_on) for r in rows]
