"""An Excel export written by a process of its own, so the window's interpreter never waits for it.

Building a workbook is pure-Python work (openpyxl makes an object of every cell and hashes its styles) that holds
the interpreter lock for as long as it runs — seconds for a month at a large hall. On a thread of the window's
process it shares that lock with the GUI thread, and the GUI thread takes the lock again for every call Qt makes
into Python while painting: repainting the statistics table is ~1,700 calls into its model. Each call the
exporter wins costs the GUI thread the interpreter's switch interval (5 ms), and more when the machine is busy
and the exporter is descheduled while holding the lock: at 1,000,000 tickets the window stalled 30–430 ms during
an export where the same repaints stall it 10–40 ms without one (benchmarks/README.md, "Export stall").
A shorter switch interval or a lower thread priority only shortens that coupling (and a lower priority makes it
worse on a busy machine: the GUI waits for a lock held by a thread the scheduler now runs less); a process of its
own removes it. The child also runs below the window's priority, so a busy machine serves the window first.

The child opens the same database by URL for one read transaction (SQLite: one more reader of the WAL file that
leaves checkpoints to the program; PostgreSQL: one more connection), runs the exporter — which writes its file
atomically — and sends back the :class:`~hall.exchange.reports_xlsx.ReportResult` or the person's message.
Nothing here imports Qt: the statistics screen calls :func:`run` from a background task.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import traceback
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hall.errors import HallError
from hall.exchange import reports_xlsx
from hall.exchange.reports_xlsx import ReportResult
from hall.exchange.write_errors import writing
from hall.services.base.actor import Actor
from hall.services.reporting.stats import Period

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hall.services.storage.db import Database

log = logging.getLogger("hall.exchange.export_process")

KINDS = ("monthly", "performance", "overdue", "ledger")
CHILD_NICE = 10  # POSIX: the scheduler gives the window ~10× the child's share while both want a core


@dataclass(frozen=True)
class ExportJob:
    """One workbook the statistics screen writes: which exporter, for whom, of what, to where."""

    kind: str  # one of KINDS: 月报/季报 (every sheet), 效绩考核, 超期办件清单, masked 办件登记台账
    period: Period
    path: Path
    today: date
    actor: Actor


def write(session: Session, job: ExportJob) -> ReportResult:
    """The exporter ``job`` names, in ``session`` — what the child runs (and what an in-process caller may run)."""
    if job.kind == "monthly":
        return reports_xlsx.monthly_or_quarterly(session, job.period, job.path, today=job.today, actor=job.actor)
    if job.kind == "performance":
        return reports_xlsx.write_performance(session, job.actor, job.period, job.path, today=job.today)
    if job.kind == "overdue":
        return reports_xlsx.write_overdue(session, job.actor, job.period, job.path, today=job.today)
    if job.kind == "ledger":
        return reports_xlsx.write_ledger(session, job.actor, job.period, job.path, today=job.today)
    raise ValueError(f"unknown export {job.kind!r}")


def run(job: ExportJob, db: Database) -> ReportResult:
    """Write ``job``'s workbook in a child process reading ``db``'s database; blocks until it is done (call it
    from a background task). A person's problem — a refused permission, a full disk, a bad file name — is raised
    as a ``HallError`` with the exporter's own message; anything else as a ``RuntimeError`` with the child's
    traceback."""
    if job.kind not in KINDS:
        raise ValueError(f"unknown export {job.kind!r}")
    url = db.engine.url.render_as_string(hide_password=False)  # travels through the pipe, never a command line
    ctx = multiprocessing.get_context("spawn")  # the one start method of every platform (and of a frozen bundle)
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(send, job, url), name="hall-export", daemon=True)
    child.start()
    _below_us(child.pid)  # before the child's imports, half a second of CPU on a counter PC
    send.close()  # the child holds the only sending end now: if it dies, recv() ends instead of waiting forever
    try:
        outcome: tuple[Any, ...] | None = receive.recv()
    except EOFError:
        outcome = None
    finally:
        receive.close()
        child.join()
    if outcome is None:
        raise HallError(f"导出未完成：导出进程意外退出（退出码 {child.exitcode}），请重试。")
    status, payload, pid, priority = outcome
    log.debug("export %s by process %s (priority %s): %s", job.kind, pid, priority, status)
    if status == "ok":
        return payload  # type: ignore[no-any-return]
    if status == "message":
        raise HallError(payload)
    raise RuntimeError(f"the export process failed:\n{payload}")


def _child(send: Any, job: ExportJob, url: str) -> None:
    """The child process: below the window's priority, one read transaction, the exporter, the outcome sent."""
    from hall.services.storage.db import Database

    if sys.platform == "win32":  # (POSIX: the parent has lowered it already)
        _lower_own_priority()
    outcome: tuple[str, Any]
    try:
        db = Database.open(url, reader=True)
        try:
            with db.reading() as session:
                outcome = ("ok", writing(job.path, lambda: write(session, job)))
        finally:
            db.dispose()
    except HallError as exc:  # sent as its message: the person reads it as the exporter worded it
        outcome = ("message", str(exc))
    except BaseException:
        outcome = ("failed", traceback.format_exc())
    send.send((*outcome, os.getpid(), _priority()))
    send.close()


def _below_us(pid: int | None) -> None:
    """POSIX: the child ``CHILD_NICE`` steps below this process (a process may always lower its children)."""
    if pid is None or not hasattr(os, "setpriority"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, pid, min(os.getpriority(os.PRIO_PROCESS, 0) + CHILD_NICE, 19))
    except OSError as exc:  # gone already, or not allowed here: the export still runs, at our priority
        log.debug("export process keeps its priority: %s", exc)


def _lower_own_priority() -> None:
    """Windows: below normal for the rest of the child's life (its start-up ran at the window's priority)."""
    try:
        import ctypes

        below_normal = 0x00004000  # BELOW_NORMAL_PRIORITY_CLASS
        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        kernel32.SetPriorityClass(kernel32.GetCurrentProcess(), below_normal)
    except (OSError, AttributeError) as exc:
        log.debug("export process keeps its priority: %s", exc)


def _priority() -> int | None:
    return os.getpriority(os.PRIO_PROCESS, 0) if hasattr(os, "getpriority") else None
