"""Database work off the GUI thread: the window never waits for a query.

Two shapes, both delivering their result back on the GUI thread through a queued signal:

- :class:`Loader` — one stream of *reads* for one screen (the queue's search, the dashboard, a register). The
  newest request wins: an older one still running is interrupted (SQLite ``interrupt()``, PostgreSQL cancel) and
  its result, if it arrives anyway, is dropped. So typing fast never queues up stale searches.
- :class:`Task` — one long job (daily rules, recomputing deadlines, an export, a backup) that reports progress
  (done, total, what is being done) and is never interrupted half-way; the job itself commits in short
  transactions, so other counters' saves are not held up.

Jobs run on one application-wide pool with a few threads (a long task never starves the search box). The
function a job runs is given its own session (``Loader``) or nothing (``Task``: it opens what it needs); it must
return plain data — frozen dataclasses, tuples — never live ORM objects or widgets.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal

from hall.errors import HallError

# The window shares Python's interpreter lock with every loader thread. With the default 5 ms switch interval a
# repaint (hundreds of calls into a Python table model, each needing the lock) waits 5 ms for every call a busy
# loader wins, so a screen-wide reload ("everything changed") starved the event loop for 50-100 ms on a loaded
# machine. 0.2 ms bounds each wait: the window-wide reload's longest stall went from 46-79 ms (1 ms) to 41-54 ms
# quiet and 40-67 ms at load 3.5 (tests/ui/test_never_blocks.py, 2 cores). The loaders lose little: a switch is
# forced only while another thread waits for the lock, and they mostly wait on SQLite, which releases it.
SWITCH_INTERVAL_S = 0.0002
if sys.getswitchinterval() > SWITCH_INTERVAL_S:
    sys.setswitchinterval(SWITCH_INTERVAL_S)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hall.services.storage.db import Database

log = logging.getLogger("hall.ui.background")

# Screen reads take turns on one thread. Every loader thread running Python at once is one more contender for
# the interpreter lock the window needs for each call into a Python table model while it paints: with four
# loaders busy after "everything changed" a repaint waited 90-160 ms in one run in four (2 cores); with one
# loader the longest wait in a loop of such reloads was 44 ms (the whole window's reload still stalls
# 155-174 ms: the per-cell rowCount/columnCount/headerData calls into Python remain). The reads are short
# (the visible screen's page and counts, each within its budget), a superseded one is interrupted, and hidden
# screens do not read at all, so taking turns costs little.
READ_THREADS = 1
# Long jobs (the daily rules, an export waiting on its child process) have their own threads, so a long one never
# holds up a screen's read, and a second long job does not wait behind the first.
TASK_THREADS = 2

Progress = Callable[[int, int, str], None]  # (done, total — 0 when unknown, what is being done)


def _pool(name: str, threads: int) -> QThreadPool:
    app = QCoreApplication.instance()
    found = app.findChild(QThreadPool, name) if app is not None else None
    if found is None:
        found = QThreadPool(app)
        found.setObjectName(name)
        found.setMaxThreadCount(threads)
        found.setExpiryTimeout(60_000)
    return found


def pool() -> QThreadPool:
    """The application's pool for screen reads (created on first use, owned by the application)."""
    return _pool("hallReadPool", READ_THREADS)


def task_pool() -> QThreadPool:
    """The application's pool for long jobs."""
    return _pool("hallTaskPool", TASK_THREADS)


def active_jobs() -> int:
    """Reads and long jobs running now (0: nothing in the background)."""
    return pool().activeThreadCount() + task_pool().activeThreadCount()


def wait_idle(timeout_ms: int = 30_000) -> bool:
    """Block until every queued job has run (for shutdown and tests); True when both pools drained."""
    deadline = time.monotonic() + timeout_ms / 1000
    # A task may start a read when it ends (and a read a follow-up), so drain until both are empty together.
    while True:
        left = max(0, int((deadline - time.monotonic()) * 1000))
        if not (task_pool().waitForDone(left) and pool().waitForDone(left)):
            return False
        if active_jobs() == 0:
            return True


class _Relay(QObject):
    """Carries a job's outcome from a worker thread to the GUI thread (queued, because it lives there)."""

    finished = Signal(int, bool, object)  # generation, ok, result or exception
    progressed = Signal(int, int, int, str)  # generation, done, total, what


class _ReadJob(QRunnable):
    def __init__(self, db: Database, fn: Callable[[Session], Any], relay: _Relay, generation: int) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.db, self.fn, self.relay, self.generation = db, fn, relay, generation
        self.cancelled = threading.Event()
        self._lock = threading.Lock()
        self._dbapi: Any = None  # the driver connection while our query may be running on it

    def cancel(self) -> None:
        """Stop a query in flight; safe from the GUI thread (the connection is ours while the lock says so)."""
        self.cancelled.set()
        with self._lock:
            conn = self._dbapi
            if conn is None:
                return
            try:
                if hasattr(conn, "interrupt"):  # sqlite3
                    conn.interrupt()
                elif hasattr(conn, "cancel"):  # psycopg
                    conn.cancel()
            except Exception as exc:  # a connection that just finished: nothing to stop
                log.debug("cancel ignored: %s", exc)

    def run(self) -> None:
        if self.cancelled.is_set():
            return
        ok, result = True, None
        try:
            with self.db.reading() as session:
                conn = session.connection().connection.driver_connection
                with self._lock:
                    self._dbapi = conn
                try:
                    if not self.cancelled.is_set():
                        result = self.fn(session)
                finally:
                    with self._lock:
                        self._dbapi = None
        except BaseException as exc:
            ok, result = False, exc
        if self.cancelled.is_set():
            return  # interrupted or superseded: nobody wants this any more
        _emit(self.relay.finished, self.generation, ok, result)


def _emit(signal: Any, *args: Any) -> None:
    with contextlib.suppress(RuntimeError):  # the screen was closed meanwhile (its relay is gone): drop it
        signal.emit(*args)


class Loader(QObject):
    """Background reads for one screen; the newest request wins.

    ``request(fn, done)`` runs ``fn(session)`` in a read transaction on the pool and calls ``done(result)`` on
    the GUI thread — unless a newer request came first. A ``HallError`` goes to ``failed`` (by default logged);
    any other exception is re-raised on the GUI thread, where the crash hook reports it.
    """

    idle = Signal()  # no request in flight any more (tests wait on it; screens may hide a spinner)

    def __init__(self, db: Database, parent: QObject | None = None, *, long: bool = False) -> None:
        super().__init__(parent)
        self.db = db
        # ``long``: a read that takes seconds at a large hall runs on the long jobs' threads, never holding up the
        # screens' reads on theirs.
        self._pool = task_pool if long else pool
        self._generation = 0
        self._job: _ReadJob | None = None
        self._callbacks: tuple[Callable[[Any], None], Callable[[HallError], None] | None] | None = None
        self._relay = _Relay()
        self._relay.finished.connect(self._deliver)
        self.last_ms = 0.0  # how long the last delivered request took, request to delivery
        self._started = 0.0
        self.requests = 0  # reads asked for so far (tests count a screen's reloads with it)

    @property
    def busy(self) -> bool:
        return self._job is not None

    def request(self, fn: Callable[[Session], Any], done: Callable[[Any], None], *,
                failed: Callable[[HallError], None] | None = None) -> None:
        self.cancel()
        self._generation += 1
        self.requests += 1
        self._callbacks = (done, failed)
        self._started = time.perf_counter()
        self._job = _ReadJob(self.db, fn, self._relay, self._generation)
        self._pool().start(self._job)

    def cancel(self) -> None:
        """Forget the request in flight (interrupting its query)."""
        if self._job is not None:
            self._job.cancel()
            self._job = None
            self._callbacks = None

    def _deliver(self, generation: int, ok: bool, result: object) -> None:
        if generation != self._generation or self._callbacks is None:
            return  # superseded
        done, failed = self._callbacks
        self._job, self._callbacks = None, None
        self.last_ms = (time.perf_counter() - self._started) * 1000
        try:
            if ok:
                done(result)
            elif isinstance(result, HallError):
                if failed is not None:
                    failed(result)
                else:
                    log.warning("background read failed: %s", result)
            else:
                raise result  # type: ignore[misc]
        finally:
            self.idle.emit()


class _TaskJob(QRunnable):
    def __init__(self, fn: Callable[[Progress], Any], relay: _Relay, generation: int) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.fn, self.relay, self.generation = fn, relay, generation
        self._last = 0.0

    def _progress(self, done: int, total: int, what: str) -> None:
        now = time.perf_counter()
        if now - self._last >= 0.05 or (total and done >= total):  # at most 20 updates a second reach the GUI
            self._last = now
            _emit(self.relay.progressed, self.generation, done, total, what)

    def run(self) -> None:
        try:
            result, ok = self.fn(self._progress), True
        except BaseException as exc:
            result, ok = exc, False
        _emit(self.relay.finished, self.generation, ok, result)


class Task(QObject):
    """One long job on the pool. Signals arrive on the GUI thread: ``progressed(done, total, what)``, then
    ``succeeded(result)`` or ``failed(error)`` (a ``HallError`` with its Chinese message), then ``ended``.
    An unexpected exception is re-raised on the GUI thread after ``ended`` (the crash hook reports it)."""

    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(object)
    ended = Signal()

    def __init__(self, fn: Callable[[Progress], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self._relay = _Relay()
        self._relay.finished.connect(self._finished)
        self._relay.progressed.connect(self._progressed)
        self.running = False
        self.result: Any = None
        self.error: BaseException | None = None

    def start(self) -> None:
        if self.running:
            return
        self.running = True
        task_pool().start(_TaskJob(self._fn, self._relay, 0))

    def _progressed(self, _generation: int, done: int, total: int, what: str) -> None:
        self.progressed.emit(done, total, what)

    def _finished(self, _generation: int, ok: bool, result: object) -> None:
        self.running = False
        if ok:
            self.result = result
            self.succeeded.emit(result)
            self.ended.emit()
            return
        self.error = result  # type: ignore[assignment]
        if isinstance(result, HallError):
            self.failed.emit(result)
            self.ended.emit()
            return
        self.ended.emit()
        raise result  # type: ignore[misc]
