"""Backups in proportion to change: the daily incremental backup after a day's work, beside a full file copy.

Target (issue 15): at 1,000,000 tickets the daily (incremental) backup ≤ 2 s and ≤ 50 MB for a day's work, and a
restore from full + increments exact (``ledger digest`` equal), beside a full copy of the file in the same run.

    flock /tmp/bench1m.lock .venv/bin/python benchmarks/bench_backup.py            # 1M, as every 1M benchmark
    .venv/bin/python benchmarks/bench_backup.py --tickets 100000

On a per-run working copy of the cached demo ledger (the cache is never written to; checked at the end):

1. **bare copy**: ``shutil.copyfile`` of the database file — what "a full copy every day" costs at the least;
2. **full backup** (``backup_chain.daily`` on a folder without one): SQLite backup API, ``integrity_check`` and the
   hash chain re-verified, atomic rename — the rolling base, made once;
3. **a day's work** through the services: ``--day`` intakes (300 by default) of promised/immediate items;
4. **daily backup** the next day (``backup_chain.daily`` again): the day's events as gzip JSON lines, and the base
   rolled forward to them in one transaction — everything the day's backup costs;
5. **restore** of that newest point into a fresh file (the base copied, checked, renamed) and its ``ledger digest``
   compared with the live database's; ``--older`` also restores the day before (events after it removed, every
   projection rebuilt: minutes at 1M) and compares it with the digest taken that day.
6. **kept for 14 days**: the base plus fourteen such increments, beside fourteen full copies;
7. **daily verify** from the checkpoint (``ledger verify --daily``: the checkpointed heads found again, each
   chain counted up to them, the day's events re-hashed), the checkpoint written the evening before as a full
   verification leaves it; ``--full-verify`` also times that full verification (every event re-hashed).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from _ledger import cached_ledger, load_application_services, load_line, untouched, working_copy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _day_of_work(opened, n: int, day: datetime) -> int:  # type: ignore[no-untyped-def]
    from hall.errors import HallError
    from hall.services.catalog import items as catalog
    from hall.services.tickets import intake

    rnd = random.Random(20260105)
    with opened.db.reading() as s:
        codes = [i.code for i in catalog.item_views(s) if i.default_kind in ("promised", "immediate")]
    made = 0
    for k in range(n):
        try:
            with opened.db.transaction() as s:
                code = rnd.choice(codes)
                marks = {m["name"]: "received" for m in catalog.current_item(s, code).materials}
                intake.register(s, opened.system, intake.IntakeForm(
                    code, intake.ApplicantForm("person", "11010519491231002X", "张三"), marks),
                    now=day + timedelta(hours=8, seconds=30 * k))
            made += 1
        except HallError:
            pass
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--day", type=int, default=300, help="intakes in the day's work")
    parser.add_argument("--no-restore", action="store_true",
                        help="skip the restore (at 1M it re-verifies 5M events' chain and two digests: minutes)")
    parser.add_argument("--older", action="store_true", help="also restore the older point (a rebuild: minutes at 1M)")
    parser.add_argument("--full-verify", action="store_true", help="also time a full chain verification")
    args = parser.parse_args()

    from hall.paths import Paths
    from hall.services import backup_chain, ledger_check
    from hall.services.bootstrap import open_hall
    from hall.services.storage import checkpoint, ledger

    load_application_services()
    home = cached_ledger(args.tickets)
    with untouched(home):
        work = working_copy(home)
        opened = open_hall(Paths(work))
        db_file = Path(opened.db.engine.url.database or "")
        folder = work / "chain"
        try:
            opened.db.backup(work / "warm.sqlite3")  # the page cache warm for both copies alike
            (work / "warm.sqlite3").unlink()
            t0 = time.perf_counter()
            shutil.copyfile(db_file, work / "bare-copy.sqlite3")
            bare_s = time.perf_counter() - t0
            bare_mb = (work / "bare-copy.sqlite3").stat().st_size / 1e6
            (work / "bare-copy.sqlite3").unlink()

            first_day = datetime(2026, 1, 5, 18)
            full = backup_chain.daily(opened.db, folder, today=first_day)
            at_first = ledger_check.digest(opened.db).sha256 if args.older else ""
            first_point = sorted(folder.glob("hall-incr-*.jsonl.gz"))[-1]
            with opened.db.reading() as s:  # as the evening's full verification leaves it
                checkpoint.save(work, s, checkpoint.stored_heads(s), 0)
            made = _day_of_work(opened, args.day, datetime(2026, 1, 6))
            inc = backup_chain.daily(opened.db, folder, today=first_day + timedelta(days=1))
            t0 = time.perf_counter()
            with opened.db.reading() as s:
                chain, since, _reached = checkpoint.check(s, work, daily=True)
            verify_s = time.perf_counter() - t0
            assert chain.ok and since is not None, chain.problem
            full_verify_s = 0.0
            if args.full_verify:
                t0 = time.perf_counter()
                with opened.db.reading() as s:
                    assert ledger.verify(s).ok
                full_verify_s = time.perf_counter() - t0
            live = "" if args.no_restore else ledger_check.digest(opened.db).sha256
        finally:
            opened.db.dispose()

        restore_s, exact = 0.0, True
        if not args.no_restore:
            fresh = work / "restored" / "hall.sqlite3"
            t0 = time.perf_counter()
            report = backup_chain.restore_any(inc.path, fresh)
            restore_s = time.perf_counter() - t0
            exact = report.digest_restored == live
        older_s, older_exact = 0.0, True
        if args.older:
            t0 = time.perf_counter()
            older = backup_chain.restore_any(first_point, work / "older" / "hall.sqlite3")
            older_s = time.perf_counter() - t0
            older_exact = older.digest_restored == at_first
        base_bytes = (folder / backup_chain.BASE).stat().st_size

    print(f"bench_backup at {args.tickets:,} tickets ({load_line()})")
    print(f"  bare file copy (shutil.copyfile)      {bare_s:7.2f} s  {bare_mb:9.1f} MB")
    print(f"  full backup (checked, atomic)         {full.seconds:7.2f} s  {full.bytes / 1e6:9.1f} MB")
    print(f"  a day's work                          {made} intakes")
    print(f"  daily backup (increment + base rolled) {inc.seconds:7.2f} s  {inc.bytes / 1e6:9.3f} MB  "
          f"({inc.events} events)   target ≤ 2 s, ≤ 50 MB")
    if not args.no_restore:
        print(f"  restore, newest point                 {restore_s:7.2f} s  digest {'equal' if exact else 'DIFFERENT'}")
    if args.older:
        print(f"  restore, the day before (rebuild)     {older_s:7.2f} s  digest "
              f"{'equal' if older_exact else 'DIFFERENT'}")
    print(f"  daily verify from the checkpoint      {verify_s:7.2f} s  ({chain.events:,} events, the day's re-hashed)"
          "   target ≤ 5 s")
    if args.full_verify:
        print(f"  full chain verification               {full_verify_s:7.2f} s")
    days = backup_chain.KEEP_DAYS
    print(f"  kept for {days} days: the base + {days} increments ≈ {(base_bytes + days * inc.bytes) / 1e9:.2f} GB"
          f"   target ≤ 5 GB   ({days} full copies would be {days * base_bytes / 1e9:.1f} GB)")
    return 0 if exact and older_exact else 1


if __name__ == "__main__":
    raise SystemExit(main())
