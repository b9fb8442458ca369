"""Turning encryption on, run by the composition root after the main window has closed and the database is closed.

:class:`EnableDialog` runs :func:`hall.services.storage.encryption.enable` on a background :class:`Task` (the window
keeps repainting, a bar says which file is being converted: a large ledger takes minutes), then shows the
**recovery code** large, in its groups, with 打印恢复码… (one A4 page, made in memory and sent to the printer),
复制 and 另存为…. The dialog does not close until "我已抄下并妥善保管恢复码" is ticked: the code is shown only this
once. A refusal or a failure (another program holds the ledger, a full disk) is the service's Chinese message, and
the folder is as it was. Either way the program goes on to the login, on the encrypted ledger or the untouched one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hall.errors import HallError
from hall.services.storage import at_rest, encryption
from hall.ui import messages
from hall.ui.background import Progress, Task
from hall.ui.encryption_dialog import BAD, GOOD, code_font
from hall.ui.progress import ProgressStrip
from hall.ui.screen_fit import fit_on_screen

FileAsk = Callable[[QWidget, str], str]  # (parent, suggested name) -> chosen path or ""
PER_LINE = 7  # groups per line of the code as shown: two lines of seven


def _ask_save(parent: QWidget, suggested: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, parent.tr("恢复码另存为"), suggested, parent.tr("文本文件 (*.txt)"))
    return path


def grouped(code: str) -> str:
    groups = code.split("-")
    return "\n".join("  ".join(groups[i:i + PER_LINE]) for i in range(0, len(groups), PER_LINE))


class EnableDialog(QDialog):
    def __init__(self, data_dir: Path, database: Path, hall_name: str = "", parent: QWidget | None = None, *,
                 save_file: FileAsk = _ask_save, start: bool = True) -> None:
        super().__init__(parent)
        self.data_dir, self.database, self.hall_name = Path(data_dir), Path(database), hall_name
        self.save_file = save_file
        self.done_: at_rest.Enabled | None = None
        self.error: HallError | None = None
        self.setObjectName("enableEncryptionDialog")
        self.setWindowTitle(self.tr("启用数据加密"))
        layout = QVBoxLayout(self)
        self.text = QLabel(self.tr("正在加密 {0} 的台账和备份，请勿关闭电脑（台账很大时需要几分钟）……")
                           .format(self.data_dir))
        self.text.setObjectName("enableText")
        self.text.setWordWrap(True)
        layout.addWidget(self.text)
        self.progress = ProgressStrip()
        layout.addWidget(self.progress)

        self.code_panel = QWidget()
        panel = QVBoxLayout(self.code_panel)
        panel.setContentsMargins(0, 0, 0, 0)
        caption = QLabel(self.tr("恢复码（只显示这一次）："))
        panel.addWidget(caption)
        self.code = QLabel()
        self.code.setObjectName("recoveryCodeShown")
        self.code.setFont(code_font(20))
        self.code.setStyleSheet("background: #fffbe6; border: 1px solid #b59f3b; padding: 10px;")
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        panel.addWidget(self.code)
        self.fingerprint = QLabel()
        self.fingerprint.setWordWrap(True)
        panel.addWidget(self.fingerprint)
        advice = QLabel(self.tr("请抄在纸上或打印出来，交中心主任锁在柜中保管；不要拍照，不要存在这台电脑上。"
                                "换电脑、重装系统后要靠它才能打开数据；丢失本机密钥又没有恢复码，数据任何人都无法读取。"))
        advice.setWordWrap(True)
        panel.addWidget(advice)
        row = QHBoxLayout()
        self.print_btn = QPushButton(self.tr("打印恢复码(&P)…"))
        self.copy_btn = QPushButton(self.tr("复制(&C)"))
        self.save_btn = QPushButton(self.tr("另存为(&S)…"))
        for b in (self.print_btn, self.copy_btn, self.save_btn):
            row.addWidget(b)
        row.addStretch(1)
        panel.addLayout(row)
        self.kept = QCheckBox(self.tr("我已抄下并妥善保管恢复码(&K)"))
        self.kept.setObjectName("codeKept")
        panel.addWidget(self.kept)
        self.code_panel.hide()
        layout.addWidget(self.code_panel)

        self.note = QLabel()
        self.note.setObjectName("enableNote")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        layout.addStretch(1)
        foot = QHBoxLayout()
        foot.addStretch(1)
        self.finish_btn = QPushButton(self.tr("完成，重新登录(&L)"))
        self.finish_btn.setObjectName("finishButton")
        self.finish_btn.setEnabled(False)
        foot.addWidget(self.finish_btn)
        layout.addLayout(foot)
        self.print_btn.clicked.connect(self.print_code)
        self.copy_btn.clicked.connect(self.copy_code)
        self.save_btn.clicked.connect(self.save_code)
        self.kept.toggled.connect(self._kept)
        self.finish_btn.clicked.connect(self.accept)
        fit_on_screen(self, 50, 20)

        data_dir_, database_ = self.data_dir, self.database
        converting = self.tr("加密 {0}")
        starting = self.tr("生成数据密钥")

        def job(progress: Progress) -> at_rest.Enabled:
            progress(0, 0, starting)
            return encryption.enable(data_dir_, database_,
                                     progress=lambda done, total, name: progress(done, total, converting.format(name)))

        self.task = Task(job, self)
        self.task.succeeded.connect(self._enabled)
        self.task.failed.connect(self._failed)
        self.progress.follow(self.task, self.tr("启用加密"))
        if start:
            self.task.start()

    @property
    def running(self) -> bool:
        return self.task.running

    @property
    def recovery_code(self) -> str:
        return self.done_.recovery_code if self.done_ is not None else ""

    def _enabled(self, done: at_rest.Enabled) -> None:
        self.done_ = done
        self.text.setStyleSheet(GOOD)
        others = [p for p in done.converted if p != self.database]
        said = self.tr("已加密：台账已转换为加密文件")
        if others:
            said += self.tr("，另有 {0} 个已有的备份和草稿已转换").format(len(others))
        self.text.setText(said + self.tr("；此后的备份、增量备份和草稿都加密保存。"))
        self.code.setText(grouped(done.recovery_code))
        self.fingerprint.setText(self.tr("密钥指纹：") + encryption.fingerprint(done.key.key_id))
        self.code_panel.show()
        self.kept.setFocus()

    def _failed(self, exc: HallError) -> None:
        self.error = exc
        self.text.setStyleSheet(BAD)
        self.text.setText(self.tr("未能启用加密：") + str(exc) + "\n" + self.tr("数据未做改动，仍可照常登录。"))
        self.finish_btn.setText(self.tr("重新登录(&L)"))
        self.finish_btn.setEnabled(True)

    def _kept(self, ticked: bool) -> None:
        self.finish_btn.setEnabled(ticked)
        if ticked:
            self.note.setText("")

    # ------------------------------------------------------------------------------------ the code, kept
    def sheet_pdf(self) -> bytes:
        from hall.print.recovery_sheet import RecoverySheetData, RecoverySheetRenderer

        assert self.done_ is not None
        data = RecoverySheetData(self.done_.recovery_code, encryption.fingerprint(self.done_.key.key_id),
                                 str(self.data_dir), self.hall_name or "便民服务中心", datetime.now())
        return RecoverySheetRenderer(data).render()

    def print_code(self, printer: QPrinter | None = None) -> bool:
        """One A4 page (made in memory, never written to disk) on the printer chosen in the system dialog."""
        if self.done_ is None:
            return False
        from hall.ui.printer_paper import paint_to_printer

        try:
            pdf = self.sheet_pdf()
        except HallError as exc:  # no Chinese font on this PC: said, and the code stays on screen to copy
            messages.error(self, self.tr("无法打印恢复码"), str(exc))
            return False
        if printer is None:
            printer = QPrinter(QPrinter.PrinterMode.HighResolution)
            if QPrintDialog(printer, self).exec() != QDialog.DialogCode.Accepted:
                return False
        try:
            paint_to_printer(printer, pdf)
        except HallError as exc:
            messages.error(self, self.tr("无法打印恢复码"), str(exc))
            return False
        self.note.setText(self.tr("恢复码已送往打印机：请确认打印清楚，再勾选下面一项。"))
        return True

    def copy_code(self) -> None:
        QGuiApplication.clipboard().setText(self.recovery_code)
        self.note.setText(self.tr("恢复码已复制：粘贴到要打印的地方后，请清空剪贴板，不要保存在这台电脑上。"))

    def save_code(self) -> Path | None:
        if self.done_ is None:
            return None
        chosen = self.save_file(self, "hall-恢复码.txt")
        if not chosen:
            return None
        path = Path(chosen)
        if path.suffix.lower() != ".txt":
            path = path.with_name(path.name + ".txt")
        inside = Path(path.parent).resolve()
        if inside == self.data_dir.resolve() or self.data_dir.resolve() in inside.parents:
            messages.error(self, self.tr("未保存恢复码"),
                           self.tr("恢复码不能存在数据文件夹里（和数据放在一起就失去了加密的意义）："
                                   "请存到 U 盘，打印后删除。"))
            return None
        text = (f"Hall 数据加密恢复码\n数据文件夹：{self.data_dir}\n"
                f"密钥指纹：{encryption.fingerprint(self.done_.key.key_id)}\n\n{self.done_.recovery_code}\n")
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            messages.error(self, self.tr("未保存恢复码"),
                           self.tr("无法写入 {0}：{1}").format(path, exc.strerror or exc.__class__.__name__))
            return None
        self.note.setText(self.tr("恢复码已保存到 {0}：打印或抄下后请删除该文件。").format(path))
        return path

    # ------------------------------------------------------------------------------------------ closing
    def reject(self) -> None:
        if self.running:  # the conversion is not walked away from half-way
            return
        if self.done_ is not None and not self.kept.isChecked():
            self.refused_close()
            return
        super().reject()

    def accept(self) -> None:
        if self.running or (self.done_ is not None and not self.kept.isChecked()):
            self.refused_close()
            return
        super().accept()

    def refused_close(self) -> None:
        self.note.setStyleSheet(BAD)
        self.note.setText(self.tr("请先抄下（或打印）恢复码，并勾选“我已抄下并妥善保管恢复码”，再关闭：恢复码只显示这一次。"))


def encrypt_then_reopen(paths: object, url: str | None, intake_point: str | None, opened: object,
                        hall_name: str = "") -> object:
    """Close ``opened``'s database, encrypt its data folder (a dialog with progress and the recovery code) and open
    the database again (encrypted, or untouched after a refusal); returns the new ``Opened``."""
    from hall.ui.restore_runner import release
    from hall.ui.startup import BackgroundOpen

    data_dir = Path(paths.data_dir)  # type: ignore[attr-defined]
    database = encryption.database_of(data_dir, url)
    release(opened)
    if database is not None:
        EnableDialog(data_dir, database, hall_name).exec()
    job = BackgroundOpen(paths, url, intake_point)
    job.start()
    return job.wait_result()
