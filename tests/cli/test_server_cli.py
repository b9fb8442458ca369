"""`hall-admin server init` as an administrator runs it, in real processes on the real PostgreSQL server: an empty
database becomes a hall (schema, catalogue, calendar, first admin); a second run says so and changes nothing; the
password is asked twice on a real terminal (a pty) and never echoed, or read from a file; passwords never reach
the screen or the log; a database that is not empty and not a hall is refused untouched."""

from __future__ import annotations

import os
import select as io_select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from hall.models import CalendarYear, Event, Item, Staff
from hall.services.storage.db import normalise_url

DB_SECRET = "db-Secret-93k"  # in the address (the test server trusts 127.0.0.1, so it is never checked)
ADMIN_PASSWORD = "Admin-pass-2026"
CLI = "import sys; from hall.cli import main; sys.exit(main())"


def _with_secret(url: str) -> str:
    return url.replace("postgres@", f"postgres:{DB_SECRET}@").replace("postgresql+psycopg://", "postgresql://")


def _admin(home: Path, *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HALL_HOME": str(home)}
    return subprocess.run([sys.executable, "-c", CLI, *argv], input=stdin, capture_output=True, text=True, env=env,
                          timeout=180)


def _fingerprint(url: str) -> dict[str, object]:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            tables = sorted(inspect(conn).get_table_names())
            if "events" not in tables:
                return {"tables": tables}
            return {"tables": tables, "events": conn.scalar(select(func.count()).select_from(Event)),
                    "staff": conn.execute(select(Staff.staff_no, Staff.password_hash).order_by(Staff.id)).all(),
                    "version": conn.scalar(text("SELECT version_num FROM alembic_version"))}
    finally:
        engine.dispose()


def test_init_makes_an_empty_database_a_hall_and_a_second_init_changes_nothing(pg_empty_url, tmp_path):
    url = _with_secret(pg_empty_url)
    secret_file = tmp_path / "admin.txt"
    secret_file.write_text(ADMIN_PASSWORD + "\n", encoding="utf-8")
    home = tmp_path / "admin-pc"
    first = _admin(home, "server", "init", "--db", url, "--admin-password-file", str(secret_file))
    assert first.returncode == 0, first.stderr
    out = first.stdout
    port_db = url.split("@", 1)[1]
    assert f"服务器 {port_db} 已初始化" in out
    assert "事项清单：76 项" in out and "节假日日历：" in out and "管理员：工号 admin" in out
    assert f"hall --db postgresql://postgres@{port_db}" in out  # how the counters start: no password in it
    assert DB_SECRET not in out + first.stderr and ADMIN_PASSWORD not in out + first.stderr
    assert "postgresql://postgres:***@" in out  # the address shown, masked
    log = (home / "logs" / "hall.log").read_text(encoding="utf-8")
    assert "hall server" in log and DB_SECRET not in log and ADMIN_PASSWORD not in log

    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Item).where(Item.is_current)) == 76
        assert conn.scalar(select(func.count()).select_from(CalendarYear)) >= 1
    engine.dispose()
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.people import staff

    opened = open_hall(Paths.resolve(tmp_path / "counter-pc"), url)  # a counter starting on it
    try:
        assert not opened.needs_admin
        with opened.db.reading() as s:
            assert staff.authenticate(s, "admin", ADMIN_PASSWORD, opened.node).role == "admin"
    finally:
        opened.db.dispose()

    before = _fingerprint(url)
    again = _admin(tmp_path / "another-pc", "server", "init", "--db", url)  # no password: none is asked
    assert again.returncode == 0, again.stderr
    assert "已经初始化" in again.stdout and "未做任何更改" in again.stdout
    assert _fingerprint(url) == before


def test_the_password_is_asked_twice_on_a_terminal_and_never_echoed(pg_empty_url, tmp_path):
    import pty

    def session(url: str, answers: list[str]) -> tuple[int, str]:
        """The command on a terminal of its own (its controlling tty: getpass turns echo off there); each answer
        typed once its prompt is on the screen. Returns the exit code and everything the screen showed."""
        env = {**os.environ, "HALL_HOME": str(tmp_path / "pc")}
        pid, fd = pty.fork()
        if pid == 0:  # the child: straight into a fresh interpreter
            os.execve(sys.executable, [sys.executable, "-c", CLI, "server", "init", "--db", url], env)
        screen = b""
        prompts = ["至少8位：", "再输入一次："]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            ready, _, _ = io_select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child has closed the terminal
                break
            if not chunk:
                break
            screen += chunk
            if answers and prompts and screen.decode("utf-8", "ignore").endswith(prompts[0]):
                prompts.pop(0)
                os.write(fd, (answers.pop(0) + "\n").encode())
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        return os.waitstatus_to_exitcode(status), screen.decode("utf-8", "replace")

    url = _with_secret(pg_empty_url)
    code, screen = session(url, [ADMIN_PASSWORD, ADMIN_PASSWORD + "x"])
    assert code == 2 and "两次输入不一致，未做任何更改" in screen, screen
    assert _fingerprint(url) == {"tables": []}  # nothing written
    code, screen = session(url, [ADMIN_PASSWORD, ADMIN_PASSWORD])
    assert code == 0, screen
    assert "设置管理员（工号 admin）密码，至少8位：" in screen and "再输入一次：" in screen
    assert "已初始化" in screen
    assert ADMIN_PASSWORD not in screen and DB_SECRET not in screen  # never echoed, never shown


def test_no_terminal_and_no_file_and_bad_passwords_change_nothing(pg_empty_url, tmp_path):
    url = _with_secret(pg_empty_url)
    res = _admin(tmp_path / "pc", "server", "init", "--db", url)  # stdin is not a terminal here
    assert res.returncode == 2 and "--admin-password-file" in res.stderr
    short = tmp_path / "short.txt"
    short.write_text("abc\n", encoding="utf-8")
    res = _admin(tmp_path / "pc", "server", "init", "--db", url, "--admin-password-file", str(short))
    assert res.returncode == 2 and "密码：至少8位" in res.stderr
    res = _admin(tmp_path / "pc", "server", "init", "--db", url, "--admin-password-file", "-", stdin="")
    assert res.returncode == 2 and "第一行为空" in res.stderr
    res = _admin(tmp_path / "pc", "server", "init", "--db", "postgresql://hall@/hall",
                 "--admin-password-file", str(short))
    assert res.returncode == 2 and "数据库地址：缺少服务器名" in res.stderr
    assert _fingerprint(url) == {"tables": []}
    assert all(DB_SECRET not in r for r in (res.stdout, res.stderr))


def test_a_database_that_is_not_a_hall_is_refused_untouched(pg_empty_url, tmp_path):
    url = _with_secret(pg_empty_url)
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE payroll (id int)"))
    engine.dispose()
    secret_file = tmp_path / "admin.txt"
    secret_file.write_text(ADMIN_PASSWORD, encoding="utf-8")
    res = _admin(tmp_path / "pc", "server", "init", "--db", url, "--admin-password-file", str(secret_file))
    assert res.returncode == 2
    assert "不是空的，也不是 Hall 的数据库：未做任何更改" in res.stderr
    assert _fingerprint(url) == {"tables": ["payroll"]}


def test_an_unreachable_server_is_named_without_its_password(tmp_path):
    res = _admin(tmp_path / "pc", "server", "init", "--db", f"postgresql://hall:{DB_SECRET}@127.0.0.1:1/hall")
    assert res.returncode == 2
    assert "无法连接数据库服务器 127.0.0.1:1/hall" in res.stderr, res.stderr
    assert DB_SECRET not in res.stdout + res.stderr and "Traceback" not in res.stderr


# pty.fork() in a process with threads (Python ≥ 3.12 warns): the child execs at once, so nothing can deadlock.
pytestmark = pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
