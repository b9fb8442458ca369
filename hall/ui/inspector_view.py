"""效能监察: what the inspector follows, read-only — overdue cases, deemed consents, co-department answer
statistics, accountability records, the findings recorded, and the fees taken — for a month.

Every list is loaded in the background through the services (hall/services/reporting/supervision.py and friends);
a row with a case opens its detail on double-click (read-only for the inspector, with its full timeline and every
date explained). Nothing here can change anything: the only write the inspector has is a finding, recorded from
the case's detail.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hall.services.base.states import KIND_LABELS
from hall.services.reporting import supervision
from hall.services.reporting.stats import Period, fmt_days, fmt_rate
from hall.services.reporting.supervision import InspectionLists as Lists
from hall.ui.background import Loader
from hall.ui.ops import ChangeListener, Context
from hall.ui.widgets import StaleWhileHidden, read_only_table


def tr(text: str) -> str:
    return QCoreApplication.translate("InspectorView", text)


RECORD_STATES = {"open": "待核实", "upheld": "属实", "dismissed": "不予追究"}


def months(today: date, n: int = 12) -> list[Period]:
    out, y, m = [], today.year, today.month
    for _ in range(n):
        out.append(Period.month(y, m))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out


class InspectorView(StaleWhileHidden, QWidget):
    """``open_ticket(number)`` on a double-click of a row that names a case."""

    open_ticket = Signal(str)

    def __init__(self, ctx: Context, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today) -> None:
        super().__init__(parent)
        self.setObjectName("inspectorView")
        self.ctx = ctx
        self._today = today
        self.lists: Lists | None = None
        self.loader = Loader(ctx.db, self)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("统计月份：")))
        self.period_combo = QComboBox()
        self.period_combo.setObjectName("inspectorPeriod")
        for p in months(today()):
            self.period_combo.addItem(p.label, p)
        self.period_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        top.addWidget(self.period_combo)
        self.summary = QLabel()
        self.summary.setObjectName("inspectorSummary")
        top.addWidget(self.summary, 1)
        layout.addLayout(top)
        self.tabs = QTabWidget()
        self.tables: dict[str, QTableWidget] = {}
        for key, label, headers, stretch in (
            ("overdue", "超期办件", ("办件编号", "事项", "窗口", "类型", "经办人", "承诺办结日期", "办结日期",
                                   "超期（工作日）", "状态", "原因 / 认定"), 9),
            ("deemed", "逾期视为认可", ("办件编号", "事项", "协办部门", "轮次", "抄告日期", "答复期限",
                                     "视为认可日期", "窗口"), 1),
            ("departments", "协办部门答复", ("协办部门", "抄告次数", "已回复", "逾期回复", "逾期视为认可", "待回复",
                                         "平均答复时长（工作日）", "视为认可率"), 0),
            ("records", "责任追究", ("发生日期", "事由", "办件编号", "责任人", "部门", "情况", "状态", "认定意见",
                                  "处理措施"), 5),
            ("findings", "监察意见", ("日期", "办件编号", "监察员", "监察意见"), 3),
            ("fees", "一次性收费", ("收费日期", "办件编号", "事项", "窗口", "金额", "票据号码", "收费人"), 2),
        ):
            table = read_only_table([tr(h) for h in headers], stretch, f"inspector_{key}")
            table.cellDoubleClicked.connect(lambda row, _col, k=key: self._open(k, row))
            self.tables[key] = table
            self.tabs.addTab(table, tr(label))
        layout.addWidget(self.tabs, 1)
        self.listener = ChangeListener(self, ctx.changes,
                                       lambda c: c.any_tickets or c.touches("accountability") or c.calendar,
                                       lambda _c: self.mark_changed())

    @property
    def period(self) -> Period:
        return self.period_combo.currentData()

    def refresh(self) -> None:
        self._stale = False
        period, today = self.period, self._today()
        self.loader.request(lambda s: supervision.inspection_lists(s, period, today), self._arrived)

    def _arrived(self, lists: Lists) -> None:
        self.lists = lists
        self.summary.setText(tr("超期 {0} 件　视为认可 {1} 次　责任追究 {2} 条　监察意见 {3} 条　收费 {4} 笔").format(
            len(lists.overdue), len(lists.deemed), len(lists.records), len(lists.findings), len(lists.fees)))
        self._fill("overdue", [(o.number, o.item_name, o.window_code, KIND_LABELS.get(o.kind, o.kind), o.owner,
                                str(o.due_date), str(o.closed_on or "未办结"), str(o.days_over), o.state, o.reason)
                               for o in lists.overdue])
        self._fill("deemed", [(x.number, x.item_name, x.department, str(x.round), str(x.copied_on), str(x.due_on),
                               str(x.deemed_on or ""), x.window_code) for x in lists.deemed])
        rows = [*lists.departments, supervision.total_row(lists.departments)] if lists.departments else []
        self._fill("departments", [(r.department, str(r.copies), str(r.answered), str(r.late), str(r.deemed),
                                    str(r.pending), fmt_days(r.avg_answer_days), fmt_rate(r.deemed_rate))
                                   for r in rows])
        self._fill("records", [(str(r.occurred_on), r.cause_label, r.ticket_number, r.staff_name, r.department,
                                r.detail, RECORD_STATES.get(r.state, r.state),
                                r.finding, r.measure) for r in lists.records])
        self._fill("findings", [(str(f.found_on), f.ticket_number, f.inspector, f.text) for f in lists.findings])
        self._fill("fees", [(str(f.charged_on), f.number, f.item_name, f.window_code, f.amount_text, f.receipt_no,
                             f.charged_by) for f in lists.fees])

    def _fill(self, key: str, rows: list[tuple[str, ...]]) -> None:
        table = self.tables[key]
        table.setRowCount(len(rows))
        for i, cells in enumerate(rows):
            for col, text in enumerate(cells):
                table.setItem(i, col, QTableWidgetItem(text))
        table.resizeRowsToContents()
        index = list(self.tables).index(key)
        label = self.tabs.tabText(index).split("（")[0]
        self.tabs.setTabText(index, f"{label}（{len(rows) - (key == 'departments' and bool(rows))}）")

    def _open(self, key: str, row: int) -> None:
        number = self._number(key, row)
        if number:
            self.open_ticket.emit(number)

    def _number(self, key: str, row: int) -> str:
        col = {"overdue": 0, "deemed": 0, "records": 2, "findings": 1, "fees": 1}.get(key)
        item: Any = self.tables[key].item(row, col) if col is not None else None
        return item.text() if item is not None else ""


class InspectorDialog(QDialog):
    """The same lists in a window of their own (the manager's 管理 menu)."""

    def __init__(self, ctx: Context, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("效能监察"))
        layout = QVBoxLayout(self)
        self.view = InspectorView(ctx, self, today=today)
        layout.addWidget(self.view)
        self.resize(1280, 680)
