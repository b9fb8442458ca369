"""The first window: first-run admin password, login, the 11 windows and 76 items from the database."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from hall.services.people import staff
from hall.ui.login_dialog import FirstRunDialog, LoginDialog
from hall.ui.main_window import MainWindow
from hall.ui.ops import ChangeSignal, Context

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


def test_main_window_lists_windows_and_finds_items_by_pinyin(qtbot, hall_sqlite, tmp_path):
    from hall_fixtures import actors_of

    actor = actors_of(hall_sqlite)["c02"]
    win = MainWindow(Context(hall_sqlite.db, hall_sqlite.node, actor, ChangeSignal()), tmp_path / "drafts")
    qtbot.addWidget(win)
    assert win.window_combo.count() == 12  # all + W01..W11
    assert win.window_combo.currentData() == "W02"  # the clerk's own window
    assert all(win.table.item(r, 0).text() in {"07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17"}
               for r in range(win.table.rowCount()))
    qtbot.keyClicks(win.search, "dbsq")
    assert win.table.item(0, 1).text().startswith("最低生活保障申请")
    win.search.clear()
    win.finder.select_window("")
    assert win.table.rowCount() == 76
    assert win.table.item(0, 0).text() == "07"  # all windows: the clerk's own window first


def test_every_window_is_one_keystroke_away(qtbot, hall_sqlite, tmp_path):
    from hall_fixtures import actors_of

    actor = actors_of(hall_sqlite)["c02"]
    win = MainWindow(Context(hall_sqlite.db, hall_sqlite.node, actor, ChangeSignal()), tmp_path / "drafts")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: win.isActiveWindow())
    keys = [Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4, Qt.Key.Key_5, Qt.Key.Key_6, Qt.Key.Key_7,
            Qt.Key.Key_8, Qt.Key.Key_9, Qt.Key.Key_0, Qt.Key.Key_Minus]
    for n, key in enumerate(keys, 1):
        qtbot.keyClick(win.search, key, Qt.KeyboardModifier.ControlModifier)
        assert win.window_combo.currentData() == f"W{n:02d}"
        assert {win.table.item(r, 0).text() for r in range(win.table.rowCount())}
    qtbot.keyClick(win.search, Qt.Key.Key_F3)
    assert win.tabs.currentIndex() == 1
    qtbot.keyClick(win.queue.table, Qt.Key.Key_F2)
    assert win.tabs.currentIndex() == 0
