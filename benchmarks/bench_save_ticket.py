"""Save one ticket at a 1,000,000-ticket ledger: the real intake service + commit, beside a bare insert + commit.

Target (DESIGN.md): p99 ≤ 5 ms per saved ticket (intake + ledger event, one commit, durable) at 1M tickets.
Baseline from the same run, on the same file: a bare SQLAlchemy Core insert of one row + commit on an engine
with the same pragmas (WAL, synchronous=FULL, foreign keys, BEGIN IMMEDIATE).

    .venv/bin/python benchmarks/bench_save_ticket.py [--tickets 1000000] [--samples 2000] [--profile]

The ledger is built once with demo-data (a few minutes) and cached under benchmarks/.data/; each run works on a
fresh copy of it, so the figures do not drift as runs add tickets. ``--profile`` runs pyinstrument over the
saves and prints where the time goes.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table, Text, create_engine, event, insert, select

from hall.models import Staff
from hall.paths import Paths
from hall.services import demo_data, intake, staff
from hall.services.bootstrap import open_hall
from hall.services.db import _sqlite_begin, _sqlite_pragmas
from hall.services.validators import id_check_char

TARGET_P99_MS = 5.0
DATA = Path(__file__).resolve().parent / ".data"
SEED = 20260101
FIRST, LAST = date(2016, 1, 1), date(2025, 12, 31)  # fixed, so the cached ledger is the same on every machine


def cached_ledger(tickets: int) -> Path:
    """The data directory of a ``tickets``-ticket demo ledger, built on first use."""
    DATA.mkdir(exist_ok=True)
    (DATA / ".gitignore").write_text("*\n")
    home = DATA / f"ledger-{tickets}"
    marker = home / "demo-data.json"
    if marker.exists():
        return home
    if home.exists():
        shutil.rmtree(home)  # a half-built one from an interrupted run
    print(f"building the {tickets:,}-ticket demo ledger in {home} (once) …", flush=True)
    opened = open_hall(Paths(home))
    report = demo_data.generate(opened.db, opened.node, tickets, seed=SEED, start=FIRST, end=LAST,
                                progress=lambda d, t: print(f"\r  {d:,}/{t:,}", end="", flush=True))
    opened.db.dispose()
    print(f"\r  {report.tickets:,} tickets, {report.events:,} events in {report.seconds:.0f} s "
          f"({report.rate:,.0f} tickets/s)")
    marker.write_text(json.dumps({"tickets": report.tickets, "events": report.events, "seconds": report.seconds,
                                  "built": datetime.now().isoformat(timespec="seconds")}))
    return home


def working_copy(home: Path) -> Path:
    work = DATA / "work"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(home, work)
    return work


def forms(n: int, items: list[str], rnd: random.Random) -> list[intake.IntakeForm]:
    """New citizens with valid ID numbers, over the whole catalogue, everything received."""
    out = []
    for _ in range(n):
        born = f"{rnd.randint(1950, 2000)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}"
        body = f"320581{born}{rnd.randint(0, 999):03d}"
        applicant = intake.ApplicantForm("person", body + id_check_char(body), rnd.choice("王李张刘陈杨") + "晓明",
                                         f"139{rnd.randint(0, 99_999_999):08d}", "东村3组")
        out.append(intake.IntakeForm(item_code=rnd.choice(items), applicant=applicant))
    return out


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def summary(name: str, ms: list[float]) -> str:
    return (f"{name:<34} p50 {pct(ms, 50):6.2f} ms   p90 {pct(ms, 90):6.2f} ms   p99 {pct(ms, 99):6.2f} ms   "
            f"max {max(ms):7.2f} ms   mean {statistics.fmean(ms):5.2f} ms")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--profile", action="store_true", help="profile the saves with pyinstrument")
    args = ap.parse_args()

    home = working_copy(cached_ledger(args.tickets))
    opened = open_hall(Paths(home))
    db = opened.db
    with db.transaction() as s:
        clerk = s.scalars(select(Staff).where(Staff.role == "clerk").order_by(Staff.id)).first()
        assert clerk is not None
        actor = staff.actor_for(clerk, opened.node)
        items = [it.code for it in intake.catalog.current_items(s)]
        count = s.scalar(select(intake.Ticket.id).order_by(intake.Ticket.id.desc()).limit(1))
    print(f"ledger: {home / 'hall.sqlite3'}  ({(home / 'hall.sqlite3').stat().st_size / 1e9:.2f} GB, "
          f"{count:,} tickets)")
    rnd = random.Random(7)
    todo = forms(args.samples + 50, items, rnd)

    def save(form: intake.IntakeForm) -> None:
        with db.transaction() as session:
            intake.register(session, actor, form)

    for form in todo[:50]:  # warm-up: imports, pinyin dictionary, statement caches
        save(form)
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
        profiler.start()
    service_ms = []
    for form in todo[50:]:
        t0 = time.perf_counter()
        save(form)
        service_ms.append((time.perf_counter() - t0) * 1000)
    if profiler is not None:
        profiler.stop()

    # Bare baseline: the same file, an engine with the application's pragmas, one row + commit per sample.
    engine = create_engine(f"sqlite:///{(home / 'hall.sqlite3').as_posix()}")
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    bare = Table("bench_bare", MetaData(), Column("id", Integer, primary_key=True), Column("payload", Text))
    bare.create(engine)
    payload = "x" * 900  # about the size of a ticket.received payload
    bare_ms = []
    with engine.connect() as conn:
        for _ in range(50):
            with conn.begin():
                conn.execute(insert(bare).values(payload=payload))
        for _ in range(args.samples):
            t0 = time.perf_counter()
            with conn.begin():
                conn.execute(insert(bare).values(payload=payload))
            bare_ms.append((time.perf_counter() - t0) * 1000)
    bare.drop(engine)
    engine.dispose()
    db.dispose()

    print(f"samples: {args.samples} each, {datetime.now():%Y-%m-%d %H:%M}")
    print(summary("intake.register + commit", service_ms))
    print(summary("bare Core insert + commit", bare_ms))
    p99 = pct(service_ms, 99)
    print(f"target p99 ≤ {TARGET_P99_MS} ms: {'met' if p99 <= TARGET_P99_MS else 'MISSED'} "
          f"(p99 {p99:.2f} ms, {p99 / max(pct(bare_ms, 99), 1e-9):.1f} × bare p99)")
    if profiler is not None:
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    return 0 if p99 <= TARGET_P99_MS else 1


if __name__ == "__main__":
    sys.exit(main())
