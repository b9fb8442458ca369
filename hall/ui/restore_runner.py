"""The restore itself, run by the composition root after the main window has closed and the database is closed.

:class:`RestoreDialog` runs :func:`hall.services.backup_chain.restore_any` on a background :class:`Task` (the
window keeps repainting, a progress bar runs), then says what happened — the restored events, where the replaced
database was put aside, whether numbering was raised — or the service's Chinese message (a corrupt backup, a
full disk, a database still open in another program: nothing changed). Either way the program goes on to the
login, on the restored database or the untouched one.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from hall.errors import HallError
from hall.services import backup_chain, backup_list, backups
from hall.ui.background import Progress, Task
from hall.ui.progress import ProgressStrip
from hall.ui.screen_fit import text_size


class RestoreDialog(QDialog):
    def __init__(self, backup: Path, target: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backup, self.target = backup, target
        self.report: backups.RestoreReport | None = None
        self.error: HallError | None = None
        self.setObjectName("restoreDialog")
        self.setWindowTitle(self.tr("从备份恢复"))
        self.setMinimumWidth(text_size(self, 40, 0).width())
        layout = QVBoxLayout(self)
        self.text = QLabel(self.tr("正在从 {0} 恢复数据库，请勿关闭电脑……").format(backup.name))
        self.text.setObjectName("restoreText")
        self.text.setWordWrap(True)
        layout.addWidget(self.text)
        self.progress = ProgressStrip()
        layout.addWidget(self.progress)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("重新登录(&L)"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.setEnabled(False)
        layout.addWidget(self.buttons)
        restoring = self.tr("核验备份、移开现有数据库、放入恢复的数据库")

        def job(progress: Progress) -> backups.RestoreReport:
            progress(0, 0, restoring)
            return backup_chain.restore_any(backup, target)

        self.task = Task(job, self)
        self.task.succeeded.connect(self._restored)
        self.task.failed.connect(self._failed)
        self.task.ended.connect(lambda: self.buttons.setEnabled(True))
        self.progress.follow(self.task, self.tr("恢复"))
        self.task.start()

    @property
    def running(self) -> bool:
        return self.task.running

    def _restored(self, report: backups.RestoreReport) -> None:
        self.report = report
        lines = [self.tr("已从 {0} 恢复：台账 {1} 条事件，哈希链与文件结构核验通过，状态摘要与备份一致。")
                 .format(report.restored_from.name, report.events)]
        if report.moved_aside:
            lines.append(self.tr("原数据库已移到一旁保留：") + "、".join(p.name for p in report.moved_aside))
        if report.serials_raised:
            lines.append(self.tr("办件编号：{0} 个受理点日期的序号已调到原数据库发出的最大编号之后，不会重号。")
                         .format(report.serials_raised))
        lines += [self.tr("注意：") + note for note in report.notes]
        self.text.setText("\n".join(lines))

    def _failed(self, exc: HallError) -> None:
        self.error = exc
        self.text.setText(self.tr("未能恢复：") + str(exc) + "\n" + self.tr("现有数据库未做改动，仍可照常登录。"))

    def reject(self) -> None:
        if self.running:  # a restore half-done must not be walked away from; it takes seconds
            return
        super().reject()


def release(opened: object) -> None:
    """Close ``opened``'s database for good: no screen's read or job, nor the window's daily copy
    (hall/ui/main_window.py, a few seconds), still holds a connection to the file that is about to be replaced."""
    from hall.ui.background import wait_idle

    wait_idle()
    for thread in threading.enumerate():
        if thread.name == "hall-daily-backup":
            thread.join(timeout=300)
    opened.db.dispose()  # type: ignore[attr-defined]


def restore_then_reopen(paths: object, url: str | None, intake_point: str | None, opened: object,
                        backup: Path) -> object:
    """Close ``opened``'s database, restore ``backup`` over its file (a dialog with progress) and open the
    database again (restored, or untouched after a refusal); returns the new ``Opened`` (it raises as opening
    at start-up does)."""
    from hall.ui.startup import BackgroundOpen

    release(opened)
    target = backup_list.sqlite_file(paths, url)
    if target is not None:
        RestoreDialog(backup, target).exec()
    job = BackgroundOpen(paths, url, intake_point)
    job.start()
    return job.wait_result()
