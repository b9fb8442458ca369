"""Demo-data generation rate (tickets/s), beside the bare cost of writing the same rows.

Target (issue 2): 1,000,000 tickets "in a few minutes" on a 2-core machine, i.e. several thousand tickets/s.
Baseline from the same run: the rows the generator wrote (its ticket events, and the tickets their projectors
built), read back as plain tuples and inserted with a bare executemany into an empty database of the same schema,
same pragmas (synchronous=OFF, one transaction, batches of 5,000). The difference is what building the tickets
costs: choosing them, canonical JSON, SHA-256 chaining, and running the registered projectors on every event
(hall/demo writes no table itself, so a demo ledger is what a rebuild from its events gives).

    .venv/bin/python benchmarks/bench_demo_data.py [N=100000]
"""

from __future__ import annotations

import sys
import time
from datetime import date, datetime

from _ledger import load_line, remove_copy, scratch_dir
from sqlalchemy import create_engine, event, text

from hall.demo import data as demo_data
from hall.models import Base
from hall.paths import Paths
from hall.services.bootstrap import open_hall
from hall.services.storage.db import _sqlite_pragmas


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(load_line())
    home = scratch_dir("demo-bench")  # this run's own, removed at exit: two runs never share it
    opened = open_hall(Paths(home))
    report = demo_data.generate(opened.db, opened.node, n, seed=42, start=date(2023, 1, 1), end=date(2025, 12, 31))
    opened.db.dispose()

    # Baseline: the same rows, bare executemany into an empty copy of the schema.
    src = create_engine(f"sqlite:///{(home / 'hall.sqlite3').as_posix()}", hide_parameters=True)
    with src.connect() as conn:
        events = conn.execute(text("SELECT * FROM events WHERE type LIKE 'ticket.%' ORDER BY id"))
        event_rows = (list(events.keys()), events.all())
        tickets = conn.execute(text("SELECT * FROM tickets ORDER BY id"))
        ticket_rows = (list(tickets.keys()), tickets.all())
    src.dispose()
    bare_file = home / "bare.sqlite3"
    dst = create_engine(f"sqlite:///{bare_file.as_posix()}", hide_parameters=True)
    event.listen(dst, "connect", _sqlite_pragmas)
    Base.metadata.create_all(dst)
    with dst.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA synchronous = OFF")
        raw.execute("PRAGMA cache_size = -400000")
        raw.execute("PRAGMA foreign_keys = OFF")  # the items the tickets point at are not copied
        t0 = time.perf_counter()
        raw.execute("BEGIN")
        for table, (columns, rows) in (("events", event_rows), ("tickets", ticket_rows)):
            # By name: a migrated database's columns need not be in the order create_all gives them.
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            for i in range(0, len(rows), 5000):
                raw.executemany(sql, [tuple(r) for r in rows[i:i + 5000]])
        raw.execute("COMMIT")
        bare_s = time.perf_counter() - t0
    dst.dispose()

    print(f"{datetime.now():%Y-%m-%d %H:%M}  {n:,} tickets, {report.events:,} events, "
          f"{report.applicants:,} applicants")
    print(f"demo-data generate            {report.seconds:7.1f} s   {report.rate:9,.0f} tickets/s")
    print(f"bare executemany, same rows   {bare_s:7.1f} s   {n / bare_s:9,.0f} tickets/s")
    print(f"1,000,000 tickets at this rate: about {1_000_000 / report.rate / 60:.1f} min")
    remove_copy(home)
    print(load_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
