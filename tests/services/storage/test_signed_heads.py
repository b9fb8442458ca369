"""Signed chain heads: a chain re-hashed after an edit, or cut short with its head rewound, passes the hash check
but not `hall-admin ledger verify` once the head was signed. Real SQLite files edited with sqlite3 directly."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest

from hall.cli import main
from hall.paths import Paths
from hall.services.base.actor import Actor
from hall.services.bootstrap import open_hall
from hall.services.catalog import items as catalog
from hall.services.storage import anchor, ledger
from hall.services.sync import heads, keys
from hall.services.tickets import intake

pytestmark = pytest.mark.ledger_edited

ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张三", "13812345678", "东村3组")


def _register(opened, minute: int) -> None:
    with opened.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, "03").materials}
        intake.register(s, opened.system, intake.IntakeForm("03", ZHANG, marks), now=datetime(2026, 6, 1, 9, minute))


@pytest.fixture(scope="module")
def signed_hall(tmp_path_factory) -> tuple[Path, anchor.SignedHead]:
    """A hall (its key made at the first start) with three tickets, its head signed, then two more tickets."""
    data = tmp_path_factory.mktemp("signed") / "data"
    opened = open_hall(Paths.resolve(data))
    for minute in range(3):
        _register(opened, minute)
    head = heads.sign_now(opened.db, opened.system, data, at=datetime(2026, 6, 1, 18))
    for minute in range(3, 5):
        _register(opened, minute)
    opened.db.dispose()
    return data, head


@pytest.fixture
def copy(signed_hall, tmp_path) -> tuple[Path, anchor.SignedHead]:
    data, head = signed_hall
    out = tmp_path / "data"
    shutil.copytree(data, out)
    return out, head


def _db(data: Path) -> sqlite3.Connection:
    return sqlite3.connect(Paths.resolve(data).database_file)


def _rehash_from(conn: sqlite3.Connection, node: str, seq: int) -> None:
    """What a forger does after an edit: every hash from ``seq`` on re-computed, and the node head moved along."""
    conn.row_factory = sqlite3.Row
    prev = conn.execute("SELECT hash FROM events WHERE node_id=? AND seq=?", (node, seq - 1)).fetchone()
    prev_hash = prev["hash"] if prev else ledger.GENESIS
    for r in conn.execute("SELECT * FROM events WHERE node_id=? AND seq>=? ORDER BY seq", (node, seq)).fetchall():
        digest = ledger.event_hash(
            prev_hash, event_id=r["event_id"], node_id=r["node_id"], seq=r["seq"], actor_id=r["actor_id"],
            actor_name=r["actor_name"], actor_role=r["actor_role"],
            occurred_at=datetime.fromisoformat(r["occurred_at"]), type=r["type"], ticket_uid=r["ticket_uid"],
            payload=r["payload"], format=r["format"], actor_uid=r["actor_uid"])
        conn.execute("UPDATE events SET prev_hash=?, hash=? WHERE id=?", (prev_hash, digest, r["id"]))
        prev_hash = digest
    last = conn.execute("SELECT max(seq) FROM events WHERE node_id=?", (node,)).fetchone()[0]
    conn.execute("UPDATE node_heads SET seq=?, hash=? WHERE node_id=?", (last, prev_hash, node))
    conn.commit()


def _chain_alone_passes(data: Path) -> None:
    opened = open_hall(Paths.resolve(data))
    try:
        with opened.db.transaction() as s:
            assert ledger.verify(s).ok  # the unkeyed hash chain cannot tell
    finally:
        opened.db.dispose()


def _verify(data: Path, capsys) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data), "ledger", "verify"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_an_intact_signed_ledger_verifies_and_the_key_is_private(copy, capsys):
    data, head = copy
    assert head.seq > 0 and head.signature_ok()
    mode = stat.S_IMODE(os.stat(keys.key_path(data)).st_mode)
    assert mode == 0o600  # made at the first start, outside the database
    kept = json.loads(anchor.anchor_path(data).read_text(encoding="utf-8"))
    assert kept[head.node_id]["seq"] == head.seq
    code, out, _err = _verify(data, capsys)
    assert code == 0 and "台账完好" in out


def test_a_chain_rehashed_after_an_edit_is_reported(copy, capsys):
    data, head = copy
    with closing(_db(data)) as conn:
        victim = conn.execute("SELECT seq FROM events WHERE node_id=? AND type='ticket.received' ORDER BY seq "
                              "LIMIT 1", (head.node_id,)).fetchone()[0]
        assert victim < head.seq
        conn.execute("UPDATE events SET payload=replace(payload, '张三', '李四') WHERE node_id=? AND seq=?",
                     (head.node_id, victim))
        _rehash_from(conn, head.node_id, victim)
    _chain_alone_passes(data)
    code, _out, err = _verify(data, capsys)
    assert code == 1 and "链被改写" in err and f"第 {head.seq} 号" in err


def test_a_truncated_chain_with_its_head_rewound_is_reported(copy, capsys):
    data, head = copy
    with closing(_db(data)) as conn:
        # The tail goes, the signature event with it, and node_heads is rewound: the chain itself is consistent.
        conn.execute("DELETE FROM events WHERE node_id=? AND seq>=?", (head.node_id, head.seq - 1))
        last, digest = conn.execute("SELECT seq, hash FROM events WHERE node_id=? ORDER BY seq DESC LIMIT 1",
                                    (head.node_id,)).fetchone()
        conn.execute("UPDATE node_heads SET seq=?, hash=? WHERE node_id=?", (last, digest, head.node_id))
        conn.commit()
    _chain_alone_passes(data)
    code, _out, err = _verify(data, capsys)
    assert code == 1 and "链被截短" in err and f"第 {head.seq} 号" in err


def test_a_forged_signature_is_reported(copy, capsys):
    data, head = copy
    forger = keys.NodeKeys.create(head.node_id, "hall", "000")
    with closing(_db(data)) as conn:
        # Re-sign the recorded head with a key of one's own (and re-hash): the key is not the node's.
        row = conn.execute("SELECT seq, payload FROM events WHERE type=?", (anchor.HEAD_SIGNED,)).fetchone()
        p = json.loads(row[1])
        fake = anchor.SignedHead(p["node_id"], p["seq"], p["hash"], p["at"], anchor.public_hex(forger.sign), "")
        p.update(key=fake.key, sig=forger.sign.sign(fake.message()).hex())
        conn.execute("UPDATE events SET payload=? WHERE type=?",
                     (ledger.canonical(p), anchor.HEAD_SIGNED))
        _rehash_from(conn, head.node_id, row[0])
    code, _out, err = _verify(data, capsys)
    assert code == 1 and "签名被伪造" in err


def test_signing_is_the_programs_or_the_administrators(copy):
    data, _head = copy
    opened = open_hall(Paths.resolve(data))
    try:
        clerk = Actor(staff_id=None, name="王民政", role="clerk", node_id=opened.node.node_id, window_code="W02")
        key = heads.node_keys(data, opened.node.node_id, "000").sign
        with opened.db.transaction() as s, pytest.raises(Exception, match="只有系统管理员可以签署台账链头"):
            anchor.sign_head(s, clerk, key)
    finally:
        opened.db.dispose()


def test_the_daily_backup_records_the_signed_heads(copy, tmp_path):
    from hall.services import backup_chain

    data, head = copy
    folder = tmp_path / "backups"
    opened = open_hall(Paths.resolve(data))
    try:
        full = backup_chain.daily(opened.db, folder, today=datetime(2026, 6, 2, 18))
        with closing(sqlite3.connect(full.path)) as conn:  # the full copy holds the signature events
            assert conn.execute("SELECT count(*) FROM events WHERE type=?", (anchor.HEAD_SIGNED,)).fetchone()[0] == 1
        _register(opened, 9)
        again = heads.sign_now(opened.db, opened.system, data, at=datetime(2026, 6, 3, 18))
        incr = backup_chain.daily(opened.db, folder, today=datetime(2026, 6, 3, 18, 5))
    finally:
        opened.db.dispose()
    assert not incr.full
    signed = backup_chain.read_header(incr.path)["signed_heads"]
    assert [(h["node_id"], h["seq"], h["sig"]) for h in signed] == [(again.node_id, again.seq, again.sig)]
    assert again.seq > head.seq


def test_a_restore_of_an_older_backup_keeps_the_newer_signed_heads_aside(copy, tmp_path, capsys):
    data, _head = copy
    backup = tmp_path / "older.sqlite3"
    assert main(["--data-dir", str(data), "backup", "--out", str(backup)]) == 0
    opened = open_hall(Paths.resolve(data))
    try:
        _register(opened, 20)
        heads.sign_now(opened.db, opened.system, data)  # signed after the backup was taken
    finally:
        opened.db.dispose()
    capsys.readouterr()
    assert main(["--data-dir", str(data), "restore", str(backup)]) == 0
    assert "恢复前的链头签名记录已另存为" in capsys.readouterr().out
    assert list(data.glob("signed_heads-before-restore-*.json"))
    code, out, _err = _verify(data, capsys)
    assert code == 0 and "台账完好" in out
