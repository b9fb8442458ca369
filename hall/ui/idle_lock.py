"""The idle lock: after ``idle_lock_minutes`` without a key or a click, the counter's screen is covered and the
clerk's password is asked before anyone goes on (or another person logs in: 切换用户).

What lies underneath stays as it was — an intake half typed (its draft written to disk first, in case the PC is
switched off while locked), an open ticket with an action dialog, a queue search — because nothing is closed: the
lock is one application-modal window on top of them, and every key or click meant for another window is dropped
while it is up (a window's shortcuts would otherwise still fire under it). A background job with a progress strip
is never interrupted: the lock waits until it has ended (its result lands on screen first), then locks if the
counter is still idle. The password is checked on the pool (Argon2 takes a noticeable moment).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hall.errors import HallError
from hall.services.storage import settings
from hall.ui.background import Loader
from hall.ui.ops import ChangeListener, Context
from hall.ui.progress import ProgressStrip

if TYPE_CHECKING:
    from hall.services.base.actor import Actor

log = logging.getLogger("hall.ui.lock")

CHECK_MS = 5000  # how often idleness is looked at (cheap: one subtraction)
# What counts as the person at the counter doing something.
INPUT = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick,
                   QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.MouseMove})
# What must not reach the windows under the lock.
BLOCKED = frozenset({*INPUT, QEvent.Type.KeyRelease, QEvent.Type.MouseButtonRelease, QEvent.Type.Shortcut,
                     QEvent.Type.ShortcutOverride, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd})


class LockScreen(QWidget):
    """The cover: who is locked out, their password, 解锁 and 切换用户."""

    unlock_requested = Signal(str)
    switch_requested = Signal()

    def __init__(self, hall_name: str, actor: Actor) -> None:
        super().__init__(None, Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint)
        self.setObjectName("lockScreen")
        self.setWindowTitle(self.tr("已锁定 — Hall 便民服务中心"))
        self.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.setStyleSheet("QWidget#lockScreen { background: #23395b; } QWidget#lockScreen QLabel { color: white; }"
                           " QLabel#lockTitle { font-size: 20pt; font-weight: bold; }"
                           " QLabel#errorLabel { color: #ffb4b4; }")
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        box = QWidget()
        box.setMinimumWidth(560)
        box.setMaximumWidth(640)
        inner = QVBoxLayout(box)
        title = QLabel(hall_name or self.tr("便民服务中心"))
        title.setObjectName("lockTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        inner.addWidget(title)
        who = QLabel(self.tr("屏幕已锁定（长时间无操作）。{0}，请输入密码继续；未保存的登记仍在原处。")
                     .format(actor.name))
        who.setWordWrap(True)
        inner.addWidget(who)
        form = QFormLayout()
        self.password = QLineEdit()
        self.password.setObjectName("lockPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.returnPressed.connect(self._unlock)
        form.addRow(self.tr("密码(&P)："), self.password)
        inner.addLayout(form)
        self.error = QLabel()
        self.error.setObjectName("errorLabel")
        self.error.setWordWrap(True)
        inner.addWidget(self.error)
        buttons = QHBoxLayout()
        self.unlock_btn = QPushButton(self.tr("解锁(&U)"))
        self.unlock_btn.setObjectName("unlockButton")
        self.unlock_btn.setDefault(True)
        self.unlock_btn.clicked.connect(self._unlock)
        self.switch_btn = QPushButton(self.tr("切换用户(&L)"))
        self.switch_btn.setObjectName("switchUserButton")
        self.switch_btn.setAutoDefault(False)
        self.switch_btn.clicked.connect(self.switch_requested.emit)
        buttons.addStretch(1)
        buttons.addWidget(self.unlock_btn)
        buttons.addWidget(self.switch_btn)
        inner.addLayout(buttons)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(3)

    def _unlock(self) -> None:
        if self.password.text():
            self.error.setText(self.tr("正在核对密码……"))
            self.unlock_requested.emit(self.password.text())

    def refused(self, text: str) -> None:
        self.error.setText(text)
        self.password.selectAll()
        self.password.setFocus()


class IdleLock(QObject):
    """Watches the application's input for ``window`` (the main window) and covers it when idle.

    ``minutes`` comes from the hall's settings (read in the background, again when the settings change); 0 turns
    the lock off. ``switch_user`` is called when the person at the lock chooses 切换用户."""

    locked = Signal()
    unlocked = Signal()

    def __init__(self, window: QWidget, ctx: Context, switch_user: Callable[[], None], *,
                 clock: Callable[[], float] = time.monotonic, check_ms: int = CHECK_MS,
                 before_lock: Callable[[], None] | None = None) -> None:
        super().__init__(window)
        self.window, self.ctx, self._switch_user = window, ctx, switch_user
        self.clock = clock  # tests move it on instead of waiting ten minutes
        self._before_lock = before_lock
        self.minutes = 0  # off until the setting has been read
        self.hall_name = ""
        self.screen: LockScreen | None = None
        self._last = clock()
        self._settings = Loader(ctx.db, self)
        self._checker = Loader(ctx.db, self)
        self.listener = ChangeListener(self, ctx.changes, lambda c: c.settings, lambda _c: self.reload_setting())
        self.timer = QTimer(self)
        self.timer.setInterval(check_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()
        app = QApplication.instance()
        assert app is not None
        app.installEventFilter(self)
        self.reload_setting()

    # ------------------------------------------------------------------------------------- setting
    def reload_setting(self) -> None:
        self._settings.request(lambda s: (int(settings.get(s, "idle_lock_minutes")),
                                          str(settings.get(s, "hall_name"))), self._setting_arrived)

    def _setting_arrived(self, got: tuple[int, str]) -> None:
        self.minutes, self.hall_name = got

    # ------------------------------------------------------------------------------------ watching
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if self.screen is None:
            # Every event of the program passes here: a few microseconds each (benchmarks/bench_idle_filter.py).
            if kind in INPUT:
                self._last = self.clock()
            return False
        # Under the lock nothing is typed or clicked, and no shortcut fires.
        return kind in BLOCKED and not self._on_lock(watched)

    def _on_lock(self, obj: QObject) -> bool:
        screen = self.screen
        while obj is not None:
            if obj is screen:
                return True
            obj = obj.parent()
        return False

    def idle_seconds(self) -> float:
        return self.clock() - self._last

    def busy(self) -> bool:
        """A background job with a progress strip is running in the window: its result must land first."""
        return any(strip.busy for strip in self.window.findChildren(ProgressStrip))

    def check(self) -> None:
        if self.screen is None and self.minutes > 0 and self.idle_seconds() >= self.minutes * 60 and not self.busy():
            self.lock()

    # --------------------------------------------------------------------------------- lock/unlock
    def lock(self) -> None:
        if self.screen is not None:
            return
        if self._before_lock is not None:
            self._before_lock()  # e.g. the intake's draft to disk: the PC may be switched off while locked
        log.info("idle lock")
        self.screen = LockScreen(self.hall_name, self.ctx.actor)
        self.screen.unlock_requested.connect(self._check_password)
        self.screen.switch_requested.connect(self._switch)
        target = self.window.screen() or QGuiApplication.primaryScreen()
        self.screen.setGeometry(target.geometry())
        self.screen.showFullScreen()
        self.screen.raise_()
        self.screen.activateWindow()
        self.screen.password.setFocus()
        self.locked.emit()

    def _check_password(self, password: str) -> None:
        from hall.services.people import staff

        actor, node = self.ctx.actor, self.ctx.node

        def verify(s):  # type: ignore[no-untyped-def]
            if actor.staff_id is None:
                raise HallError("工号或密码不正确")
            return staff.authenticate(s, staff.view_by_id(s, actor.staff_id).staff_no, password, node)

        self._checker.request(verify, self._verified, failed=self._refused)

    def _verified(self, who: Actor) -> None:
        if self.screen is None:
            return
        if who.staff_id != self.ctx.actor.staff_id:
            self._refused(HallError(self.tr("工号或密码不正确")))
            return
        self.unlock()

    def _refused(self, exc: HallError) -> None:
        if self.screen is not None:
            self.screen.refused(str(exc))

    def unlock(self) -> None:
        screen, self.screen = self.screen, None
        if screen is not None:
            screen.hide()
            screen.deleteLater()
        self._last = self.clock()
        log.info("unlocked")
        self.unlocked.emit()

    def _switch(self) -> None:
        self.unlock()
        self._switch_user()

    def stop(self) -> None:
        """The window is closing: no lock over a window that is gone."""
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        if self.screen is not None:
            self.screen.hide()
            self.screen.deleteLater()
            self.screen = None
