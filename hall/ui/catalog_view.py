"""事项清单 as a read-only table, with each item's consistency warnings (一致性提示) on its row.

For the administrator, the manager and the 效能监察员: an item whose promised limit cannot be met, exceeds the
statutory one, whose prerequisites go round in a circle or whose fee contradicts its wording is flagged in red
with the reason, and the row number is the row of the exported workbook. Loaded in the background.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import QCheckBox, QDialog, QHBoxLayout, QLabel, QTableWidgetItem, QVBoxLayout, QWidget

from hall.services.catalog import overview
from hall.services.catalog.overview import CatalogRow
from hall.ui.background import Loader
from hall.ui.ops import ChangeListener, Context
from hall.ui.widgets import StaleWhileHidden, read_only_table

WARN = QColor("#b00020")
WARN_BG = QColor("#fdecea")


def tr(text: str) -> str:
    return QCoreApplication.translate("CatalogView", text)


class CatalogView(StaleWhileHidden, QWidget):
    HEADERS = ("行", "编码", "事项名称", "窗口", "办件类型", "时限", "收费", "前置事项", "一致性提示")

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("catalogView")
        self.ctx = ctx
        self.rows: list[CatalogRow] = []
        self.loader = Loader(ctx.db, self)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.summary = QLabel()
        self.summary.setObjectName("catalogSummary")
        top.addWidget(self.summary, 1)
        self.only_flagged = QCheckBox(tr("只显示有一致性提示的事项"))
        self.only_flagged.setObjectName("onlyFlagged")
        self.only_flagged.toggled.connect(lambda _on: self._show())
        top.addWidget(self.only_flagged)
        layout.addLayout(top)
        self.table = read_only_table([tr(h) for h in self.HEADERS], 8, "catalogTable")
        layout.addWidget(self.table, 1)
        self.listener = ChangeListener(self, ctx.changes, lambda c: c.catalog, lambda _c: self.mark_changed())

    def refresh(self) -> None:
        self._stale = False
        self.loader.request(overview.rows, self._arrived)

    def _arrived(self, rows: list[CatalogRow]) -> None:
        self.rows = rows
        flagged = [r for r in rows if r.warnings]
        self.summary.setText(tr("当前事项清单共 {0} 项，其中 {1} 项有一致性提示（红色）。")
                             .format(len(rows), len(flagged)))
        self._show()

    def _show(self) -> None:
        rows = [r for r in self.rows if r.warnings] if self.only_flagged.isChecked() else self.rows
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            cells = (str(r.row), r.code, r.name, r.window_code, r.kind_label, r.limits, r.fee, r.prerequisite,
                     "；".join(r.warnings))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if r.warnings:
                    item.setBackground(QBrush(WARN_BG))
                    if col == len(cells) - 1:
                        item.setForeground(QBrush(WARN))
                self.table.setItem(i, col, item)
        self.table.resizeRowsToContents()


class CatalogDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("事项清单（一致性提示）"))
        layout = QVBoxLayout(self)
        self.view = CatalogView(ctx, self)
        layout.addWidget(self.view)
        self.resize(1280, 680)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
