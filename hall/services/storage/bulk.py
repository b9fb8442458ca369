"""``conn.execute(statement, rows)`` for many rows, without SQLAlchemy's per-row parameter set-up on SQLite.

An executemany through SQLAlchemy builds a parameter dict per row (defaults, bound literals, escaping) and then a
tuple of processed values: ~10 µs a row in Python, more than SQLite's own work for a small row. A sync import writes
tens of thousands of rows (events, tickets, applicants, closes), so there the same statement is compiled once and
each row becomes its tuple directly — through the very bind processors SQLAlchemy would apply (JSON, booleans),
in the order of the compiled statement; a date or a naive datetime is written by ``isoformat``, which gives the
same text as SQLAlchemy's default SQLite formats (checked when the statement is planned). The values reaching
SQLite are exactly those of ``conn.execute``. Anything this does not reproduce (Python-side column defaults,
RETURNING, a dialect with named parameters such as PostgreSQL's) goes through ``conn.execute`` itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from itertools import repeat
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from operator import itemgetter
from typing import Any
from weakref import WeakKeyDictionary, WeakSet

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

# One value of a row: (column key, processor) from the row, or (None, constant) for a value bound in the statement.
_Plan = tuple[str, tuple[tuple[str | None, Any, Callable[[Any], Any] | None], ...]]
# Per dialect (each engine's: its processors, its JSON serializer), per statement and row keys. The statement is
# kept alive with its plan, so its id is never reused; a disposed engine's dialect takes its plans with it.
_PLANS: WeakKeyDictionary[Dialect, dict[tuple[int, tuple[str, ...]], tuple[ClauseElement, _Plan | None]]] = (
    WeakKeyDictionary())


def executemany(conn: Connection, statement: ClauseElement, rows: Sequence[Mapping[str, Any]]) -> int:
    """Execute ``statement`` once per row of ``rows`` (every row with the keys of the first, as SQLAlchemy requires);
    return the number of rows the database reports changed."""
    if not rows:
        return 0
    plan = _plan(conn, statement, tuple(rows[0]))
    if plan is None:
        return conn.execute(statement, list(rows)).rowcount  # type: ignore[call-overload, no-any-return]
    sql, values = plan
    # Column by column (the loops in C: itemgetter, map, zip), then back to one tuple per row.
    n = len(rows)
    columns = []
    for key, const, proc in values:
        if key is None:
            columns.append(repeat(const, n))
        else:
            column = map(itemgetter(key), rows)
            if proc is not None:
                # A flag or a day: each distinct value converted once (a run of events shares a few hundred
                # days), the rest found in C.
                column = map(_Memo(proc).__getitem__ if proc in _PURE else proc, column)
            columns.append(column)
    return conn.exec_driver_sql(sql, list(zip(*columns, strict=True))).rowcount  # type: ignore[arg-type]


def execute_columns(conn: Connection, statement: ClauseElement, columns: Mapping[str, Sequence[Any]], *,
                    stored: Mapping[str, Sequence[Any]] | None = None) -> int:
    """:func:`executemany` of the rows whose values for each key are ``columns[key]`` (all of one length), row i
    made of every column's i-th value: for a set-based projector that builds its rows column by column, each
    column by a loop in C, rather than a dict per row. The same values reach the database.

    ``stored``: for some of the columns, the same values as this database writes them (their bind processing
    done), which a caller holding them in that form already vouches for (a sync import: the moments' stored text,
    from the bundle's canonical text) — written instead of processing the column where this module writes the
    values itself (SQLite) and a sample agrees; otherwise, and elsewhere, the columns go as given."""
    keys = tuple(columns)
    lengths = {len(c) for c in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    if not n:
        return 0
    plan = _plan(conn, statement, keys)
    if plan is None:
        return executemany(conn, statement, [dict(zip(keys, values, strict=True))
                                             for values in zip(*columns.values(), strict=True)])
    sql, values = plan
    out = []
    for key, const, proc in values:
        if key is None:
            out.append(repeat(const, n))
        else:
            column: Any = columns[key]
            if stored is not None and key in stored and _agrees(proc, column, stored[key]):
                column = stored[key]
            elif proc is not None:
                column = map(_Memo(proc).__getitem__ if proc in _PURE else proc, column)
            out.append(column)
    return conn.exec_driver_sql(sql, list(zip(*out, strict=True))).rowcount  # type: ignore[arg-type]


def _agrees(proc: Callable[[Any], Any] | None, given: Sequence[Any], stored: Sequence[Any]) -> bool:
    """Whether ``stored`` may stand for ``given`` processed: as long, and a sample (first, last) what the bind
    processing writes — what the caller vouches for the rest. Otherwise the column is processed as always."""
    if len(stored) != len(given):
        raise ValueError(f"a stored column of {len(stored)} values for {len(given)}")
    if proc is None:
        return list(given[:1]) == list(stored[:1]) and list(given[-1:]) == list(stored[-1:])
    return (proc(given[0]), proc(given[-1])) == (stored[0], stored[-1])


class _Memo(dict[Any, Any]):
    """``proc``'s result per distinct value, for one executemany: kept only for values whose result their equality
    decides — True, False, None, a ``date``, a naive ``datetime`` (an aware one equals another at the same instant
    in another zone, which SQLite's processor writes differently: it is converted each time)."""

    __slots__ = ("proc",)

    def __init__(self, proc: Callable[[Any], Any]) -> None:
        super().__init__()
        self.proc = proc

    def __missing__(self, value: Any) -> Any:
        out = self.proc(value)
        cls = value.__class__
        if value is None or cls is bool or cls is date or (cls is datetime and value.tzinfo is None):
            self[value] = out
        return out


def _plan(conn: Connection, statement: ClauseElement, keys: tuple[str, ...]) -> _Plan | None:
    plans = _PLANS.get(conn.dialect)
    if plans is None:
        plans = _PLANS[conn.dialect] = {}
    cached = plans.get((id(statement), keys))
    if cached is not None and cached[0] is statement:
        return cached[1]
    plan = _build(conn, statement, keys)
    plans[(id(statement), keys)] = (statement, plan)
    return plan


def _build(conn: Connection, statement: ClauseElement, keys: tuple[str, ...]) -> _Plan | None:
    dialect = conn.dialect
    if dialect.name != "sqlite" or dialect.paramstyle != "qmark":
        return None
    compiled: Any = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
    if (not compiled.positional or compiled.insert_prefetch or compiled.update_prefetch
            or compiled.effective_returning or compiled.literal_execute_params or compiled.post_compile_params):
        return None
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    given = set(keys)
    values = []
    for name in compiled.positiontup:
        bind = by_name[name]
        proc = _faster(bind.type, bind.type.dialect_impl(dialect).bind_processor(dialect))
        if name in given:
            values.append((name, None, proc))
        elif bind.required or bind.callable is not None:
            return None  # a value missing from the rows (SQLAlchemy says which), or one computed per execution
        else:
            value = bind.value
            values.append((None, proc(value) if proc is not None else value, None))
    return compiled.string, tuple(values)


_PROBE_AT = datetime(2001, 2, 3, 4, 5, 6, 7)
# The processors built here whose result for True, False, None or a date depends on the value alone (_Memo).
# (A plan holds its processors for the life of its dialect; these few stay with them.)
_PURE: WeakSet[Callable[[Any], Any]] = WeakSet()


def _faster(type_: Any, proc: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """SQLite's processor of a date or a naive datetime, when it writes what ``isoformat`` does (SQLAlchemy's
    default storage formats, checked on a probe value): the same text, without a dict and a %-format per value.
    Anything else (another format, a time zone, a value of another class) goes to SQLAlchemy's own."""
    if proc is None:
        return None
    if isinstance(type_, sa.DateTime) and proc(_PROBE_AT) == _PROBE_AT.isoformat(" ", "microseconds"):
        def at(value: Any, slow: Callable[[Any], Any] = proc) -> Any:
            if value.__class__ is datetime and value.tzinfo is None:
                return value.isoformat(" ", "microseconds")
            return slow(value)
        return at  # (not memoised: moments are mostly distinct, and a miss costs more than the conversion)
    if isinstance(type_, sa.Date) and proc(_PROBE_AT.date()) == _PROBE_AT.date().isoformat():
        def day(value: Any, slow: Callable[[Any], Any] = proc) -> Any:
            return value.isoformat() if value.__class__ is date else slow(value)
        _PURE.add(day)
        return day
    if isinstance(type_, sa.Boolean) and (proc(True), proc(False), proc(None)) == (1, 0, None):
        flag = _flag_writer(proc)
        _PURE.add(flag)
        return flag
    if isinstance(type_, sa.JSON) and all(proc(v) == json.dumps(v) for v in _PROBE_JSON):
        return _json_writer(proc)
    return proc


def _flag_writer(slow: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A boolean column's processor when it writes 1, 0 and NULL (SQLite: no native booleans): the same for True,
    False and None from a table; anything else (1, 0.0, a string …) through SQLAlchemy's own, which converts or
    refuses it as always."""
    def flag(value: Any) -> Any:
        if value is True:
            return 1
        if value is False:
            return 0
        if value is None:
            return None
        return slow(value)
    return flag


# Values that tell json.dumps' default text apart from any other serializer's (separators, ASCII escapes, order).
_PROBE_JSON: tuple[Any, ...] = (None, [], {}, [{"b": 1, "a": "中\n\"", "c": [1.5, True, None]}])


def _json_writer(slow: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A JSON column's processor when it writes ``json.dumps(value)`` (SQLAlchemy's default serializer, checked on
    probe values): the same text for a list or a dict from the encoder json.dumps builds per call, built once
    here; None and anything else through SQLAlchemy's own. (Its markers dict, which detects a cycle, is empty
    between calls; after a failure it is cleared and SQLAlchemy's processor raises the error json.dumps raises.)"""
    markers: dict[int, Any] = {}
    d = json.JSONEncoder()
    encode = c_make_encoder(markers, d.default, encode_basestring_ascii, d.indent, d.key_separator,  # type: ignore[misc]
                            d.item_separator, d.sort_keys, d.skipkeys, d.allow_nan) if c_make_encoder else None
    if encode is None:
        return slow

    none = slow(None)  # SQLAlchemy's text (or NULL) for None: the same for every row

    def write(value: Any) -> Any:
        if value is None:
            return none
        if value.__class__ is list or value.__class__ is dict:
            if not value:  # (a new ticket's clock: thousands per import; json.dumps' text of both is probed above)
                return "[]" if value.__class__ is list else "{}"
            try:
                return "".join(encode(value, 0))
            except Exception:
                markers.clear()
        return slow(value)
    return write
