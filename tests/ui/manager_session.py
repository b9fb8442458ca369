"""A manager's session on a realistic ledger: the dashboard open, refreshed N times, each refresh waited for.

Usable two ways:

- from a test, in this process: ``build_ledger(dir)`` then ``open_dashboard(ctx, today)`` and
  ``refresh_and_wait(widget)`` (plain Qt waits, no qtbot needed);
- as a script in a child process (the regression test for "the interpreter never aborts" runs it there and asserts
  a clean exit status)::

      QT_QPA_PLATFORM=offscreen python tests/ui/manager_session.py --refreshes 200 [--tickets 3000] [--dir D]

  exits 0 after the last refresh has been drawn, 1 when a refresh did not finish in time.

The ledger is demo data (the generator the benchmarks use: every ticket a real event chain, some overdue, the
hall and four villages) with the hall's daily rules run once for the day after it, so follow-ups, accountability
records and B-post substitutions exist as they would at a hall — the side panels have a backlog to show.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SEED = 20260101


@dataclass
class Ledger:
    opened: Any  # hall.services.bootstrap.Opened
    manager: Any  # hall.services.base.actor.Actor
    today: date


def build_ledger(data_dir: Path, tickets: int = 3000, *, seed: int = SEED) -> Ledger:
    """A demo hall in ``data_dir`` with ``tickets`` tickets up to yesterday, the daily rules run for today."""
    from sqlalchemy import select

    from hall.demo import data as demo_data
    from hall.models import Staff
    from hall.models.base import Base
    from hall.paths import Paths
    from hall.services.base.actor import Actor
    from hall.services.bootstrap import open_hall
    from hall.services.cases import daily
    from hall.services.people import staff

    opened = open_hall(Paths(data_dir))
    Base.metadata.create_all(opened.db.engine)  # no-op once the migrations carry the workflow tables
    today = date.today()
    end = today - timedelta(days=1)
    span_days = max(14, tickets // 250)
    demo_data.generate(opened.db, opened.node, tickets, seed=seed, start=end - timedelta(days=span_days), end=end)
    with opened.db.transaction() as s:
        daily.run(s, Actor.system(opened.node.node_id, opened.node.intake_point), today)
    with opened.db.reading() as s:
        m = s.scalars(select(Staff).where(Staff.role == "manager").order_by(Staff.id)).first()
        manager = staff.actor_for(m, opened.node)
    return Ledger(opened, manager, today)


def wait_until(predicate, timeout_s: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    """Turn the Qt event loop until ``predicate()`` holds; False on timeout."""
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    app = QCoreApplication.instance()
    assert app is not None
    tick = QTimer()
    tick.setInterval(20)  # wakes WaitForMoreEvents so the deadline is checked
    tick.start()
    deadline = time.monotonic() + timeout_s
    try:
        while not predicate():
            if time.monotonic() > deadline:
                return False
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
    finally:
        tick.stop()
    return True


def open_dashboard(ctx: Any, today: date, *, timeout_s: float = 30.0) -> Any:
    """The manager's DashboardWidget on ``ctx``, shown, with its first snapshot drawn."""
    from hall.ui.dashboard import DashboardWidget

    w = DashboardWidget(ctx, today=lambda: today, open_dialogs=False)
    w.draws = 0  # type: ignore[attr-defined]

    def counted() -> None:
        w.draws += 1  # type: ignore[attr-defined]

    w.drawn.connect(counted)
    w.resize(1366, 768)
    w.show()
    if not wait_until(lambda: w.draws >= 1 and not w.loading, timeout_s):  # type: ignore[attr-defined]
        raise TimeoutError("the dashboard's first snapshot did not arrive")
    return w


def refresh_and_wait(w: Any, timeout_s: float = 30.0) -> bool:
    """One refresh, as the button or the minute timer asks for it, waited for until drawn (painted too)."""
    before = w.draws
    w.refresh()
    ok = wait_until(lambda: w.draws > before and not w.loading, timeout_s)
    w.repaint()
    return ok


def session(refreshes: int, tickets: int, data_dir: Path) -> int:
    from hall.services.storage.changes import Changes
    from hall.ui.app import create_application
    from hall.ui.background import wait_idle
    from hall.ui.ops import ChangeSignal, Context

    app = create_application([sys.argv[0]])
    ledger = build_ledger(data_dir, tickets)
    ctx = Context(ledger.opened.db, ledger.opened.node, ledger.manager, ChangeSignal())
    w = open_dashboard(ctx, ledger.today)
    started = time.perf_counter()
    for i in range(refreshes):
        if i % 10 == 9:
            ctx.changes.announce(Changes(tickets=frozenset({"a-ticket"})))  # a save between refreshes, as at the hall
        if not refresh_and_wait(w):
            print(f"refresh {i + 1} did not finish", flush=True)
            return 1
    took = time.perf_counter() - started
    snap = w.snapshot
    print(f"{refreshes} refreshes in {took:.1f} s; open {snap.totals.open}, overdue {snap.totals.overdue}, "
          f"follow-ups {snap.followups.count}", flush=True)
    w.close()
    w.deleteLater()
    wait_idle()
    app.processEvents()
    ledger.opened.db.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--refreshes", type=int, default=200)
    ap.add_argument("--tickets", type=int, default=3000)
    ap.add_argument("--dir", type=Path, help="data directory for the ledger (default: a temporary one)")
    args = ap.parse_args(argv)
    if args.dir is not None:
        return session(args.refreshes, args.tickets, args.dir)
    with tempfile.TemporaryDirectory(prefix="hall-manager-") as tmp:
        return session(args.refreshes, args.tickets, Path(tmp) / "data")


if __name__ == "__main__":
    sys.exit(main())
