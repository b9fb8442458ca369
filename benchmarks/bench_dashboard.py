"""Manager dashboard full refresh at 1,000,000 tickets, beside the bare covering-index SQL in the same run.

Target (DESIGN.md): ≤ 50 ms per full refresh (covering-index query alone ≈ 34 ms). Build the ledger once:

    .venv/bin/hall-admin --data-dir /tmp/dash1m demo-data --tickets 1000000 --to 2026-11-20
    .venv/bin/python benchmarks/bench_dashboard.py /tmp/dash1m [--today 2026-11-20] [--runs 15] [--index]

The bare baseline is the one query the dashboard cannot do without — open tickets grouped by due date,
window, kind and owner from ``ix_tickets_open_due`` — run on its own sqlite3 connection. ``--index`` also
measures with the proposed covering index ``ix_tickets_closed_rate(closed_on_time, closed_at, state)`` for the
on-time rates (created for the run and dropped afterwards; the model change is the lead's to make).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import time
from datetime import date
from pathlib import Path

TARGET_MS = 50.0
PROPOSED_INDEX = "CREATE INDEX IF NOT EXISTS ix_tickets_closed_rate ON tickets (closed_on_time, closed_at, state)"
BARE_SQL = ("SELECT due_date, window_code, kind, owner_id, count(*) FROM tickets WHERE is_open = 1 "
            "GROUP BY due_date, window_code, kind, owner_id")


def timed(fn, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    fn()  # warm the page cache and the calendar
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def summary(name: str, ms: list[float]) -> str:
    return f"{name:<44} median {statistics.median(ms):7.1f} ms   max {max(ms):7.1f} ms   (n={len(ms)})"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--today", type=date.fromisoformat)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--index", action="store_true", help="also measure with the proposed closures index")
    args = ap.parse_args()

    from sqlalchemy import func, select

    from hall.models import Ticket
    from hall.paths import Paths
    from hall.services import dashboard
    from hall.services.bootstrap import open_hall

    opened = open_hall(Paths.resolve(args.data_dir), None)
    db = opened.db
    with db.transaction() as s:
        tickets = s.scalar(select(func.count()).select_from(Ticket))
        last = s.scalar(select(func.max(Ticket.received_at)))
        open_n = s.scalar(select(func.count()).select_from(Ticket).where(Ticket.is_open.is_(True)))
    today = args.today or last.date()
    print(f"ledger: {tickets:,} tickets, {open_n:,} open; today = {today}")

    bare = sqlite3.connect(str(Path(db.engine.url.database)))

    def run_bare() -> None:
        bare.execute(BARE_SQL).fetchall()

    def run_snapshot() -> None:
        with db.transaction() as s:
            dashboard.snapshot(s, today)

    with db.transaction() as s:
        snap = dashboard.snapshot(s, today)
    t = snap.totals
    print(f"snapshot: open {t.open:,}, due today {t.due_today}, next working day {t.due_next}, overdue {t.overdue} "
          f"(max {t.max_days_over} wd), provisional {t.provisional}, stopped {t.stopped}; "
          f"on-time year {snap.rate_year.text} of {snap.rate_year.closed:,}")

    bare_ms = timed(run_bare, args.runs)
    snap_ms = timed(run_snapshot, args.runs)
    print(summary("bare covering-index SQL (sqlite3)", bare_ms))
    print(summary("dashboard.snapshot (full refresh)", snap_ms))
    med = statistics.median(snap_ms)
    print(f"full refresh {med:.1f} ms = {med / statistics.median(bare_ms):.2f}× bare; target ≤ {TARGET_MS:.0f} ms: "
          + ("met" if med <= TARGET_MS else "NOT met"))
    if args.index:
        bare.execute(PROPOSED_INDEX)
        bare.commit()
        try:
            idx_ms = timed(run_snapshot, args.runs)
            print(summary("dashboard.snapshot + ix_tickets_closed_rate", idx_ms))
            med = statistics.median(idx_ms)
            print(f"with the proposed index: {med:.1f} ms; target ≤ {TARGET_MS:.0f} ms: "
                  + ("met" if med <= TARGET_MS else "NOT met"))
        finally:
            bare.execute("DROP INDEX IF EXISTS ix_tickets_closed_rate")
            bare.commit()
    bare.close()
    db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
