"""A lazy table of tickets over ``hall.services.reporting.queue`` pages (Anki's browser table: keys, fetched on demand).

The model holds only the rows fetched so far; the view asks ``canFetchMore`` / ``fetchMore`` as it scrolls, and
each fetch is one keyset page query. Sorting and filtering re-run the query in SQL — the model never sorts or
filters in Python and never loads the full ledger. The manager's dashboard reuses it with its own filter.

Two ways to fetch: a ``PageFetcher`` called on the GUI thread (small lists, dialogs, tests), or — built with
:meth:`TicketTableModel.in_background` — every page read by a :class:`~hall.ui.background.Loader` on the pool,
the rows applied when they arrive (the queue at a million tickets: the window never waits for a page). In the
background form the rows on screen stay until the new ones arrive (no flash of an empty list), a newer request
drops an older one, and :meth:`refresh` (tickets changed, same list) updates the rows in place by ticket, so the
clerk's selection stays on the same ticket (the view keeps its viewport with :class:`~hall.ui.keep_place.Place`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont

from hall.errors import HallError
from hall.services.reporting import queue
from hall.services.reporting.queue import Cursor, Page, QueueRow, SortKey, TicketFilter
from hall.ui.background import Loader
from hall.ui.cell_roles import AllRolesAtOnce
from hall.ui.keep_place import update_rows

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hall.services.storage.db import Database

log = logging.getLogger("hall.ui.tickets")

ModelIndex = QModelIndex | QPersistentModelIndex

COL_NUMBER, COL_ITEM, COL_APPLICANT, COL_KIND, COL_STATE, COL_DUE, COL_DAYS, COL_WINDOW, COL_RECEIVED, COL_SYNC = \
    range(10)
HEADERS = ("办件编号", "事项", "申请人", "类型", "状态", "承诺办结日期", "剩余", "窗口", "收件时间", "同步")
# Where a row's look keeps its brush and marks, after the texts of every column.
_LOOK_BG, _LOOK_OVERDUE, _LOOK_BOLD = len(HEADERS), len(HEADERS) + 1, len(HEADERS) + 2
SORTABLE: dict[int, SortKey] = {COL_NUMBER: "number", COL_DUE: "due", COL_DAYS: "due", COL_RECEIVED: "received"}

IdRole = Qt.ItemDataRole.UserRole + 1
NumberRole = Qt.ItemDataRole.UserRole + 2
RowRole = Qt.ItemDataRole.UserRole + 3  # the whole frozen QueueRow
SortRole = Qt.ItemDataRole.UserRole + 4

OVERDUE_FG = QColor("#b00020")
OVERDUE_BG = QColor("#fde7ea")
TODAY_BG = QColor("#fff3c4")
_OVERDUE_FG_BRUSH, _OVERDUE_BG_BRUSH, _TODAY_BG_BRUSH = QBrush(OVERDUE_FG), QBrush(OVERDUE_BG), QBrush(TODAY_BG)
_DISPLAY, _DECORATION, _TOOLTIP, _FONT, _ALIGNMENT, _BACKGROUND, _FOREGROUND, _CHECK_STATE = (int(r) for r in (
    Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ToolTipRole,
    Qt.ItemDataRole.FontRole, Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.BackgroundRole,
    Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.CheckStateRole))
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CELL_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

# (filter, today, sort, descending, cursor, limit) -> Page; the composition passes one that opens a session.
PageFetcher = Callable[[TicketFilter, date, SortKey, bool, Cursor | None, int], Page]
# (session, filter, today) -> plain data read in the same job as a reload's first page (the queue's counts).
Companion = Callable[["Session", TicketFilter, date], Any]
REFRESH_MAX = 2000  # a refresh in place re-reads at most this many of the rows already fetched


@dataclass(frozen=True)
class Loaded:
    """What one background read brings back: the rows and where the next page starts."""

    rows: tuple[QueueRow, ...]
    next: Cursor | None
    companion: Any = None  # what the companion read returned (reloads and refreshes only)
    sync: Mapping[int, str] = field(default_factory=dict)  # ticket id -> sync state code (village sync only)


def _ticket_id(row: QueueRow) -> int:
    return row.id


# hall/services/sync/state.py's codes: not yet sent and conflicts in red, sent and waiting in amber.
_SYNC_BRUSHES = {"unsent": QBrush(QColor("#b00020")), "sent": QBrush(QColor("#8a6d00")),
                 "conflict": QBrush(QColor("#b00020"))}


def sync_label(code: str | None) -> str:
    if not code:
        return ""
    from hall.services.sync.state import SYNC_LABELS

    return tr(SYNC_LABELS[code])


def sync_state(session: Session, ticket_ids: list[int]) -> dict[int, str]:
    """Imported when the first page is read, on the reading thread (the sync services load the crypto library)."""
    from hall.services.sync.state import sync_state as read

    return read(session, ticket_ids)


def load_rows(session: Session, flt: TicketFilter, today: date, sort: SortKey, descending: bool,
              after: Cursor | None, want: int, *, fill: bool = False) -> Loaded:
    """Up to ``want`` rows from ``after`` on, in one read. A search's page may come back short — even empty —
    because it looks at a bounded window of its index range: an empty one is followed at once (a view does not
    ask again after nothing arrived), a short one is shown as it is and the view's fetchMore goes on from its
    cursor. ``fill``: keep reading until ``want`` rows (a refresh in place re-reads what was shown)."""
    rows: list[QueueRow] = []
    cursor = after
    while True:
        page = queue.page(session, flt, today=today, sort=sort, descending=descending, after=cursor,
                          limit=min(queue.MAX_PAGE, want - len(rows)))
        rows.extend(page.rows)
        cursor = page.next
        if cursor is None or len(rows) >= want or (rows and not fill):
            return Loaded(tuple(rows), cursor)


def tr(text: str) -> str:
    from PySide6.QtCore import QCoreApplication

    return QCoreApplication.translate("TicketTableModel", text)


def days_text(row: QueueRow) -> str:
    if row.days_left is None:
        return ""
    if row.days_left < 0:
        return tr("超期{0}个工作日").format(-row.days_left)
    if row.days_left == 0:
        return tr("今日到期")
    return tr("{0}个工作日").format(row.days_left)


def due_text(row: QueueRow) -> str:
    if row.due_date is None:
        return tr("补正后起算") if row.state == "supplement" else ""
    return row.due_date.isoformat() + (tr("（暂定）") if row.due_provisional else "")


class TicketTableModel(AllRolesAtOnce, QAbstractTableModel):
    loaded = Signal()  # rows arrived and were applied (a reload, a refresh or a fetchMore); background form only
    refreshing = Signal()  # a refresh in place is about to change the rows (then ``loaded``)
    load_failed = Signal(str)  # a background read failed with this message for the person
    companion_loaded = Signal(object)  # the companion's result, right after the rows it goes with

    def __init__(self, fetch: PageFetcher | None, flt: TicketFilter | None = None, *,
                 today: Callable[[], date] = date.today, page_size: int = 200, parent: QObject | None = None,
                 loader: Loader | None = None, companion: Companion | None = None) -> None:
        super().__init__(parent)
        if fetch is None and loader is None:
            raise ValueError("a TicketTableModel needs a fetcher or a loader")
        self._fetch = fetch
        self._loader = loader
        self._today = today
        self._filter = flt or TicketFilter()
        self._sort: SortKey = "due"
        self._descending = False
        self._page_size = page_size
        self._rows: list[QueueRow] = []
        self._cursor: Cursor | None = None
        self._exhausted = True
        self._fetching = False  # views (and qtmodeltester) may ask again from inside our own insert signals
        self._looks: dict[int, tuple[Any, ...]] = {}  # row -> its texts and marks (cleared when rows change)
        self._sync: dict[int, str] = {}  # ticket id -> sync state code, for the rows fetched so far
        self._companion = companion
        self._bold = QFont()
        self._bold.setBold(True)
        self.reload()

    @classmethod
    def in_background(cls, db: Database, flt: TicketFilter | None = None, *, today: Callable[[], date] = date.today,
                      page_size: int = 200, parent: QObject | None = None,
                      companion: Companion | None = None) -> TicketTableModel:
        """A model whose every page is read off the GUI thread (see the module docstring); ``companion``: see
        :meth:`set_companion`."""
        loader = Loader(db)
        model = cls(None, flt, today=today, page_size=page_size, parent=parent, loader=loader, companion=companion)
        loader.setParent(model)  # lives and dies with the model
        return model

    # ----------------------------------------------------------------------------- what is shown
    @property
    def filter(self) -> TicketFilter:
        return self._filter

    @property
    def loader(self) -> Loader | None:
        """The background form's reader (None for a model fetching on the GUI thread)."""
        return self._loader

    @property
    def loading(self) -> bool:
        """A background read is in flight (the rows shown may be about to change)."""
        return self._loader is not None and self._loader.busy

    def set_filter(self, flt: TicketFilter) -> None:
        if flt != self._filter:
            self._filter = flt
            self.reload()

    def reload(self) -> None:
        """Start again from the first page (after a filter or sort change)."""
        if self._loader is not None:
            self._request(None, self._first_page(), self._reset_to)
            return
        self.beginResetModel()
        self._rows = []
        self._looks.clear()
        self._cursor = None
        self._exhausted = False
        self._load_page()
        self.endResetModel()

    def _first_page(self) -> int:
        """A search's first page is what the clerk sees at once (queue.SEARCH_PAGE rows, two screens); it is
        re-read on every pause in typing, and the rest arrives as the list is scrolled (fetchMore)."""
        return min(self._page_size, queue.SEARCH_PAGE) if self._filter.text else self._page_size

    def refresh(self) -> None:
        """The same list again because tickets changed: re-read as many rows as are shown and update them in
        place, so the view keeps its scroll position (the synchronous form simply reloads)."""
        if self._loader is None:
            self.reload()
            return
        want = min(max(self._first_page(), len(self._rows)), REFRESH_MAX)
        self._request(None, want, self._update_to, fill=True)

    def set_companion(self, read: Companion | None) -> None:
        """A read that goes with every reload and refresh of the background form, in the same job right after
        the rows (the queue's counts): one read transaction, one delivery, one repaint — and no second job's
        Python competing with the GUI thread for the interpreter while the new rows are painted. Its result
        arrives through ``companion_loaded``."""
        self._companion = read

    def _request(self, after: Cursor | None, want: int, done: Callable[[Loaded], None], *,
                 fill: bool = False) -> None:
        assert self._loader is not None
        flt, today, sort, descending = self._filter, self._today(), self._sort, self._descending
        self._fetching = after is not None
        companion = self._companion if after is None else None

        def job(session: Session) -> Loaded:
            got = load_rows(session, flt, today, sort, descending, after, want, fill=fill)
            # Each page's sync state in the same read (a grouped query over the page's tickets; nothing when
            # this database does not sync with village laptops).
            synced = sync_state(session, [r.id for r in got.rows])
            return Loaded(got.rows, got.next, companion(session, flt, today) if companion is not None else None,
                          synced)

        self._loader.request(job, lambda got: self._arrived(got, done), failed=self._failed)

    def _arrived(self, got: Loaded, apply: Callable[[Loaded], None]) -> None:
        if apply != self._more:  # a reload or refresh re-read the sync state of every row it brings
            changed = {i for i in set(self._sync) | set(got.sync) if self._sync.get(i) != got.sync.get(i)}
            self._sync = dict(got.sync)
        else:
            changed = set()
            self._sync.update(got.sync)
        apply(got)
        if changed and self._rows:  # a state moved on a row whose other fields stayed (an export): repaint it
            self._looks.clear()
            self.dataChanged.emit(self.index(0, COL_SYNC), self.index(len(self._rows) - 1, COL_SYNC))
        if got.companion is not None:
            self.companion_loaded.emit(got.companion)

    def _reset_to(self, got: Loaded) -> None:
        self._fetching = True  # a view asking for more from inside our signals waits for the next turn
        try:
            self.beginResetModel()
            self._rows = list(got.rows)
            self._looks.clear()
            self._cursor, self._exhausted = got.next, got.next is None
            self.endResetModel()
        finally:
            self._fetching = False
        self.loaded.emit()

    def _update_to(self, got: Loaded) -> None:
        """Turn the rows into the new ones by ticket, without a reset: rows that went away are removed, new ones
        inserted where they belong, moved ones moved, the rest changed in place — persistent indexes (the current
        row, the selection) follow their tickets (see :mod:`hall.ui.keep_place`)."""
        self.refreshing.emit()  # a view notes where the person is, before any row moves
        self._fetching = True
        try:
            self._cursor, self._exhausted = got.next, got.next is None
            update_rows(self, self._rows, got.rows, _ticket_id, len(HEADERS), self._looks.clear)
        finally:
            self._fetching = False
        self.loaded.emit()

    def _more(self, got: Loaded) -> None:
        try:  # still "fetching" while our insert signals run: a view asking again now would repeat this page
            self._cursor, self._exhausted = got.next, got.next is None
            if got.rows:
                first = len(self._rows)
                self.beginInsertRows(QModelIndex(), first, first + len(got.rows) - 1)
                self._rows.extend(got.rows)
                self.endInsertRows()
        finally:
            self._fetching = False
        self.loaded.emit()

    def _failed(self, error: HallError) -> None:
        self._fetching = False
        log.warning("ticket list read failed: %s", error)
        self.load_failed.emit(str(error))

    def _load_page(self) -> list[QueueRow]:
        assert self._fetch is not None
        page = self._fetch(self._filter, self._today(), self._sort, self._descending, self._cursor, self._page_size)
        self._cursor = page.next
        self._exhausted = page.next is None
        self._rows.extend(page.rows)
        return list(page.rows)

    def row_of(self, ticket_id: int) -> int | None:
        """The row showing the ticket with this internal id, among the rows fetched so far."""
        return next((i for i, r in enumerate(self._rows) if r.id == ticket_id), None)

    def key_at(self, row: int) -> int | None:
        """The ticket id of a row (what a refresh keeps the selection and the viewport on)."""
        return self._rows[row].id if 0 <= row < len(self._rows) else None

    def sync_of(self, ticket_id: int) -> str:
        """The ticket's sync state as shown ("" when sync does not concern it)."""
        return sync_label(self._sync.get(ticket_id))

    @property
    def any_sync(self) -> bool:
        """Some row has a sync state (a village laptop, or a hall with laptops): the column is worth showing."""
        return bool(self._sync)

    def row_at(self, row: int) -> QueueRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    # ----------------------------------------------------------------------------- Qt model API
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's own default
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def canFetchMore(self, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted and not self._fetching and not self.loading

    def fetchMore(self, parent: ModelIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._exhausted or self._fetching or self.loading:
            return
        if self._loader is not None:
            self._request(self._cursor, self._page_size, self._more)
            return
        assert self._fetch is not None
        self._fetching = True
        try:
            page = self._fetch(self._filter, self._today(), self._sort, self._descending, self._cursor,
                               self._page_size)
            if not page.rows:
                self._exhausted, self._cursor = True, None
                return
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(page.rows) - 1)
            self._rows.extend(page.rows)
            self._cursor = page.next
            self._exhausted = page.next is None
            self.endInsertRows()
        finally:
            self._fetching = False

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(HEADERS):
            return tr(HEADERS[section])
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self._rows):
            return str(section + 1)
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        return _CELL_FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Called for every visible cell and every role the delegate asks (seven per cell on each repaint): the
        # common roles are answered from a per-row cache, with plain int comparisons.
        row, col = index.row(), index.column()
        if not 0 <= row < len(self._rows) or not 0 <= col < len(HEADERS) or not index.isValid():
            return None
        look = self._looks.get(row)
        if look is None:
            look = self._looks[row] = self._look(self._rows[row])
        if role == _DISPLAY:
            return look[col]
        if role == _BACKGROUND:
            return look[_LOOK_BG]
        if role == _FOREGROUND:
            if col == COL_SYNC:
                return _SYNC_BRUSHES.get(self._sync.get(self._rows[row].id, ""))
            return _OVERDUE_FG_BRUSH if look[_LOOK_OVERDUE] and col in (COL_DUE, COL_DAYS, COL_NUMBER) else None
        if role == _FONT:
            return self._bold if look[_LOOK_BOLD] and col in (COL_DUE, COL_DAYS) else None
        if role == _ALIGNMENT:
            return _RIGHT if col == COL_DAYS else None
        if role in (_DECORATION, _CHECK_STATE):
            return None
        r = self._rows[row]
        if role == _TOOLTIP:
            if col == COL_DUE and r.due_provisional:
                return tr("该年度节假日安排尚未确认，按周一至周五暂定计算；确认后自动重算")
            if col == COL_APPLICANT:
                return r.applicant_id_masked
            if col == COL_ITEM:  # the column is narrower than the longest item names: the cell elides, the tip has it
                return r.item_name
            return None
        if role == IdRole:
            return r.id
        if role == NumberRole:
            return r.number
        if role == RowRole:
            return r
        if role == SortRole:
            return {COL_NUMBER: r.number, COL_RECEIVED: r.received_at.isoformat(),
                    COL_DUE: r.due_date.isoformat() if r.due_date else "",
                    COL_DAYS: r.days_left if r.days_left is not None else 0}.get(col, look[col])
        return None

    def multiData(self, index: ModelIndex, roles: Any) -> None:
        """Every role a delegate paints a cell with, in one call (Qt 6's item views ask this way): one Python
        call per visible cell instead of seven. A proxy on top (the manager's masked list) still asks data()."""
        row, col = index.row(), index.column()
        if not 0 <= row < len(self._rows) or not 0 <= col < len(HEADERS) or not index.isValid():
            for rd in roles:
                rd.clearData()
            return
        look = self._looks.get(row)
        if look is None:
            look = self._looks[row] = self._look(self._rows[row])
        marked = col in (COL_DUE, COL_DAYS)
        for rd in roles:
            role = rd.role()
            if role == _DISPLAY:
                rd.setData(look[col])
            elif role == _BACKGROUND:
                rd.setData(look[_LOOK_BG])
            elif role == _FOREGROUND:
                if col == COL_SYNC:
                    rd.setData(_SYNC_BRUSHES.get(self._sync.get(self._rows[row].id, "")))
                else:
                    rd.setData(_OVERDUE_FG_BRUSH if look[_LOOK_OVERDUE] and (marked or col == COL_NUMBER) else None)
            elif role == _FONT:
                rd.setData(self._bold if look[_LOOK_BOLD] and marked else None)
            elif role == _ALIGNMENT:
                rd.setData(_RIGHT if col == COL_DAYS else None)
            elif role in (_DECORATION, _CHECK_STATE):
                rd.clearData()
            else:
                rd.setData(self.data(index, role))

    def _look(self, r: QueueRow) -> tuple[Any, ...]:
        """The texts of a row, its background brush, and whether it is overdue / marked in bold."""
        texts = (*(self._display(r, c) for c in range(COL_SYNC)), sync_label(self._sync.get(r.id)))
        bg = _OVERDUE_BG_BRUSH if r.overdue else (_TODAY_BG_BRUSH if r.due_today else None)
        return (*texts, bg, r.overdue, r.overdue or r.due_today)

    @staticmethod
    def _display(r: QueueRow, col: int) -> str:
        if col == COL_NUMBER:
            return r.number
        if col == COL_ITEM:
            return r.item_name
        if col == COL_APPLICANT:
            return r.applicant_name
        if col == COL_KIND:
            return r.kind_label
        if col == COL_STATE:
            return r.state_label
        if col == COL_DUE:
            return due_text(r)
        if col == COL_DAYS:
            return days_text(r)
        if col == COL_WINDOW:
            return r.window_code
        return r.received_at.strftime("%Y-%m-%d %H:%M")

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sorting is a new SQL query (keyset order), never an in-memory sort of the fetched rows."""
        key = SORTABLE.get(column)
        if key is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if (key, descending) == (self._sort, self._descending):
            return
        self._sort, self._descending = key, descending
        self.reload()


def session_fetcher(read: Callable[[Callable[[Any], Page]], Page]) -> PageFetcher:
    """A ``PageFetcher`` from ``read(fn)`` that runs ``fn(session)`` (``ops.read`` bound to a database)."""

    def fetch(flt: TicketFilter, today: date, sort: SortKey, descending: bool, after: Cursor | None,
              limit: int) -> Page:
        return read(lambda s: queue.page(s, flt, today=today, sort=sort, descending=descending, after=after,
                                         limit=limit))

    return fetch
