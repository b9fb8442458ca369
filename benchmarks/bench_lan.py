"""The hall LAN: N counter PROCESSES saving tickets at once on one PostgreSQL, beside one counter alone.

Target (issue 11): 11 counters × 500 tickets — 0 duplicate numbers, 0 failed saves, and the save's p99 with
eleven counters at most 3 × the p99 of one counter saving alone on the same server in the same run.

    .venv/bin/python benchmarks/bench_lan.py                                  # its own throwaway server
    .venv/bin/python benchmarks/bench_lan.py --counters 11 --tickets 500
    .venv/bin/python benchmarks/bench_lan.py --db postgresql://hall:PW@server/hall_bench   # an EMPTY database

Every counter is its own process with its own data folder (its own node id, as a counter PC has), its own clerk
and its own connection, and saves exactly what a clerk's 保存 does: ``with db.transaction():
intake.register(session, clerk, form)`` — a new citizen with a valid ID number, an item drawn from the whole
catalogue, every material received, numbered on today's serial. Forms are built before the clock starts; each
counter saves a few untimed tickets first (imports, caches, the connection), then all start at one moment (a go
file) and save back to back, as fast as they can: a busier hall than any real one, so what it measures is how
the saves queue behind each other.

The baseline, in the same run on the same server and database: one counter process saving the same number of
tickets alone, before the N start, and again after they have finished (the ledger has grown by then, and a shared
machine's load moves: both are printed; the ratio is taken against the better of the two, the conservative
choice for the target). Then the numbers are checked in the database (every saved ticket there once,
no number twice) as well as in what the counters were told.

``--waits`` samples what the counters' server backends are doing during the N-counter round (pg_stat_activity's
wait events, every few milliseconds): which row or lock the saves queue on, if any. The machine's CPU busy share
during that round is printed too: every counter PC of a hall has its own CPU, here they all share this one.

Without ``--db`` a throwaway PostgreSQL cluster is started with the tests' machinery (``tests/pgserver.py``) on
127.0.0.1 — **durable** (fsync and synchronous commit on, as a hall server runs), unless ``--fast``, which uses
the tests' settings (fsync off). With ``--db`` the database must be empty (the script initialises it with
``hall-admin server init``'s service and refuses one that already has a hall). The password of ``--db`` is
never printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _ledger import load_line, pct

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-admin-pass"
WARM = 5
TARGET_RATIO = 3.0
THINK_MS = 0  # set from --think-ms: a pause after each save (a clerk's typing); 0 = back to back


# ------------------------------------------------------------------------------------------------ a counter
def forms(n: int, seed: int) -> list[Any]:
    from hall.services.base.validators import id_check_char
    from hall.services.tickets import intake

    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        born = f"{rnd.randint(1950, 2000)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}"
        body = f"320581{born}{rnd.randint(0, 999):03d}"
        name = rnd.choice("王李张刘陈杨黄赵周吴") + rnd.choice(("晓明", "建国", "秀英", "桂兰", "伟"))
        out.append(intake.ApplicantForm("person", body + id_check_char(body), name,
                                        f"139{rnd.randint(0, 99_999_999):08d}", "东村3组"))
    return out


def counter(args: argparse.Namespace) -> int:
    """One counter PC: open the hall, save WARM untimed tickets, say ready, wait for the go file, save."""
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.catalog import items as catalog
    from hall.services.people import staff
    from hall.services.tickets import intake

    opened = open_hall(Paths.resolve(args.data_dir), args.db)
    with opened.db.reading() as s:
        clerk = staff.actor_for(staff.by_number(s, args.clerk), opened.node)
        items = {i.code: tuple(m["name"] for m in i.materials) for i in catalog.current_items(s)}
    rnd = random.Random(args.seed)
    codes = sorted(items)
    todo = []
    for applicant in forms(WARM + args.tickets, args.seed):
        code = rnd.choice(codes)
        todo.append(intake.IntakeForm(item_code=code, applicant=applicant,
                                      materials=dict.fromkeys(items[code], "received")))
    ms: list[float] = []
    numbers: list[str] = []
    failures: list[str] = []

    def save(form: Any) -> tuple[float, str | None]:
        uid = str(uuid.uuid4())  # as the intake form does: the draft's key is the ticket's id
        t0 = time.perf_counter()
        try:
            with opened.db.transaction() as s:
                number = intake.register(s, clerk, form, uid=uid).number
        except Exception as exc:  # counted, never hidden: a failed save is a failed save
            failures.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            return (time.perf_counter() - t0) * 1000, None
        return (time.perf_counter() - t0) * 1000, number

    for form in todo[:WARM]:
        _ms, number = save(form)
        if number:
            numbers.append(number)
    print("ready", flush=True)
    go = Path(args.go)
    while not go.exists():
        time.sleep(0.0005)
    began, cpu0 = time.perf_counter(), time.process_time()
    for form in todo[WARM:]:
        took, number = save(form)
        ms.append(took)
        if number:
            numbers.append(number)
        if args.think_ms:
            time.sleep(args.think_ms / 1000)
    wall = time.perf_counter() - began
    cpu = time.process_time() - cpu0  # the timed saves only
    opened.db.dispose()
    Path(args.out).write_text(json.dumps({"clerk": args.clerk, "ms": ms, "numbers": numbers, "failures": failures,
                                          "wall_s": wall, "cpu_s": cpu}), encoding="utf-8")
    return 0


# ------------------------------------------------------------------------------------------------ the run
def _spawn(url: str, work: Path, name: str, clerk: str, tickets: int, seed: int, go: Path) -> tuple[Any, Path]:
    out = work / f"{name}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--counter", "--db", url, "--data-dir", str(work / name),
           "--clerk", clerk, "--tickets", str(tickets), "--seed", str(seed), "--go", str(go), "--out", str(out),
           "--think-ms", str(THINK_MS)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "PGAPPNAME": "bench_lan"}  # libpq names the counters' connections: what --waits samples
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=(work / f"{name}.err").open("w"), text=True,
                            env=env)
    return proc, out


def _round(url: str, work: Path, label: str, clerks: list[str], tickets: int, seed: int) -> list[dict[str, Any]]:
    go = work / f"go-{label}"
    started = [_spawn(url, work, f"{label}-{c}", c, tickets, seed + i * 7919, go) for i, c in enumerate(clerks)]
    for proc, _out in started:
        line = proc.stdout.readline().strip() if proc.stdout else ""
        if line != "ready":
            for p, _o in started:
                p.kill()
            err = sorted(work.glob(f"{label}-*.err"))
            raise SystemExit(f"a counter did not start: {line!r}\n" + "".join(e.read_text()[-2000:] for e in err))
    go.touch()
    results = []
    for (proc, out), clerk in zip(started, clerks, strict=True):
        code = proc.wait()
        if code != 0:
            raise SystemExit(f"counter {clerk} exited {code}:\n{(work / f'{label}-{clerk}.err').read_text()[-3000:]}")
        results.append(json.loads(out.read_text(encoding="utf-8")))
    return results


class WaitSampler:
    """What the counters' server backends are doing, sampled every few milliseconds during the N-counter round.

    One connection of its own reads ``pg_stat_activity`` (and, for a lock wait, which kind of lock from
    ``pg_locks``): a backend running a query or committing shows as ``running``, one waiting shows its wait
    event (``Lock:transactionid`` = a row another transaction holds, ``Lock:object`` = NOTIFY's commit lock,
    ``LWLock:WALWrite`` / ``IO:WALSync`` = the WAL flush at commit …), one idle in its transaction is the counter
    process itself working (Python). So the histogram says what the saves queue on."""

    SQL = """
        SELECT a.state, a.wait_event_type, a.wait_event, left(regexp_replace(a.query, '\\s+', ' ', 'g'), 48),
               (SELECT l.locktype FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted LIMIT 1)
        FROM pg_stat_activity a
        WHERE a.datname = current_database() AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
          AND a.application_name = 'bench_lan'"""

    def __init__(self, url: str, every_s: float = 0.002) -> None:
        import threading

        self.url, self.every_s = url, every_s
        self.counts: dict[str, int] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WaitSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            while not self._stop.is_set():
                rows = conn.execute(self.SQL).fetchall()
                if rows:
                    self.samples += 1
                for state, wtype, wevent, query, locktype in rows:
                    if state == "idle":
                        continue  # between two saves, or the numbering's own connection between two claims
                    if state == "idle in transaction":
                        what = "idle in transaction (the counter's Python, or waiting for a CPU)"
                    elif wtype is None:
                        what = "running (query or commit on a CPU)"
                    elif wtype == "Lock":
                        what = (f"Lock:{wevent}" + (f" ({locktype})" if locktype and locktype != wevent else "")
                                + f" in {query}…")  # which statement waits says which row
                    else:
                        what = f"{wtype}:{wevent}"
                    self.counts[what] = self.counts.get(what, 0) + 1
                time.sleep(self.every_s)

    def report(self, counters: int) -> list[str]:
        total = sum(self.counts.values()) or 1
        lines = [f"  what the {counters} counters' backends were doing in a transaction ({self.samples} samples, "
                 f"share of backend-samples):"]
        for what, n in sorted(self.counts.items(), key=lambda kv: -kv[1]):
            lines.append(f"    {100 * n / total:5.1f} %  {what}")
        return lines


def _cpu_ticks() -> tuple[int, int] | None:
    """(busy, total) jiffies of the whole machine from /proc/stat (Linux); None elsewhere."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _setup(url: str, work: Path, counters: int) -> None:
    """An empty database becomes a hall (schema, catalogue, calendar, admin) with one clerk per counter."""
    from hall.paths import Paths
    from hall.services.bootstrap import init_server, open_hall
    from hall.services.catalog import items as catalog
    from hall.services.people import staff

    outcome = init_server(Paths.resolve(work / "setup"), url, PASSWORD)
    if not outcome.created:
        raise SystemExit(f"{outcome.message}: bench_lan needs an EMPTY database (its figures assume one)")
    opened = open_hall(Paths.resolve(work / "setup"), url)
    with opened.db.reading() as s:
        windows = sorted({i.window_code for i in catalog.current_items(s)})
    with opened.db.transaction() as s:
        for i in range(counters + 1):
            staff.add_staff(s, opened.system, staff.StaffForm(f"k{i:02d}", f"窗口{i:02d}", "clerk",
                                                              "窗口人员", windows[i % len(windows)]))
    opened.db.dispose()


def _check_database(url: str, work: Path, expected: int) -> tuple[int, int]:
    """(tickets in the database, numbers held by more than one ticket)."""
    from sqlalchemy import func, select

    from hall.models import Ticket
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall

    opened = open_hall(Paths.resolve(work / "setup"), url)
    try:
        with opened.db.reading() as s:
            count = int(s.scalar(select(func.count()).select_from(Ticket)) or 0)
            dup = int(s.scalar(select(func.count()).select_from(
                select(Ticket.number).group_by(Ticket.number).having(func.count() > 1).subquery())) or 0)
    finally:
        opened.db.dispose()
    return count, dup


def _line(name: str, ms: list[float]) -> str:
    return (f"  {name:<22} p50 {pct(ms, 50):7.2f} ms   p90 {pct(ms, 90):7.2f} ms   p99 {pct(ms, 99):7.2f} ms   "
            f"max {max(ms):8.2f} ms   mean {statistics.fmean(ms):7.2f} ms   (n={len(ms)})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", help="postgresql://… of an EMPTY database; default: a throwaway server of its own")
    p.add_argument("--counters", type=int, default=11)
    p.add_argument("--tickets", type=int, default=500, help="saves per counter (timed)")
    p.add_argument("--fast", action="store_true", help="own server with the tests' settings (fsync off)")
    p.add_argument("--seed", type=int, default=20261202)
    p.add_argument("--waits", action="store_true",
                   help="sample the counters' server backends during the N-counter round: what the saves wait on")
    p.add_argument("--think-ms", type=float, default=0.0,
                   help="pause after each save (0: back to back, the worst case; a clerk saves every minute or so)")
    # A counter process (started by the run itself).
    p.add_argument("--counter", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--data-dir", help=argparse.SUPPRESS)
    p.add_argument("--clerk", help=argparse.SUPPRESS)
    p.add_argument("--go", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.counter:
        return counter(args)
    global THINK_MS
    THINK_MS = args.think_ms

    from hall.services.storage.dburl import masked

    print(f"start  {load_line()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="hall-bench-lan-"))
    server = None
    try:
        if args.db:
            url = args.db
            where = f"given server {masked(url)}"
        else:
            sys.path.insert(0, str(ROOT / "tests"))
            import pgserver

            bindir = pgserver.find_bindir()
            if bindir is None:
                raise SystemExit("no PostgreSQL binaries (apt-get install postgresql) and no --db given")
            base = Path(tempfile.mkdtemp(prefix="hall-pg-"))
            server = (pgserver.start_server(bindir, base, durable=not args.fast), base)
            pgserver._admin_execute(server[0], "CREATE DATABASE hall_bench TEMPLATE template0 ENCODING 'UTF8'")
            url = server[0].url("hall_bench").replace("postgresql+psycopg://", "postgresql://")
            mode = "fsync off (tests' settings)" if args.fast else "durable: fsync on, synchronous_commit on"
            where = f"own throwaway PostgreSQL {bindir.parent.name} on 127.0.0.1:{server[0].port}, {mode}"
        print(f"server: {where}", flush=True)
        _setup(url, work, args.counters)
        clerks = [f"k{i:02d}" for i in range(1, args.counters + 1)]

        alone = _round(url, work, "alone", ["k00"], args.tickets, args.seed)[0]
        sampler = WaitSampler(url) if args.waits else None
        cpu0 = _cpu_ticks()
        with sampler or contextlib.nullcontext():
            many = _round(url, work, "lan", clerks, args.tickets, args.seed + 1)
        cpu1 = _cpu_ticks()
        after = _round(url, work, "after", ["k00"], args.tickets, args.seed + 2)[0]
        alone_wall = alone["wall_s"]
        many_wall = max(r["wall_s"] for r in many)  # from the go file to the last counter's last save

        expected = (2 + args.counters) * (WARM + args.tickets)
        numbers = [n for r in [alone, *many, after] for n in r["numbers"]]
        failures = [f for r in [alone, *many, after] for f in r["failures"]]
        count, dup_db = _check_database(url, work, expected)
        dup_told = len(numbers) - len(set(numbers))
        print()
        print(f"{args.counters} counter processes × {args.tickets} tickets (+{WARM} untimed each), "
              f"one PostgreSQL; baseline: one counter alone, {args.tickets} tickets, same server, same run, "
              f"before and after" + (f"; {args.think_ms:g} ms pause after each save" if args.think_ms else
                                     "; saves back to back"))
        print(f"  duplicate numbers: {dup_told} among the numbers the counters were given, {dup_db} in the database")
        print(f"  failed saves: {len(failures)}" + (f"  e.g. {failures[:3]}" if failures else ""))
        print(f"  tickets in the database: {count} (expected {expected}: "
              f"{'all there once' if count == expected and not failures else 'MISMATCH'})")
        print()
        print(_line("one counter alone", alone["ms"]))
        print(_line("alone again, after", after["ms"]))
        for r in many:
            print(_line(f"counter {r['clerk']} of {args.counters}", r["ms"]))
        overall = [m for r in many for m in r["ms"]]
        print(_line(f"all {args.counters} counters", overall))
        base = min(pct(alone["ms"], 99), pct(after["ms"], 99))
        ratio = pct(overall, 99) / base
        worst = max(pct(r["ms"], 99) for r in many) / base
        print()
        print(f"  p99 with {args.counters} counters / p99 alone ({base:.2f} ms, the lower of before and after): "
              f"{ratio:.1f} × overall, {worst:.1f} × worst counter "
              f"(target ≤ {TARGET_RATIO:.0f} ×: {'met' if ratio <= TARGET_RATIO else 'MISSED'})")
        rate_alone = args.tickets / alone_wall
        rate_many = args.counters * args.tickets / many_wall
        cpu = statistics.fmean(r["cpu_s"] for r in many) / args.tickets * 1000
        print(f"  throughput: alone {rate_alone:.0f} saves/s; {args.counters} counters {rate_many:.0f} saves/s "
              f"together ({many_wall:.1f} s wall{', pauses included' if args.think_ms else ''}); "
              f"a counter process's CPU per save ≈ {cpu:.1f} ms "
              f"(× {args.counters} counters on {os.cpu_count()} cores, beside the server's own)")
        if cpu0 and cpu1 and cpu1[1] > cpu0[1]:
            # Every counter PC of a hall has its own CPU; here all of them and the server share this machine's, so
            # once it is busy the saves queue for it, whatever the database does.
            busy = 100 * (cpu1[0] - cpu0[0]) / (cpu1[1] - cpu0[1])
            print(f"  this machine's CPU during the {args.counters}-counter round (the counters' start included): "
                  f"{busy:.0f} % busy on {os.cpu_count()} cores — all {args.counters} counter PCs and the server "
                  f"on one machine")
        if sampler is not None:
            print("\n".join(sampler.report(args.counters)))
        print(f"end    {load_line()}", flush=True)
        ok = not failures and dup_told == 0 and dup_db == 0 and count == expected
        return 0 if ok else 1
    finally:
        if server is not None:
            pgserver.stop_server(server[0])
            shutil.rmtree(server[1], ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
