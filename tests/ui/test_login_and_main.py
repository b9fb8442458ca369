"""The first window: first-run admin password, login, the 11 windows and 76 items from the database."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from hall.services import staff
from hall.ui.login_dialog import FirstRunDialog, LoginDialog
from hall.ui.main_window import MainWindow
from hall.ui.ops import Changes, Context

pytestmark = pytest.mark.gui


def test_first_run_sets_the_admin_password(qtbot, fresh_hall):
    dlg = FirstRunDialog(fresh_hall.db, fresh_hall.system)
    qtbot.addWidget(dlg)
    dlg.password.setText("short")
    dlg.again.setText("short")
    dlg.save()
    assert "至少8位" in dlg.error.text() and dlg.result() != FirstRunDialog.DialogCode.Accepted
    dlg.password.setText("long-enough-1")
    dlg.again.setText("long-enough-2")
    dlg.save()
    assert "不一致" in dlg.error.text()
    dlg.again.setText("long-enough-1")
    dlg.save()
    assert dlg.result() == FirstRunDialog.DialogCode.Accepted
    with fresh_hall.db.transaction() as s:
        assert not staff.needs_admin(s)


def test_login_by_keyboard(qtbot, hall_sqlite):
    dlg = LoginDialog(hall_sqlite.db, hall_sqlite.node, "示例镇便民服务中心")
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.keyClicks(dlg.staff_no, "c02")
    qtbot.keyClicks(dlg.password, "wrong-password")
    qtbot.keyClick(dlg.password, Qt.Key.Key_Return)
    assert dlg.error.text() == "工号或密码不正确" and dlg.actor is None
    dlg.password.clear()
    qtbot.keyClicks(dlg.password, "clerk-pass-1")
    qtbot.keyClick(dlg.password, Qt.Key.Key_Return)
    assert dlg.actor is not None and dlg.actor.name == "王民政" and dlg.actor.window_code == "W02"


def test_main_window_lists_windows_and_finds_items_by_pinyin(qtbot, hall_sqlite):
    from conftest import actors_of

    actor = actors_of(hall_sqlite)["c02"]
    win = MainWindow(Context(hall_sqlite.db, hall_sqlite.node, actor, Changes()))
    qtbot.addWidget(win)
    assert win.window_list.count() == 12  # all + W01..W11
    assert win.window_list.currentItem().data(Qt.ItemDataRole.UserRole) == "W02"  # the clerk's own window
    assert all(win.table.item(r, 0).text() in {"07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17"}
               for r in range(win.table.rowCount()))
    qtbot.keyClicks(win.search, "dbsq")
    assert win.table.item(0, 1).text().startswith("最低生活保障申请")
    win.search.clear()
    win.window_list.setCurrentRow(0)
    assert win.table.rowCount() == 76
