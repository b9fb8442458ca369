"""`hall-admin ledger check / rebuild / digest / verify` on a hall that has lived, on SQLite and PostgreSQL.

The hall: demo tickets, every workflow, the daily rules (tests/ledger_workflows.py). Then: the check finds every
table equal to a replay of the events; the digest is unchanged by a rebuild; the next save after a rebuild
continues the numbering; hand edits made with raw SQL are each named; a broken replay and a tampered chain are
refused; an index page corrupted in a real file fails ``ledger verify``.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from ledger_workflows import build
from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.cli import main
from hall.models import CalendarDay, CalendarYear, Event, Ticket, TicketSerial
from hall.services import ledger_check, projections
from hall.services.base.actor import Actor
from hall.services.calendar import workdays as calendar
from hall.services.catalog import items as catalog
from hall.services.storage import ledger, projection_keys
from hall.services.storage.db import Database
from hall.services.tickets import intake, numbering

ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张三", "13812345678", "东村3组")


def _cli(hall, capsys, *args: str) -> tuple[int, str, str]:
    url = hall.db.engine.url.render_as_string(hide_password=False)
    data_dir = str(hall.db.backups_dir.parent)
    argv = ["--data-dir", data_dir, *([] if hall.db.is_sqlite else ["--db", url]), "ledger", *args]
    capsys.readouterr()
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def _serials(hall) -> dict[tuple[str, str], int]:
    with hall.db.reading() as s:
        return {(r.point, r.day): r.last for r in s.scalars(select(TicketSerial))}


@pytest.mark.ledger_edited
def test_a_lived_hall_checks_rebuilds_and_names_every_hand_edit(hall_db, people, capsys):
    n = build(hall_db, people)

    # 1. Everything that is state equals a replay of the events.
    rc, out, _ = _cli(hall_db, capsys, "check", "--quiet")
    assert rc == 0, out
    assert "所有表一致" in out
    report = ledger_check.check(hall_db.db)
    assert report.ok and report.comparison.tables == len(projection_keys.state_tables())
    assert report.comparison.rows_live == report.comparison.rows_rebuilt > 300

    # 2. The digest is one SHA-256, unchanged by a rebuild; the serial counters come back from the events.
    rc, digest_before, _ = _cli(hall_db, capsys, "digest")
    assert rc == 0 and re.fullmatch(r"[0-9a-f]{64}\n", digest_before)
    serials = _serials(hall_db)
    rc, out, _ = _cli(hall_db, capsys, "rebuild", "--quiet")
    assert rc == 0, out
    assert "当前状态摘要未变" in out and digest_before.strip() in out
    assert ("重建前已备份到" in out) == hall_db.db.is_sqlite
    if hall_db.db.is_sqlite:
        assert list((hall_db.db.backups_dir).glob("hall-before-rebuild-*.sqlite3"))
    assert _cli(hall_db, capsys, "digest")[1] == digest_before
    assert _serials(hall_db) == serials

    # 3. The next save after the rebuild continues the day's numbering (no duplicate number).
    busy_day = date(2026, 3, 2)
    before = max(v for (p, d), v in serials.items() if p == "000" and d == "20260302")
    with hall_db.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, "09").materials}
        saved = intake.register(s, people["c02"], intake.IntakeForm("09", ZHANG, materials=marks),
                                now=datetime.combine(busy_day, datetime.min.time().replace(hour=16)))
    assert numbering.parse_number(saved.number)[3] == before + 1
    assert ledger_check.check(hall_db.db).ok

    # 4. Hand edits with raw SQL, each named by table, natural key and column.
    victim, deleted, due_victim, a_day = n["clock"], n["refused"], n["proxy"], date(2026, 10, 1)
    with hall_db.db.reading() as s:
        assert s.scalars(select(Ticket.state).where(Ticket.number == victim)).one() == "in_progress"
        assert s.scalars(select(CalendarDay.kind).where(CalendarDay.day == a_day)).one() == "holiday"
    edits = [
        ("UPDATE tickets SET state = 'closed_approved' WHERE number = :a", {"a": victim}),
        ("UPDATE tickets SET due_date = :d WHERE number = :a", {"a": due_victim, "d": date(2026, 5, 1)}),
        ("UPDATE staff SET role = 'manager' WHERE staff_no = 'c02'", {}),
        ("DELETE FROM tickets WHERE number = :a", {"a": deleted}),
        ("UPDATE calendar_days SET name = '改过的节日' WHERE day = :d", {"d": a_day}),
        ("UPDATE ticket_serials SET last = last - 1 WHERE point = '000' AND day = '20260302'", {}),
    ]
    with hall_db.db.engine.begin() as conn:
        for sql, params in edits:
            assert conn.execute(sa.text(sql), params).rowcount == 1
    rc, out, _ = _cli(hall_db, capsys, "check", "--quiet", "--limit", "50")
    assert rc == 1
    assert "发现 6 处不一致" in out, out
    assert (f"tickets（办件）［办件编号 {victim}］ 字段 state：现库 “closed_approved”，"
            "按台账应为 “in_progress”") in out
    assert f"tickets（办件）［办件编号 {due_victim}］ 字段 due_date：现库 “2026-05-01”" in out
    assert "staff（工作人员）［工号 c02］ 字段 role：现库 “manager”，按台账应为 “clerk”" in out
    assert f"tickets（办件）［办件编号 {deleted}］：按台账应有此行，现库中没有" in out
    assert "calendar_days（日历日）［日期 2026-10-01］ 字段 name：现库 “改过的节日”，按台账应为 “国庆节”" in out
    assert (f"ticket_serials（办件编号序号）［受理点 000，日期 20260302］ 字段 last："
            f"现库 {before}，按台账应为 {before + 1}") in out
    assert "11010519491231002X" not in out  # personal data is masked in the listing

    # 5. The rebuild puts the events' state back (and says the state changed); the check is clean again.
    rc, out, _ = _cli(hall_db, capsys, "rebuild", "--quiet")
    assert rc == 0 and "与台账不一致之处已按台账更正" in out
    rc, out, _ = _cli(hall_db, capsys, "check", "--quiet")
    assert rc == 0 and "所有表一致" in out
    with hall_db.db.reading() as s:
        assert s.scalars(select(Ticket.state).where(Ticket.number == victim)).one() == "in_progress"


@pytest.mark.ledger_edited
def test_the_listing_is_capped_and_counted(hall_sqlite, capsys):
    with hall_sqlite.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE calendar_days SET name = 'x' WHERE day < '2010-01-01'"))
    rc, out, _ = _cli(hall_sqlite, capsys, "check", "--quiet", "--limit", "3")
    assert rc == 1
    listed = [line for line in out.splitlines() if line.startswith("  calendar_days")]
    total = int(re.search(r"发现 (\d+) 处不一致", out).group(1))
    assert len(listed) == 3 and total > 100
    assert f"只列出前 3 处，另有 {total - 3:,} 处" in out


@pytest.mark.ledger_edited
def test_a_replay_that_cannot_apply_is_reported_and_a_tampered_chain_is_not_rebuilt(hall_db, people, capsys):
    with hall_db.db.transaction() as s:
        number = intake.register(s, people["c02"], intake.IntakeForm("11", ZHANG), now=datetime(2026, 3, 2, 9)).number
        ev = s.scalars(select(Event).where(Event.type == "ticket.received")).one()
    # The payload now names an item that does not exist: the ticket cannot be projected again.
    with hall_db.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE events SET payload = replace(payload, :a, :b) WHERE event_id = :e"),
                     {"a": '"catalog_version":"', "b": '"catalog_version":"gone-', "e": ev.event_id})
    rc, _, err = _cli(hall_db, capsys, "check", "--quiet")
    assert rc == 1
    assert "台账检查未完成：按台账重放失败" in err and "ticket.received" in err and f"第 {ev.id} 条事件" in err
    digest = _cli(hall_db, capsys, "digest")[1]
    rc, _, err = _cli(hall_db, capsys, "rebuild", "--quiet")
    assert rc == 2 and "哈希链未通过核验" in err
    assert _cli(hall_db, capsys, "digest")[1] == digest  # nothing was touched
    with hall_db.db.reading() as s:
        assert s.scalars(select(Ticket.number)).all() == [number]


def test_an_old_ledger_keeps_its_calendar_through_a_rebuild(tmp_path):
    """A release before the seeding event wrote the package calendar straight into the tables."""
    db = projections.install(Database.open(f"sqlite:///{tmp_path / 'old.sqlite3'}",
                                           backups_dir=tmp_path / "backups"))
    system = Actor.system("node-old")
    with db.transaction() as s:
        catalog.seed_default(s, system)
        for exc in calendar._package_exceptions(calendar.package_years()):
            s.add(CalendarDay(day=exc.on, is_workday=exc.is_workday, kind=exc.kind, name=exc.name))
        for y in calendar.package_years():
            s.add(CalendarYear(year=y, status="confirmed", source="chinese_calendar", notice_ref="chinesecalendar 1.9"))
    with db.reading() as s:
        days = s.execute(select(CalendarDay.day, CalendarDay.name).order_by(CalendarDay.day)).all()
    check = ledger_check.check(db)
    assert not check.ok and set(check.comparison.by_table) == {"calendar_days", "calendar_years"}
    assert check.unrecorded_calendar == list(calendar.package_years())
    report = ledger_check.rebuild(db, system)
    assert report.calendar_recorded == list(calendar.package_years())
    assert ledger_check.check(db).ok
    with db.reading() as s:
        assert s.execute(select(CalendarDay.day, CalendarDay.name).order_by(CalendarDay.day)).all() == days
        assert ledger.verify(s).ok
    db.dispose()


# ------------------------------------------------------------------------------------------ storage
@pytest.mark.ledger_edited
def test_an_index_only_corruption_fails_ledger_verify(hall_sqlite, capsys):
    from hall_fixtures import actors_of

    people = actors_of(hall_sqlite)
    with hall_sqlite.db.transaction() as s:
        for i in range(400):  # enough rows for the index to span pages
            intake.register(s, people["c02"], intake.IntakeForm("11", ZHANG), now=datetime(2026, 3, 2, 9, i % 60))
    rc, out, _ = _cli(hall_sqlite, capsys, "verify")
    assert rc == 0 and "quick_check）通过" in out
    path = hall_sqlite.db.engine.url.database
    with hall_sqlite.db.engine.connect() as conn:
        root = conn.execute(sa.text("SELECT rootpage FROM sqlite_master WHERE name = 'ix_tickets_open_due'")).scalar()
        page_size = conn.execute(sa.text("PRAGMA page_size")).scalar()
        assert conn.execute(sa.text("SELECT count(*) FROM tickets")).scalar() == 400
    hall_sqlite.db.dispose()  # the WAL is folded back into the file: the bytes below are the index's
    with open(path, "r+b") as fh:
        fh.seek((root - 1) * page_size)
        kind = fh.read(1)
        assert kind in (b"\x02", b"\x0a")  # an index b-tree page (interior or leaf)
        fh.seek((root - 1) * page_size + 8)
        fh.write(b"\xff" * 64)  # its cell pointers now point outside the page
    reopened = projections.install(Database.open(f"sqlite:///{path}", backups_dir=hall_sqlite.db.backups_dir))
    try:
        with reopened.reading() as s:
            assert ledger.verify(s).ok  # the hash chain alone does not see it …
        problems = ledger_check.quick_check(reopened)
        assert problems and problems != ["ok"]  # … SQLite's structural check does
    finally:
        reopened.dispose()
    rc, out, err = _cli(hall_sqlite, capsys, "verify")
    assert rc == 1 and "台账完好" not in out
    assert "数据库文件已损坏" in err and "quick_check" in err


def test_quick_check_is_sqlite_only(hall_db):
    problems = ledger_check.quick_check(hall_db.db)
    assert problems == ([] if hall_db.db.is_sqlite else None)


# ------------------------------------------------------------------------------------------ digest
def test_a_replay_has_the_digest_of_its_source(hall_db, people):
    """The same events replayed into a scratch copy (fresh surrogate ids): the same digest."""
    with hall_db.db.transaction() as s:
        for i, code in enumerate(("11", "09", "03")):
            marks = {m["name"]: "received" for m in catalog.current_item(s, code).materials}
            intake.register(s, people["c02"], intake.IntakeForm(code, ZHANG, materials=marks),
                            now=datetime(2026, 3, 2, 9, i))
    d = ledger_check.digest(hall_db.db)
    assert re.fullmatch(r"[0-9a-f]{64}", d.sha256) and d.by_table["tickets"] == 3
    with ledger_check._snapshot(hall_db.db) as live, ledger_check.scratch(hall_db.db) as engine, \
            Session(engine) as session, session.begin():
        ledger_check.replay(live, session, copy_events=True)
        ledger_check.derive_bookkeeping(session)
        session.flush()
        assert projection_keys.digest(session.connection()).sha256 == d.sha256


@pytest.mark.pg
def test_the_same_events_on_sqlite_and_postgresql_give_one_digest(hall_sqlite, pg_empty_url):
    """A second node on the other database, told this node's events: the digests agree (dates, time zones,
    booleans and JSON are normalised; ids are compared through what they point to)."""
    from hall_fixtures import actors_of
    from ledger_workflows import build

    build(hall_sqlite, actors_of(hall_sqlite), demo_tickets=50)
    other = projections.install(Database.open(pg_empty_url))
    try:
        with ledger_check._snapshot(hall_sqlite.db) as source, other.transaction() as session:
            ledger_check.replay(source, session, copy_events=True)
            ledger_check.derive_bookkeeping(session)
        assert ledger_check.digest(other).sha256 == ledger_check.digest(hall_sqlite.db).sha256
        assert ledger_check.check(other).ok
    finally:
        other.dispose()


def test_the_registry_lists_every_module_that_defines_a_projector():
    """A registry that missed a module would refuse its events on every node (and a replay would stop there)."""
    from pathlib import Path

    from hall.services import projections

    root = Path(ledger_check.__file__).resolve().parent.parent
    defining = sorted(
        ".".join(p.relative_to(root.parent).with_suffix("").parts)
        for p in root.rglob("*.py")
        if re.search(r"^@ledger\.(bulk_)?projector\(", p.read_text(encoding="utf-8"), re.MULTILINE))
    assert sorted(m.__name__ for m in projections.MODULES) == defining
    assert "hall.services.calendar.workdays" in defining and "hall.services.tickets.intake" in defining



def test_a_hall_from_the_previous_release_upgrades_to_a_clean_check(tmp_path):
    """The ledger release 1 wrote, every workflow in it (tests/fixtures/release-1): it wrote the package calendar
    into the tables directly and named people and items by row ids. Opened by this release it upgrades in place,
    records that calendar as an event, and a replay of its events gives exactly its tables."""
    import release_1

    from hall.paths import Paths
    from hall.services.bootstrap import open_hall

    data = release_1.copy_to(tmp_path / "data")
    opened = open_hall(Paths.resolve(data))
    try:
        assert opened.db.upgraded_from == release_1.META["alembic_revision"]
        with opened.db.reading() as s:
            assert s.scalars(select(Event.type).order_by(Event.id.desc()).limit(1)).one() == "calendar.seeded"
            assert ledger.verify(s).ok  # old events verify as written
        report = ledger_check.check(opened.db)
        assert report.ok, report.comparison
    finally:
        opened.db.dispose()
