"""The last line of defence: an unexpected error becomes a dialog with a copyable report, never a dead window.

Domain errors (HallError) are shown as their plain Chinese message; anything else is logged with its traceback
and the clerk sees an apology, the log file's place and a report they can copy for the administrator.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout

from hall.errors import HallError
from hall.logging_setup import crash_report
from hall.ui import messages
from hall.ui.screen_fit import fit_on_screen

log = logging.getLogger("hall.crash")


def tr(text: str) -> str:
    return QCoreApplication.translate("CrashDialog", text)


class CrashDialog(QDialog):
    def __init__(self, report: str, log_path: Path | None) -> None:
        super().__init__()
        self.setWindowTitle(tr("程序出现意外错误"))
        layout = QVBoxLayout(self)
        where = tr("详细记录已写入：") + str(log_path) if log_path else ""
        layout.addWidget(QLabel(tr("很抱歉，程序遇到意外错误。已保存的办件不受影响；正在填写的内容已自动存为草稿。\n"
                                   "请把下面的报告复制给系统管理员。") + ("\n" + where if where else "")))
        text = QPlainTextEdit(report)
        text.setReadOnly(True)
        layout.addWidget(text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton(tr("复制报告"), QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QApplication.clipboard().setText(report))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        fit_on_screen(self, 43, 23)


def install(log_path: Path | None) -> None:
    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if isinstance(exc, HallError):
            messages.error(None, tr("提示"), str(exc))
            return
        # The report the administrator copies, the log line and stderr carry no bound values or identifiers.
        report = crash_report(exc_type, exc, tb)
        log.error("unexpected error\n%s", report)
        if QApplication.instance() is None or messages.ask_hook is not None:
            sys.stderr.write(report)
            return
        CrashDialog(report, log_path).exec()

    sys.excepthook = hook
