"""The clerk's queue: my tickets / my window, with due today, overdue and provisional one key away.

Search as typed, and the window never waits: every read — the page, the counts above it, a refresh after tickets
changed — runs on the pool through a :class:`~hall.ui.background.Loader`, so a keystroke costs the GUI thread only
the line edit's own work. The box debounces by what is in flight rather than by a fixed pause (a 200 ms pause
alone would break the budget of results 50 ms after the last keystroke): a key typed while the list is idle
searches at once; keys typed while a search is still on its way are gathered, and only the newest text is
searched when it comes back. Keys closer together than :data:`BURST_GAP_MS` are a keyboard-wedge scanner's burst:
nothing is searched until the burst ends in Enter (or in silence). A search's counts are capped ("1,000+",
:func:`hall.services.reporting.queue.counts`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hall.services.reporting import queue
from hall.services.reporting.queue import STATUS_LABELS, STATUSES, QueueCounts, Status, TicketFilter
from hall.services.tickets.search import classify
from hall.ui.keep_place import Place
from hall.ui.ops import ChangeListener, Context
from hall.ui.screen_fit import text_size
from hall.ui.ticket_table_model import COL_DUE, COL_ITEM, COL_SYNC, NumberRole, TicketTableModel
from hall.ui.widgets import CELL_PADDING, TICKET_COLUMN_SAMPLES

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

SCOPES = ("mine", "window", "all")
QUICK = ("open", "today", "overdue", "provisional")
BURST_GAP_MS = 30  # keys closer than this come from a scanner (a person types 60+ ms apart): wait for its end


def read_counts(session: Session, flt: TicketFilter, today: date, *, cap: int) -> QueueCounts:
    """On the pool, after the page: the figures above the list, for its scope and search — not its quick
    filter (the four figures are what the quick filters would show)."""
    base = replace(flt, due_on=None, overdue=False, provisional=None)
    return queue.counts(session, base, today=today, cap=cap)


class QueueView(QWidget):
    """Emits ``open_ticket(number)`` when the clerk presses Enter (or double-clicks) on a row."""

    open_ticket = Signal(str)

    def __init__(self, ctx: Context, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._today = today
        sees_all = ctx.actor.is_supervisor or ctx.actor.is_inspector  # 效能监察 follows every case
        self.scope = "window" if ctx.actor.window_code else ("all" if sees_all else "mine")
        self.quick = "open"

        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.scope_buttons = QButtonGroup(self)
        labels = {"mine": self.tr("我的办件(&M)"), "window": self.tr("本窗口(&W)"), "all": self.tr("全部窗口(&A)")}
        for scope in SCOPES:
            if scope == "window" and not ctx.actor.window_code:
                continue
            if scope == "all" and not sees_all:
                continue
            b = QPushButton(labels[scope])
            b.setCheckable(True)
            b.setObjectName(f"scope_{scope}")
            b.setChecked(scope == self.scope)
            b.clicked.connect(lambda _c=False, s=scope: self.set_scope(s))
            self.scope_buttons.addButton(b)
            bar.addWidget(b)
        bar.addSpacing(16)
        self.quick_buttons: dict[str, QPushButton] = {}
        quick_labels = {"open": self.tr("在办 F5"), "today": self.tr("今日到期 F6"), "overdue": self.tr("已超期 F7"),
                        "provisional": self.tr("暂定 F8")}
        group = QButtonGroup(self)
        for i, key in enumerate(QUICK):
            b = QPushButton(quick_labels[key])
            b.setCheckable(True)
            b.setChecked(key == self.quick)
            b.setObjectName(f"quick_{key}")
            b.clicked.connect(lambda _c=False, k=key: self.set_quick(k))
            group.addButton(b)
            self.quick_buttons[key] = b
            act = QAction(self)
            act.setShortcut(QKeySequence(Qt.Key.Key_F5 + i))
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.triggered.connect(lambda _c=False, k=key: self.set_quick(k))
            self.addAction(act)
            bar.addWidget(b)
        bar.addStretch(1)
        search_label = QLabel(self.tr("查找(&S)："))
        self.search = QLineEdit()
        self.search.setObjectName("queueSearch")
        self.search.setPlaceholderText(self.tr("编号、序号、证件号、姓名、拼音首字母或尾号"))
        self.search.setToolTip(self.tr("办件编号（全部，或“日期-序号”，或当日序号后四位）、身份证号或后四位/后六位、"
                                       "姓名、拼音首字母、手机尾号四位"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(text_size(self.search, 25, 0).width())  # the placeholder whole at 1366×768
        search_label.setBuddy(self.search)
        bar.addWidget(search_label)
        bar.addWidget(self.search)
        layout.addLayout(bar)
        layout.addLayout(self._filter_bar())

        self.counts_label = QLabel()
        self.counts_label.setObjectName("queueCounts")
        layout.addWidget(self.counts_label)

        self._cap = queue.SEARCH_CAP
        # The counts are read in the page's own job, right after it (one delivery, one repaint).
        self.model = TicketTableModel.in_background(ctx.db, self._filter(), today=self._today, parent=self,
                                                    companion=partial(read_counts, cap=self._cap))
        self.model.loaded.connect(self._rows_arrived)
        self.model.companion_loaded.connect(self._show_counts)
        self._burst = QTimer(self)  # a scanner's burst that ended without Enter: search after this silence
        self._burst.setSingleShot(True)
        self._burst.setInterval(BURST_GAP_MS)
        self._burst.timeout.connect(self._search_soon)
        self._last_key = 0.0
        self._pending = False  # text typed while a search was in flight: search it when that one is back
        self.model.loaded.connect(self._search_pending)
        self.model.refreshing.connect(self._note_place)
        self._place: Place | None = None  # where the clerk was when a refresh in place began
        self.table = QTableView()
        self.table.setObjectName("queueTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(COL_DUE, Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        fm = self.fontMetrics()
        for col, sample in TICKET_COLUMN_SAMPLES.items():
            header.resizeSection(col, fm.horizontalAdvance(sample) + CELL_PADDING)
        self.table.activated.connect(self._activated)
        # 同步 (village laptops): shown only where this database syncs, so a one-PC hall sees no empty column.
        self.table.setColumnHidden(COL_SYNC, True)
        self.model.loaded.connect(self._show_sync_column)
        layout.addWidget(self.table, 1)

        self.search.textChanged.connect(self._typed)
        self.search.returnPressed.connect(self._search_now)
        # Any ticket whose record changed may enter, leave or change this list; a calendar change moves the
        # working days left. A print or a follow-up (history only) does not touch it.
        self.listener = ChangeListener(self, ctx.changes, lambda c: c.any_tickets or c.calendar,
                                       lambda _c: self.refresh_in_place())

    def _show_sync_column(self) -> None:
        wanted = self.model.any_sync
        if wanted == self.table.isColumnHidden(COL_SYNC):
            header = self.table.horizontalHeader()
            # The item name gives up the column's width: a 1366-wide counter screen gets no horizontal scrollbar.
            width = self.fontMetrics().horizontalAdvance(TICKET_COLUMN_SAMPLES[COL_SYNC]) + CELL_PADDING
            change = width if wanted else -width
            self.table.setColumnHidden(COL_SYNC, not wanted)
            header.resizeSection(COL_SYNC, width)
            header.resizeSection(COL_ITEM, max(120, header.sectionSize(COL_ITEM) - change))

    def _filter_bar(self) -> QHBoxLayout:
        """Status (在办 / 已办结 / 全部 / 作废) and an optional range of receipt dates, on a line of their own."""
        bar = QHBoxLayout()
        status_label = QLabel(self.tr("状态(&T)："))
        self.status = QComboBox()
        self.status.setObjectName("queueStatus")
        for key in STATUSES:
            self.status.addItem(self.tr(STATUS_LABELS[key]), key)
        status_label.setBuddy(self.status)
        self.status.currentIndexChanged.connect(self._status_changed)
        bar.addWidget(status_label)
        bar.addWidget(self.status)
        bar.addSpacing(16)
        self.dated = QCheckBox(self.tr("收件日期(&D)"))
        self.dated.setObjectName("queueDated")
        today = self._today()
        self.date_from = QDateEdit(QDate(today.year, today.month, 1))
        self.date_to = QDateEdit(QDate(today.year, today.month, today.day))
        for name, edit in (("queueDateFrom", self.date_from), ("queueDateTo", self.date_to)):
            edit.setObjectName(name)
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
            edit.dateChanged.connect(self._dates_changed)
        self.dated.toggled.connect(self._dated_toggled)
        bar.addWidget(self.dated)
        bar.addWidget(self.date_from)
        bar.addWidget(QLabel(self.tr("至")))
        bar.addWidget(self.date_to)
        bar.addStretch(1)
        return bar

    @property
    def status_key(self) -> Status:
        return self.status.currentData() if hasattr(self, "status") else "open"

    def set_status(self, status: Status) -> None:
        self.status.setCurrentIndex(STATUSES.index(status))

    def _status_changed(self, _index: int) -> None:
        # The quick filters (due today, overdue, provisional) narrow open tickets: another status clears them.
        if self.status_key != "open":
            self.quick = "open"
            for k, b in self.quick_buttons.items():
                b.setChecked(k == "open")
        self.refresh()

    def _dated_toggled(self, on: bool) -> None:
        self.date_from.setEnabled(on)
        self.date_to.setEnabled(on)
        self.refresh()

    def _dates_changed(self, _d: QDate) -> None:
        if self.dated.isChecked():
            self.refresh()

    # --------------------------------------------------------------------------------- filters
    def _filter(self) -> TicketFilter:
        a = self.ctx.actor
        f = TicketFilter()
        if self.scope == "mine":
            f = replace(f, owner_id=a.staff_id)
        elif self.scope == "window":
            f = replace(f, window=a.window_code)
        if a.role == "village":
            f = replace(f, intake_point=a.intake_point)
        if self.quick == "today":
            f = replace(f, due_on=self._today())
        elif self.quick == "overdue":
            f = replace(f, overdue=True)
        elif self.quick == "provisional":
            f = replace(f, provisional=True)
        text = self.search.text().strip() if hasattr(self, "search") else ""
        status = self.status_key
        if text:
            f = replace(f, text=text, open_only=False)  # a search finds closed tickets too (unless narrowed)
        if status != "open":
            f = queue.with_status(f, status)
        if hasattr(self, "dated") and self.dated.isChecked():
            start, end = self.date_from.date().toPython(), self.date_to.date().toPython()
            f = replace(f, received_from=min(start, end), received_to=max(start, end))
        return f

    def set_scope(self, scope: str) -> None:
        self.scope = scope
        for b in self.scope_buttons.buttons():
            b.setChecked(b.objectName() == f"scope_{scope}")
        self.refresh()

    def set_quick(self, key: str) -> None:
        self.quick = key
        for k, b in self.quick_buttons.items():
            b.setChecked(k == key)
        if self.status_key != "open":
            self.status.blockSignals(True)  # one refresh below, not two
            self.set_status("open")
            self.status.blockSignals(False)
        self.refresh()
        self.table.setFocus()

    def _typed(self, _text: str) -> None:
        now = time.perf_counter()
        burst = (now - self._last_key) * 1000 < BURST_GAP_MS
        self._last_key = now
        if burst or self._burst.isActive():
            self._burst.start()  # (re)start: the scanner is still sending
        else:
            self._search_soon()

    def _search_soon(self) -> None:
        if self.model.loading:
            self._pending = True  # the one in flight comes back first; then the newest text goes out
        else:
            self.refresh()

    def _search_pending(self) -> None:
        if self._pending and not (self.model.loading or self._burst.isActive()):
            self._pending = False
            self.refresh()

    def _search_now(self) -> None:
        """Enter in the search box (or the end of a scanner's burst): search without waiting, go to the list."""
        self._burst.stop()
        if self._filter() != self.model.filter:
            self.refresh()
        self.table.setFocus()

    @property
    def searching(self) -> bool:
        """A search or its counts are still on their way (or typed text waits to be searched)."""
        return self._burst.isActive() or self._pending or self.model.loading

    @property
    def loading(self) -> bool:
        """The same as :attr:`searching`, by the name the other screens' background reads use."""
        return self.searching

    def refresh(self) -> None:
        """Show the list for the current scope, quick filter and search text (the reads run in the background)."""
        self._burst.stop()
        self._pending = False
        flt = self._filter()
        if flt == self.model.filter:
            self.model.reload()
        else:
            self.model.set_filter(flt)

    def refresh_in_place(self) -> None:
        """Tickets changed somewhere: the same list again, updated in place by ticket — the clerk's row stays
        selected and the viewport stays on the rows it showed."""
        if self._filter() != self.model.filter:
            self.refresh()
            return
        self.model.refresh()

    def _note_place(self) -> None:
        self._place = Place.of(self.table, self.model.key_at)

    def _rows_arrived(self) -> None:
        place, self._place = self._place, None
        if place is not None:
            place.restore(self.table, self.model.row_of)  # type: ignore[arg-type]
        elif self.table.hasFocus() and not self.table.currentIndex().isValid() and self.model.rowCount():
            self.table.selectRow(0)  # the list arrived while the clerk waits in it: Enter opens the first

    def _show_counts(self, c: QueueCounts) -> None:
        cap = self._cap
        if classify(self.model.filter.text).kind == "short":
            self.counts_label.setText(self.tr("请继续输入：办件编号至少输入到受理点代码（如 320581101-000-），"
                                              "序号或证件号尾号输入4位"))
        elif c.capped and not self.model.filter.text:
            self.counts_label.setText(self.tr("共 {0}+ 件").format(f"{c.total:,}"))
        elif c.capped:
            self.counts_label.setText(self.tr("共 {0}+ 件（匹配的办件太多，只清点了前 {1} 个，请再多输入几个字）")
                                      .format(f"{c.total:,}", f"{cap:,}"))
        else:
            self.counts_label.setText(self.tr("共 {0} 件　今日到期 {1} 件　已超期 {2} 件　暂定期限 {3} 件")
                                      .format(f"{c.total:,}", c.due_today, c.overdue, c.provisional))

    def _activated(self, index) -> None:  # type: ignore[no-untyped-def]
        number = self.model.data(index, NumberRole)
        if number:
            self.open_ticket.emit(number)

    def current_number(self) -> str | None:
        idx = self.table.currentIndex()
        return self.model.data(idx, NumberRole) if idx.isValid() else None
