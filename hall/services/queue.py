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
from datetime import date, datetime
from types import ModuleType
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, func, select, tuple_
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from hall.errors import PermissionDenied
from hall.models import Ticket
from hall.services import clock, intake, ledger, tickets
from hall.services.actor import Actor
from hall.services.calendar import WorkCalendar
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

    The queue uses ``window`` / ``owner_id``; the manager's dashboard drills down with ``due_on``,
    ``overdue``, ``provisional``, ``kind`` and ``state``; the search box fills ``text`` (ticket number,
    ID number, applicant name or pinyin initials — each an indexed lookup).
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


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts (opaque to the UI)."""

    phase: int  # 0: rows with a sort value; 1: due-date sort only, rows without a due date
    key: Any
    id: int


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


def conditions(f: TicketFilter, today: date) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if f.open_only or f.overdue:
        out.append(Ticket.is_open.is_(True))
    if f.window:
        out.append(Ticket.window_code == f.window)
    if f.owner_id is not None:
        out.append(Ticket.owner_id == f.owner_id)
    if f.kind:
        out.append(Ticket.kind == f.kind)
    if f.state:
        out.append(Ticket.state == f.state)
    if f.intake_point:
        out.append(Ticket.intake_point == f.intake_point)
    if f.due_on is not None:
        out.append(Ticket.due_date == f.due_on)
    if f.overdue:
        out.append(Ticket.due_date < today)
    if f.provisional is not None:
        out.append(Ticket.due_provisional.is_(f.provisional))
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
    stmt = select(*_COLUMNS).where(*where, Ticket.due_date.is_(None))
    if after is not None:
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
