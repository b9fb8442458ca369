"""bulk.executemany writes exactly what conn.execute(statement, rows) writes, on real SQLite files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hall.services.storage import at_rest, bulk
from hall.services.storage.db import upsert_insert

META = sa.MetaData()
T = sa.Table(
    "things", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("uid", sa.String(20), unique=True),
    sa.Column("at", sa.DateTime),
    sa.Column("day", sa.Date, nullable=True),
    sa.Column("data", sa.JSON, nullable=True),
    sa.Column("flag", sa.Boolean),
    sa.Column("n", sa.Integer, nullable=True),
    sa.Column("note", sa.Text, default=""),  # a Python-side default: bulk leaves a row without it to SQLAlchemy
)
INSERT = sa.insert(T)
UPDATE = (sa.update(T).where(T.c.uid == sa.bindparam("key")).values(flag=False, n=T.c.n + 1,
                                                                    at=sa.bindparam("new_at")))
_ins = upsert_insert("sqlite")(T)
UPSERT = _ins.on_conflict_do_update(index_elements=[T.c.uid], set_={
    "note": sa.case((_ins.excluded.at > T.c.at, _ins.excluded.note), else_=T.c.note), "data": _ins.excluded.data})

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=6),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                                        max_size=3), max_leaves=6)
rows_st = st.lists(st.fixed_dictionaries({
    "uid": st.text("abcdef0123456789", min_size=1, max_size=8),
    "at": st.datetimes() | st.datetimes(timezones=st.timezones()) | st.dates(),  # SQLAlchemy's own for the last two
    "day": st.none() | st.dates(), "data": json_values, "flag": st.booleans(),
    "n": st.none() | st.integers(-2**40, 2**40), "note": st.text(max_size=10)}),
    min_size=1, max_size=12, unique_by=lambda r: r["uid"])


def _engine(path: Path) -> sa.Engine:
    engine = sa.create_engine("sqlite://", creator=lambda: at_rest.connect(path))
    META.create_all(engine)
    return engine


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> tuple[sa.Engine, sa.Engine]:
    root = tmp_path_factory.mktemp("bulk")
    return _engine(root / "library.sqlite3"), _engine(root / "bulk.sqlite3")


def _stored(conn: sa.Connection) -> list[tuple]:
    return conn.exec_driver_sql("SELECT * FROM things ORDER BY id").fetchall()  # the raw values SQLite holds


def _both(engines, steps, *, columns: bool = False) -> None:
    """Run ``steps`` (statement, rows) through conn.execute on one file and bulk.executemany on the other (or
    ``columns``: bulk.execute_columns of the same rows, column by column)."""
    library, ours = engines
    with library.begin() as a, ours.begin() as b:
        a.exec_driver_sql("DELETE FROM things")
        b.exec_driver_sql("DELETE FROM things")
        for statement, rows in steps:
            if columns:
                written = bulk.execute_columns(b, statement, {k: [r[k] for r in rows] for k in rows[0]})
            else:
                written = bulk.executemany(b, statement, rows)
            assert written == a.execute(statement, rows).rowcount
            assert _stored(b) == _stored(a)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows_st, st.data())
def test_insert_update_and_upsert_store_the_same_values(engines, rows, data):
    later = [{**r, "at": data.draw(st.datetimes()), "note": "新" + r["note"]} for r in rows]
    moved = [{"key": r["uid"], "new_at": r["at"]} for r in data.draw(st.permutations(later))]
    _both(engines, [(INSERT, rows), (UPSERT, later), (UPDATE, moved)])
    _both(engines, [(INSERT, rows), (UPSERT, later), (UPDATE, moved)], columns=True)


def test_columns_of_different_lengths_are_refused_before_anything_is_written(engines):
    with engines[1].begin() as conn:
        conn.exec_driver_sql("DELETE FROM things")
        with pytest.raises(ValueError, match="different lengths"):
            bulk.execute_columns(conn, INSERT, {"uid": ["a", "b"], "at": [datetime(2026, 1, 1)], "day": [None],
                                                "data": [None], "flag": [True], "n": [1], "note": [""]})
        assert _stored(conn) == []
        assert bulk.execute_columns(conn, INSERT, {"uid": []}) == 0


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows_st)
def test_rows_without_a_defaulted_column_go_through_sqlalchemy(engines, rows):
    short = [{k: v for k, v in r.items() if k != "note"} for r in rows]
    _both(engines, [(INSERT, short)])
    _both(engines, [(INSERT, short)], columns=True)
    with engines[1].connect() as conn:
        assert bulk._plan(conn, INSERT, tuple(short[0])) is None  # the default is SQLAlchemy's to apply
        assert bulk._plan(conn, INSERT, tuple(rows[0])) is not None


def test_an_update_that_misses_reports_it(engines):
    with engines[1].begin() as conn:
        conn.exec_driver_sql("DELETE FROM things")
        assert bulk.executemany(conn, UPDATE, [{"key": "none", "new_at": datetime(2026, 1, 1)}]) == 0
        assert bulk.executemany(conn, UPDATE, []) == 0


def test_a_row_missing_a_key_is_refused_before_anything_is_written(engines):
    with engines[1].begin() as conn:
        conn.exec_driver_sql("DELETE FROM things")
        good = {"uid": "a", "at": datetime(2026, 1, 1), "day": None, "data": [], "flag": True, "n": 1, "note": ""}
        with pytest.raises(KeyError):
            bulk.executemany(conn, INSERT, [good, {k: v for k, v in good.items() if k != "flag"} | {"uid": "b"}])
        assert _stored(conn) == []


def test_a_json_value_json_dumps_refuses_fails_as_through_sqlalchemy_and_the_next_is_written(engines):
    """The once-built JSON encoder: a value it cannot write (a cycle, an object) raises what SQLAlchemy's own
    processor raises (conn.execute wraps it in a StatementError; bulk, which calls the processors itself, does
    not), and leaves nothing behind that would refuse the next, valid value."""
    looped: list = []
    looped.append(looped)
    good = {"uid": "a", "at": datetime(2026, 1, 1), "day": None, "data": [{"名": "张三"}], "flag": True, "n": 1,
            "note": ""}
    for bad, error in (([{"x": looped}], "Circular reference"), ({"k": object()}, "not JSON serializable")):
        with engines[1].begin() as conn, pytest.raises(Exception) as ours:
            bulk.executemany(conn, INSERT, [{**good, "data": bad}])
        with engines[0].begin() as conn, pytest.raises(Exception) as theirs:
            conn.execute(INSERT, [{**good, "data": bad}])
        assert error in str(ours.value) and type(ours.value) is type(theirs.value.orig)  # type: ignore[attr-defined]
    # The very list that failed, made writable: nothing of the failure may still mark it as being written.
    fixed = [object()]
    with engines[1].begin() as conn, pytest.raises(TypeError):
        bulk.executemany(conn, INSERT, [{**good, "data": {"k": fixed}}])
    fixed[:] = [1, None, "中"]
    _both(engines, [(INSERT, [good, {**good, "uid": "b", "data": {"a": fixed}}])])


def test_equal_values_are_converted_once_but_never_across_what_sqlite_writes_differently(engines):
    """bulk converts each distinct flag, day and naive moment once per call: equal values that SQLite's processor
    writes differently — the same instant in two time zones, True beside 1 — still get their own text."""
    from datetime import UTC, date, timedelta, timezone

    east, utc = timezone(timedelta(hours=8)), UTC
    base = {"day": None, "data": None, "n": 1, "note": ""}
    rows = [
        {**base, "uid": "a", "at": datetime(2026, 3, 2, 9, tzinfo=east), "flag": True, "day": date(2026, 3, 2)},
        {**base, "uid": "b", "at": datetime(2026, 3, 2, 1, tzinfo=utc), "flag": 1, "day": date(2026, 3, 2)},
        {**base, "uid": "c", "at": datetime(2026, 3, 2, 9), "flag": False, "day": None},
        {**base, "uid": "d", "at": datetime(2026, 3, 2, 9), "flag": 0, "day": date(2026, 3, 3)},
        {**base, "uid": "e", "at": date(2026, 3, 2), "flag": None, "day": date(2026, 3, 3)},
    ]
    assert rows[0]["at"] == rows[1]["at"]  # one instant
    _both(engines, [(INSERT, rows)])
    with engines[1].connect() as conn:
        stored = _stored(conn)
    assert stored[0][2] != stored[1][2]  # ... written as each zone's wall time, as SQLAlchemy writes it


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows_st.map(lambda rows: [{**r, "at": datetime(2026, 1, 1, 9, 30, 0, 1) if isinstance(r["at"], datetime)
                                  and r["at"].tzinfo else r["at"]} for r in rows if isinstance(r["at"], datetime)])
       .filter(bool))
def test_a_column_given_as_stored_is_written_as_the_bind_processing_writes_it(engines, rows):
    """execute_columns(stored=…): the values a caller holds in the stored form (a moment's text) written as they
    are — the very values conn.execute writes; a stored form that is not what SQLite's processing gives (sampled)
    is set aside and the column processed as always."""
    library, ours = engines
    columns = {k: [r[k] for r in rows] for k in rows[0]}
    texts = [at.isoformat(" ", "microseconds") for at in columns["at"]]
    with library.begin() as a, ours.begin() as b:
        a.exec_driver_sql("DELETE FROM things")
        b.exec_driver_sql("DELETE FROM things")
        a.execute(INSERT, rows)
        bulk.execute_columns(b, INSERT, columns, stored={"at": texts})
        assert _stored(b) == _stored(a)
        b.exec_driver_sql("DELETE FROM things")
        bulk.execute_columns(b, INSERT, columns, stored={"at": [t.replace(" ", "T") for t in texts]})
        assert _stored(b) == _stored(a)
        with pytest.raises(ValueError, match="stored column"):
            bulk.execute_columns(b, INSERT, columns, stored={"at": texts[1:]})
