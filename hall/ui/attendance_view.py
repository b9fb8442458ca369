"""考勤: the day's attendance of every staff member; the manager marks present / absent / leave / business, a
clerk checks themself in. Marks go through hall.services.people.attendance (the service decides who may do what and
starts or ends the B-post's substitution); this view only shows and asks. The day's list is read in the
background, again whenever an operation changed attendance, B-posts or staff (the selected person stays selected).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from PySide6.QtCore import QCoreApplication, QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hall.services.cases import bposts
from hall.services.people import attendance
from hall.services.storage import changes
from hall.services.storage.changes import Changes
from hall.ui.background import Loader
from hall.ui.ops import ChangeListener, Context, run

STATUSES = (("present", "在岗"), ("absent", "缺勤"), ("leave", "请假"), ("business", "公出"))
HEADERS = ("工号", "姓名", "窗口", "考勤", "登记方式", "B岗", "代岗情况")


def concerns(c: Changes) -> bool:
    return c.touches(changes.ATTENDANCE, changes.BPOSTS) or c.staff


def tr(text: str) -> str:
    return QCoreApplication.translate("AttendanceView", text)


class AttendanceView(QWidget):
    def __init__(self, ctx: Context, parent: QWidget | None = None, *, today: Callable[[], date] = date.today) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._today = today
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(tr("日期：")))
        self.day = QDateEdit()
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        t = today()
        self.day.setDate(QDate(t.year, t.month, t.day))
        self.day.setEnabled(ctx.actor.is_supervisor)  # a clerk only checks in today
        self.day.dateChanged.connect(lambda _d: self.refresh())
        bar.addWidget(self.day)
        bar.addStretch(1)
        self.buttons: dict[str, QPushButton] = {}
        for code, label in STATUSES:
            if code != "present" and not ctx.actor.is_supervisor:
                continue
            b = QPushButton(tr("签到（在岗）") if code == "present" and not ctx.actor.is_supervisor else tr(label))
            b.setObjectName(f"mark_{code}")
            b.setEnabled(False)  # until the day's list has arrived
            b.clicked.connect(lambda _c=False, s=code: self.mark_selected(s))
            self.buttons[code] = b
            bar.addWidget(b)
        layout.addLayout(bar)
        self.note = QLabel()
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("attendanceTable")
        self.table.setHorizontalHeaderLabels([tr(h) for h in HEADERS])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table)
        self.lines: list[attendance.DutyLine] = []
        self.loader = Loader(ctx.db, self)
        self.listener = ChangeListener(self, ctx.changes, concerns, lambda _c: self.refresh(), own=self)
        self.refresh()

    @property
    def loading(self) -> bool:
        return self.loader.busy

    def selected_day(self) -> date:
        d = self.day.date()
        return date(d.year(), d.month(), d.day())

    def refresh(self) -> None:
        day = self.selected_day()

        self.loader.request(lambda s: attendance.on_duty(s, day), self._loaded)

    def _loaded(self, lines: list[attendance.DutyLine]) -> None:
        for b in self.buttons.values():
            b.setEnabled(True)
        row = self.table.currentRow()
        keep = self.lines[row].staff_id if 0 <= row < len(self.lines) else None
        self.note.setText(tr("选中一人后点按钮登记；缺勤、请假、公出时其B岗自动接手该窗口的在办办件。"))
        self.lines = lines
        self.table.setRowCount(len(self.lines))
        for r, d in enumerate(self.lines):
            cover = "、".join(d.standing_in_for)
            values = (d.staff_no, d.name, d.window_code or "", d.status_label,
                      {"self": tr("本人签到"), "manager": tr("主任登记")}.get(d.source, ""), d.b_post_name,
                      (tr("由 {0} 代岗").format(d.stood_in_by) if d.stood_in_by else "")
                      + (tr("代 {0} 顶岗").format(cover) if cover else ""))
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                if c == 3 and d.status in ("absent", "leave", "business"):
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.table.setItem(r, c, item)
        if keep is None and not self.ctx.actor.is_supervisor:
            keep = self.ctx.actor.staff_id  # a clerk finds their own line selected
        again = next((i for i, d in enumerate(self.lines) if d.staff_id == keep), None)
        if again is not None:
            self.table.selectRow(again)

    def mark_selected(self, status: str) -> None:
        row = self.table.currentRow()
        if not 0 <= row < len(self.lines):
            return
        staff_no = self.lines[row].staff_no
        day = self.selected_day()
        # The mark's time on this view's clock (its ``today``): the newest mark of a day wins, so a mark must not
        # be dated before the ones it overrides.
        now = datetime.combine(self._today(), datetime.now().time())
        done = run(self, self.ctx,
                   lambda s: bposts.mark_attendance(s, self.ctx.actor, staff_no, status, day=day, now=now) or True,
                   title=tr("考勤登记未完成"), initiator=self)
        if done:
            self.refresh()  # the others learn of it (a substitution moves open tickets to the B-post) from the signal
