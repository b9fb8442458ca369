"""What a clerk types into a ticket search box, read as exactly one bounded index lookup.

A ticket number is ``{township 9}-{intake point 3}-{YYYYMMDD}-{serial 4}`` (27 characters). Clerks type it
whole (a keyboard-wedge scanner sends it in a burst), or only the part they can read off a receipt, or a
citizen's ID number or its tail, a name or its pinyin initials. Every form below is an index lookup whose
size is bounded by what it names — one ticket, one person's tickets, one day's tickets — or, for a prefix, an
index *range* that a page walks in index order at most :data:`SEARCH_WINDOW` entries at a time. No form can make a
query walk the whole ticket table, and text that is too short to mean anything yet looks nothing up.

=============================  ==========================================  ===============================
typed (after NFKC: full-width  read as                                      lookup
digits and dashes count)
=============================  ==========================================  ===============================
``320581101-000-20251231-0003``  that ticket                                unique index on ``number``
``320581101-000-2025…`` (≥14)  numbers starting so (township and point      range of the ``number`` index
                               typed, so the range is one point's)
``320581101-0`` (< 14, dashed) not yet a number: keep typing                nothing
``20251231-0003``              that day's ticket 0003 at any intake point   one ``number`` per point
``20251231`` / ``20251231-00`` that day's tickets (serial starting so)      one ``number`` range per point
``0003`` (4 digits)            today's ticket 0003 at any point, an ID      one ``number`` per point,
                               number ending in 0003 (a citizen's "后四位"), ``ix_tickets_id_tail`` and
                               or a phone ending in 0003 (手机尾号)          ``ix_tickets_phone_tail``
``123X`` / ``03123X``          an ID number ending so (后四位 / 后六位)        ``ix_tickets_id_tail``
15 or 18 characters            the ID number (or an organisation's code)    ``applicant_id_no`` index
other ≥ 7 ID characters        ID numbers starting so (typing one by hand)  range of ``applicant_id_no``
1–3 or 5 digits                not yet anything: keep typing                nothing
letters only                   pinyin initials starting so                  range of ``applicant_initials``
anything else                  a name starting so                           range of ``applicant_name``
=============================  ==========================================  ===============================

The intake points come from the ``number`` index itself (a loose index scan: one seek per point), so tickets
numbered on a village laptop and synced in are found like the hall's own. The ID tail index holds characters
15–18 of the ID, the last four of an 18-character ID number or credit code (a 15-digit old ID is found by the
whole number). The phone tail index holds a phone's last four characters (digits, for every phone the intake
form accepts), mobile or landline.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Literal

from sqlalchemy import ColumnElement, FromClause, and_, false, func, literal_column, or_, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Join
from sqlalchemy.sql.sqltypes import NullType

from hall.models import Ticket
from hall.models.ticket import ID_TAIL, PHONE_TAIL
from hall.services.base.validators import search_text
from hall.services.tickets.numbering import NUMBER_RE

SearchKind = Literal["none", "short", "number", "number_prefix", "number_tail", "number_day", "serial", "id",
                     "id_tail", "id_prefix", "initials", "name"]
RANGE_KINDS = frozenset({"number_prefix", "id_prefix", "initials", "name"})
NUMBER_PREFIX_MIN = 14  # "{township}-{point}-": shorter dashed text would match the whole township
SEARCH_WINDOW = 2000  # index entries of a prefix range one page or count looks at, at most
TOP = "\U0010ffff"  # above every character: the end of a prefix range
SEARCH_MAX = 60  # characters of a search text looked at (a ticket number has 27, an ID number 18)
MAX_POINTS = 500  # intake points the loose index scan follows (a township has a dozen)

_NUMBER_SHAPE = re.compile(r"^\d{9}-\d{3}-\d{0,8}(-\d*)?$")
_NUMBER_START = re.compile(r"^\d{1,9}(-\d{0,3})?$")
_TAIL = re.compile(r"^(\d{8})-(\d*)$")
_ID_TAIL4 = re.compile(r"^\d{3}X$")
_ID_TAIL6 = re.compile(r"^\d{5}[\dX]$")
_ID_CHARS = re.compile(r"^[0-9A-Z]+$")


@dataclass(frozen=True)
class SearchText:
    """One reading of a search text: its kind and the normalised value the lookup uses."""

    kind: SearchKind
    value: str = ""
    day: str = ""  # YYYYMMDD of number_tail / number_day
    serial: str = ""  # the serial (or its start) of number_tail / number_day

    @property
    def ranged(self) -> bool:
        """A prefix range (walked in index order, a window at a time) rather than a bounded set."""
        return self.kind in RANGE_KINDS

    @property
    def looks_up(self) -> bool:
        return self.kind not in ("none", "short")


def _day(digits: str) -> str | None:
    """``digits`` (YYYYMMDD) when it is a real date this century, else None."""
    try:
        d = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None
    return digits if 2000 <= d.year <= 2099 else None


def classify(text: str) -> SearchText:
    """Read ``text`` as one kind of search (see the module's table). Pure: no database, never raises."""
    # Made safe first (a search runs on every keystroke; a control character or a pasted page finds nothing).
    q = unicodedata.normalize("NFKC", search_text(text, SEARCH_MAX)).strip()
    if not q:
        return SearchText("none")
    if q.isascii():
        q = "".join(q.split())  # "3205 8119…" read aloud in groups; a scanner sends no spaces at all
        if NUMBER_RE.match(q):
            return SearchText("number", q)
        if "-" in q:
            if len(q) >= NUMBER_PREFIX_MIN and _NUMBER_SHAPE.match(q):
                return SearchText("number_prefix", q)
            m = _TAIL.match(q)
            if m and _day(m.group(1)):
                serial = m.group(2)
                kind: SearchKind = "number_tail" if len(serial) >= 4 else "number_day"
                return SearchText(kind, q, m.group(1), serial)
            if _NUMBER_START.match(q):
                return SearchText("short", q)
            return SearchText("name", q)  # no such ticket number shape: nothing matches, quickly
        up = q.upper()
        if up.isdigit():
            if len(up) == 4:
                return SearchText("serial", up)
            if len(up) == 8 and _day(up):
                return SearchText("number_day", up, up, "")
        if _ID_TAIL4.match(up) or _ID_TAIL6.match(up):
            return SearchText("id_tail", up)
        if len(up) in (15, 18) and up.isalnum() and up[:6].isdigit():
            return SearchText("id", up)  # ID number, or an organisation's unified credit code
        if q.isalpha():
            return SearchText("initials", q.lower())
        if _ID_CHARS.match(up):
            return SearchText("id_prefix", up) if len(up) >= 7 and up[0].isdigit() else SearchText("short", up)
    return SearchText("name", q)


# ----------------------------------------------------------------------------------------- lookups
def _id_tail6_sql() -> ColumnElement[str]:
    return func.substr(Ticket.applicant_id_no, literal_column("13"), literal_column("6"))


def prefix(col: Any, q: str) -> ColumnElement[bool]:
    # The range lets SQLite walk the index (its LIKE cannot use one with ESCAPE or case folding); the LIKE
    # keeps the meaning exact whatever the collation does with the top code point.
    return and_(col >= q, col < q + TOP, col.startswith(q, autoescape=True))


def number_points(session: Session) -> tuple[str, ...]:
    """Every ``{township}-{point}-`` that starts a ticket number, by a loose scan of the ``number`` index: one
    seek per intake point, however many tickets each has — in one recursive statement, remembered for the rest
    of the session's transaction (:func:`_per_transaction`)."""
    return _per_transaction(session, ("points",), lambda: tuple(session.execute(
        _POINTS_SQL, {"top": TOP, "n": NUMBER_PREFIX_MIN, "cap": MAX_POINTS}).scalars()))


_MEMO_KEY = "hall.search"


def _per_transaction(session: Session, key: tuple[Any, ...], build: Any) -> Any:
    """``build()``, remembered for the rest of the session's transaction (a search's page and its counts both ask;
    what it reads changes only by a write, and a write ends the transaction)."""
    txn = session.get_transaction()
    memo = session.info.get(_MEMO_KEY)
    if txn is None:
        return build()
    if memo is None or memo[0] is not txn:
        memo = session.info[_MEMO_KEY] = (txn, {})
    found = memo[1]
    if key not in found:
        found[key] = build()
    return found[key]
# Each step seeks the first number above the previous point's range (min() over an index range is one seek in
# SQLite and PostgreSQL alike); the recursion stops when there is none.
_POINTS_SQL = text(
    "WITH RECURSIVE points(head) AS ("
    " SELECT substr(min(number), 1, :n) FROM tickets WHERE number > ''"
    " UNION ALL"
    " SELECT (SELECT substr(min(t.number), 1, :n) FROM tickets t WHERE t.number > points.head || :top)"
    " FROM points WHERE points.head IS NOT NULL)"
    " SELECT head FROM points WHERE head IS NOT NULL LIMIT :cap")


@dataclass(frozen=True)
class Lookup:
    """A search as SQL: the condition, and for a prefix range the indexed column its pages walk in order."""

    search: SearchText
    condition: ColumnElement[bool]
    order: Any | None = None  # None: a bounded set (one ticket / person / day), sorted as the list asks


def lookup(session: Session, text: str, today: date) -> Lookup | None:
    """The lookup for ``text`` (None: no text). ``today`` gives a bare serial its day. Built once per transaction
    (a search's page and its counts both ask for it)."""
    return _per_transaction(session, ("lookup", text, today), lambda: _lookup(session, text, today))


def _lookup(session: Session, text: str, today: date) -> Lookup | None:
    s = classify(text)
    if s.kind == "none":
        return None
    if s.kind == "short":
        return Lookup(s, false())
    if s.kind == "number":
        return Lookup(s, Ticket.number == s.value)
    if s.kind == "number_prefix":
        return Lookup(s, prefix(Ticket.number, s.value), Ticket.number)
    if s.kind in ("number_tail", "number_day", "serial"):
        points = number_points(session)
        if s.kind == "number_tail":
            cond: ColumnElement[bool] = Ticket.number.in_([p + s.value for p in points]) if points else false()
        elif s.kind == "number_day":
            tail = f"{s.day}-{s.serial}"
            cond = or_(*(prefix(Ticket.number, p + tail) for p in points)) if points else false()
        else:
            today_numbers = [f"{p}{today:%Y%m%d}-{s.value}" for p in points]
            tails = or_(s.value == ID_TAIL, s.value == PHONE_TAIL)  # 后四位 of the ID number, 尾号 of the phone
            cond = or_(Ticket.number.in_(today_numbers), tails) if points else tails
        return Lookup(s, cond)
    if s.kind == "id_tail":
        if len(s.value) == 4:
            return Lookup(s, s.value == ID_TAIL)
        return Lookup(s, and_(s.value[2:] == ID_TAIL, _id_tail6_sql() == s.value))
    if s.kind == "id":
        return Lookup(s, Ticket.applicant_id_no == s.value)
    if s.kind == "id_prefix":
        return Lookup(s, prefix(Ticket.applicant_id_no, s.value), Ticket.applicant_id_no)
    if s.kind == "initials":
        return Lookup(s, prefix(Ticket.applicant_initials, s.value), Ticket.applicant_initials)
    return Lookup(s, prefix(Ticket.applicant_name, s.value), Ticket.applicant_name)


# ----------------------------------------------------------------------------------- the driving join
class DrivingJoin(Join):
    """``left JOIN right ON …`` where ``left`` — the few tickets a lookup found — must be the outer loop.

    Without statistics (a hall's ledger is never ANALYZEd) SQLite's planner believes ``window_code = ?`` narrows
    a million tickets to ten and would walk that index, testing each ticket against the lookup: a scan of the
    whole window. ``CROSS JOIN`` is SQLite's documented way to fix the join order; PostgreSQL plans a LIMIT
    subquery on its own and gets a plain JOIN.
    """

    inherit_cache = True


@compiles(DrivingJoin, "sqlite")
def _cross_join(join: DrivingJoin, compiler: Any, **kw: Any) -> str:
    kw.pop("asfrom", None)
    return (join.left._compiler_dispatch(compiler, asfrom=True, **kw) + " CROSS JOIN "
            + join.right._compiler_dispatch(compiler, asfrom=True, **kw) + " ON "
            + join.onclause._compiler_dispatch(compiler, **kw))


def driving_join(found: FromClause) -> DrivingJoin:
    """``found`` (a subquery with an ``id`` column ``i``) joined to the tickets it names, ``found`` outermost."""
    return DrivingJoin(found, Ticket.__table__, Ticket.id == found.c.i)


class OpenKeyed(ColumnElement[Any]):
    """``tickets.is_open`` is true, written as the partial indexes over open tickets have it (hall/models/ticket.py:
    ``+is_open IS 1`` on SQLite, ``is_open IS true`` on PostgreSQL), so a search's open figures read them."""

    inherit_cache = True
    # Nothing varies: the class alone is its cache key (without this SQLAlchemy caches no statement holding it and
    # compiles each afresh, a millisecond apiece).
    _traverse_internals: ClassVar[list[Any]] = []
    # Not Boolean: SQLAlchemy would write a Boolean element in a WHERE as "… = 1" on SQLite, and the predicate
    # must read exactly as the index's.
    type = NullType()


@compiles(OpenKeyed, "sqlite")
def _open_keyed_sqlite(_e: OpenKeyed, compiler: Any, **kw: Any) -> str:
    return "+" + compiler.process(Ticket.__table__.c.is_open, **kw) + " IS 1"


@compiles(OpenKeyed)
def _open_keyed(_e: OpenKeyed, compiler: Any, **kw: Any) -> str:
    return compiler.process(Ticket.__table__.c.is_open, **kw) + " IS true"
