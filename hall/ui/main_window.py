"""The main window: the hall's windows and their items, the signed-in person, the node."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hall.services import catalog, settings
from hall.services.actor import ROLE_LABELS
from hall.services.states import KIND_LABELS
from hall.ui.ops import Context, read

UNIT_SHORT = {"workday": "个工作日", "day": "日"}


class MainWindow(QMainWindow):
    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx
        self.hall_name = read(ctx.db, lambda s: settings.get(s, "hall_name"))
        self.setWindowTitle(self.tr("Hall — ") + self.hall_name)
        self.windows = read(ctx.db, catalog.window_views)
        self.items = read(ctx.db, catalog.item_views)

        central = QWidget()
        outer = QVBoxLayout(central)
        search_row = QHBoxLayout()
        search_label = QLabel(self.tr("查找事项(&F)："))
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("输入事项名称、编码或拼音首字母，如 dbsq"))
        self.search.setClearButtonEnabled(True)
        search_label.setBuddy(self.search)
        search_row.addWidget(search_label)
        search_row.addWidget(self.search, 1)
        outer.addLayout(search_row)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.window_list = QListWidget()
        self.window_list.setObjectName("windowList")
        all_item = QListWidgetItem(self.tr("全部窗口"))
        all_item.setData(Qt.ItemDataRole.UserRole, "")
        self.window_list.addItem(all_item)
        for w in self.windows:
            it = QListWidgetItem(f"{w.code}  {w.name}")
            it.setData(Qt.ItemDataRole.UserRole, w.code)
            self.window_list.addItem(it)
        split.addWidget(self.window_list)
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("itemTable")
        self.table.setHorizontalHeaderLabels([self.tr("编码"), self.tr("事项名称"), self.tr("类型"),
                                              self.tr("承诺时限"), self.tr("材料")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(False)
        split.addWidget(self.table)
        split.setStretchFactor(1, 1)
        split.setSizes([260, 900])
        outer.addWidget(split, 1)
        self.setCentralWidget(central)

        who = f"{ctx.actor.name}（{ROLE_LABELS.get(ctx.actor.role, ctx.actor.role)}"
        who += f"，{ctx.actor.window_code}）" if ctx.actor.window_code else "）"
        self.statusBar().addWidget(QLabel(self.tr("当前用户：") + who))
        self.statusBar().addPermanentWidget(QLabel(self.tr("受理点 ") + ctx.node.intake_point))

        quit_action = QAction(self.tr("退出(&X)"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        self.menuBar().addMenu(self.tr("文件(&F)")).addAction(quit_action)
        find_action = QAction(self.tr("查找事项"), self)
        find_action.setShortcut(QKeySequence("Ctrl+F"))
        find_action.triggered.connect(self.search.setFocus)
        self.addAction(find_action)

        self.window_list.currentRowChanged.connect(lambda _row: self.refresh())
        self.search.textChanged.connect(lambda _t: self.refresh())
        own = next((i for i, w in enumerate(self.windows, 1) if w.code == ctx.actor.window_code), 0)
        self.window_list.setCurrentRow(own)
        self.resize(1280, 760)

    def refresh(self) -> None:
        current = self.window_list.currentItem()
        window = current.data(Qt.ItemDataRole.UserRole) if current else ""
        query = self.search.text()
        items = catalog.find_items(self.items, query) if query.strip() else self.items
        if window and not query.strip():
            items = [i for i in items if i.window_code == window]
        self.table.setRowCount(len(items))
        for row, it in enumerate(items):
            limit = self.tr("当日办结") if it.default_kind in ("explain", "immediate") else \
                f"{it.promised_limit}{UNIT_SHORT[it.limit_unit]}"
            values = (it.code, it.name, KIND_LABELS[it.default_kind], limit, str(len(it.materials)))
            for col, value in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(1, max(self.table.columnWidth(1), 420))
