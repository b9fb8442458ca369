"""管理 → 报表导出: the workbooks ``hall-admin report`` writes — the monthly or quarterly statistics (every sheet),
the overdue list, the performance review, the masked ticket ledger — for a period chosen here, to a file chosen in
a file dialog, written by the same exporters in a background :class:`Task` (in a child process, as the statistics
screen does, so the window keeps repainting)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hall.errors import HallError
from hall.exchange import export_process, reports_xlsx
from hall.services.reporting.stats import Period
from hall.ui import messages
from hall.ui.background import Progress, Task
from hall.ui.ops import Context
from hall.ui.progress import ProgressStrip
from hall.ui.screen_fit import text_size

# (export kind, label, which periods it takes)
REPORTS = (("monthly", "月度统计（按窗口、类型、受理点、事项，附效绩、超期清单、台账）", "month"),
           ("quarterly", "季度统计（同月报格式）", "quarter"),
           ("overdue", "超期办件清单及原因", "month"),
           ("performance", "工作人员效绩考核表", "month_or_quarter"),
           ("ledger", "办件登记台账（个人信息脱敏）", "range"))
Runner = Callable[[export_process.ExportJob, Any], reports_xlsx.ReportResult]


def _ask_save(parent: QWidget, suggested: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, parent.tr("导出报表"), suggested, parent.tr("Excel 工作簿 (*.xlsx)"))
    return path


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


class ReportsDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None, *, today: Callable[[], date] = date.today,
                 save_file: Callable[[QWidget, str], str] = _ask_save, runner: Runner = export_process.run) -> None:
        super().__init__(parent)
        self.ctx, self._today, self.save_file, self.runner = ctx, today, save_file, runner
        self.task: Task | None = None
        self.result: reports_xlsx.ReportResult | None = None
        self.setObjectName("reportsDialog")
        self.setWindowTitle(self.tr("报表导出"))
        self.setMinimumWidth(text_size(self, 40, 0).width())
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.report = QComboBox()
        self.report.setObjectName("reportKind")
        for key, label, _p in REPORTS:
            self.report.addItem(self.tr(label), key)
        now = today()
        self.year = QSpinBox()
        self.year.setRange(2004, 2100)
        self.year.setValue(now.year)
        self.period = QComboBox()
        self.period.setObjectName("reportPeriod")
        period_row = QHBoxLayout()
        period_row.addWidget(self.year)
        period_row.addWidget(QLabel(self.tr("年")))
        period_row.addWidget(self.period, 1)
        self.start, self.end = QDateEdit(calendarPopup=True), QDateEdit(calendarPopup=True)
        for w, d in ((self.start, now.replace(day=1)), (self.end, now)):
            w.setDisplayFormat("yyyy-MM-dd")
            w.setDate(_qdate(d))
        range_row = QHBoxLayout()
        range_row.addWidget(self.start)
        range_row.addWidget(QLabel("—"))
        range_row.addWidget(self.end)
        range_row.addStretch(1)
        self.range_box = QWidget()
        self.range_box.setLayout(range_row)
        self.period_box = QWidget()
        self.period_box.setLayout(period_row)
        report_label = QLabel(self.tr("报表(&B)："))
        report_label.setBuddy(self.report)
        form.addRow(report_label, self.report)
        form.addRow(self.tr("统计期间："), self.period_box)
        form.addRow(self.tr("起止日期："), self.range_box)
        layout.addLayout(form)
        row = QHBoxLayout()
        self.export_btn = QPushButton(self.tr("导出(&X)…"))
        self.export_btn.setObjectName("exportReport")
        close = QPushButton(self.tr("关闭"))
        row.addStretch(1)
        row.addWidget(self.export_btn)
        row.addWidget(close)
        layout.addLayout(row)
        self.progress = ProgressStrip()
        layout.addWidget(self.progress)
        self.note = QLabel(self.tr("未结束的期间统计到今天；比率与平均值以数值写入，可直接计算、排序和作图。"))
        self.note.setObjectName("reportNote")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.report.currentIndexChanged.connect(self._report_changed)
        self.export_btn.clicked.connect(self.export)
        close.clicked.connect(self.reject)
        self._report_changed()

    def _takes(self) -> str:
        return REPORTS[self.report.currentIndex()][2]

    def _report_changed(self) -> None:
        takes, keep = self._takes(), self.period.currentData()
        self.period.clear()
        if takes in ("month", "month_or_quarter"):
            for m in range(1, 13):
                self.period.addItem(self.tr("{0}月").format(m), f"m{m}")
        if takes in ("quarter", "month_or_quarter"):
            for q in range(1, 5):
                self.period.addItem(self.tr("第{0}季度").format(q), f"q{q}")
        found = self.period.findData(keep) if keep is not None else -1
        default = f"q{(self._today().month - 1) // 3 + 1}" if takes == "quarter" else f"m{self._today().month}"
        self.period.setCurrentIndex(found if found >= 0 else max(0, self.period.findData(default)))
        self.period_box.setEnabled(takes != "range")
        self.range_box.setEnabled(takes == "range")

    def choose(self, kind: str, year: int | None = None, period: str | None = None) -> None:
        """``period``: "m1" … "m12" or "q1" … "q4"."""
        self.report.setCurrentIndex(self.report.findData(kind))
        if year is not None:
            self.year.setValue(year)
        if period is not None:
            self.period.setCurrentIndex(self.period.findData(period))

    def chosen_period(self) -> Period:
        if self._takes() == "range":
            s, e = self.start.date(), self.end.date()
            return Period.between(date(s.year(), s.month(), s.day()), date(e.year(), e.month(), e.day()))
        chosen = str(self.period.currentData())
        unit, n, year = chosen[0], int(chosen[1:]), self.year.value()
        return Period.month(year, n) if unit == "m" else Period.quarter(year, n)

    def export(self) -> Task | None:
        if self.task is not None and self.task.running:
            return None
        try:
            period = self.chosen_period()
        except HallError as exc:
            messages.error(self, self.tr("统计期间有误"), str(exc))
            return None
        kind = self.report.currentData()
        label = self.report.currentText().split("（")[0]
        chosen = self.save_file(self, str(Path.home() / f"{period.label}{label}.xlsx"))
        if not chosen:
            return None
        path = Path(chosen) if chosen.lower().endswith(".xlsx") else Path(chosen + ".xlsx")
        job_spec = export_process.ExportJob("monthly" if kind == "quarterly" else kind, period, path, self._today(),
                                            self.ctx.actor)
        db, runner, what = self.ctx.db, self.runner, self.tr("统计并写入 {0}").format(path.name)

        def job(progress: Progress) -> reports_xlsx.ReportResult:
            progress(0, 0, what)
            return runner(job_spec, db)

        task = self.task = Task(job, self)
        task.succeeded.connect(self._done)
        task.failed.connect(lambda exc: (self.note.setText(self.tr("未导出：") + str(exc)),
                                         messages.error(self, self.tr("无法导出"), str(exc))))
        task.ended.connect(lambda: self.export_btn.setEnabled(True))
        self.export_btn.setEnabled(False)
        self.progress.follow(task, self.tr("导出 ") + label)
        task.start()
        return task

    def _done(self, result: reports_xlsx.ReportResult) -> None:
        self.result = result
        self.note.setText(self.tr("已导出 {0}（工作表：{1}；数据 {2} 行）")
                          .format(result.path, "、".join(result.sheets), f"{result.rows:,}"))
