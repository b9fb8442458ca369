"""管理 → 事项目录导入导出: the catalogue to and from Excel, as ``hall-admin catalog import|export`` does.

An import reads and checks the whole workbook on a background :class:`Task` first; when the importer finds
problems they are listed row by row (sheet, row, column, rule) exactly as it reports them, and nothing is written.
A clean workbook is shown with its size and the consistency hints (imported all the same, as the CLI does) and
imported after the administrator confirms: one ``catalog.imported`` event, a new catalogue version. An export
writes the current catalogue to the chosen file, also in the background.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hall.errors import HallError, ValidationErrors
from hall.exchange.catalog_xlsx import read_catalog_xlsx, write_catalog_xlsx
from hall.services.catalog import consistency
from hall.services.catalog import items as catalog
from hall.services.catalog.spec import CatalogSpec
from hall.ui import messages
from hall.ui.background import Loader, Progress, Task
from hall.ui.ops import ChangeListener, Context, OperationTask
from hall.ui.progress import ProgressStrip
from hall.ui.screen_fit import fit_on_screen
from hall.ui.widgets import read_only_table

PROBLEM_HEADERS = ("工作表", "行", "列", "问题")
_WHERE = re.compile(r"^工作表“(?P<sheet>[^”]*)”(?:第(?P<row>\d+)行)?(?:“(?P<col>[^”]*)”列)?：(?P<rule>.*)$", re.S)
FileAsk = Callable[[QWidget], str]


def problem_cells(problem: str) -> tuple[str, str, str, str]:
    """(sheet, row, column, rule) of one line the importer reported (the whole line as the rule otherwise)."""
    found = _WHERE.match(problem)
    if found is None:
        return "", "", "", problem
    return found["sheet"], found["row"] or "", found["col"] or "", found["rule"]


def _ask_open(parent: QWidget) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, parent.tr("选择事项清单工作簿"), "",
                                          parent.tr("Excel 工作簿 (*.xlsx)"))
    return path


def _ask_save(parent: QWidget) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, parent.tr("导出事项清单"), "事项清单.xlsx",
                                          parent.tr("Excel 工作簿 (*.xlsx)"))
    return path


class CatalogAdminDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None, *, open_file: FileAsk = _ask_open,
                 save_file: FileAsk = _ask_save) -> None:
        super().__init__(parent)
        self.ctx, self.open_file, self.save_file = ctx, open_file, save_file
        self.task: Task | None = None
        self.problems: list[str] = []
        self.imported: int | None = None  # the version the last import made
        self.setObjectName("catalogAdminDialog")
        self.setWindowTitle(self.tr("事项目录导入导出"))
        layout = QVBoxLayout(self)
        self.summary = QLabel(self.tr("正在读取当前事项清单…"))
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        row = QHBoxLayout()
        self.import_btn = QPushButton(self.tr("从 Excel 导入(&I)…"))
        self.export_btn = QPushButton(self.tr("导出为 Excel(&X)…"))
        close = QPushButton(self.tr("关闭"))
        row.addWidget(self.import_btn)
        row.addWidget(self.export_btn)
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        self.table = read_only_table([self.tr(h) for h in PROBLEM_HEADERS], 3, "problemTable")
        layout.addWidget(self.table, 1)
        self.progress = ProgressStrip()
        layout.addWidget(self.progress)
        self.note = QLabel(self.tr("导入时先检查整个工作簿：有任何问题都逐行列出，不导入任何内容。"))
        self.note.setObjectName("catalogNote")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.import_btn.clicked.connect(self.choose_import)
        self.export_btn.clicked.connect(self.choose_export)
        close.clicked.connect(self.reject)
        self.loader = Loader(ctx.db, self)
        self.listener = ChangeListener(self, ctx.changes, lambda c: c.catalog, lambda _c: self.refresh())
        fit_on_screen(self, 65, 30)
        self.refresh()

    @property
    def busy(self) -> bool:
        return self.task is not None and self.task.running

    def refresh(self) -> None:
        self.loader.request(catalog.current_spec, self._summarised)

    def _summarised(self, spec: CatalogSpec) -> None:
        materials = sum(len(i.materials) for i in spec.items)
        self.summary.setText(self.tr("当前事项清单：窗口 {0} 个，事项 {1} 项，材料 {2} 条。")
                             .format(len(spec.windows), len(spec.items), materials))

    def _show(self, lines: list[tuple[str, str, str, str]]) -> None:
        self.table.setRowCount(len(lines))
        for r, cells in enumerate(lines):
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))

    def _start(self, task: Task, title: str) -> Task:
        self.task = task
        for b in (self.import_btn, self.export_btn):
            b.setEnabled(False)
        task.ended.connect(lambda: [b.setEnabled(True) for b in (self.import_btn, self.export_btn)])
        self.progress.follow(task, title)
        task.start()
        return task

    # ------------------------------------------------------------------------------- import
    def choose_import(self) -> Task | None:
        path = self.open_file(self)
        return self.check_file(Path(path)) if path and not self.busy else None

    def check_file(self, path: Path) -> Task:
        """Read and check the workbook in the background; its problems, or what it would import."""
        self.problems = []
        self._show([])
        self.note.setText(self.tr("正在检查 {0}……").format(path.name))
        reading = self.tr("读取并检查工作簿")

        def job(progress: Progress) -> CatalogSpec:
            progress(0, 0, reading)
            return read_catalog_xlsx(path)

        task = Task(job, self)
        task.succeeded.connect(lambda spec: self._checked(path, spec))
        task.failed.connect(lambda exc: self._refused(path, exc))
        return self._start(task, self.tr("检查事项清单"))

    def _refused(self, path: Path, exc: HallError) -> None:
        self.problems = list(exc.problems) if isinstance(exc, ValidationErrors) else [str(exc)]
        self._show([problem_cells(p) for p in self.problems])
        self.note.setText(self.tr("{0}：事项清单文件有误，未导入（共 {1} 处问题，见上表；数据库未做任何改动）。")
                          .format(path.name, len(self.problems)))

    def _checked(self, path: Path, spec: CatalogSpec) -> None:
        hints = consistency.warnings(spec)
        self._show([("事项", str(w.row), "", self.tr("提示：") + w.text()) for w in hints])
        self.note.setText(self.tr("{0} 检查通过：窗口 {1} 个，事项 {2} 项{3}。").format(
            path.name, len(spec.windows), len(spec.items),
            self.tr("，另有 {0} 条提示（不影响导入）").format(len(hints)) if hints else ""))
        question = self.tr("用 {0} 替换当前事项清单（窗口 {1} 个，事项 {2} 项）？\n"
                           "已登记的办件仍按受理时的事项规则办理。").format(path.name, len(spec.windows),
                                                                          len(spec.items))
        if messages.confirm(self, self.tr("导入事项清单"), question, yes=self.tr("导入"), no=self.tr("取消")):
            self.import_spec(path, spec)

    def import_spec(self, path: Path, spec: CatalogSpec) -> Task:
        db, actor = self.ctx.db, self.ctx.actor
        saving = self.tr("写入事项清单新版本")

        def job(progress: Progress) -> int | None:
            progress(0, 0, saving)
            with db.transaction() as s:
                return catalog.import_catalog(s, actor, spec, f"Excel 导入：{path.name}")

        task = OperationTask(self.ctx, job, self)
        task.succeeded.connect(self._imported)
        task.failed.connect(lambda exc: self._refused(path, exc))
        return self._start(task, self.tr("导入事项清单"))

    def _imported(self, version: int | None) -> None:
        self.imported = version
        self.note.setText(self.tr("无变化：与当前事项清单相同，未生成新版本。") if version is None
                          else self.tr("已导入事项清单，新版本 {0}。").format(version))

    # ------------------------------------------------------------------------------- export
    def choose_export(self) -> Task | None:
        path = self.save_file(self)
        if not path or self.busy:
            return None
        out = Path(path) if path.lower().endswith(".xlsx") else Path(path + ".xlsx")
        return self.export_to(out)

    def export_to(self, out: Path) -> Task:
        db, writing = self.ctx.db, self.tr("写入工作簿")

        def job(progress: Progress) -> tuple[Path, Any]:
            with db.reading() as s:
                spec = catalog.current_spec(s)
            progress(0, 0, writing)
            try:
                return write_catalog_xlsx(spec, out), spec
            except OSError as exc:  # a folder that cannot be written, a full disk: nothing half-written is left
                raise HallError(f"无法写入“{out}”：{exc.strerror or exc}") from None

        task = Task(job, self)
        task.succeeded.connect(lambda got: self.note.setText(
            self.tr("已导出事项清单：{0}（窗口 {1} 个，事项 {2} 项）").format(got[0], len(got[1].windows),
                                                                 len(got[1].items))))
        task.failed.connect(lambda exc: messages.error(self, self.tr("未导出"), str(exc)))
        return self._start(task, self.tr("导出事项清单"))
