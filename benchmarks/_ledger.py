"""Shared pieces of the benchmarks: cached demo ledgers, per-run working copies, the "cache untouched" check,
percentiles and the machine-load line.

The cached ledgers under ``benchmarks/.data/ledger-N/`` are built once and **never written to**: a benchmark
that writes (or opens the ledger through ``open_hall``, which seeds, migrates and checkpoints) works on
``working_copy(home)``, a directory unique to its process, removed when the process exits. Wrap the run in
``untouched(home)`` to prove it::

    from _ledger import cached_ledger, load_line, untouched, working_copy

    home = cached_ledger(1_000_000)
    with untouched(home):
        work = working_copy(home)          # benchmarks/.data/work-ledger-1000000-<pid>-xxxx/, gone at exit
        opened = open_hall(Paths(work))
        ...
    print(load_line())

Scripts are run as ``python benchmarks/bench_x.py``, so this directory is on ``sys.path`` and ``import _ledger``
works without packaging.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / ".data"
SEED = 20260101
FIRST, LAST = date(2016, 1, 1), date(2025, 12, 31)  # fixed, so the cached ledger is the same on every machine
DATABASE = "hall.sqlite3"


# ---------------------------------------------------------------------------------------------- the application

def load_application_services() -> int:
    """The program's projections, as every database opened through ``open_hall`` has them installed; returns how
    many event types they project. (Projections are installed explicitly, never by import order, so a benchmark
    measures the counter's path whatever it imported.)"""
    from hall.services import projections

    built = projections.build()
    assert "ticket.closed" in built.one
    return len(built.one)


# ---------------------------------------------------------------------------------------------- cached ledgers

def _schema() -> str:
    from hall.migrations import HEAD

    return HEAD


def _current(marker: Path) -> bool:
    """Whether a cache was written by this schema: a cache from an older release would be upgraded in every
    working copy (minutes at 1M, timed as if it were the benchmark) and cannot be opened read-only."""
    return json.loads(marker.read_text(encoding="utf-8")).get("schema") == _schema()


def cached_ledger(tickets: int, *, name: str = "ledger", seed: int = SEED, start: date = FIRST,
                  end: date = LAST) -> Path:
    """The data directory ``benchmarks/.data/{name}-{tickets}/`` of a demo ledger (``seed``, tickets received
    ``start`` … ``end``), built on first use."""
    DATA.mkdir(exist_ok=True)
    (DATA / ".gitignore").write_text("*\n")
    home = DATA / f"{name}-{tickets}"
    marker = home / "demo-data.json"
    if marker.exists() and _current(marker):
        return home
    if marker.exists() and _upgraded(home, marker):
        return home
    if home.exists():
        shutil.rmtree(home)  # a half-built one from an interrupted run, or one written by an older schema
    from hall.demo import data as demo_data
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall

    print(f"building the {tickets:,}-ticket demo ledger in {home} (once) …", flush=True)
    opened = open_hall(Paths(home))
    report = demo_data.generate(opened.db, opened.node, tickets, seed=seed, start=start, end=end,
                                progress=lambda d, t: print(f"\r  {d:,}/{t:,}", end="", flush=True))
    opened.db.dispose()  # stops the checkpointer with a TRUNCATE checkpoint: the cache is one file, no WAL
    # Readers open the cache immutable, so it must be one self-contained file: make sure the WAL is gone.
    conn = sqlite3.connect(home / DATABASE, timeout=120)
    try:
        busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0, "the write-ahead log could not be checkpointed"
    finally:
        conn.close()
    print(f"\r  {report.tickets:,} tickets, {report.events:,} events in {report.seconds:.0f} s "
          f"({report.rate:,.0f} tickets/s)")
    marker.write_text(json.dumps({"tickets": report.tickets, "events": report.events, "seconds": report.seconds,
                                  "by_state": report.by_state, "built": datetime.now().isoformat(timespec="seconds"),
                                  "schema": _schema()}))
    return home


def _upgraded(home: Path, marker: Path) -> bool:
    """A cache of an older schema brought up to this one by the program's own migrations (a new migration that only
    adds tables costs seconds, not the minutes of a rebuild at 1M); False when that fails, and then it is rebuilt.
    The data is what an upgraded hall holds, which is what a hall that installed the new release has."""
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall

    print(f"upgrading the cached ledger {home} from schema {json.loads(marker.read_text())['schema']} "
          f"to {_schema()} …", flush=True)
    try:
        opened = open_hall(Paths(home))
        opened.db.dispose()
        conn = sqlite3.connect(home / DATABASE, timeout=120)
        try:
            busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.close()
        if busy:
            return False
        # The program keeps a copy of the ledger from before an upgrade; in the cache it would only double the size
        # and the time of every working copy.
        for before in (home / "backups").glob("hall-before-upgrade-*"):
            before.unlink()
    except Exception as exc:  # any failure: rebuild from scratch instead
        print(f"  upgrade failed ({exc!r}); rebuilding", flush=True)
        return False
    info = json.loads(marker.read_text(encoding="utf-8"))
    info["schema"] = _schema()
    info["upgraded"] = datetime.now().isoformat(timespec="seconds")
    marker.write_text(json.dumps(info))
    return True


_COPIES: list[Path] = []


def working_copy(home: Path) -> Path:
    """A private copy of the ledger directory ``home``, unique to this process and removed at exit.

    Two benchmarks running at once each get their own copy. Leftovers of killed runs (their process is gone)
    are removed first, so the 4 GB copies of a 1M ledger do not pile up.
    """
    _remove_orphans()
    _install_exit_cleanup()
    work = Path(tempfile.mkdtemp(prefix=f"work-{home.name}-{os.getpid()}-", dir=DATA))
    _COPIES.append(work)
    if (home / f"{DATABASE}-wal").exists() and (home / f"{DATABASE}-wal").stat().st_size:
        print(f"note: {home.name} has a write-ahead log; copying it with the database", flush=True)
    t0 = time.perf_counter()
    for src in home.rglob("*"):
        if src.name.endswith("-shm"):
            continue  # shared-memory index of live connections: never part of a copy
        dst = work / src.relative_to(home)
        if src.is_dir():
            dst.mkdir(parents=True, exist_ok=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    size = sum(p.stat().st_size for p in work.rglob("*") if p.is_file())
    print(f"working copy: {work} ({size / 1e9:.2f} GB in {time.perf_counter() - t0:.0f} s; removed at exit)",
          flush=True)
    return work


def scratch_dir(name: str) -> Path:
    """An empty directory under ``benchmarks/.data/`` unique to this process, removed at exit."""
    _remove_orphans()
    _install_exit_cleanup()
    DATA.mkdir(exist_ok=True)
    (DATA / ".gitignore").write_text("*\n")
    work = Path(tempfile.mkdtemp(prefix=f"work-{name}-{os.getpid()}-", dir=DATA))
    _COPIES.append(work)
    return work


def remove_copy(work: Path) -> None:
    """Remove a working copy now (it is removed at exit anyway)."""
    shutil.rmtree(work, ignore_errors=True)
    if work in _COPIES:
        _COPIES.remove(work)


def _remove_all_copies() -> None:
    for work in list(_COPIES):
        remove_copy(work)


_cleanup_installed = False


def _install_exit_cleanup() -> None:
    global _cleanup_installed
    if _cleanup_installed:
        return
    _cleanup_installed = True
    atexit.register(_remove_all_copies)
    # SIGTERM (kill, timeout) would skip atexit; turn it into a normal exit when nobody else handles it.
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _exit_on_signal)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _remove_orphans() -> None:
    if not DATA.exists():
        return
    for old in DATA.glob("work-*-*-*"):
        try:
            pid = int(old.name.rsplit("-", 2)[-2])
        except ValueError:
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(old, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---------------------------------------------------------------------------------------------- cache untouched

def fingerprint(home: Path) -> dict[str, Any]:
    """What would change if anything wrote to the ledger directory: every file's size and mtime (the ``-shm``
    index excepted: readers write to it) and the event/ticket counts read without locking or writing."""
    files = {str(p.relative_to(home)): (p.stat().st_size, p.stat().st_mtime_ns)
             for p in sorted(home.rglob("*")) if p.is_file() and not p.name.endswith("-shm")}
    out: dict[str, Any] = {"files": files}
    db = home / DATABASE
    if db.exists():
        # immutable=1: no lock, no -wal/-shm created; the file stats above catch anything a WAL would hold.
        conn = sqlite3.connect(f"file:{db.as_posix()}?immutable=1", uri=True)
        try:
            out["events"] = conn.execute("SELECT count(*), max(id) FROM events").fetchone()
            out["tickets_max_id"] = conn.execute("SELECT max(id) FROM tickets").fetchone()[0]
            out["heads"] = conn.execute("SELECT node_id, seq, hash FROM node_heads ORDER BY node_id").fetchall()
        finally:
            conn.close()
    return out


class LedgerChanged(AssertionError):
    """A benchmark wrote to its cached ledger."""


def check_unchanged(home: Path, before: dict[str, Any]) -> str:
    """Raise ``LedgerChanged`` naming what differs; return a one-line confirmation otherwise."""
    after = fingerprint(home)
    if after != before:
        diff = [f"{k}: {before.get(k)!r} → {after.get(k)!r}" for k in sorted(set(before) | set(after))
                if before.get(k) != after.get(k)]
        raise LedgerChanged(f"the cached ledger {home} was written to: " + "; ".join(diff)[:2000])
    events = before.get("events", (0, 0))[0]
    size = sum(s for s, _m in before["files"].values())
    return f"cached ledger unchanged: {home.name}, {events:,} events, {size / 1e9:.2f} GB, same files and mtimes"


@contextlib.contextmanager
def untouched(home: Path) -> Iterator[None]:
    """Fail the benchmark if the cached ledger ``home`` changed while the block ran (checked even on errors
    inside the block, which are then re-raised)."""
    before = fingerprint(home)
    try:
        yield
    finally:
        print(check_unchanged(home, before), flush=True)


# ---------------------------------------------------------------------------------------------- figures

def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0–100) of ``values``."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


def summary(name: str, ms: list[float], width: int = 34) -> str:
    """``name  p50 … p90 … p99 … max … mean … (n=…)`` in milliseconds."""
    return (f"{name:<{width}} p50 {pct(ms, 50):6.2f} ms   p90 {pct(ms, 90):6.2f} ms   p99 {pct(ms, 99):6.2f} ms   "
            f"max {max(ms):7.2f} ms   mean {statistics.fmean(ms):6.2f} ms   (n={len(ms)})")


def timed(fn: Callable[[], object], runs: int, warm: int = 1) -> list[float]:
    """``fn`` called ``warm`` times untimed, then ``runs`` times; each call's wall time in ms."""
    for _ in range(warm):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def load_line() -> str:
    """The machine's load as ``uptime`` prints it, with the date: print it beside every figure."""
    try:
        text = subprocess.run(["uptime"], capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        one, five, fifteen = os.getloadavg()
        text = f"load average: {one:.2f}, {five:.2f}, {fifteen:.2f}"
    return f"{datetime.now():%Y-%m-%d %H:%M:%S}  uptime: {text}  ({os.cpu_count()} cores)"
