"""Backup and restore on real SQLite files: a checked, atomic backup; a restore over a stale ``-wal`` left by a
killed process, from an older backup (numbering continues after every number either ledger issued), a corrupt
backup refused, and a full disk (a real, tiny tmpfs) handled — each with ``ledger digest`` compared."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from hall_fixtures import actors_of

from hall.cli import main
from hall.errors import DatabaseError
from hall.services import backups, ledger_check, projections
from hall.services.storage.db import Database
from hall.services.tickets import intake

ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张三", "13812345678", "东村3组")
DAY = datetime(2026, 3, 2, 9, 0)
ROOT = Path(__file__).resolve().parents[2]


def _register(opened, n: int, minute: int = 0) -> list[str]:
    clerk = actors_of(opened)["c02"]
    with opened.db.transaction() as s:
        return [intake.register(s, clerk, intake.IntakeForm("11", ZHANG),
                                now=DAY.replace(minute=minute + i)).number for i in range(n)]


def _open(path: Path) -> Database:
    return projections.install(Database.open(f"sqlite:///{path.as_posix()}", backups_dir=None))


def _digest(path: Path) -> str:
    db = _open(path)
    try:
        return ledger_check.digest(db).sha256
    finally:
        db.dispose()


def _next_number(path: Path, opened) -> str:
    """Save one more ticket on the database at ``path`` (reopened) and return its number."""
    db = _open(path)
    try:
        clerk = actors_of(type(opened)(db, opened.node, opened.system, False))["c02"]
        with db.transaction() as s:
            return intake.register(s, clerk, intake.IntakeForm("11", ZHANG), now=DAY.replace(minute=59)).number
    finally:
        db.dispose()


def _serial(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


def test_a_backup_is_checked_atomic_and_restores_exactly(hall_sqlite, tmp_path, capsys):
    _register(hall_sqlite, 3)
    out = tmp_path / "out" / "hall-copy.sqlite3"
    data = str(hall_sqlite.db.backups_dir.parent)
    rc = main(["--data-dir", data, "backup", "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0 and "integrity_check" in text and "哈希链相符" in text
    assert sorted(p.name for p in out.parent.iterdir()) == ["hall-copy.sqlite3"]  # no .part, no temp, no -wal
    assert backups.check_file(out).events > 0
    live = ledger_check.digest(hall_sqlite.db).sha256
    assert _digest(out) == live


@pytest.mark.ledger_edited
def test_restore_over_a_stale_wal_from_an_older_backup_continues_numbering(hall_sqlite, tmp_path):
    """A clerk's process is killed after saving (its ``-wal`` stays); an older backup is restored over it."""
    first = _register(hall_sqlite, 2)
    older = hall_sqlite.db.backup(tmp_path / "older.sqlite3")
    backup_digest = _digest(older)
    live = Path(hall_sqlite.db.engine.url.database)
    hall_sqlite.db.dispose()
    # A real process saves five more tickets and is killed before any checkpoint folds its WAL back.
    script = textwrap.dedent(f"""
        import sys, time
        from datetime import datetime
        from hall.paths import Paths
        from hall.services.bootstrap import open_hall
        from hall.services.people import staff
        from hall.services.tickets import intake
        opened = open_hall(Paths.resolve({str(live.parent)!r}))
        opened.db._checkpointer._stop.set()  # no more checkpoint rounds: the WAL keeps what follows
        with opened.db.transaction() as s:
            clerk = staff.actor_for(staff.by_number(s, "c02"), opened.node)
            for i in range(5):
                a = intake.ApplicantForm("person", "11010519491231002X", "张三", "13812345678", "东村3组")
                print(intake.register(s, clerk, intake.IntakeForm("11", a), now=datetime(2026, 3, 2, 9, 20 + i)).number)
        sys.stdout.write("saved\\n"); sys.stdout.flush()
        time.sleep(60)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    lines = []
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == "saved":
                break
            lines.append(line.strip())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    wal = live.with_name(live.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0 and len(lines) == 5
    highest = max(_serial(n) for n in first + lines)

    report = backups.restore(older, live)
    assert {p.name.rsplit("-", 1)[-1] for p in report.moved_aside} >= {"wal"}  # moved aside with the database
    stale = next(p for p in report.moved_aside if p.name.endswith("-wal"))
    assert stale.stat().st_size > 0  # the killed process's WAL, kept aside with its database
    assert not wal.exists() or wal.stat().st_size == 0  # beside the restored file: at most its own, empty WAL
    assert report.digest_restored == report.digest_backup == backup_digest == _digest(live)
    assert report.serials_raised == 1
    db = _open(live)
    try:
        with db.reading() as s:
            from hall.models import Ticket
            numbers = {t.number for t in s.query(Ticket)}
        assert numbers == set(first)  # the backup's tickets, not the stale WAL's
        assert ledger_check.check(db).ok  # a counter ahead of the tickets is what the ledger allows
    finally:
        db.dispose()
    assert _serial(_next_number(live, hall_sqlite)) == highest + 1  # never a number a receipt already carries


@pytest.mark.ledger_edited
def test_a_restore_under_a_running_program_is_refused(hall_sqlite, tmp_path):
    _register(hall_sqlite, 1)
    backup = hall_sqlite.db.backup(tmp_path / "b.sqlite3")
    live = Path(hall_sqlite.db.engine.url.database)
    hall_sqlite.db.dispose()
    assert not backups.in_use(live)
    script = ("import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT count(*) FROM events')"
              ".fetchone(); print('open', flush=True); time.sleep(60)")
    with subprocess.Popen([sys.executable, "-c", script, str(live)], stdout=subprocess.PIPE, text=True) as other:
        try:
            assert other.stdout is not None and other.stdout.readline().strip() == "open"
            assert backups.in_use(live)  # another program has the file open
            with pytest.raises(DatabaseError, match="正被另一个程序使用"):
                backups.restore(backup, live)
        finally:
            other.kill()
    assert sorted(p.name for p in live.parent.glob("hall.sqlite3.before-restore*")) == []
    assert not backups.in_use(live)


@pytest.mark.ledger_edited
def test_a_corrupt_backup_is_refused_and_nothing_is_touched(hall_sqlite, tmp_path, capsys):
    _register(hall_sqlite, 2)
    good = hall_sqlite.db.backup(tmp_path / "good.sqlite3")
    live = Path(hall_sqlite.db.engine.url.database)
    before = ledger_check.digest(hall_sqlite.db).sha256
    hall_sqlite.db.dispose()
    bad = tmp_path / "bad.sqlite3"
    shutil.copy(good, bad)
    assert bad.stat().st_size > 4096 * 8
    with open(bad, "r+b") as fh:  # a page's b-tree header overwritten: the kind of damage a failing stick does
        fh.seek(4096 * 5)
        fh.write(b"\xde\xad" * 50)
    truncated = tmp_path / "truncated.sqlite3"
    truncated.write_bytes(good.read_bytes()[:5000])
    for broken in (bad, truncated, tmp_path / "missing.sqlite3"):
        with pytest.raises(DatabaseError) as caught:
            backups.restore(broken, live)
        assert "未做任何改动" in str(caught.value) or "无法读取" in str(caught.value)
    data = str(live.parent)
    assert main(["--data-dir", data, "restore", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "未通过检查" in err and "Traceback" not in err
    assert sorted(p.name for p in live.parent.glob("hall.sqlite3*")) == ["hall.sqlite3"]
    assert _digest(live) == before


# ------------------------------------------------------------------------------------------- full disk
@pytest.fixture(scope="module")
def tiny_disk(tmp_path_factory):
    """A real 4 MB tmpfs: writes past it fail with ENOSPC, as on a full USB stick."""
    where = tmp_path_factory.mktemp("tiny")
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root on Linux")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)]).returncode != 0:
        pytest.skip("tmpfs cannot be mounted here")
    yield where
    subprocess.run(["umount", str(where)], check=False)


def _fill(folder: Path, keep_free: int) -> Path:
    filler = folder / "filler.bin"
    free = shutil.disk_usage(folder).free
    with open(filler, "wb") as fh:
        fh.write(b"\0" * max(free - keep_free, 0))
    return filler


@pytest.mark.ledger_edited
def test_a_full_disk_is_a_clear_message_and_leaves_no_part(hall_sqlite, tiny_disk, capsys):
    _register(hall_sqlite, 2)
    before = ledger_check.digest(hall_sqlite.db).sha256
    filler = _fill(tiny_disk, 16 * 1024)
    try:
        with pytest.raises(DatabaseError, match="磁盘空间不足"):
            hall_sqlite.db.backup(tiny_disk / "hall.sqlite3")
        data = str(hall_sqlite.db.backups_dir.parent)
        rc = main(["--data-dir", data, "backup", "--out", str(tiny_disk / "cli.sqlite3")])
        err = capsys.readouterr().err
        assert rc == 2 and "磁盘空间不足" in err and "Traceback" not in err
        assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler.bin"]  # no .part, no temp file
    finally:
        filler.unlink()
    assert ledger_check.digest(hall_sqlite.db).sha256 == before


@pytest.mark.ledger_edited
def test_a_restore_onto_a_full_disk_leaves_the_current_database_as_it_was(hall_sqlite, tiny_disk, tmp_path):
    _register(hall_sqlite, 2)
    backup = hall_sqlite.db.backup(tmp_path / "b.sqlite3")
    hall_sqlite.db.dispose()
    live = tiny_disk / "hall.sqlite3"
    with contextlib.suppress(FileNotFoundError):
        live.unlink()
    shutil.copy(backup, live)  # the current database lives on the small disk
    before = _digest(live)
    filler = _fill(tiny_disk, 8 * 1024)
    try:
        with pytest.raises(DatabaseError, match="磁盘空间不足"):
            backups.restore(backup, live)
        assert sorted(p.name for p in tiny_disk.iterdir() if not p.name.startswith("hall.sqlite3-")) == [
            "filler.bin", "hall.sqlite3"]
    finally:
        filler.unlink()
    assert _digest(live) == before
    live.unlink()


# ----------------------------------------------------------------------------------------- incremental
@pytest.mark.ledger_edited
def test_incremental_daily_backups_restore_exactly(hall_sqlite, tmp_path, capsys):
    from hall.services import backup_chain
    from hall.services.storage import settings

    folder = tmp_path / "chain"
    first = backup_chain.daily(hall_sqlite.db, folder, today=datetime(2026, 3, 2, 18))
    assert first.full
    numbers = _register(hall_sqlite, 3)
    second = backup_chain.daily(hall_sqlite.db, folder, today=datetime(2026, 3, 3, 18))
    assert not second.full and second.events >= 3 and second.path.name == "hall-incr-20260303-180000.jsonl.gz"
    after_second = ledger_check.digest(hall_sqlite.db).sha256
    numbers += _register(hall_sqlite, 2, minute=10)
    with hall_sqlite.db.transaction() as s:  # an event that is not a ticket's
        settings.set_values(s, hall_sqlite.system, {"hall_name": "虞山镇便民服务中心"})
    data = str(hall_sqlite.db.backups_dir.parent)
    assert main(["--data-dir", data, "backup", "--incremental", "--out", str(folder), "--date", "2026-03-04"]) == 0
    assert "增量备份" in capsys.readouterr().out
    numbers += _register(hall_sqlite, 1, minute=20)  # the same day's task runs again: one more restore point
    assert main(["--data-dir", data, "backup", "--incremental", "--out", str(folder), "--date", "2026-03-04"]) == 0
    third = sorted(folder.glob("hall-incr-*.jsonl.gz"))[-1]
    assert len(list(folder.glob("hall-incr-*.jsonl.gz"))) == 4  # the base's day, then three
    header = backup_chain.read_header(third)
    assert 1 <= header["events"] <= 3  # only what was added since the run before, never the whole ledger
    # The base was rolled forward to the newest increment: it is the live database as of then.
    assert backup_chain._base_last_id(folder / backup_chain.BASE) == header["to_id"]
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".sqlite3") == ["hall-base.sqlite3"]
    live_digest = ledger_check.digest(hall_sqlite.db).sha256
    live = Path(hall_sqlite.db.engine.url.database)
    hall_sqlite.db.dispose()

    # An older point of the chain (numbering still continues after everything the live file issued) …
    report = backup_chain.restore_any(second.path, live)
    assert report.digest_restored == after_second
    assert _serial(_next_number(live, hall_sqlite)) == max(_serial(n) for n in numbers) + 1
    # … and the newest, through the command line: equal to the live database when it was taken.
    fresh = tmp_path / "fresh" / "hall.sqlite3"
    assert backup_chain.restore_any(third, fresh).digest_restored == live_digest
    assert sorted(p.name for p in fresh.parent.iterdir() if p.name.startswith(".")) == []  # nothing assembled left


def test_fourteen_days_of_restore_points_are_kept_and_older_files_age_out(hall_sqlite, tmp_path):
    from hall.services import backup_chain

    folder = tmp_path / "chain"
    folder.mkdir()
    # What the previous scheme left: a weekly full copy with its increment, and the program's daily copies.
    for name in ("hall-full-20260220.sqlite3", "hall-full-20260220.sqlite3.json", "hall-daily-20260221.sqlite3",
                 "hall-daily-20260310.sqlite3"):
        (folder / name).write_bytes(b"old")
    first = datetime(2026, 3, 2, 18)
    assert backup_chain.daily(hall_sqlite.db, folder, today=first).full
    for n in range(1, 20):  # nineteen more days, a ticket each
        _register(hall_sqlite, 1, minute=n)
        assert not backup_chain.daily(hall_sqlite.db, folder, today=first.replace(day=2 + n)).full
    names = sorted(p.name for p in folder.iterdir())
    increments = [n for n in names if n.startswith("hall-incr")]
    assert increments[0] == "hall-incr-20260307-180000.jsonl.gz" and len(increments) == 15  # 14 days back
    assert "hall-base.sqlite3" in names and "hall-daily-20260310.sqlite3" in names  # not yet 14 days old
    assert not {"hall-full-20260220.sqlite3", "hall-full-20260220.sqlite3.json", "hall-daily-20260221.sqlite3"} & set(
        names)
    # Once a day from the program: the second call of a day does nothing.
    db = hall_sqlite.db
    assert backup_chain.daily_if_due(db, today=datetime(2026, 3, 30, 9)) is not None
    assert backup_chain.daily_if_due(db, today=datetime(2026, 3, 30, 17)) is None
    db.backups_dir = folder
    assert db.latest_backup().name == "hall-base.sqlite3"  # what is offered when the ledger is found corrupt


def test_a_crash_between_the_increment_and_the_roll_loses_no_restore_point(hall_sqlite, tmp_path, monkeypatch):
    from hall.services import backup_chain

    folder = tmp_path / "chain"
    backup_chain.daily(hall_sqlite.db, folder, today=datetime(2026, 3, 2, 18))
    _register(hall_sqlite, 2)

    def power_cut(*_args: object) -> None:
        raise KeyboardInterrupt  # the process stops after the increment is written, before the base is rolled

    monkeypatch.setattr(backup_chain, "_roll", power_cut)
    with pytest.raises(KeyboardInterrupt):
        backup_chain.daily(hall_sqlite.db, folder, today=datetime(2026, 3, 3, 18))
    monkeypatch.undo()
    orphan = sorted(folder.glob("hall-incr-*.jsonl.gz"))[-1]
    at_orphan = ledger_check.digest(hall_sqlite.db).sha256
    restored = backup_chain.restore_any(orphan, tmp_path / "a" / "hall.sqlite3")
    assert restored.digest_restored == at_orphan  # the increment supplies what the base lacks
    _register(hall_sqlite, 1, minute=30)
    nxt = backup_chain.daily(hall_sqlite.db, folder, today=datetime(2026, 3, 4, 18))  # rolls from where the base is
    assert backup_chain._base_last_id(folder / backup_chain.BASE) == backup_chain.read_header(nxt.path)["to_id"]
    live = ledger_check.digest(hall_sqlite.db).sha256
    assert backup_chain.restore_any(nxt.path, tmp_path / "b" / "hall.sqlite3").digest_restored == live
    assert backup_chain.restore_any(orphan, tmp_path / "c" / "hall.sqlite3").digest_restored == at_orphan


@pytest.mark.ledger_edited
def test_an_older_backup_reissues_no_complaint_number_and_says_which_events_it_cuts_off(hall_sqlite, tmp_path):
    from hall.services.registers import complaints

    manager = actors_of(hall_sqlite)["m01"]
    at = DAY.replace(hour=10)

    def complain(db) -> str:  # type: ignore[no-untyped-def]
        with db.transaction() as s:
            return complaints.register(s, manager, "窗口工作人员态度生硬", "现场", now=at).number

    assert complain(hall_sqlite.db) == "TS-20260302-001"
    older = backups.take_backup(hall_sqlite.db, tmp_path / "older.sqlite3").path
    assert [complain(hall_sqlite.db) for _ in range(2)] == ["TS-20260302-002", "TS-20260302-003"]
    live = Path(hall_sqlite.db.engine.url.database)
    hall_sqlite.db.dispose()
    report = backups.restore(older, live)
    assert any("写在这份备份之后" in n and "分叉" in n for n in report.notes)
    db = _open(live)
    try:
        assert complain(db) == "TS-20260302-004"  # after every number either ledger issued, never 002 again
        with db.transaction() as s:  # and a rebuild of the counters from the ledger keeps the register's
            from hall.services.tickets import numbering

            numbering.rebuild_serials(s)
        assert complain(db) == "TS-20260302-005"
    finally:
        db.dispose()
