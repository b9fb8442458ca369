"""Take screenshots of real Hall windows on a real display (run under xvfb-run) for docs/screenshots/.

Usage: xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python scripts/screenshot.py main OUT.png
       [--data-dir DIR] [--staff-no c01]
Logs in as the given staff member without a password prompt (this is a documentation tool, run by a developer
on their own data directory) and grabs the whole screen once the window has painted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["main", "login", "intake", "queue", "history", "dashboard", "stats",
                                    "registers", "hall-info", "staff", "conflict"])
    p.add_argument("out")
    p.add_argument("--data-dir")
    p.add_argument("--staff-no", default="admin")
    p.add_argument("--size", default="1366x768")
    p.add_argument("--today", help="YYYY-MM-DD: the day the queue counts from (demo ledgers end in the past)")
    args = p.parse_args()

    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.people import staff
    from hall.ui.app import create_application
    from hall.ui.ops import ChangeSignal, Context

    app = create_application(sys.argv[:1])
    opened = open_hall(Paths.resolve(args.data_dir))
    with opened.db.transaction() as s:
        actor = staff.actor_for(staff.by_number(s, args.staff_no), opened.node)
    width, height = (int(v) for v in args.size.split("x"))
    if args.what in ("main", "intake", "queue", "history", "dashboard", "stats", "registers", "hall-info", "staff",
                     "conflict"):
        from datetime import date

        from hall.ui import messages
        from hall.ui.main_window import MainWindow

        # A documentation run answers its own questions: no draft offered back, quitting never blocks.
        messages.ask_hook = lambda title, _text: title != "恢复未保存的登记"
        day = date.fromisoformat(args.today) if args.today else date.today()
        win = MainWindow(Context(opened.db, opened.node, actor, ChangeSignal()), today=lambda: day)
        win.resize(width, height)
        win.move(0, 0)
        widget = win
        if args.what != "main":
            stage = {"intake": stage_intake, "queue": stage_queue, "history": stage_history,
                     "dashboard": lambda w: w.go_dashboard(), "stats": lambda w: w.go_stats(),
                     "registers": lambda w: w.go_registers(), "hall-info": lambda w: w.open_hall_info(),
                     "staff": lambda w: w.open_staff_admin(), "conflict": stage_conflict}[args.what]
            QTimer.singleShot(300, lambda: stage(win))
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

    QTimer.singleShot(1200, grab)
    app.exec()
    return 0


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


def stage_history(win) -> None:  # type: ignore[no-untyped-def]
    """A ticket awaiting 补正 worked through the detail screen (writes to the data directory: use a copy)."""
    from hall.services.reporting import queue
    from hall.services.reporting.queue import TicketFilter

    win.go_queue()
    # The queue's own model loads in the background; the script picks its ticket with the service directly.
    with win.ctx.db.reading() as s:
        rows = queue.page(s, TicketFilter(state="supplement"), today=win._today(), limit=1).rows \
            or queue.page(s, TicketFilter(), today=win._today(), limit=1).rows
    if not rows:
        return
    dlg = win.open_ticket(rows[0].number)
    dlg.perform("supplement", {})
    dlg.reveal()
    dlg.move(90, 30)
    dlg.resize(1180, 700)


def stage_conflict(win) -> None:  # type: ignore[no-untyped-def]
    """The detail of a ticket in sync conflict (the demo walkthrough leaves one open): both branches side by side."""
    from hall.services.sync import conflicts

    with win.ctx.db.reading() as s:
        found = conflicts.listing(s)
    if not found:
        return
    dlg = win.open_ticket(found[0].number)
    dlg.move(90, 30)
    dlg.resize(1180, 720)


if __name__ == "__main__":
    sys.exit(main())
