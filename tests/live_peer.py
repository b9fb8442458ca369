"""Another counter, as a real process: what the live-refresh tests and ``benchmarks/bench_live.py`` talk to.

``window`` — a real Hall program, composed as ``hall/__main__.py`` composes it (the hall opened, the live feed
started, the main window shown; offscreen), logged in as ``--staff`` without the dialog. It reads JSON commands,
one a line, on stdin and writes JSON lines on stdout (``t`` is ``time.monotonic()``, one clock for every process
of the machine):

- ``{"cmd": "expect", "id": K, "queue_has": NUMBER | "queue_lacks": NUMBER | "queue_new": true (a number the
  queue does not show now) | "open": N | "title_has": TEXT |
  "finder_has": TEXT | "due_not": TEXT}`` → ``{"ev": "expecting", "id": K}`` at once, then
  ``{"ev": "seen", "id": K, "what": …, "t": …}`` the moment the screen
  shows it (each condition reported once; the queue checked whenever its model has loaded, the dashboard whenever
  it has drawn, the rest every 20 ms);
- ``{"cmd": "state"}`` → ``{"ev": "state", …}``: what the screens show and the feed's counters;
- ``{"cmd": "load_item", "code": C}``: the intake form takes item C (as a clerk's choice in the finder would);
- ``{"cmd": "save", "clerk": NO, "item": C, "seed": I}`` → ``{"ev": "saved", "number": …}``: a save made here, as
  the intake form's 保存 makes it (one operation, announced by itself);
- ``{"cmd": "quit"}``.

It also writes ``{"ev": "live", …}`` for every change the feed announced. Nothing in B is clicked or refreshed by
hand: whatever changes on its screens came through the feed.

``save`` — a one-shot counter that opens the hall, saves one ticket as ``--clerk`` and prints its number.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

SAVE_ITEM = "09"  # 临时救助申请: a promised item of W02 (c02's window), every material received → accepted, open


def person(i: int) -> Any:
    from hall.services.base.validators import id_check_char
    from hall.services.tickets import intake

    body = f"320581{date(1950, 1, 1) + timedelta(days=i % 18000):%Y%m%d}{i % 1000:03d}"
    given = "甲乙丙丁戊己庚辛壬癸"[i % 10] + "子丑寅卯辰巳午未申酉戌亥"[i // 10 % 12]
    return intake.ApplicantForm("person", body + id_check_char(body), "王" + given, "13800000000", "东村3组")


def form(session: Any, code: str, i: int) -> Any:
    from hall.services.catalog import items as catalog
    from hall.services.tickets import intake

    marks = {m["name"]: "received" for m in catalog.current_item(session, code).materials}
    return intake.IntakeForm(code, person(i), marks)


def _say(**fields: Any) -> None:
    print(json.dumps(fields, ensure_ascii=False), flush=True)


def summary(changes: Any) -> dict[str, Any]:
    return {"tickets": sorted(changes.tickets), "history": len(changes.history), "registers": sorted(changes.registers),
            "catalog": changes.catalog, "calendar": changes.calendar, "settings": changes.settings,
            "staff": changes.staff, "all_tickets": changes.all_tickets}


# ------------------------------------------------------------------------------------------- a window
def window(args: argparse.Namespace) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QObject, Qt, QTimer, Signal

    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.people import staff
    from hall.ui import messages
    from hall.ui.app import create_application
    from hall.ui.background import active_jobs
    from hall.ui.live import LiveFeed
    from hall.ui.main_window import MainWindow
    from hall.ui.ops import ChangeSignal, Context
    from hall.ui.ticket_table_model import COL_RECEIVED

    app = create_application([sys.argv[0]])
    messages.ask_hook = lambda _t, _x: True  # a draft offered back, a question: nobody is there to answer
    paths = Paths.resolve(args.data_dir)
    opened = open_hall(paths, args.db)
    with opened.db.reading() as s:
        actor = staff.actor_for(staff.by_number(s, args.staff), opened.node)
    ctx = Context(opened.db, opened.node, actor, ChangeSignal(), paths)
    options = {"retry_s": tuple(float(x) for x in args.retry_s.split(","))} if args.retry_s else {}
    live = LiveFeed(ctx, **options)  # as the composition root: the feed first, then the window
    live.feed.wait_ready(10)
    win = MainWindow(ctx)
    win.stop_daily_timers()  # the figures are the feed's: no daily run of this program's own meanwhile
    win.show()
    if win.dashboard is not None:
        win.go_dashboard()  # on screen: a hidden dashboard only marks itself stale
    # Newest first: a ticket saved elsewhere lands on the first page (the order a clerk picks with one click).
    win.queue.table.sortByColumn(COL_RECEIVED, Qt.SortOrder.DescendingOrder)

    expectations: dict[Any, dict[str, Any]] = {}

    def queue_numbers() -> set[str]:
        m = win.queue.model
        return {row.number for i in range(m.rowCount()) if (row := m.row_at(i)) is not None}

    def check(kinds: tuple[str, ...]) -> None:
        now = time.monotonic()
        numbers = queue_numbers() if {"queue_has", "queue_lacks", "queue_new"} & set(kinds) else set()
        board = win.dashboard.snapshot if win.dashboard is not None else None
        for k, conds in list(expectations.items()):
            for what in [w for w in conds if w in kinds]:
                want = conds[what]
                met = ((what == "queue_has" and want in numbers) or (what == "queue_lacks" and want not in numbers)
                       or (what == "queue_new" and bool(numbers - want))
                       or (what == "open" and board is not None and board.totals.open == want)
                       or (what == "title_has" and want in win.windowTitle())
                       or (what == "finder_has" and any(want in it.name for it in win.finder.items))
                       or (what == "due_not" and win.intake.due_label.text() not in (want, "—")))
                if met:
                    del conds[what]
                    extra = {"new": sorted(numbers - want)} if what == "queue_new" else {}
                    _say(ev="seen", id=k, what=what, t=now, **extra)
            if not conds:
                del expectations[k]

    win.queue.model.loaded.connect(lambda: check(("queue_has", "queue_lacks", "queue_new")))
    if win.dashboard is not None:
        win.dashboard.drawn.connect(lambda: check(("open",)))
    slow = QTimer(win)
    slow.setInterval(20)
    slow.timeout.connect(lambda: check(("title_has", "finder_has", "due_not")) if expectations else None)
    slow.start()
    live.announced.connect(lambda c: _say(ev="live", t=time.monotonic(), changes=summary(c)))

    def state() -> dict[str, Any]:
        board = win.dashboard.snapshot if win.dashboard is not None else None
        return {"title": win.windowTitle(), "due": win.intake.due_label.text(), "queue": sorted(queue_numbers()),
                "open": board.totals.open if board is not None else None, "live": live.count,
                "delivered": live.feed.delivered, "skipped_own": live.feed.skipped_own,
                "reconnects": live.feed.reconnects, "connected_at": live.feed.connected_at,
                "finder": [it.name for it in win.finder.items]}

    def command(line: str) -> None:
        msg = json.loads(line)
        cmd = msg.pop("cmd")
        if cmd == "expect":
            k = msg.pop("id")
            if msg.get("queue_new"):
                msg["queue_new"] = queue_numbers()  # what the queue shows now: any other number is new
            expectations[k] = msg
            _say(ev="expecting", id=k)  # a benchmark commits only once B waits for it
            check(tuple(msg))
        elif cmd == "state":
            _say(ev="state", **state())
        elif cmd == "load_item":
            win.intake.load_item(next(it for it in win.items if it.code == msg["code"]))
        elif cmd == "save":
            from hall.services.tickets import intake
            from hall.ui.ops import run

            with opened.db.reading() as s:
                clerk = staff.actor_for(staff.by_number(s, msg["clerk"]), opened.node)
            got = run(win, ctx, lambda s: intake.register(s, clerk, form(s, msg.get("item", SAVE_ITEM),
                                                                         msg.get("seed", 0))))
            _say(ev="saved", number=got.number if got is not None else None)
        elif cmd == "quit":
            app.quit()

    class Stdin(QObject):
        line = Signal(str)

    stdin = Stdin()
    stdin.line.connect(command, Qt.ConnectionType.QueuedConnection)

    def read_stdin() -> None:
        for text in sys.stdin:
            if text.strip():
                stdin.line.emit(text)
        stdin.line.emit('{"cmd": "quit"}')  # the test went away: so do we

    def ready() -> None:
        board = win.dashboard
        if active_jobs() or win.queue.loading or (board is not None and board.snapshot is None):
            QTimer.singleShot(20, ready)
            return
        _say(ev="ready", t=time.monotonic(), **state())
        threading.Thread(target=read_stdin, name="peer-stdin", daemon=True).start()

    QTimer.singleShot(0, ready)
    code = app.exec()
    live.stop()
    win.close()
    opened.db.dispose()
    return code


# ------------------------------------------------------------------------------------------- one save
def save(args: argparse.Namespace) -> int:
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.people import staff
    from hall.services.tickets import intake

    opened = open_hall(Paths.resolve(args.data_dir), args.db)
    try:
        with opened.db.transaction() as s:
            clerk = staff.actor_for(staff.by_number(s, args.clerk), opened.node)
            number = intake.register(s, clerk, form(s, args.item, args.seed)).number
        _say(ev="saved", number=number, t=time.monotonic())
    finally:
        opened.db.dispose()
    return 0


# ------------------------------------------------------------------------------------------- the handle
class Peer:
    """A ``window`` process as a test or benchmark drives it: commands in, JSON lines out (kept in order)."""

    def __init__(self, data_dir: Path, *, db: str | None = None, staff: str = "m01", extra: Sequence[str] = (),
                 ready_timeout: float = 120.0) -> None:
        root = Path(__file__).resolve().parent.parent
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
               "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
        cmd = [sys.executable, str(Path(__file__).resolve()), "window", "--data-dir", str(data_dir), "--staff", staff,
               *(["--db", db] if db else []), *extra]
        self.stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                     text=True, encoding="utf-8", env=env)
        self.lines: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, name="peer-out", daemon=True).start()
        self.ready = self.wait_for(lambda m: m["ev"] == "ready", ready_timeout)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for text in self.proc.stdout:
            try:
                msg = json.loads(text)
            except ValueError:
                continue
            with self._cond:
                self.lines.append(msg)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def errors(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read()[-4000:]

    def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout: float = 30.0, *,
                 after: int = 0) -> dict[str, Any]:
        """The first line from index ``after`` on that ``match``es, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for msg in self.lines[after:]:
                    if match(msg):
                        return msg
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise TimeoutError(f"the peer did not say it within {timeout} s; it said {self.lines[-5:]}\n"
                                       + self.errors())
                self._cond.wait(left)

    def mark(self) -> int:
        with self._cond:
            return len(self.lines)

    def send(self, **cmd: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()

    def state(self) -> dict[str, Any]:
        at = self.mark()
        self.send(cmd="state")
        return self.wait_for(lambda m: m["ev"] == "state", after=at)

    def until(self, timeout: float = 30.0, **cond: Any) -> float:
        """Expect ``cond`` (one condition, see the module) and return when the screen showed it (monotonic)."""
        at = self.mark()
        key = f"u{at}"
        self.send(cmd="expect", id=key, **cond)
        return float(self.wait_for(lambda m: m["ev"] == "seen" and m["id"] == key, timeout, after=at)["t"])

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                self.send(cmd="quit")
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError, ValueError):
                    pipe.close()
        self.stderr.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("window", "save"))
    p.add_argument("--db")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--staff", default="m01")
    p.add_argument("--clerk", default="c02")
    p.add_argument("--item", default=SAVE_ITEM)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--retry-s", help="the feed's waits between reconnection attempts, e.g. 6 or 0.2,1")
    args = p.parse_args(argv)
    return window(args) if args.mode == "window" else save(args)


if __name__ == "__main__":
    sys.exit(main())
