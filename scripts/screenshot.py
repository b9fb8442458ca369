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
    p.add_argument("what", choices=["main", "login"])
    p.add_argument("out")
    p.add_argument("--data-dir")
    p.add_argument("--staff-no", default="admin")
    p.add_argument("--size", default="1366x768")
    args = p.parse_args()

    from hall.paths import Paths
    from hall.services import staff
    from hall.services.bootstrap import open_hall
    from hall.ui.app import create_application
    from hall.ui.ops import Changes, Context

    app = create_application(sys.argv[:1])
    opened = open_hall(Paths.resolve(args.data_dir))
    with opened.db.transaction() as s:
        actor = staff.actor_for(staff._by_no(s, args.staff_no), opened.node)
    width, height = (int(v) for v in args.size.split("x"))
    if args.what == "main":
        from hall.ui.main_window import MainWindow

        widget = MainWindow(Context(opened.db, opened.node, actor, Changes()))
        widget.resize(width, height)
        widget.move(0, 0)
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


if __name__ == "__main__":
    sys.exit(main())
