"""The real entry points start: `hall` through its composition root to the main window, `hall-admin` to a command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest


def _env(home) -> dict[str, str]:
    return dict(os.environ, HALL_HOME=str(home), QT_QPA_PLATFORM="offscreen")


def test_hall_version():
    out = subprocess.run([sys.executable, "-m", "hall", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("Hall ")


@pytest.mark.gui
def test_hall_starts_logs_in_and_shows_the_main_window(_sqlite_template, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(_sqlite_template, home)
    env = dict(_env(home), HALL_STARTUP_PROBE="main:c02:clerk-pass-1")
    proc = subprocess.run([sys.executable, "-m", "hall"], capture_output=True, text=True, timeout=120, env=env)
    lines = proc.stdout.splitlines()
    assert lines[:3] == ["interactive: login", "submitted: login", "interactive: main"], proc.stderr[-2000:]
    assert proc.returncode == 0
    assert (home / "logs" / "hall.log").read_text(encoding="utf-8").count("started") >= 1


@pytest.mark.gui
def test_hall_reports_a_corrupt_ledger_and_exits(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "hall.sqlite3").write_bytes(b"a spreadsheet, not a ledger" * 100)
    env = dict(_env(home), HALL_STARTUP_PROBE="login")
    proc = subprocess.run([sys.executable, "-m", "hall"], capture_output=True, text=True, timeout=60, env=env)
    # A scripted start prints the message it would show; no hang, no traceback.
    assert proc.returncode == 2
    assert "message: 无法打开数据库: 数据文件已损坏或不是 Hall 的数据文件" in proc.stdout
    assert "Traceback" not in proc.stderr


@pytest.mark.gui
def test_hall_asks_for_the_recovery_code_when_the_key_is_not_on_this_pc(_sqlite_template, tmp_path):
    from pathlib import Path

    from hall.cli import main
    from hall.services.storage import at_rest

    home = tmp_path / "home"
    shutil.copytree(_sqlite_template, home)
    code_file = tmp_path / "code.txt"
    try:
        assert main(["--data-dir", str(home), "encryption", "enable", "--code-out", str(code_file)]) == 0
        key_file = Path(at_rest.status(home).key_path)
        key_file.unlink()  # a reinstalled PC: the folder came back from a backup, its key did not
        env = dict(_env(home), HALL_STARTUP_PROBE="login")
        proc = subprocess.run([sys.executable, "-m", "hall"], capture_output=True, text=True, timeout=60, env=env)
        assert proc.stdout.splitlines()[0] == "recovery: asked", proc.stdout  # before the login, not after
        assert proc.returncode == 2 and "已加密，但本机没有它的数据密钥" in proc.stdout
        assert "Traceback" not in proc.stderr
        assert main(["--data-dir", str(home), "encryption", "recover", "--code", code_file.read_text().strip()]) == 0
        env = dict(_env(home), HALL_STARTUP_PROBE="main:c02:clerk-pass-1")
        proc = subprocess.run([sys.executable, "-m", "hall"], capture_output=True, text=True, timeout=120, env=env)
        assert proc.stdout.splitlines()[:3] == ["interactive: login", "submitted: login", "interactive: main"]
        assert proc.returncode == 0, proc.stderr[-2000:]
    finally:
        at_rest.forget(home)


def test_hall_admin_bad_command_is_one_chinese_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "hall.cli", "ticket", "show", "no-such-number"], capture_output=True,
                          text=True, timeout=120, env=_env(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("错误：") and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr
