"""Test set-up shared by every test: Qt offscreen, standard directories redirected, real databases.

Building a hall (migrations, catalogue, calendar, argon2-hashed staff) costs seconds, so it is built once per
session as a template — a SQLite file and a PostgreSQL template database — and copied for every test.
"""

from __future__ import annotations

import os

# Before anything imports Qt: tests never open a real window.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Data keys (encryption at rest) go to one folder of the run's own, never the user's: one for the whole session,
# because module-scoped fixtures (the sync world) make encrypted laptops that later tests reopen.
import tempfile

os.environ.setdefault("HALL_KEY_DIR", tempfile.mkdtemp(prefix="hall-test-keys-"))

import shutil
import uuid
from pathlib import Path

import pytest

pytest_plugins = ["pgserver"]

from hall_fixtures import PASSWORDS, actors_of  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own HALL_HOME so nothing touches the user's real data directory."""
    home = tmp_path_factory.mktemp("hall-home")
    monkeypatch.setenv("HALL_HOME", str(home))
    monkeypatch.setenv("HALL_SETTINGS", str(home / "settings.ini"))  # saved connections: never the user's own
    monkeypatch.delenv("HALL_DB", raising=False)
    return home


def _open(data_dir: Path, url: str | None):
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall

    return open_hall(Paths.resolve(data_dir), url)


def _add_people(opened) -> None:
    """An administrator, two clerks at different windows (c03's B-post is c02), a manager, a village staff."""
    from hall.services.people import staff

    with opened.db.transaction() as s:
        staff.create_first_admin(s, opened.system, PASSWORDS["admin"])
        staff.add_intake_point(s, opened.system, "001", "东村代办点")
        staff.add_staff(s, opened.system, staff.StaffForm("c02", "王民政", "clerk", "民政窗口", "W02",
                                                          password=PASSWORDS["c02"]))
        staff.add_staff(s, opened.system, staff.StaffForm("c03", "李社保", "clerk", "社保窗口", "W03",
                                                          password=PASSWORDS["c03"], b_post_no="c02"))
        staff.add_staff(s, opened.system, staff.StaffForm("m01", "赵主任", "manager", "中心主任",
                                                          password=PASSWORDS["m01"]))
        staff.add_staff(s, opened.system, staff.StaffForm("v01", "孙代办", "village", "代办员",
                                                          intake_point="001", password=PASSWORDS["v01"]))


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("template") / "data"
    opened = _open(data, None)
    _add_people(opened)
    opened.db.dispose()
    return data


@pytest.fixture(scope="session")
def _pg_template(request, tmp_path_factory) -> tuple[str, Path]:
    from pgserver import _admin_execute

    server = request.getfixturevalue("pg_server")
    _admin_execute(server, "CREATE DATABASE hall_template TEMPLATE template0 ENCODING 'UTF8'")
    data = tmp_path_factory.mktemp("pg-template") / "data"
    opened = _open(data, server.url("hall_template"))
    _add_people(opened)
    opened.db.dispose()
    return "hall_template", data


def _check_ledger(opened, request) -> None:
    """With HALL_LEDGER_CHECK=1, every test's hall must still equal a replay of its ledger when the test ends
    (tests that edit the file behind the program's back are marked ``ledger_edited``)."""
    if os.environ.get("HALL_LEDGER_CHECK") != "1" or request.node.get_closest_marker("ledger_edited"):
        return
    from hall.services import ledger_check

    report = ledger_check.check(opened.db, limit=10)
    if not report.ok:
        lines = [report.replay_error] if report.replay_error else [
            ledger_check.describe(d) for d in report.comparison.differences]
        pytest.fail("ledger check after the test:\n" + "\n".join(lines), pytrace=False)


@pytest.fixture
def fresh_hall(tmp_path):
    """A hall exactly as the first start leaves it: seeded, no administrator yet."""
    opened = _open(tmp_path / "data", None)
    yield opened
    opened.db.dispose()


@pytest.fixture
def hall_sqlite(request, tmp_path, _sqlite_template):
    """A seeded hall with staff (see ``people``) on a real SQLite file of this test's own."""
    data = tmp_path / "data"
    shutil.copytree(_sqlite_template, data)
    opened = _open(data, None)
    yield opened
    _check_ledger(opened, request)
    opened.db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def hall_db(request, tmp_path):
    """The same seeded hall on SQLite and on the real PostgreSQL server: nothing SQLite-only creeps in."""
    if request.param == "sqlite":
        yield request.getfixturevalue("hall_sqlite")
        return
    from pgserver import _admin_execute

    server = request.getfixturevalue("pg_server")
    template, template_data = request.getfixturevalue("_pg_template")
    name = f"hall_t_{uuid.uuid4().hex[:12]}"
    _admin_execute(server, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    data = tmp_path / "data"
    shutil.copytree(template_data, data)
    opened = _open(data, server.url(name))
    try:
        yield opened
        _check_ledger(opened, request)
    finally:
        opened.db.dispose()
        _admin_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def people(hall_db):
    """Actors for the template's staff, keyed by staff number (village v01 on its own laptop node)."""
    return actors_of(hall_db)
