"""The throwaway PostgreSQL server really runs: connect, create a table, insert, read back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

# Also registered by tests/conftest.py; repeated here so this module works on its own.
pytest_plugins = ["pgserver", "pytester"]


def test_pg_url_accepts_ddl_and_rows(pg_url: str, request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("pg") is not None
    assert pg_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    assert pg_url.endswith("/hall_test")
    engine = sa.create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE probe (id serial PRIMARY KEY, name text NOT NULL)"))
            conn.execute(sa.text("INSERT INTO probe (name) VALUES (:n)"), [{"n": "便民服务中心"}, {"n": "x"}])
        with engine.connect() as conn:
            names = conn.execute(sa.text("SELECT name FROM probe ORDER BY id")).scalars().all()
            server_encoding = conn.execute(sa.text("SHOW server_encoding")).scalar_one()
            version = conn.execute(sa.text("SHOW server_version_num")).scalar_one()
        assert names == ["便民服务中心", "x"]
        assert server_encoding == "UTF8"
        assert int(version) >= 130000  # DROP DATABASE … WITH (FORCE) needs 13+
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE probe"))
    finally:
        engine.dispose()


def _tables(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_pg_empty_url_is_fresh_for_each_test_first(pg_empty_url: str, pg_url: str) -> None:
    assert pg_empty_url != pg_url
    assert _tables(pg_empty_url) == []
    engine = sa.create_engine(pg_empty_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE leftover (id int)"))
    finally:
        engine.dispose()
    assert _tables(pg_empty_url) == ["leftover"]


def test_pg_empty_url_is_fresh_for_each_test_second(pg_empty_url: str) -> None:
    # The table the previous test created lived in a database that has been dropped.
    assert _tables(pg_empty_url) == []


def test_undisposed_connection_does_not_block_drop(pg_empty_url: str) -> None:
    # A test that forgets to close its connection must not make pg_empty_url's teardown fail.
    engine = sa.create_engine(pg_empty_url)
    conn = engine.connect()
    conn.execute(sa.text("SELECT 1"))
    conn.detach()
    conn.close()


def test_tests_without_pg_fixtures_are_not_marked(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("pg") is None


_PROBE = """
def test_needs_pg(pg_url):
    pass
"""


@pytest.mark.parametrize(("ci", "outcome"), [("", "skipped"), ("true", "errors")])
def test_missing_binaries_skip_locally_and_fail_under_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str, outcome: str
) -> None:
    monkeypatch.setenv("HALL_PG_BINDIR", str(pytester.path / "no-postgresql-here"))
    monkeypatch.setenv("CI", ci)
    pytester.makepyfile(test_probe=_PROBE)
    result = pytester.runpytest("-p", "pgserver", "-rsE", "-p", "no:cacheprovider")
    result.assert_outcomes(**{outcome: 1})
    result.stdout.fnmatch_lines(["*initdb/pg_ctl not found*"])
