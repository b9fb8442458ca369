"""Take screenshots of real Hall windows on a real display (run under xvfb-run) for docs/screenshots/.

Usage: xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python scripts/screenshot.py main OUT.png
       [--data-dir DIR] [--staff-no c01]
Logs in as the given staff member without a password prompt (this is a documentation tool, run by a developer
on their own data directory) and grabs the whole screen once the window has painted.

Scaled displays: ``QT_SCALE_FACTOR=1.5`` with an Xvfb screen 1.5 × as large (2049x1152 for 1366×768 logical) and
the same ``--size``. Stages that open a dialog (ticket, history, preview, calendar, hall-info, staff, first-run…)
show it over the main window where Qt and the window manager put it, so what is grabbed is what a clerk sees.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication

sys.path.insert(0, str(Path(__file__).parent))
from screenshot_admin import STAGES as ADMIN_STAGES
from screenshot_admin import WAIT_MS as ADMIN_WAIT_MS
from screenshot_admin import stage as admin_stage


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["main", "login", *WINDOW_STAGES, *ADMIN_STAGES, "first-run", "first-run-info",
                                    "rating", "inspector", "inspector-case"])
    p.add_argument("out")
    p.add_argument("--data-dir")
    p.add_argument("--staff-no", default="admin")
    p.add_argument("--size", default="1366x768")
    p.add_argument("--wait", type=int, default=1200, help="ms before the grab (longer for a slow, scaled stage)")
    p.add_argument("--today", help="YYYY-MM-DD: the day the queue counts from (demo ledgers end in the past)")
    args = p.parse_args()

    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.people import staff
    from hall.ui.app import create_application
    from hall.ui.ops import ChangeSignal, Context

    app = create_application(sys.argv[:1])
    if args.what == "join":  # a village laptop before its login: 申请加入 made in DIR (hall-admin sync request)
        return _join_stage(app, args)
    opened = open_hall(Paths.resolve(args.data_dir))
    with opened.db.transaction() as s:
        actor = staff.actor_for(staff.by_number(s, args.staff_no), opened.node)
    width, height = (int(v) for v in args.size.split("x"))
    if args.what in ("main", *WINDOW_STAGES, *ADMIN_STAGES, "first-run-info"):
        from datetime import date

        from hall.ui import messages
        from hall.ui.main_window import MainWindow

        # A documentation run answers its own questions: no draft offered back, quitting never blocks.
        messages.ask_hook = lambda title, _text: title != "恢复未保存的登记"
        day = date.fromisoformat(args.today) if args.today else date.today()
        win = MainWindow(Context(opened.db, opened.node, actor, ChangeSignal(), Paths.resolve(args.data_dir)),
                         today=lambda: day)
        from hall.ui.screen_fit import room

        free = room(win)  # what the window manager leaves: frame and title bar stay on the screen
        win.resize(min(width, free.width()), min(height, free.height()))
        win.move(0, 0)
        widget = win
        if args.what != "main":
            stage = {"intake": stage_intake, "queue": stage_queue, "search": stage_search, "history": stage_history,
                     "dashboard": lambda w: w.go_dashboard(), "stats": lambda w: w.go_stats(),
                     "registers": lambda w: w.go_registers(), "hall-info": lambda w: w.open_hall_info(),
                     "staff": lambda w: w.open_staff_admin(), "ticket": stage_ticket, "preview": stage_preview,
                     "ticket-in-progress": stage_ticket_in_progress,
                     "calendar": stage_calendar,
                     "first-run-info": lambda w: w.open_hall_info(first_run=True),
                     "detail-action": stage_detail_action, "action-error": stage_action_error,
                     "lock": stage_lock,
                     "petition": stage_petition, "reception": stage_reception,
                     "sync": stage_sync,
                     **{n: (lambda w, n=n: admin_stage(n, w)) for n in ADMIN_STAGES},
                     "catalog-warnings": lambda w: w.open_catalog_view().view.only_flagged.setChecked(True),
                     "extend": stage_extend,
                     "conflict": stage_conflict,
                     "conflict-resolved": lambda w: stage_conflict(w, resolved=True)}[args.what]
            QTimer.singleShot(300, lambda: stage(win))
    elif args.what in ("inspector", "inspector-case"):
        from datetime import date

        from hall.ui.inspector_window import InspectorWindow

        day = date.fromisoformat(args.today) if args.today else date.today()
        win = InspectorWindow(Context(opened.db, opened.node, actor, ChangeSignal(), Paths.resolve(args.data_dir)),
                              today=lambda: day)
        win.resize(width, height)
        win.move(0, 0)
        widget = win
        QTimer.singleShot(300, lambda: stage_inspector(win, args.what == "inspector-case"))
    elif args.what == "first-run":
        from hall.ui.login_dialog import FirstRunDialog

        widget = FirstRunDialog(opened.db, opened.system)
    elif args.what == "rating":
        widget = stage_rating(opened, actor, width, height)
    else:
        from hall.ui.login_dialog import LoginDialog

        widget = LoginDialog(opened.db, opened.node, "示例镇便民服务中心")
    widget.show()

    def grab() -> None:
        screen = QGuiApplication.primaryScreen()
        image = screen.grabWindow(0)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        image.save(args.out)
        app.quit()

    QTimer.singleShot(max(args.wait, ADMIN_WAIT_MS.get(args.what, 0)), grab)  # admin stages run a job first
    app.exec()
    return 0


WINDOW_STAGES = ("intake", "queue", "history", "ticket", "preview", "dashboard", "stats", "registers", "calendar",
                 "hall-info", "staff", "detail-action", "action-error", "lock", "petition", "reception", "sync", "join",
                 "conflict", "conflict-resolved", "catalog-warnings", "extend", "ticket-in-progress", "search")


def _a_ticket(win, state: str = "supplement") -> str | None:  # type: ignore[no-untyped-def]
    from hall.services.reporting import queue
    from hall.services.reporting.queue import TicketFilter

    # The queue's own model loads in the background; the script picks its ticket with the service directly.
    with win.ctx.db.reading() as s:
        rows = queue.page(s, TicketFilter(state=state), today=win._today(), limit=1).rows \
            or queue.page(s, TicketFilter(), today=win._today(), limit=1).rows
    return rows[0].number if rows else None


def stage_ticket(win) -> None:  # type: ignore[no-untyped-def]
    """The detail of a promised ticket in progress, as the clerk opens it from the queue."""
    win.go_queue()
    if number := _a_ticket(win, "accepted"):
        win.open_ticket(number)


def stage_ticket_in_progress(win) -> None:  # type: ignore[no-untyped-def]
    """The detail of a ticket being handled (on a laptop: one a hall counter acted on, from the return bundle)."""
    win.go_queue()
    if number := _a_ticket(win, "in_progress"):
        win.open_ticket(number)


def stage_preview(win) -> None:  # type: ignore[no-untyped-def]
    """The print preview of a ticket's first paper, as it opens (size and place of Qt's choosing)."""
    from hall.ui.print_preview import PrintPreviewDialog
    from hall.ui.ticket_detail import papers_for_state

    win.go_queue()
    number = _a_ticket(win, "accepted")
    if number is None:
        return
    with win.ctx.db.reading() as s:
        from hall.services.tickets import record

        t = record.get(s, number)
        state, kind = t.state, t.kind
    dlg = PrintPreviewDialog(win, win.ctx, number, papers_for_state(state, kind)[0])
    dlg.show()


def stage_calendar(win) -> None:  # type: ignore[no-untyped-def]
    from hall.ui.calendar_dialog import CalendarDialog

    CalendarDialog(win.ctx, win).show()


def stage_rating(opened, actor, width: int, height: int):  # type: ignore[no-untyped-def]
    """The citizen's screen asking for a rating, on a single-monitor PC (an ordinary window)."""
    from datetime import date

    from hall.services.registers.ratings import RatingInvite
    from hall.services.reporting import queue
    from hall.services.reporting.queue import TicketFilter
    from hall.ui.ops import ChangeSignal, Context
    from hall.ui.rating_screen import rating_screen_for

    ctx = Context(opened.db, opened.node, actor, ChangeSignal())
    with opened.db.reading() as s:
        rows = queue.page(s, TicketFilter(), today=date.today(), limit=1).rows
    screen = rating_screen_for(ctx, None)
    if rows:
        screen.show_invite(RatingInvite("screenshot", rows[0].number, rows[0].item_name, "closure", "办结评价",
                                        actor.window_code or "W01", actor.name))
    return screen
def _join_stage(app, args) -> int:  # type: ignore[no-untyped-def]
    from hall.paths import Paths
    from hall.ui.sync_enrol import LaptopEnrolDialog

    width, height = (int(v) for v in args.size.split("x"))
    dialog = LaptopEnrolDialog(Paths.resolve(args.data_dir))
    dialog.move(max(0, (width - dialog.width()) // 2), max(0, (height - dialog.height()) // 3))
    dialog.result.setText(dialog.tr("已生成登记申请文件 {0}.hallreq：请交给中心管理员登记，并核对下面的指纹。"
                                    "拿到开通文件后点“加入…”。").format(dialog.point.text()))
    dialog.show()

    def grab() -> None:
        image = QGuiApplication.primaryScreen().grabWindow(0)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        image.save(args.out)
        app.quit()

    QTimer.singleShot(1200, grab)
    app.exec()
    return 0


def stage_sync(win) -> None:  # type: ignore[no-untyped-def]
    """管理 → 同步… at the hall, 同步 on a laptop: the window maximised over the main window."""
    dialog = win.open_sync()
    dialog.resize(win.width() - 40, win.height() - 60)
    dialog.move(20, 30)


def stage_intake(win) -> None:  # type: ignore[no-untyped-def]
    """A promised item half-way: applicant typed, two materials received, the rest to be supplied."""
    from PySide6.QtWidgets import QApplication

    win.finder.search.setText("lsjz")
    win.finder.choose_current()
    f = win.intake
    f.id_edit.setText("11010519491231002X")
    f.name_edit.setText("王秀英")
    f.phone_edit.setText("13912345678")
    f.address_edit.setText("东村3组")
    for name in [m["name"] for m in f.item.materials][:3]:
        f.statuses[name] = "received"
    f._show_materials()
    f._refresh_deadline()
    QApplication.processEvents()


def stage_queue(win) -> None:  # type: ignore[no-untyped-def]
    win.go_queue()


def stage_search(win) -> None:  # type: ignore[no-untyped-def]
    """The queue searched (by a surname unless HALL_SHOT_SEARCH says what): a search looks through every status;
    HALL_SHOT_ALL=1 picks 全部 as well. At 1M on a ledger whose daily rules never ran give it --wait 25000."""
    win.go_queue()
    view = win.queue
    if os.environ.get("HALL_SHOT_ALL"):
        view.status.setCurrentIndex(view.status.findData("all"))
    view.search.setText(os.environ.get("HALL_SHOT_SEARCH", "王"))


def stage_history(win) -> None:  # type: ignore[no-untyped-def]
    """A ticket awaiting 补正 worked through the detail screen (writes to the data directory: use a copy)."""
    win.go_queue()
    number = _a_ticket(win)
    if number is None:
        return
    dlg = win.open_ticket(number)
    dlg.perform("supplement", {})
    dlg.reveal()
    dlg.move(90, 30)
    dlg.resize(1180, 700)


def _open_ticket(win, state: str):  # type: ignore[no-untyped-def]
    from hall.services.reporting import queue
    from hall.services.reporting.queue import TicketFilter

    win.go_queue()
    with win.ctx.db.reading() as s:
        rows = queue.page(s, TicketFilter(state=state), today=win._today(), limit=1).rows \
            or queue.page(s, TicketFilter(), today=win._today(), limit=1).rows
    if not rows:
        return None
    dlg = win.open_ticket(rows[0].number)
    dlg.move(90, 30)
    dlg.resize(1180, 700)
    return dlg


def stage_detail_action(win) -> None:  # type: ignore[no-untyped-def]
    """After an action (暂停计时 for 补正): the header says 已暂停, refused buttons are greyed, the focus rests on the
    history (writes to the data directory: use a copy)."""
    dlg = _open_ticket(win, "in_progress")
    if dlg is not None and dlg.buttons["pause"].isEnabled():
        dlg.perform("pause", {"materials": "近三个月收入证明", "reason": "收入证明不全"})


def stage_action_error(win) -> None:  # type: ignore[no-untyped-def]
    """An action dialog refusing a value in place, with what was typed kept."""
    from hall.ui.ticket_detail import ActionDialog

    dlg = _open_ticket(win, "in_progress")
    if dlg is None:
        return
    action = next(a for a in dlg.actions_ if a.name == "extend")
    box = ActionDialog(f"{action.label} — {dlg.number}", action.fields, dlg)
    box.submit = lambda values: dlg.attempt("extend", values, parent=box)
    box.show()
    box.move(320, 200)
    box.inputs["reason"].setPlainText("需入户调查核实家庭收入")
    box.inputs["approver"].setText("c03")
    box.accept()
    from PySide6.QtCore import QTimer

    QTimer.singleShot(300, lambda: (box.raise_(), box.activateWindow()))  # above the detail the WM raised


def stage_lock(win) -> None:  # type: ignore[no-untyped-def]
    """The idle lock over a half-typed intake."""
    stage_intake(win)
    win.idle_lock.lock()
def stage_petition(win) -> None:  # type: ignore[no-untyped-def]
    """信访: every case listed, the first one with its 四定一包 and hearing open in the detail pane."""
    win.go_petitions()
    page = win.petitions.cases
    pick = {"done": False}

    def first(*_args: object) -> None:
        if not pick["done"] and page.model.rowCount():
            pick["done"] = True
            page.table.selectRow(0)

    page.counted.connect(first)
    combo = page.choices["scope"]
    combo.setCurrentIndex(combo.findData("all"))


def stage_reception(win) -> None:  # type: ignore[no-untyped-def]
    win.go_petitions()
    win.petitions.setCurrentWidget(win.petitions.reception)
def stage_inspector(win, case: bool) -> None:  # type: ignore[no-untyped-def]
    """效能监察: the deemed-consent list (the first tab with rows), or one case read-only with its dates."""
    win.tabs.setCurrentWidget(win.inspector)
    view = win.inspector

    def show() -> None:
        for key in ("deemed", "overdue", "records", "departments"):
            if view.tables[key].rowCount():
                view.tabs.setCurrentWidget(view.tables[key])
                break
        if case:
            number = next((view._number(k, 0) for k in ("deemed", "overdue", "records")
                           if view.tables[k].rowCount()), "")
            if number:
                dlg = win.open_ticket(number)
                dlg.move(90, 30)
                dlg.resize(1180, 700)
                dlg.dates.setCurrentCell(min(1, dlg.dates.rowCount() - 1), 0)

    QTimer.singleShot(500, show)
def stage_extend(win) -> None:  # type: ignore[no-untyped-def]
    """申请延期 from a clerk's ticket: the manager types their own password (the service checks it); a wrong one
    is refused with the typed values kept (writes nothing unless the password is right: use a copy)."""
    from hall.services.reporting import queue
    from hall.services.reporting.queue import TicketFilter
    from hall.ui.ticket_detail import ActionDialog

    win.go_queue()
    with win.ctx.db.reading() as s:
        rows = queue.page(s, TicketFilter(state="accepted"), today=win._today(), limit=1).rows
    if not rows:
        return
    detail = win.open_ticket(rows[0].number)
    detail.move(40, 20)
    action = next(a for a in detail.actions_ if a.name == "extend")
    dlg = ActionDialog(f"{action.label} — {detail.number}", action.fields, detail,
                       submit=lambda values: detail.attempt("extend", values, parent=dlg))
    dlg.inputs["reason"].setPlainText("需入户调查核实家庭收入情况")
    dlg.inputs["approver"].setText("M001")
    dlg.inputs["approver_password"].setText("wrong-pass")
    win.shot_dialog = dlg  # kept alive until the grab
    dlg.move(380, 160)

    def show() -> None:
        dlg.show()
        dlg.raise_()
        dlg.accept()  # refused: the reason is shown above the buttons, everything typed stays

    QTimer.singleShot(200, show)
def stage_conflict(win, resolved: bool = False) -> None:  # type: ignore[no-untyped-def]
    """The detail of a ticket in sync conflict (the demo walkthrough leaves one open): both branches side by side.
    ``resolved``: the newest resolved one instead (the branch not kept labelled 未生效)."""
    from hall.services.sync import conflicts

    with win.ctx.db.reading() as s:
        found = [c for c in conflicts.listing(s, open_only=not resolved) if not resolved or not c.is_open]
    if not found:
        return
    dlg = win.open_ticket(found[0].number)
    dlg.move(90, 30)
    dlg.resize(1180, 720)


if __name__ == "__main__":
    sys.exit(main())
