"""管理 → 备份与恢复: back up now, see the backups (date, kind, size, checked), restore from one.

The same services as ``hall-admin backup|restore``. 立即备份 writes the daily chain into the backups folder (a
checked base copy the first time, then the events since the last run, the base rolled forward to them, see
:mod:`hall.services.backup_chain`); 完整备份到文件 writes
one checked full copy where the administrator chooses (a USB stick). Every file operation runs on a background
:class:`Task` with its progress; a full disk or a corrupt file arrives as the service's Chinese message.

A restore replaces the database this program has open, so it cannot happen while the window runs: the backup is
checked here first (a corrupt one is refused with nothing touched), then the main window closes, the program
closes the database, restores exactly as the CLI does (:func:`hall.services.backup_chain.restore_any`, shown by
:mod:`hall.ui.restore_runner`) and comes back at the login. SQLite only: a PostgreSQL hall restores on its server.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hall.errors import HallError
from hall.services import backup_chain, backup_list, backups
from hall.ui import messages
from hall.ui.background import Progress, Task
from hall.ui.ops import Context
from hall.ui.progress import ProgressStrip
from hall.ui.screen_fit import fit_on_screen
from hall.ui.widgets import read_only_table

HEADERS = ("备份时间", "种类", "大小", "核验", "文件")
COL_CHECK = 3
AUTO_CHECK_BYTES = 64 * 1024 * 1024  # checked by itself when listed (seconds); a bigger copy when asked
FileAsk = Callable[[QWidget, str], str]  # (parent, suggested name) -> chosen path or ""


def size_text(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    return f"{round(n / 1024)} KB" if n == 0 or n >= 1024 else "1 KB"


def _ask_save(parent: QWidget, suggested: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, parent.tr("完整备份到文件"), suggested,
                                          parent.tr("Hall 数据文件 (*.sqlite3)"))
    return path


def _ask_open(parent: QWidget, _suggested: str) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, parent.tr("选择备份文件"), "",
                                          parent.tr("Hall 备份 (*.sqlite3 *.jsonl.gz)"))
    return path


class BackupDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None, *, backups_dir: Path | None = None,
                 save_file: FileAsk = _ask_save, open_file: FileAsk = _ask_open,
                 restore: Callable[[Path], Any] | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.folder = backups_dir or ctx.data_paths().backups_dir
        self.save_file, self.open_file = save_file, open_file
        # What to do with a checked backup: the main window closes and the program restores it (see module).
        self.restore_to = restore
        self.entries: list[backup_list.BackupEntry] = []
        self.checked: dict[Path, str] = {}  # path -> the check's outcome as shown
        self.task: Task | None = None  # the backup, check or restore running
        self.lister: Task | None = None
        self.checker: Task | None = None  # the listed files' checks, in the background
        self.setObjectName("backupDialog")
        self.setWindowTitle(self.tr("备份与恢复"))
        layout = QVBoxLayout(self)
        self.where = QLabel(self.tr("备份文件夹：") + str(self.folder))
        self.where.setWordWrap(True)
        layout.addWidget(self.where)
        self.summary = QLabel()
        self.summary.setObjectName("backupSummary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = read_only_table([self.tr(h) for h in HEADERS], 4, "backupTable")
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.horizontalHeader().setSectionResizeMode(COL_CHECK, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(COL_CHECK, 210)
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.backup_btn = QPushButton(self.tr("立即备份(&N)"))
        self.backup_btn.setToolTip(self.tr("第一次写一份完整备份，之后每次只备份新增的办理记录（压缩），"
                                           "并把完整备份滚动更新到最新"))
        self.full_btn = QPushButton(self.tr("完整备份到文件(&F)…"))
        self.check_btn = QPushButton(self.tr("核验(&V)"))
        self.restore_btn = QPushButton(self.tr("从此备份恢复(&R)…"))
        self.other_btn = QPushButton(self.tr("从其他文件恢复(&O)…"))
        close = QPushButton(self.tr("关闭"))
        for b in (self.backup_btn, self.full_btn, self.check_btn, self.restore_btn, self.other_btn):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        self.progress = ProgressStrip()
        layout.addWidget(self.progress)
        self.note = QLabel()
        self.note.setObjectName("backupNote")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.backup_btn.clicked.connect(self.backup_now)
        self.full_btn.clicked.connect(self.backup_to_file)
        self.check_btn.clicked.connect(self.check_selected)
        self.restore_btn.clicked.connect(self.restore_selected)
        self.other_btn.clicked.connect(self.restore_other)
        close.clicked.connect(self.reject)
        self.sqlite = ctx.db.is_sqlite
        if not self.sqlite:
            tip = self.tr("PostgreSQL 数据库请在服务器上用 pg_dump / pg_restore 备份和恢复")
            for b in (self.backup_btn, self.full_btn, self.restore_btn, self.other_btn):
                b.setToolTip(tip)
            self.note.setText(tip)
        fit_on_screen(self, 65, 28)  # in characters and lines, never beyond the screen (hall/ui/screen_fit.py)
        self._selection_changed()
        self.refresh()

    # ---------------------------------------------------------------------------------- the list
    @property
    def busy(self) -> bool:
        return self.task is not None and self.task.running

    def refresh(self) -> Task:
        folder = self.folder
        return self._start(self.tr("读取备份文件夹"), lambda _p: backup_list.list_backups(folder), self._listed,
                           quiet=True)

    def _listed(self, entries: list[backup_list.BackupEntry]) -> None:
        keep = self.selected()
        self.entries = entries
        self.table.setRowCount(len(entries))
        for r, e in enumerate(entries):
            cells = (f"{e.taken:%Y-%m-%d %H:%M}", self.tr(e.kind_label), size_text(e.bytes),
                     self.checked.get(e.path, self.tr("未核验")), e.path.name)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(str(e.path) if c == 4 else text)
                self.table.setItem(r, c, item)
            if keep is not None and keep.path == e.path:
                self.table.selectRow(r)
        self._check_unchecked()
        total = sum(e.bytes for e in entries)
        if self.sqlite:
            self.summary.setText(self.tr("共 {0} 个备份文件，合计 {1}。恢复前会先核验备份；现有数据库连同 -wal/-shm "
                                      "移到一旁保留，不会删除。").format(len(entries), size_text(total)))
        self._selection_changed()

    def _check_unchecked(self) -> None:
        """Check the listed files not checked yet, one after another in the background (up to
        AUTO_CHECK_BYTES each: a 4 GB copy is checked only when asked, with 核验)."""
        if self.checker is not None and self.checker.running:
            return
        todo = [e.path for e in self.entries if e.path not in self.checked and e.bytes <= AUTO_CHECK_BYTES]
        if not todo:
            return

        def job(_progress: Progress) -> dict[Path, str]:
            out = {}
            for path in todo:
                try:
                    out[path] = f"通过（{backup_list.check_backup(path).events} 条事件）"
                except HallError as exc:
                    out[path] = "未通过：" + str(exc)
            return out

        for r, e in enumerate(self.entries):
            if e.path in todo:
                self.table.setItem(r, COL_CHECK, QTableWidgetItem(self.tr("正在核验…")))
        self.checker = Task(job, self)
        self.checker.succeeded.connect(self._auto_checked)
        self.checker.start()

    def _auto_checked(self, found: dict[Path, str]) -> None:
        for path, text in found.items():
            self.checked.setdefault(path, text)
        for r, e in enumerate(self.entries):
            if e.path in found:
                item = QTableWidgetItem(self.checked[e.path])
                item.setToolTip(self.checked[e.path])
                self.table.setItem(r, COL_CHECK, item)
        self._check_unchecked()  # files listed while these were being checked (a backup written meanwhile)

    def selected(self) -> backup_list.BackupEntry | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.entries):
            return None
        return self.entries[rows[0].row()]

    def choose(self, name: str) -> None:
        for r, e in enumerate(self.entries):
            if e.path.name == name:
                self.table.selectRow(r)

    def _selection_changed(self) -> None:
        chosen = self.selected() is not None
        idle = not self.busy
        self.backup_btn.setEnabled(idle and self.sqlite)
        self.full_btn.setEnabled(idle and self.sqlite)
        self.other_btn.setEnabled(idle and self.sqlite and self.restore_to is not None)
        self.check_btn.setEnabled(idle and chosen)
        self.restore_btn.setEnabled(idle and chosen and self.sqlite and self.restore_to is not None)

    # ---------------------------------------------------------------------------------- jobs
    def _start(self, title: str, fn: Callable[[Progress], Any], done: Callable[[Any], None], *,
               quiet: bool = False, failed: Callable[[HallError], None] | None = None) -> Task:
        task = Task(fn, self)
        task.succeeded.connect(done)
        task.failed.connect(failed or (lambda exc: self._failed(title, exc)))
        task.ended.connect(self._selection_changed)
        if quiet:  # reading the folder: never holds up a backup or a restore
            self.lister = task
        else:
            self.task = task
            self.note.setText(title + self.tr("……"))
            self.progress.follow(task, title)
        task.start()
        self._selection_changed()
        return task

    def _failed(self, title: str, exc: HallError) -> None:
        self.note.setText(title + self.tr("未完成：") + str(exc))
        messages.error(self, title + self.tr("未完成"), str(exc))

    def backup_now(self) -> Task | None:
        if self.busy or not self.sqlite:
            return None
        db, folder = self.ctx.db, self.folder
        title, writing = self.tr("立即备份"), self.tr("正在写入并核验")
        waiting = self.tr("等待正在进行的每日备份完成")

        def job(progress: Progress) -> backup_chain.ChainBackup:
            with backup_list.one_backup_at_a_time(db, waiting=lambda: progress(0, 0, waiting)):
                progress(0, 0, writing)
                return backup_chain.daily(db, folder)

        return self._start(title, job, self._backed_up)

    def _backed_up(self, done: backup_chain.ChainBackup) -> None:
        what = self.tr("完整备份（已核验）") if done.full else self.tr("增量备份：{0} 条新事件").format(done.events)
        self.checked[done.path] = self.tr("已核验") if done.full else self.tr("已核对条数")
        self.note.setText(self.tr("已备份到 {0}（{1}，{2}，用时 {3:.1f} 秒）")
                          .format(done.path.name, what, size_text(done.bytes), done.seconds))
        self.refresh()

    def backup_to_file(self) -> Task | None:
        if self.busy or not self.sqlite:
            return None
        path = self.save_file(self, "hall-backup.sqlite3")
        if not path:
            return None
        out = Path(path)
        if out.suffix != ".sqlite3":
            out = out.with_name(out.name + ".sqlite3")
        db, writing = self.ctx.db, self.tr("正在写入并核验")

        def job(progress: Progress) -> backups.BackupReport:
            progress(0, 0, writing)
            try:
                return backups.take_backup(db, out)
            except (OSError, sqlite3.Error) as exc:  # a folder that cannot be written (a read-only USB stick)
                why = getattr(exc, "strerror", None) or exc
                raise HallError(f"无法写入“{out}”：{why}。未留下不完整的文件。") from None

        return self._start(self.tr("完整备份"), job, self._written)

    def _written(self, report: backups.BackupReport) -> None:
        self.checked[report.path] = self.tr("已核验")
        self.note.setText(self.tr("已备份到 {0}（{1}，用时 {2:.1f} 秒）；已核验：文件结构完好，"
                                  "台账 {3} 条事件哈希链相符")
                          .format(report.path, size_text(report.bytes), report.seconds, report.events))
        self.refresh()

    def check_selected(self) -> Task | None:
        entry = self.selected()
        if entry is None or self.busy:
            return None
        path = entry.path

        def refused(exc: HallError) -> None:
            self.checked[path] = self.tr("未通过：") + str(exc)
            self._failed(self.tr("核验"), exc)
            self.refresh()

        return self._start(self.tr("核验备份"), lambda _p: backup_list.check_backup(path), self._check_passed,
                           failed=refused)

    def _check_passed(self, found: backup_list.BackupCheck) -> None:
        self.checked[found.path] = self.tr("通过（{0} 条事件）").format(found.events)
        self.note.setText(f"{found.path.name}：" + self.tr("核验通过，") + found.summary)
        self.refresh()

    # ---------------------------------------------------------------------------------- restore
    def restore_selected(self) -> Task | None:
        entry = self.selected()
        return None if entry is None else self.restore_from(entry.path)

    def restore_other(self) -> Task | None:
        path = self.open_file(self, "")
        return self.restore_from(Path(path)) if path else None

    def restore_from(self, path: Path) -> Task | None:
        if self.busy or not self.sqlite or self.restore_to is None:
            return None
        warning = self.tr(
            "将用备份“{0}”替换当前数据库。\n\n"
            "· 备份之后登记、办理的所有事项都将不在恢复后的数据库中（已发出的办件编号不会重用）；\n"
            "· 恢复前先核验备份，未通过则不做任何改动；\n"
            "· 当前数据库连同 -wal/-shm 文件移到一旁保留（文件名含 before-restore），不会删除；\n"
            "· 本机窗口将关闭，恢复完成后重新登录；使用同一数据文件的其他 Hall 程序须先关闭。\n\n"
            "确定恢复吗？").format(path.name)
        if not messages.confirm(self, self.tr("从备份恢复"), warning, yes=self.tr("恢复"), no=self.tr("取消")):
            return None

        def refused(exc: HallError) -> None:
            self.checked[path] = self.tr("未通过：") + str(exc)
            self._failed(self.tr("恢复"), exc)
            self.refresh()

        return self._start(self.tr("核验备份"), lambda _p: backup_list.check_backup(path), self._ready_to_restore,
                           failed=refused)

    def _ready_to_restore(self, found: backup_list.BackupCheck) -> None:
        self.note.setText(self.tr("备份核验通过，正在关闭数据库以便恢复……"))
        self.accept()
        if self.restore_to is not None:
            self.restore_to(found.path)

    def reject(self) -> None:
        if self.busy and self.task is not None and self.progress.isVisible():
            self.note.setText(self.tr("正在进行，完成后才能关闭。"))
            return
        super().reject()
