"""Login (and, on first start, setting the administrator's password).

The login dialog appears before the database has finished opening (see hall/ui/startup.py); it asks for the
result only when the person presses Enter.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from hall.errors import DatabaseError, HallError
from hall.services.storage import dburl

if TYPE_CHECKING:
    from hall.services.base.actor import Actor
    from hall.services.storage.db import Database
    from hall.services.storage.node import NodeIdentity
    from hall.ui.connections import SavedConnections, SecretStore


class LoginDialog(QDialog):
    NEEDS_ADMIN = 2  # done() code: the database has no administrator yet — set one first

    def __init__(self, db: Database | None, node: NodeIdentity, hall_name: str, parent=None, *,
                 opening: Any = None, connections: SavedConnections | None = None,
                 secrets: SecretStore | None = None, open_database: Callable[[str | None], Any] | None = None,
                 target: str | None = None) -> None:
        """``connections``/``secrets``/``open_database``: the database is chosen here (the local ledger or a saved
        hall server, whose password is asked for); ``open_database(url)`` starts a background open of another one.
        ``target``: the address chosen at start (``opening`` is opening it, if it could start)."""
        super().__init__(parent)
        self.db, self.node, self.opening = db, node, opening
        self.connections, self.secrets, self._open_database = connections, secrets, open_database
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
        self.database = QComboBox()
        self.database.setObjectName("databaseChoice")
        self.db_password = QLineEdit()
        self.db_password.setObjectName("databasePassword")
        self.db_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.db_password.setPlaceholderText(self.tr("大厅服务器的数据库密码"))
        self.remember = QCheckBox(self.tr("在本机系统钥匙串中记住数据库密码"))
        self.db_password_label = QLabel(self.tr("数据库密码(&W)："))
        self.db_password_label.setBuddy(self.db_password)
        if connections is not None:
            form.addRow(self.tr("数据库(&D)："), self.database)
            form.addRow(self.db_password_label, self.db_password)
            form.addRow("", self.remember)
            self._fill_databases(target)
            self.database.currentIndexChanged.connect(self._database_chosen)
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

    # ------------------------------------------------------------------------------ which database
    def _fill_databases(self, target: str | None) -> None:
        assert self.connections is not None
        self.database.addItem(self.tr("本机数据（单机或村代办点）"), None)
        for saved in self.connections.servers():
            self.database.addItem(saved.label, saved.url)
        if target:
            plain = dburl.without_password(target)
            i = self.database.findData(plain)
            if i < 0:  # given with --db and not saved yet
                self.database.addItem(self.tr("大厅服务器 {0}").format(dburl.server_label(plain)), plain)
                i = self.database.count() - 1
            self.database.setCurrentIndex(i)
            # Given with its password (--db): used as given. From the keyring: shown like any saved server.
            kept = self.secrets.get(plain) if self.secrets is not None and self.secrets.available else ""
            given = dburl.has_password(target) and dburl.password_of(target) != kept
            self._typed_url = target if given else None
        else:
            self._typed_url = None
        self._database_chosen()

    def _database_chosen(self, *_args: Any) -> None:
        url = self.database.currentData()
        server = url is not None and not (self._typed_url and dburl.without_password(self._typed_url) == url)
        for w in (self.db_password_label, self.db_password):
            w.setVisible(server)
        self.remember.setVisible(server and self.secrets is not None and self.secrets.available)
        if server and self.secrets is not None and self.secrets.available:
            stored = self.secrets.get(url)
            self.db_password.setText(stored)
            self.remember.setChecked(bool(stored))
        else:
            self.db_password.clear()

    def chosen_url(self) -> str | None:
        """The address to log in to (with the password typed here), None for the local ledger."""
        url = self.database.currentData()
        if url is None:
            return None
        if self._typed_url and dburl.without_password(self._typed_url) == url:
            return self._typed_url
        return dburl.with_password(url, self.db_password.text())

    def _switch_if_needed(self) -> None:
        """The person chose another database (or typed its password) than the one opening: open that one."""
        if self.connections is None or self._open_database is None:
            return
        url = self.chosen_url()
        current = getattr(self.opening, "url", object()) if self.opening is not None else object()
        if self.opening is not None and current == url and not isinstance(self.opening.result, BaseException):
            return
        if self.opening is not None:
            with contextlib.suppress(RuntimeError, TypeError):
                self.opening.done.disconnect(self._database_ready)
        self.db, self.opened = None, None
        self.opening = self._open_database(url)
        self.opening.done.connect(self._database_ready)

    def _remember_choice(self) -> None:
        if self.connections is None:
            return
        url = self.chosen_url()
        if url is None:
            self.connections.used_local()
            return
        self.connections.remember(url)
        if self.secrets is not None and self.secrets.available and self.db_password.isVisible():
            if self.remember.isChecked() and self.db_password.text():
                self.secrets.set(url, self.db_password.text())
            else:
                self.secrets.forget(url)

    def _database_ready(self) -> None:
        if self.sender() is not None and self.sender() is not self.opening:
            return  # an opening the person has since replaced by another choice
        result = self.opening.result
        if isinstance(result, BaseException):
            if self.connections is not None and isinstance(result, DatabaseError):
                self.error.setText(self.tr("无法打开数据库：{0}").format(str(result)))  # choose again, or retry
                return
            self.reject()  # the composition root shows why, before anyone types a password into a dead program
            return
        self.opened, self.db = result, result.db
        if self.opening.hall_name:
            self.title.setText(self.opening.hall_name)
        if result.needs_admin:
            self.done(self.NEEDS_ADMIN)

    def try_login(self) -> None:
        self._switch_if_needed()
        if self.db is None and self.opening is not None:
            self.error.setText(self.tr("正在打开数据库……"))
            try:
                self.opened = self.opening.wait_result()
            except DatabaseError as exc:
                if self.connections is None:
                    self.reject()  # the composition root shows why
                    return
                self.error.setText(self.tr("无法打开数据库：{0}").format(str(exc)))
                return
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
                must_change = self.actor.staff_id is not None and staff.must_set_password(s, self.actor.staff_id)
        except HallError as exc:
            self.error.setText(str(exc))
            self.password.selectAll()
            self.password.setFocus()
            return
        if must_change and not self._new_password(self.actor):
            self.actor = None
            self.error.setText(self.tr("密码已由管理员重置：须先设置自己的新密码才能登录。"))
            self.password.clear()
            self.password.setFocus()
            return
        self._remember_choice()
        self.accept()

    def _new_password(self, actor: Actor) -> bool:
        assert self.db is not None
        return NewPasswordDialog(self.db, actor, self).exec() == QDialog.DialogCode.Accepted


class _PasswordDialog(QDialog):
    """A new password typed twice; ``store`` writes it (in one transaction), its refusal shown in the dialog."""

    def __init__(self, db: Database, title: str, intro: str, label: str, mismatch: str, parent=None) -> None:
        super().__init__(parent)
        self.db, self._mismatch = db, mismatch
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        text = QLabel(intro)
        text.setWordWrap(True)
        layout.addWidget(text)
        form = QFormLayout()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.again = QLineEdit()
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(label, self.password)
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

    def store(self, session: Any, password: str) -> None:
        raise NotImplementedError

    def save(self) -> None:
        if self.password.text() != self.again.text():
            self.error.setText(self._mismatch)
            return
        try:
            with self.db.transaction() as s:
                self.store(s, self.password.text())
        except HallError as exc:
            self.error.setText(str(exc))
            return
        self.accept()


class FirstRunDialog(_PasswordDialog):
    """First start: the administrator's password must be set before anything else."""

    def __init__(self, db: Database, system: Actor, parent=None) -> None:
        super().__init__(db, self.tr("首次使用（第1步，共2步）— 设置管理员密码"),
                         self.tr("欢迎使用 Hall。已创建数据库并载入默认事项清单（11个窗口、76项事项）。\n"
                                 "请为系统管理员（工号 admin）设置密码，至少8位。登录后第2步填写本中心信息。"),
                         self.tr("密码(&P)："), self.tr("密码：两次输入不一致"), parent)
        self.system = system

    def store(self, session: Any, password: str) -> None:
        from hall.services.people import staff

        staff.create_first_admin(session, self.system, password)


class NewPasswordDialog(_PasswordDialog):
    """After an administrator's reset: the person logged in with the temporary password and now sets their own
    (the administrator never knows the password in use)."""

    def __init__(self, db: Database, actor: Actor, parent=None) -> None:
        super().__init__(db, self.tr("设置新密码"),
                         self.tr("{0}，您的密码已由管理员重置。请设置自己的新密码（至少8位），之后用新密码登录。")
                         .format(actor.name), self.tr("新密码(&P)："), self.tr("新密码：两次输入不一致"), parent)
        self.actor = actor
        self.setObjectName("newPasswordDialog")

    def store(self, session: Any, password: str) -> None:
        from hall.services.people import staff

        staff.set_password(session, self.actor, staff.view_by_id(session, self.actor.staff_id).staff_no, password)
