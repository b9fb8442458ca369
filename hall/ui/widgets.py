"""Small pieces several screens share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics, QShowEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget

from hall.ui.ticket_table_model import (
    COL_APPLICANT,
    COL_DAYS,
    COL_DUE,
    COL_ITEM,
    COL_KIND,
    COL_NUMBER,
    COL_RECEIVED,
    COL_STATE,
    COL_SYNC,
    COL_WINDOW,
)

# The widest text each ticket-list column usually holds (what the counter's queue sizes its columns by).
TICKET_COLUMN_SAMPLES = {
    COL_NUMBER: "320581101-000-20260305-0012", COL_ITEM: "最低生活保障申请（城乡）审核", COL_APPLICANT: "欧阳某某某",
    COL_KIND: "承诺件", COL_STATE: "办结（容缺通过）", COL_DUE: "2026-03-05（暂定）", COL_DAYS: "超期99个工作日",
    COL_WINDOW: "W10", COL_RECEIVED: "2026-03-05 10:00", COL_SYNC: "已同步"}
CELL_PADDING = 24


def fixed_columns(header: QHeaderView, fm: QFontMetrics, samples: Mapping[int, str], *,
                  stretch: int | None = None, limit: int = 420) -> None:
    """Column widths from the font: the wider of the column's heading and its sample text, never measured
    from the rows (``ResizeToContents`` lays out every row's text on each change: seconds on a long list).
    The person can still drag a column wider; ``stretch`` takes the spare width; long text is elided and
    carried whole in a tooltip by the model."""
    model = header.model()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    for col in range(header.count()):
        heading = str(model.headerData(col, Qt.Orientation.Horizontal) or "") if model is not None else ""
        width = max(fm.horizontalAdvance(heading), fm.horizontalAdvance(samples.get(col, ""))) + CELL_PADDING
        header.resizeSection(col, min(width, limit))
    if stretch is not None and 0 <= stretch < header.count():
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)


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
