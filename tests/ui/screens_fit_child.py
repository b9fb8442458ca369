"""Child process of test_screens_fit.py: every screen and main dialog on a 1366×768 screen at 150 % scaling.

Run as ``python screens_fit_child.py DATA_DIR`` with ``QT_QPA_PLATFORM=offscreen:configfile=…`` (a 2049×1152
screen) and ``QT_SCALE_FACTOR=1.5`` — both must be set before Qt starts, hence a process of its own. Prints one
JSON object: the windows checked and every problem found (off the free screen area, a label cut without a
tooltip).
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QElapsedTimer, QSize
from PySide6.QtWidgets import QLabel, QTabWidget, QWidget

TODAY = date(2026, 11, 20)
problems: list[str] = []
checked: list[str] = []


def settle(ms: int = 60) -> None:
    """Let background reads arrive and layouts run."""
    timer = QElapsedTimer()
    timer.start()
    while timer.elapsed() < ms:
        QCoreApplication.processEvents()


def label_problems(name: str, top: QWidget) -> list[str]:
    out = []
    for label in top.findChildren(QLabel):
        if not label.isVisibleTo(top) or not label.text().strip() or label.toolTip():
            continue
        if label.width() <= 1:
            continue  # not laid out
        text = label.text().replace("\n", " ")[:40]
        if label.wordWrap():
            need = label.heightForWidth(label.width())
            if need > label.height() + 2:
                out.append(f"{name}: label “{text}” needs {need}px, has {label.height()}px")
        elif label.sizeHint().width() > label.width() + 2 and label.minimumSizeHint().width() > label.width() + 2:
            out.append(f"{name}: label “{text}” cut: {label.sizeHint().width()}px in {label.width()}px")
    return out


def fit_problems(name: str, top: QWidget) -> list[str]:
    from hall.ui.screen_fit import FRAME_RESERVE, available

    out = []
    free = available(top)
    geo = top.frameGeometry()
    room = QSize(free.width() - FRAME_RESERVE.width(), free.height() - FRAME_RESERVE.height())
    if not free.contains(geo) or top.width() > room.width() or top.height() > room.height():
        out.append(f"{name}: {top.width()}×{top.height()} at {geo.x()},{geo.y()} does not fit "
                   f"{free.width()}×{free.height()} (room {room.width()}×{room.height()})")
    hint = top.minimumSizeHint()
    if hint.height() > room.height() or hint.width() > room.width():
        out.append(f"{name}: needs at least {hint.width()}×{hint.height()}")
    return out + label_problems(name, top)


def check(name: str, top: QWidget) -> None:
    top.show()
    settle()
    checked.append(name)
    found = fit_problems(name, top)
    if found:  # on a busy machine a background read may still be filling it in: what stays is a problem
        settle(500)
        found = fit_problems(name, top)
    problems.extend(found)


def main(data_dir: str) -> None:
    from hall_fixtures import actors_of

    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.catalog import items as catalog
    from hall.services.tickets import intake
    from hall.ui import messages
    from hall.ui.app import create_application
    from hall.ui.calendar_dialog import CalendarDialog
    from hall.ui.hall_info_dialog import HallInfoDialog
    from hall.ui.login_dialog import FirstRunDialog, LoginDialog
    from hall.ui.main_window import MainWindow
    from hall.ui.ops import ChangeSignal, Context
    from hall.ui.print_preview import PrintPreviewDialog
    from hall.ui.rating_screen import rating_screen_for
    from hall.ui.staff_admin import StaffAdminDialog
    from hall.ui.ticket_detail import TicketDetailDialog

    app = create_application(sys.argv[:1])
    messages.ask_hook = lambda title, _text: title != "恢复未保存的登记"
    opened = open_hall(Paths.resolve(Path(data_dir)))
    people = actors_of(opened)
    applicant = intake.ApplicantForm("person", "11010519491231002X", "欧阳建华", "13900001234", "南村2组")
    with opened.db.transaction() as s:
        item = catalog.current_item(s, "09")
        number = intake.register(s, people["c02"], intake.IntakeForm(
            "09", applicant, {m["name"]: "received" for m in item.materials}), now=datetime(2026, 11, 9, 9)).number

    def ctx(who: str) -> Context:
        return Context(opened.db, opened.node, people[who], ChangeSignal())

    login = LoginDialog(opened.db, opened.node, "示例镇便民服务中心")
    check("登录", login)
    check("首次使用（管理员密码）", FirstRunDialog(opened.db, opened.system))
    # The village laptop's window is the clerk's with another intake point: the three that differ.
    for who, role in (("c02", "窗口"), ("m01", "中心主任"), ("admin", "管理员")):
        win = MainWindow(ctx(who), today=lambda: TODAY)
        tabs = win.findChild(QTabWidget)
        # Every tab for the manager (who has them all); the other roles' own first screens.
        for i in range(tabs.count() if who == "m01" else 2):
            tabs.setCurrentIndex(i)
            check(f"主窗口（{role}）· {tabs.tabText(i)}", win)
        if who == "c02":
            win.finder.search.setText("lsjz")
            win.finder.choose_current()
            win.intake.id_edit.setText("110105194912310021")  # a bad check digit: the two-line error
            tabs.setCurrentIndex(0)
            check("收件登记（证件号码有误）", win)
            check("办件详情", TicketDetailDialog(win.ctx, number, win, today=lambda: TODAY))
            check("打印预览", PrintPreviewDialog(win, win.ctx, number, "acceptance"))
            check("服务评价", rating_screen_for(win.ctx, win))
        if who == "admin":
            check("本中心信息", HallInfoDialog(win.ctx, win))
            check("首次使用（本中心信息）", HallInfoDialog(win.ctx, win, first_run=True))
            check("工作人员", StaffAdminDialog(win.ctx, win))
            check("节假日与调休", CalendarDialog(win.ctx, win))
            from hall.ui.admin_catalog import CatalogAdminDialog
            from hall.ui.admin_notices import NoticesDialog
            from hall.ui.admin_points import PointsAdminDialog
            from hall.ui.admin_reports import ReportsDialog
            from hall.ui.backup_dialog import BackupDialog

            check("窗口与代办点", PointsAdminDialog(win.ctx, win))
            check("事项目录导入导出", CatalogAdminDialog(win.ctx, win))
            check("备份与恢复", BackupDialog(win.ctx, win, backups_dir=Path(data_dir) / "backups"))
            check("公开信息打印", NoticesDialog(win.ctx, win))
            check("报表导出", ReportsDialog(win.ctx, win, today=lambda: TODAY))
            import os

            from hall.services.storage import at_rest
            from hall.ui.encryption_dialog import EncryptionDialog, RecoveryDialog
            from hall.ui.encryption_runner import EnableDialog

            check("数据加密", EncryptionDialog(win.ctx, win, data_dir=Path(data_dir)))
            check("用恢复码恢复", RecoveryDialog(Path(data_dir), win))
            shown = EnableDialog(Path(data_dir), Path(data_dir) / "hall.sqlite3", parent=win, start=False)
            key = at_rest.DataKey(os.urandom(32))  # the code panel as it is shown once enabling has ended
            shown._enabled(at_rest.Enabled(key, at_rest.recovery_code(key), []))
            check("启用加密（恢复码）", shown)
        win.stop_daily_timers()
        win.hide()
    print(json.dumps({"checked": checked, "problems": problems}, ensure_ascii=False))
    app.quit()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # hall_fixtures
    main(sys.argv[1])
