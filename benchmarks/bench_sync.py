"""Sync 10,000 events village → hall: export + import beside a bare executemany of the same rows.

Target (DESIGN.md): ≤ 2 s and ≤ 3 × a bare executemany of the same rows; importing the same bundle again changes
nothing.

    .venv/bin/python benchmarks/bench_sync.py [--tickets 5000] [--rounds 3]

Set-up (not timed): a fresh hall and a laptop enrolled and joined through ``hall-admin sync``; the laptop
registers ``--tickets`` on-the-spot tickets (2 events each: received, closed) — 10,001 events with its join.

Ours, timed per round on a fresh copy of the hall: ``exchange.export`` on the laptop (read the chain, canonical
JSON, Ed25519 signature, zlib, X25519 + ChaCha20-Poly1305) and ``exchange.import_bundle`` at the hall in one
durable transaction (decrypt, strict schema, content hash, every hash re-computed, chain placed against the
stored head, the events inserted, the projections applied, serial counters raised), then the same bundle again
(must be a no-op).

Baselines, from the same run on the same kind of file: a bare ``sqlite3`` ``executemany`` in one transaction of
(a) the same 10,001 event rows into an ``events`` table of the same schema and indexes, and (b) those event rows
plus every projection row the import produced (tickets and applicants, copied as they ended up at the hall) into
tables of the same schema — "the same rows" the import writes. The ratio is printed against both, in wall time
(the verdict) and in CPU time (what the work costs on a machine other processes are loading).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "services" / "sync"))
sys.path.insert(0, str(ROOT))

from _ledger import load_line  # noqa: E402
from sync_env import add_point, add_tickets, cli, make_hall, make_laptop, ok  # noqa: E402

from hall.paths import Paths  # noqa: E402
from hall.services.bootstrap import open_hall  # noqa: E402
from hall.services.sync import exchange, keys  # noqa: E402


def _bare(source: Path, target: Path, tables: tuple[str, ...]) -> tuple[float, float]:
    """executemany of ``tables``' rows of ``source`` into empty tables of the same schema in ``target``: wall and
    CPU seconds."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target, isolation_level=None)
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("PRAGMA synchronous=FULL")
    payloads = {}
    for t in tables:
        for (sql,) in src.execute("SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL", (t,)):
            dst.execute(sql)
        cols = [r[1] for r in src.execute(f"PRAGMA table_info({t})")]
        payloads[t] = (cols, src.execute(f"SELECT {', '.join(cols)} FROM {t}").fetchall())
    started, cpu = time.perf_counter(), time.process_time()
    dst.execute("BEGIN IMMEDIATE")
    for t, (cols, rows) in payloads.items():
        dst.executemany(f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
    dst.execute("COMMIT")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    src.close()
    dst.close()
    return seconds, cpu


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    try:
        hall = make_hall(work / "hall")
        add_point(hall, "001")
        lap = make_laptop(hall, work / "lap", "001")
        add_tickets(lap, args.tickets, immediate_only=True)
        lap_keys, hall_keys = keys.load(lap), keys.load(hall)
        best = None
        for r in range(args.rounds):
            target = work / f"hall{r}"
            shutil.copytree(hall, target)
            laptop = open_hall(Paths.resolve(lap))
            at_hall = open_hall(Paths.resolve(target))
            try:
                c0, t0 = time.process_time(), time.perf_counter()
                with laptop.db.transaction() as s:
                    data = exchange.export(s, lap_keys)
                t1 = time.perf_counter()
                with at_hall.db.transaction() as s:
                    result = exchange.import_bundle(s, at_hall.system, hall_keys, data)
                t2, c2 = time.perf_counter(), time.process_time()
                with at_hall.db.transaction() as s:
                    again = exchange.import_bundle(s, at_hall.system, hall_keys, data)
                t3 = time.perf_counter()
            finally:
                laptop.db.dispose()
                at_hall.db.dispose()
            assert again.new == 0, "re-import wrote something"
            row = (t1 - t0, t2 - t1, t3 - t2, result.new, len(data), c2 - c0)
            if best is None or row[0] + row[1] < best[0] + best[1]:
                best = row
            last = target
        assert best is not None
        export_s, import_s, again_s, events, size, cpu_s = best
        ok(cli(last, "ledger", "check", "--quiet"))
        bare_events, bare_events_cpu = min(_bare(last / "hall.sqlite3", work / f"bare-e{i}.sqlite3", ("events",))
                                           for i in range(args.rounds))
        bare_all, bare_all_cpu = min(_bare(last / "hall.sqlite3", work / f"bare-a{i}.sqlite3",
                                           ("events", "tickets", "applicants")) for i in range(args.rounds))
        total = export_s + import_s
        print(f"sync {events:,} events village → hall (bundle {size / 1024:.0f} KB), best of {args.rounds}:")
        print(f"  export {export_s:.3f} s + import {import_s:.3f} s = {total:.3f} s   (target ≤ 2 s)")
        print(f"  re-import of the same bundle: {again_s:.3f} s, 0 events written")
        print(f"  bare executemany, events only:              {bare_events:.3f} s  → ours {total / bare_events:.2f} ×")
        print(f"  bare executemany, events + tickets + applicants: {bare_all:.3f} s  → ours {total / bare_all:.2f} ×"
              "   (target ≤ 3 ×)")
        print(f"  CPU time (the work itself, whatever the load): ours {cpu_s:.3f} s; bare events only "
              f"{bare_events_cpu:.3f} s ({cpu_s / bare_events_cpu:.2f} ×), events + tickets + applicants "
              f"{bare_all_cpu:.3f} s ({cpu_s / bare_all_cpu:.2f} ×)")
        print(load_line())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
