"""Five village laptops' bundles imported at the hall in all 120 orders: one ``ledger digest``.

    .venv/bin/python benchmarks/sync_orders.py [--laptops 5] [--events 2000] [--hall-events 5000] [--orders 120]
                                               [--conflicts 2]

Set-up: a hall with ``--hall-events`` of its own (on-the-spot tickets, 2 events each), ``--laptops`` laptops
enrolled and joined through ``hall-admin sync``, each with ``--events`` events of its own tickets and a bundle.
Each order: a fresh copy of the hall, the bundles imported in that order (one transaction each), the digest of the
current-state tables. Then the hall sends each laptop its return bundle and the laptop's tickets are compared
field by field with the hall's rows of the same numbers. ``ledger check`` is run on one of the results.

Conflicting pairs (``--conflicts`` per laptop): before the timed imports the hall has taken each laptop's first
bundle and closed that many of its tickets, which the laptop withdrew meanwhile; so every order derives those
sync conflicts at the hall, and each laptop derives the same ones from its return bundle (compared row by row).
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "services" / "sync"))
sys.path.insert(0, str(ROOT))

from _ledger import load_line  # noqa: E402
from sync_env import act, add_point, add_tickets, cli, make_hall, make_laptop, ok  # noqa: E402

from hall.paths import Paths  # noqa: E402
from hall.services import ledger_check  # noqa: E402
from hall.services.bootstrap import open_hall  # noqa: E402
from hall.services.storage import at_rest  # noqa: E402
from hall.services.sync import exchange, keys  # noqa: E402

TICKET_FIELDS = ("number", "uid", "item_code", "kind", "state", "is_open", "applicant_id_no", "applicant_name",
                 "due_date", "accepted_on", "closed_at", "closed_on_time", "result", "version", "intake_point")


def tickets_of(db: Path, point: str) -> dict[str, tuple]:
    with at_rest.connect(db) as c:
        rows = c.execute(f"SELECT {', '.join(TICKET_FIELDS)} FROM tickets WHERE intake_point = ?", (point,))
        return {r[0]: r for r in rows}


def conflicts_of(db: Path, point: str) -> list[tuple]:
    with at_rest.connect(db) as c:
        return c.execute("SELECT c.conflict_id, c.ticket_uid, c.parent_version, c.node_a, c.event_a, c.node_b, "
                         "c.event_b, c.state FROM sync_conflicts c JOIN tickets t ON t.uid = c.ticket_uid "
                         "WHERE t.intake_point = ? ORDER BY c.conflict_id", (point,)).fetchall()


def accepted_of(db: Path, limit: int) -> list[str]:
    with at_rest.connect(db) as c:
        return [r[0] for r in c.execute("SELECT number FROM tickets WHERE state = 'accepted' ORDER BY number "
                                        "LIMIT ?", (limit,))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--laptops", type=int, default=5)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--hall-events", type=int, default=5000)
    parser.add_argument("--orders", type=int, default=120)
    parser.add_argument("--conflicts", type=int, default=2, help="conflicting pairs per laptop")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sync-orders-"))
    try:
        started = time.perf_counter()
        hall = make_hall(work / "hall")
        add_tickets(hall, args.hall_events // 2, immediate_only=True, seed=99)
        points = [f"{i + 1:03d}" for i in range(args.laptops)]
        laptops, bundles = {}, {}
        for n, point in enumerate(points):
            add_point(hall, point)
            laptops[point] = make_laptop(hall, work / f"lap{point}", point)
            add_tickets(laptops[point], args.events // 2, immediate_only=True, seed=n)
            if args.conflicts:
                # Promised tickets (accepted), taken by the hall, then closed there and withdrawn at the village.
                from datetime import datetime

                add_tickets(laptops[point], 3 * args.conflicts, seed=100 + n, start=datetime(2026, 3, 4, 9, 0))
                first = work / f"{point}.first"
                ok(cli(laptops[point], "sync", "export", "--out", str(first)))
                ok(cli(hall, "sync", "import", str(first)))
                for number in accepted_of(laptops[point] / "hall.sqlite3", args.conflicts):
                    act(hall, number, "close")
                    act(laptops[point], number, "withdraw")
            out = work / f"{point}.hallsync"
            ok(cli(laptops[point], "sync", "export", "--out", str(out)))
            bundles[point] = out.read_bytes()
        hall_keys = keys.load(hall)
        print(f"set-up {time.perf_counter() - started:.1f} s: hall {args.hall_events:,} events, "
              f"{args.laptops} laptops × {args.events:,} events, {args.conflicts} conflicting pair(s) each")
        orders = list(itertools.permutations(points))[:args.orders]
        digests: dict[str, int] = {}
        seconds = []
        last = None
        for i, order in enumerate(orders):
            target = work / "order"
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(hall, target)
            opened = open_hall(Paths.resolve(target))
            try:
                t0 = time.perf_counter()
                for point in order:
                    with opened.db.transaction() as s:
                        exchange.import_bundle(s, opened.system, hall_keys, bundles[point])
                seconds.append(time.perf_counter() - t0)
                d = ledger_check.digest(opened.db).sha256
            finally:
                opened.db.dispose()
            digests[d] = digests.get(d, 0) + 1
            if i == len(orders) - 1:
                last = work / "final"
                shutil.copytree(target, last)
        print(f"{len(orders)} orders: {len(digests)} distinct digest(s) {sorted(digests.items())}")
        print(f"  import of all {args.laptops} bundles per order: median {sorted(seconds)[len(seconds) // 2]:.2f} s")
        assert last is not None
        check = ok(cli(last, "ledger", "check", "--quiet")).out.strip().splitlines()[-1]
        print(f"  ledger check of the last order: {check}")
        agree = same_conflicts = 0
        for point in points:
            ret = work / f"ret{point}.hallsync"
            ok(cli(last, "sync", "export", "--to", point, "--out", str(ret)))
            ok(cli(laptops[point], "sync", "import", str(ret)))
            mine, theirs = tickets_of(laptops[point] / "hall.sqlite3", point), tickets_of(last / "hall.sqlite3", point)
            assert mine == theirs, f"laptop {point} disagrees with the hall"
            agree += len(mine)
            found = conflicts_of(laptops[point] / "hall.sqlite3", point)
            assert found == conflicts_of(last / "hall.sqlite3", point), f"laptop {point}: other conflicts"
            assert len(found) == args.conflicts and all(c[7] == "open" for c in found)
            same_conflicts += len(found)
        print(f"  after the return bundles: every laptop agrees with the hall on all {agree:,} shared tickets "
              f"and derived the same {same_conflicts} sync conflicts")
        print(load_line())
        return 0 if len(digests) == 1 else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
