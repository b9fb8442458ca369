"""Two PCs (or two programs on one PC) start the daily rules at the same moment, many times over: each time exactly
one runs them, the other skips, says so in its log and writes nothing — no error — and the ledger is what one run
alone leaves. Real processes, on a real SQLite file and on the real PostgreSQL server."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hall_fixtures import actors_of
from sqlalchemy import select

from hall.models import Event
from hall.models.workflow import AccountabilityRecord
from hall.paths import Paths
from hall.services.bootstrap import open_hall
from hall.services.cases import daily
from hall.services.catalog import items as catalog
from hall.services.storage import ledger
from hall.services.tickets import intake

ROUNDS = 12  # twelve simultaneous starts per database: each time one runs and the other skips
TICKETS = 120
MONDAY = date(2026, 3, 2)
RUN_DAY = date(2026, 3, 23)  # every ticket is overdue by then: one accountability record each
ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张三")

# A counter PC's program: opened once (imports are the slow part), then for each round it opens the round's hall
# as a PC starting up would, says it is ready, waits for the go file and runs the rules at the same moment as the
# other process.
WORKER = textwrap.dedent("""
    import json, logging, os, sys, time
    from datetime import date
    from pathlib import Path
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.cases import daily

    for line in sys.stdin:
        data_dir, url, go = json.loads(line)
        opened = open_hall(Paths.resolve(Path(data_dir)), url or None)
        print("ready", flush=True)
        go_file = Path(go)
        while not go_file.exists():
            pass
        began = time.perf_counter()
        r = daily.run_batched(opened.db, opened.system, date.fromisoformat(sys.argv[1]))
        took = time.perf_counter() - began
        opened.db.dispose()
        print(json.dumps({"pid": os.getpid(), "skipped": r.skipped, "accountability": r.accountability,
                          "seconds": took}), flush=True)
""")


def _add_overdue_tickets(opened) -> None:
    people = actors_of(opened)
    with opened.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, "03").materials}
        for k in range(TICKETS):
            intake.register(s, people["m01"], intake.IntakeForm("03", ZHANG, materials=marks),
                            now=datetime.combine(MONDAY, datetime.min.time()) + timedelta(hours=9, minutes=k))


def _ledger_after(url: str | None, data: Path) -> tuple[Counter, list[tuple], bool]:
    """What the rules left, comparable between copies: each event's type, ticket and payload (the running PC's
    node id written as RUNNER: whichever PC ran, its chain is the one that grew), the records, and the verdict of
    ``ledger verify``."""
    opened = open_hall(Paths.resolve(data), url)
    try:
        with opened.db.reading() as s:
            # The template has no marks: the chain that wrote them is the one that ran the rules.
            runner = set(s.scalars(select(Event.node_id).where(Event.type == daily.MARK_TYPE)))
            assert len(runner) == 1
            rows = s.execute(select(Event.node_id, Event.type, Event.ticket_uid, Event.payload)).all()
            events: Counter = Counter()
            for node, type_, uid, payload in rows:
                for r in runner:
                    payload = payload.replace(r, "RUNNER")
                payload = json.dumps(json.loads(payload), sort_keys=True)  # keys in order after the renaming
                events[("RUNNER" if node in runner else node, type_, uid, payload)] += 1
            records = sorted((r.source_key, r.cause, r.staff_id, r.window_code, r.occurred_on, r.detail)
                             for r in s.scalars(select(AccountabilityRecord)))
            ok = ledger.verify(s).ok
        return events, records, ok
    finally:
        opened.db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def copies(request, tmp_path, _sqlite_template):
    """``make() -> (url, data_dirs of the two processes)``: a fresh copy of a hall with TICKETS overdue tickets
    for each round. SQLite: two programs on one PC (one data folder); PostgreSQL: two PCs (a folder each)."""
    if request.param == "sqlite":
        template = tmp_path / "template"
        shutil.copytree(_sqlite_template, template)
        opened = open_hall(Paths.resolve(template))
        _add_overdue_tickets(opened)
        opened.db.dispose()

        def make_sqlite() -> tuple[str | None, list[Path]]:
            where = tmp_path / f"round-{uuid.uuid4().hex[:8]}"
            shutil.copytree(template, where)
            return None, [where, where]

        yield make_sqlite
        return
    from pgserver import _admin_execute

    server = request.getfixturevalue("pg_server")
    base, _data = request.getfixturevalue("_pg_template")
    name = f"hall_daily_{uuid.uuid4().hex[:8]}"
    _admin_execute(server, f'CREATE DATABASE "{name}" TEMPLATE "{base}"')
    opened = open_hall(Paths.resolve(tmp_path / "setup"), server.url(name))
    _add_overdue_tickets(opened)
    opened.db.dispose()
    made: list[str] = []

    def make_pg() -> tuple[str | None, list[Path]]:
        db = f"{name}_{len(made)}"
        _admin_execute(server, f'CREATE DATABASE "{db}" TEMPLATE "{name}"')
        made.append(db)
        return server.url(db), [tmp_path / f"pc-{db}-a", tmp_path / f"pc-{db}-b"]

    try:
        yield make_pg
    finally:
        for db in [*made, name]:
            _admin_execute(server, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def test_two_pcs_starting_the_rules_at_once_run_them_exactly_once(copies, tmp_path):
    # The ledger one run alone leaves, on a copy of its own.
    url, dirs = copies()
    ref = open_hall(Paths.resolve(dirs[0]), url)
    alone = daily.run_batched(ref.db, ref.system, RUN_DAY)
    ref.db.dispose()
    assert (alone.accountability, alone.skipped) == (TICKETS, "")
    expected = _ledger_after(url, dirs[0])

    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    files = [log.open("w") for log in logs]
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, RUN_DAY.isoformat()], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=f, text=True) for f in files]
    outcomes: list[list[dict]] = []
    try:
        for k in range(ROUNDS):
            url, dirs = copies()
            go = tmp_path / f"go-{k}"
            for w, d in zip(workers, dirs, strict=True):
                assert w.stdin is not None
                w.stdin.write(json.dumps([str(d), url or "", str(go)]) + "\n")
                w.stdin.flush()
            for w in workers:
                assert w.stdout is not None and w.stdout.readline().strip() == "ready", logs[0].read_text()
            go.touch()
            results = [json.loads(w.stdout.readline()) for w in workers]  # type: ignore[union-attr]
            outcomes.append(results)
            ran = [r for r in results if not r["skipped"]]
            skipped = [r for r in results if r["skipped"]]
            assert len(ran) == 1 and len(skipped) == 1, (k, results)
            assert ran[0]["accountability"] == TICKETS
            assert skipped[0]["accountability"] == 0
            assert "正在执行每日规则，本机未重复执行" in skipped[0]["skipped"]
            events, records, ok = _ledger_after(url, dirs[0])
            assert ok
            assert records == expected[1]
            assert events == expected[0], k  # identical to one run: the loser wrote nothing at all
    finally:
        for w in workers:
            assert w.stdin is not None
            w.stdin.close()
        for w in workers:
            w.wait(60)
            assert w.stdout is not None
            w.stdout.close()
        for f in files:
            f.close()
    assert [w.returncode for w in workers] == [0, 0]
    text = "".join(log.read_text(encoding="utf-8") for log in logs)
    assert "Traceback" not in text and "Error" not in text, text[-4000:]
    assert text.count("skipped: another run holds the claim") == ROUNDS
    assert text.count("this run holds the claim") == ROUNDS
    # Both sides won some rounds (the race is real, not one process always first) — shown, not required.
    wins = Counter(r["pid"] for rs in outcomes for r in rs if not r["skipped"])
    print(f"winners: {dict(wins)}; run took {[round(r['seconds'], 2) for rs in outcomes for r in rs]}")


def test_a_skipped_run_says_who_holds_the_rules(hall_db, tmp_path):
    """While one run holds the claim, another finds it taken and is told by whom (PC and since when)."""
    with daily._one_run_at_a_time(hall_db.db) as first:
        assert first.held
        report = daily.run_batched(hall_db.db, hall_db.system, RUN_DAY)
    assert report.skipped and report.accountability == 0
    import socket

    assert socket.gethostname()[:20] in report.skipped
    assert report.lines() == [f"{RUN_DAY.isoformat()} 每日规则：{report.skipped}"]
    # Released: the next run runs.
    assert daily.run_batched(hall_db.db, hall_db.system, RUN_DAY).skipped == ""
