"""No two things in one window, dialog or menu answer the same key (issue #14: the Alt+R collision).

Every window the program has is opened as its users meet it: the main window of each role (every page of it),
the ticket detail and each of its action dialogs, every dialog its menus open (found by triggering each menu item
and looking at what appeared — so a dialog added to a menu later is checked too), the login and password dialogs,
the print preview, the rating screen and the lock screen. The checker (tests/ui/shortcut_check.py) fails a test
that plants a duplicate.
"""

from __future__ import annotations

from datetime import date

import pytest
from hall_fixtures import rating_pad
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QPushButton, QWidget
from shortcut_check import collisions, mnemonic

from hall.ui import messages
from hall.ui.background import active_jobs
from hall.ui.main_window import MainWindow
from hall.ui.ops import ChangeSignal, Context

pytestmark = pytest.mark.gui

# Menu items that end the session or start a long job rather than open a window.
NOT_OPENED = {"switchUserAction", "quitAction", "dailyRunAction"}


@pytest.fixture(scope="module")
def hall(tmp_path_factory, _sqlite_template):
    """One hall for the whole module: nothing is saved here, every dialog is cancelled."""
    import shutil

    from hall_fixtures import actors_of

    from hall.paths import Paths
    from hall.services.bootstrap import open_hall

    data = tmp_path_factory.mktemp("shortcuts") / "data"
    shutil.copytree(_sqlite_template, data)
    opened = open_hall(Paths.resolve(data), None)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(messages, "shown", [])
        mp.setattr(messages, "ask_hook", lambda _t, _x: False)
        yield opened, actors_of(opened), data
    opened.db.dispose()


def _new_windows(before: set[int]) -> list[QWidget]:
    return [w for w in QApplication.topLevelWidgets() if w.isVisible() and id(w) not in before]


def _main_window(opened, actor, data) -> MainWindow:
    win = MainWindow(Context(opened.db, opened.node, actor, ChangeSignal()), data / "drafts",
                     today=lambda: date(2026, 11, 26))
    win.stop_daily_timers()
    win.show()
    return win


def _settle(qtbot) -> None:
    qtbot.waitUntil(lambda: active_jobs() == 0, timeout=20_000)


def _menu_dialogs(qtbot, win: MainWindow, titles: list[str]) -> list[str]:
    """Trigger every menu item that opens a window; check what appeared (its title added to ``titles``), close it
    again."""
    found: list[str] = []
    for menu_action in win.menuBar().actions():
        for act in menu_action.menu().actions():
            if act.isSeparator() or act.objectName() in NOT_OPENED or act.property("hall_page"):
                continue  # page switches (办件 menu) open no window
            before = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}
            seen: list[str] = []

            def look(before: set[int] = before, seen: list[str] = seen, act=act) -> None:
                opened = _new_windows(before)
                if not opened:
                    QTimer.singleShot(20, look)
                    return
                for w in opened:
                    seen.append(w.windowTitle())
                    found.extend(collisions(w, f"{act.text()} → {w.windowTitle()}"))
                    w.close()

            QTimer.singleShot(0, look)
            act.trigger()
            qtbot.waitUntil(lambda seen=seen: bool(seen), timeout=10_000)
            titles.extend(seen)
            _settle(qtbot)
    return found


@pytest.mark.parametrize("who", ["c02", "m01", "admin", "v01"])
def test_main_window_of_each_role_and_its_menu_dialogs(qtbot, hall, who):
    opened, people, data = hall
    win = _main_window(opened, people[who], data)
    try:
        _settle(qtbot)
        titles: list[str] = []
        problems = collisions(win, f"主窗口（{who}）") + _menu_dialogs(qtbot, win, titles)
    finally:
        win.close()
        win.deleteLater()
    assert problems == [], "\n".join(problems)
    if who == "admin":  # 节假日与调休, 本中心信息, 工作人员 — and whatever the 管理 menu offers later
        assert len(titles) >= 3, titles


def test_checker_finds_a_planted_duplicate(qtbot):
    w = QDialog()
    qtbot.addWidget(w)
    a, b = QPushButton("保存(&S)", w), QPushButton("查找(&S)", w)
    assert mnemonic(a.text()) == "S" and mnemonic("A&&B") is None
    assert len(collisions(w, "测试")) == 1
    b.setText("查找(&F)")
    assert collisions(w, "测试") == []
    del a


def _ticket(opened, clerk) -> str:
    from datetime import datetime, timedelta

    from hall.services.base.validators import id_check_char
    from hall.services.catalog import items as catalog
    from hall.services.tickets import intake

    body = "32058119620715123"
    person = intake.ApplicantForm("person", body + id_check_char(body), "钱桂英", "13900004321", "北村5组")
    with opened.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, "07").materials}
        return intake.register(s, clerk, intake.IntakeForm("07", person, marks),
                               now=datetime.now() - timedelta(days=2)).number


def test_ticket_detail_and_every_action_dialog(qtbot, hall):
    from hall.ui.ticket_detail import ActionDialog, TicketDetailDialog

    opened, people, _data = hall
    number = _ticket(opened, people["c02"])
    dlg = TicketDetailDialog(Context(opened.db, opened.node, people["c02"], ChangeSignal()), number)
    qtbot.addWidget(dlg)
    dlg.show()
    problems = collisions(dlg, "办件详情")
    for action in dlg.actions_:
        form = ActionDialog(action.label, action.fields, dlg)
        form.show()
        problems += collisions(form, f"办件详情 → {action.label}")
        form.close()
    assert problems == [], "\n".join(problems)


def test_login_password_staff_form_preview_rating_and_lock_screens(qtbot, hall):
    from hall.ui.idle_lock import LockScreen
    from hall.ui.login_dialog import FirstRunDialog, LoginDialog, NewPasswordDialog
    from hall.ui.print_preview import PrintPreviewDialog
    from hall.ui.rating_screen import RatingScreen
    from hall.ui.staff_admin import StaffAdminDialog

    opened, people, _data = hall
    admin_ctx = Context(opened.db, opened.node, people["admin"], ChangeSignal())
    staff_admin = StaffAdminDialog(admin_ctx)
    qtbot.addWidget(staff_admin)
    staff_admin.show()
    qtbot.waitUntil(lambda: staff_admin.directory is not None, timeout=10_000)
    windows: list[tuple[str, QWidget]] = [
        ("登录", LoginDialog(opened.db, opened.node, "示例")),
        ("首次使用", FirstRunDialog(opened.db, opened.system)),
        ("设置新密码", NewPasswordDialog(opened.db, people["c02"])),
        ("添加工作人员", staff_admin.add()),
        ("打印预览", PrintPreviewDialog(None, admin_ctx, _ticket(opened, people["c02"]), "acceptance")),
        ("评价器", RatingScreen(opened.db, rating_pad(opened))),
        ("空闲锁屏", LockScreen("示例", people["c02"])),
    ]
    problems = []
    for title, w in windows:
        qtbot.addWidget(w)
        w.show()
        problems += collisions(w, title)
        w.close()
    assert problems == [], "\n".join(problems)


def test_register_pages_applicant_picker_drill_and_crash_dialogs(qtbot, hall):
    """The registers' action forms (each page's own dialog), the returning-citizen picker, a dashboard drill-down
    and the crash report."""
    from hall.services.reporting.queue import ApplicantView, TicketFilter
    from hall.ui.crash import CrashDialog
    from hall.ui.dashboard import DrillDialog
    from hall.ui.intake_form import ApplicantPicker

    opened, people, data = hall
    win = _main_window(opened, people["m01"], data)
    problems: list[str] = []
    try:
        _settle(qtbot)
        forms = 0
        for name, page in win.registers.pages.items():
            for action in page.actions_.values():
                fields = action.fields()
                if not fields:
                    continue
                form = action.dialog(action.label, fields, page)
                form.show()
                problems += collisions(form, f"台账/{name} → {action.label}")
                form.close()
                forms += 1
        assert forms >= 5
        ctx = Context(opened.db, opened.node, people["m01"], ChangeSignal())
        person = ApplicantView("person", "11010519491231002X", "王秀英", "female", None, "", "")
        for title, w in (("选择老申请人", ApplicantPicker([person, person])),
                         ("明细", DrillDialog(ctx, TicketFilter(), date(2026, 11, 26), title="全部")),
                         ("意外错误", CrashDialog("report", data / "logs" / "hall.log"))):
            qtbot.addWidget(w)
            w.show()
            problems += collisions(w, title)
            w.close()
        _settle(qtbot)
    finally:
        win.close()
        win.deleteLater()
    assert problems == [], "\n".join(problems)
