"""管理 → 工作人员 on a real main window: an administrator adds a clerk, edits them, disables and enables them,
resets a password; a refused value stays in the form with the reason; the person whose password was reset must
set their own at the login dialog before they get in."""

from __future__ import annotations

import pytest
from gui_guard import GuiThreadSql
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from hall.services.people import staff
from hall.ui import messages
from hall.ui.background import active_jobs
from hall.ui.login_dialog import LoginDialog, NewPasswordDialog
from hall.ui.main_window import MainWindow
from hall.ui.ops import ChangeSignal, Context
from hall.ui.staff_admin import StaffAdminDialog, StaffForm

pytestmark = pytest.mark.gui


@pytest.fixture
def admin_window(qtbot, hall_sqlite, tmp_path, monkeypatch):
    from hall_fixtures import actors_of

    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    ctx = Context(hall_sqlite.db, hall_sqlite.node, actors_of(hall_sqlite)["admin"], ChangeSignal())
    win = MainWindow(ctx, tmp_path / "drafts")
    win.stop_daily_timers()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: active_jobs() == 0, timeout=20_000)
    return win


def _rows(dialog: StaffAdminDialog) -> dict[str, list[str]]:
    t = dialog.table
    return {t.item(r, 0).text(): [t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())}


def test_add_edit_disable_enable_and_reset(qtbot, admin_window, hall_sqlite):
    sql = GuiThreadSql(hall_sqlite.db.engine)
    with sql.watching():
        manage = next(a.menu() for a in admin_window.menuBar().actions() if a.text() == "管理(&G)")
        next(a for a in manage.actions() if a.objectName() == "staffAdminAction").trigger()
        dialog = admin_window.findChild(StaffAdminDialog)
        qtbot.waitUntil(lambda: dialog.directory is not None, timeout=10_000)
    assert sql.statements == []  # the list is read in the background
    assert "c02" in _rows(dialog) and _rows(dialog)["c02"][-1] == "在岗"

    form = dialog.add()
    form.staff_no.setText("W0301")
    form.name.setText("赵新")
    form.role.setCurrentIndex(form.role.findData("clerk"))
    form.save()  # no window for a clerk: refused, the form stays with what was typed
    assert form.isVisible() and "窗口工作人员必须指定所在窗口" in form.error.text() and form.name.text() == "赵新"
    form.window.setCurrentIndex(form.window.findData("W03"))
    form.password.setText("first-pass-1")
    form.save()
    assert not form.isVisible()
    qtbot.waitUntil(lambda: "W0301" in _rows(dialog), timeout=10_000)  # reloaded on the staff change

    dialog.choose("W0301")
    form = dialog.edit_selected()
    assert form.staff_no.isReadOnly() and form.name.text() == "赵新"
    form.post.setText("社保窗口")
    form.save()
    qtbot.waitUntil(lambda: _rows(dialog).get("W0301", [""] * 6)[5] == "社保窗口", timeout=10_000)

    dialog.choose("W0301")
    assert dialog.active_btn.text() == "停用(&T)…"
    assert dialog.set_active("W0301", False, "调离")
    qtbot.waitUntil(lambda: _rows(dialog)["W0301"][-1] == "已停用", timeout=10_000)
    dialog.choose("W0301")
    assert dialog.active_btn.text() == "启用(&T)…"
    assert dialog.set_active("W0301", True, "返岗")
    qtbot.waitUntil(lambda: _rows(dialog)["W0301"][-1] == "在岗", timeout=10_000)

    dialog.choose("admin")  # one's own account: the button says why it is off
    assert not dialog.active_btn.isEnabled() and dialog.active_btn.toolTip() == "不能停用自己的账号"
    assert not dialog.reset_password("W0301", "short")  # refused, with the rule
    assert messages.shown[-1] == ("密码未重置", "密码：至少8位")
    assert dialog.reset_password("W0301", "temporary-1")
    with hall_sqlite.db.transaction() as s:
        person = staff.view(s, "W0301")
        assert staff.must_set_password(s, person.id) and person.post == "社保窗口"


def test_after_a_reset_the_login_asks_for_a_new_password(qtbot, hall_sqlite):
    from hall_fixtures import actors_of

    with hall_sqlite.db.transaction() as s:
        staff.reset_password(s, actors_of(hall_sqlite)["admin"], "c02", "temporary-1")
    dlg = LoginDialog(hall_sqlite.db, hall_sqlite.node, "示例镇便民服务中心")
    qtbot.addWidget(dlg)
    dlg.show()
    answered = []

    def set_new(mismatch_first: bool) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, NewPasswordDialog):
            QTimer.singleShot(20, lambda: set_new(mismatch_first))
            return
        if mismatch_first:
            box.password.setText("my-own-pass-1")
            box.again.setText("my-own-pass-2")
            box.save()
            answered.append(box.error.text())
        box.password.setText("my-own-pass-1")
        box.again.setText("my-own-pass-1")
        box.save()

    QTimer.singleShot(20, lambda: set_new(True))
    qtbot.keyClicks(dlg.staff_no, "c02")
    qtbot.keyClicks(dlg.password, "temporary-1")
    qtbot.keyClick(dlg.password, Qt.Key.Key_Return)
    assert answered == ["新密码：两次输入不一致"]
    assert dlg.actor is not None and dlg.actor.name == "王民政"
    with hall_sqlite.db.transaction() as s:
        assert staff.authenticate(s, "c02", "my-own-pass-1", hall_sqlite.node).staff_id == dlg.actor.staff_id
        assert not staff.must_set_password(s, dlg.actor.staff_id)


def test_declining_the_new_password_does_not_log_in(qtbot, hall_sqlite):
    from hall_fixtures import actors_of

    with hall_sqlite.db.transaction() as s:
        staff.reset_password(s, actors_of(hall_sqlite)["admin"], "c02", "temporary-1")
    dlg = LoginDialog(hall_sqlite.db, hall_sqlite.node, "示例镇便民服务中心")
    qtbot.addWidget(dlg)
    dlg.show()

    def cancel() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, NewPasswordDialog):
            QTimer.singleShot(20, cancel)
            return
        box.reject()

    QTimer.singleShot(20, cancel)
    qtbot.keyClicks(dlg.staff_no, "c02")
    qtbot.keyClicks(dlg.password, "temporary-1")
    qtbot.keyClick(dlg.password, Qt.Key.Key_Return)
    assert dlg.actor is None and "须先设置自己的新密码" in dlg.error.text()


def test_the_form_is_what_the_service_gets(qtbot, admin_window):
    dialog = admin_window.open_staff_admin()
    qtbot.waitUntil(lambda: dialog.directory is not None, timeout=10_000)
    dialog.choose("c02")
    form = dialog.edit_selected()
    assert isinstance(form, StaffForm) and form.form().staff_no == "c02" and form.form().window_code == "W02"


def test_log_out_closes_the_window_for_the_next_person(qtbot, admin_window, monkeypatch):
    f = admin_window.intake
    admin_window.finder.search.setText("11")
    admin_window.finder.choose_current()
    f.name_edit.setText("未保存的申请人")
    f.id_edit.setText("32058119700707")
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: False)  # "not yet": the unsaved intake keeps it open
    file_menu = next(a.menu() for a in admin_window.menuBar().actions() if a.text() == "文件(&F)")
    next(a for a in file_menu.actions() if a.objectName() == "switchUserAction").trigger()
    assert admin_window.isVisible() and not admin_window.switch_user
    assert messages.shown[-1][0] == "有未保存的登记"
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    admin_window.log_out()
    assert not admin_window.isVisible() and admin_window.switch_user
