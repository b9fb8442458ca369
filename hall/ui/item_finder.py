"""Find the item as you type: code, name, alias or pinyin initials ("dbsq" → 最低生活保障申请).

The clerk's own window is shown first; every window is one keystroke away (Ctrl+1 … Ctrl+9, Ctrl+0 for W10,
Ctrl+- for W11, Ctrl+` for all windows). Up/Down move through the matches while typing, Enter takes one.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hall.services.base.states import KIND_LABELS
from hall.services.catalog import items as catalog
from hall.services.catalog.items import ItemView, WindowView

UNIT_SHORT = {"workday": "个工作日", "day": "日"}
WINDOW_KEYS = ("Ctrl+1", "Ctrl+2", "Ctrl+3", "Ctrl+4", "Ctrl+5", "Ctrl+6", "Ctrl+7", "Ctrl+8", "Ctrl+9", "Ctrl+0",
               "Ctrl+-")
ALL_KEY = "Ctrl+`"


def limit_text(it: ItemView) -> str:
    if it.default_kind in ("explain", "immediate"):
        return "当日办结"
    return f"{it.promised_limit}{UNIT_SHORT.get(it.limit_unit, '')}"


class ItemFinder(QWidget):
    item_chosen = Signal(object)  # ItemView

    def __init__(self, windows: list[WindowView], items: list[ItemView], own_window: str | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.windows = windows
        self.items = items
        self.own_window = own_window
        self.shown: list[ItemView] = []

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        label = QLabel(self.tr("查找事项(&C)："))
        self.search = QLineEdit()
        self.search.setObjectName("itemSearch")
        self.search.setPlaceholderText(self.tr("名称、编码或拼音首字母，如 dbsq"))
        self.search.setClearButtonEnabled(True)
        label.setBuddy(self.search)
        row.addWidget(label)
        row.addWidget(self.search, 1)
        layout.addLayout(row)

        self.window_combo = QComboBox()
        self.window_combo.setObjectName("windowCombo")
        self._fill_windows()
        layout.addWidget(self.window_combo)
        self._window_keys = [self._shortcut(key, i) for i, key in enumerate(WINDOW_KEYS)]
        self._shortcut(ALL_KEY, None)
        self._enable_window_keys()

        self.table = QTableWidget(0, 3)
        self.table.setObjectName("itemTable")
        self.table.setHorizontalHeaderLabels([self.tr("编码"), self.tr("事项名称"), self.tr("类型/时限")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)

        self.search.textChanged.connect(lambda _t: self.refresh())
        self.search.installEventFilter(self)
        self.search.returnPressed.connect(self.choose_current)
        self.table.activated.connect(lambda _i: self.choose_current())
        self.window_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.select_window(own_window or "")

    def _fill_windows(self) -> None:
        self.window_combo.addItem(self.tr("全部窗口　") + ALL_KEY, "")
        for w, key in zip(self.windows, WINDOW_KEYS, strict=False):
            self.window_combo.addItem(f"{w.code} {w.name}　{key}", w.code)

    def _shortcut(self, key: str, position: int | None) -> QAction:
        """Ctrl+1 … the window at that position of the current list; ``None``: all windows."""
        act = QAction(self)
        act.setShortcut(QKeySequence(key))
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(lambda _c=False, p=position: self._select_position(p))
        self.addAction(act)
        return act

    def _enable_window_keys(self) -> None:
        for i, act in enumerate(self._window_keys):
            act.setEnabled(i < len(self.windows))  # a key without a window is left to the rest of the window

    def _select_position(self, position: int | None) -> None:
        if position is None:
            self.select_window("")
        elif position < len(self.windows):
            self.select_window(self.windows[position].code)

    def set_catalog(self, windows: list[WindowView], items: list[ItemView]) -> None:
        """A new catalogue (imported here or at another counter): the lists change, the search and the chosen
        window stay."""
        chosen = self.window
        self.windows, self.items = windows, items
        self.window_combo.blockSignals(True)
        try:
            self.window_combo.clear()
            self._fill_windows()
            self.window_combo.setCurrentIndex(max(self.window_combo.findData(chosen), 0))
        finally:
            self.window_combo.blockSignals(False)
        self._enable_window_keys()
        self.refresh()

    def select_window(self, code: str) -> None:
        i = self.window_combo.findData(code)
        self.window_combo.setCurrentIndex(max(i, 0))
        self.refresh()

    @property
    def window(self) -> str:
        return self.window_combo.currentData() or ""

    def refresh(self) -> None:
        query = self.search.text().strip()
        if query:
            items = catalog.find_items(self.items, query)  # search spans all windows, best match first
        elif self.window:
            items = [i for i in self.items if i.window_code == self.window]
        else:  # all windows: the clerk's own first
            items = sorted(self.items, key=lambda i: (i.window_code != self.own_window, i.window_code, i.code))
        self.shown = items
        self.table.setRowCount(len(items))
        for row, it in enumerate(items):
            name = it.name if it.window_code == self.own_window or not query else f"{it.name}（{it.window_code}）"
            values = (it.code, name, f"{KIND_LABELS[it.default_kind]} {limit_text(it)}")
            for col, value in enumerate(values):
                cell = QTableWidgetItem(value)
                if col == 1 and it.aliases:
                    cell.setToolTip(self.tr("又称：") + "、".join(it.aliases))
                self.table.setItem(row, col, cell)
        if items:
            self.table.selectRow(0)

    def current_item(self) -> ItemView | None:
        row = self.table.currentRow()
        return self.shown[row] if 0 <= row < len(self.shown) else None

    def choose_current(self) -> None:
        it = self.current_item()
        if it is not None:
            self.item_chosen.emit(it)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Up/Down while typing move through the matches, so the hands stay on the keyboard.
        if watched is self.search and isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.shown:
                row = self.table.currentRow() + (1 if key == Qt.Key.Key_Down else -1)
                self.table.selectRow(max(0, min(row, len(self.shown) - 1)))
                return True
        return super().eventFilter(watched, event)
