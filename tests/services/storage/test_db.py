"""Opening databases: migrations, and every way a file can be wrong gets a clear Chinese message."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import release_1
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hall.errors import DatabaseError
from hall.models import Base
from hall.paths import Paths
from hall.services.bootstrap import open_hall
from hall.services.storage import db as dbmod
from hall.services.storage.migrate import script_directory


# SQLite reflection skips expression indexes (ix_tickets_id_tail); tests/services/test_queue.py checks that one.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrations_have_one_head_and_match_the_models(tmp_path):
    assert len(script_directory().get_heads()) == 1
    opened = open_hall(Paths.resolve(tmp_path))
    with opened.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    opened.db.dispose()
    assert diff == []


def test_migrations_match_the_models_on_postgresql(pg_empty_url, tmp_path):
    opened = open_hall(Paths.resolve(tmp_path), pg_empty_url)
    with opened.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    opened.db.dispose()
    assert diff == []


def test_first_start_uses_wal_and_full_sync(fresh_hall):
    with fresh_hall.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert fresh_hall.needs_admin


def test_a_database_from_a_newer_version_is_refused(tmp_path):
    paths = Paths.resolve(tmp_path)
    open_hall(paths).db.dispose()
    with sqlite3.connect(paths.database_file) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    with pytest.raises(DatabaseError, match="更新版本"):
        open_hall(paths)


def test_a_corrupt_file_is_refused_and_the_backup_offered(tmp_path):
    paths = Paths.resolve(tmp_path).ensure()
    paths.database_file.write_bytes(b"this is a spreadsheet, not a ledger" * 100)
    with pytest.raises(DatabaseError, match="损坏") as err:
        open_hall(paths)
    assert err.value.backup_hint == "latest"


def test_a_damaged_page_is_reported_not_a_traceback(tmp_path):
    paths = Paths.resolve(tmp_path)
    open_hall(paths).db.dispose()
    data = bytearray(paths.database_file.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the schema page
    paths.database_file.write_bytes(bytes(data))
    with pytest.raises(DatabaseError):
        open_hall(paths)


def test_a_locked_database_gets_a_clear_message(tmp_path):
    paths = Paths.resolve(tmp_path)
    opened = open_hall(paths)
    blocker = sqlite3.connect(paths.database_file, timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        engine = sa.create_engine(f"sqlite:///{paths.database_file}", connect_args={"timeout": 0.2})
        sa.event.listen(engine, "connect", dbmod._sqlite_pragmas)
        sa.event.listen(engine, "begin", dbmod._sqlite_begin)
        locked = dbmod.Database(engine)
        with pytest.raises(DatabaseError, match="锁定"), locked.transaction() as s:
            s.execute(sa.text("SELECT count(*) FROM tickets")).scalar()
    finally:
        blocker.rollback()
        blocker.close()
        opened.db.dispose()


def test_sqlite_on_a_network_share_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(dbmod, "is_network_path", lambda path: True)
    with pytest.raises(DatabaseError, match="网络共享"):
        open_hall(Paths.resolve(tmp_path))


def test_network_mounts_are_recognised(tmp_path, monkeypatch):
    mounts = "server:/export /mnt/hall nfs4 rw 0 0\n/dev/sda1 / ext4 rw 0 0\n"
    real = Path.read_text

    def fake_read(self, *a, **k):
        return mounts if str(self) == "/proc/mounts" else real(self, *a, **k)

    monkeypatch.setattr(Path, "read_text", fake_read)
    assert dbmod.is_network_path(Path("/mnt/hall/data/hall.sqlite3"))
    assert not dbmod.is_network_path(tmp_path / "hall.sqlite3")


def test_upgrade_makes_a_backup_first(tmp_path):
    data = release_1.copy_to(tmp_path / "data")  # a real older ledger, at release 1's revision
    paths = Paths.resolve(data)
    assert not list(paths.backups_dir.glob("hall-before-upgrade-*.sqlite3"))
    opened = open_hall(paths)
    backups = list(paths.backups_dir.glob("hall-before-upgrade-*.sqlite3"))
    assert [b.name.split("-")[3] for b in backups] == [release_1.META["alembic_revision"]]
    opened.db.dispose()
    with sqlite3.connect(backups[0]) as conn:  # the copy is the ledger as it was, before the upgrade touched it
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == \
            release_1.META["alembic_revision"]


def test_online_backup_is_a_consistent_copy(hall_sqlite, tmp_path):
    out = hall_sqlite.db.backup(tmp_path / "b" / "copy.sqlite3")
    with sqlite3.connect(out) as conn:
        assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 76
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_fast_start_knows_the_real_head():
    from hall.migrations import HEAD

    assert script_directory().get_current_head() == HEAD


def test_only_a_re_derivable_batch_commits_without_waiting_for_the_disk(hall_db):
    """``transaction(durable=False)`` (the daily rules' batches) skips the flush on both databases; every other
    transaction, before and after one on the same pooled connection, flushes — a receipt survives a power cut."""
    db = hall_db.db
    pg = db.engine.dialect.name == "postgresql"
    probe = "SHOW synchronous_commit" if pg else "PRAGMA synchronous"
    if pg:  # the test server runs without flushes (for speed): this database flushes like a hall server's
        with db.engine.connect() as conn:
            name = conn.exec_driver_sql("SELECT current_database()").scalar()
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = on')
            conn.commit()
        db.engine.dispose()
    durable, lazy = ("on", "off") if pg else (2, 1)  # SQLite: FULL, NORMAL
    seen = []
    for flag in (True, False, True, False, False, True):
        with db.transaction(durable=flag) as s:
            seen.append(s.connection().exec_driver_sql(probe).scalar())
    assert seen == [durable, lazy, durable, lazy, lazy, durable]
    with db.reading() as s:  # a read never changes what the writers do
        s.connection().exec_driver_sql("SELECT 1")
    with db.transaction() as s:
        assert s.connection().exec_driver_sql(probe).scalar() == durable


def test_a_database_file_symlinked_onto_a_share_is_refused(tmp_path, monkeypatch):
    """The folder is local, the file itself is a link onto an NFS mount: judged by where the link leads."""
    mounts = "server:/export /mnt/hall nfs4 rw 0 0\n/dev/sda1 / ext4 rw 0 0\n"
    real = Path.read_text

    def fake_read(self, *a, **k):
        return mounts if str(self) == "/proc/mounts" else real(self, *a, **k)

    monkeypatch.setattr(Path, "read_text", fake_read)
    link = tmp_path / "hall.sqlite3"
    link.symlink_to("/mnt/hall/data/hall.sqlite3")
    assert dbmod.is_network_path(link)
    with pytest.raises(DatabaseError, match="网络共享"):
        dbmod.Database.open(f"sqlite:///{link}")
    local = tmp_path / "local.sqlite3"
    local.symlink_to(tmp_path / "elsewhere.sqlite3")
    assert not dbmod.is_network_path(local)
