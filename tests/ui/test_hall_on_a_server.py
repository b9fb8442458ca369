"""`hall --db postgresql://…` as a counter starts it, in a real process on the real PostgreSQL server: it logs in
and shows the main window; the address is saved without its password; an unreachable server is named in the
message; the password never reaches the screen, the log or the settings."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

pytestmark = pytest.mark.gui  # the PostgreSQL ones are marked pg through their fixtures
SECRET = "Counter-db-pw-41"  # the test server trusts 127.0.0.1: any password connects


@pytest.fixture
def server_url(pg_server, _pg_template):
    from pgserver import _admin_execute

    name = f"hall_t_{uuid.uuid4().hex[:12]}"
    _admin_execute(pg_server, f'CREATE DATABASE "{name}" TEMPLATE "{_pg_template[0]}"')
    yield f"postgresql://postgres:{SECRET}@127.0.0.1:{pg_server.port}/{name}"
    _admin_execute(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _hall(home, probe: str, *argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HALL_HOME=str(home), QT_QPA_PLATFORM="offscreen", HALL_STARTUP_PROBE=probe,
               HALL_SETTINGS=str(home / "settings.ini"))
    return subprocess.run([sys.executable, "-m", "hall", *argv], capture_output=True, text=True, timeout=120, env=env)


def test_a_counter_starts_on_the_hall_server_and_keeps_its_password_to_itself(server_url, tmp_path):
    home = tmp_path / "counter"
    proc = _hall(home, "main:c02:clerk-pass-1", "--db", server_url)
    assert proc.stdout.splitlines()[:3] == ["interactive: login", "submitted: login", "interactive: main"], \
        proc.stderr[-2000:]
    assert proc.returncode == 0
    log = (home / "logs" / "hall.log").read_text(encoding="utf-8")
    where = server_url.split("@", 1)[1]
    assert f"database postgresql://postgres:***@{where}" in log
    settings = (home / "settings.ini").read_text(encoding="utf-8")
    assert f"postgresql://postgres@{where}" in settings
    for text in (proc.stdout, proc.stderr, log, settings):
        assert SECRET not in text
    assert not (home / "hall.sqlite3").exists()  # a counter on the server keeps no ledger of its own


def test_an_unreachable_server_is_named_and_the_program_exits_cleanly(tmp_path):
    home = tmp_path / "counter"
    proc = _hall(home, "login", "--db", f"postgresql://hall:{SECRET}@127.0.0.1:1/hall")
    assert proc.returncode == 2
    assert "message: 无法打开数据库: 无法连接数据库服务器 127.0.0.1:1/hall" in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stderr
    log = (home / "logs" / "hall.log").read_text(encoding="utf-8")
    for text in (proc.stdout, proc.stderr, log):
        assert SECRET not in text
