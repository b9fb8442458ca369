"""Login (and, on first start, setting the administrator's password).

The login dialog appears before the database has finished opening (see hall/ui/startup.py); it asks for the
result only when the person presses Enter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from hall.errors import HallError

if TYPE_CHECKING:
    from hall.services.base.actor import Actor
    from hall.services.storage.db import Database
    from hall.services.storage.node import NodeIdentity


class LoginDialog(QDialog):
    NEEDS_ADMIN = 2  # done() code: the database has no administrator yet — set one first

    def __init__(self, db: Database | None, node: NodeIdentity, hall_name: str, parent=None, *,
                 opening: Any = None) -> None:
        super().__init__(parent)
        self.db, self.node, self.opening = db, node, opening
        self.opened: Any = None
        self.actor: Actor | None = None
        self.setWindowTitle(self.tr("登录 — Hall 便民服务中心"))
        layout = QVBoxLayout(self)
        self.title = QLabel(hall_name or self.tr("便民服务中心"))
        self.title.setObjectName("loginTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.title)
        form = QFormLayout()
        self.staff_no = QLineEdit()
        self.staff_no.setPlaceholderText(self.tr("工号"))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(self.tr("工号(&U)："), self.staff_no)
        form.addRow(self.tr("密码(&P)："), self.password)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setObjectName("errorLabel")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        layout.addWidget(QLabel(self.tr("本机受理点：") + node.intake_point))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("登录"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("退出"))
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.staff_no.setFocus()
        if opening is not None:
            opening.done.connect(self._database_ready)

    def _database_ready(self) -> None:
        result = self.opening.result
        if isinstance(result, BaseException):
            self.reject()  # the composition root shows why, before anyone types a password into a dead program
            return
        self.opened, self.db = result, result.db
        if self.opening.hall_name:
            self.title.setText(self.opening.hall_name)
        if result.needs_admin:
            self.done(self.NEEDS_ADMIN)

    def try_login(self) -> None:
        if self.db is None and self.opening is not None:
            self.error.setText(self.tr("正在打开数据库……"))
            try:
                self.opened = self.opening.wait_result()
            except BaseException:
                self.reject()  # the composition root shows why
                return
            self.db = self.opened.db
            if self.opened.needs_admin:
                self.done(self.NEEDS_ADMIN)
                return
        from hall.services.people import staff

        assert self.db is not None
        try:
            # A read (never the write lock: a counter saving at that moment must not make the login wait).
            with self.db.reading() as s:
                self.actor = staff.authenticate(s, self.staff_no.text(), self.password.text(), self.node)
        except HallError as exc:
            self.error.setText(str(exc))
            self.password.selectAll()
            self.password.setFocus()
            return
        self.accept()


class FirstRunDialog(QDialog):
    """First start: the administrator's password must be set before anything else."""

    def __init__(self, db: Database, system: Actor, parent=None) -> None:
        super().__init__(parent)
        self.db, self.system = db, system
        self.setWindowTitle(self.tr("首次使用 — 设置管理员密码"))
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr("欢迎使用 Hall。已创建数据库并载入默认事项清单（11个窗口、76项事项）。\n"
                               "请为系统管理员（工号 admin）设置密码，至少8位。"))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.again = QLineEdit()
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(self.tr("密码(&P)："), self.password)
        form.addRow(self.tr("再输一次(&A)："), self.again)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setObjectName("errorLabel")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def save(self) -> None:
        if self.password.text() != self.again.text():
            self.error.setText(self.tr("密码：两次输入不一致"))
            return
        from hall.services.people import staff

        try:
            with self.db.transaction() as s:
                staff.create_first_admin(s, self.system, self.password.text())
        except HallError as exc:
            self.error.setText(str(exc))
            return
        self.accept()
