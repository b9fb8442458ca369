"""Nodes for the sync tests: data directories (a hall and village laptops) driven through ``hall-admin``.

A plain module (``conftest`` names collide between folders). Each node is a real data directory with its own
SQLite ledger, node id and key file; the commands run in-process through :func:`hall.cli.main` (the same code as
the ``hall-admin`` entry point) unless a test runs them in a subprocess on purpose.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hall.cli import main
from hall.services.storage import at_rest

ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def cli(data_dir: Path, *args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--data-dir", str(data_dir), *args])
    return Run(code, out.getvalue(), err.getvalue())


def cli_process(data_dir: Path, *args: str, timeout: float = 120) -> Run:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-m", "hall.cli", "--data-dir", str(data_dir), *args], env=env,
                       capture_output=True, text=True, timeout=timeout)
    return Run(p.returncode, p.stdout, p.stderr)


def ok(run: Run) -> Run:
    assert run.code == 0, run.err
    return run


_BLANK: list[Path] = []


def make_hall(path: Path) -> Path:
    """A fresh hall at ``path``: initialised once per process, then copied (seeding the catalogue and calendar
    is most of the cost). Every copy shares the node id, which only matters between halls, never tested."""
    if not _BLANK:
        import atexit
        import shutil
        import tempfile

        root = Path(tempfile.mkdtemp(prefix="hall-blank-"))
        atexit.register(shutil.rmtree, root, True)
        ok(cli(root / "hall", "init", "--admin-password", "admin-pass-1"))
        _BLANK.append(root / "hall")
    import shutil

    shutil.copytree(_BLANK[0], path)
    return path


def make_laptop(hall: Path, path: Path, point: str) -> Path:
    req, prov = path.parent / f"{path.name}.req", path.parent / f"{path.name}.prov"
    ok(cli(path, "sync", "request", "--point", point, "--out", str(req)))
    ok(cli(hall, "sync", "enrol", str(req), "--out", str(prov)))
    ok(cli(path, "sync", "join", str(prov)))
    return path


def id_number(n: int) -> str:
    """A valid 18-digit resident ID number (GB 11643 check digit), distinct per ``n``."""
    body = f"110105{19500101 + n % 28 + (n // 28 % 12) * 100:08d}{n % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def add_tickets(data_dir: Path, count: int, *, start: datetime = datetime(2026, 3, 2, 9, 0), seed: int = 0,
                immediate_only: bool = False) -> None:
    """``count`` tickets at this node, as its system actor: a mix of promised (1 event) and immediate (2), or
    only immediate ones (2 events each)."""
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.catalog import items as catalog
    from hall.services.tickets import intake

    opened = open_hall(Paths.resolve(data_dir))
    try:
        with opened.db.transaction() as s:
            materials = {m["name"]: "received" for m in catalog.current_item(s, "09").materials}
            for i in range(count):
                who = intake.ApplicantForm("person", id_number(seed * 10007 + i), "张三", "13812345678", "东村3组")
                form = (intake.IntakeForm("09", who, materials=materials) if i % 3 and not immediate_only else
                        intake.IntakeForm("11", who))
                intake.register(s, opened.system, form, now=start + timedelta(minutes=i))
    finally:
        opened.db.dispose()


def digest(data_dir: Path) -> str:
    return ok(cli(data_dir, "ledger", "digest")).out.strip()


def add_point(hall: Path, code: str) -> None:
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.people import staff

    opened = open_hall(Paths.resolve(hall))
    try:
        with opened.db.transaction() as s:
            staff.add_intake_point(s, opened.system, code, f"代办点{code}")
    finally:
        opened.db.dispose()


def add_prints(data_dir: Path, count: int, at: datetime = datetime(2026, 3, 2, 17, 0)) -> None:
    """``count`` receipt prints on this node's tickets (audit events: cheap to make, verbatim in a bundle)."""
    from sqlalchemy import select

    from hall.models import Ticket
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.reporting.papers import PRINT_EVENT
    from hall.services.storage import ledger

    opened = open_hall(Paths.resolve(data_dir))
    try:
        with opened.db.transaction() as s:
            uids = list(s.scalars(select(Ticket.uid).order_by(Ticket.number)))
            payload = {"paper": "acceptance", "title": "受理通知书", "copies": 1, "reprint": True, "printer": "PDF",
                       "reason": "受理通知书 1 份（补打），PDF"}
            ledger.append_many(s, opened.system, PRINT_EVENT, [(payload, uids[i % len(uids)]) for i in range(count)],
                               at=at)
    finally:
        opened.db.dispose()


def act(data_dir: Path, number: str, action: str, at: datetime = datetime(2026, 3, 3, 10, 0)) -> None:
    """One workflow action on ticket ``number`` at this node, by its system actor (the administrator's tool)."""
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.cases import workflow

    opened = open_hall(Paths.resolve(data_dir))
    try:
        with opened.db.transaction() as s:
            if action == "start":
                workflow.start(s, opened.system, number, now=at)
            elif action == "close":
                workflow.close(s, opened.system, number, "approved", "准予办理", now=at)
            elif action == "withdraw":
                workflow.withdraw(s, opened.system, number, "申请人撤回申请", now=at)
            elif action == "pause":
                workflow.pause(s, opened.system, number, "等待申请人补正材料", now=at)
            elif action == "resume":
                workflow.resume(s, opened.system, number, now=at)
            elif action == "deliver":
                workflow.deliver(s, opened.system, number, "村代办员代送", "张三", now=at)
            else:
                raise ValueError(action)
    finally:
        opened.db.dispose()


def ticket_row(data_dir: Path, number: str) -> tuple:

    with at_rest.connect(data_dir / "hall.sqlite3") as c:
        return c.execute("SELECT uid, number, state, is_open, closed_at, result, version, due_date, accepted_on "
                         "FROM tickets WHERE number = ?", (number,)).fetchone()


def ticket_digest(data_dir: Path, number: str) -> tuple[str, dict[str, int]]:
    """:func:`ticket_digest_of` the ticket at the node of this data directory."""
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall

    opened = open_hall(Paths.resolve(data_dir))
    try:
        with opened.db.reading() as s:
            return ticket_digest_of(s, number)
    finally:
        opened.db.dispose()


def ticket_digest_of(s: Any, number: str) -> tuple[str, dict[str, int]]:
    """One SHA-256 over every current-state row of ticket ``number`` in this session's database (the ticket, what
    its events created, its sync conflicts and held events), by natural key as ``ledger digest`` hashes them: what
    two nodes that share the ticket must agree on. Also the rows per table (a digest of nothing agrees too easily)."""
    import hashlib

    from sqlalchemy import select

    from hall.models import Ticket
    from hall.models.sync import SyncConflict, SyncHeldEvent
    from hall.services.storage import projection_keys
    from hall.services.sync import conflicts

    uid = s.scalar(select(Ticket.uid).where(Ticket.number == number))
    conn = s.connection()
    h, counts = hashlib.sha256(), {}
    tables = [Ticket.__table__, *conflicts.ticket_tables(), SyncConflict.__table__, SyncHeldEvent.__table__]
    for table in sorted({t.name: t for t in tables}.values(), key=lambda t: t.name):
        columns = projection_keys.compared_columns(table)
        at = columns.index("uid" if table.name == "tickets" else "ticket_uid")
        n = 0
        for key, values in projection_keys.rows(conn, table):
            if values[at] == uid:
                h.update(projection_keys.line(table.name, columns, key, values).encode() + b"\n")
                n += 1
        counts[table.name] = n
    return h.hexdigest(), counts
