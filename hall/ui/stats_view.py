"""Statistics and performance review (统计 / 效绩考核) for the manager: the same figures as the Excel reports.

Every number comes from :mod:`hall.services.reporting.stats` and every cell is formatted by the exporters' own column
definitions (``reports_xlsx.STAT_COLUMNS`` / ``PERF_COLUMNS`` / ``OVERDUE_HEADERS``), so the screen and the
workbook cannot disagree. "导出Excel…" calls those exporters for the period on screen; double-clicking a figure
opens the tickets counted in it (``queue.stats_filter``) in the counter's lazy table, applicant names masked
(domain-rules §6, statistics column). Staff names stay whole: they are the reviewed officials, as on the
exported sheets and the public staff board.

Mount with ``StatsView(ctx, today=lambda: day)`` (a tab of the main window for managers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QDate,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hall.errors import HallError
from hall.exchange import export_process, reports_xlsx
from hall.exchange.reports_xlsx import OVERDUE_HEADERS, PERF_COLUMNS, STAT_COLUMNS, shown, stats_row_values
from hall.services.base.states import KIND_LABELS
from hall.services.reporting import queue, stats
from hall.services.reporting.queue import TicketFilter
from hall.services.reporting.stats import OverdueLine, PerformanceRow, Period, StatsRow, StatsTable
from hall.services.storage import changes
from hall.services.storage.changes import Changes
from hall.ui import messages
from hall.ui.background import Loader, Task
from hall.ui.cell_roles import AllRolesAtOnce
from hall.ui.dashboard import DrillDialog
from hall.ui.ops import COALESCE_MS, ChangeListener, Context
from hall.ui.progress import SHOW_AFTER_MS, ProgressStrip
from hall.ui.screen_fit import text_size
from hall.ui.widgets import StaleWhileHidden, fixed_columns

ModelIndex = QModelIndex | QPersistentModelIndex
# (parent, caption, suggested path) -> chosen path, "" when cancelled. Tests pass their own.
SaveDialog = Callable[[QWidget, str, str], str]

PERIODS = (("this_month", "本月"), ("last_month", "上月"), ("this_quarter", "本季度"), ("last_quarter", "上季度"),
           ("this_year", "本年"), ("last_year", "上年"), ("custom", "自定义期间"))
DIMENSION_CHOICES = (("window", "窗口"), ("item", "事项"), ("kind", "办件类型"), ("staff", "工作人员"),
                     ("village", "村（受理点）"))
# Which ticket list a column's figure stands for (ratings are counted per rating, not per ticket: none).
STAT_FIGURES: dict[str, str | None] = {
    "收件": "received", "受理": "accepted", "不予受理": "refused", "办结": "closed", "按时办结": "on_time",
    "超期办结": "closed_late", "按时办结率": "closed", "超期未办结": "open_overdue",
    "平均办理时长（工作日）": "closed", "评价数": None, "差评": None, "满意率": None,
}
TAB_STATS, TAB_PERFORMANCE, TAB_OVERDUE = range(3)
FETCH_ROWS = 500  # rows of a long list handed to the view per fetch
# The widest usual text of each overdue-list column (after 序号): widths come from these, never from the rows.
OVERDUE_SAMPLES = dict(enumerate(("320581101-000-20260305-0012", "最低生活保障申请（城乡）审核", "W10", "承诺件",
                                  "欧阳某某", "2026-03-05", "2026-03-05", "2026-03-05", "999", "办结（容缺通过）")))
TOTAL_BG = QColor("#f2f2f2")
OVERDUE_FG = QColor("#b00020")


def concerns(c: Changes) -> bool:
    """What the statistics count: tickets (and the working days between their dates), ratings, attendance and
    accountability for the review, and the names of staff, windows and items."""
    return (c.any_tickets or c.calendar or c.staff or c.catalog
            or c.touches(changes.RATINGS, changes.ATTENDANCE, changes.ACCOUNTABILITY))


def tr(text: str) -> str:
    return QCoreApplication.translate("StatsView", text)


def period_for(choice: str, today: date, start: date | None = None, end: date | None = None) -> Period:
    """The period of a picker choice, seen from ``today`` (a running month or year is clipped to today when
    counted; the period keeps its whole span so its title reads "2026年12月")."""
    y, m = today.year, today.month
    q = (m - 1) // 3 + 1
    if choice == "this_month":
        return Period.month(y, m)
    if choice == "last_month":
        return Period.month(y - (m == 1), 12 if m == 1 else m - 1)
    if choice == "this_quarter":
        return Period.quarter(y, q)
    if choice == "last_quarter":
        return Period.quarter(y - (q == 1), 4 if q == 1 else q - 1)
    if choice == "this_year":
        return Period.year(y)
    if choice == "last_year":
        return Period.year(y - 1)
    if choice == "custom" and start is not None and end is not None:
        return Period.between(start, end)
    raise ValueError(f"unknown period choice {choice!r}")


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(d: QDate) -> date:
    return date(d.year(), d.month(), d.day())


def _default_save_dialog(parent: QWidget, caption: str, suggested: str) -> str:
    path, _filter = QFileDialog.getSaveFileName(parent, caption, suggested, tr("Excel 工作簿 (*.xlsx)"))
    return path


# --------------------------------------------------------------------------------------------- model
class FigureTable(AllRolesAtOnce, QAbstractTableModel):
    """Rows of cells exactly as the exporter writes them; an optional 合计 row last, bold on grey."""

    def __init__(self, headers: Sequence[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._headers = list(headers)
        self._tips: list[str | None] = [None] * len(headers)
        self._rows: list[list[Any]] = []
        self._shown = 0
        self._has_total = False
        self._red: set[int] = set()  # columns shown in red when not zero
        self._bold = QFont()
        self._bold.setBold(True)

    def set_headers(self, headers: Sequence[str], tips: Sequence[str | None] | None = None) -> None:
        self.beginResetModel()
        self._headers = list(headers)
        self._tips = list(tips) if tips is not None else [None] * len(headers)
        self.endResetModel()

    def set_rows(self, rows: Sequence[Sequence[Any]], total: Sequence[Any] | None = None,
                 red: Sequence[int] = ()) -> None:
        self.beginResetModel()
        self._rows = [list(r) for r in rows] + ([list(total)] if total is not None else [])
        self._has_total = total is not None
        self._red = set(red)
        # A long list (the overdue tab at a large hall) reaches the view a page at a time as it scrolls.
        self._shown = min(len(self._rows), FETCH_ROWS)
        self.endResetModel()

    def is_total(self, row: int) -> bool:
        return self._has_total and row == len(self._rows) - 1

    def canFetchMore(self, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: B008 - Qt's own default
        return not parent.isValid() and self._shown < len(self._rows)

    def fetchMore(self, parent: ModelIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._shown >= len(self._rows):
            return
        more = min(len(self._rows), self._shown + FETCH_ROWS)
        self.beginInsertRows(QModelIndex(), self._shown, more - 1)
        self._shown = more
        self.endInsertRows()

    @property
    def total_rows(self) -> int:
        """Every row the model holds (``rowCount`` is what the view has fetched so far)."""
        return len(self._rows)

    def text(self, row: int, col: int) -> str:
        value = self._rows[row][col]
        if value is None:
            return ""
        return value.isoformat() if isinstance(value, date) else str(value)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's own default
        return 0 if parent.isValid() else self._shown

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._headers):
            if role == Qt.ItemDataRole.DisplayRole:
                return self._headers[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return self._tips[section]
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < self._shown:
            return "" if self.is_total(section) else str(section + 1)
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < self._shown) \
                or not (0 <= index.column() < len(self._headers)):
            return None
        row, col = index.row(), index.column()
        value = self._rows[row][col]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, col)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            left = col == 0 or (isinstance(value, str) and len(value) > 12)
            return int((Qt.AlignmentFlag.AlignLeft if left else Qt.AlignmentFlag.AlignCenter)
                       | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and self.is_total(row):
            return self._bold
        if role == Qt.ItemDataRole.BackgroundRole and self.is_total(row):
            return QBrush(TOTAL_BG)
        if role == Qt.ItemDataRole.ForegroundRole and col in self._red and value not in (0, None, "", "—"):
            return QBrush(OVERDUE_FG)
        if role == Qt.ItemDataRole.ToolTipRole and isinstance(value, str) and len(value) > 12:
            return value
        return None


def _table(model: FigureTable, name: str) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)  # long text is elided; the model's tooltip carries it whole
    # Widths from the font and row heights fixed: nothing is measured per row (thousands of overdue tickets).
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    return view


# --------------------------------------------------------------------------------------------- view
class StatsView(StaleWhileHidden, QWidget):
    """Emits ``drill_requested(TicketFilter, title)`` for a double-clicked figure; by default opens a
    DrillDialog. ``save_dialog`` asks where to write a workbook (tests inject one)."""

    drill_requested = Signal(object, str)
    counted = Signal()  # new figures are on screen
    exported = Signal(object)  # the ReportResult of an export
    export_failed = Signal(str)  # the message shown

    def __init__(self, ctx: Context, parent: QWidget | None = None, *, today: Callable[[], date] = date.today,
                 save_dialog: SaveDialog | None = None, open_dialogs: bool = True) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._today = today
        self._save_dialog = save_dialog or _default_save_dialog
        self.open_dialogs = open_dialogs
        self.dialogs: list[DrillDialog] = []
        self.period: Period = period_for("this_month", today())
        self.table: StatsTable | None = None
        self.performance: tuple[PerformanceRow, ...] = ()
        self.overdue: list[OverdueLine] = []
        self.last_export: reports_xlsx.ReportResult | None = None
        self.export_task: Task | None = None
        self.loader = Loader(ctx.db, self)
        self._stale = True  # counted when first shown (a tab behind the intake screen needs no numbers yet)

        outer = QVBoxLayout(self)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(tr("统计期间")))
        self.period_box = QComboBox()
        self.period_box.setObjectName("period")
        for key, label in PERIODS:
            self.period_box.addItem(tr(label), key)
        bar.addWidget(self.period_box)
        self.date_from = QDateEdit()
        self.date_to = QDateEdit()
        for edit, name in ((self.date_from, "dateFrom"), (self.date_to, "dateTo")):
            edit.setObjectName(name)
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        bar.addWidget(self.date_from)
        bar.addWidget(QLabel(tr("至")))
        bar.addWidget(self.date_to)
        bar.addSpacing(16)
        bar.addWidget(QLabel(tr("统计维度")))
        self.dimension_box = QComboBox()
        self.dimension_box.setObjectName("dimension")
        for key, label in DIMENSION_CHOICES:
            self.dimension_box.addItem(tr(label), key)
        bar.addWidget(self.dimension_box)
        self.refresh_button = QPushButton(tr("统计(&S)"))
        self.refresh_button.clicked.connect(self.refresh)
        bar.addWidget(self.refresh_button)
        bar.addStretch(1)
        self.progress = ProgressStrip()
        bar.addWidget(self.progress)
        self.export_button = QPushButton(tr("导出Excel…"))
        self.export_button.setObjectName("export")
        self.export_button.clicked.connect(self.export_current)
        bar.addWidget(self.export_button)
        self.ledger_button = QPushButton(tr("导出办件台账…"))
        self.ledger_button.setObjectName("exportLedger")
        self.ledger_button.setToolTip(tr("本期收件的全部办件，个人信息已脱敏"))
        self.ledger_button.clicked.connect(self.export_ledger)
        bar.addWidget(self.ledger_button)
        outer.addLayout(bar)

        self.caption = QLabel()
        self.caption.setObjectName("caption")
        f = QFont(self.font())
        f.setPointSize(f.pointSize() + 2)
        f.setBold(True)
        self.caption.setFont(f)
        outer.addWidget(self.caption)
        self.subtitle = QLabel()
        self.subtitle.setObjectName("subtitle")
        self.subtitle.setWordWrap(True)
        sub_row = QHBoxLayout()
        sub_row.addWidget(self.subtitle, 1)
        # A year at a large hall takes a second or two to count: a busy bar says so (shown only after a second).
        self.counting = QProgressBar()
        self.counting.setObjectName("counting")
        self.counting.setRange(0, 0)
        self.counting.setMaximumWidth(text_size(self.counting, 11, 0).width())
        self.counting.hide()
        sub_row.addWidget(self.counting)
        outer.addLayout(sub_row)
        self._counting_shown = QTimer(self)
        self._counting_shown.setSingleShot(True)
        self._counting_shown.setInterval(SHOW_AFTER_MS)
        self._counting_shown.timeout.connect(lambda: self.counting.setVisible(self.loading))

        self.tabs = QTabWidget()
        self.stats_model = FigureTable([], self)
        self.stats_table = _table(self.stats_model, "statsTable")
        self.stats_table.doubleClicked.connect(self._drill_stats)
        self.tabs.addTab(self.stats_table, tr("统计表"))
        self.perf_model = FigureTable([], self)
        self.perf_model.set_headers([tr("姓名")] + [tr(h) for h, _f in PERF_COLUMNS])
        self.perf_table = _table(self.perf_model, "performanceTable")
        self.perf_table.doubleClicked.connect(self._drill_performance)
        self.tabs.addTab(self.perf_table, tr("效绩考核"))
        self.overdue_model = FigureTable([], self)
        self.overdue_model.set_headers([tr(h) for h in OVERDUE_HEADERS[1:]])
        self.overdue_table = _table(self.overdue_model, "overdueTable")
        fixed_columns(self.overdue_table.horizontalHeader(), self.fontMetrics(), OVERDUE_SAMPLES,
                      stretch=len(OVERDUE_HEADERS) - 2)
        fixed_columns(self.perf_table.horizontalHeader(), self.fontMetrics(), {0: "欧阳某某某"})
        self.overdue_table.doubleClicked.connect(self._drill_overdue)
        self.tabs.addTab(self.overdue_table, tr("超期办件"))
        self.tabs.currentChanged.connect(self._update_export_tip)
        outer.addWidget(self.tabs, 1)

        self.hint = QLabel(tr("双击数字，查看统计在内的办件（申请人姓名已脱敏）。"))
        self.hint.setObjectName("hint")
        self.hint.setStyleSheet("color:#555;")
        outer.addWidget(self.hint)

        self._set_dates(self.period)
        self._custom_enabled(False)
        self.period_box.currentIndexChanged.connect(self._period_changed)
        self.dimension_box.currentIndexChanged.connect(lambda _i: self.refresh())
        self.date_from.dateChanged.connect(lambda _d: self._dates_changed())
        self.date_to.dateChanged.connect(lambda _d: self._dates_changed())
        self.listener = ChangeListener(self, ctx.changes, concerns, lambda _c: self.mark_changed(),
                                       coalesce_ms=COALESCE_MS)
        self.drill_requested.connect(self._open_drill)
        self._update_export_tip(self.tabs.currentIndex())

    # ---------------------------------------------------------------------------------------- choices
    @property
    def dimension(self) -> str:
        return str(self.dimension_box.currentData())

    def choose(self, period: str | None = None, dimension: str | None = None, *, start: date | None = None,
               end: date | None = None) -> None:
        """Pick a period (a key of PERIODS; "custom" with ``start``/``end``) and/or a dimension, then count."""
        blockers = [self.period_box, self.dimension_box, self.date_from, self.date_to]
        for w in blockers:
            w.blockSignals(True)
        try:
            if dimension is not None:
                self.dimension_box.setCurrentIndex(self.dimension_box.findData(dimension))
            if period is not None:
                self.period_box.setCurrentIndex(self.period_box.findData(period))
                self._custom_enabled(period == "custom")
                if period != "custom":
                    self._set_dates(period_for(period, self._today()))
            if start is not None:
                self.date_from.setDate(_qdate(start))
            if end is not None:
                self.date_to.setDate(_qdate(end))
        finally:
            for w in blockers:
                w.blockSignals(False)
        self.refresh()

    def _period_changed(self, _index: int) -> None:
        key = str(self.period_box.currentData())
        self._custom_enabled(key == "custom")
        if key != "custom":
            self._set_dates(period_for(key, self._today()))
        self.refresh()

    def _dates_changed(self) -> None:
        if self.period_box.currentData() == "custom":
            self.refresh()

    def _set_dates(self, period: Period) -> None:
        for edit, d in ((self.date_from, period.start), (self.date_to, period.end)):
            edit.blockSignals(True)
            edit.setDate(_qdate(d))
            edit.blockSignals(False)

    def _custom_enabled(self, on: bool) -> None:
        self.date_from.setEnabled(on)
        self.date_to.setEnabled(on)

    def _chosen_period(self) -> Period:
        key = str(self.period_box.currentData())
        return period_for(key, self._today(), _pydate(self.date_from.date()), _pydate(self.date_to.date()))

    # ------------------------------------------------------------------------------------------- data
    @property
    def loading(self) -> bool:
        return self.loader.busy

    def refresh(self) -> None:
        """Count the chosen period and dimension (one background read: the statistics, the review, the overdue
        list); the figures on screen stay until the new ones arrive, then ``counted`` fires."""
        try:
            period = self._chosen_period()
        except HallError as exc:
            messages.error(self, tr("统计期间有误"), str(exc))
            return
        today = self._today()
        dim = self.dimension
        self._stale = False

        def load(s: Any) -> tuple[dict[str, StatsTable], tuple[PerformanceRow, ...], list[OverdueLine]]:
            tables = stats.collect_many(s, period, tuple(dict.fromkeys((dim, "staff"))), today=today)
            return (tables, stats.performance(s, period, today=today, table=tables["staff"]),
                    stats.overdue_list(s, period, today=today))

        self.subtitle.setText(tr("正在统计{0}……").format(period.label))
        self._counting_shown.start()
        self.loader.request(load, lambda got: self._loaded(period, dim, got), failed=self._failed)

    def _loaded(self, period: Period, dim: str,
                got: tuple[dict[str, StatsTable], tuple[PerformanceRow, ...], list[OverdueLine]]) -> None:
        self._counting_shown.stop()
        self.counting.hide()
        tables, self.performance, self.overdue = got
        self.period, self.table = period, tables[dim]
        self._show()
        self.counted.emit()

    def _failed(self, exc: HallError) -> None:
        self._counting_shown.stop()
        self.counting.hide()
        self.subtitle.setText(tr("无法统计：") + str(exc))

    def _show(self) -> None:
        table = self.table
        assert table is not None
        counted = table.period
        self._caption()
        span = tr("统计期间：{0} 至 {1}").format(counted.start.isoformat(), counted.end.isoformat())
        if counted.end < self.period.end:
            span += tr("（截至当日）")
        self.subtitle.setText(span + tr("　收件、不予受理按收件日期，受理按受理日期，办结按办结日期；"
                                        "超期未办结为期末已过承诺期限仍未办结（补正、特别程序、集体研究期间不计）。"))
        heads = [table.dimension_label] + [h for _g, h, _f in STAT_COLUMNS]
        tips: list[str | None] = [None] + [f"{g} · {h}" if g else h for g, h, _f in STAT_COLUMNS]
        if self.stats_model.columnCount() != len(heads) or self.stats_model.headerData(
                0, Qt.Orientation.Horizontal) != tr(heads[0]):
            self.stats_model.set_headers([tr(h) for h in heads], tips)
            fixed_columns(self.stats_table.horizontalHeader(), self.fontMetrics(),
                          {c: "100.0%" for c in range(1, len(heads))}, stretch=0)
        red = [1 + i for i, (_g, h, _f) in enumerate(STAT_COLUMNS) if h in ("超期办结", "超期未办结", "差评")]
        self.stats_model.set_rows([[r.label, *stats_row_values(r)] for r in table.rows],
                                  [tr("合计"), *stats_row_values(table.total)], red)

        lines = self.performance
        agg = _performance_total(lines)
        self.perf_model.set_rows([[p.stats.label] + [shown(h, f(p)) for h, f in PERF_COLUMNS] for p in lines],
                                 [tr("合计")] + [None if h in ("工号", "窗口") else shown(h, f(agg))
                                                for h, f in PERF_COLUMNS],
                                 [1 + i for i, (h, _f) in enumerate(PERF_COLUMNS) if h in ("超期办结", "超期未办结")])
        self.overdue_model.set_rows([_overdue_cells(o) for o in self.overdue], None, [8])
        self.tabs.setTabText(TAB_OVERDUE, tr("超期办件（{0}）").format(len(self.overdue)))

    def _caption(self) -> None:
        if self.table is None:
            return
        self.caption.setText({
            TAB_PERFORMANCE: tr("{0}工作人员效绩考核").format(self.period.label),
            TAB_OVERDUE: tr("{0}超期办件清单").format(self.period.label),
        }.get(self.tabs.currentIndex(), tr("{0}政务服务办件统计（{1}）").format(self.period.label,
                                                                        self.table.dimension_label)))

    # ------------------------------------------------------------------------------------- drilling
    def figure_filter(self, row: int, column: int) -> tuple[TicketFilter, str] | None:
        """The tickets behind one cell of the statistics table (None for the ratings columns)."""
        table = self.table
        if table is None or not 0 <= row <= len(table.rows):
            return None
        heading = "收件" if column == 0 else STAT_COLUMNS[column - 1][1]
        figure = STAT_FIGURES.get(heading)
        if figure is None:
            return None
        stats_row = table.total if row == len(table.rows) else table.rows[row]
        key = None if row == len(table.rows) else stats_row.key
        p = table.period
        title = f"{self.period.label} · {stats_row.label} · {'办结' if figure == 'closed' else heading}"
        return queue.stats_filter(p.start, p.end, table.dimension, key, figure), title

    def _drill_stats(self, index: QModelIndex) -> None:
        found = self.figure_filter(index.row(), index.column())
        if found is None:
            self.hint.setText(tr("好差评按评价记录统计（一件可有多次评价），不对应办件清单。"))
            return
        self.drill_requested.emit(*found)

    def performance_filter(self, row: int, column: int) -> tuple[TicketFilter, str] | None:
        """The tickets behind one cell of the review: the person's row of the by-staff statistics."""
        if not 0 <= row <= len(self.performance) or self.table is None:
            return None
        heading = "收件" if column < 1 or column > len(PERF_COLUMNS) else PERF_COLUMNS[column - 1][0]
        if heading in ("工号", "窗口"):
            heading = "收件"
        figure = STAT_FIGURES.get(heading)
        if figure is None:
            return None
        total = row == len(self.performance)
        line: StatsRow | None = None if total else self.performance[row].stats
        p = self.table.period
        title = f"{self.period.label} · {tr('合计') if line is None else line.label} · {heading}"
        return queue.stats_filter(p.start, p.end, "staff", None if line is None else line.key, figure), title

    def _drill_performance(self, index: QModelIndex) -> None:
        found = self.performance_filter(index.row(), index.column())
        if found is None:
            self.hint.setText(tr("出勤、好差评和责任追究不对应办件清单。"))
            return
        self.drill_requested.emit(*found)

    def _drill_overdue(self, index: QModelIndex) -> None:
        if 0 <= index.row() < len(self.overdue):
            number = self.overdue[index.row()].number
            self.drill_requested.emit(TicketFilter(open_only=False, text=number), tr("超期办件 ") + number)

    def _open_drill(self, flt: TicketFilter, title: str) -> None:
        if not self.open_dialogs:
            return
        dlg = DrillDialog(self.ctx, flt, self._today(), self, title=title)
        self.dialogs.append(dlg)
        dlg.finished.connect(lambda _r, d=dlg: self.dialogs.remove(d))
        dlg.show()

    # --------------------------------------------------------------------------------------- export
    def _update_export_tip(self, tab: int) -> None:
        self._caption()
        self.export_button.setToolTip({
            TAB_STATS: tr("月报/季报：按窗口、办件类型、受理点、事项的统计表，效绩考核，超期办件，办件登记台账"),
            TAB_PERFORMANCE: tr("效绩考核表（含按工作人员统计表）"),
            TAB_OVERDUE: tr("超期办件清单（含超期原因）"),
        }.get(tab, ""))

    def export_current(self) -> Task | None:
        """The workbook of the tab on screen, for the period picked, through the exporters — in the background
        (the person chooses the file first); None when the file dialog was cancelled or an export is running."""
        tab = self.tabs.currentIndex()
        if tab == TAB_PERFORMANCE:
            return self._export(tr("效绩考核"), "performance")
        if tab == TAB_OVERDUE:
            return self._export(tr("超期办件清单"), "overdue")
        return self._export(tr("办件统计"), "monthly")

    def export_ledger(self) -> Task | None:
        return self._export(tr("办件登记台账"), "ledger")

    def _export_period(self) -> Period | None:
        """The period the picker shows (a recount may still be on its way; the export counts for itself)."""
        try:
            return self._chosen_period()
        except HallError as exc:
            messages.error(self, tr("统计期间有误"), str(exc))
            return None

    def _export(self, name: str, kind: str) -> Task | None:
        period = self._export_period()
        if period is None:
            return None
        if self.export_task is not None and self.export_task.running:
            return None  # one workbook at a time; the buttons are off meanwhile
        suggested = str(Path.home() / f"{period.label}{name}.xlsx")
        chosen = self._save_dialog(self, tr("导出Excel — ") + name, suggested)
        if not chosen:
            return None
        path = Path(chosen)
        if path.suffix.lower() != ".xlsx":
            path = path.with_name(path.name + ".xlsx")
        db = self.ctx.db
        what = tr("统计并写入 {0}").format(path.name)
        job_spec = export_process.ExportJob(kind, period, path, self._today(), self.ctx.actor)

        def job(progress: Any) -> reports_xlsx.ReportResult:
            progress(0, 0, what)
            # In a process of its own, in one read transaction (a counter saving meanwhile never waits for it):
            # building the workbook would otherwise hold this process's interpreter for seconds, and the window
            # needs it for every repaint. The exporters write the file atomically (nothing half-written).
            return export_process.run(job_spec, db)

        task = Task(job, self)
        task.succeeded.connect(self._export_done)
        task.failed.connect(self._export_failed)
        task.ended.connect(lambda: self._exporting(False))
        self.export_task = task
        self.progress.follow(task, tr("导出Excel — ") + name)
        self._exporting(True)
        task.start()
        return task

    def _exporting(self, running: bool) -> None:
        self.export_button.setEnabled(not running)
        self.ledger_button.setEnabled(not running)

    def _export_done(self, result: reports_xlsx.ReportResult) -> None:
        self.last_export = result
        messages.info(self, tr("已导出"), tr("已导出到 {0}（{1}）").format(result.path, "、".join(result.sheets)))
        self.exported.emit(result)

    def _export_failed(self, exc: HallError) -> None:
        messages.error(self, tr("无法导出"), str(exc))
        self.export_failed.emit(str(exc))


def _performance_total(lines: Sequence[PerformanceRow]) -> PerformanceRow:
    """The 合计 line of the review, summed as the exported sheet sums it."""
    return PerformanceRow(stats.add_rows("", "合计", [p.stats for p in lines]), "", "",
                          sum(p.present_days for p in lines), sum(p.away_days for p in lines),
                          sum(p.accountability_upheld for p in lines), sum(p.accountability_open for p in lines))


def _overdue_cells(o: OverdueLine) -> list[Any]:
    # The exported sheet's columns after 序号 (the row header numbers the lines on screen).
    return [o.number, o.item_name, o.window_code, KIND_LABELS.get(o.kind, o.kind), o.owner, o.accepted_on,
            o.due_date, o.closed_on if o.closed_on else "未办结", o.days_over, o.state, o.reason]
