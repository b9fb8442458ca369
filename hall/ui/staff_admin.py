"""管理 → 工作人员: the administrator adds staff, edits name/role/post/window/intake point (the staff number never
changes: it is on every ticket the person handled), sets the B-post, disables someone who left (they can no
longer log in; their tickets and figures stay theirs), enables them again, and resets a forgotten password to a
temporary one the person must replace at their next login. Every change is one ledger event through
``hall.services.people.staff``; the list is read in the background and reloads when staff change anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hall.errors import HallError
from hall.services.base.actor import ROLE_LABELS
from hall.services.catalog import items as catalog
from hall.services.people import staff
from hall.ui.admin_form import error_and_save_buttons
from hall.ui.background import Loader
from hall.ui.ops import ChangeListener, Context, run
from hall.ui.screen_fit import fit_on_screen, text_size
from hall.ui.staff_profile import ProfileFields

HEADERS = ("工号", "姓名", "角色", "窗口", "受理点", "岗位", "B岗（代理岗）", "状态")


@dataclass(frozen=True)
class Directory:
    """What the screen shows, as plain data."""

    people: list[staff.StaffView]
    windows: list[tuple[str, str]]  # (code, name)
    points: list[tuple[str, str]]  # (code, name)


def _directory(session) -> Directory:  # type: ignore[no-untyped-def]
    return Directory(staff.list_staff(session), [(w.code, w.name) for w in catalog.window_views(session)],
                     [(p.code, p.name) for p in staff.intake_points(session)])


class StaffForm(QDialog):
    """One person's fields; a refused value is named below the form and what was typed stays."""

    def __init__(self, ctx: Context, directory: Directory, person: staff.StaffView | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.person = ctx, person
        self.setObjectName("staffForm")
        self.setWindowTitle(self.tr("修改工作人员") if person else self.tr("添加工作人员"))
        self.setMinimumWidth(text_size(self, 31, 0).width())
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.staff_no = QLineEdit(person.staff_no if person else "")
        self.staff_no.setReadOnly(person is not None)  # on every ticket they handled: never renumbered
        self.name = QLineEdit(person.name if person else "")
        self.role = QComboBox()
        for code, label in ROLE_LABELS.items():
            self.role.addItem(label, code)
        self.post = QLineEdit(person.post if person else "")
        self.window = QComboBox()
        self.window.addItem(self.tr("（不属于窗口）"), None)
        for code, name in directory.windows:
            self.window.addItem(f"{code} {name}", code)
        self.point = QComboBox()
        for code, name in directory.points:
            self.point.addItem(f"{code} {name}", code)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(self.tr("至少8位；可留空，之后用“重置密码”设置"))
        if person is not None:
            self.role.setCurrentIndex(max(0, self.role.findData(person.role)))
            self.window.setCurrentIndex(max(0, self.window.findData(person.window_code)))
            self.point.setCurrentIndex(max(0, self.point.findData(person.intake_point)))
        form.addRow(self.tr("工号(&N)："), self.staff_no)
        form.addRow(self.tr("姓名(&M)："), self.name)
        form.addRow(self.tr("角色(&R)："), self.role)
        form.addRow(self.tr("岗位(&P)："), self.post)
        form.addRow(self.tr("窗口(&W)："), self.window)
        form.addRow(self.tr("受理点(&D)："), self.point)
        if person is None:
            form.addRow(self.tr("初始密码(&I)："), self.password)
        layout.addLayout(form)
        self.profile: ProfileFields | None = None
        if person is not None:  # the badge board's photo and résumé (staff_profile.py)
            self.profile = ProfileFields(ctx, person.staff_no, self)
            layout.addWidget(self.profile)
        self.error = error_and_save_buttons(self, layout, self.save)

    def _failed(self, exc: HallError) -> None:
        self.error.setText(str(exc))
        if self.profile is not None:
            self.profile.mark(exc)

    def form(self) -> staff.StaffForm:
        return staff.StaffForm(staff_no=self.staff_no.text(), name=self.name.text(), role=self.role.currentData(),
                               post=self.post.text(), window_code=self.window.currentData(),
                               intake_point=self.point.currentData() or "000",
                               password=self.password.text() or None)

    def save(self) -> None:
        form, actor = self.form(), self.ctx.actor
        fn = staff.update_staff if self.person is not None else staff.add_staff
        profile = self.profile.changes() if self.profile is not None else None

        def save(s):  # type: ignore[no-untyped-def]
            done = fn(s, actor, form)
            if profile is not None:  # one transaction: the person's fields and the badge's, or neither
                done = staff.set_profile(s, actor, form.staff_no, **profile)
            return done

        done = run(self, self.ctx, save, title=self.tr("未保存"), failed=self._failed)
        if done is not None:
            self.accept()


class StaffAdminDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.directory: Directory | None = None
        self.setObjectName("staffAdminDialog")
        self.setWindowTitle(self.tr("工作人员"))
        fit_on_screen(self, 65, 31)
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("staffTable")
        self.table.setHorizontalHeaderLabels([self.tr(h) for h in HEADERS])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _i: self.edit_selected())
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.add_btn = QPushButton(self.tr("添加(&A)…"))
        self.edit_btn = QPushButton(self.tr("修改(&E)…"))
        self.bpost_btn = QPushButton(self.tr("设置B岗(&B)…"))
        self.active_btn = QPushButton(self.tr("停用(&T)…"))
        self.reset_btn = QPushButton(self.tr("重置密码(&P)…"))
        close = QPushButton(self.tr("关闭"))
        for b in (self.add_btn, self.edit_btn, self.bpost_btn, self.active_btn, self.reset_btn):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        self.note = QLabel(self.tr("正在读取…"))
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.add_btn.clicked.connect(self.add)
        self.edit_btn.clicked.connect(self.edit_selected)
        self.bpost_btn.clicked.connect(self.ask_b_post)
        self.active_btn.clicked.connect(self.ask_active)
        self.reset_btn.clicked.connect(self.ask_reset)
        close.clicked.connect(self.accept)
        self.loader = Loader(ctx.db, self)
        self.listener = ChangeListener(self, ctx.changes, lambda c: c.staff, lambda _c: self.refresh())
        self._selection_changed()
        self.refresh()

    # ------------------------------------------------------------------------------- the list
    def refresh(self) -> None:
        self.loader.request(_directory, self._loaded)

    @property
    def loading(self) -> bool:
        return self.loader.busy

    def _loaded(self, d: Directory) -> None:
        keep = self.selected().staff_no if self.selected() else None
        self.directory = d
        points = dict(d.points)
        self.table.setRowCount(len(d.people))
        for r, p in enumerate(d.people):
            cells = (p.staff_no, p.name, p.role_label, p.window_code or "—",
                     f"{p.intake_point} {points.get(p.intake_point, '')}".strip(), p.post, p.b_post_name or "—",
                     self.tr("在岗") if p.active else self.tr("已停用"))
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)  # columns are sized to usual texts: a long point or post name is elided
                self.table.setItem(r, c, item)
            if keep == p.staff_no:
                self.table.selectRow(r)
        active = sum(1 for p in d.people if p.active)
        self.note.setText(self.tr("共 {0} 人，在岗 {1} 人。停用的人员不能登录，其办件和考核记录保留。")
                          .format(len(d.people), active))
        self._selection_changed()

    def selected(self) -> staff.StaffView | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or self.directory is None or rows[0].row() >= len(self.directory.people):
            return None
        return self.directory.people[rows[0].row()]

    def choose(self, staff_no: str) -> None:
        for r, p in enumerate(self.directory.people if self.directory else []):
            if p.staff_no == staff_no:
                self.table.selectRow(r)

    def _selection_changed(self) -> None:
        p = self.selected()
        self.add_btn.setEnabled(self.directory is not None)
        for b in (self.edit_btn, self.bpost_btn, self.reset_btn, self.active_btn):
            b.setEnabled(p is not None)
        self.active_btn.setText(self.tr("启用(&T)…") if p is not None and not p.active else self.tr("停用(&T)…"))
        is_self = p is not None and p.id == self.ctx.actor.staff_id
        if is_self:
            self.active_btn.setEnabled(False)
            self.active_btn.setToolTip(self.tr("不能停用自己的账号"))
        else:
            self.active_btn.setToolTip("")

    # ------------------------------------------------------------------------------- actions
    def add(self) -> QDialog | None:
        if self.directory is None:
            return None
        dialog = StaffForm(self.ctx, self.directory, None, self)
        dialog.open()
        return dialog

    def edit_selected(self) -> QDialog | None:
        p = self.selected()
        if p is None or self.directory is None:
            return None
        dialog = StaffForm(self.ctx, self.directory, p, self)
        dialog.open()
        return dialog

    def _ask(self, title: str, label: str, *, password: bool = False) -> str | None:
        mode = QLineEdit.EchoMode.Password if password else QLineEdit.EchoMode.Normal
        text, ok = QInputDialog.getText(self, title, label, mode)
        return text if ok else None

    def ask_active(self) -> None:
        p = self.selected()
        if p is None:
            return
        what = self.tr("启用") if not p.active else self.tr("停用")
        reason = self._ask(what, self.tr("{0}{1}（{2}）的原因：").format(what, p.name, p.staff_no))
        if reason is not None:
            self.set_active(p.staff_no, not p.active, reason)

    def set_active(self, staff_no: str, active: bool, reason: str) -> bool:
        actor = self.ctx.actor
        return run(self, self.ctx, lambda s: staff.set_active(s, actor, staff_no, active, reason) or True,
                   title=self.tr("未保存")) is not None

    def ask_reset(self) -> None:
        p = self.selected()
        if p is None:
            return
        label = self.tr("{0}（{1}）的临时密码（至少8位，本人下次登录时须改为自己的密码）：").format(p.name, p.staff_no)
        temp = self._ask(self.tr("重置密码"), label, password=True)
        if temp is not None:
            self.reset_password(p.staff_no, temp)

    def reset_password(self, staff_no: str, temporary: str) -> bool:
        actor = self.ctx.actor
        return run(self, self.ctx, lambda s: staff.reset_password(s, actor, staff_no, temporary) or True,
                   title=self.tr("密码未重置")) is not None

    def ask_b_post(self) -> None:
        p = self.selected()
        if p is None or self.directory is None:
            return
        others = [f"{o.staff_no} {o.name}" for o in self.directory.people if o.active and o.staff_no != p.staff_no]
        label = self.tr("{0}的B岗（代理岗）：").format(p.name)
        choice, ok = QInputDialog.getItem(self, self.tr("设置B岗"), label, [self.tr("（无）"), *others], 0, False)
        if ok:
            self.set_b_post(p.staff_no, None if choice == self.tr("（无）") else choice.split(" ", 1)[0])

    def set_b_post(self, staff_no: str, b_post_no: str | None) -> bool:
        actor = self.ctx.actor
        return run(self, self.ctx, lambda s: staff.set_b_post(s, actor, staff_no, b_post_no) or True,
                   title=self.tr("未保存")) is not None
