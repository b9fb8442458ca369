"""Parking at scale: a laptop's 10,000 events in two ``--since`` files imported in the wrong order at the hall.

    .venv/bin/python benchmarks/bench_sync_parking.py [--tickets 5000] [--rounds 3]

Set-up (not timed): a fresh hall and a laptop enrolled and joined through ``hall-admin sync``; the laptop registers
``--tickets`` on-the-spot tickets (2 events each) — 10,001 events with its join — sealed as two bundles with the
laptop's keys: the first half, and the rest (what ``sync export --since`` gives).

Ours, timed per round on a fresh copy of the hall, each import one durable transaction through
``journal.import_bundle`` (what the CLI, the LAN and the 同步 screen call): the second file first (all of it parks:
verified, stored verbatim in ``sync_parked``), then the first (it applies, and the parked half is taken out of
parking and applied in the same transaction).

Baselines from the same run: the whole chain in one bundle imported in order (the same events, nothing parked),
and a bare ``sqlite3`` ``executemany`` of the parked rows into a table of ``sync_parked``'s schema (what parking
writes at the least).
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
from sync_env import add_point, add_tickets, make_hall, make_laptop  # noqa: E402

from hall.paths import Paths  # noqa: E402
from hall.services.bootstrap import open_hall  # noqa: E402
from hall.services.storage import at_rest  # noqa: E402
from hall.services.sync import bundle, exchange, journal, keys  # noqa: E402


def _seal(lap: keys.NodeKeys, hall: keys.NodeKeys, events: list[dict]) -> bytes:
    return bundle.seal(lap, hall.box_key, exchange.manifest(lap, hall.node_id, "bundle", events, {}), events)


def _import(target: Path, hall_keys: keys.NodeKeys, data: bytes) -> tuple[float, journal.Imported]:
    opened = open_hall(Paths.resolve(target))
    try:
        started = time.perf_counter()
        with opened.db.transaction() as s:
            got = journal.import_bundle(s, opened.system, hall_keys, data)
        return time.perf_counter() - started, got
    finally:
        opened.db.dispose()


def _bare_parked(source: Path, work: Path, events: list[dict]) -> float:
    with at_rest.connect(source) as src:
        sql = src.execute("SELECT sql FROM sqlite_master WHERE name = 'sync_parked'").fetchone()[0]
    dst = sqlite3.connect(work, isolation_level=None)
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("PRAGMA synchronous=FULL")
    dst.execute(sql)
    cols = [*events[0], "sender", "bundle_id", "reason", "parked_at"]
    rows = [(*e.values(), e["node_id"], "0" * 64, "等待前序事件", "2026-03-02 09:00:00") for e in events]
    started = time.perf_counter()
    dst.execute("BEGIN IMMEDIATE")
    dst.executemany(f"INSERT INTO sync_parked ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
    dst.execute("COMMIT")
    seconds = time.perf_counter() - started
    dst.close()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-park-"))
    try:
        hall = make_hall(work / "hall")
        add_point(hall, "001")
        lap = make_laptop(hall, work / "lap", "001")
        add_tickets(lap, args.tickets, immediate_only=True)
        lap_keys, hall_keys = keys.load(lap), keys.load(hall)
        opened = open_hall(Paths.resolve(lap))
        try:
            with opened.db.reading() as s:
                chain = exchange.own_events(s, lap_keys.node_id)
        finally:
            opened.db.dispose()
        half = len(chain) // 2
        first, second = _seal(lap_keys, hall_keys, chain[:half]), _seal(lap_keys, hall_keys, chain[half:])
        whole = _seal(lap_keys, hall_keys, chain)
        best: tuple[float, float] | None = None
        in_order = None
        for r in range(args.rounds):
            target = work / f"hall{r}"
            shutil.copytree(hall, target)
            park_s, parked = _import(target, hall_keys, second)
            done_s, done = _import(target, hall_keys, first)
            assert parked.parked == len(chain) - half and parked.new_events == 0, parked.message
            assert done.released == len(chain) - half and done.parked == 0, done.message
            if best is None or park_s + done_s < sum(best):
                best = (park_s, done_s)
            plain = work / f"plain{r}"
            shutil.copytree(hall, plain)
            whole_s, _ = _import(plain, hall_keys, whole)
            in_order = whole_s if in_order is None else min(in_order, whole_s)
        assert best is not None and in_order is not None
        bare = min(_bare_parked(hall / "hall.sqlite3", work / f"bare{i}.sqlite3", chain[half:])
                   for i in range(args.rounds))
        park_s, done_s = best
        n = len(chain) - half
        print(f"parking: {len(chain):,} events of one laptop in two files, the later one first, best of {args.rounds}:")
        print(f"  the later file: {park_s:.3f} s ({n:,} events verified and parked)")
        print(f"  the earlier file: {done_s:.3f} s ({half:,} applied + {n:,} taken out of parking and applied)")
        print(f"  both: {park_s + done_s:.3f} s  beside the whole chain in one file, in order: {in_order:.3f} s"
              f"  → {(park_s + done_s) / in_order:.2f} ×")
        print(f"  bare executemany of the {n:,} parked rows: {bare:.3f} s")
        print(load_line())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
