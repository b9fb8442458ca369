"""The 同步 column's cost: ``sync_state`` for one queue page, beside the bare grouped query it is built on.

    .venv/bin/python benchmarks/bench_sync_state.py [--tickets 5000] [--page 200] [--rounds 50]

Set-up (not timed): a hall and a laptop enrolled and joined through ``hall-admin sync``; the laptop registers
``--tickets`` (promised and on-the-spot), exports, the hall imports, the hall's bundle comes back — so the laptop
and the hall both have a record and every ticket a state. Timed on each side: ``state.sync_state`` for a page of
``--page`` tickets (what the queue's background read adds to each page), and ``queue.page`` itself for scale.
Baseline, same run and file: the bare ``SELECT ticket_uid, max(seq) … GROUP BY ticket_uid`` for the same tickets.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "services" / "sync"))
sys.path.insert(0, str(ROOT))

from sync_env import add_tickets, cli, make_hall, make_laptop, ok  # noqa: E402

from hall.paths import Paths  # noqa: E402


def _ms(fn, rounds: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def measure(data_dir: Path, label: str, page: int, rounds: int) -> None:
    from sqlalchemy import func, select

    from hall.models import Event, Ticket
    from hall.services.bootstrap import open_hall
    from hall.services.reporting import queue
    from hall.services.sync import state

    opened = open_hall(Paths.resolve(data_dir))
    try:
        with opened.db.reading() as s:
            ids = list(s.scalars(select(Ticket.id).where(Ticket.intake_point == "001").order_by(Ticket.id)
                                 .limit(page)))
            uids = list(s.scalars(select(Ticket.uid).where(Ticket.id.in_(ids))))
            ours = _ms(lambda: state.sync_state(s, ids), rounds)
            bare = _ms(lambda: s.execute(select(Event.ticket_uid, func.max(Event.seq)).where(
                Event.ticket_uid.in_(uids)).group_by(Event.ticket_uid)).all(), rounds)
            flt = queue.TicketFilter(open_only=False)
            paged = _ms(lambda: queue.page(s, flt, today=date(2026, 12, 4), limit=page), rounds)
            got = state.sync_state(s, ids)
        print(f"{label}: sync_state for {len(ids)} tickets {ours:.2f} ms (median of {rounds}); bare grouped query "
              f"{bare:.2f} ms ({ours / bare:.1f} ×); queue.page of {page} {paged:.2f} ms; states "
              f"{sorted(set(got.values()))}")
    finally:
        opened.db.dispose()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--tickets", type=int, default=5000)
    p.add_argument("--page", type=int, default=200)
    p.add_argument("--rounds", type=int, default=50)
    args = p.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-sync-state-"))
    hall = make_hall(base / "hall")
    lap = make_laptop(hall, base / "lap", "001")
    add_tickets(lap, args.tickets)
    ok(cli(lap, "sync", "export", "--out", str(base / "b")))
    ok(cli(hall, "sync", "import", str(base / "b")))
    ok(cli(hall, "sync", "export", "--to", "001", "--out", str(base / "back")))
    ok(cli(lap, "sync", "import", str(base / "back")))
    add_tickets(lap, 50, seed=7)  # some not sent yet
    measure(lap, "laptop", args.page, args.rounds)
    measure(hall, "hall", args.page, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
