"""The ledger written by release 1 (tests/fixtures/release-1, by that release's own command line) upgrades in place,
on SQLite and on PostgreSQL: its old events stay byte for byte and still verify, a rebuild from the events equals
the upgraded projections, and what is written afterwards names staff and items by their stable ids.

The comparison of a rebuild with the live tables is tests/projection_digest.py's stand-in for ``hall-admin ledger
check`` (another branch); the lead switches this test to that command when both are merged.

On PostgreSQL the same ledger is loaded row for row into a database at release 1's schema revision (release 1 ran
on both; the fixture was written on SQLite), then opened by the current code, which upgrades it.
"""

from __future__ import annotations

import importlib.util
import json
import uuid
import warnings
from datetime import datetime, timedelta
from pathlib import Path

import projection_digest as pd
import pytest
import release_1
import sqlalchemy as sa
from sqlalchemy import func, select

import hall
from hall.models import Applicant, CalendarYear, Event, Item, LegacyInitials, LegacyItem, LegacyStaff, Staff
from hall.models.workflow import Attendance
from hall.paths import Paths
from hall.services.bootstrap import open_hall
from hall.services.cases import bposts
from hall.services.people import staff
from hall.services.storage import identity, ledger
from hall.services.tickets import intake

OLD_COLUMNS = ("id", "event_id", "node_id", "seq", "actor_id", "actor_name", "actor_role", "occurred_at", "type",
               "ticket_uid", "payload", "prev_hash", "hash")
# Payload keys by which release 1 named staff and items by this database's row ids.
LOCAL_ID_KEYS = frozenset({"staff_id", "staff_ids", "holder_id", "b_post_id", "from_owner", "to_owner",
                           "to_staff_id", "approver_id", "item_id"})
LATER = datetime(2026, 12, 3, 9, 0)  # the day after the fixture was written


def _plant(db_file: Path) -> dict[str, object]:
    """Leave in release 1's projections what its rules could leave and the new ones must not keep: an applicant
    row that is not the newest told, an attendance row that is not the newest mark, and a year confirmed on a
    machine in Asia/Shanghai (stored converted to UTC, 8 h off). The upgrade recomputes each from the events."""
    engine = sa.create_engine(f"sqlite:///{db_file}")
    try:
        with engine.begin() as conn:
            id_no = conn.execute(sa.text("SELECT id_no FROM applicants WHERE phone <> '' ORDER BY id LIMIT 1")).scalar()
            conn.execute(sa.text("UPDATE applicants SET phone = '', name = '错名' WHERE id_no = :i"), {"i": id_no})
            conn.execute(sa.text("UPDATE attendance SET status = 'absent' WHERE id = 1"))
            conn.execute(sa.text("UPDATE calendar_years SET confirmed_at = datetime(confirmed_at, '-8 hours') "
                                 "WHERE confirmed_at IS NOT NULL"))
    finally:
        engine.dispose()
    return {"id_no": id_no}


def _load_into_postgres(db_file: Path, url: str) -> None:
    """Release 1's rows in a PostgreSQL database at release 1's revision, exactly as its SQLite file holds them."""
    from alembic import command

    from hall.services.storage.migrate import alembic_config

    target = sa.create_engine(url)
    source = sa.create_engine(f"sqlite:///{db_file}")
    try:
        cfg = alembic_config()
        with target.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, release_1.META["alembic_revision"])
        old, new = sa.MetaData(), sa.MetaData()
        with warnings.catch_warnings():  # reflection skips the expression index; only the columns matter here
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            old.reflect(source)
            new.reflect(target)
        with source.connect() as src, target.begin() as dst:
            dst.exec_driver_sql("SET session_replication_role = replica")  # rows as they are, references later
            for table in new.sorted_tables:
                if table.name == "alembic_version":
                    continue
                rows = [dict(r._mapping) for r in src.execute(select(old.tables[table.name]))]
                if rows:
                    dst.execute(table.insert(), rows)
                if "id" in table.c:
                    dst.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), max(id)) "
                                        f"FROM {table.name} HAVING max(id) IS NOT NULL")
    finally:
        source.dispose()
        target.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def old_ledger(request, tmp_path):
    """(data directory, database URL or None, planted values, release 1's events as they were)."""
    data = release_1.copy_to(tmp_path / "data")
    db_file = data / "hall.sqlite3"
    planted = _plant(db_file)
    engine = sa.create_engine(f"sqlite:///{db_file}")
    table = sa.table("events", *(sa.column(c, sa.DateTime() if c == "occurred_at" else None) for c in OLD_COLUMNS))
    with engine.connect() as conn:
        events = [tuple(r) for r in conn.execute(select(*table.c).order_by(table.c.id))]
    engine.dispose()
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_empty_url")
        _load_into_postgres(db_file, url)
        db_file.unlink()
    return data, url, planted, events


def _replay_equals_live(opened, folder: Path) -> None:
    target = pd.empty_hall(folder)
    try:
        with opened.db.reading() as s:
            live = pd.tables(s)
            pd.replay(s, target)
        with target.reading() as s:
            rebuilt = pd.tables(s)
    finally:
        target.dispose()
    assert pd.differences(live, rebuilt) == []


def _local_id_keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return ({k for k in value if k in LOCAL_ID_KEYS} | set().union(*(_local_id_keys(v) for v in value.values()))
                if value else set())
    if isinstance(value, list):
        return set().union(*(_local_id_keys(v) for v in value)) if value else set()
    return set()


def test_release_1_upgrades_in_place_and_its_events_still_verify(old_ledger, tmp_path):
    data, url, planted, old_events = old_ledger
    opened = open_hall(Paths.resolve(data), url)
    try:
        with opened.db.reading() as s:
            check = ledger.verify(s)
            n = release_1.META["events_total"]
            # Opening recorded the calendar release 1 had written into the tables directly (one new event).
            assert check.ok and check.events == n + 1, check.problem
            assert s.scalars(select(Event.type).where(Event.id > n)).all() == ["calendar.seeded"]
            cols = [getattr(Event, c) for c in OLD_COLUMNS]
            old_now = [tuple(r) for r in s.execute(select(*cols).where(Event.id <= n).order_by(Event.id))]
            assert old_now == old_events  # byte for byte
            assert set(s.scalars(select(Event.format).where(Event.id <= n))) == {1}
            assert s.scalars(select(Event.id).where(Event.id <= n, Event.actor_uid.is_not(None))).first() is None
            # What release 1 left implicit is frozen: every staff row id, every item row id, every intake's initials.
            assert s.scalar(select(func.count()).select_from(LegacyStaff)) == s.scalar(
                select(func.count()).select_from(Staff))
            assert s.scalar(select(func.count()).select_from(LegacyItem)) == s.scalar(
                select(func.count()).select_from(Item))
            assert s.scalar(select(func.count()).select_from(LegacyInitials)) == \
                release_1.META["events_by_type"]["ticket.received"]
            # A staff member's uid is what a replay of their release-1 staff.added event derives.
            for ev in s.scalars(select(Event).where(Event.type == "staff.added")):
                person = s.scalars(select(Staff).where(Staff.staff_no == json.loads(ev.payload)["staff_no"])).one()
                assert person.uid == str(uuid.uuid5(identity.NAMESPACE, ev.event_id))
            # The projections release 1's rules left wrong are recomputed from the events.
            row = s.scalars(select(Applicant).where(Applicant.id_no == planted["id_no"])).one()
            told = [json.loads(p)["applicant"] for p in s.scalars(select(Event.payload).where(
                Event.type == "ticket.received").order_by(Event.occurred_at, Event.event_id))
                if json.loads(p)["applicant"]["id_no"] == planted["id_no"]]
            assert (row.name, row.phone) == (told[-1]["name"], [a["phone"] for a in told if a["phone"]][-1])
            mark = s.scalars(select(Event).where(Event.type == "attendance.marked").order_by(Event.id)).first()
            first = s.scalars(select(Attendance).where(Attendance.id == 1)).one()
            assert first.status == json.loads(mark.payload)["status"]
            year_set = s.scalars(select(Event).where(Event.type == "calendar.year_set").order_by(Event.id.desc())
                                 ).first()
            assert s.get_one(CalendarYear, json.loads(year_set.payload)["year"]).confirmed_at == year_set.occurred_at
        _replay_equals_live(opened, tmp_path / "rebuilt")
    finally:
        opened.db.dispose()


def test_after_the_upgrade_new_events_name_people_and_items_by_stable_ids(old_ledger, tmp_path):
    data, url, _planted, old_events = old_ledger
    opened = open_hall(Paths.resolve(data), url)
    try:
        with opened.db.transaction() as s:
            clerk = staff.actor_for(staff.by_number(s, "W0101"), opened.node)
            manager = staff.actor_for(staff.by_number(s, "M001"), opened.node)
            admin = staff.actor_for(staff.by_number(s, "admin"), opened.node)
            returning = s.scalars(select(Applicant).where(Applicant.phone != "").order_by(Applicant.id)).first()
            known_phone = returning.phone
        with opened.db.transaction() as s:
            intake.register(s, clerk, intake.IntakeForm("04", intake.ApplicantForm(
                "person", "11010519491231002X", "张三", "13800138000")), now=LATER)
            # A returning citizen who tells no phone this time keeps the one on record.
            intake.register(s, clerk, intake.IntakeForm("04", intake.ApplicantForm(
                "person", returning.id_no, returning.name, "")), now=LATER + timedelta(minutes=5))
        with opened.db.transaction() as s:
            # The holder (B-post W0502, set by release 1) goes on leave: old tickets, owned by release-1 row ids,
            # are handed over by stable ids.
            bposts.mark_attendance(s, manager, "W0501", "leave", day=LATER.date(), now=LATER)
            staff.set_b_post(s, admin, "W0101", "W0102")
            staff.add_staff(s, admin, staff.StaffForm("W0103", "新同事", "clerk", "综合窗口", "W01",
                                                      b_post_no="W0101"))
        with opened.db.reading() as s:
            assert ledger.verify(s).ok
            new = list(s.scalars(select(Event).where(Event.id > old_events[-1][0]).order_by(Event.id)))
            assert {ev.type for ev in new} >= {"ticket.received", "ticket.closed", "attendance.marked",
                                              "bpost.started", "bpost.reassigned", "staff.b_post_set",
                                              "staff.added"}
            uids = set(s.scalars(select(Staff.uid)))
            for ev in new:
                assert ev.format == 2 and ev.actor_id is None, ev.type
                assert ev.actor_uid is None if ev.actor_role == "system" else ev.actor_uid in uids, ev.type
                assert _local_id_keys(json.loads(ev.payload)) == set(), ev.type
            received = [json.loads(ev.payload) for ev in new if ev.type == "ticket.received"]
            versions = {v for (v,) in s.execute(sa.text("SELECT uid FROM catalog_versions WHERE is_current"))}
            assert {p["catalog_version"] for p in received} == versions
            assert s.scalars(select(Applicant.phone).where(Applicant.id_no == returning.id_no)).one() == known_phone
            handed = [json.loads(ev.payload) for ev in new if ev.type == "bpost.reassigned"]
            assert handed and {p["to_owner_uid"] for p in handed} == {staff.by_number(s, "W0502").uid}
        _replay_equals_live(opened, tmp_path / "rebuilt")
    finally:
        opened.db.dispose()


def test_the_migration_derives_uids_as_the_projectors_do():
    path = Path(hall.__file__).parent / "migrations" / "versions" / "0003_stable_ids.py"
    spec = importlib.util.spec_from_file_location("migration_0003", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.NAMESPACE == identity.NAMESPACE
    at = datetime(2026, 3, 2, 9, 0, 0, 5)
    assert module._stamp(at, "e") == ledger.stamp(at, "e")
    assert module._uid("e") == identity.uid_from_event("e")
