"""The encryption service the CLI and 管理 → 数据加密 share (hall/services/storage/encryption.py): a recovery code
checked as typed (every code passes in any spelling a person may use, a changed character never does), the state
of a folder as facts, a full disk while turning encryption on told in Chinese with the folder left as it was, and
a PostgreSQL hall refused."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hall.errors import HallError
from hall.services.storage import at_rest, encryption

BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.sampled_from(["-", " ", "", "  "]), st.booleans())
def test_every_code_passes_as_typed_and_says_how_much_is_missing(raw, sep, lower):
    code = at_rest.recovery_code(at_rest.DataKey(raw))
    typed = code.replace("-", sep)
    typed = typed.lower() if lower else typed
    assert encryption.check_code(typed) == encryption.CodeCheck(None)
    chars = code.replace("-", "")
    for n in (0, 1, 4, 55):
        partial = encryption.check_code(chars[:n])
        assert partial.incomplete and f"还差 {56 - n} 个" in (partial.problem or "")


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.integers(0, 55), st.sampled_from(BASE32))
def test_a_changed_character_is_never_accepted(raw, where, other):
    chars = at_rest.recovery_code(at_rest.DataKey(raw)).replace("-", "")
    if chars[where] == other:
        other = "A" if other != "A" else "B"
    typo = chars[:where] + other + chars[where + 1:]
    found = encryption.check_code(typo)
    assert found.problem is not None and not found.incomplete
    assert "校验不通过" in found.problem or "格式不对" in found.problem or "长度不对" in found.problem


def test_characters_outside_the_code_are_named():
    found = encryption.check_code("ABCD-EF9H")  # counted as typed, the dash included
    assert found.problem is not None and "第 8 个字符“9”" in found.problem and "A–Z" in found.problem


def test_a_postgresql_hall_is_refused(tmp_path):
    assert encryption.database_of(tmp_path, "postgresql://u@server/hall") is None
    assert encryption.database_of(tmp_path, None) == tmp_path / "hall.sqlite3"
    assert not encryption.state(tmp_path, None).sqlite
    with pytest.raises(HallError, match="BitLocker"):
        encryption.enable(tmp_path, None)


def test_the_state_counts_encrypted_backups_and_drafts(tmp_path, _sqlite_template):
    data = tmp_path / "data"
    shutil.copytree(_sqlite_template, data)
    (data / "drafts").mkdir(exist_ok=True)
    (data / "drafts" / "intake-1.json").write_text("{}", encoding="utf-8")
    plain = encryption.state(data, data / "hall.sqlite3")
    assert not plain.enabled and plain.drafts == encryption.Files(1, 0) and not plain.database_encrypted
    seen: list[tuple[int, int, str]] = []
    try:
        encryption.enable(data, data / "hall.sqlite3", progress=lambda *a: seen.append(a))
        # Progress in bytes of the whole work: one total, never going back, ending at it.
        assert len({t for _d, t, _w in seen}) == 1 and seen[-1][0] == seen[-1][1]
        assert [d for d, _t, _w in seen] == sorted(d for d, _t, _w in seen)
        assert seen[0] == (0, seen[0][1], "hall.sqlite3") and ("intake-1.json" in {w for *_x, w in seen})
        done = encryption.state(data, data / "hall.sqlite3")
        assert done.enabled and done.key_here and done.database_encrypted and done.drafts.all_encrypted
        assert done.fingerprint.replace(" ", "").lower() == at_rest.status(data).key_id
    finally:
        at_rest.forget(data)


@pytest.fixture
def small_disk(tmp_path):
    """A real tmpfs just larger than the ledger: the encrypted copy does not fit beside it."""
    where = tmp_path / "disk"
    where.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root on Linux")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(where)]).returncode != 0:
        pytest.skip("tmpfs cannot be mounted here")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


def test_a_full_disk_is_told_and_leaves_the_folder_as_it_was(small_disk, _sqlite_template):
    data = small_disk / "data"
    shutil.copytree(_sqlite_template, data)
    ledger = data / "hall.sqlite3"
    before = ledger.read_bytes()
    with open(small_disk / "filler.bin", "wb") as fh:  # leave less room than the encrypted copy needs
        fh.write(b"\0" * max(shutil.disk_usage(small_disk).free - len(before) // 2, 0))
    try:
        with pytest.raises(HallError) as caught:
            encryption.enable(data, ledger)
        assert "磁盘空间不足" in str(caught.value) and "数据保持原样" in str(caught.value)
        assert ledger.read_bytes() == before and not (data / "encryption.json").exists()
        assert [p.name for p in data.iterdir() if p.name.endswith((".enc", ".enc-journal"))] == []
        assert not encryption.needs_recovery(data)
    finally:
        at_rest.forget(data)


def test_the_cli_status_names_the_fingerprint(tmp_path, _sqlite_template, capsys):
    from hall.cli import main

    data = tmp_path / "data"
    shutil.copytree(_sqlite_template, data)
    try:
        assert main(["--data-dir", str(data), "encryption", "status"]) == 0
        assert "未加密" in capsys.readouterr().out
        assert main(["--data-dir", str(data), "encryption", "enable"]) == 0
        capsys.readouterr()
        assert main(["--data-dir", str(data), "encryption", "status"]) == 0
        out = capsys.readouterr().out
        assert "已加密" in out and encryption.fingerprint(at_rest.status(data).key_id) in out
        assert main(["--data-dir", str(data), "--db", "postgresql://u@nowhere/hall", "encryption", "enable"]) == 2
        assert "BitLocker" in capsys.readouterr().err
    finally:
        at_rest.forget(data)
        Path(at_rest.status(data).key_path).unlink(missing_ok=True)
