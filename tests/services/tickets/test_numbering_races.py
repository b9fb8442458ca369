"""Ticket numbers under real concurrency: counter PROCESSES, each with its own node and connection, on one database.

Each counter saves back to back, all starting at one moment, and one save in every few fails after its number was
claimed (the save's transaction rolls back). The rule (hall/services/tickets/numbering.py):

- on either database no number is ever given to two tickets, and every saved ticket is there once;
- on SQLite the serial is claimed inside the save, so a failed save gives its number back: the saved tickets
  are numbered 1…N without a gap;
- on PostgreSQL the serial is claimed apart (the counters must not queue behind its row until each commit), so
  a failed save's number stays unused: the numbers handed out are 1…N+F, each exactly once, and the only
  numbers without a ticket are those of the failed saves — which ``ledger check`` accepts.

Run as a script, this file is one counter (``counter``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
COUNTERS = 4  # processes; on a 2-core machine more only queue for the CPU
SAVES = 30  # per counter and round
FAIL_EVERY = 5  # every 5th save of a counter fails after numbering
ROUNDS = 3  # each round numbers a day of its own: three independent races
DAY = datetime(2026, 3, 2, 9, 0)


class Boom(Exception):
    """The failure injected after the number was claimed."""


def counter(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT / "tests"))
    from live_peer import form

    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.people import staff
    from hall.services.tickets import intake

    opened = open_hall(Paths.resolve(Path(args.data_dir)), args.db)
    with opened.db.reading() as s:
        clerk = staff.actor_for(staff.by_number(s, args.clerk), opened.node)
        forms = [form(s, "11", args.seed + i) for i in range(SAVES)]
    saved: list[str] = []
    failed: list[str] = []
    print("ready", flush=True)
    go = Path(args.go)
    while not go.exists():
        time.sleep(0.0005)
    now = datetime.fromisoformat(args.now)
    for i, f in enumerate(forms):
        number = ""
        try:
            with opened.db.transaction() as s:
                number = intake.register(s, clerk, f, now=now).number
                if i % FAIL_EVERY == FAIL_EVERY - 1:
                    raise Boom  # after the ticket, its events and its projections were written: all roll back
            saved.append(number)
        except Boom:
            failed.append(number)
    opened.db.dispose()
    Path(args.out).write_text(json.dumps({"saved": saved, "failed": failed}), encoding="utf-8")
    return 0


def _race(url: str, work: Path, now: datetime, clerks: list[str]) -> tuple[list[str], list[str]]:
    go = work / f"go-{now:%Y%m%d}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    procs = []
    for i, clerk in enumerate(clerks):
        name = f"{now:%Y%m%d}-{i}"
        out = work / f"{name}.json"
        cmd = [sys.executable, __file__, "--db", url, "--data-dir", str(work / f"node-{i}"), "--clerk", clerk,
               "--seed", str(1000 * i + now.day), "--now", now.isoformat(), "--go", str(go), "--out", str(out)]
        procs.append((subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env),
                      out))
    try:
        for proc, _out in procs:
            line = proc.stdout.readline().strip() if proc.stdout else ""
            assert line == "ready", f"a counter did not start: {line!r}\n{proc.stderr.read() if proc.stderr else ''}"
        go.touch()  # all at once
        saved: list[str] = []
        failed: list[str] = []
        for proc, out in procs:
            _stdout, stderr = proc.communicate(timeout=300)
            assert proc.returncode == 0, stderr[-3000:]
            told = json.loads(out.read_text(encoding="utf-8"))
            saved += told["saved"]
            failed += told["failed"]
    finally:
        for proc, _out in procs:
            if proc.poll() is None:
                proc.kill()
    return saved, failed


def test_counter_processes_never_share_a_number(hall_db, tmp_path):
    from sqlalchemy import func, select

    from hall.models import Ticket
    from hall.services import ledger_check
    from hall.services.storage import ledger
    from hall.services.tickets.numbering import parse_number

    url = hall_db.db.engine.url.render_as_string(hide_password=False)
    sqlite = hall_db.db.is_sqlite
    clerks = [("c02", "c03")[i % 2] for i in range(COUNTERS)]  # two clerks, each on two counter PCs
    for r in range(ROUNDS):
        now = DAY.replace(day=DAY.day + r)
        saved, failed = _race(url, tmp_path, now, clerks)
        assert len(saved) == COUNTERS * (SAVES - SAVES // FAIL_EVERY)
        assert len(failed) == COUNTERS * (SAVES // FAIL_EVERY)
        assert len(set(saved)) == len(saved), "a number was given to two saved tickets"
        serials = sorted(parse_number(n)[3] for n in saved)
        for n in saved + failed:
            township, point, on, _serial = parse_number(n)
            assert (township, point, on) == ("320581101", "000", now.date())
        if sqlite:
            # Claimed in the save's transaction: a failed save's number went back and was used by a later one.
            assert serials == list(range(1, len(saved) + 1))
        else:
            # Claimed apart: every number handed out once, the failed saves' numbers and no other left unused.
            handed = sorted(parse_number(n)[3] for n in saved + failed)
            assert handed == list(range(1, len(saved) + len(failed) + 1))
            assert not set(saved) & set(failed)
        with hall_db.db.reading() as s:
            day_numbers = s.scalars(select(Ticket.number).where(
                Ticket.number.like(f"%-{now:%Y%m%d}-%"))).all()
            assert sorted(day_numbers) == sorted(saved), "the database holds exactly the saved tickets"
            assert s.scalar(select(func.count()).select_from(
                select(Ticket.number).group_by(Ticket.number).having(func.count() > 1).subquery())) == 0
    with hall_db.db.reading() as s:
        assert ledger.verify(s).ok
    report = ledger_check.check(hall_db.db, limit=10)  # a counter ahead of its tickets is no inconsistency
    assert report.ok, [ledger_check.describe(d) for d in report.comparison.differences]


def main() -> int:
    p = argparse.ArgumentParser()
    for name in ("--db", "--data-dir", "--clerk", "--now", "--go", "--out"):
        p.add_argument(name, required=True)
    p.add_argument("--seed", type=int, required=True)
    return counter(p.parse_args())


if __name__ == "__main__":
    sys.exit(main())
