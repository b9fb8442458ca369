"""Sync conflicts by lineage, not by an integer two branches can share (hall/services/tickets/lineage.py).

The blind spot this closes: a ticket at version 1; the hall closes it (its version 2); the village starts it (also
from 1) and, before it learns of the conflict, withdraws it (parent version 2, on its own branch). The manager keeps
the hall's close: the ticket is at version 2 again — and the village's withdrawal, arriving then, names version 2.
By the integer it would follow the close; by its parent's hash it builds on the start, which did not take effect.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sync_env import act, add_point, add_tickets, cli, make_hall, make_laptop, ok, ticket_digest, ticket_row

from hall.paths import Paths
from hall.services.bootstrap import open_hall
from hall.services.storage import at_rest
from hall.services.sync import conflicts
from hall.services.tickets import record

DAY = datetime(2026, 3, 3, 9, 0)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A hall and the laptop of point 001 whose tickets it has imported; nothing acted on them since."""
    root = tmp_path_factory.mktemp("lineage")
    hall = make_hall(root / "hall")
    add_point(hall, "001")
    lap = make_laptop(hall, root / "lap", "001")
    add_tickets(lap, 3, seed=31)
    first = root / "first.hallsync"
    ok(cli(lap, "sync", "export", "--out", str(first)))
    ok(cli(hall, "sync", "import", str(first)))
    with at_rest.connect(lap / "hall.sqlite3") as c:
        number = c.execute("SELECT number FROM tickets WHERE state = 'accepted' ORDER BY number").fetchone()[0]
    return {"hall": hall, "lap": lap, "number": number}


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _export(node: Path, out: Path, *to: str) -> Path:
    ok(cli(node, "sync", "export", *(("--to", *to) if to else ()), "--out", str(out)))
    return out


def _statuses(data_dir: Path, number: str) -> list[tuple[str, str, str]]:
    """(event type, node, 已生效 / held / lost) of the ticket's events, in the order of its history."""
    opened = open_hall(Paths.resolve(data_dir))
    try:
        with opened.db.reading() as s:
            t = record.get(s, number)
            status = conflicts.event_status(s, t.uid)
            nodes = {e.event_id: e.node_id for e in record.ledger.history(s, t.uid)}
            return [(h.type, nodes[h.event_id], status.get(h.event_id, "applied")) for h in record.history(s, t)]
    finally:
        opened.db.dispose()


def _cid(node: Path) -> str:
    return ok(cli(node, "sync", "conflicts")).out.split()[0]


@pytest.fixture(scope="module")
def resolved(base, tmp_path_factory):
    """The blind spot, played: the village's withdrawal (built on its start) reaches the hall after the manager
    kept the hall's close; then the laptop takes the hall's return bundle."""
    tmp = tmp_path_factory.mktemp("resolved")
    hall, lap, number = _copy(base["hall"], tmp / "hall"), _copy(base["lap"], tmp / "lap"), base["number"]
    act(hall, number, "close", DAY)  # H1, parent 1
    act(lap, number, "start", DAY + timedelta(minutes=5))  # V1, parent 1
    up1 = _export(lap, tmp / "up1.hallsync")
    act(lap, number, "withdraw", DAY + timedelta(minutes=9))  # V2, parent 2: built on V1
    up2 = _export(lap, tmp / "up2.hallsync")
    ok(cli(hall, "sync", "import", str(up1)))
    ok(cli(hall, "sync", "resolve", _cid(hall), "--keep", "hall", "--reason", "申请人到中心确认办结"))
    assert ticket_row(hall, number)[2] == "closed_approved" and ticket_row(hall, number)[6] == 2
    ok(cli(hall, "sync", "import", str(up2)))  # V2 names version 2 == the hall's version
    ok(cli(lap, "sync", "import", str(_export(hall, tmp / "back.hallsync", "001"))))
    return {"hall": hall, "lap": lap, "number": number, "tmp": tmp}


def test_an_event_built_on_the_branch_not_kept_does_not_take_effect_on_either_node(resolved):
    hall, lap, number = resolved["hall"], resolved["lap"], resolved["number"]
    assert ticket_row(hall, number) == ticket_row(lap, number)
    assert ticket_row(hall, number)[2:4] == ("closed_approved", 0)  # not withdrawn
    assert ticket_digest(hall, number) == ticket_digest(lap, number)
    for node in (hall, lap):
        village = [(t, s) for t, n, s in _statuses(node, number) if t in ("ticket.started", "ticket.withdrawn")]
        assert village == [("ticket.started", "lost"), ("ticket.withdrawn", "lost")]
        listed = ok(cli(node, "sync", "conflicts", "--all")).out
        assert listed.count("（未生效）") == 2 and "撤回" in listed and "保留中心的办理" in listed
    assert ok(cli(hall, "sync", "conflicts", "--all")).out == ok(cli(lap, "sync", "conflicts", "--all")).out
    # A replay (ledger check) derives the same rows on both; the integer alone would have applied the withdrawal.
    for node in (hall, lap):
        assert "所有表一致" in ok(cli(node, "ledger", "check", "--quiet")).out


def test_a_village_event_written_after_the_laptop_took_the_resolution_applies(resolved, tmp_path):
    hall, lap, number = _copy(resolved["hall"], tmp_path / "hall"), _copy(resolved["lap"], tmp_path / "lap"), \
        resolved["number"]
    act(lap, number, "deliver", DAY + timedelta(hours=3))  # the village hands the result over: built on the close
    assert ticket_row(lap, number)[2] == "delivered"
    ok(cli(hall, "sync", "import", str(_export(lap, tmp_path / "up3.hallsync"))))
    assert ticket_row(hall, number) == ticket_row(lap, number) and ticket_row(hall, number)[2] == "delivered"
    assert ticket_digest(hall, number) == ticket_digest(lap, number)
    assert _statuses(hall, number)[-1][::2] == ("ticket.delivered", "applied")
    assert "所有表一致" in ok(cli(hall, "ledger", "check", "--quiet")).out


# ------------------------------------------------------------------------------------------ any interleaving
HALL_BRANCH = ("pause", "resume", "start", "close")
VILLAGE_BRANCH = ("start", "pause", "resume", "withdraw")


@st.composite
def plans(draw):
    """Two branches off one version (the hall's m events, the village's n, each written before its node hears of
    the other's), the village's events sent in bundles cut at random, the resolution after a random one of them
    (or never), the laptop perhaps taking a return bundle before the resolution, and perhaps acting on the ticket
    once more after it took the resolution."""
    m = draw(st.integers(1, 4))
    n = draw(st.integers(1, 4))
    cuts = [*sorted(draw(st.sets(st.integers(1, n - 1), max_size=n - 1)) if n > 1 else set()), n]
    keep = draw(st.sampled_from(("hall", "village", "none", None)))
    after = draw(st.integers(0, len(cuts) - 1))  # the resolution follows the import of that bundle
    early = draw(st.none() | st.integers(-1, len(cuts) - 1))  # a return bundle taken after that import
    return m, n, cuts, keep, after, early, draw(st.booleans())


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=plans())
@example(plan=(1, 2, [1, 2], "hall", 0, None, True))  # the blind spot: the village's second event after the resolution
def test_any_interleaving_of_two_branches_converges_and_keeps_only_the_kept_branch(base, tmp_path_factory, plan):
    m, n, cuts, keep, after, early, later = plan
    tmp = tmp_path_factory.mktemp("plan")
    hall, lap, number = _copy(base["hall"], tmp / "hall"), _copy(base["lap"], tmp / "lap"), base["number"]
    for i, action in enumerate(HALL_BRANCH[:m]):
        act(hall, number, action, DAY + timedelta(minutes=2 * i))
    ups = []
    for i, action in enumerate(VILLAGE_BRANCH[:n]):
        act(lap, number, action, DAY + timedelta(minutes=2 * i + 1))
        if i + 1 in cuts:
            ups.append(_export(lap, tmp / f"up{i + 1}.hallsync"))
    early_back = _export(hall, tmp / "early.hallsync", "001") if early == -1 else None
    for j, up in enumerate(ups):
        ok(cli(hall, "sync", "import", str(up)))
        if j == after and keep is not None:
            ok(cli(hall, "sync", "resolve", _cid(hall), "--keep", keep, "--reason", "中心主任核实后处理"))
        if j == early:
            early_back = _export(hall, tmp / "early.hallsync", "001")
    if early_back is not None:
        ok(cli(lap, "sync", "import", str(early_back)))
    ok(cli(lap, "sync", "import", str(_export(hall, tmp / "back.hallsync", "001"))))
    # After the laptop took the resolution, a new action of the village is built on what was kept: it applies.
    state = ticket_row(lap, number)[2]
    again = {"accepted": "withdraw", "in_progress": "withdraw", "closed_approved": "deliver"}.get(state) \
        if later and keep is not None else None
    if again:
        act(lap, number, again, DAY + timedelta(hours=2))
    ok(cli(hall, "sync", "import", str(_export(lap, tmp / "last.hallsync"))))

    assert ticket_row(hall, number) == ticket_row(lap, number)
    assert ticket_digest(hall, number) == ticket_digest(lap, number)
    assert ticket_digest(hall, number)[1]["sync_conflicts"] == 1
    hall_view, lap_view = _statuses(hall, number), _statuses(lap, number)
    assert sorted(hall_view) == sorted(lap_view)
    with at_rest.connect(lap / "hall.sqlite3") as c:
        village_node = c.execute("SELECT node_id FROM events WHERE type = 'sync.joined'").fetchone()[0]
    # Every event after the intake is on one of the two branches (the close's follow-up on the hall's).
    branch = [("village" if node == village_node else "hall", status) for type_, node, status in hall_view
              if type_ not in ("ticket.received", conflicts.RESOLVED)]
    if again:
        assert branch.pop() == ("village", "applied")
        assert ticket_row(hall, number)[2] == {"withdraw": "withdrawn", "deliver": "delivered"}[again]
    assert len(branch) == m + n + (m == 4)
    for side, status in branch:
        if keep is None:
            assert status == "held"  # frozen until the manager decides
        else:
            assert status == ("applied" if side == keep else "lost")
    assert "所有表一致" in ok(cli(hall, "ledger", "check", "--quiet")).out
