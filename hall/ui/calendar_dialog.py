"""节假日设置: confirm a year from the State Council notice, add local holidays, see what moved.

Administrators enter the notice's holiday ranges and make-up workdays (or load the JSON/xlsx file described in
docs/calendar.md); confirming re-derives every open deadline the year touches, each change a ledger event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

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
from hall.services import calendar as calendar_service
from hall.services import recalc
from hall.services.calendar import HolidayRange, MakeupDay, YearNotice
from hall.services.deadlines import WEEKDAY_NAMES
from hall.ui import messages
from hall.ui.ops import Context, read, run

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
        load = QPushButton(self.tr("从文件载入(&L)…"))
        load.clicked.connect(self.load_file)
        self.confirm_button = QPushButton(self.tr("确认该年安排(&C)"))
        self.confirm_button.clicked.connect(self.confirm)
        row.addWidget(add_row)
        row.addWidget(load)
        row.addStretch(1)
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
        add_local = QPushButton(self.tr("添加地方节假日"))
        add_local.clicked.connect(self.add_local)
        for w in (self.local_name, self.local_from, QLabel("—"), self.local_to, add_local):
            local.addWidget(w)
        layout.addLayout(local)

        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        layout.addWidget(self.result_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.year.valueChanged.connect(lambda _v: self.refresh())
        self.resize(760, 680)
        self.refresh()

    def refresh(self) -> None:
        year = self.year.value()
        ov = read(self.ctx.db, lambda s: calendar_service.year_overview(s, year))
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

    def confirm(self) -> None:
        try:
            notice = self.notice()
        except HallError as exc:
            messages.error(self, self.tr("无法确认"), str(exc))
            return
        if not messages.confirm(self, self.tr("确认节假日安排"),
                                self.tr("确认后，所有涉及该年的在办件期限将重新计算，每一项变化都记入办理记录。继续吗？")):
            return
        done = run(self, self.ctx.db, lambda s: recalc.confirm_year(s, self.ctx.actor, notice.year, notice))
        if done is not None:
            changed, moved = done
            self.show_result(len(changed), moved)
            self.ctx.changes.tickets_changed.emit()
        self.refresh()

    def add_local(self) -> None:
        start, end = _pydate(self.local_from.date()), _pydate(self.local_to.date())
        name = self.local_name.text()
        done = run(self, self.ctx.db, lambda s: recalc.add_local_holiday(s, self.ctx.actor, start, name, end))
        if done is not None:
            changed, moved = done
            self.show_result(len(changed), moved)
            self.ctx.changes.tickets_changed.emit()
        self.refresh()

    def show_result(self, changed: int, moved: list[tuple[str, date, date]]) -> None:
        lines = [self.tr("工作日状态改变的日期：") + str(changed) + self.tr(" 个；重新计算的在办件期限：")
                 + str(len(moved)) + self.tr(" 件。")]
        lines += [f"{n}：{a.isoformat()} → {b.isoformat()}" for n, a, b in moved[:10]]
        self.result_label.setText("\n".join(lines))

    @staticmethod
    def _ask_file(parent: QWidget) -> str:
        path, _ = QFileDialog.getOpenFileName(parent, "选择放假通知文件", "", "通知文件 (*.json *.xlsx)")
        return path
