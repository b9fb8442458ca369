"""One small table model for every register list (责任追究, 投诉, 回访, 差评整改, 约访, 下访, 转办, 集体研究).

Each model holds the full list the service returned — plain frozen rows, read off the GUI thread — and hands
them to the view a page at a time as it scrolls (a hall's follow-up backlog runs to thousands); the page declares
its columns. Sorting re-orders those rows in place (a layout change, so selections survive) and the order is
kept when the list is reloaded after a change, which updates the rows in place by key (the selection stays on
its row); a row flagged as an alert (overdue) is drawn in red.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from hall.services.base.masking import find_unmasked_identifiers, mask_id_for_clerk
from hall.ui.cell_roles import AllRolesAtOnce
from hall.ui.keep_place import update_rows

ModelIndex = QModelIndex | QPersistentModelIndex

RowRole = Qt.ItemDataRole.UserRole + 1  # the whole frozen row
NumberRole = Qt.ItemDataRole.UserRole + 2  # the linked ticket's number ("" when none)
KeyRole = Qt.ItemDataRole.UserRole + 3  # what identifies the row across reloads
SortRole = Qt.ItemDataRole.UserRole + 4

ALERT_FG = QColor("#b00020")
ALERT_BG = QColor("#fde7ea")
CONTEXT = "Registers"
FETCH_ROWS = 200  # rows handed to the view per fetch


def tr(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


def mask_ids(text: str) -> str:
    """Free text typed by staff (a complaint, a finding) may quote an ID number: a clerk screen shows it masked
    (domain-rules §6: area code and last four). Names and phones stay as typed — staff screens show them full."""
    for found in find_unmasked_identifiers(text):
        digits = found.replace(" ", "")
        if len(digits) == 18:
            text = text.replace(found, mask_id_for_clerk(digits))
    return text


def one_line(text: str, limit: int = 60) -> str:
    """A long text in a table cell: first line, cut; the tooltip carries the whole."""
    whole = (text or "").strip()
    first = whole.splitlines()[0] if whole else ""
    return first if first == whole and len(first) <= limit else first[:limit] + "…"


@dataclass(frozen=True)
class Column:
    header: str  # marked with QT_TRANSLATE_NOOP("Registers", …) where declared
    value: Callable[[Any], str]
    sort: Callable[[Any], Any] | None = None  # a sort key when the display text does not sort right
    long: bool = False  # free text: shown on one line, masked, the whole text as tooltip
    alert: bool = True  # drawn red on an alert row


class RegisterModel(AllRolesAtOnce, QAbstractTableModel):
    def __init__(self, columns: Sequence[Column], *, key: Callable[[Any], Any],
                 ticket_of: Callable[[Any], str] | None = None, alert_of: Callable[[Any], bool] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self._key = key
        self._ticket_of = ticket_of
        self._alert_of = alert_of
        self._rows: list[Any] = []  # the rows handed to the view so far (a long list arrives as it scrolls)
        self._rest: list[Any] = []  # the rest of the list, not fetched by the view yet
        self._order: tuple[int, Qt.SortOrder] | None = None  # the column the person sorted by, kept on updates

    # ------------------------------------------------------------------------------------- rows
    def set_rows(self, rows: Sequence[Any]) -> None:
        """Another list (a filter changed): start again from its first rows."""
        rows = self._sorted(rows)
        self.beginResetModel()
        self._rows, self._rest = rows[:FETCH_ROWS], rows[FETCH_ROWS:]
        self.endResetModel()

    def update_rows(self, rows: Sequence[Any]) -> None:
        """The same list again after a change: updated in place by key (:func:`~hall.ui.keep_place.update_rows`),
        so the selection stays on its row; as many rows stay fetched as the view had fetched."""
        rows = self._sorted(rows)
        shown = max(len(self._rows), min(FETCH_ROWS, len(rows)))
        update_rows(self, self._rows, rows[:shown], self._key, len(self.columns))
        self._rest = rows[shown:]

    def service_order(self) -> None:
        """Keep the rows in the order the service gives them (until the person sorts by a column): the view
        asks for a sort by its default column as soon as sorting is enabled."""
        self._order = None

    def _sorted(self, rows: Sequence[Any]) -> list[Any]:
        rows = list(rows)
        if self._order is not None:
            column, order = self._order
            keyed = self.columns[column].sort or self.columns[column].value
            # None (no date, no level) sorts first; mixed types never compare, so the key is (is-set, value).
            rows.sort(key=lambda r: (keyed(r) is not None, keyed(r) if keyed(r) is not None else 0),
                      reverse=order == Qt.SortOrder.DescendingOrder)
        return rows

    def rows(self) -> list[Any]:
        """Every row of the list (also those the view has not fetched yet)."""
        return self._rows + self._rest

    @property
    def total_rows(self) -> int:
        return len(self._rows) + len(self._rest)

    def row_at(self, row: int) -> Any | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def key_at(self, row: int) -> Any | None:
        return self._key(self._rows[row]) if 0 <= row < len(self._rows) else None

    def row_of_key(self, key: Any) -> int | None:
        """The row showing ``key``, fetching down to it when it lies further than the view has scrolled."""
        found = self._index_of_key(key)
        if found is not None:
            self.reveal(found)
        return found

    def fetched_row_of_key(self, key: Any) -> int | None:
        """The row showing ``key`` among the rows the view has fetched (never fetches)."""
        return next((i for i, r in enumerate(self._rows) if self._key(r) == key), None)

    def _index_of_key(self, key: Any) -> int | None:
        return next((i for i, r in enumerate(self.rows()) if self._key(r) == key), None)

    def reveal(self, row: int) -> None:
        """Hand the view every row down to ``row`` (selecting a row it has not scrolled to yet)."""
        self._show_up_to(row + 1)

    def canFetchMore(self, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: B008 - Qt's own default
        return not parent.isValid() and bool(self._rest)

    def fetchMore(self, parent: ModelIndex = QModelIndex()) -> None:  # noqa: B008
        if not parent.isValid():
            self._show_up_to(len(self._rows) + FETCH_ROWS)

    def _show_up_to(self, n: int) -> None:
        more = n - len(self._rows)
        if more > 0 and self._rest:
            more = min(more, len(self._rest))
            self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + more - 1)
            self._rows.extend(self._rest[:more])
            del self._rest[:more]
            self.endInsertRows()

    def display(self, row: Any, column: int) -> str:
        col = self.columns[column]
        text = col.value(row)
        return one_line(mask_ids(text)) if col.long else text

    def alert_count(self) -> int:
        return sum(1 for r in self.rows() if self._alert_of and self._alert_of(r))

    # ----------------------------------------------------------------------------- Qt model API
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's own default
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            return tr(self.columns[section].header)
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(self._rows):
            return str(section + 1)
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows) \
                or not 0 <= index.column() < len(self.columns):
            return None
        r = self._rows[index.row()]
        col = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(r, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            return mask_ids(col.value(r)) if col.long and col.value(r) else None
        alert = bool(self._alert_of and self._alert_of(r))
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(ALERT_FG) if alert and col.alert else None
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(ALERT_BG) if alert else None
        if role == RowRole:
            return r
        if role == NumberRole:
            return self._ticket_of(r) if self._ticket_of else ""
        if role == KeyRole:
            return self._key(r)
        if role == SortRole:
            return col.sort(r) if col.sort else col.value(r)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            return
        self._order = (column, order)
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        keys = [self._key(self._rows[i.row()]) for i in before]
        every = self._sorted(self.rows())
        self._rows, self._rest = every[:len(self._rows)], every[len(self._rows):]
        after = []
        for idx, key in zip(before, keys, strict=True):
            row = self.fetched_row_of_key(key)  # inside a layout change: never fetch here
            after.append(self.index(row, idx.column()) if row is not None else QModelIndex())
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()
