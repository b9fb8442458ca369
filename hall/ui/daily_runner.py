"""The hall's daily rules from the main window: a background task, one run at a time, progress in the status bar.

The hourly run is quiet (a failure is logged); the manager's explicit "执行每日规则" shows the report when done,
or — if a run is already going — when that run ends. The run itself commits in short batches
(``daily.run_batched``), so closing the window stops it at the next batch boundary: what was done stays done,
the next start carries on from there.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from hall.errors import HallError
from hall.services.base.actor import Actor
from hall.ui import messages
from hall.ui.background import Task, wait_idle
from hall.ui.ops import OperationTask
from hall.ui.progress import ProgressStrip

if TYPE_CHECKING:
    from hall.ui.ops import Context

log = logging.getLogger("hall.ui.daily")


class DailyStopped(HallError):
    """The window closed during a run: it stopped after its last committed batch."""

    def __init__(self) -> None:
        super().__init__("程序关闭，每日规则已停止（已完成的部分已保存，下次执行时继续）")


class DailyRunner(QObject):
    """Runs ``daily.run_batched`` for the hall's own node as the system; never two runs at once."""

    finished = Signal(object)  # the DailyReport of a run that completed

    def __init__(self, ctx: Context, window: QWidget, strip: ProgressStrip, today: Callable[[], date]) -> None:
        super().__init__(window)
        self.ctx, self.window, self.strip, self._today = ctx, window, strip, today
        self.task: Task | None = None
        self._show_report = False
        self._stopping = threading.Event()

    @property
    def busy(self) -> bool:
        return self.task is not None and self.task.running

    def run(self, *, quiet: bool) -> bool:
        """Start a run (False when one is already going; an explicit request then gets that run's report)."""
        if self.busy:
            self._show_report = self._show_report or not quiet
            return False
        if self._stopping.is_set():
            return False
        self._show_report = not quiet
        system = Actor.system(self.ctx.node.node_id, self.ctx.node.intake_point)
        day, db, stopping, paths = self._today(), self.ctx.db, self._stopping, self.ctx.paths

        def job(progress: Callable[[int, int, str], None]) -> Any:
            from hall.services.cases import daily

            def report(done: int, total: int, what: str) -> None:
                if stopping.is_set():  # called between batches: everything so far is committed
                    raise DailyStopped()
                progress(done, total, what)

            done = daily.run_batched(db, system, day, report)
            if not done.skipped and paths is not None:  # the node that ran the rules signs its chain head
                from hall.services.sync import heads

                heads.sign_now(db, system, paths.data_dir)
            return done

        self.task = OperationTask(self.ctx, job, self)  # what the rules changed reaches every screen, once
        self.task.succeeded.connect(self._succeeded)
        self.task.failed.connect(self._failed)
        self.strip.follow(self.task, self.tr("每日规则"))
        self.task.start()
        return True

    def _succeeded(self, report: Any) -> None:
        if report.skipped:
            # Another PC (or program) holds the day's run: nothing was written here. Said on the status line, and
            # to a manager who asked for the run, as information — never as an error.
            log.info("daily rules skipped here: %s", report.skipped)
            text = self.tr("每日规则：{0}").format(report.skipped)
            status = getattr(self.window, "statusBar", None)
            if callable(status):
                status().showMessage(text, 60_000)
            self.finished.emit(report)
            if self._show_report:
                self._show_report = False
                messages.info(self.window, self.tr("每日规则"), text)
            return
        log.info("daily rules: %s", report)
        self.finished.emit(report)
        if self._show_report:
            self._show_report = False
            messages.info(self.window, self.tr("每日规则"), "\n".join(report.lines()))

    def _failed(self, exc: HallError) -> None:
        log.warning("daily rules not run: %s", exc)
        if self._show_report and not isinstance(exc, DailyStopped):
            messages.error(self.window, self.tr("每日规则"), str(exc))
        self._show_report = False

    def stop(self, timeout_ms: int = 10_000) -> bool:
        """Stop a run at its next batch boundary and wait for it (the window is closing); True when stopped."""
        self._stopping.set()
        if not self.busy:
            return True
        return wait_idle(timeout_ms)
