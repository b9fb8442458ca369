"""Day one at a new hall, end to end through the real program (issue #14, "Done when"): ``hall`` (its composition
root, :func:`hall.__main__.main`) on an empty data directory — the first-run wizard's two steps, 管理 → 工作人员 to
add a clerk and a manager, 文件 → 注销, the clerk's login through the login dialog (setting their own password
when asked), an intake with an ID-card reader in keyboard mode (the number, then its Enter: on to the next field,
never a save), the save, the receipt's print preview, and the ticket found in the queue by the last four digits
of its serial.

A script of steps runs beside the program's own event loops: each step waits until its window is on screen and
then types or clicks into it, as a person would, through the widgets.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QWidget

from hall.ui import messages

pytestmark = pytest.mark.gui

ADMIN_PASSWORD = "Admin#2026x"
CLERK_FIRST, CLERK_OWN = "first-pass-1", "clerk-own-pass-2"
READER_ID = "11010519491231002X"  # what the ID-card reader types, followed by Enter
BUDGET_S = 10.0


def shown(kind: type, when: Callable[[Any], bool] = lambda _w: True) -> Callable[[], Any]:
    def find() -> Any:
        return next((w for w in QApplication.topLevelWidgets()
                     if isinstance(w, kind) and w.isVisible() and when(w)), None)
    return find


def type_text(widget: QWidget, text: str) -> None:
    """Chinese arrives from the input method as one committed string; ASCII as keys."""
    if text.isascii():
        QTest.keyClicks(widget, text)
        return
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


class Script:
    """Steps (what to wait for, what to do then) run by a timer beside the program's event loops. Each action
    runs from its own zero-time timer, so one that opens a modal dialog does not stop the script."""

    def __init__(self, budget_s: float) -> None:
        self.steps: list[tuple[str, Callable[[], Any], Callable[[Any], None]]] = []
        self.done: list[str] = []
        self.failure = ""
        self.started = time.monotonic()
        self.deadline = self.started + budget_s
        self.timer = QTimer(interval=15)
        self.timer.timeout.connect(self._poll)
        self._busy = False

    def step(self, name: str, ready: Callable[[], Any], act: Callable[[Any], None]) -> None:
        self.steps.append((name, ready, act))

    def start(self) -> None:
        self.timer.start()

    def _poll(self) -> None:
        if self._busy:
            return
        if time.monotonic() > self.deadline:
            self._give_up(f"timed out waiting for: {self.steps[0][0] if self.steps else '?'}")
            return
        if not self.steps:
            self.timer.stop()
            return
        name, ready, act = self.steps[0]
        try:
            target = ready()
        except Exception as exc:  # a failing look: the test fails, the program is closed
            self._give_up(f"{name}: {exc!r}")
            return
        if not target:
            return
        self.steps.pop(0)
        self._busy = True

        def run() -> None:
            self._busy = False  # before acting: an action may open a modal loop the next steps work in
            try:
                act(target)
                self.done.append(f"{name} {time.monotonic() - self.started:.2f}")
            except Exception as exc:
                self._give_up(f"{name}: {exc!r}")

        QTimer.singleShot(0, run)

    def _give_up(self, why: str) -> None:
        self.failure = self.failure or why
        self.steps.clear()
        self.timer.stop()
        for w in QApplication.topLevelWidgets():  # every loop ends, and with it the program
            if w.isVisible():
                w.close()


@pytest.fixture
def program_globals(monkeypatch):
    """What the composition root installs for a running program, taken back after the test."""
    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", None)  # a message box would be a failure: it is recorded
    hook, root = sys.excepthook, logging.getLogger("hall")
    handlers, level = list(root.handlers), root.level
    yield
    sys.excepthook = hook
    for h in root.handlers:
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)


def test_a_new_hall_from_the_empty_data_dir_to_a_ticket_found_by_its_serial(qtbot, tmp_path, program_globals):
    from hall.__main__ import main
    from hall.ui.hall_info_dialog import HallInfoDialog
    from hall.ui.login_dialog import FirstRunDialog, LoginDialog, NewPasswordDialog
    from hall.ui.main_window import MainWindow
    from hall.ui.print_preview import PrintPreviewDialog
    from hall.ui.staff_admin import StaffAdminDialog, StaffForm

    data = tmp_path / "new-hall"
    assert not data.exists()
    started = time.monotonic()
    script = Script(BUDGET_S)
    seen: dict[str, Any] = {}

    def ok(dialog: QWidget) -> None:
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()

    # ---- the wizard, step 1: the administrator's password
    def first_password(d: FirstRunDialog) -> None:
        seen["wizard_1"] = d.windowTitle()
        type_text(d.password, ADMIN_PASSWORD)
        type_text(d.again, ADMIN_PASSWORD)
        ok(d)

    script.step("wizard step 1", shown(FirstRunDialog), first_password)

    def log_in(staff_no: str, password: str) -> Callable[[LoginDialog], None]:
        def act(d: LoginDialog) -> None:
            d.staff_no.clear()
            type_text(d.staff_no, staff_no)
            type_text(d.password, password)
            QTest.keyClick(d.password, Qt.Key.Key_Return)
        return act

    script.step("admin logs in", shown(LoginDialog, lambda d: d.db is not None), log_in("admin", ADMIN_PASSWORD))

    # ---- the wizard, step 2: 本中心信息
    def hall_info(d: HallInfoDialog) -> None:
        seen["wizard_2"] = d.windowTitle()
        name = d.fields["hall_name"]
        name.selectAll()
        type_text(name, "东山镇便民服务中心")
        d.buttons.button(QDialogButtonBox.StandardButton.Save).click()

    script.step("wizard step 2", shown(HallInfoDialog, lambda d: d.loaded is not None), hall_info)

    # ---- 管理 → 工作人员: a clerk and a manager
    def open_staff(win: MainWindow) -> None:
        seen["admin_window"] = win
        manage = next(a.menu() for a in win.menuBar().actions() if a.text() == "管理(&G)")
        next(a for a in manage.actions() if a.objectName() == "staffAdminAction").trigger()

    script.step("管理 → 工作人员", shown(MainWindow, lambda w: not shown(HallInfoDialog)() and w.ctx.actor.role ==
                                          "admin"), open_staff)

    def add(staff_no: str, name: str, role: str, window: str | None) -> Callable[[StaffForm], None]:
        def act(form: StaffForm) -> None:
            type_text(form.staff_no, staff_no)
            type_text(form.name, name)
            form.role.setCurrentIndex(form.role.findData(role))
            form.window.setCurrentIndex(form.window.findData(window))
            type_text(form.password, CLERK_FIRST)
            form.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()
        return act

    def staff_dialog() -> StaffAdminDialog | None:
        win = seen.get("admin_window")
        d = win.findChild(StaffAdminDialog) if win is not None else None
        return d if d is not None and d.isVisible() and d.directory is not None else None

    def listed(staff_no: str) -> Callable[[], Any]:
        def find() -> Any:
            d = staff_dialog()
            if d is None or shown(StaffForm)():
                return None
            rows = {d.table.item(r, 0).text() for r in range(d.table.rowCount())}
            return d if staff_no in rows else None
        return find

    def form_of(d: StaffAdminDialog) -> Callable[[], Any]:
        return lambda: next((f for f in d.findChildren(StaffForm) if f.isVisible()), None)

    script.step("添加…", staff_dialog, lambda d: d.add_btn.click())
    script.step("the clerk", lambda: (d := staff_dialog()) and form_of(d)(),
                add("W0201", "王民政", "clerk", "W02"))
    script.step("添加… again", listed("W0201"), lambda d: d.add_btn.click())
    script.step("the manager", lambda: (d := staff_dialog()) and form_of(d)(),
                add("M01", "赵主任", "manager", None))

    def log_out(d: StaffAdminDialog) -> None:
        d.close()
        win = seen["admin_window"]
        file_menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "文件(&F)")
        next(a for a in file_menu.actions() if a.objectName() == "switchUserAction").trigger()

    script.step("文件 → 注销", listed("M01"), log_out)

    # ---- the clerk logs in through the login dialog, and sets their own password first
    script.step("clerk logs in", shown(LoginDialog, lambda d: d.db is not None and not shown(MainWindow)()),
                log_in("W0201", CLERK_FIRST))

    def own_password(d: QWidget) -> None:
        if isinstance(d, NewPasswordDialog):  # when the hall asks a new person to choose their own
            type_text(d.password, CLERK_OWN)
            type_text(d.again, CLERK_OWN)
            ok(d)

    script.step("own password, if asked", lambda: shown(NewPasswordDialog)() or clerk_window(), own_password)

    # ---- an intake with an ID-card reader
    def clerk_window() -> MainWindow | None:
        win = shown(MainWindow, lambda w: w.ctx.actor.role == "clerk")()
        return win if win is not None and not shown(LoginDialog)() else None

    def intake(win: MainWindow) -> None:
        seen["clerk_window"] = win
        win.go_intake()
        type_text(win.finder.search, "lnyd")  # 老年优待证, by pinyin initials
        QTest.keyClick(win.finder.search, Qt.Key.Key_Return)
        form = win.intake
        assert form.item is not None and form.item.code == "11"
        assert win.focusWidget() is form.id_edit
        QTest.keyClicks(form.id_edit, READER_ID)  # the reader types the number …
        QTest.keyClick(form.id_edit, Qt.Key.Key_Return)  # … and its Enter
        assert form.last_result is None, "the reader's Enter saved the ticket"
        assert win.focusWidget() is form.name_edit  # on to the next empty field
        seen["after_reader"] = (form.sex_value.text(), form.birth_value.text())
        type_text(form.name_edit, "王秀英")
        QTest.keyClick(form.name_edit, Qt.Key.Key_Tab)
        type_text(win.focusWidget(), "13912345678")
        QTest.keyClick(win.focusWidget(), Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # save
        assert form.last_result is not None, messages.shown
        seen["number"] = form.last_result.number
        seen["saved_line"] = form.result_label.text()
        form.print_btn.click()  # the receipt's print preview (modal: the next step works in it)

    script.step("intake", clerk_window, intake)

    def preview(d: PrintPreviewDialog) -> None:
        seen["preview"] = (d.windowTitle(), len(d.pdf.data))
        d.reject()

    script.step("print preview", shown(PrintPreviewDialog), preview)

    def search(win: MainWindow) -> None:
        win.go_queue()
        q = win.queue
        q.search.clear()
        serial = seen["number"][-4:]
        QTest.keyClicks(q.search, serial)
        seen["serial"] = serial

    script.step("queue search", lambda: (w := seen.get("clerk_window")) and not shown(PrintPreviewDialog)() and w,
                search)

    def found(win: MainWindow) -> None:
        q = win.queue
        seen["found"] = [q.model.row_at(r).number for r in range(q.model.rowCount())]
        win.close()

    script.step("found", lambda: (w := seen.get("clerk_window")) and "serial" in seen and not w.queue.searching
                and w.queue.model.rowCount() > 0 and w, found)

    script.start()
    code = main(["--data-dir", str(data)])
    elapsed = time.monotonic() - started
    assert script.failure == "", (script.failure, script.done, messages.shown)
    assert code == 0 and not script.steps
    assert seen["wizard_1"].startswith("首次使用（第1步") and seen["wizard_2"].startswith("首次使用（第2步")
    assert seen["after_reader"] == ("女", "1949-12-31")
    number = seen["number"]
    assert number.startswith("320581101-000-") and number in seen["saved_line"]
    assert seen["preview"][1] > 1000
    assert seen["found"] == [number]
    assert messages.shown == []  # no message box anywhere on the way
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.people import staff
    from hall.services.storage import settings

    opened = open_hall(Paths.resolve(data))
    try:
        with opened.db.reading() as s:
            assert settings.get(s, "hall_name") == "东山镇便民服务中心"
            roles = {p.staff_no: p.role for p in staff.list_staff(s)}
    finally:
        opened.db.dispose()
    assert roles.items() >= {"W0201": "clerk", "M01": "manager"}.items()
    assert elapsed <= BUDGET_S, f"the walk took {elapsed:.1f} s"
