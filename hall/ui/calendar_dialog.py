"""节假日设置: confirm a year from the State Council notice, add local holidays, see what moved.

Administrators enter the notice's holiday ranges and make-up workdays (or load the JSON/xlsx file described in
docs/calendar.md); confirming re-derives every open deadline the year touches, each change a ledger event.

The dialog issues no SQL on the GUI thread: the year's overview is read by a :class:`Loader`, and a change with
its recomputation (seconds at a hall with 100,000 open tickets) runs as one :class:`Task` — one transaction, so
the calendar and the deadlines change together or not at all — with a progress bar; the dialog keeps
repainting and answering meanwhile, and cannot be closed until the change is saved.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hall.errors import HallError, ValidationError
from hall.services.calendar import workdays as calendar_service
from hall.services.calendar.deadlines import WEEKDAY_NAMES
from hall.services.calendar.workdays import HolidayRange, MakeupDay, YearNotice, YearOverview
from hall.services.cases import calendar_preview, recalc
from hall.ui import messages
from hall.ui.background import Loader, Progress, Task
from hall.ui.ops import ChangeListener, Context, OperationTask
from hall.ui.progress import ProgressStrip
from hall.ui.screen_fit import fit_on_screen

Moved = list[tuple[str, date, date]]

PREVIEW_LINES = 3  # tickets named in a preview (the count covers them all)
KIND_NAMES = {"holiday": "法定节假日", "makeup": "调休上班", "local": "地方节假日"}


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


class CalendarDialog(QDialog):
    """Pick a year, read its status, enter or load its notice, confirm; add local holidays."""

    def __init__(self, ctx: Context, parent: QWidget | None = None, *,
                 open_file: Callable[[QWidget], str] | None = None, today: date | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.open_file = open_file or self._ask_file
        self.setWindowTitle(self.tr("节假日与调休设置"))
        layout = QVBoxLayout(self)

        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("年份(&Y)：")))
        self.year = QSpinBox()
        self.year.setRange(2004, 2100)
        self.year.setValue((today or date.today()).year + 1)
        top.addWidget(self.year)
        self.status = QLabel()
        self.status.setWordWrap(True)
        top.addWidget(self.status, 1)
        layout.addLayout(top)

        self.days = QTableWidget(0, 3)
        self.days.setHorizontalHeaderLabels([self.tr("日期"), self.tr("类别"), self.tr("名称")])
        self.days.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.days.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout.addWidget(self.days, 1)

        layout.addWidget(QLabel(self.tr("按国务院办公厅通知录入（每行一个假期）：")))
        self.holidays = QTableWidget(0, 3)
        self.holidays.setHorizontalHeaderLabels([self.tr("假期名称"), self.tr("开始日期"), self.tr("结束日期")])
        self.holidays.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2):  # a whole date and the drop-down arrow
            self.holidays.setColumnWidth(col, self.fontMetrics().horizontalAdvance("2027-01-01") + 48)
        layout.addWidget(self.holidays, 1)
        form = QFormLayout()
        self.makeup = QLineEdit()
        self.makeup.setPlaceholderText(self.tr("调休上班日，用逗号分隔，如 2027-01-31, 2027-02-20"))
        self.reference = QLineEdit()
        self.reference.setPlaceholderText(self.tr("通知文号，如 国办发明电〔2026〕7号"))
        form.addRow(self.tr("调休上班日(&M)："), self.makeup)
        form.addRow(self.tr("通知文号(&R)："), self.reference)
        layout.addLayout(form)

        row = QHBoxLayout()
        add_row = QPushButton(self.tr("增加假期行(&A)"))
        add_row.clicked.connect(lambda: self.add_holiday_row("", date(self.year.value(), 1, 1),
                                                             date(self.year.value(), 1, 1)))
        load = self.load_button = QPushButton(self.tr("从文件载入(&L)…"))
        load.clicked.connect(self.load_file)
        self.confirm_button = QPushButton(self.tr("确认该年安排(&C)"))
        self.confirm_button.clicked.connect(self.confirm)
        # What the change would do, before it is made (hall/services/cases/calendar_preview.py).
        self.preview_button = QPushButton(self.tr("预览变化(&V)"))
        self.preview_button.clicked.connect(self.preview_year)
        row.addWidget(add_row)
        row.addWidget(load)
        row.addStretch(1)
        row.addWidget(self.preview_button)
        row.addWidget(self.confirm_button)
        layout.addLayout(row)

        local = QHBoxLayout()
        local.addWidget(QLabel(self.tr("地方节假日：")))
        self.local_name = QLineEdit()
        self.local_name.setPlaceholderText(self.tr("名称，如 三月三"))
        self.local_from = QDateEdit(calendarPopup=True)
        self.local_to = QDateEdit(calendarPopup=True)
        for w in (self.local_from, self.local_to):
            w.setDisplayFormat("yyyy-MM-dd")
            w.setDate(_qdate(today or date.today()))
        add_local = self.add_local_button = QPushButton(self.tr("添加地方节假日"))
        add_local.clicked.connect(self.add_local)
        self.preview_local_button = QPushButton(self.tr("预览(&W)"))
        self.preview_local_button.clicked.connect(self.preview_local)
        for w in (self.local_name, self.local_from, QLabel("—"), self.local_to, self.preview_local_button, add_local):
            local.addWidget(w)
        layout.addLayout(local)

        self.progress = ProgressStrip()
        layout.addWidget(self.progress)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        layout.addWidget(self.result_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.loader = Loader(ctx.db, self)
        self.previews = Loader(ctx.db, self)
        self.previewed: tuple[Any, calendar_preview.CalendarPreview] | None = None  # (what was previewed, result)
        self.task: Task | None = None  # the change being saved, while it runs
        # A calendar change made elsewhere (another administrator's counter) shows here too; its own show on end.
        self.listener = ChangeListener(self, ctx.changes, lambda c: c.calendar, lambda _c: self.refresh(), own=self)
        self.year.valueChanged.connect(lambda _v: self.refresh())
        fit_on_screen(self, 51, 38)
        self.refresh()

    @property
    def busy(self) -> bool:
        return self.task is not None and self.task.running

    def refresh(self) -> None:
        year = self.year.value()
        self.status.setText(f"{year}：" + self.tr("读取中…"))
        self.loader.request(lambda s: calendar_service.year_overview(s, year), self._show_overview)

    def _show_overview(self, ov: YearOverview) -> None:
        year = ov.year
        if ov.status == "confirmed":
            text = (self.tr("已确认") + f"（{ov.notice_ref or ov.source}），"
                    + self.tr("全年工作日 ") + str(ov.working_days))
        else:
            text = self.tr("暂定：尚未录入该年放假通知，按周一至周五推算；涉及该年的期限均标为“暂定”。")
        self.status.setText(f"{year}：{text}")
        days = sorted((*ov.days_off_on_weekdays, *ov.working_weekends), key=lambda e: e.on)
        self.days.setRowCount(len(days))
        for r, e in enumerate(days):
            values = (f"{e.on.isoformat()} {WEEKDAY_NAMES[e.on.weekday()]}", KIND_NAMES.get(e.kind, e.kind), e.name)
            for c, v in enumerate(values):
                self.days.setItem(r, c, QTableWidgetItem(v))

    def add_holiday_row(self, name: str, start: date, end: date) -> None:
        r = self.holidays.rowCount()
        self.holidays.insertRow(r)
        self.holidays.setItem(r, 0, QTableWidgetItem(name))
        for c, d in ((1, start), (2, end)):
            edit = QDateEdit(calendarPopup=True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setDate(_qdate(d))
            self.holidays.setCellWidget(r, c, edit)

    def notice(self) -> YearNotice:
        holidays = []
        for r in range(self.holidays.rowCount()):
            item = self.holidays.item(r, 0)
            name = item.text().strip() if item else ""
            start = _pydate(self.holidays.cellWidget(r, 1).date())  # type: ignore[attr-defined]
            end = _pydate(self.holidays.cellWidget(r, 2).date())  # type: ignore[attr-defined]
            holidays.append(HolidayRange(name, start, end))
        makeups = []
        for part in self.makeup.text().replace("，", ",").split(","):
            part = part.strip()
            if not part:
                continue
            try:
                makeups.append(MakeupDay(date.fromisoformat(part)))
            except ValueError:
                raise ValidationError("调休上班日", f"“{part}”不是 YYYY-MM-DD 格式的日期") from None
        return YearNotice(self.year.value(), self.reference.text().strip(), tuple(holidays), tuple(makeups))

    def load_file(self) -> None:
        path = self.open_file(self)
        if not path:
            return
        try:
            notice = calendar_service.load_year_notice(path)
        except HallError as exc:
            messages.error(self, self.tr("通知文件有误"), str(exc))
            return
        self.year.setValue(notice.year)
        self.holidays.setRowCount(0)
        for h in notice.holidays:
            self.add_holiday_row(h.name, h.start, h.end)
        self.makeup.setText(", ".join(m.on.isoformat() for m in notice.makeup_days))
        self.reference.setText(notice.reference)

    def confirm(self) -> Task | None:
        if self.busy:
            return None
        try:
            notice = self.notice()
        except HallError as exc:
            messages.error(self, self.tr("无法确认"), str(exc))
            return None
        question = self.tr("确认后，所有涉及该年的在办件期限将重新计算，每一项变化都记入办理记录。继续吗？")
        if self.previewed is not None and self.previewed[0] == notice:
            question = self.preview_text(self.previewed[1]) + "\n\n" + question
        if not messages.confirm(self, self.tr("确认节假日安排"), question):
            return None
        actor = self.ctx.actor
        return self._save(self.tr("确认节假日安排"), self.tr("无法确认"),
                          lambda s, progress: recalc.confirm_year(s, actor, notice.year, notice, progress=progress))

    def add_local(self) -> Task | None:
        if self.busy:
            return None
        start, end = _pydate(self.local_from.date()), _pydate(self.local_to.date())
        name = self.local_name.text()
        actor = self.ctx.actor
        return self._save(self.tr("添加地方节假日"), self.tr("无法添加地方节假日"),
                          lambda s, progress: recalc.add_local_holiday(s, actor, start, name, end, progress=progress))

    def _save(self, title: str, failed_title: str,
              change: Callable[[Any, Progress], tuple[list[date], Moved]]) -> Task:
        """Run the calendar change and its recomputation off the GUI thread, in one transaction."""
        db = self.ctx.db
        saving = self.tr("正在保存，日历和期限尚未改变")

        def job(progress: Progress) -> tuple[list[date], Moved]:
            # A HallError (bad input, no permission, a full disk, a locked file) arrives as ``failed`` with its
            # Chinese message; the transaction was rolled back, so the calendar did not change either.
            progress(0, 0, saving)
            with db.transaction() as s:
                return change(s, progress)

        task = OperationTask(self.ctx, job, self, initiator=self)  # announces the change to every screen
        task.succeeded.connect(self._saved)
        task.failed.connect(lambda exc: messages.error(self, failed_title, str(exc)))
        task.ended.connect(self._ended)
        self.task = task
        self._set_busy(True)
        self.result_label.setText(self.tr("正在保存并重新计算在办件期限……"))
        self.progress.follow(task, title)
        task.start()
        return task

    def _saved(self, result: tuple[list[date], Moved]) -> None:
        changed, moved = result
        self.show_result(len(changed), moved)

    def _ended(self) -> None:
        self._set_busy(False)
        if self.task is not None and self.task.error is not None:
            self.result_label.setText(self.tr("未保存：日历和在办件期限均未改变。"))
        self.refresh()

    def _set_busy(self, busy: bool) -> None:
        for w in (self.confirm_button, self.add_local_button, self.load_button, self.year):
            w.setEnabled(not busy)

    def reject(self) -> None:
        if self.busy:  # closing would not stop the saving; say so and stay until it is done
            self.result_label.setText(self.tr("正在保存并重新计算在办件期限，完成后才能关闭。"))
            return
        super().reject()

    def show_result(self, changed: int, moved: list[tuple[str, date, date]]) -> None:
        lines = [self.tr("工作日状态改变的日期：") + str(changed) + self.tr(" 个；重新计算的在办件期限：")
                 + str(len(moved)) + self.tr(" 件。")]
        lines += [f"{n}：{a.isoformat()} → {b.isoformat()}" for n, a, b in moved[:10]]
        self.result_label.setText("\n".join(lines))

    # ------------------------------------------------------------------------------- previews
    def preview_year(self) -> bool:
        """Read in the background what confirming the notice on screen would change, and show it."""
        try:
            notice = self.notice()
        except HallError as exc:
            messages.error(self, self.tr("无法预览"), str(exc))
            return False
        self.result_label.setText(self.tr("正在计算将发生的变化……"))
        self.previews.request(lambda s: calendar_preview.preview_year(s, notice.year, notice),
                              lambda p: self._previewed(notice, p), failed=self._preview_failed)
        return True

    def preview_local(self) -> bool:
        start, end, name = _pydate(self.local_from.date()), _pydate(self.local_to.date()), self.local_name.text()
        self.result_label.setText(self.tr("正在计算将发生的变化……"))
        self.previews.request(lambda s: calendar_preview.preview_local_holiday(s, start, name, end),
                              lambda p: self._previewed((start, end, name), p), failed=self._preview_failed)
        return True

    def _previewed(self, what: Any, preview: calendar_preview.CalendarPreview) -> None:
        self.previewed = (what, preview)
        self.result_label.setText(self.preview_text(preview))

    def _preview_failed(self, exc: HallError) -> None:
        self.result_label.setText(self.tr("无法预览：") + str(exc))

    def preview_text(self, p: calendar_preview.CalendarPreview) -> str:
        days = "、".join(d.isoformat() for d in p.changed[:6]) + ("……" if len(p.changed) > 6 else "")
        lines = [self.tr("预览（尚未保存）：{0} 个日期的工作日状态将改变{1}；{2} 件在办件的办结期限将移动，"
                         "另有 {3} 件期限不变、不再标为“暂定”。").format(
                             len(p.changed), f"（{days}）" if days else "", len(p.moved), p.unprovisional)]
        # A few examples only: the dialog must still fit a 1366×768 screen (every change goes into the history).
        lines += [f"{n}：{a.isoformat()} → {b.isoformat()}" for n, a, b in p.moved[:PREVIEW_LINES]]
        if len(p.moved) > PREVIEW_LINES:
            lines.append(self.tr("…… 其余 {0} 件").format(len(p.moved) - PREVIEW_LINES))
        return "\n".join(lines)

    @staticmethod
    def _ask_file(parent: QWidget) -> str:
        path, _ = QFileDialog.getOpenFileName(parent, "选择放假通知文件", "", "通知文件 (*.json *.xlsx)")
        return path
