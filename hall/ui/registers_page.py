"""One register page: a filter bar, the action buttons, the list, a count line.

A page is declared, not subclassed: what to load (a service call), its columns, and its actions — each action
names the fields it asks (the ticket detail's ``ActionDialog``), the service call, and when the UI offers it.
The UI only hides what the service would refuse; the service still decides (``ops.run`` shows its message).
Every action is one transaction; the page reloads at once, and the change it announced reaches every other page
that lists the same register (a page declares which ones it lists). A reload after a change updates the list in
place: the selected row stays selected and the viewport stays where it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QModelIndex, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hall.errors import ConflictError, HallError
from hall.services.storage.changes import Changes
from hall.ui import messages
from hall.ui.background import Loader
from hall.ui.keep_place import Place
from hall.ui.ops import COALESCE_MS, ChangeListener, Context, run
from hall.ui.registers_model import Column, KeyRole, NumberRole, RegisterModel, tr
from hall.ui.ticket_detail import ActionDialog, Field, TicketDetailDialog, open_detail
from hall.ui.widgets import CELL_PADDING, StaleWhileHidden

SIZE_FROM_ROWS = 50  # rows measured for the first column widths
PAGE_ROWS = 500  # rows a bounded register lists at a time ("显示更多" for the next ones)
MAX_COLUMN = 360

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hall.services.base.actor import Actor


@dataclass(frozen=True)
class PageAction:
    name: str
    label: str  # marked with QT_TRANSLATE_NOOP("Registers", …)
    call: Callable[[Session, Actor, Any, dict[str, Any]], Any]  # (session, actor, selected row or None, values)
    fields: Callable[[], tuple[Field, ...]] = tuple  # asked at click time (choices may come from the database)
    offered: Callable[[Any], bool] = lambda _row: True  # the selected row (None when nothing is selected)
    needs_row: bool = True
    confirm: str = ""  # for an action without fields: the question, "{0}" = the row's ticket number
    # (title, fields, parent) -> the dialog; a page with a richer form passes its own ActionDialog subclass
    dialog: Callable[[str, tuple[Field, ...], QWidget | None], ActionDialog] = ActionDialog


class RegisterPage(StaleWhileHidden, QWidget):
    """Emits ``counted(total, alerts)`` after every reload (the register view puts them on the tab)."""

    counted = Signal(int, int)

    def __init__(self, ctx: Context, name: str, columns: Sequence[Column],
                 load: Callable[[Session, Mapping[str, Any]], list[Any]], *,
                 key: Callable[[Any], Any], actions: Sequence[PageAction] = (),
                 ticket_of: Callable[[Any], str] | None = None, alert_of: Callable[[Any], bool] | None = None,
                 hint: str = "", today: Callable[[], date] = date.today,
                 params: Callable[[], Mapping[str, Any]] | None = None, bounded: bool = False,
                 count: Callable[[Session, Mapping[str, Any]], int] | None = None,
                 registers: Iterable[str] = (), parent: QWidget | None = None) -> None:
        """``load(session, values)`` runs on the database pool: ``values`` are the filter combos' choices (by
        object name) and ``params()`` — read on the GUI thread beforehand, since widgets belong to it.

        A ``bounded`` page (a register whose backlog runs to thousands: accountability, follow-ups) also finds
        ``values["limit"]`` and must return at most that many rows, in its service's order: the page shows
        :data:`PAGE_ROWS` of them and says there are more ("显示更多" lists the next ones); ``count(session,
        values)``, when given, says how many there are in all.

        ``registers``: the registers (names of :mod:`hall.services.storage.changes`) the page lists — it reloads when an
        operation changed one of them (or the staff, whose names it shows)."""
        super().__init__(parent)
        self.setObjectName(f"register_{name}")
        self.ctx = ctx
        self._load = load
        self._params = params
        self._count = count
        self.loader = Loader(ctx.db, self)
        self._sized = False
        self.bound: int | None = PAGE_ROWS if bounded else None
        self.has_more = False
        self.total: int | None = None
        self._today = today
        self._stale = True
        self.registers = frozenset(registers) or frozenset({name})
        self.live: Callable[[], bool] = self.isVisible  # reload at once on a change (else when next shown)
        self.actions_ = {a.name: a for a in actions}
        self.details: list[TicketDetailDialog] = []

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.bar = QHBoxLayout()
        self.filters = QHBoxLayout()  # filter widgets the page adds (state, range …)
        self.bar.addLayout(self.filters)
        self.bar.addStretch(1)
        self.choices: dict[str, QComboBox] = {}
        self.buttons: dict[str, QPushButton] = {}
        for a in actions:
            b = QPushButton(tr(a.label))
            b.setObjectName(f"action_{a.name}")
            b.clicked.connect(lambda _c=False, n=a.name: self.ask_and_perform(n))
            self.buttons[a.name] = b
            self.bar.addWidget(b)
        layout.addLayout(self.bar)
        count_row = QHBoxLayout()
        self.count_label = QLabel()
        self.count_label.setObjectName("registerCount")
        self.count_label.setWordWrap(True)
        count_row.addWidget(self.count_label, 1)
        self.more_button = QPushButton(tr("显示更多"))
        self.more_button.setObjectName("registerMore")
        self.more_button.clicked.connect(self.show_more)
        self.more_button.hide()
        count_row.addWidget(self.more_button)
        layout.addLayout(count_row)
        self.hint = hint

        self.model = RegisterModel(columns, key=key, ticket_of=ticket_of, alert_of=alert_of, parent=self)
        self.table = QTableView()
        self.table.setObjectName(f"table_{name}")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicatorShown(False)  # the service's own order until one is picked
        self.model.service_order()
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.activated.connect(self._activated)  # Enter or double-click
        self.table.selectionModel().selectionChanged.connect(lambda *_: self.update_buttons())
        layout.addWidget(self.table, 1)
        # Own actions reload at once (perform); others' changes to what this page lists arrive coalesced.
        self.listener = ChangeListener(self, ctx.changes, self.concerns, self._changed, coalesce_ms=COALESCE_MS,
                                       own=self)

    # ------------------------------------------------------------------------------------ filters
    def add_choice(self, label: str, options: Sequence[tuple[Any, str]], name: str) -> QComboBox:
        """A filter combo (value, label) that reloads the page when changed."""
        self.filters.addWidget(QLabel(tr(label)))
        combo = QComboBox()
        combo.setObjectName(name)
        for value, text in options:
            combo.addItem(tr(text), value)
        combo.currentIndexChanged.connect(lambda _i: self._filter_changed())  # after filling: no early load
        self.filters.addWidget(combo)
        self.choices[name] = combo
        return combo

    def choice(self, name: str) -> Any:
        return self.choices[name].currentData()

    # ------------------------------------------------------------------------------------- loading
    def concerns(self, changes: Changes) -> bool:
        return changes.touches(*self.registers) or changes.staff

    def _changed(self, _changes: Changes) -> None:
        self._stale = True
        if self.live():
            self.refresh()

    def values(self) -> dict[str, Any]:
        """What the next load filters by: every filter combo's choice, and the page's own ``params()``."""
        out: dict[str, Any] = {name: combo.currentData() for name, combo in self.choices.items()}
        if self._params is not None:
            out.update(self._params())
        return out

    @property
    def loading(self) -> bool:
        return self.loader.busy

    def refresh(self, *, in_place: bool = True) -> None:
        """Reload in the background; the rows on screen stay until the new ones arrive (then ``counted``).
        ``in_place``: the same list again (after a change): updated by key, keeping the selection and the
        viewport; otherwise (another filter) the new list from its top, the selected row kept if it is there."""
        current = self.current_row()
        key = self.model.data(self.table.currentIndex(), KeyRole) if current is not None else None
        values, load, count, bound = self.values(), self._load, self._count, self.bound
        if bound is not None:
            values["limit"] = bound + 1  # one more than shown: whether there are more

        def job(s: Session) -> tuple[list[Any], int | None]:
            rows = load(s, values)
            more = bound is not None and len(rows) > bound
            return rows, (count(s, values) if count is not None and more else None)

        self._stale = False
        self.loader.request(job, lambda got: self._loaded(got, key, in_place=in_place))

    def _filter_changed(self) -> None:
        if self.bound is not None:
            self.bound = PAGE_ROWS  # another list: from its first rows again
        self.refresh(in_place=False)

    def show_more(self) -> None:
        """List the next :data:`PAGE_ROWS` rows of a bounded register."""
        if self.bound is not None and self.has_more:
            self.bound += PAGE_ROWS
            self.refresh()

    def _loaded(self, got: tuple[list[Any], int | None], key: Any, *, in_place: bool = True) -> None:
        """``in_place``: the same list, updated by key; else a new list, where the row ``key`` (the one selected
        when it was asked for) is selected again if it is there."""
        rows, total = got
        self.has_more = self.bound is not None and len(rows) > self.bound
        if self.has_more:
            rows = rows[:self.bound]
        self.total = total if self.has_more else len(rows)
        if in_place and self.model.rowCount():
            place = Place.of(self.table, self.model.key_at)
            self.model.update_rows(rows)
            place.restore(self.table, self.model.fetched_row_of_key)
        else:
            self.model.set_rows(rows)
            if key is not None and (row := self.model.row_of_key(key)) is not None:
                self.table.selectRow(row)
        if not self._sized and rows:
            self._size_columns()
        shown, alerts = self.model.total_rows, self.model.alert_count()
        if not self.has_more:
            text = QCoreApplication.translate("Registers", "共 {0} 条").format(shown)
        elif total is not None:
            text = QCoreApplication.translate("Registers", "共 {0} 条，已列出前 {1} 条").format(total, shown)
        else:
            text = QCoreApplication.translate("Registers", "已列出前 {0} 条，还有更多").format(shown)
        if alerts:
            text += QCoreApplication.translate("Registers", "，其中 {0} 条已超期").format(alerts)
        self.count_label.setText(text + ("　" + tr(self.hint) if self.hint else ""))
        self.more_button.setVisible(self.has_more)
        self.update_buttons()
        self.counted.emit(self.total if self.total is not None else shown, alerts)

    def _size_columns(self) -> None:
        """Widths from the heading and the first rows' text, once (then the person's own widths are kept):
        never measured over a whole list (a follow-up backlog has thousands of rows)."""
        self._sized = True
        fm = self.table.fontMetrics()
        head = self.table.horizontalHeader()
        sample = [self.model.row_at(i) for i in range(min(SIZE_FROM_ROWS, self.model.rowCount()))]
        for c, col in enumerate(self.model.columns):
            texts = [tr(col.header)] + [self.model.display(r, c) for r in sample if r is not None]
            head.resizeSection(c, min(max(fm.horizontalAdvance(t) for t in texts) + CELL_PADDING, MAX_COLUMN))

    # ------------------------------------------------------------------------------------ selection
    def current_row(self) -> Any | None:
        idx = self.table.currentIndex()
        if not idx.isValid() or not self.table.selectionModel().isRowSelected(idx.row(), QModelIndex()):
            return None
        return self.model.row_at(idx.row())

    def select_where(self, predicate: Callable[[Any], bool]) -> Any | None:
        """Select the first row that matches (tests and callers that know what they are after)."""
        for i, r in enumerate(self.model.rows()):
            if predicate(r):
                self.model.reveal(i)
                self.table.selectRow(i)
                return r
        return None

    def update_buttons(self) -> None:
        row = self.current_row()
        for name, b in self.buttons.items():
            a = self.actions_[name]
            b.setEnabled((row is not None or not a.needs_row) and a.offered(row))

    # -------------------------------------------------------------------------------------- actions
    def ask_and_perform(self, name: str) -> bool:
        a = self.actions_[name]
        row = self.current_row()
        if a.needs_row and row is None:
            return False
        fields = a.fields()
        if fields:
            dlg = a.dialog(tr(a.label), fields, self)
            # The dialog runs the action itself, so a refusal leaves it open with what was typed.
            dlg.submit = lambda values: self.attempt(name, values, row, parent=dlg)
            return dlg.exec() == QDialog.DialogCode.Accepted
        number = self.model.data(self.table.currentIndex(), NumberRole) or ""
        if a.confirm and not messages.confirm(self, tr(a.label), tr(a.confirm).format(number)):
            return False
        return self.perform(name, {}, row)

    def perform(self, name: str, values: dict[str, Any], row: Any | None = None) -> bool:
        """Run one action on ``row`` (default: the selected one) with the dialog's values; True when saved."""
        return self.attempt(name, values, row) is None

    def attempt(self, name: str, values: dict[str, Any], row: Any | None = None, *,
                parent: QWidget | None = None) -> HallError | None:
        """Run one action; the refusal (also shown as a message), or None once it was saved. A conflict (another
        counter changed the row meanwhile) refreshes the page, so the person sees what it is now."""
        a = self.actions_[name]
        row = row if row is not None else self.current_row()
        actor = self.ctx.actor
        refused: list[HallError] = []
        title = QCoreApplication.translate("Registers", "未能{0}").format(tr(a.label))
        # In a dialog the refusal is shown in it (ActionDialog.show_problem), not in a box on top of it.
        done = run(parent or self, self.ctx, lambda s: a.call(s, actor, row, values) or True, title=title,
                   initiator=self, failed=refused.append, show=parent is None)
        if done is None:
            if refused and isinstance(refused[0], ConflictError):
                self.refresh()
            return refused[0] if refused else HallError(title)
        self.refresh()  # the person sees the outcome at once; the other pages learn of it from the signal
        return None

    # ------------------------------------------------------------------------------------- tickets
    def _activated(self, index: QModelIndex) -> None:
        number = self.model.data(index, NumberRole)
        if number:
            self.open_ticket(number)

    def open_ticket(self, number: str) -> TicketDetailDialog:
        return open_detail(self, self.ctx, number, self._today, self.details)
