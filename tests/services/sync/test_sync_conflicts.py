"""Sync conflicts on real data directories: the same ticket closed at the hall and withdrawn at the village gives
the same conflict on both nodes, frozen at the fork point, shown, resolved by the manager, and both nodes converge
after the next exchange; the conflict does not depend on the order bundles are imported in."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sync_env import act, add_point, add_tickets, cli, digest, make_hall, make_laptop, ok, ticket_row

from hall.errors import ConflictError
from hall.paths import Paths
from hall.services.base.actor import Actor
from hall.services.bootstrap import open_hall
from hall.services.storage import at_rest
from hall.services.sync import conflicts, flags
from hall.services.tickets import intake, record

POINTS = ("001", "002")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A hall with two laptops whose tickets it has imported; each laptop then withdraws one ticket that the hall
    closes meanwhile. Nothing is exchanged after that: tests copy the directories and exchange themselves."""
    base = tmp_path_factory.mktemp("conflicts")
    hall = make_hall(base / "hall")
    for point in POINTS:
        add_point(hall, point)
    laptops, numbers = {}, {}
    for n, point in enumerate(POINTS):
        lap = laptops[point] = make_laptop(hall, base / f"lap{point}", point)
        add_tickets(lap, 4, seed=20 + n)
        first = base / f"first{point}.hallsync"
        ok(cli(lap, "sync", "export", "--out", str(first)))
        ok(cli(hall, "sync", "import", str(first)))
        numbers[point] = _open_ticket(lap)
        act(hall, numbers[point], "close")
        act(lap, numbers[point], "withdraw")
    return {"base": base, "hall": hall, "laptops": laptops, "numbers": numbers}


def _open_ticket(lap: Path) -> str:
    with at_rest.connect(lap / "hall.sqlite3") as c:
        return c.execute("SELECT number FROM tickets WHERE state = 'accepted' ORDER BY number").fetchone()[0]


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _sync_rows(data_dir: Path) -> tuple[list[tuple], list[tuple]]:
    with at_rest.connect(data_dir / "hall.sqlite3") as c:
        return (c.execute("SELECT conflict_id, ticket_uid, parent_version, node_a, event_a, node_b, event_b, "
                          "found_at, state, kept_node, reason, resolved_by, resolved_at, resolution_event "
                          "FROM sync_conflicts ORDER BY conflict_id").fetchall(),
                c.execute("SELECT event_id, ticket_uid, conflict_id, node_id, status FROM sync_held_events "
                          "ORDER BY event_id").fetchall())


def _bundles(world, tmp: Path, point: str) -> tuple[Path, Path]:
    back, up = tmp / f"back{point}.hallsync", tmp / f"up{point}.hallsync"
    ok(cli(world["hall"], "sync", "export", "--to", point, "--out", str(back)))
    ok(cli(world["laptops"][point], "sync", "export", "--out", str(up)))
    return back, up


def _try(data_dir: Path, number: str) -> str:
    opened = open_hall(Paths.resolve(data_dir))
    try:
        with pytest.raises(ConflictError) as refused, opened.db.transaction() as s:
            record.void(s, opened.system, number, "登记有误")
        return refused.value.message
    finally:
        opened.db.dispose()


def test_closed_at_the_hall_withdrawn_at_the_village_converge_after_the_resolution(world, tmp_path):
    hall = _copy(world["hall"], tmp_path / "hall")
    lap = _copy(world["laptops"]["001"], tmp_path / "lap")
    number = world["numbers"]["001"]
    at_fork = ticket_row(world["hall"], number)[:3]
    back, up = tmp_path / "back.hallsync", tmp_path / "up.hallsync"
    ok(cli(hall, "sync", "export", "--to", "001", "--out", str(back)))
    ok(cli(lap, "sync", "export", "--out", str(up)))
    ok(cli(lap, "sync", "import", str(back)))
    ok(cli(hall, "sync", "import", str(up)))

    # The same conflict on both nodes, both branches held, the ticket frozen at the fork point (accepted, v1).
    assert _sync_rows(hall) == _sync_rows(lap) and len(_sync_rows(hall)[0]) == 1
    assert ticket_row(hall, number) == ticket_row(lap, number)
    assert ticket_row(hall, number)[2:7] == ("accepted", 1, None, "", 1) and at_fork[2] == "closed_approved"
    assert _try(hall, number) == _try(lap, number) == "该办件存在同步冲突，须由中心主任处理后才能继续办理"
    listed = ok(cli(hall, "sync", "conflicts")).out
    assert number in listed and "待中心主任处理" in listed and "办结" in listed and "撤回" in listed
    assert listed.count("（待处理）") == 3  # the close, the follow-up it scheduled, the withdrawal
    assert ok(cli(lap, "sync", "conflicts")).out == listed

    # Only the hall resolves it; the laptop cannot, and a laptop's bundle may not carry a resolution.
    cid = listed.split()[0]
    refused = cli(lap, "sync", "resolve", cid, "--keep", "village", "--reason", "村里处理")
    assert refused.code != 0 and "村代办点终端" in refused.err
    ok(cli(hall, "sync", "resolve", cid, "--keep", "village", "--reason", "申请人确已在村里撤回"))
    assert ticket_row(hall, number)[2] == "withdrawn"
    again = cli(hall, "sync", "resolve", cid, "--keep", "hall", "--reason", "再处理一次")
    assert again.code != 0 and "已于" in again.err

    back2 = tmp_path / "back2.hallsync"
    ok(cli(hall, "sync", "export", "--to", "001", "--out", str(back2)))
    assert "新事件 1 条" in ok(cli(lap, "sync", "import", str(back2))).out  # the resolution, and nothing else
    assert ticket_row(hall, number) == ticket_row(lap, number)
    assert ticket_row(lap, number)[2] == "withdrawn"
    assert _sync_rows(hall) == _sync_rows(lap)
    done = ok(cli(lap, "sync", "conflicts", "--all")).out
    assert done == ok(cli(hall, "sync", "conflicts", "--all")).out
    assert done.count("（未生效）") == 2 and "（已生效）" in done and "申请人确已在村里撤回" in done
    assert ok(cli(hall, "sync", "conflicts")).out.strip() == "没有待处理的同步冲突"
    # A replay derives the conflict and its resolution again, the same (the laptop's: test_sync_conflicts_pg.py).
    assert "所有表一致" in ok(cli(hall, "ledger", "check", "--quiet")).out
    for node in (hall, lap):
        assert "哈希链全部相符" in ok(cli(node, "ledger", "verify")).out
    # The history keeps both branches; the lost one is labelled.
    opened = open_hall(Paths.resolve(hall))
    try:
        with opened.db.reading() as s:
            t = record.get(s, number)
            status = conflicts.event_status(s, t.uid)
            lost = [h.type for h in record.history(s, t) if status.get(h.event_id) == "lost"]
            assert lost == ["ticket.closed", "followup.scheduled"]
            assert not conflicts.is_conflicted(s, t.uid)
    finally:
        opened.db.dispose()
    # An exact re-import changes nothing.
    before = digest(hall)
    assert "已导入过" in ok(cli(hall, "sync", "import", str(up))).out and digest(hall) == before


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(POINTS), twice=st.booleans())
def test_the_conflict_records_do_not_depend_on_the_import_order(world, tmp_path_factory, order, twice):
    """Both laptops' bundles at the hall in either order (one perhaps twice): the same conflict rows and state."""
    tmp = tmp_path_factory.mktemp("order")
    hall = _copy(world["hall"], tmp / "hall")
    for point in order:
        up = world["base"] / f"up{point}.hallsync"
        if not up.exists():
            ok(cli(world["laptops"][point], "sync", "export", "--out", str(up)))
        ok(cli(hall, "sync", "import", str(up)))
        if twice:
            ok(cli(hall, "sync", "import", str(up)))
    rows = _sync_rows(hall)
    assert len(rows[0]) == 2 and {r[8] for r in rows[0]} == {"open"}
    seen = (rows, digest(hall))
    assert seen == world.setdefault("order_rows", seen)


def test_a_name_told_differently_for_one_id_number_is_flagged(world, tmp_path):
    hall = _copy(world["hall"], tmp_path / "hall")
    with at_rest.connect(hall / "hall.sqlite3") as c:
        id_no = c.execute("SELECT applicant_id_no FROM tickets WHERE intake_point = '001'").fetchone()[0]
    opened = open_hall(Paths.resolve(hall))
    try:
        with opened.db.transaction() as s:
            assert flags.listing(s) == []
            intake.register(s, opened.system, intake.IntakeForm(
                "11", intake.ApplicantForm("person", id_no, "张叁", "13812345678", "东村3组")))
        with opened.db.reading() as s:
            found = flags.listing(s)
    finally:
        opened.db.dispose()
    assert [f.kind for f in found] == ["name"]
    assert "“张三”" in found[0].text and "“张叁”" in found[0].text and id_no not in found[0].text
    assert "同一证件号码姓名不同" in ok(cli(hall, "sync", "flags")).out


def test_two_nodes_numbering_one_intake_point_at_once_are_flagged(world, tmp_path):
    """A second node registering under point 001 while its laptop did (a copied laptop): flagged; the same node
    later (a replacement after a revocation) would not overlap."""
    hall = _copy(world["hall"], tmp_path / "hall")
    opened = open_hall(Paths.resolve(hall))
    try:
        copy = Actor.system("copied-laptop-001", "001")
        with opened.db.transaction() as s:
            assert flags.point_flags(s) == []
            intake.register(s, copy, intake.IntakeForm("11", intake.ApplicantForm(
                "person", "11010519491231002X", "王五", "13800138000")), now=datetime(2026, 3, 2, 9, 2))
        with opened.db.reading() as s:
            found = flags.point_flags(s)
    finally:
        opened.db.dispose()
    assert [(f.kind, f.key) for f in found] == [("point", "001")] and "copied-l" in found[0].text
