"""pytest plugin: a throwaway PostgreSQL server on 127.0.0.1 for the tests that must run on PostgreSQL.

Fixtures:
- ``pg_url`` (session): starts a private cluster (initdb + pg_ctl, trust auth, a free port, fsync off) and
  yields ``postgresql+psycopg://postgres@127.0.0.1:PORT/hall_test``; the cluster is stopped and deleted at
  the end of the session.
- ``pg_empty_url`` (function): a fresh, empty database of its own on that server for one test, dropped after.

Tests that use either fixture get the ``pg`` marker, so ``-m "not pg"`` leaves them out. When PostgreSQL's
binaries are missing the tests are skipped with the reason, except under ``CI=true`` where they fail:
CI installs PostgreSQL, so a skip there would hide a broken set-up.

Debian's server binaries live in /usr/lib/postgresql/<major>/bin, outside PATH. initdb and postgres refuse
to run as root, so as root the cluster belongs to the ``postgres`` system user (runuser).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DATABASE = "hall_test"
SUPERUSER = "postgres"
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class PgServer:
    """A running throwaway cluster."""

    bindir: Path
    datadir: Path
    port: int
    run_as: str | None  # system user that owns the cluster, None for the current user
    durable: bool = False  # commits flushed to disk (see start_server)

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={database} connect_timeout=5"


def find_bindir() -> Path | None:
    """Directory holding initdb and pg_ctl: $HALL_PG_BINDIR, else newest Debian major version, else PATH."""
    explicit = os.environ.get("HALL_PG_BINDIR")
    if explicit:
        bindir = Path(explicit)
        return bindir if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file() else None
    candidates = sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda p: _major_version(p.parent.name),
        reverse=True,
    )
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


def _major_version(name: str) -> float:
    try:
        return float(name)
    except ValueError:
        return -1.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _run(cmd: list[str], run_as: str | None, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    if run_as is not None:
        cmd = ["runuser", "-u", run_as, "--", *cmd]
    # cwd: postgres must be able to enter it (root's home is not readable by the postgres user).
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def _check(proc: subprocess.CompletedProcess[str], what: str, log: Path | None = None) -> None:
    if proc.returncode == 0:
        return
    detail = (proc.stdout + proc.stderr).strip()
    if log is not None and log.exists():
        detail += "\n--- server log ---\n" + log.read_text(errors="replace")[-4000:]
    raise RuntimeError(f"PostgreSQL test server: {what} failed (exit {proc.returncode}):\n{detail}")


def start_server(bindir: Path, base: Path, *, durable: bool = False) -> PgServer:
    """initdb + pg_ctl start in ``base``; returns once the server accepts connections.

    ``durable``: every commit is flushed to disk as on a real hall server (benchmarks); the tests' default skips
    that (their data is thrown away)."""
    run_as: str | None = None
    if _is_root():
        import pwd

        try:
            pw = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise RuntimeError("running as root but there is no 'postgres' system user to own the cluster") from exc
        run_as = "postgres"
        os.chown(base, pw.pw_uid, pw.pw_gid)
    datadir = base / "data"
    log = base / "server.log"
    _check(
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(datadir),
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",  # throwaway: durability of the catalog files is pointless
            ],
            run_as,
            base,
            timeout=120,
        ),
        "initdb",
    )
    last_error: RuntimeError | None = None
    # A free port found by bind() can be taken before the server binds it: retry with another one.
    # Unix socket next to the cluster, not in /var/run/postgresql (may not exist, may be the system's);
    # Windows builds have no Unix socket by default.
    socket_dir = "" if os.name == "nt" else f"-k {base} "
    for _attempt in range(3):
        port = _free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} {socket_dir}"
            + ("" if durable else "-c fsync=off -c synchronous_commit=off -c full_page_writes=off ")
            + "-c max_connections=100 -c shared_buffers=32MB"
        )
        proc = _run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(datadir),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                str(int(START_TIMEOUT_S)),
                "start",
            ],
            run_as,
            base,
            timeout=START_TIMEOUT_S + 10,
        )
        try:
            _check(proc, "pg_ctl start", log)
        except RuntimeError as exc:
            last_error = exc
            continue
        server = PgServer(bindir=bindir, datadir=datadir, port=port, run_as=run_as, durable=durable)
        _wait_until_ready(server, log)
        return server
    assert last_error is not None
    raise last_error


def kill_server(server: PgServer) -> None:
    """The server goes away at once, as a power cut or a killed postmaster would take it (``-m immediate``: no
    shutdown checkpoint, every connection dropped, crash recovery at the next start)."""
    _check(_run([str(server.bindir / "pg_ctl"), "-D", str(server.datadir), "-m", "immediate", "-w", "stop"],
                server.run_as, server.datadir.parent, timeout=60), "pg_ctl stop -m immediate")


def restart_server(server: PgServer) -> None:
    """Start a stopped server again on the same port and data (returns once it accepts connections)."""
    base = server.datadir.parent
    log = base / "server.log"
    socket_dir = "" if os.name == "nt" else f"-k {base} "
    options = (f"-c listen_addresses=127.0.0.1 -p {server.port} {socket_dir}"
               + ("" if server.durable else "-c fsync=off -c synchronous_commit=off -c full_page_writes=off ")
               + "-c max_connections=100 -c shared_buffers=32MB")
    _check(_run([str(server.bindir / "pg_ctl"), "-D", str(server.datadir), "-l", str(log), "-o", options, "-w",
                 "-t", str(int(START_TIMEOUT_S)), "start"], server.run_as, base, timeout=START_TIMEOUT_S + 10),
           "pg_ctl start (again)", log)
    _wait_until_ready(server, log)


def _wait_until_ready(server: PgServer, log: Path) -> None:
    """pg_ctl -w already waits; this also proves a TCP login works before any test relies on it."""
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with psycopg.connect(server.conninfo()) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
                raise RuntimeError(f"PostgreSQL test server never accepted connections: {exc}\n{tail}") from exc
            time.sleep(0.05)


def stop_server(server: PgServer) -> None:
    # immediate: the data is thrown away, so skip the shutdown checkpoint.
    with contextlib.suppress(subprocess.TimeoutExpired):
        _run(
            [str(server.bindir / "pg_ctl"), "-D", str(server.datadir), "-m", "immediate", "-w", "stop"],
            server.run_as,
            server.datadir.parent,
            timeout=30,
        )


def _admin_execute(server: PgServer, sql: str) -> None:
    import psycopg

    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute(sql)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL test server unavailable under CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL test server unavailable: {reason}")


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    bindir = find_bindir()
    if bindir is None:
        _unavailable(
            "initdb/pg_ctl not found ($HALL_PG_BINDIR, /usr/lib/postgresql/*/bin, PATH) "
            "(Debian: apt-get install postgresql, or run ./run test which installs it)"
        )
    assert bindir is not None
    # Not tmp_path_factory: its directories are 0700 under root's tree, which the postgres user cannot
    # enter; the socket path must also stay short (sun_path is 107 bytes).
    base = Path(tempfile.mkdtemp(prefix="hall-pg-"))
    server: PgServer | None = None
    try:
        try:
            server = start_server(bindir, base)
            _admin_execute(server, f"CREATE DATABASE \"{DATABASE}\" TEMPLATE template0 ENCODING 'UTF8'")
        except Exception as exc:  # any start-up failure: skip or (CI) fail with the server's own words
            _unavailable(f"{type(exc).__name__}: {exc}")
        assert server is not None
        yield server
    finally:
        if server is not None:
            stop_server(server)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_url(pg_server: PgServer) -> str:
    """SQLAlchemy URL of the session's ``hall_test`` database on the throwaway server."""
    return pg_server.url()


@pytest.fixture
def pg_empty_url(pg_server: PgServer) -> Iterator[str]:
    """SQLAlchemy URL of a brand-new empty database for this test alone; dropped afterwards."""
    name = f"hall_t_{uuid.uuid4().hex[:12]}"
    _admin_execute(pg_server, f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
    try:
        yield pg_server.url(name)
    finally:
        # FORCE: a test that left an engine undisposed must not make teardown hang or fail.
        _admin_execute(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pg: needs the PostgreSQL server started by the test session")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if {"pg_url", "pg_empty_url", "pg_server"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.pg)
