"""Village laptops and the hall on real data directories: enrolment, bundles, idempotent and order-independent
imports, foreign chains in ``ledger verify``, a replacement laptop's numbering."""

from __future__ import annotations

import itertools
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sync_env import ROOT, act, add_point, add_tickets, cli, digest, make_hall, make_laptop, ok, ticket_row

from hall.services.storage import at_rest

POINTS = ("001", "002", "003")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A hall with three enrolled laptops, each with a few tickets and an exported bundle; the hall's data
    directory is kept pristine (copy it to import into)."""
    base = tmp_path_factory.mktemp("sync")
    hall = make_hall(base / "hall")
    for point in POINTS:
        add_point(hall, point)
    ok(cli(hall, "staff", "add", "--no", "v01", "--name", "李村", "--role", "village", "--point", "001",
           "--password", "village-pass"))
    ok(cli(hall, "staff", "add", "--no", "c02", "--name", "王窗", "--role", "clerk", "--window", "W02",
           "--password", "clerk-pass-1"))
    laptops, bundles = {}, {}
    for n, point in enumerate(POINTS):
        lap = laptops[point] = make_laptop(hall, base / f"lap{point}", point)
        add_tickets(lap, 12 + 3 * n, seed=n + 1)
        bundles[point] = base / f"{point}.hallsync"
        ok(cli(lap, "sync", "export", "--out", str(bundles[point])))
    return {"base": base, "hall": hall, "laptops": laptops, "bundles": bundles, "empty": digest(hall)}


def hall_copy(world, name: str) -> Path:
    target = world["base"] / name
    shutil.copytree(world["hall"], target)
    return target


def test_enrolment_provisions_the_laptop_from_the_hall(world):
    lap = world["laptops"]["001"]
    assert stat.S_IMODE((lap / "sync_keys.json").stat().st_mode) == 0o600
    with at_rest.connect(lap / "hall.sqlite3") as c:
        own = c.execute("SELECT node_id FROM events WHERE type = 'sync.joined'").fetchone()[0]
        # The laptop wrote nothing of its own but the join and its tickets: no seeded catalogue or calendar that
        # would collide with the hall's genesis events.
        types = {t for (t,) in c.execute("SELECT DISTINCT type FROM events WHERE node_id = ?", (own,))}
        assert types <= {"sync.joined", "ticket.received", "ticket.closed"}
        assert c.execute("SELECT count(*) FROM items WHERE is_current").fetchone()[0] == 76
        staff = dict(c.execute("SELECT staff_no, password_hash FROM staff").fetchall())
    # Only the village's own staff, with their password hash; nobody of the hall.
    assert set(staff) == {"v01"} and staff["v01"]
    with at_rest.connect(world["laptops"]["002"] / "hall.sqlite3") as c:
        assert c.execute("SELECT count(*) FROM staff").fetchone()[0] == 0
    assert "哈希链全部相符" in ok(cli(lap, "ledger", "verify")).out
    assert "所有表一致" in ok(cli(lap, "ledger", "check", "--quiet")).out


def test_a_second_laptop_for_the_same_point_is_refused(world, tmp_path):
    hall = hall_copy(world, "hall_dup")
    ok(cli(tmp_path / "other", "sync", "request", "--point", "001", "--out", str(tmp_path / "r")))
    run = cli(hall, "sync", "enrol", str(tmp_path / "r"), "--out", str(tmp_path / "p"))
    assert run.code == 2 and "受理点 001 已有登记的终端" in run.err


def test_import_round_trip_is_idempotent_and_verified(world):
    hall = hall_copy(world, "hall_rt")
    before = digest(hall)
    first = cli(hall, "sync", "import", str(world["bundles"]["001"]))  # a real process: the LAN and kill tests
    assert first.code == 0 and "已导入" in first.out, first.err
    after = digest(hall)
    assert after != before
    again = cli(hall, "sync", "import", str(world["bundles"]["001"]))
    assert again.code == 0 and "已导入过" in again.out and "未做任何更改" in again.out
    assert digest(hall) == after
    assert "2 个终端" in ok(cli(hall, "ledger", "verify")).out
    assert "所有表一致" in ok(cli(hall, "ledger", "check", "--quiet")).out
    # A ticket registered on the laptop is at the hall, under the laptop's point code.
    with at_rest.connect(hall / "hall.sqlite3") as c:
        assert c.execute("SELECT count(*) FROM tickets WHERE intake_point = '001'").fetchone()[0] == 12


def test_verify_fails_when_an_imported_chain_loses_its_tail_or_all_of_it(world):
    hall = hall_copy(world, "hall_tail")
    ok(cli(hall, "sync", "import", str(world["bundles"]["002"])))
    with at_rest.connect(hall / "hall.sqlite3") as c:
        node = c.execute("SELECT node_id FROM events WHERE type = 'sync.joined'").fetchone()[0]
        last = c.execute("SELECT max(seq) FROM events WHERE node_id = ?", (node,)).fetchone()[0]
        c.execute("DELETE FROM events WHERE node_id = ? AND seq = ?", (node, last))
    run = cli(hall, "ledger", "verify")
    assert run.code == 1 and "末尾事件被删除" in run.err
    with at_rest.connect(hall / "hall.sqlite3") as c:
        c.execute("DELETE FROM events WHERE node_id = ? AND seq = 3", (node,))
    run = cli(hall, "ledger", "verify")
    assert run.code == 1 and ("序号不连续" in run.err)
    with at_rest.connect(hall / "hall.sqlite3") as c:
        c.execute("DELETE FROM events WHERE node_id = ?", (node,))
    run = cli(hall, "ledger", "verify")
    assert run.code == 1 and "没有它的任何事件" in run.err


ORDERS = [p for i, p in enumerate(itertools.permutations(POINTS)) if i in (0, 3, 5)]


def test_any_order_of_laptops_gives_one_digest(world):
    digests = set()
    for i, order in enumerate(ORDERS):
        hall = hall_copy(world, f"hall_order{i}")
        for point in order:
            ok(cli(hall, "sync", "import", str(world["bundles"][point])))
        # Importing one again in the middle of the others changes nothing.
        ok(cli(hall, "sync", "import", str(world["bundles"][order[0]])))
        digests.add(digest(hall))
    assert len(digests) == 1 and world["empty"] not in digests


def test_a_replacement_laptop_continues_numbering_above_the_old_one(world, tmp_path):
    hall = hall_copy(world, "hall_replace")
    ok(cli(hall, "sync", "import", str(world["bundles"]["003"])))
    ok(cli(hall, "sync", "revoke", "003", "--reason", "笔记本电脑丢失"))
    refused = cli(hall, "sync", "import", str(world["bundles"]["003"]))
    assert refused.code == 2 and "已被吊销" in refused.err
    new = make_laptop(hall, tmp_path / "lap003b", "003")
    add_tickets(new, 1, seed=9)
    with at_rest.connect(new / "hall.sqlite3") as c:
        number = c.execute("SELECT max(number) FROM tickets").fetchone()[0]
        held = c.execute("SELECT count(*) FROM tickets").fetchone()[0]
    assert number.endswith("-003-20260302-0019")  # the old laptop numbered 18 that day
    assert held == 19  # and the village's 18 earlier tickets came with the provisioning file
    bundle = tmp_path / "b"
    ok(cli(new, "sync", "export", "--out", str(bundle)))
    ok(cli(hall, "sync", "import", str(bundle)))
    assert "所有表一致" in ok(cli(hall, "ledger", "check", "--quiet")).out


def _open_village_ticket(lap: Path) -> str:
    with at_rest.connect(lap / "hall.sqlite3") as c:
        return c.execute("SELECT number FROM tickets WHERE state = 'accepted' ORDER BY number").fetchone()[0]


def test_what_the_hall_does_on_a_village_ticket_flows_back(world, tmp_path):
    hall = hall_copy(world, "hall_back")
    lap = tmp_path / "lap"
    shutil.copytree(world["laptops"]["002"], lap)
    ok(cli(hall, "sync", "import", str(world["bundles"]["002"])))
    number = _open_village_ticket(lap)
    act(hall, number, "start")
    act(hall, number, "close")
    back = tmp_path / "back.hallsync"
    ok(cli(hall, "sync", "export", "--to", "002", "--out", str(back)))
    run = ok(cli(lap, "sync", "import", str(back)))
    assert "已导入" in run.out
    assert ticket_row(lap, number) == ticket_row(hall, number)
    assert ticket_row(lap, number)[2] == "closed_approved"
    assert "所有表一致" in ok(cli(lap, "ledger", "check", "--quiet")).out
    assert "哈希链全部相符" in ok(cli(lap, "ledger", "verify")).out
    assert "已导入过" in ok(cli(lap, "sync", "import", str(back))).out


# The same ticket acted on at both ends: a sync conflict on both nodes (test_sync_conflicts.py).


def test_the_lan_path_is_the_same_protocol(world, tmp_path):
    """``sync serve`` in a real process at the hall, ``sync push`` from a laptop: sent, taken back, idempotent."""
    hall = hall_copy(world, "hall_lan")
    lap = tmp_path / "lap"
    shutil.copytree(world["laptops"]["001"], lap)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    server = subprocess.Popen([sys.executable, "-m", "hall.cli", "--data-dir", str(hall), "sync", "serve",
                               "--host", "127.0.0.1", "--port", "0"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        url = line.split("：", 1)[1].strip().removesuffix("/hall-sync/v1")
        first = ok(cli(lap, "sync", "push", "--url", url))
        again = ok(cli(lap, "sync", "push", "--url", url))
        assert "中心已接收" in first.out and "已导入过" in again.out
    finally:
        server.terminate()
        server.communicate(timeout=10)  # also closes the pipe
    with at_rest.connect(hall / "hall.sqlite3") as c:
        assert c.execute("SELECT count(*) FROM tickets WHERE intake_point = '001'").fetchone()[0] == 12
    refused = cli(lap, "sync", "push", "--url", url)
    assert refused.code == 2 and "无法连接中心" in refused.err


def test_init_on_a_laptop_creates_no_administrator_of_its_own(world):
    lap = world["laptops"]["002"]
    run = ok(cli(lap, "init", "--admin-password", "admin-pass-1"))
    assert "已创建管理员" not in run.out
    with at_rest.connect(lap / "hall.sqlite3") as c:
        assert c.execute("SELECT count(*) FROM staff").fetchone()[0] == 0
