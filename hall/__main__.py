"""`hall`: the composition root — args → paths → logging → crash hook → database → Qt → login → main window."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from hall import __version__


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="hall", description="Hall 便民服务中心办件系统")
    p.add_argument("--data-dir", help="数据目录（默认按系统约定；也可用环境变量 HALL_HOME）")
    p.add_argument("--db", help="数据库地址，如 postgresql://user:pw@server/hall；默认本机 SQLite")
    p.add_argument("--intake-point", help="本机受理点编码（000 大厅，001 起为村代办点）")
    p.add_argument("--village-laptop", action="store_true",
                   help="村代办点电脑首次启动：申请加入中心、用开通文件加入（数据目录须为空）")
    p.add_argument("--version", action="version", version=f"Hall {__version__}")
    p.add_argument("--verbose", action="store_true", help="详细日志")
    return p.parse_known_args(argv)[0]  # Qt's own options (-platform …) pass through


def main(argv: Sequence[str] | None = None) -> int:
    import multiprocessing

    # A bundled (frozen) Hall started as a child process — an Excel export, hall/exchange/export_process.py —
    # runs the child's work here and exits; in every other start this does nothing.
    multiprocessing.freeze_support()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import os

    from hall.paths import Paths

    paths = Paths.resolve(args.data_dir).ensure()
    from hall.logging_setup import configure

    log_path = configure(paths.logs_dir, verbose=args.verbose)
    log = logging.getLogger("hall.main")

    from hall.ui.app import create_application

    app = create_application([sys.argv[0], *(argv or sys.argv[1:])])
    from hall.ui import crash, messages

    crash.install(log_path)
    if os.environ.get("HALL_STARTUP_PROBE"):
        # A measured or scripted start answers no dialog: each message is printed instead of waiting for a person.
        def _print_message(title: str, text: str) -> bool:
            print(f"message: {title}: {text.splitlines()[0]}", flush=True)
            return False

        messages.ask_hook = _print_message
    from hall.errors import DatabaseError, HallError
    from hall.services.storage.node import NodeIdentity
    from hall.ui.login_dialog import FirstRunDialog, LoginDialog
    from hall.ui.startup import BackgroundOpen

    if _awaiting_join(paths.data_dir) or (args.village_laptop and not (paths.data_dir / "sync_keys.json").exists()):
        # A village laptop joins its hall before anyone can log in: its staff come with the provisioning file.
        from hall.ui.sync_enrol import LaptopEnrolDialog

        if LaptopEnrolDialog(paths).exec() != LaptopEnrolDialog.DialogCode.Accepted:
            return 0
    try:
        node = NodeIdentity.load_or_create(paths.node_file, args.intake_point)
    except HallError as exc:
        messages.error(None, app.translate("main", "无法启动"), str(exc))
        return 2
    from hall.ui.connections import SavedConnections, SecretStore, first_target

    if _key_missing(paths.data_dir):
        # An encrypted folder whose key is not on this PC (a new PC, a reinstalled system): the recovery code puts
        # it back before anything tries to open the ledger. Cancelled, the opening below says what is missing.
        if os.environ.get("HALL_STARTUP_PROBE"):
            print("recovery: asked", flush=True)  # a scripted start types no code
        else:
            from hall.ui.encryption_dialog import RecoveryDialog

            RecoveryDialog(paths.data_dir).exec()
    saved, secrets = SavedConnections(), SecretStore()
    # --db (or HALL_DB), else the connection used last — opened while the login dialog is up, unless that saved
    # server's password must be typed first.
    start, target = first_target(args.db or os.environ.get("HALL_DB"), saved, secrets)

    def open_database(url: str | None) -> BackgroundOpen:
        job = BackgroundOpen(paths, url, args.intake_point)
        job.start()
        return job

    login = LoginDialog(None, node, "", opening=open_database(target) if start else None, connections=saved,
                        secrets=secrets, open_database=open_database, target=target)
    login.show()
    probe = os.environ.get("HALL_STARTUP_PROBE")  # benchmarks/bench_startup.py: "login" or "main:NO:PASSWORD"
    if probe:
        _probe_login(login, probe)
    outcome = login.exec()
    opening = login.opening  # the database finally chosen in the dialog
    if opening is None:
        return 0  # closed before any database was chosen
    try:
        opened = opening.wait_result()
    except DatabaseError as exc:
        text = str(exc)
        if exc.backup_hint:
            text += "\n\n" + app.translate("main", "最近的备份位于：") + str(paths.backups_dir)
        messages.error(None, app.translate("main", "无法打开数据库"), text)
        return 2
    except HallError as exc:
        messages.error(None, app.translate("main", "无法启动"), str(exc))
        return 2
    from hall.services.storage.dburl import masked

    where = masked(opening.url) if opening.url else str(paths.database_file)
    log.info("hall %s started, data dir %s, database %s", __version__, paths.data_dir, where)
    first_run = outcome == LoginDialog.NEEDS_ADMIN
    if first_run:
        if FirstRunDialog(opened.db, opened.system).exec() != FirstRunDialog.DialogCode.Accepted:
            return 0
        login = LoginDialog(opened.db, node, opening.hall_name)
        outcome = login.exec()
    if outcome != LoginDialog.DialogCode.Accepted or login.actor is None:
        opened.db.dispose()
        return 0
    from hall.ui.inspector_window import InspectorWindow
    from hall.ui.live import LiveFeed
    from hall.ui.main_window import MainWindow
    from hall.ui.ops import ChangeSignal, Context

    actor = login.actor
    code = 0
    while actor is not None:
        ctx = Context(opened.db, opened.node, actor, ChangeSignal(), paths)
        # Before the window reads anything: a change another counter commits while it is being built is not
        # missed.
        live = LiveFeed(ctx)
        live.feed.wait_ready(1.0)  # its first mark (a few ms); whatever commits after it is heard
        window = InspectorWindow(ctx) if actor.is_inspector else MainWindow(ctx)  # 效能监察员: read-only
        window.show()
        if first_run and actor.role == "admin":  # the set-up's second step: what every paper will say
            window.open_hall_info(first_run=True)
        first_run = False
        if probe:
            _probe_main_window(app, window)
        code = app.exec()
        live.stop()
        actor = None
        # The inspector's window has neither request (it offers no 管理 menu).
        if getattr(window, "restore_from", None) is not None:  # 管理 → 备份与恢复: close, restore, open again
            from hall.ui.restore_runner import restore_then_reopen

            log.info("restore requested")
            window.deleteLater()
            try:
                opened = restore_then_reopen(paths, opening.url, args.intake_point, opened, window.restore_from)
            except HallError as exc:
                messages.error(None, app.translate("main", "无法打开数据库"), str(exc))
                return 2
            again = LoginDialog(opened.db, node, opening.hall_name)
            if again.exec() == LoginDialog.DialogCode.Accepted:
                actor = again.actor
        elif getattr(window, "encrypt_requested", False):  # 管理 → 数据加密: close, encrypt, open again
            from hall.ui.encryption_runner import encrypt_then_reopen

            log.info("encryption requested")
            window.deleteLater()
            try:
                opened = encrypt_then_reopen(paths, opening.url, args.intake_point, opened, window.hall_name)
            except HallError as exc:
                messages.error(None, app.translate("main", "无法打开数据库"), str(exc))
                return 2
            again = LoginDialog(opened.db, node, window.hall_name or opening.hall_name)
            if again.exec() == LoginDialog.DialogCode.Accepted:
                actor = again.actor
        elif window.switch_user:  # 文件 → 注销/切换用户: the same database, the next person logs in
            log.info("switch user")
            window.deleteLater()
            again = LoginDialog(opened.db, node, window.hall_name or opening.hall_name)
            if again.exec() == LoginDialog.DialogCode.Accepted:
                actor = again.actor
    opened.db.dispose()
    return code


def _key_missing(data_dir: Path) -> bool:
    """An encrypted data folder whose key is not on this PC. A plain folder costs one stat: the encryption module
    (and SQLCipher's library) is loaded only for a folder that has an ``encryption.json``."""
    if not (data_dir / "encryption.json").exists():
        return False
    from hall.services.storage import encryption

    return encryption.needs_recovery(data_dir)


def _awaiting_join(data_dir: Path) -> bool:
    """A laptop that asked to join and was not provisioned yet (read without loading the crypto library: it
    would cost every start a tenth of a second; hall/ui/sync_enrol.py reads the keys properly)."""
    import json

    try:
        found = json.loads((data_dir / "sync_keys.json").read_text(encoding="utf-8"))
        return found.get("role") == "laptop" and not found.get("hall")
    except (OSError, ValueError, AttributeError):
        return False


def _probe_login(login, probe: str) -> None:  # type: ignore[no-untyped-def]
    """Report when the first window can take input (the event loop is running with it shown)."""
    from PySide6.QtCore import QTimer

    def submit() -> None:
        _, staff_no, password = probe.split(":", 2)
        login.staff_no.setText(staff_no)
        login.password.setText(password)
        print("submitted: login", flush=True)
        login.try_login()

    def ready() -> None:
        print("interactive: login", flush=True)
        if not probe.startswith("main:"):
            login.reject()
        elif login.opening is not None and login.opening.result is None:
            # A person takes longer to type than the ledger takes to open: submit once it is open.
            login.opening.done.connect(lambda: QTimer.singleShot(0, submit))
        else:
            submit()

    QTimer.singleShot(0, ready)


def _probe_main_window(app, window) -> None:  # type: ignore[no-untyped-def]
    """Report when the main window takes input, then when its screens have filled in (every background read
    the window started has been delivered: the queue's first page and counts, the manager's dashboard)."""
    from PySide6.QtCore import QTimer

    from hall.ui.background import active_jobs

    def filled() -> bool:
        board = getattr(window, "dashboard", None)
        return active_jobs() == 0 and (board is None or board.snapshot is not None)

    poll = QTimer(window)
    poll.setInterval(5)

    def check() -> None:
        if filled():
            poll.stop()
            print("filled: main", flush=True)
            app.quit()

    def ready() -> None:
        print("interactive: main", flush=True)
        poll.timeout.connect(check)
        poll.start()

    QTimer.singleShot(0, ready)


if __name__ == "__main__":
    sys.exit(main())
