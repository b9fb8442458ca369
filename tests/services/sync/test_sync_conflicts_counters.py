"""Sync conflicts at a hall with several counter PCs: one PostgreSQL, each PC its own node id and chain.

W01 pauses a village ticket for 补正 and W03 resumes it (the hall's branch, two nodes), while the laptop of point
001, on its own SQLite file, withdraws it from the same version. Both nodes derive the same conflict, with the whole
hall branch held; the manager resolves it sitting at W03 (not the node that began the branch), keeping the hall's
side, the village's, or neither; after the return bundle the laptop holds the same ticket, the same conflict rows
and shows the same branches. Also: a village event written before the laptop heard of the resolution (stored before
it there, after it at the hall) is listed alike on both nodes, and a resolution written before the payload listed
its kept events (``kept_node`` only) still projects as it did.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sync_env import act, add_point, add_tickets, cli, make_hall, make_laptop, ok, ticket_digest_of

from hall.errors import ValidationError
from hall.models import Event, Staff, Ticket
from hall.models.sync import SyncConflict, SyncHeldEvent
from hall.paths import Paths
from hall.services import ledger_check
from hall.services.bootstrap import open_hall
from hall.services.cases import workflow
from hall.services.people import staff
from hall.services.storage import at_rest, ledger
from hall.services.sync import conflicts, exchange, peers
from hall.services.sync import keys as sync_keys
from hall.services.sync.keys import NodeKeys

W03 = "c0de0003-0000-4000-8000-000000000003"  # the second counter PC on the hall's server
DAY = datetime(2026, 3, 3, 9, 0)
PG = [pytest.param("postgresql", marks=pytest.mark.pg)]


@dataclass
class Hall:
    """The hall on its database, its export keys (W01's, the PC that exports) and the manager at either PC."""

    opened: Any
    keys: NodeKeys
    at_w01: Any
    at_w03: Any

    def do(self, work: Any) -> Any:
        with self.opened.db.transaction() as s:
            return work(s)

    def back(self, path: Path) -> Path:
        path.write_bytes(self.do(lambda s: exchange.export(s, self.keys, to="001")))
        return path

    def take(self, path: Path) -> None:
        self.do(lambda s: exchange.import_bundle(s, self.opened.system, self.keys, path.read_bytes()))


def _hall(hall_db: Any, lap: Path, tmp: Path) -> tuple[Hall, str]:
    """The laptop of 001 enrolled and joined; its tickets imported at the hall; one accepted ticket's number."""
    keys = NodeKeys.create(hall_db.node.node_id, "hall", "000")
    ok(cli(lap, "sync", "request", "--point", "001", "--out", str(tmp / "req")))
    req = json.loads((tmp / "req").read_text(encoding="utf-8"))
    with hall_db.db.transaction() as s:
        peers.enrol(s, hall_db.system, req["node_id"], "001", req["sign_key"], req["box_key"])
        (tmp / "prov").write_bytes(exchange.provision(s, keys, req["node_id"]))
        manager = staff.actor_for(s.scalars(select(Staff).where(Staff.role == "manager")).first(), hall_db.node)
    ok(cli(lap, "sync", "join", str(tmp / "prov")))
    add_tickets(lap, 3, seed=41)
    ok(cli(lap, "sync", "export", "--out", str(tmp / "first")))
    hall = Hall(hall_db, keys, manager, replace(manager, node_id=W03))
    hall.take(tmp / "first")
    number = hall.do(lambda s: s.scalar(select(Ticket.number).where(Ticket.state == "accepted")
                                        .order_by(Ticket.number)))
    return hall, number


def _on_ticket(actor: Any, number: str, step: str, at: datetime) -> Any:
    def work(s: Any) -> None:
        if step == "pause":
            workflow.pause(s, actor, number, "需补正：户口簿复印件", now=at)
        elif step == "resume":
            workflow.resume(s, actor, number, now=at)
        else:
            raise ValueError(step)
    return work


def _shown(s: Any) -> list[tuple]:
    """Every conflict as the manager sees it (sides, outcome, both branches line by line)."""
    return [(v.conflict_id, v.state, v.side_a, v.side_b, v.outcome, v.reason,
             tuple((x.event_id, x.who, x.what, x.status) for x in v.branch_a),
             tuple((x.event_id, x.who, x.what, x.status) for x in v.branch_b))
            for v in conflicts.listing(s, open_only=False, with_branches=True)]


def _rows(s: Any) -> tuple[list[tuple], list[tuple]]:
    c = [(r.conflict_id, r.ticket_uid, r.parent_version, r.node_a, r.event_a, r.node_b, r.event_b, r.state,
          r.kept_node, r.reason, r.resolution_event) for r in s.scalars(select(SyncConflict)
                                                                         .order_by(SyncConflict.conflict_id))]
    h = [(r.event_id, r.conflict_id, r.node_id, r.status)
         for r in s.scalars(select(SyncHeldEvent).order_by(SyncHeldEvent.event_id))]
    return c, h


def _seen(s: Any, number: str) -> dict[str, Any]:
    t = s.scalars(select(Ticket).where(Ticket.number == number)).one()
    return {"ticket": (t.uid, t.number, t.state, int(t.is_open), t.version), "rows": _rows(s), "shown": _shown(s),
            "digest": ticket_digest_of(s, number)}


def _at_laptop(lap: Path, number: str) -> dict[str, Any]:
    opened = open_hall(Paths.resolve(lap))
    try:
        with opened.db.reading() as s:
            return _seen(s, number)
    finally:
        opened.db.dispose()


def _status_by_node(seen: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for _, _, node, status in seen["rows"][1]:
        out.setdefault(node, set()).add(status)
    return out


def _check(hall: Hall, lap: Path) -> None:
    report = ledger_check.check(hall.opened.db, limit=10)
    assert report.ok, report.replay_error or [ledger_check.describe(d) for d in report.comparison.differences]
    assert "所有表一致" in ok(cli(lap, "ledger", "check", "--quiet")).out


@pytest.mark.parametrize("hall_db", PG, indirect=True)
@pytest.mark.parametrize("keep", ["hall", "village", "none"])
def test_a_branch_two_counter_pcs_continued_is_one_side_resolved_from_either_pc(hall_db, tmp_path, keep):
    lap = tmp_path / "lap"
    hall, number = _hall(hall_db, lap, tmp_path)
    w01, village = hall_db.node.node_id, _node(lap)
    hall.do(_on_ticket(hall.at_w01, number, "pause", DAY))  # W01: 补正
    hall.do(_on_ticket(hall.at_w03, number, "resume", DAY + timedelta(minutes=30)))  # W03 takes it on
    continued = hall.do(lambda s: _seen(s, number))["ticket"]
    act(lap, number, "withdraw", DAY + timedelta(minutes=10))  # meanwhile, at the village

    ok(cli(lap, "sync", "import", str(hall.back(tmp_path / "back1"))))
    ok(cli(lap, "sync", "export", "--out", str(tmp_path / "up1")))
    hall.take(tmp_path / "up1")
    at_hall = hall.do(lambda s: _seen(s, number))
    assert at_hall == _at_laptop(lap, number)
    # The whole hall branch is held — W03's resume too, not left applied on a ticket frozen before the pause.
    assert at_hall["ticket"][2:] == ("accepted", 1, 1)
    assert _status_by_node(at_hall) == {w01: {"held"}, W03: {"held"}, village: {"held"}}
    (cid, _, side_a, side_b, outcome, _, branch_a, branch_b), = at_hall["shown"]
    assert {side_a, side_b} == {"中心", "代办点 001"} and outcome == "待中心主任处理"
    if keep == "hall":  # the laptop cannot resolve it, even through the service (its bundles may not carry one)
        assert _refused_on_laptop(lap, cid) == "处理冲突：只能在中心处理"
    hall_branch, village_branch = (branch_a, branch_b) if side_a == "中心" else (branch_b, branch_a)
    assert [x[2][:2] for x in hall_branch] == ["暂停", "恢复"] or len(hall_branch) == 2
    assert len(village_branch) == 1 and {x[3] for x in hall_branch + village_branch} == {"held"}

    # The manager sits at W03 (whose chain began nothing of the branch): 保留中心的办理 keeps the hall's side.
    hall.do(lambda s: conflicts.resolve(s, hall.at_w03, cid, keep, "中心主任核实后处理"))
    resolution = hall.do(lambda s: s.scalars(select(Event).where(Event.type == conflicts.RESOLVED)).one())
    assert resolution.node_id == W03
    ok(cli(lap, "sync", "import", str(hall.back(tmp_path / "back2"))))
    at_hall = hall.do(lambda s: _seen(s, number))
    assert at_hall == _at_laptop(lap, number)
    assert at_hall["ticket"][2] == {"hall": continued[2], "village": "withdrawn", "none": "accepted"}[keep]
    if keep == "hall":
        assert at_hall["ticket"] == continued
    assert _status_by_node(at_hall) == {"hall": {village: {"lost"}}, "village": {w01: {"lost"}, W03: {"lost"}},
                                        "none": {village: {"lost"}, w01: {"lost"}, W03: {"lost"}}}[keep]
    (_, state, _, _, outcome, reason, branch_a, branch_b), = at_hall["shown"]
    assert (state, reason) == ("resolved", "中心主任核实后处理")
    assert outcome == {"hall": "保留中心的办理", "village": "保留代办点 001 的办理", "none": "两边都不生效"}[keep]
    lines = branch_a + branch_b
    assert len(lines) == 3 and sorted(x[3] for x in lines) == {
        "hall": ["applied", "applied", "lost"], "village": ["applied", "lost", "lost"],
        "none": ["lost", "lost", "lost"]}[keep]
    _check(hall, lap)


def _node(lap: Path) -> str:
    mine = sync_keys.load(lap)
    assert mine is not None
    return mine.node_id


def _refused_on_laptop(lap: Path, cid: str) -> str:
    opened = open_hall(Paths.resolve(lap))
    try:
        with pytest.raises(ValidationError) as refused, opened.db.transaction() as s:
            conflicts.resolve(s, opened.system, cid, "village", "村里处理")
        return refused.value.message
    finally:
        opened.db.dispose()


@pytest.mark.parametrize("hall_db", PG, indirect=True)
@pytest.mark.parametrize("keep", ["village", "hall"])
def test_a_village_event_written_before_the_laptop_heard_of_the_resolution_is_listed_alike(hall_db, tmp_path, keep):
    """The village's second action (a pause) is written before the laptop hears of the conflict and reaches the
    hall after the resolution: stored after the resolution at the hall, before it on the laptop. The rows agree
    either way; so must the branches the manager is shown: what the resolution kept, on both nodes."""
    lap = tmp_path / "lap"
    hall, number = _hall(hall_db, lap, tmp_path)
    hall.do(_on_ticket(hall.at_w01, number, "pause", DAY))
    hall.do(_on_ticket(hall.at_w03, number, "resume", DAY + timedelta(minutes=30)))
    continued = hall.do(lambda s: _seen(s, number))["ticket"]
    act(lap, number, "start", DAY + timedelta(minutes=5))
    ok(cli(lap, "sync", "export", "--out", str(tmp_path / "up1")))
    act(lap, number, "pause", DAY + timedelta(minutes=20))  # the late one
    hall.take(tmp_path / "up1")
    cid = hall.do(lambda s: conflicts.listing(s)[0].conflict_id)
    hall.do(lambda s: conflicts.resolve(s, hall.at_w03, cid, keep, "申请人到场确认"))
    ok(cli(lap, "sync", "export", "--out", str(tmp_path / "up2")))
    hall.take(tmp_path / "up2")  # the late pause: after the resolution here
    ok(cli(lap, "sync", "import", str(hall.back(tmp_path / "back"))))  # the fork, then the resolution, there
    at_hall = hall.do(lambda s: _seen(s, number))
    assert at_hall == _at_laptop(lap, number)
    (_, _, side_a, _, _, _, branch_a, branch_b), = at_hall["shown"]
    hall_branch, village_branch = (branch_a, branch_b) if side_a == "中心" else (branch_b, branch_a)
    if keep == "village":
        # Started, and the late pause applies (built on the kept start): no held or lost row of the village's.
        assert at_hall["ticket"][2] == "in_progress" and _status_by_node(at_hall) == {
            hall_db.node.node_id: {"lost"}, W03: {"lost"}}
        # Kept: the start the manager saw; the pause came later (applied on both, in no branch on either).
        assert [x[3] for x in village_branch] == ["applied"] and [x[3] for x in hall_branch] == ["lost", "lost"]
    else:
        assert at_hall["ticket"] == continued and _status_by_node(at_hall) == {_node(lap): {"lost"}}
        assert [x[3] for x in village_branch] == ["lost", "lost"] and [x[3] for x in hall_branch] == ["applied"] * 2
    _check(hall, lap)


@pytest.mark.parametrize("hall_db", ["sqlite"], indirect=True)
def test_a_resolution_written_before_it_listed_its_kept_events_projects_as_it_did(hall_db, tmp_path):
    """A ledger from before: one hall node, and the resolution as it was written then (``kept_node``, no
    ``kept_events``). It keeps that node's branch, on the hall, on the laptop and in a replay, and the listing still
    shows the kept branch (as each node stored it: with one hall node, the same)."""
    lap = tmp_path / "lap"
    hall, number = _hall(hall_db, lap, tmp_path)
    w01 = hall_db.node.node_id
    hall.do(_on_ticket(hall.at_w01, number, "pause", DAY))
    paused = hall.do(lambda s: _seen(s, number))["ticket"]
    act(lap, number, "withdraw", DAY + timedelta(minutes=10))
    ok(cli(lap, "sync", "export", "--out", str(tmp_path / "up1")))
    hall.take(tmp_path / "up1")
    cid = hall.do(lambda s: conflicts.listing(s)[0].conflict_id)
    uid = paused[0]
    hall.do(lambda s: ledger.append(s, hall.at_w01, conflicts.RESOLVED, {
        "conflict_id": cid, "kept_node": w01, "keep": "hall", "reason": "申请人到中心确认继续办理"}, ticket_uid=uid))
    ok(cli(lap, "sync", "import", str(hall.back(tmp_path / "back"))))
    at_hall = hall.do(lambda s: _seen(s, number))
    assert at_hall == _at_laptop(lap, number)
    assert at_hall["ticket"] == paused
    assert _status_by_node(at_hall) == {_node(lap): {"lost"}}
    (_, state, side_a, _, outcome, _, branch_a, branch_b), = at_hall["shown"]
    assert (state, outcome) == ("resolved", "保留中心的办理")
    hall_branch, village_branch = (branch_a, branch_b) if side_a == "中心" else (branch_b, branch_a)
    assert [x[3] for x in hall_branch] == ["applied"] and [x[3] for x in village_branch] == ["lost"]
    _check(hall, lap)


# ------------------------------------------------------------------------------------------ any interleaving
HALL_STEPS = ("pause", "resume", "start", "close")
VILLAGE_STEPS = ("start", "pause", "resume", "withdraw")


@pytest.fixture(scope="module")
def counters(tmp_path_factory):
    """A hall on its real SQLite file (W01, whose keys export; W03 writes its own chain on the same file, as a second
    counter does on the server) and the laptop of 001 whose tickets it imported; nothing acted on them since."""
    root = tmp_path_factory.mktemp("counters")
    hall = make_hall(root / "hall")
    add_point(hall, "001")
    lap = make_laptop(hall, root / "lap", "001")
    add_tickets(lap, 3, seed=43)
    ok(cli(lap, "sync", "export", "--out", str(root / "first")))
    ok(cli(hall, "sync", "import", str(root / "first")))
    with at_rest.connect(lap / "hall.sqlite3") as c:
        number = c.execute("SELECT number FROM tickets WHERE state = 'accepted' ORDER BY number").fetchone()[0]
    return {"hall": hall, "lap": lap, "number": number}


def _at_counter(hall: Path, w03: bool, work: Any) -> Any:
    """``work(session, actor)`` at the hall as the program on W01 (its own node) or W03."""
    opened = open_hall(Paths.resolve(hall))
    try:
        actor = replace(opened.system, node_id=W03) if w03 else opened.system
        with opened.db.transaction() as s:
            return work(s, actor)
    finally:
        opened.db.dispose()


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _seen_at(data_dir: Path, number: str) -> dict[str, Any]:
    return _at_laptop(data_dir, number)


def _hall_step(number: str, step: str, at: datetime) -> Any:
    def work(s: Any, actor: Any) -> None:
        if step == "close":
            workflow.close(s, actor, number, "approved", "准予办理", now=at)
        elif step == "start":
            workflow.start(s, actor, number, now=at)
        else:
            _on_ticket(actor, number, step, at)(s)
    return work


@st.composite
def plans(draw):
    """The hall's m actions, each at W01 or W03; the village's n (each side written before it hears of the other),
    sent in bundles cut at random; the resolution (or none) at W01 or W03 after one of the imports; perhaps a return
    bundle the laptop takes before it."""
    m = draw(st.integers(1, 4))
    pcs = draw(st.lists(st.booleans(), min_size=m, max_size=m))
    n = draw(st.integers(1, 3))
    cuts = [*sorted(draw(st.sets(st.integers(1, n - 1), max_size=n - 1)) if n > 1 else set()), n]
    keep = draw(st.sampled_from(("hall", "village", "none", None)))
    return m, pcs, n, cuts, keep, draw(st.booleans()), draw(st.integers(0, len(cuts) - 1)), \
        draw(st.none() | st.integers(-1, len(cuts) - 1))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=plans())
@example(plan=(2, [False, True], 1, [1], "hall", True, 0, None))  # W01 pauses, W03 resumes; W03 keeps the hall
@example(plan=(3, [True, False, True], 2, [1, 2], "village", False, 0, None))  # a late village event, kept
def test_any_interleaving_of_counters_and_village_converges_with_one_side_kept(counters, tmp_path_factory, plan):
    m, pcs, n, cuts, keep, from_w03, after, early = plan
    tmp = tmp_path_factory.mktemp("plan")
    hall, lap, number = _copy(counters["hall"], tmp / "hall"), _copy(counters["lap"], tmp / "lap"), \
        counters["number"]
    for i, step in enumerate(HALL_STEPS[:m]):
        _at_counter(hall, pcs[i], _hall_step(number, step, DAY + timedelta(minutes=2 * i)))
    ups = []
    for i, step in enumerate(VILLAGE_STEPS[:n]):
        act(lap, number, step, DAY + timedelta(minutes=2 * i + 1))
        if i + 1 in cuts:
            ups.append(tmp / f"up{i + 1}")
            ok(cli(lap, "sync", "export", "--out", str(ups[-1])))
    back = tmp / "early"
    if early == -1:
        ok(cli(hall, "sync", "export", "--to", "001", "--out", str(back)))
    for j, up in enumerate(ups):
        ok(cli(hall, "sync", "import", str(up)))
        if j == after and keep is not None:
            cid = _at_counter(hall, from_w03, lambda s, a: conflicts.listing(s)[0].conflict_id)
            _at_counter(hall, from_w03, lambda s, a, c=cid: conflicts.resolve(s, a, c, keep, "中心主任核实后处理"))
        if j == early:
            ok(cli(hall, "sync", "export", "--to", "001", "--out", str(back)))
    if back.exists():
        ok(cli(lap, "sync", "import", str(back)))
    ok(cli(hall, "sync", "export", "--to", "001", "--out", str(tmp / "back")))
    ok(cli(lap, "sync", "import", str(tmp / "back")))

    at_hall = _seen_at(hall, number)
    assert at_hall == _seen_at(lap, number)
    assert len(at_hall["rows"][0]) == 1
    village = _node(lap)
    # Every action after the intake is on one of the two sides (a close's follow-up on the hall's); each side whole.
    (_, state, side_a, _, _, _, branch_a, branch_b), = at_hall["shown"]
    hall_branch, village_branch = (branch_a, branch_b) if side_a == "中心" else (branch_b, branch_a)
    statuses = _status_by_node(at_hall)
    if keep is None:
        assert state == "open" and {s for v in statuses.values() for s in v} == {"held"}
        assert len(at_hall["rows"][1]) == m + n + (m == 4)  # the whole of both sides, held
        assert {x[3] for x in hall_branch + village_branch} == {"held"}
    else:
        lost = {"hall": {village}, "village": set(statuses) - {village}, "none": set(statuses)}[keep]
        assert {node for node, s in statuses.items() if s == {"lost"}} == lost and set(statuses) == lost
        if keep != "village":
            assert len(village_branch) == n and {x[3] for x in village_branch} == {"lost"}
        if keep != "hall":
            assert len(hall_branch) == m + (m == 4) and {x[3] for x in hall_branch} == {"lost"}
        if keep == "hall":
            assert {x[3] for x in hall_branch} == {"applied"} and len(hall_branch) == m + (m == 4)
    assert "所有表一致" in ok(cli(hall, "ledger", "check", "--quiet")).out
