"""Encryption at rest on real files: a data folder encrypted by ``hall-admin encryption enable`` holds no citizen's
ID number, name or phone in its ledger, -wal, backups, increments or drafts; everything still works (save, search,
backup, restore, digest); a missing key, a wrong recovery code and a tampered sealed file are refused in Chinese."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from hall_fixtures import actors_of
from hypothesis import given, settings
from hypothesis import strategies as st

from hall.cli import main
from hall.paths import Paths
from hall.services import backup_chain, backups, ledger_check
from hall.services.bootstrap import open_hall
from hall.services.reporting import queue
from hall.services.storage import at_rest
from hall.services.storage.drafts import DraftStore
from hall.services.tickets import intake

ID = "11010519491231002X"
PHONE = "13812345678"
NAME = "张三丰"
CITIZEN = intake.ApplicantForm("person", ID, NAME, PHONE, "东村3组")
DAY = datetime(2026, 3, 2, 9, 0)
SECRETS = (ID.encode(), PHONE.encode(), NAME.encode("utf-8"), ID[-8:].encode())


def _leaks(folder: Path) -> list[str]:
    """Every file under ``folder`` holding one of the citizen's identifiers in the clear (raw bytes)."""
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.name}: {s!r}" for s in SECRETS if s in data]
    return found


def _forget_unlocked() -> None:
    at_rest._UNLOCKED.clear()  # a new process: nothing unlocked yet


@pytest.fixture
def encrypted(tmp_path, _sqlite_template, capsys):
    """A seeded hall copied to its own folder, encrypted with the CLI, reopened as the program would."""
    data = tmp_path / "data"
    shutil.copytree(_sqlite_template, data)
    assert main(["--data-dir", str(data), "encryption", "enable", "--code-out", str(tmp_path / "code.txt")]) == 0
    out = capsys.readouterr().out
    code = (tmp_path / "code.txt").read_text().strip()
    assert code in out and len(code.split("-")) == 14
    _forget_unlocked()
    opened = open_hall(Paths.resolve(data))
    yield opened, data, code
    opened.db.dispose()
    _forget_unlocked()


def test_an_encrypted_folder_works_and_leaks_nothing(encrypted, tmp_path):
    opened, data, _code = encrypted
    assert not (data / "hall.sqlite3").read_bytes().startswith(at_rest.SQLITE_MAGIC)
    clerk = actors_of(opened)["c02"]
    with opened.db.transaction() as s:
        number = intake.register(s, clerk, intake.IntakeForm("11", CITIZEN), now=DAY).number
    with opened.db.reading() as s:  # the search indexes still answer (an ID tail, a phone tail)
        for text in (ID[-6:], PHONE[-4:], number[-4:]):
            found = queue.page(s, queue.TicketFilter(text=text, open_only=False), today=DAY.date())
            assert [r.number for r in found.rows] == [number], text
    DraftStore(Paths.resolve(data).drafts_dir).save("k1", "2", {"name": NAME, "id_number": ID, "phone": PHONE})
    full = backup_chain.daily(opened.db, data / "backups", today=DAY)
    with opened.db.transaction() as s:
        intake.register(s, clerk, intake.IntakeForm("11", CITIZEN), now=DAY.replace(hour=10))
    incr = backup_chain.daily(opened.db, data / "backups", today=DAY.replace(day=3))
    assert full.full and not incr.full and incr.events > 0
    out = tmp_path / "usb" / "copy.sqlite3"  # a backup to a stick outside the data folder: encrypted too
    report = backups.take_backup(opened.db, out)
    assert report.events > 0
    live = ledger_check.digest(opened.db).sha256
    assert _leaks(data) == [] and _leaks(out.parent) == []
    # Everything reads back through the program.
    drafts = DraftStore(Paths.resolve(data).drafts_dir).load_all()
    assert drafts and drafts[0].data["id_number"] == ID
    assert backups.check_file(out).events == report.events
    assert backup_chain.read_header(incr.path)["events"] == incr.events
    # Restore from full + increment into a new encrypted folder's place: exact.
    target = data / "restored" / "hall.sqlite3"
    at_rest.register(target.parent, opened.db.key)
    restored = backup_chain.restore_any(incr.path, target)
    assert restored.digest_restored == live
    assert not target.read_bytes().startswith(at_rest.SQLITE_MAGIC)


def test_without_the_key_the_folder_is_refused_and_the_recovery_code_brings_it_back(encrypted, monkeypatch, tmp_path,
                                                                                   capsys):
    opened, data, code = encrypted
    live = ledger_check.digest(opened.db).sha256
    opened.db.dispose()
    _forget_unlocked()
    monkeypatch.setenv("HALL_KEY_DIR", str(tmp_path / "another-pc-keys"))  # the folder moved to a new PC
    with pytest.raises(at_rest.EncryptionError, match="恢复码"):
        open_hall(Paths.resolve(data))
    assert main(["--data-dir", str(data), "encryption", "status"]) == 1
    assert "没有" in capsys.readouterr().out
    wrong = code[:-1] + ("A" if code[-1] != "A" else "B")
    assert main(["--data-dir", str(data), "encryption", "recover", "--code", wrong]) == 2
    assert "校验不通过" in capsys.readouterr().err
    other = at_rest.recovery_code(at_rest.DataKey(bytes(32)))
    assert main(["--data-dir", str(data), "encryption", "recover", "--code", other]) == 2
    assert "不属于" in capsys.readouterr().err
    # As a person types it from paper: lower case, spaces instead of dashes.
    assert main(["--data-dir", str(data), "encryption", "recover", "--code", code.lower().replace("-", " ")]) == 0
    _forget_unlocked()
    again = open_hall(Paths.resolve(data))
    try:
        assert ledger_check.digest(again.db).sha256 == live
    finally:
        again.db.dispose()


def test_enabling_twice_or_while_open_is_refused(encrypted, capsys):
    _opened, data, _code = encrypted
    assert main(["--data-dir", str(data), "encryption", "enable"]) == 2
    assert "已启用加密" in capsys.readouterr().err


def test_enable_refuses_a_folder_another_program_has_open(tmp_path, _sqlite_template, capsys):
    data = tmp_path / "data"
    shutil.copytree(_sqlite_template, data)
    holder = subprocess.Popen(  # another Hall (a real process) with the ledger open
        [sys.executable, "-c", "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); "
         "c.execute('SELECT count(*) FROM events').fetchone(); print('ready', flush=True); time.sleep(60)",
         str(data / "hall.sqlite3")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        assert main(["--data-dir", str(data), "encryption", "enable"]) == 2
        assert "正在使用" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert not (data / at_rest.CONFIG_NAME).exists()
    assert (data / "hall.sqlite3").read_bytes().startswith(at_rest.SQLITE_MAGIC)


def test_a_plain_backup_restored_into_an_encrypted_folder_is_encrypted(encrypted, _sqlite_template, tmp_path):
    opened, _data, _code = encrypted
    plain = _sqlite_template / "hall.sqlite3"
    target = tmp_path / "restore-here" / "hall.sqlite3"
    at_rest.register(target.parent, opened.db.key)
    report = backups.restore(plain, target)
    assert report.digest_restored == report.digest_backup
    assert at_rest.is_encrypted_file(target)


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=300), flip=st.integers(min_value=0))
def test_sealed_files_round_trip_and_any_flipped_byte_is_refused(data, flip):
    key = at_rest.DataKey(b"\x07" * 32)
    sealed = at_rest.seal(data, key)
    assert at_rest.unseal(sealed, "草稿", key) == data
    assert data not in sealed[28:] or len(data) < 4
    i = flip % len(sealed)
    bad = sealed[:i] + bytes([sealed[i] ^ 0x01]) + sealed[i + 1:]
    with pytest.raises(at_rest.EncryptionError):
        at_rest.unseal(bad, "草稿", key, required=True)


@given(raw=st.binary(min_size=32, max_size=32))
def test_recovery_codes_round_trip(raw):
    key = at_rest.DataKey(raw)
    code = at_rest.recovery_code(key)
    assert at_rest.parse_recovery_code(code) == key
    assert at_rest.parse_recovery_code(code.lower().replace("-", "  ")) == key


def _hmac_of(path: Path, key: at_rest.DataKey, profile: str) -> bool:
    """True when ``path`` opens under ``key`` with exactly the HMAC ``profile`` (raw SQLCipher, no cache)."""
    conn = at_rest.sqlcipher.connect(f"file:{path.as_posix()}?mode=ro", uri=True)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(key.pragma)
        conn.execute(f"PRAGMA cipher_hmac_algorithm = {profile}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except at_rest.sqlcipher.DatabaseError:
        return False
    finally:
        conn.close()


def test_new_files_use_hmac_sha256_and_a_folder_encrypted_with_sha512_keeps_working(
        encrypted, _sqlite_template, tmp_path, capsys):
    opened, data, _code = encrypted
    key = opened.db.key
    assert _hmac_of(data / "hall.sqlite3", key, "HMAC_SHA256")
    assert not _hmac_of(data / "hall.sqlite3", key, "HMAC_SHA512")
    # A folder encrypted by the earlier release: SQLCipher's default profile (HMAC-SHA512), same key store.
    old = tmp_path / "old"
    shutil.copytree(_sqlite_template, old)
    legacy = at_rest.sqlcipher.connect(str(old / "hall.sqlite3"))
    legacy.execute(f"ATTACH DATABASE '{(old / 'enc.sqlite3').as_posix()}' AS enc KEY \"x'{key.key.hex()}'\"")
    legacy.execute("SELECT sqlcipher_export('enc')")
    legacy.execute(f"PRAGMA enc.user_version = {legacy.execute('PRAGMA user_version').fetchone()[0]}")
    legacy.execute("DETACH DATABASE enc")
    legacy.close()
    (old / "enc.sqlite3").replace(old / "hall.sqlite3")
    (old / "encryption.json").write_text((data / "encryption.json").read_text())
    assert _hmac_of(old / "hall.sqlite3", key, "HMAC_SHA512")
    _forget_unlocked()
    at_rest._PROFILE.clear()
    again = open_hall(Paths.resolve(old))
    try:
        clerk = actors_of(again)["c02"]
        with again.db.transaction() as s:
            number = intake.register(s, clerk, intake.IntakeForm("11", CITIZEN), now=DAY).number
        with again.db.reading() as s:
            found = queue.page(s, queue.TicketFilter(text=ID[-6:], open_only=False), today=DAY.date())
            assert [r.number for r in found.rows] == [number]
        # Its backups keep its layout (the backup API copies pages as they are) and check good.
        out = tmp_path / "usb" / "old-copy.sqlite3"
        report = backups.take_backup(again.db, out)
        assert _hmac_of(out, key, "HMAC_SHA512") and backups.check_file(out).events == report.events
        # Re-encrypted under another key (sqlcipher_export), a copy is written with the new profile.
        other = at_rest.DataKey(b"\x05" * 32)
        at_rest.copy_database(old / "hall.sqlite3", tmp_path / "other.sqlite3", out_key=other)
        assert _hmac_of(tmp_path / "other.sqlite3", other, "HMAC_SHA256")
        live = ledger_check.digest(again.db).sha256
    finally:
        again.db.dispose()
    # A remembered profile that no longer fits its inode (a file replaced in place) is found again.
    ident = at_rest._inode(old / "hall.sqlite3")
    at_rest._PROFILE[ident] = "HMAC_SHA256"
    conn = at_rest.connect(old / "hall.sqlite3", key=key)
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] > 0
    conn.close()
    assert at_rest._PROFILE[ident] == "HMAC_SHA512"
    assert "hmac check failed" not in capsys.readouterr().err
    _forget_unlocked()
    reopened = open_hall(Paths.resolve(old))
    try:
        assert ledger_check.digest(reopened.db).sha256 == live
    finally:
        reopened.db.dispose()
