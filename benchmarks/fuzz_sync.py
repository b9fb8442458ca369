"""≥ 1,000 mutated bundles at a hall: every one refused with a Chinese reason, the digest unchanged.

    .venv/bin/python benchmarks/fuzz_sync.py [--cases 1200] [--seed 7]

The mutations (tests/services/sync/mutations.py): byte flips, truncation, appended bytes, dropped or reordered
events (with the manifest left or made consistent), edited payloads, a chain re-hashed after an edit (a fork of
what the hall holds), wrong counts and ranges, schema breaks, event types a laptop may not write or nobody knows,
another node's events, non-canonical times, bad signatures, the wrong recipient, an unknown peer, a wrong kind;
plus the real cases through the data directories: an old bundle replayed, a forked clone of a laptop, a revoked
laptop. Then the exact re-import of the accepted bundle must be a no-op.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "services" / "sync"))
sys.path.insert(0, str(ROOT))

from _ledger import load_line  # noqa: E402
from mutations import Parties, cases  # noqa: E402
from sync_env import add_point, add_tickets, cli, make_hall, make_laptop, ok  # noqa: E402

from hall.paths import Paths  # noqa: E402
from hall.services import ledger_check  # noqa: E402
from hall.services.bootstrap import open_hall  # noqa: E402
from hall.services.sync import exchange, keys  # noqa: E402
from hall.services.sync.bundle import BundleRejected  # noqa: E402
from hall.services.sync.keys import NodeKeys  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fuzz-sync-"))
    try:
        hall = make_hall(work / "hall")
        laps = {}
        for n, point in enumerate(("001", "002", "003")):
            add_point(hall, point)
            laps[point] = make_laptop(hall, work / f"lap{point}", point)
            add_tickets(laps[point], 20, seed=n)
        ok(cli(laps["001"], "sync", "export", "--out", str(work / "old.hallsync")))
        shutil.copytree(laps["001"], work / "fork")
        add_tickets(laps["001"], 5, seed=5)
        add_tickets(work / "fork", 4, seed=6)
        for name, where in (("new", laps["001"]), ("fork", work / "fork"), ("002", laps["002"]),
                            ("003", laps["003"])):
            ok(cli(where, "sync", "export", "--out", str(work / f"{name}.hallsync")))
        ok(cli(hall, "sync", "import", str(work / "new.hallsync")))
        ok(cli(hall, "sync", "import", str(work / "002.hallsync")))
        ok(cli(hall, "sync", "revoke", "003", "--reason", "停用"))
        stranger = NodeKeys.create("99999999-0000-4000-8000-000000000000", "laptop", "009")
        hall_keys = keys.load(hall)
        parties = Parties(hall_keys, keys.load(laps["001"]), keys.load(laps["002"]), stranger,
                          (work / "new.hallsync").read_bytes())
        generated = cases(parties, args.cases, seed=args.seed)
        generated += [(name, (work / f"{name}.hallsync").read_bytes()) for name in ("old", "fork", "003")] * 4
        opened = open_hall(Paths.resolve(hall))
        rejected, accepted, reasons = Counter(), Counter(), Counter()
        t0 = time.perf_counter()
        try:
            before = ledger_check.digest(opened.db).sha256
            for i, (kind, data) in enumerate(generated):
                try:
                    with opened.db.transaction() as s:
                        exchange.import_bundle(s, opened.system, hall_keys, data)
                    accepted[kind] += 1
                except BundleRejected as exc:
                    rejected[kind] += 1
                    reasons[re.sub(r"[0-9a-f]{8}|\d+", "N", exc.reason).split("（")[0][:30]] += 1
                if i % 100 == 99:
                    assert ledger_check.digest(opened.db).sha256 == before, f"digest changed after {kind}"
            after = ledger_check.digest(opened.db).sha256
            with opened.db.transaction() as s:
                again = exchange.import_bundle(s, opened.system, hall_keys, parties.base)
        finally:
            opened.db.dispose()
        seconds = time.perf_counter() - t0
        total = sum(rejected.values()) + sum(accepted.values())
        print(f"{total:,} mutated bundles in {seconds:.1f} s: {sum(rejected.values()):,} rejected "
              f"({100 * sum(rejected.values()) / total:.1f} %), {sum(accepted.values())} accepted")
        for kind in sorted(set(rejected) | set(accepted)):
            print(f"  {kind:26} rejected {rejected[kind]:4}  accepted {accepted[kind]}")
        print("reasons:")
        for reason, n in reasons.most_common():
            print(f"  {n:5}  {reason}")
        print(f"digest unchanged: {before == after} ({after[:16]}…); exact re-import: {again.message}")
        print(load_line())
        return 0 if not accepted and before == after and again.new == 0 else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
