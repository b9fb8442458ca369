"""Small pieces several screens share."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget


class StaleWhileHidden:
    """Mixin for a screen with ``refresh()``: on a change it reloads at once only while it is on screen;
    hidden, it marks itself stale and reloads once when next shown (counting a period or a register on a
    large ledger is not free, and a tab behind another needs no numbers yet).

    ``refresh()`` must set ``self._stale = False``. List it before the Qt class: ``class X(StaleWhileHidden,
    QWidget)``.
    """

    _stale = True

    def mark_changed(self) -> None:
        if self.isVisible():  # type: ignore[attr-defined]
            self.refresh()  # type: ignore[attr-defined]
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)  # type: ignore[misc]
        if self._stale:
            self.refresh()  # type: ignore[attr-defined]


def read_only_table(headers: Sequence[str], stretch: int, name: str) -> QTableWidget:
    """A whole-row, read-only, word-wrapping table: column ``stretch`` takes the spare width."""
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setWordWrap(True)
    header = table.horizontalHeader()
    for col in range(len(headers)):
        mode = QHeaderView.ResizeMode.Stretch if col == stretch else QHeaderView.ResizeMode.ResizeToContents
        header.setSectionResizeMode(col, mode)
    return table
