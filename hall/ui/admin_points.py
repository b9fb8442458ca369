"""管理 → 窗口与代办点: the hall's service windows and its intake points (the hall 000 and the village proxy
points), listed with what belongs to each, added, edited, disabled and enabled. Every change is one ledger event
through :mod:`hall.services.catalog.windows` or :mod:`hall.services.people.staff`; the lists are read in the
background and reload when the catalogue or the staff change anywhere."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hall.services.catalog import windows
from hall.services.people import staff
from hall.ui.admin_form import AdminForm, line, number
from hall.ui.background import Loader
from hall.ui.ops import ChangeListener, Context, run
from hall.ui.screen_fit import fit_on_screen
from hall.ui.widgets import read_only_table

WINDOW_HEADERS = ("编码", "窗口名称", "咨询电话", "排序", "事项", "在岗人员", "状态")
POINT_HEADERS = ("编码", "受理点名称", "在岗人员", "状态")


@dataclass(frozen=True)
class PointRow:
    code: str
    name: str
    active: bool
    staff: int


@dataclass(frozen=True)
class Places:
    windows: list[windows.WindowRow]
    points: list[PointRow]


def _places(session) -> Places:  # type: ignore[no-untyped-def]
    people = staff.list_staff(session)
    points = [PointRow(p.code, p.name, p.active, sum(1 for v in people if v.active and v.intake_point == p.code))
              for p in staff.intake_points(session)]
    return Places(windows.window_rows(session), points)


def _selected_row(table: QTableWidget) -> int | None:
    rows = table.selectionModel().selectedRows() if table.selectionModel() else []
    return rows[0].row() if rows else None


class PointsAdminDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.places: Places | None = None
        self.setObjectName("pointsAdminDialog")
        self.setWindowTitle(self.tr("窗口与代办点"))
        layout = QVBoxLayout(self)

        box = QGroupBox(self.tr("服务窗口（事项清单的一部分：每次修改生成事项清单新版本）"))
        inner = QVBoxLayout(box)
        self.window_table = read_only_table([self.tr(h) for h in WINDOW_HEADERS], 1, "windowTable")
        inner.addWidget(self.window_table)
        row = QHBoxLayout()
        self.add_window_btn = QPushButton(self.tr("添加窗口(&A)…"))
        self.edit_window_btn = QPushButton(self.tr("修改窗口(&E)…"))
        self.window_active_btn = QPushButton(self.tr("停用窗口(&T)"))
        for b in (self.add_window_btn, self.edit_window_btn, self.window_active_btn):
            row.addWidget(b)
        row.addStretch(1)
        inner.addLayout(row)
        layout.addWidget(box, 3)

        box = QGroupBox(self.tr("受理点（000 为中心大厅，001 起为村代办点）"))
        inner = QVBoxLayout(box)
        self.point_table = read_only_table([self.tr(h) for h in POINT_HEADERS], 1, "pointTable")
        inner.addWidget(self.point_table)
        row = QHBoxLayout()
        self.add_point_btn = QPushButton(self.tr("添加代办点(&D)…"))
        self.edit_point_btn = QPushButton(self.tr("修改名称(&M)…"))
        self.point_active_btn = QPushButton(self.tr("停用代办点(&S)"))
        for b in (self.add_point_btn, self.edit_point_btn, self.point_active_btn):
            row.addWidget(b)
        row.addStretch(1)
        close = QPushButton(self.tr("关闭"))
        close.clicked.connect(self.accept)
        row.addWidget(close)
        inner.addLayout(row)
        layout.addWidget(box, 2)
        self.note = QLabel(self.tr("正在读取…"))
        self.note.setWordWrap(True)
        layout.addWidget(self.note)

        self.add_window_btn.clicked.connect(self.add_window)
        self.edit_window_btn.clicked.connect(self.edit_window)
        self.window_active_btn.clicked.connect(self.toggle_window)
        self.add_point_btn.clicked.connect(self.add_point)
        self.edit_point_btn.clicked.connect(self.edit_point)
        self.point_active_btn.clicked.connect(self.toggle_point)
        self.window_table.itemSelectionChanged.connect(self._selection_changed)
        self.point_table.itemSelectionChanged.connect(self._selection_changed)
        self.window_table.doubleClicked.connect(lambda _i: self.edit_window())
        self.point_table.doubleClicked.connect(lambda _i: self.edit_point())
        self.loader = Loader(ctx.db, self)
        self.listener = ChangeListener(self, ctx.changes, lambda c: c.catalog or c.staff, lambda _c: self.refresh())
        fit_on_screen(self, 60, 32)
        self._selection_changed()
        self.refresh()

    # ------------------------------------------------------------------------------- the lists
    @property
    def loading(self) -> bool:
        return self.loader.busy

    def refresh(self) -> None:
        self.loader.request(_places, self._loaded)

    def _fill(self, table: QTableWidget, rows: list[tuple[str, ...]], keep: str | None) -> None:
        table.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                table.setItem(r, c, QTableWidgetItem(text))
            if keep == cells[0]:
                table.selectRow(r)

    def _loaded(self, places: Places) -> None:
        w_keep = self.selected_window().code if self.selected_window() else None
        p_keep = self.selected_point().code if self.selected_point() else None
        self.places = places
        on, off = self.tr("启用"), self.tr("已停用")
        self._fill(self.window_table, [(w.code, w.name, w.phone or "—", str(w.sort_order), str(w.items),
                                        str(w.staff), on if w.active else off) for w in places.windows], w_keep)
        self._fill(self.point_table, [(p.code, p.name, str(p.staff), on if p.active else off)
                                      for p in places.points], p_keep)
        self.note.setText(self.tr("窗口 {0} 个（启用 {1} 个），受理点 {2} 个。停用的窗口和受理点保留在已有办件中，"
                                  "不能再受理新件；有事项或在岗人员的窗口、有在岗人员的代办点须先调整再停用。")
                          .format(len(places.windows), sum(w.active for w in places.windows), len(places.points)))
        self._selection_changed()

    def selected_window(self) -> windows.WindowRow | None:
        r = _selected_row(self.window_table)
        return self.places.windows[r] if self.places and r is not None and r < len(self.places.windows) else None

    def selected_point(self) -> PointRow | None:
        r = _selected_row(self.point_table)
        return self.places.points[r] if self.places and r is not None and r < len(self.places.points) else None

    def choose(self, table: QTableWidget, code: str) -> None:
        for r in range(table.rowCount()):
            item = table.item(r, 0)
            if item is not None and item.text() == code:
                table.selectRow(r)

    def _selection_changed(self) -> None:
        w, p = self.selected_window(), self.selected_point()
        self.add_window_btn.setEnabled(self.places is not None)
        self.add_point_btn.setEnabled(self.places is not None)
        self.edit_window_btn.setEnabled(w is not None and w.active)
        self.window_active_btn.setEnabled(w is not None)
        self.window_active_btn.setText(self.tr("启用窗口(&T)") if w and not w.active else self.tr("停用窗口(&T)"))
        self.window_active_btn.setToolTip(
            self.tr("窗口还有事项或在岗人员，须先调整再停用") if w and w.active and (w.items or w.staff) else "")
        self.edit_point_btn.setEnabled(p is not None)
        self.point_active_btn.setEnabled(p is not None and p.code != "000")
        self.point_active_btn.setText(self.tr("启用代办点(&S)") if p and not p.active else self.tr("停用代办点(&S)"))

    # ------------------------------------------------------------------------------- windows
    def _window_form(self, row: windows.WindowRow | None) -> AdminForm:
        actor = self.ctx.actor
        fields = [("code", "窗口编码", line(row.code if row else "", max_len=8, read_only=row is not None,
                                             placeholder=self.tr("如 W12")), self.tr("窗口编码(&C)：")),
                  ("name", "窗口名称", line(row.name if row else ""), self.tr("窗口名称(&N)：")),
                  ("phone", "咨询电话", line(row.phone if row else "", max_len=40), self.tr("咨询电话(&P)：")),
                  ("sort_order", "排序", number(row.sort_order if row else 0, 0, 999), self.tr("排序(&O)："))]
        fn = windows.update_window if row else windows.add_window
        form = AdminForm(self.ctx, self.tr("修改窗口") if row else self.tr("添加窗口"), fields,
                         lambda s, v: fn(s, actor, windows.WindowForm(v["code"], v["name"], v["phone"],
                                                                      v["sort_order"])), self)
        form.open()
        return form

    def add_window(self) -> AdminForm:
        return self._window_form(None)

    def edit_window(self) -> AdminForm | None:
        w = self.selected_window()
        return self._window_form(w) if w is not None and w.active else None

    def toggle_window(self) -> bool:
        w = self.selected_window()
        if w is None:
            return False
        actor = self.ctx.actor
        return run(self, self.ctx, lambda s: windows.set_window_active(s, actor, w.code, not w.active),
                   title=self.tr("未保存")) is not None

    # ------------------------------------------------------------------------------- intake points
    def add_point(self) -> AdminForm:
        actor = self.ctx.actor
        fields = [("code", "受理点编码", line(max_len=3, placeholder=self.tr("3位数字，如 002")),
                   self.tr("编码(&C)：")),
                  ("name", "受理点名称", line(placeholder=self.tr("如 西村代办点")), self.tr("名称(&N)："))]
        form = AdminForm(self.ctx, self.tr("添加代办点"), fields,
                         lambda s, v: staff.add_intake_point(s, actor, v["code"], v["name"]), self)
        form.open()
        return form

    def edit_point(self) -> AdminForm | None:
        p = self.selected_point()
        if p is None:
            return None
        actor = self.ctx.actor
        fields = [("code", "受理点编码", line(p.code, read_only=True), self.tr("编码(&C)：")),
                  ("name", "受理点名称", line(p.name), self.tr("名称(&N)："))]
        form = AdminForm(self.ctx, self.tr("修改代办点"), fields,
                         lambda s, v: staff.update_intake_point(s, actor, p.code, v["name"], p.active), self)
        form.open()
        return form

    def toggle_point(self) -> bool:
        p = self.selected_point()
        if p is None:
            return False
        actor = self.ctx.actor
        return run(self, self.ctx, lambda s: staff.update_intake_point(s, actor, p.code, p.name, not p.active),
                   title=self.tr("未保存")) is not None
