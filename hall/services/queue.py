"""What the counter screens read: ticket pages (queue, dashboard drill-down), counts, one ticket's detail.

Pages use keyset pagination — ``WHERE (sort_key, id) > (last_key, last_id) ORDER BY sort_key, id LIMIT n`` —
so page 10,000 costs what page 1 costs and a million-ticket ledger is never loaded. Filtering and sorting
happen in SQL on the indexed columns of ``tickets``; rows come back as frozen dataclasses with "days left"
(working days, negative when overdue) computed with the deadline engine's working-day index.

Tickets without a due date (待补正, 不予受理 …) sort after every dated one in both directions: a keyset over a
nullable column is split into two phases (dated, then undated by id) instead of relying on the database's
NULL ordering, which differs between SQLite and PostgreSQL.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from types import ModuleType
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, func, or_, select, tuple_
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from hall.errors import PermissionDenied
from hall.models import Ticket
from hall.services import clock, intake, ledger, tickets
from hall.services.actor import Actor
from hall.services.calendar import WorkCalendar
from hall.services.dashboard import clock_stopped_sql
from hall.services.deadlines import working_days_between
from hall.services.masking import mask_id_for_clerk
from hall.services.numbering import NUMBER_RE
from hall.services.states import KIND_LABELS, MATERIAL_STATUS, STATE_LABELS

log = logging.getLogger("hall.queue")
SortKey = Literal["due", "received", "number"]
SORT_KEYS: tuple[SortKey, ...] = ("due", "received", "number")
MAX_PAGE = 1000
TOP = "\U0010ffff"  # above every character: the end of a prefix range
REVEAL_EVENT = "ticket.id_revealed"
tickets.EVENT_LABELS.setdefault(REVEAL_EVENT, "查看完整证件号码")


@dataclass(frozen=True)
class TicketFilter:
    """Which tickets a list shows. Every field narrows the list; the defaults show all open tickets.

    The queue uses ``window`` / ``owner_id``; the search box fills ``text`` (ticket number, ID number, applicant
    name or pinyin initials — each an indexed lookup). The manager's dashboard and the statistics screen drill
    down with the rest, so a list holds exactly the tickets behind a number:

    - ``due_on`` / ``due_from`` / ``due_to`` (inclusive), ``overdue`` (open and due before ``today``),
      ``provisional``, ``clock_running`` (False: waiting on 补正、特别程序、集体研究 or a running pause —
      the dashboard's "计时暂停"; True: the clock runs, so a ticket past its due date is overdue);
    - dates of a ticket's life, inclusive days: ``received_from/_to``, ``accepted_from/_to``, ``closed_from/_to``;
      ``has_verdict`` (closed with a result, so judged on time or late), ``on_time`` (that verdict);
    - ``overdue_at``: past its due date at the end of that day — accepted, due before it, and still open or
      closed only after it (never refused, withdrawn or voided);
    - ``item_code``, ``no_owner`` (nobody responsible), ``exclude_states``.

    Set ``open_only=False`` to reach closed tickets.
    """

    window: str | None = None
    owner_id: int | None = None
    kind: str | None = None
    state: str | None = None
    open_only: bool = True
    due_on: date | None = None
    overdue: bool = False  # due before ``today`` (given to the query) and still open
    provisional: bool | None = None
    text: str = ""
    intake_point: str | None = None
    item_code: str | None = None
    no_owner: bool = False
    exclude_states: tuple[str, ...] = ()
    due_from: date | None = None
    due_to: date | None = None
    received_from: date | None = None
    received_to: date | None = None
    accepted_from: date | None = None
    accepted_to: date | None = None
    closed_from: date | None = None
    closed_to: date | None = None
    has_verdict: bool = False
    on_time: bool | None = None
    overdue_at: date | None = None
    clock_running: bool | None = None


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts (opaque to the UI)."""

    phase: int  # 0: rows with a sort value; 1: due-date sort only, rows without a due date
    key: Any
    id: int | None  # None: phase 1 from its first row


@dataclass(frozen=True)
class QueueRow:
    id: int
    number: str
    item_code: str
    item_name: str
    window_code: str
    kind: str
    state: str
    applicant_name: str
    applicant_id_masked: str
    received_at: datetime
    due_date: date | None
    due_provisional: bool
    days_left: int | None  # open tickets: working days from today to the due date; negative = overdue
    owner_id: int | None
    version: int
    is_open: bool

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def due_today(self) -> bool:
        return self.is_open and self.days_left == 0

    @property
    def overdue(self) -> bool:
        return self.is_open and self.days_left is not None and self.days_left < 0


@dataclass(frozen=True)
class Page:
    rows: tuple[QueueRow, ...]
    next: Cursor | None  # None: this was the last page


@dataclass(frozen=True)
class QueueCounts:
    total: int
    due_today: int
    overdue: int
    provisional: int


_COLUMNS = (Ticket.id, Ticket.number, Ticket.item_code, Ticket.item_name, Ticket.window_code, Ticket.kind,
            Ticket.state, Ticket.applicant_name, Ticket.applicant_id_no, Ticket.received_at, Ticket.due_date,
            Ticket.due_provisional, Ticket.owner_id, Ticket.version, Ticket.is_open, Ticket.applicant_initials)
_SORT_COLUMNS = {"due": Ticket.due_date, "received": Ticket.received_at, "number": Ticket.number}


def _prefix(col: Any, q: str) -> ColumnElement[bool]:
    # The range lets SQLite walk the index (its LIKE cannot use one with ESCAPE or case folding); the LIKE
    # keeps the meaning exact whatever the collation does with the top code point.
    return and_(col >= q, col < q + TOP, col.startswith(q, autoescape=True))


def _text_condition(text: str) -> tuple[ColumnElement[bool], Any] | None:
    """The same classification as ``tickets.search``: one indexed lookup per kind of query.

    Returns the condition and, for prefix searches (which may match thousands), the column whose index order
    the results follow — so a page is an index range walk, never a sort of every match.
    """
    q = text.strip()
    if not q:
        return None
    if NUMBER_RE.match(q):
        return Ticket.number == q, None
    upper = q.upper()
    if len(q) in (15, 18) and q.isascii() and q.isalnum() and q[:6].isdigit():
        return Ticket.applicant_id_no == upper, None  # ID number, or an organisation's credit code
    if q.isascii() and q.isalpha():
        return _prefix(Ticket.applicant_initials, q.lower()), Ticket.applicant_initials
    if "-" in q and q.replace("-", "").isdigit():
        return _prefix(Ticket.number, q), Ticket.number
    return _prefix(Ticket.applicant_name, q), Ticket.applicant_name


def _start(d: date) -> datetime:
    return datetime.combine(d, time.min)


def _end(d: date) -> datetime:  # exclusive: the start of the next day
    return datetime.combine(d + timedelta(days=1), time.min)


def conditions(f: TicketFilter, today: date) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if f.open_only or f.overdue:
        out.append(Ticket.is_open.is_(True))
    if f.window:
        out.append(Ticket.window_code == f.window)
    if f.owner_id is not None:
        out.append(Ticket.owner_id == f.owner_id)
    if f.no_owner:
        out.append(Ticket.owner_id.is_(None))
    if f.kind:
        out.append(Ticket.kind == f.kind)
    if f.item_code:
        out.append(Ticket.item_code == f.item_code)
    if f.state:
        out.append(Ticket.state == f.state)
    if f.exclude_states:
        out.append(Ticket.state.not_in(f.exclude_states))
    if f.intake_point:
        out.append(Ticket.intake_point == f.intake_point)
    if f.due_on is not None:
        out.append(Ticket.due_date == f.due_on)
    if f.due_from is not None:
        out.append(Ticket.due_date >= f.due_from)
    if f.due_to is not None:
        out.append(Ticket.due_date <= f.due_to)
    if f.overdue:
        out.append(Ticket.due_date < today)
    if f.provisional is not None:
        out.append(Ticket.due_provisional.is_(f.provisional))
    if f.received_from is not None:
        out.append(Ticket.received_at >= _start(f.received_from))
    if f.received_to is not None:
        out.append(Ticket.received_at < _end(f.received_to))
    if f.accepted_from is not None:
        out.append(Ticket.accepted_on >= f.accepted_from)
    if f.accepted_to is not None:
        out.append(Ticket.accepted_on <= f.accepted_to)
    if f.closed_from is not None:
        out.append(Ticket.closed_at >= _start(f.closed_from))
    if f.closed_to is not None:
        out.append(Ticket.closed_at < _end(f.closed_to))
    if f.has_verdict:
        # "IN (true, false)" rather than "IS NOT NULL": two ranges of ix_tickets_closed_rate, as the rates read.
        out.append(Ticket.closed_on_time.in_((True, False)))
    if f.on_time is not None:
        out.append(Ticket.closed_on_time.is_(f.on_time))
    if f.overdue_at is not None:
        # One OR of two branches, each led by an indexed range (open by due date: ix_tickets_open_due; closed
        # after the day: ix_tickets_closed), so the database reads the two ranges, not the ledger.
        past_due = (Ticket.due_date < f.overdue_at, Ticket.accepted_on.is_not(None))
        out.append(or_(
            and_(Ticket.is_open.is_(True), *past_due),
            and_(Ticket.closed_at >= _end(f.overdue_at), *past_due,
                 Ticket.state.not_in(("voided", "refused", "withdrawn")))))
    if f.clock_running is not None:
        stopped = clock_stopped_sql()
        out.append(~stopped if f.clock_running else stopped)
    text = _text_condition(f.text)
    if text is not None:
        out.append(text[0])
    return out


def page(session: Session, f: TicketFilter, *, today: date, sort: SortKey = "due", descending: bool = False,
         after: Cursor | None = None, limit: int = 200) -> Page:
    """One page of tickets matching ``f``, in ``sort`` order (then by id), starting after ``after``.

    A prefix search (name, pinyin initials, part of a number) pages in the order of the searched column
    instead, so it stays an index walk at a million tickets; exact searches keep ``sort``.
    """
    if sort not in _SORT_COLUMNS:
        raise ValueError(f"unknown sort key {sort!r}")
    limit = max(1, min(limit, MAX_PAGE))
    col = _SORT_COLUMNS[sort]
    text = _text_condition(f.text)
    if text is not None and text[1] is not None:
        col = text[1]
    dated = col is Ticket.due_date
    where = conditions(f, today)
    phase = after.phase if after is not None else 0
    out: list[Any] = []
    if phase == 0:
        stmt = select(*_COLUMNS).where(*where)
        if dated:
            stmt = stmt.where(Ticket.due_date.is_not(None))
        if after is not None:
            pair, last = tuple_(col, Ticket.id), tuple_(after.key, after.id)
            # The plain comparison on the sort column lets SQLite start the index range at the cursor.
            stmt = stmt.where(col <= after.key, pair < last) if descending else \
                stmt.where(col >= after.key, pair > last)
        order = (col.desc(), Ticket.id.desc()) if descending else (col, Ticket.id)
        out = list(session.execute(stmt.order_by(*order).limit(limit + 1)))
        if len(out) > limit:
            last_row = out[limit - 1]
            return Page(_rows(session, out[:limit], today), Cursor(0, getattr(last_row, col.key), last_row.id))
        if not dated:
            return Page(_rows(session, out, today), None)
        after = None
    # Phase 1 (due-date sort): the undated rows, by id, after every dated one.
    need = limit - len(out)
    if need == 0:
        # The dated rows filled this page exactly: the undated ones, if any, start the next page.
        undated_left = session.execute(select(Ticket.id).where(*where, Ticket.due_date.is_(None)).limit(1)).first()
        return Page(_rows(session, out, today), Cursor(1, None, None) if undated_left else None)
    stmt = select(*_COLUMNS).where(*where, Ticket.due_date.is_(None))
    if after is not None and after.id is not None:
        stmt = stmt.where(Ticket.id < after.id if descending else Ticket.id > after.id)
    undated = list(session.execute(
        stmt.order_by(Ticket.id.desc() if descending else Ticket.id).limit(need + 1)))
    more = len(undated) > need
    undated = undated[:need]
    rows = out + undated
    nxt = Cursor(1, None, undated[-1].id) if more and undated else None
    return Page(_rows(session, rows, today), nxt)


def count(session: Session, f: TicketFilter, *, today: date) -> int:
    return int(session.scalar(select(func.count(Ticket.id)).where(*conditions(f, today))) or 0)


def counts(session: Session, f: TicketFilter, *, today: date) -> QueueCounts:
    """The figures above a list: how many, due today, overdue, provisional (open tickets only for the last three)."""
    def n(**changes: Any) -> int:
        return count(session, replace(f, **changes), today=today)

    return QueueCounts(n(), n(due_on=today, open_only=True), n(overdue=True), n(provisional=True, open_only=True))


def _rows(session: Session, raw: list[Any], today: date) -> tuple[QueueRow, ...]:
    cal: WorkCalendar | None = None
    out = []
    for r in raw:
        days_left = None
        if r.due_date is not None and r.is_open:
            cal = cal or clock.calendar_for(session)
            days_left = working_days_between(cal, today, r.due_date) if r.due_date >= today else \
                -working_days_between(cal, r.due_date, today)
        out.append(QueueRow(r.id, r.number, r.item_code, r.item_name, r.window_code, r.kind, r.state,
                            r.applicant_name, mask_id_for_clerk(r.applicant_id_no), r.received_at, r.due_date,
                            bool(r.due_provisional), days_left, r.owner_id, r.version, bool(r.is_open)))
    return tuple(out)


# ------------------------------------------------------------------------------------------ one ticket
@dataclass(frozen=True)
class MaterialLine:
    name: str
    form: str
    count: int
    status: str

    @property
    def status_label(self) -> str:
        return MATERIAL_STATUS.get(self.status, self.status)


@dataclass(frozen=True)
class TicketDetail:
    """Everything the ticket detail screen shows (ID number masked; ``reveal_id`` logs a full view)."""

    number: str
    version: int
    item_code: str
    item_name: str
    window_code: str
    kind: str
    state: str
    is_open: bool
    applicant_type: str
    applicant_name: str
    applicant_id_masked: str
    applicant_sex: str
    applicant_birth: date | None
    applicant_phone: str
    applicant_address: str
    agent: dict[str, Any] | None
    materials: tuple[MaterialLine, ...]
    note: str
    received_at: datetime
    accepted_on: date | None
    due_date: date | None
    due_provisional: bool
    days_left: int | None
    owner: str
    result: str
    refusal_reason: str
    void_reason: str
    history: tuple[tickets.HistoryLine, ...]
    departments: tuple[str, ...] = ()  # the item's departments (lead first): where to forward / copy
    actions: tuple[str, ...] = field(default=())  # what the workflow allows this actor now
    workflow_ready: bool = False  # False: only the basic actions of tickets.py are available

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)


def workflow_module() -> ModuleType | None:
    """The full state machine, when it is installed (it builds on tickets.py, which is always there)."""
    try:
        return importlib.import_module("hall.services.workflow")
    except ImportError:
        return None


def detail(session: Session, actor: Actor, number: str, *, today: date | None = None) -> TicketDetail:
    t = tickets.get(session, number)
    today = today or date.today()
    days_left = None
    if t.due_date is not None and t.is_open:
        cal = clock.calendar_for(session)
        days_left = working_days_between(cal, today, t.due_date) if t.due_date >= today else \
            -working_days_between(cal, t.due_date, today)
    actions: tuple[str, ...] = ()
    ready = False
    wf = workflow_module()
    if wf is not None:
        try:
            with session.begin_nested():  # a database without the workflow tables must not break the read
                actions = tuple(wf.allowed_actions(session, actor, t))
            ready = True
        except SQLAlchemyError as exc:
            log.warning("workflow actions unavailable (database not migrated for them?): %s", getattr(exc, "orig", exc))
    return TicketDetail(
        t.number, t.version, t.item_code, t.item_name, t.window_code, t.kind, t.state, t.is_open,
        t.applicant_type, t.applicant_name,
        mask_id_for_clerk(t.applicant_id_no) if t.applicant_type == "person" else t.applicant_id_no,
        t.applicant_sex, t.applicant_birth, t.applicant_phone, t.applicant_address, t.agent,
        tuple(MaterialLine(m["name"], m.get("form", ""), int(m.get("count", 1) or 1), m["status"])
              for m in t.materials),
        t.note, t.received_at, t.accepted_on, t.due_date, t.due_provisional, days_left,
        tickets.owner_name(session, t), t.result, t.refusal_reason, t.void_reason,
        tuple(tickets.history(session, t)), tuple(intake.item_for_ticket(session, t).departments), actions, ready,
    )


def reveal_id(session: Session, actor: Actor, number: str) -> str:
    """The full ID number for the clerk's eyes, logged as a ledger event (who looked, when)."""
    if actor.role not in ("clerk", "village", "manager", "admin"):
        raise PermissionDenied("当前身份不能查看完整证件号码")
    t = tickets.get(session, number)
    ledger.append(session, actor, REVEAL_EVENT, {"reason": "窗口核对证件"}, ticket_uid=t.uid)
    return t.applicant_id_no


# ------------------------------------------------------------------------------------ returning citizens
@dataclass(frozen=True)
class ApplicantView:
    type: str
    id_no: str
    name: str
    sex: str
    birth: date | None
    phone: str
    address: str

    @property
    def id_masked(self) -> str:
        return mask_id_for_clerk(self.id_no) if self.type == "person" else self.id_no


def find_applicants(session: Session, query: str, limit: int = 10) -> list[ApplicantView]:
    """A returning citizen by ID number or by name / pinyin initials, latest first (plain data for screens)."""
    return [ApplicantView(a.applicant_type, a.id_no, a.name, a.sex, a.birth, a.phone, a.address)
            for a in intake.find_applicant(session, query, limit)]


# ------------------------------------------------------------------------------- statistics drill-downs
STATS_FIGURES = ("received", "accepted", "refused", "closed", "on_time", "closed_late", "open_overdue")


def stats_filter(start: date, end: date, dimension: str, key: str | None, figure: str) -> TicketFilter:
    """The tickets counted in one figure of :mod:`hall.services.stats` for the days ``start``..``end`` (the
    table's period, already clipped to today) and one row: ``key`` of ``dimension`` (window / item / kind /
    staff / village; ``""`` for staff is "nobody"), or ``None`` for the 合计 row. Ratings are counted per rating,
    not per ticket, so they have no ticket list. Mirrors the definitions in ``stats`` figure by figure."""
    kw: dict[str, Any] = {"open_only": False}
    if key is not None:
        if dimension == "staff":
            kw.update({"owner_id": int(key)} if key else {"no_owner": True})
        else:
            field_name = {"window": "window", "item": "item_code", "kind": "kind", "village": "intake_point"}.get(
                dimension)
            if field_name is None:
                raise ValueError(f"unknown dimension {dimension!r}")
            kw[field_name] = key
    live = ("voided",)
    if figure in ("received", "refused"):
        kw.update(received_from=start, received_to=end, exclude_states=live)
        if figure == "refused":
            kw["state"] = "refused"
    elif figure == "accepted":
        kw.update(accepted_from=start, accepted_to=end, exclude_states=live)
    elif figure in ("closed", "on_time", "closed_late"):
        kw.update(closed_from=start, closed_to=end, has_verdict=True, exclude_states=live)
        if figure != "closed":
            kw["on_time"] = figure == "on_time"
    elif figure == "open_overdue":
        kw.update(overdue_at=end, clock_running=True)
    else:
        raise ValueError(f"no ticket list for the figure {figure!r}")
    return TicketFilter(**kw)
