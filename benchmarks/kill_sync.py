"""``kill -9`` at random moments of a 10,000-event import: never half-imported, ``integrity_check`` ok, and the
re-import then succeeds.

    .venv/bin/python benchmarks/kill_sync.py [--kills 24] [--tickets 5000] [--seed 11]

Set-up: a hall and a laptop enrolled and joined through ``hall-admin sync``; the laptop registers ``--tickets``
on-the-spot tickets (10,001 events with its join) and exports its bundle. Then, ``--kills`` times: a real
``hall-admin sync import`` process is started at the hall and sent SIGKILL after a random delay spread over its
whole run (measured first, uninterrupted, on a copy). After each kill the hall has either none or all of the
laptop's events, passes ``PRAGMA integrity_check``, and its digest is the one before the import (an import
that had committed is put back to the copy from before, so every kill interrupts a real import). Finally the
import runs to the end and ``ledger verify`` and ``ledger check`` pass.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "services" / "sync"))

from _ledger import load_line  # noqa: E402
from sync_env import add_point, add_tickets, cli, digest, make_hall, make_laptop, ok  # noqa: E402

from hall.services.storage import at_rest  # noqa: E402


def _state(hall: Path) -> tuple[str, int]:
    with at_rest.connect(hall / "hall.sqlite3") as c:
        return c.execute("PRAGMA integrity_check").fetchone()[0], c.execute("SELECT count(*) FROM events").fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=24)
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kill-sync-"))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        hall = make_hall(work / "hall")
        add_point(hall, "001")
        lap = make_laptop(hall, work / "lap", "001")
        add_tickets(lap, args.tickets, immediate_only=True)
        bundle = work / "big.hallsync"
        ok(cli(lap, "sync", "export", "--out", str(bundle)))
        command = [sys.executable, "-m", "hall.cli", "--data-dir", str(hall), "sync", "import", str(bundle)]
        probe = work / "probe"
        shutil.copytree(hall, probe)
        t0 = time.perf_counter()
        subprocess.run([*command[:4], str(probe), *command[5:]], env=env, check=True, capture_output=True)
        full = time.perf_counter() - t0
        empty, start = digest(hall), _state(hall)[1]
        shutil.rmtree(probe)
        pristine = work / "pristine"
        shutil.copytree(hall, pristine)
        rng = random.Random(args.seed)
        outcomes = {"nothing": 0, "everything": 0}
        for _ in range(args.kills):
            delay = rng.uniform(0.05, full)
            p = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            p.send_signal(signal.SIGKILL)
            p.wait()
            check, n = _state(hall)
            assert check == "ok", check
            assert n in (start, start + args.tickets * 2 + 1), f"half-imported: {n - start} events"
            if n == start:
                assert digest(hall) == empty
                outcomes["nothing"] += 1
            else:
                outcomes["everything"] += 1  # committed before the kill: start the next round from before it
                shutil.rmtree(hall)
                shutil.copytree(pristine, hall)
        run = ok(cli(hall, "sync", "import", str(bundle)))
        assert _state(hall)[1] == start + args.tickets * 2 + 1
        verify = ok(cli(hall, "ledger", "verify")).out.strip()
        check = ok(cli(hall, "ledger", "check", "--quiet")).out.strip().splitlines()[-1]
        print(f"uninterrupted import process: {full:.2f} s; {sum(outcomes.values())} kills at random moments: "
              f"{outcomes['nothing']} left nothing, {outcomes['everything']} had committed everything "
              "(the hall then put back as it was before), 0 half-imported, integrity_check ok after each")
        print(f"then: {run.out.strip()}")
        print(f"  {verify}")
        print(f"  {check}")
        print(load_line())
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
