"""Login (and, on first start, setting the administrator's password)."""

from __future__ import annotations

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
from hall.services import staff
from hall.services.actor import Actor
from hall.services.db import Database
from hall.services.node import NodeIdentity


class LoginDialog(QDialog):
    def __init__(self, db: Database, node: NodeIdentity, hall_name: str, parent=None) -> None:
        super().__init__(parent)
        self.db, self.node = db, node
        self.actor: Actor | None = None
        self.setWindowTitle(self.tr("登录 — Hall 便民服务中心"))
        layout = QVBoxLayout(self)
        title = QLabel(hall_name)
        title.setObjectName("loginTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
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
        point = self.tr("本机受理点：") + node.intake_point
        layout.addWidget(QLabel(point))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("登录"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("退出"))
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.staff_no.setFocus()

    def try_login(self) -> None:
        try:
            with self.db.transaction() as s:
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
        try:
            with self.db.transaction() as s:
                staff.create_first_admin(s, self.system, self.password.text())
        except HallError as exc:
            self.error.setText(str(exc))
            return
        self.accept()
