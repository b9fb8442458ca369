"""Return files carry only what the laptop lacks; a replacement checks its predecessor's chain properly.

- The hall cuts each relayed chain (hall-side and earlier laptops' alike) after the laptop's acknowledgement, as
  far as the hall can prove it (exchange.acknowledged); a file built before an acknowledgement and imported late
  is a clean no-op; a laptop restored from an older backup sets aside what continues an event it lacks and
  catches up from its next bundle's acknowledgement.
- The hall's files carry the point's earlier laptops' public signing keys: the replacement checks their signed
  heads against them (a head signed with another key fails ``ledger verify``).
- ``ledger verify`` on the replacement checks an earlier laptop's chain link by link: a deleted link or tail
  fails, naming the chain; events still waiting (parked) are no failure.

Real data directories driven through ``hall-admin``, files opened with the laptop's real keys.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sync_env import act, add_point, add_tickets, cli, digest, make_hall, ok, ticket_digest, ticket_row

from hall.paths import Paths
from hall.services.bootstrap import open_hall
from hall.services.storage import anchor, at_rest
from hall.services.sync import bundle, heads, keys

DAY = datetime(2026, 3, 3, 10, 0)


def _rows(data_dir: Path, sql: str, *args: object) -> list[tuple]:
    with at_rest.connect(data_dir / "hall.sqlite3") as c:
        return c.execute(sql, args).fetchall()


def _numbers(data_dir: Path) -> list[str]:
    return [n for (n,) in _rows(data_dir, "SELECT number FROM tickets WHERE intake_point = '001' ORDER BY number")]


def _enrol(hall: Path, lap: Path) -> None:
    req, prov = lap.parent / f"{lap.name}.req", lap.parent / f"{lap.name}.prov"
    ok(cli(lap, "sync", "request", "--point", "001", "--out", str(req)))
    ok(cli(hall, "sync", "enrol", str(req), "--out", str(prov)))
    ok(cli(lap, "sync", "join", str(prov)))


def _send(src: Path, dst: Path, out: Path, *to: str) -> Path:
    """``src`` exports (to ``to``), ``dst`` imports: one file carried over."""
    ok(cli(src, "sync", "export", *(("--to", *to) if to else ()), "--out", str(out)))
    ok(cli(dst, "sync", "import", str(out)))
    return out


def _export(hall: Path, out: Path, *extra: str) -> Path:
    ok(cli(hall, "sync", "export", "--to", "001", *extra, "--out", str(out)))
    return out


def _opened(lap: Path, path: Path) -> bundle.Opened:
    mine = keys.load(lap)
    assert mine is not None
    return bundle.open_bundle(mine, path.read_bytes())


def _sign_head(data_dir: Path, private: Any = None) -> None:
    """The node signs its chain head (as its daily run does), or — ``private`` — someone signs it with another key."""
    opened = open_hall(Paths.resolve(data_dir))
    try:
        if private is None:
            heads.sign_now(opened.db, opened.system, data_dir)
        else:
            with opened.db.transaction() as s:
                anchor.sign_head(s, opened.system, private)
    finally:
        opened.db.dispose()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Point 001's first laptop registers 30 tickets and signs its head; the hall takes them and acts on two; the
    laptop is revoked and a replacement joins, then sends its first bundle (its acknowledgement) to the hall."""
    base = tmp_path_factory.mktemp("ack")
    hall = make_hall(base / "hall")
    add_point(hall, "001")
    old = base / "old"
    _enrol(hall, old)
    add_tickets(old, 30, seed=71)
    _sign_head(old)
    add_tickets(old, 2, seed=72, start=datetime(2026, 3, 2, 15, 0))  # after the signed head: the tail
    _send(old, hall, base / "o.hallsync")
    accepted = [n for (n,) in _rows(hall, "SELECT number FROM tickets WHERE state = 'accepted' ORDER BY number")]
    act(hall, accepted[0], "start", DAY)
    act(hall, accepted[1], "start", DAY)
    act(hall, accepted[1], "close", DAY.replace(hour=15))
    ok(cli(hall, "sync", "revoke", "001", "--reason", "笔记本电脑丢失"))
    ok(cli(hall, "staff", "add", "--no", "v07", "--name", "周村", "--role", "village", "--point", "001",
           "--password", "village-pass-7"))
    new = base / "new"
    _enrol(hall, new)
    _send(new, hall, base / "n.hallsync")  # the hall now has its acknowledgement
    return {"base": base, "hall": hall, "old": old, "new": new, "open": accepted[2:],
            "old_node": keys.load(old).node_id, "hall_node": keys.load(hall).node_id}


def _copy(world, name: str, *nodes: str) -> list[Path]:
    out = []
    for node in nodes:
        shutil.copytree(world[node], world["base"] / f"{name}-{node}")
        out.append(world["base"] / f"{name}-{node}")
    return out


def _same_village(hall: Path, lap: Path) -> None:
    numbers = _numbers(hall)
    assert numbers == _numbers(lap) and len(numbers) == 32
    for number in numbers:
        assert ticket_row(lap, number) == ticket_row(hall, number)
        assert ticket_digest(lap, number) == ticket_digest(hall, number)


def test_a_return_file_carries_only_what_the_laptop_lacks(world):
    hall, new = _copy(world, "delta", "hall", "new")
    number = world["open"][0]
    act(hall, number, "start", DAY.replace(day=4))
    whole = _export(hall, hall.parent / "delta-full.hallsync", "--full")
    delta = _export(hall, hall.parent / "delta.hallsync")
    full_m, m = _opened(new, whole).manifest, _opened(new, delta).manifest
    assert world["old_node"] in {c["node_id"] for c in full_m["chains"]}
    # Only the start: nothing of the old laptop's chain, no reference event again.
    assert [c["node_id"] for c in m["chains"]] == [world["hall_node"]] and m["count"] == 1, m["chains"]
    assert m["extra"]["earlier"] == [] and list(m["extra"]["base"]) == [world["hall_node"]]
    assert m["extra"]["base"][world["hall_node"]] == list(_rows(
        new, "SELECT seq, hash FROM node_heads WHERE node_id = ?", world["hall_node"])[0])
    assert delta.stat().st_size * 5 < whole.stat().st_size, (delta.stat().st_size, whole.stat().st_size)
    run = ok(cli(new, "sync", "import", str(delta)))
    assert "更新办件 1 件" in run.out and "暂存" not in run.out, run.out
    _same_village(hall, new)
    # The whole file afterwards: everything in it is held, byte for byte.
    assert "没有变化" in ok(cli(new, "sync", "import", str(whole))).out
    assert "哈希链全部相符" in ok(cli(new, "ledger", "verify")).out
    assert "所有表一致" in ok(cli(new, "ledger", "check", "--quiet")).out


def test_a_village_clerks_new_password_after_the_acknowledgement_reaches_the_laptop(world):
    """The clerk was added before the cut (the laptop has that event); the password set after it still goes: the
    hall knows the village's people from every staff event, not only from those it sends."""
    from hall.services.people import staff

    hall, new = _copy(world, "password", "hall", "new")
    opened = open_hall(Paths.resolve(hall))
    try:
        with opened.db.transaction() as s:
            staff.set_password(s, opened.system, "v07", "village-pass-77")
    finally:
        opened.db.dispose()
    m = _opened(new, _send(hall, new, hall.parent / "password.hallsync", "001")).manifest
    assert m["count"] == 1
    query = "SELECT password_hash FROM staff WHERE staff_no = 'v07'"
    assert _rows(new, query) == _rows(hall, query) != _rows(world["new"], query)


def test_a_file_built_before_the_acknowledgement_and_imported_late_is_a_clean_no_op(world):
    hall, new = _copy(world, "late", "hall", "new")
    first, second = world["open"][:2]
    act(hall, first, "start", DAY.replace(day=4))
    early = _export(hall, hall.parent / "late-1.hallsync")
    _send(hall, new, hall.parent / "late-1b.hallsync", "001")  # the same events in another file
    _send(new, hall, hall.parent / "late-up.hallsync")  # acknowledged
    act(hall, second, "start", DAY.replace(day=5))
    ok(cli(hall, "staff", "add", "--no", "c09", "--name", "孙窗", "--role", "clerk", "--window", "W01",
           "--password", "clerk-pass-9"))
    later = _export(hall, hall.parent / "late-2.hallsync")
    assert _opened(new, later).manifest["count"] == 1  # cut after the acknowledgement: the second start alone
    ok(cli(new, "sync", "import", str(later)))
    people = "SELECT uid, staff_no, name, active FROM sync_staff_directory ORDER BY uid"
    assert ("c09", "孙窗") in [r[1:3] for r in _rows(new, people)]
    before = digest(new), _rows(new, "SELECT * FROM node_heads ORDER BY node_id"), _rows(new, people)
    run = ok(cli(new, "sync", "import", str(early)))
    assert "没有变化" in run.out, run.out
    # Nothing put back: not the events, not the older staff directory it carries (without c09).
    assert (digest(new), _rows(new, "SELECT * FROM node_heads ORDER BY node_id"), _rows(new, people)) == before
    _same_village(hall, new)


def test_a_laptop_restored_from_an_older_backup_catches_up(world):
    """The laptop took a file and acknowledged it, then was restored from a backup made before: the hall's next
    file continues an event it no longer holds — set aside, said, nothing changed; its next bundle acknowledges
    what it does hold, and the hall's file after that brings everything from there."""
    hall, new = _copy(world, "restore", "hall", "new")
    backup = world["base"] / "restore-backup"
    shutil.copytree(new, backup)
    first, second = world["open"][:2]
    act(hall, first, "start", DAY.replace(day=4))
    _send(hall, new, hall.parent / "restore-1.hallsync", "001")
    _send(new, hall, hall.parent / "restore-up.hallsync")
    shutil.rmtree(new)
    shutil.copytree(backup, new)  # restored: the first start is gone from it
    act(hall, second, "start", DAY.replace(day=5))
    cut = _export(hall, hall.parent / "restore-2.hallsync")
    before = digest(new)
    run = ok(cli(new, "sync", "import", str(cut)))
    assert "暂未导入" in run.out and "备份" in run.out and world["hall_node"][:8] in run.out, run.out
    assert digest(new) == before and _rows(new, "SELECT count(*) FROM sync_parked") == [(0,)]
    _send(new, hall, hall.parent / "restore-up2.hallsync")  # what it holds now
    again = _export(hall, hall.parent / "restore-3.hallsync")
    assert _opened(new, again).manifest["count"] == 2  # both starts
    run = ok(cli(new, "sync", "import", str(again)))
    assert "更新办件 2 件" in run.out and "暂未导入" not in run.out, run.out
    _same_village(hall, new)
    assert "哈希链全部相符" in ok(cli(new, "ledger", "verify")).out


@pytest.mark.parametrize("claim", ["other_hash", "beyond"])
def test_an_acknowledgement_the_hall_cannot_back_sends_the_chains_whole(world, claim):
    """The laptop's newest acknowledgement names another event than the hall's at that place, or one beyond the
    hall's chain: the hall does not trust it and sends every relayed chain from its start."""
    hall, new = _copy(world, f"claim-{claim}", "hall", "new")
    row = _rows(hall, "SELECT id, acks FROM sync_exchanges WHERE direction = 'import' ORDER BY id DESC LIMIT 1")[0]
    vector = json.loads(row[1])
    for node in (world["hall_node"], world["old_node"]):
        seq, digest_ = vector[node]
        vector[node] = [seq, "0" * 64] if claim == "other_hash" else [seq + 1000, digest_]
    with at_rest.connect(hall / "hall.sqlite3") as c:
        c.execute("UPDATE sync_exchanges SET acks = ? WHERE id = ?", (json.dumps(vector), row[0]))
    m = _opened(new, _export(hall, hall.parent / f"claim-{claim}.hallsync")).manifest
    whole = _opened(new, _export(hall, hall.parent / f"claim-{claim}-full.hallsync", "--full")).manifest
    assert m["chains"] == whole["chains"] and m["extra"]["base"] == {}
    assert next(c for c in m["chains"] if c["node_id"] == world["old_node"])["first_seq"] == 1


def test_the_replacement_knows_the_earlier_laptops_key_and_keeps_its_signed_head(world):
    new = world["new"]
    mine = keys.load(new)
    assert mine is not None and dict(mine.earlier) == {world["old_node"]: keys.load(world["old"]).sign_key}
    kept = anchor.load_anchor(new)
    assert world["old_node"] in kept and kept[world["old_node"]].key == mine.earlier[world["old_node"]]
    assert "哈希链全部相符" in ok(cli(new, "ledger", "verify")).out


def test_a_head_signed_with_another_key_on_the_earlier_chain_fails_verify(tmp_path):
    """Someone signed the old laptop's head with a key that is not the one the hall enrolled: before, the
    replacement checked that signature only against itself; now against the old laptop's enrolled key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    hall = make_hall(tmp_path / "hall")
    add_point(hall, "001")
    old = tmp_path / "old"
    _enrol(hall, old)
    add_tickets(old, 2, seed=81)
    _sign_head(old, Ed25519PrivateKey.generate())
    _send(old, hall, tmp_path / "o.hallsync")
    ok(cli(hall, "sync", "revoke", "001", "--reason", "笔记本电脑丢失"))
    new = tmp_path / "new"
    _enrol(hall, new)
    run = cli(new, "ledger", "verify")
    assert run.code == 1 and "不是用该终端的密钥签的" in run.err and keys.load(old).node_id[:8] in run.err, run.err


def _delete(lap: Path, node: str, seqs: list[int], *, rewind: bool = False) -> None:
    with at_rest.connect(lap / "hall.sqlite3") as c:
        c.executemany("DELETE FROM events WHERE node_id = ? AND seq = ?", [(node, s) for s in seqs])
        if rewind:  # the head moved back with it: only the signed head still knows how far the chain went
            seq, digest_ = c.execute("SELECT seq, hash FROM events WHERE node_id = ? ORDER BY seq DESC LIMIT 1",
                                     (node,)).fetchone()
            c.execute("UPDATE node_heads SET seq = ?, hash = ? WHERE node_id = ?", (seq, digest_, node))


@pytest.mark.parametrize("case, said", [
    ("link", "序号不连续"), ("tail", "末尾事件被删除"), ("tail_rewound", "链被截短"),
])
def test_a_deleted_link_or_tail_of_the_earlier_chain_fails_verify_naming_it(world, case, said):
    new = _copy(world, f"cut-{case}", "new")[0]
    node = world["old_node"]
    last = _rows(new, "SELECT max(seq) FROM events WHERE node_id = ?", node)[0][0]
    signed = max(s for (s,) in _rows(new, "SELECT seq FROM events WHERE node_id = ? AND type = ?", node,
                                     anchor.HEAD_SIGNED))
    assert signed < last - 2  # the two tickets after the signed head
    if case == "link":
        _delete(new, node, [10])
    else:  # the tail from the signature on: the signed head's own event is gone too
        _delete(new, node, list(range(signed - 1, last + 1)), rewind=case == "tail_rewound")
    run = cli(new, "ledger", "verify")
    assert run.code == 1 and said in run.err and node[:8] in run.err, run.err
