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

import logging
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Date, Select, and_, bindparam, case, func, or_, select, tuple_
from sqlalchemy.orm import Session

from hall.errors import PermissionDenied
from hall.models import Ticket
from hall.models.sync import SyncConflict
from hall.services.base.actor import Actor
from hall.services.base.masking import mask_id_for_clerk
from hall.services.base.states import KIND_LABELS, MATERIAL_STATUS, PAUSED_LABEL, STATE_LABELS
from hall.services.calendar import clock
from hall.services.calendar.deadlines import working_days_between
from hall.services.calendar.workdays import WorkCalendar
from hall.services.cases import offers
from hall.services.reporting.dashboard import clock_stopped_sql
from hall.services.storage import ledger
from hall.services.tickets import intake, rules
from hall.services.tickets import record as tickets
from hall.services.tickets.search import SEARCH_WINDOW, Lookup, OpenKeyed, driving_join, lookup

log = logging.getLogger("hall.queue")
SortKey = Literal["due", "received", "number"]
SORT_KEYS: tuple[SortKey, ...] = ("due", "received", "number")
MAX_PAGE = 1000
SEARCH_PAGE = 60  # a search's first page: two screens of the queue at 1080p (the rest comes as the list scrolls)
SEARCH_CAP = 1000  # a search's counts stop here ("1,000+"): a broad prefix never counts a township's tickets
EXACT_MAX = 5000  # a bounded lookup (one person, one day) larger than this is a data error: keep the page bounded
REVEAL_EVENT = "ticket.id_revealed"
tickets.EVENT_LABELS.setdefault(REVEAL_EVENT, "查看完整证件号码")


# The queue's status filter (在办 / 已办结 / 全部 / 作废): the one place that says which tickets each means.
Status = Literal["open", "done", "all", "voided", "conflict"]
STATUSES: tuple[Status, ...] = ("open", "done", "all", "voided", "conflict")
STATUS_LABELS: dict[Status, str] = {"open": "在办", "done": "已办结", "all": "全部", "voided": "作废",
                                    "conflict": "同步冲突"}
CONFLICT_LABEL = "同步冲突"
NOT_DONE = ("refused", "withdrawn", "voided")  # closed without being handled to the end: not 办结


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
    done_only: bool = False  # 已办结 only: closed, but not refused, withdrawn or voided (see :func:`with_status`)
    sync_conflict: bool = False  # only tickets with an open sync conflict (同步冲突, hall/services/sync/conflicts.py)




def with_status(f: TicketFilter, status: Status) -> TicketFilter:
    """``f`` showing one status instead of whichever it showed: 在办 (open), 已办结 (办结 and 送达: closed, but not
    不予受理, 撤回 or 作废), 全部, 作废 (``ix_tickets_state_due``'s one range). Only the status fields change, so
    the last status applied wins and the rest of ``f`` stays."""
    if status == "open":
        return replace(f, open_only=True, done_only=False, state=None, sync_conflict=False)
    if status == "done":
        return replace(f, open_only=False, done_only=True, state=None, sync_conflict=False)
    if status == "voided":
        return replace(f, open_only=False, done_only=False, state="voided", sync_conflict=False)
    if status == "conflict":
        return replace(f, open_only=False, done_only=False, state=None, sync_conflict=True)
    return replace(f, open_only=False, done_only=False, state=None, sync_conflict=False)


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
    sync_conflict: bool = False  # frozen by an open sync conflict

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def state_label(self) -> str:
        label = STATE_LABELS.get(self.state, self.state)
        return f"{CONFLICT_LABEL}（{label}）" if self.sync_conflict else label

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
    """The figures above a list. ``capped``: a search matched more than the cap (or its prefix range is wider
    than the counted window), so every figure is a lower bound — shown as "1,000+"."""

    total: int
    due_today: int
    overdue: int
    provisional: int
    capped: bool = False

_OPEN_CONFLICTS = select(SyncConflict.ticket_uid).where(SyncConflict.state == "open")
# Which rows an open sync conflict freezes, in the page's own statement (the conflicts table is tiny: both
# databases read it once per statement, not per row).
_FROZEN = Ticket.uid.in_(_OPEN_CONFLICTS).label("frozen")
_COLUMNS = (Ticket.id, Ticket.number, Ticket.item_code, Ticket.item_name, Ticket.window_code, Ticket.kind,
            Ticket.state, Ticket.applicant_name, Ticket.applicant_id_no, Ticket.received_at, Ticket.due_date,
            Ticket.due_provisional, Ticket.owner_id, Ticket.version, Ticket.is_open, Ticket.applicant_initials,
            _FROZEN)
_SORT_COLUMNS = {"due": Ticket.due_date, "received": Ticket.received_at, "number": Ticket.number}


def _start(d: date) -> datetime:
    return datetime.combine(d, time.min)


def _end(d: date) -> datetime:  # exclusive: the start of the next day
    return datetime.combine(d + timedelta(days=1), time.min)


def conditions(f: TicketFilter, today: date) -> list[ColumnElement[bool]]:
    """Every filter but the search text (which :func:`page` and :func:`counts` look up first)."""
    out: list[ColumnElement[bool]] = []
    if f.open_only or f.overdue:
        out.append(Ticket.is_open.is_(True))
    elif f.done_only:
        # is_open leads ix_tickets_open_due; a NOT IN, never "state IN (…)", which a planner without statistics
        # would walk through ix_tickets_state_due and then sort.
        out.append(Ticket.is_open.is_(False))
        out.append(Ticket.state.not_in(NOT_DONE))
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
    if f.sync_conflict:
        out.append(Ticket.uid.in_(_OPEN_CONFLICTS))
    return out


def page(session: Session, f: TicketFilter, *, today: date, sort: SortKey = "due", descending: bool = False,
         after: Cursor | None = None, limit: int = 200) -> Page:
    """One page of tickets matching ``f``, in ``sort`` order (then by id), starting after ``after``.

    A search (``f.text``) is looked up first (:mod:`hall.services.tickets.search`). A bounded lookup (a number,
    an ID number or its tail, a day) keeps ``sort``. A prefix (name, pinyin initials, the start of a number or
    an ID number) pages in the order of the searched column instead and looks at no more than
    :data:`SEARCH_WINDOW` index entries per page: with selective filters a page may come back short — even
    empty — with a cursor that goes on, but no query walks more of the range than that.
    """
    if sort not in _SORT_COLUMNS:
        raise ValueError(f"unknown sort key {sort!r}")
    limit = max(1, min(limit, MAX_PAGE))
    where = conditions(f, today)
    found = lookup(session, f.text, today)
    if found is not None and not found.search.looks_up:
        return Page((), None)  # too short to mean anything yet: nothing is looked up
    if found is not None and found.order is not None:
        return _range_page(session, found, where, today, descending, after, limit)
    return _sorted_page(session, _found(found), where, _SORT_COLUMNS[sort], today, descending, after, limit)


def _found(found: Lookup | None) -> Any:
    """The tickets a bounded lookup names, as the subquery a page is driven from (None without a search)."""
    if found is None:
        return None
    return select(Ticket.id.label("i")).where(found.condition).limit(EXACT_MAX).subquery("found")


_SELECT_ROWS = select(*_COLUMNS)
# A bounded lookup's first page: dated rows first, by due date, then the undated (by id).
_DATED_FIRST = {False: (Ticket.due_date.is_(None), Ticket.due_date, Ticket.id),
                True: (Ticket.due_date.is_(None), Ticket.due_date.desc(), Ticket.id.desc())}


def _select(source: Any, cols: tuple[Any, ...] = _COLUMNS) -> Select[Any]:
    stmt = _SELECT_ROWS if cols is _COLUMNS else select(*cols)
    return stmt if source is None else stmt.select_from(driving_join(source))


def _sorted_page(session: Session, source: Any, where: list[ColumnElement[bool]], col: Any, today: date,
                 descending: bool, after: Cursor | None, limit: int) -> Page:
    dated = col is Ticket.due_date
    phase = after.phase if after is not None else 0
    if dated and after is None and source is not None:
        # The first page of a bounded lookup (one person, one day: sorted in memory whatever the order) in one
        # statement, dated rows first: the cursor it leaves is the one the two phases below continue from.
        got = list(session.execute(_select(source).where(*where).order_by(*_DATED_FIRST[descending])
                                   .limit(limit + 1)))
        if len(got) <= limit:
            return Page(_rows(session, got, today), None)
        last_row = got[limit - 1]
        nxt = Cursor(0, last_row.due_date, last_row.id) if last_row.due_date is not None else \
            Cursor(1, None, last_row.id)
        return Page(_rows(session, got[:limit], today), nxt)
    out: list[Any] = []
    if phase == 0:
        stmt = _select(source).where(*where)
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
        undated_left = session.execute(
            _select(source, (Ticket.id,)).where(*where, Ticket.due_date.is_(None)).limit(1)).first()
        return Page(_rows(session, out, today), Cursor(1, None, None) if undated_left else None)
    stmt = _select(source).where(*where, Ticket.due_date.is_(None))
    if after is not None and after.id is not None:
        stmt = stmt.where(Ticket.id < after.id if descending else Ticket.id > after.id)
    undated = list(session.execute(
        stmt.order_by(Ticket.id.desc() if descending else Ticket.id).limit(need + 1)))
    more = len(undated) > need
    undated = undated[:need]
    rows = out + undated
    nxt = Cursor(1, None, undated[-1].id) if more and undated else None
    return Page(_rows(session, rows, today), nxt)


def _range_page(session: Session, found: Lookup, where: list[ColumnElement[bool]], today: date,
                descending: bool, after: Cursor | None, limit: int) -> Page:
    """Walk the lookup's index range in chunks (the first one page long, then doubling) up to SEARCH_WINDOW
    entries: each chunk's keys are read from the index alone and only its tickets are fetched and filtered,
    so an unfiltered search fetches one page of rows and a filtered one no more than the window."""
    col = found.order
    key = (after.key, after.id) if after is not None else None
    out: list[Any] = []
    walked, chunk = 0, limit + 1
    while True:
        scan = select(col.label("k"), Ticket.id.label("i")).where(found.condition)
        if key is not None:
            pair, last = tuple_(col, Ticket.id), tuple_(*key)
            scan = scan.where(col <= key[0], pair < last) if descending else scan.where(col >= key[0], pair > last)
        scan = scan.order_by(*((col.desc(), Ticket.id.desc()) if descending else (col, Ticket.id)))
        size = min(chunk, SEARCH_WINDOW - walked)
        window = scan.limit(size).subquery("window")
        order = (window.c.k.desc(), window.c.i.desc()) if descending else (window.c.k, window.c.i)
        stmt = select(*_COLUMNS, window.c.k).select_from(driving_join(window)).where(*where)
        out += session.execute(stmt.order_by(*order).limit(limit + 1 - len(out))).all()
        if len(out) > limit:
            last_row = out[limit - 1]
            return Page(_rows(session, out[:limit], today), Cursor(0, last_row.k, last_row.id))
        edge = session.execute(scan.offset(size - 1).limit(1)).first()
        if edge is None:
            return Page(_rows(session, out, today), None)  # the range ended inside this chunk
        walked, chunk, key = walked + size, chunk * 2, (edge.k, edge.i)
        if walked >= SEARCH_WINDOW:  # a short page; the next one goes on from here
            return Page(_rows(session, out, today), Cursor(0, key[0], key[1]))


def count(session: Session, f: TicketFilter, *, today: date) -> int:
    """Exactly how many tickets match ``f`` (the drill-downs compare it with their figures). A search by a
    prefix counts its whole index range here; the queue's search box uses :func:`counts`, which is capped."""
    where = conditions(f, today)
    found = lookup(session, f.text, today)
    if found is not None:
        where.append(found.condition)
    return int(session.scalar(select(func.count(Ticket.id)).where(*where)) or 0)


def counts(session: Session, f: TicketFilter, *, today: date, cap: int = SEARCH_CAP) -> QueueCounts:
    """The figures above a list: how many, due today, overdue, provisional (open tickets only for the last three).

    Without a search they count the list's open tickets exactly (bounded by what is open, read from the
    open-ticket indexes). A search counts at most ``cap`` + 1 of the tickets its lookup finds (from the lookup's
    index alone when the list has no other filter): beyond that the result says ``capped`` — the total a lower
    bound, no other figure (the screen shows only "1,000+") — and below it the open figures are exact, read through
    the partial indexes over open tickets.
    """
    found = lookup(session, f.text, today)
    if found is None:
        def n(**changes: Any) -> int:
            return count(session, replace(f, **changes), today=today)

        if f.open_only or f.overdue:
            return QueueCounts(n(), n(due_on=today, open_only=True), n(overdue=True),
                               n(provisional=True, open_only=True))
        # 已办结 / 全部 / 作废 reach the closed tickets, nearly the whole ledger: counted up to the cap, like a
        # search. A closed-only list has nothing due or overdue.
        listed = select(Ticket.id).where(*conditions(f, today)).limit(cap + 1).subquery()
        seen = int(session.scalar(select(func.count()).select_from(listed)) or 0)
        if f.done_only:
            return QueueCounts(min(seen, cap), 0, 0, 0, seen > cap)
        return QueueCounts(min(seen, cap), n(due_on=today, open_only=True), n(overdue=True),
                           n(provisional=True, open_only=True), seen > cap)
    if not found.search.looks_up:
        return QueueCounts(0, 0, 0, 0)
    where = conditions(f, today)
    cand = select(Ticket.id.label("i")).where(found.condition).limit(cap + 1).subquery("found")
    if found.search.kind in _FEW:
        # One ticket, or one person's: its few rows, counted and tallied in one statement.
        if where:
            listed = and_(*where)
            seen, total, due_today, overdue, provisional = session.execute(select(
                func.count(), _tally(listed), *(_tally(and_(listed, c)) for c in _OPEN_FIGURES))
                .select_from(driving_join(cand)), {_TODAY: today}).one()
        else:
            seen, due_today, overdue, provisional = session.execute(
                select(func.count(), *_OPEN_TALLIES).select_from(driving_join(cand)), {_TODAY: today}).one()
            total = seen
        return QueueCounts(min(int(total), cap), int(due_today), int(overdue), int(provisional), seen > cap)
    # How many: the first cap + 1 tickets of the lookup's index, and of those the ones the list's other filters
    # keep. Without other filters this reads the index alone (a prefix of a thousand names costs a tenth of a ms).
    if where:
        seen, total = session.execute(select(func.count(), _tally(and_(*where))).select_from(
            driving_join(cand))).one()
    else:
        seen = total = session.scalar(select(func.count()).select_from(cand))
    seen, total = int(seen or 0), int(total or 0)
    if seen > cap:  # "1,000+": the screen shows no other figure for so broad a search (hall/ui/queue_view.py)
        return QueueCounts(min(total, cap), 0, 0, 0, True)
    # Every match was looked at: the figures of the open ones, exactly. Open tickets are a few thousand, and the
    # search keys have partial indexes over them (hall/models/ticket.py): a handful of entries, not the matches.
    # The open matches drive the join (as the candidates do above): a planner would otherwise walk the window's
    # index for "window_code = ?".
    opened = select(Ticket.id.label("i")).where(OpenKeyed(), found.condition).limit(cap + 1).subquery("opened")
    due_today, overdue, provisional = session.execute(
        select(*_OPEN_TALLIES).select_from(driving_join(opened)).where(*where), {_TODAY: today}).one()
    return QueueCounts(total, int(due_today), int(overdue), int(provisional))


# Lookups bounded by what they name (one ticket number; one person's ID number; a day's serial at each point).
_FEW = frozenset({"number", "id", "number_tail"})


def _tally(cond: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


# A search's open figures, built once (a search's counts run on every pause in typing, and building SQLAlchemy
# expressions costs more than the statement itself): today is a parameter.
_TODAY = "queue_today"
_OPEN_FIGURES = (and_(Ticket.is_open.is_(True), Ticket.due_date == bindparam(_TODAY, type_=Date)),
                 and_(Ticket.is_open.is_(True), Ticket.due_date < bindparam(_TODAY, type_=Date)),
                 and_(Ticket.is_open.is_(True), Ticket.due_provisional.is_(True)))
_OPEN_TALLIES = tuple(_tally(c) for c in _OPEN_FIGURES)


def _rows(session: Session, raw: list[Any], today: date) -> tuple[QueueRow, ...]:
    cal: WorkCalendar | None = None
    out = []
    for r in raw:
        # By position (the order of _COLUMNS; a range page adds its key after them): a page is up to 1,000 rows
        # and a search's page is read on every pause in typing, so the rows' own cost counts.
        (id_, number, item_code, item_name, window_code, kind, state, name, id_no, received_at, due_date,
         provisional, owner_id, version, is_open, _initials, frozen) = r[:17]
        days_left = None
        if due_date is not None and is_open:
            cal = cal or clock.calendar_for(session)
            days_left = working_days_between(cal, today, due_date) if due_date >= today else \
                -working_days_between(cal, due_date, today)
        out.append(QueueRow(id_, number, item_code, item_name, window_code, kind, state, name,
                            mask_id_for_clerk(id_no), received_at, due_date, bool(provisional), days_left, owner_id,
                            version, bool(is_open), bool(frozen)))
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
    uid: str = ""  # the ticket's ledger identity (what a change announced by its events names)
    # Every action the detail shows that this actor may not do now → why not (cases/offers.py).
    refused: tuple[tuple[str, str], ...] = ()
    paused: bool = False  # the clock waits for 补正 (the state itself stays 已受理/办理中)
    rating: str = ""  # the citizen's latest rating (好差评 level), "" while unrated

    sync_conflict: bool = False  # frozen by an open sync conflict: no action until the manager resolves it
    sync_conflicts: int = 0  # its sync conflicts, open or resolved (the detail shows their branches)

    @property
    def shown_state(self) -> str:
        """The state as the header says it: 已暂停 while the clock is paused."""
        return PAUSED_LABEL if self.paused and self.is_open else self.state_label

    def why_not(self, action: str) -> str:
        """"" when ``action`` is offered, else the reason the service would give."""
        return dict(self.refused).get(action, "")

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def state_label(self) -> str:
        label = STATE_LABELS.get(self.state, self.state)
        return f"{CONFLICT_LABEL}（{label}）" if self.sync_conflict else label


def detail(session: Session, actor: Actor, number: str, *, today: date | None = None) -> TicketDetail:
    t = tickets.get(session, number)
    today = today or date.today()
    days_left = None
    if t.due_date is not None and t.is_open:
        cal = clock.calendar_for(session)
        days_left = working_days_between(cal, today, t.due_date) if t.due_date >= today else \
            -working_days_between(cal, t.due_date, today)
    states = list(session.scalars(select(SyncConflict.state).where(SyncConflict.ticket_uid == t.uid)))
    frozen = "open" in states
    why = offers.refusals(session, actor, t)
    if frozen:  # an open sync conflict: nothing until the manager resolves it (hall/services/sync/conflicts.py)
        why = {name: tickets.FROZEN_MESSAGE for name in why}
    actions = tuple(name for name, reason in why.items() if not reason)
    return TicketDetail(
        t.number, t.version, t.item_code, t.item_name, t.window_code, t.kind, t.state, t.is_open,
        t.applicant_type, t.applicant_name,
        mask_id_for_clerk(t.applicant_id_no) if t.applicant_type == "person" else t.applicant_id_no,
        t.applicant_sex, t.applicant_birth, t.applicant_phone, t.applicant_address, t.agent,
        tuple(MaterialLine(m["name"], m.get("form", ""), int(m.get("count", 1) or 1), m["status"])
              for m in t.materials),
        t.note, t.received_at, t.accepted_on, t.due_date, t.due_provisional, days_left,
        tickets.owner_name(session, t), t.result, t.refusal_reason, t.void_reason,
        tuple(tickets.history(session, t)), tuple(intake.item_for_ticket(session, t).departments), actions,
        t.uid, tuple((name, reason) for name, reason in why.items() if reason),
        rules.open_stop(t, "pause") is not None, _latest_rating(session, t.uid),
        frozen, len(states),
    )


def _latest_rating(session: Session, uid: str) -> str:
    from hall.models.workflow import RATING_LEVELS, Rating

    level = session.scalar(select(Rating.level).where(Rating.ticket_uid == uid, Rating.level.is_not(None))
                           .order_by(Rating.rated_at.desc(), Rating.id.desc()).limit(1))
    return RATING_LEVELS.get(level, "") if level is not None else ""


def reveal_id(session: Session, actor: Actor, number: str) -> str:
    """The full ID number for the clerk's eyes, logged as a ledger event (who looked, when)."""
    if actor.role not in ("clerk", "village", "manager", "admin"):
        raise PermissionDenied("当前身份不能查看完整证件号码")
    t = tickets.get(session, number)
    tickets.refuse_if_frozen(session, t.uid)
    # Only who may act on this ticket sees its applicant's full number (another window's clerk has no need).
    rules.permit(session, actor, t, "查看完整证件号码", date.today())
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
    """The tickets counted in one figure of :mod:`hall.services.reporting.stats` for the days ``start``..``end`` (the
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
