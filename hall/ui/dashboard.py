"""The manager's dashboard (中心主任工作台): one snapshot from hall.services.dashboard, drawn; every ticket
count opens the tickets behind it in the counter's lazy table (TicketTableModel over queue.page).

Refreshes when an operation changed what it counts (tickets, the calendar, staff, the windows, follow-ups,
rectifications, attendance and B-posts — see :func:`concerns`) and every minute (a QTimer), so a screen left open
all day stays true. Mount with ``DashboardWidget(ctx)`` (e.g. as a tab of the main window for the manager role).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QEventLoop,
    QIdentityProxyModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hall.errors import HallError
from hall.services.base.masking import mask_name
from hall.services.reporting import dashboard
from hall.services.reporting.dashboard import DashboardSnapshot, Drill, GroupLine, Panel, Rate
from hall.services.reporting.queue import TicketFilter
from hall.services.storage import changes
from hall.services.storage.changes import Changes
from hall.ui.background import Loader
from hall.ui.cell_roles import AllRolesAtOnce
from hall.ui.charts import PALETTE, Chart, Series
from hall.ui.keep_place import Place
from hall.ui.ops import COALESCE_MS, ChangeListener, Context
from hall.ui.screen_fit import fit_on_screen, text_size
from hall.ui.sync_alerts import SyncAlertsBox
from hall.ui.ticket_table_model import COL_APPLICANT, COL_SYNC, RowRole, SortRole, TicketTableModel
from hall.ui.widgets import TICKET_COLUMN_SAMPLES, StaleWhileHidden, fixed_columns

REFRESH_MS = 60_000
# What the snapshot shows besides tickets: the side panels' registers.
PANEL_CHANGES = (changes.FOLLOWUPS, changes.RECTIFICATIONS, changes.ATTENDANCE, changes.BPOSTS)


def concerns(c: Changes) -> bool:
    """A change the dashboard's figures may show: tickets, the calendar (working days, the banner), names of
    staff and windows, and the side panels' registers."""
    return c.any_tickets or c.calendar or c.staff or c.catalog or c.touches(*PANEL_CHANGES)

PANEL_TITLES = {"duty": QT_TRANSLATE_NOOP("DashboardWidget", "今日考勤与B岗"),
                "rectifications": QT_TRANSLATE_NOOP("DashboardWidget", "差评待整改"),
                "followups": QT_TRANSLATE_NOOP("DashboardWidget", "今日应回访")}
# The full list behind a side panel: the register (or the attendance screen) that lists it all, with its actions.
PANEL_REGISTERS = {"duty": "attendance", "rectifications": "rectifications", "followups": "followups"}
TILES = ("due_today", "due_next", "overdue", "provisional", "stopped", "open")
TILE_COLORS = {"due_today": "#e08e0b", "due_next": "#2f6fb3", "overdue": "#c0392b", "provisional": "#8e44ad",
               "stopped": "#7f8c8d", "open": "#2c3e50"}
TABLE_BUCKETS = ("open", "due_today", "due_next", "overdue", "provisional", "stopped")
RATE_PERIODS = ("today", "month", "year")
LATE_ROLE = Qt.ItemDataRole.UserRole + 1  # a by-… table cell drawn red (kept so a redraw sets it only on change)


def tr(text: str) -> str:
    return QCoreApplication.translate("DashboardWidget", text)


def ticket_filter(drill: Drill) -> TicketFilter:
    """The counter's queue filter for a dashboard number: exactly the tickets the snapshot counted there."""
    kw: dict[str, object] = {"window": drill.window_code, "owner_id": drill.owner_id, "kind": drill.kind,
                             "no_owner": drill.nobody}
    if drill.bucket in ("due_today", "due_next"):
        kw.update(due_from=drill.due_from, due_to=drill.due_to)
    elif drill.bucket in ("overdue", "stopped"):
        # Past the due date; the clock decides which of the two lists a ticket is in (as in the snapshot).
        kw.update(due_to=drill.due_to, clock_running=drill.bucket == "overdue")
    elif drill.bucket == "provisional":
        kw.update(provisional=True, due_from=drill.due_from)
    elif drill.bucket in ("closed", "on_time", "late"):
        kw.update(open_only=False, closed_from=drill.closed_from, closed_to=drill.closed_to, has_verdict=True,
                  exclude_states=("voided",))
        if drill.bucket != "closed":
            kw["on_time"] = drill.bucket == "on_time"
    return TicketFilter(**kw)  # type: ignore[arg-type]


class MaskedTickets(AllRolesAtOnce, QIdentityProxyModel):
    """The lazy ticket table as a manager's list shows it (domain-rules §6, dashboard / statistics column):
    applicant names masked 张*三, no ID number anywhere (the counter's tooltip carries the masked ID)."""

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # The source's Python ``data`` is called directly, not through the C++ proxy, so painting a cell stays one
        # call into Python (see cell_roles).
        source = self.sourceModel()
        if source is None or not index.isValid():
            return None
        inner = self.mapToSource(index)
        if index.column() == COL_APPLICANT:
            if role == Qt.ItemDataRole.ToolTipRole:
                return None
            if role in (Qt.ItemDataRole.DisplayRole, SortRole):
                return mask_name(str(source.data(inner, Qt.ItemDataRole.DisplayRole) or ""))
            if role == RowRole:
                return None  # the whole row would carry the name and the clerk's masked ID
        return source.data(inner, role)


class DrillDialog(QDialog):
    """The tickets behind one number, in the counter's lazy table (fetchMore pages, never a full load).

    ``what`` is a dashboard :class:`Drill`, or a :class:`TicketFilter` with a ``title`` (statistics screen)."""

    def __init__(self, ctx: Context, what: Drill | TicketFilter, today: date, parent: QWidget | None = None, *,
                 title: str = "") -> None:
        super().__init__(parent)
        flt = what if isinstance(what, TicketFilter) else ticket_filter(what)
        self.setWindowTitle(tr("办件清单 — ") + (title or (what.title if isinstance(what, Drill) else "")))
        # Every page read on the pool: a drill into a year's closures at a large hall never freezes the window.
        self.model = TicketTableModel.in_background(ctx.db, flt, today=lambda: today, parent=self)
        self.shown = MaskedTickets(self)
        self.shown.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.shown)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        # Widths from the font, never from the rows (sizing to contents walks every fetched row on each page).
        fixed_columns(self.table.horizontalHeader(), self.fontMetrics(), TICKET_COLUMN_SAMPLES)
        self.table.setColumnHidden(COL_SYNC, True)  # shown only where this database syncs with laptops
        self.model.loaded.connect(lambda: self.table.setColumnHidden(COL_SYNC, not self.model.any_sync))
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        fit_on_screen(self, 73, 31)
        # Open beside the dashboard while tickets change: the list follows, keeping the manager's place.
        self._place: Place | None = None
        self.model.refreshing.connect(lambda: setattr(self, "_place", Place.of(self.table, self.model.key_at)))
        self.model.loaded.connect(self._rows_arrived)
        self.listener = ChangeListener(self, ctx.changes, lambda c: c.any_tickets or c.calendar,
                                       lambda _c: self.model.refresh(), coalesce_ms=COALESCE_MS)

    def _rows_arrived(self) -> None:
        place, self._place = self._place, None
        if place is not None:
            place.restore(self.table, self.model.row_of)  # type: ignore[arg-type]

    def numbers(self, timeout_s: float = 30.0) -> list[str]:
        """Every ticket number of the list, fetching the remaining pages (tests and small lists only): the
        event loop turns while the pages arrive from the pool."""
        tick = QTimer()
        tick.setInterval(20)  # wakes the wait below so the deadline is checked
        tick.start()
        deadline = time.monotonic() + timeout_s
        try:
            while self.model.loading or self.model.canFetchMore():
                if not self.model.loading:
                    self.model.fetchMore()
                if time.monotonic() > deadline:
                    raise TimeoutError("the ticket list did not finish loading")
                QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
        finally:
            tick.stop()
        return [row.number for i in range(self.model.rowCount()) if (row := self.model.row_at(i)) is not None]


class DashboardWidget(StaleWhileHidden, QWidget):
    """Emits ``drill_requested(Drill)`` for every click on a number (by default opens a DrillDialog),
    ``register_requested(name)`` for "全部 N 条" under a side panel (the main window shows that register, the
    full list with its actions), and ``drawn`` once a snapshot is on screen.

    The snapshot is computed on the database pool (:class:`Loader`), never on the GUI thread. A burst of changes
    that concern it (:func:`concerns`; several counters saving) is coalesced into one refresh; while the dashboard
    is hidden a change only marks it stale, and it reloads when shown. Drawing touches only the parts whose figures
    changed.
    """

    drill_requested = Signal(object)
    register_requested = Signal(str)
    ticket_requested = Signal(str)  # a ticket number (a sync conflict in the side column)
    drawn = Signal()

    def __init__(self, ctx: Context, parent: QWidget | None = None, *, today: Callable[[], date] = date.today,
                 open_dialogs: bool = True) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._today = today
        self.snapshot: DashboardSnapshot | None = None
        self.open_dialogs = open_dialogs
        self.dialogs: list[DrillDialog] = []
        self.loader = Loader(ctx.db, self)
        self.redrawn: tuple[str, ...] = ()  # the parts the last snapshot redrew (unchanged parts are skipped)
        self._drawn: dict[str, object] = {}
        self._stale = True

        outer = QVBoxLayout(self)
        self.banner = QLabel()
        self.banner.setObjectName("calendarBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background:#fff3cd; color:#7a5300; padding:6px; border:1px solid #e0c97f;")
        self.banner.hide()
        outer.addWidget(self.banner)

        head = QHBoxLayout()
        self.title = QLabel()
        f = QFont(self.font())
        f.setPointSize(f.pointSize() + 3)
        f.setBold(True)
        self.title.setFont(f)
        head.addWidget(self.title, 1)
        self.updated = QLabel(tr("正在统计……"))
        self.updated.setObjectName("dashboardUpdated")
        head.addWidget(self.updated)
        refresh = QPushButton(tr("刷新(&R)"))
        refresh.clicked.connect(self.refresh)
        head.addWidget(refresh)
        outer.addLayout(head)

        tiles = QHBoxLayout()
        self.tiles: dict[str, QPushButton] = {}
        for bucket in TILES:
            b = QPushButton(f"—\n{tr(dashboard.BUCKET_LABELS[bucket])}")
            b.setObjectName(f"tile_{bucket}")
            b.setMinimumHeight(text_size(b, 0, 3.5).height())  # two lines of figure and label with padding
            b.setStyleSheet(f"QPushButton {{ color:{TILE_COLORS[bucket]}; font-size:15pt; font-weight:bold; "
                            "text-align:center; padding:4px; }")
            b.clicked.connect(lambda _c=False, k=bucket: self._drill_bucket(k))
            self.tiles[bucket] = b
            tiles.addWidget(b)
        # 按时办结率 today / this month / this year: each on-time and closed count opens its closures.
        self.rates = QGroupBox(tr("按时办结率"))
        self.rates.setObjectName("rates")
        grid = QGridLayout(self.rates)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.setVerticalSpacing(0)
        self.rate_labels: dict[str, QLabel] = {}
        self.rate_buttons: dict[tuple[str, str], QPushButton] = {}
        for r, period in enumerate(RATE_PERIODS):
            label = QLabel()
            label.setStyleSheet("font-size:12pt;")
            self.rate_labels[period] = label
            grid.addWidget(label, r, 0)
            for c, bucket in enumerate(("on_time", "closed"), 1):
                b = QPushButton()
                b.setFlat(True)
                b.setCursor(Qt.CursorShape.PointingHandCursor)
                b.setStyleSheet("font-size:12pt; color:#2f6fb3; text-decoration:underline; padding:0 2px;")
                b.clicked.connect(lambda _c=False, p=period, k=bucket: self._drill_rate(p, k))
                self.rate_buttons[(period, bucket)] = b
                grid.addWidget(b, r, c)
        tiles.addWidget(self.rates)
        outer.addLayout(tiles)

        middle = QHBoxLayout()
        self.tabs = QTabWidget()
        self.tables: dict[str, QTableWidget] = {}
        for dim, label in (("window", tr("按窗口")), ("staff", tr("按工作人员")), ("kind", tr("按办件类型"))):
            t = QTableWidget(0, 1 + len(TABLE_BUCKETS))
            t.setObjectName(f"table_{dim}")
            t.setHorizontalHeaderLabels([label[1:]] + [tr(dashboard.BUCKET_LABELS[b]) for b in TABLE_BUCKETS])
            t.verticalHeader().setVisible(False)
            t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            fixed_columns(t.horizontalHeader(), self.fontMetrics(), {
                c: max(tr(dashboard.BUCKET_LABELS[b]), "00000", key=len) for c, b in enumerate(TABLE_BUCKETS, 1)},
                stretch=0)
            t.cellClicked.connect(lambda r, c, d=dim: self._drill_cell(d, r, c))
            self.tables[dim] = t
            self.tabs.addTab(t, label)
        middle.addWidget(self.tabs, 3)

        side = QVBoxLayout()
        self.sync_alerts = SyncAlertsBox(ctx, self)  # hidden while no ticket is in sync conflict
        self.sync_alerts.ticket_requested.connect(self.ticket_requested)
        side.addWidget(self.sync_alerts)
        self.panels: dict[str, QListWidget] = {}
        self.panel_boxes: dict[str, QGroupBox] = {}
        self.panel_more: dict[str, QPushButton] = {}
        for key, label in PANEL_TITLES.items():
            box = QGroupBox(tr(label))
            lay = QVBoxLayout(box)
            lst = QListWidget()
            lst.setObjectName(f"panel_{key}")
            lay.addWidget(lst)
            more = QPushButton()
            more.setObjectName(f"more_{key}")
            more.setFlat(True)
            more.setCursor(Qt.CursorShape.PointingHandCursor)
            more.setStyleSheet("color:#2f6fb3; text-decoration:underline; text-align:left; padding:0 2px;")
            more.clicked.connect(lambda _c=False, k=key: self.register_requested.emit(PANEL_REGISTERS[k]))
            more.hide()
            lay.addWidget(more)
            self.panels[key] = lst
            self.panel_boxes[key] = box
            self.panel_more[key] = more
            side.addWidget(box)
        middle.addLayout(side, 2)
        outer.addLayout(middle, 3)

        charts = QGridLayout()
        self.chart_daily = Chart(tr("近30日收件与办结"), "bar")
        self.chart_load = Chart(tr("各窗口在办与超期"), "bar")
        self.chart_trend = Chart(tr("近30日超期件数"), "line")
        for i, c in enumerate((self.chart_daily, self.chart_load, self.chart_trend)):
            charts.addWidget(c, 0, i)
        outer.addLayout(charts, 2)

        # Several counters saving at once: one refresh for the burst.
        self.listener = ChangeListener(self, ctx.changes, concerns, lambda _c: self.mark_changed(),
                                       coalesce_ms=COALESCE_MS)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.mark_changed)
        self.timer.start()
        self.drill_requested.connect(self._open_drill)
        self.refresh()  # only queues the read: the figures arrive when the pool has them

    # ------------------------------------------------------------------------------------------ data
    @property
    def loading(self) -> bool:
        return self.loader.busy or self.sync_alerts.loading

    def refresh(self) -> None:
        """Recount now (in the background; the newest request wins, an older one still running is dropped)."""
        self._stale = False
        self.listener.forget()
        today = self._today()
        self.loader.request(lambda s: dashboard.snapshot(s, today), self._loaded, failed=self._failed)
        self.sync_alerts.refresh()

    def _loaded(self, snap: DashboardSnapshot) -> None:
        self.snapshot = snap
        self._show(snap)
        self.drawn.emit()

    def _failed(self, exc: HallError) -> None:
        self.updated.setText(tr("无法刷新：") + str(exc))

    def _show(self, snap: DashboardSnapshot) -> None:
        weekday = "一二三四五六日"[snap.today.weekday()]
        work = tr("工作日") if snap.is_workday else tr("休息日")
        self.updated.setText(tr("更新于 ") + datetime.now().strftime("%H:%M:%S"))
        self.updated.setToolTip(tr("统计用时 {0} 毫秒").format(f"{snap.elapsed_ms:.0f}"))
        parts: tuple[tuple[str, object, Callable[[], None]], ...] = (
            ("banner", snap.calendar_banner, lambda: self._draw_banner(snap)),
            ("title", (snap.today, snap.next_workday, work), lambda: self.title.setText(
                tr("今日 ") + f"{snap.today.isoformat()}（周{weekday}，{work}）"
                + tr("　下一工作日 ") + snap.next_workday.isoformat())),
            ("tiles", snap.totals, lambda: self._draw_tiles(snap)),
            ("rates", self._rates(snap), lambda: self._draw_rates(snap)),
            ("table_window", snap.by_window, lambda: self._fill(self.tables["window"], snap.by_window)),
            ("table_staff", snap.by_staff, lambda: self._fill(self.tables["staff"], snap.by_staff)),
            ("table_kind", snap.by_kind, lambda: self._fill(self.tables["kind"], snap.by_kind)),
            ("duty", (snap.duty, snap.substitutions), lambda: self._fill_duty(snap)),
            ("rectifications", snap.rectifications, lambda: self._fill_panel(
                "rectifications", snap.rectifications, lambda r: (
                    f"{r.window_code} {r.staff_name}：{r.item_name}（{r.state_label}，{r.due_on} 前"
                    + (tr("，已超期") if r.overdue else "") + "）"))),
            ("followups", snap.followups, lambda: self._fill_panel(
                "followups", snap.followups, lambda f: (
                    f"{f.reason_label} {f.ticket_number or ''} {f.item_name}（{f.due_on}"
                    + (tr("，已超期") if f.overdue else "") + "）"))),
            ("chart_days", snap.series, lambda: self._draw_days(snap)),
            ("chart_load", snap.by_window, lambda: self._draw_load(snap)),
        )
        redrawn = []
        for name, figures, draw in parts:
            if name in self._drawn and self._drawn[name] == figures:
                continue
            draw()
            self._drawn[name] = figures
            redrawn.append(name)
        self.redrawn = tuple(redrawn)

    def _draw_banner(self, snap: DashboardSnapshot) -> None:
        self.banner.setText(snap.calendar_banner)
        self.banner.setVisible(bool(snap.calendar_banner))

    def _draw_tiles(self, snap: DashboardSnapshot) -> None:
        for bucket, b in self.tiles.items():
            n = snap.totals.get(bucket)
            extra = tr("\n最长超期 {0} 个工作日").format(snap.totals.max_days_over) \
                if bucket == "overdue" and n else ""
            b.setText(f"{n}\n{tr(dashboard.BUCKET_LABELS[bucket])}{extra}")

    def _draw_rates(self, snap: DashboardSnapshot) -> None:
        for period, rate in zip(RATE_PERIODS, self._rates(snap), strict=True):
            self.rate_labels[period].setText(f"{rate.label} {rate.text}")
            self.rate_buttons[(period, "on_time")].setText(tr("按时 {0}").format(rate.on_time))
            self.rate_buttons[(period, "on_time")].setToolTip(tr("{0}按时办结的办件").format(rate.label))
            self.rate_buttons[(period, "closed")].setText(tr("/ 办结 {0}").format(rate.closed))
            self.rate_buttons[(period, "closed")].setToolTip(tr("{0}办结的办件（按时与超期）").format(rate.label))

    def _draw_days(self, snap: DashboardSnapshot) -> None:
        days = [p.day.strftime("%m-%d") for p in snap.series]
        self.chart_daily.set_data(days, [
            Series(tr("收件"), tuple(p.received for p in snap.series), PALETTE[0]),
            Series(tr("办结"), tuple(p.closed for p in snap.series), PALETTE[1])])
        self.chart_trend.set_data(days, [Series(tr("超期"), tuple(p.overdue for p in snap.series), PALETTE[2])])

    def _draw_load(self, snap: DashboardSnapshot) -> None:
        active = [g for g in snap.by_window if g.counts.open or g.counts.overdue] or list(snap.by_window)
        self.chart_load.set_data([g.key for g in active], [
            Series(tr("在办"), tuple(g.counts.open for g in active), PALETTE[0]),
            Series(tr("超期"), tuple(g.counts.overdue for g in active), PALETTE[2])])

    @staticmethod
    def _cell(table: QTableWidget, r: int, c: int) -> QTableWidgetItem:
        item = table.item(r, c)
        if item is None:
            item = QTableWidgetItem()
            if c:
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            table.setItem(r, c, item)
        return item

    def _fill(self, table: QTableWidget, lines: tuple[GroupLine, ...]) -> None:
        # Cells are reused and only rewritten where the text differs: a refresh with a few changed counts
        # repaints those cells, not the table.
        table.setRowCount(len(lines))
        for r, g in enumerate(lines):
            head = self._cell(table, r, 0)
            if head.text() != g.label:
                head.setText(g.label)
            for c, bucket in enumerate(TABLE_BUCKETS, 1):
                n = g.counts.get(bucket)
                item = self._cell(table, r, c)
                text = str(n) if n else ""
                if item.text() != text:
                    item.setText(text)
                late = bucket == "overdue" and bool(n)
                if bool(item.data(LATE_ROLE)) != late:
                    item.setData(LATE_ROLE, late)
                    item.setData(Qt.ItemDataRole.ForegroundRole, QBrush(Qt.GlobalColor.red) if late else None)
                tip = tr("最长超期 {0} 个工作日").format(g.counts.max_days_over) if late else ""
                if item.toolTip() != tip:
                    item.setToolTip(tip)

    def _fill_list(self, key: str, lines: list[str], enabled: bool) -> None:
        lst = self.panels[key]
        lst.setUpdatesEnabled(False)
        try:
            lst.clear()
            lst.addItems(lines)
            for i, line in enumerate(lines):  # a panel is narrow: the line is cut at its edge, the tip has it whole
                lst.item(i).setToolTip(line)
            lst.setEnabled(enabled)
        finally:
            lst.setUpdatesEnabled(True)

    def _fill_panel(self, key: str, panel: Panel, text: Callable[[Any], str]) -> None:
        box, more = self.panel_boxes[key], self.panel_more[key]
        title = tr(PANEL_TITLES[key])
        if not panel.enabled:
            self._fill_list(key, [panel.note or tr("未启用")], False)
            box.setTitle(title)
            more.hide()
            return
        self._fill_list(key, [text(row) for row in panel.rows] or [tr("无")], True)
        box.setTitle(title + f"（{panel.count}）")
        more.setText(tr("共 {0} 条，已列出前 {1} 条 — 查看全部…").format(panel.count, len(panel.rows)))
        more.setVisible(panel.truncated)

    def _fill_duty(self, snap: DashboardSnapshot) -> None:
        if not snap.duty.enabled:
            self._fill_list("duty", [snap.duty.note or tr("未启用")], False)
            return
        lines = []
        for d in snap.duty.rows:
            text = f"{d.window_code or '—'} {d.name}：{d.status_label}"
            if d.stood_in_by:
                text += tr("，由 {0} 代岗").format(d.stood_in_by)
            if d.standing_in_for:
                text += tr("，代 {0} 顶岗").format("、".join(d.standing_in_for))
            lines.append(text)
        for s in snap.substitutions.rows if snap.substitutions.enabled else ():
            lines.append(tr("B岗：{0} 代 {1}（{2}，自 {3}，手上 {4} 件）").format(
                s.b_post, s.holder, s.window_code or "", s.started_on, s.tickets_held))
        self._fill_list("duty", lines, True)

    @staticmethod
    def _rates(snap: DashboardSnapshot) -> tuple[Rate, Rate, Rate]:
        return snap.rate_today, snap.rate_month, snap.rate_year

    def rates_text(self) -> str:
        """The rates as one line each, e.g. "本月 66.7%（2/3）" (what a screen reader or a test reads)."""
        if self.snapshot is None:
            return ""
        return "\n".join(f"{r.label} {r.text}（{r.on_time}/{r.closed}）" for r in self._rates(self.snapshot))

    # --------------------------------------------------------------------------------------- drilling
    def _drill_rate(self, period: str, bucket: str) -> None:
        if self.snapshot is not None:
            rate = self._rates(self.snapshot)[RATE_PERIODS.index(period)]
            self.drill_requested.emit(rate.drill(bucket))

    def _drill_bucket(self, bucket: str) -> None:
        if self.snapshot is not None:
            self.drill_requested.emit(self.snapshot.drill(bucket))

    def _drill_cell(self, dim: str, row: int, col: int) -> None:
        snap = self.snapshot
        if snap is None or col == 0:
            return
        lines = {"window": snap.by_window, "staff": snap.by_staff, "kind": snap.by_kind}[dim]
        if 0 <= row < len(lines):
            self.drill_requested.emit(lines[row].drill(TABLE_BUCKETS[col - 1], snap))

    def _open_drill(self, drill: Drill) -> None:
        if not self.open_dialogs or self.snapshot is None:
            return
        dlg = DrillDialog(self.ctx, drill, self.snapshot.today, self)
        self.dialogs.append(dlg)
        dlg.finished.connect(lambda _r, d=dlg: self.dialogs.remove(d))
        dlg.show()
