"""The daily ledger check from a checkpoint, on real SQLite files edited behind the program's back: it re-hashes
only what came after the checkpoint, and still sees a chain re-hashed after an edit, a deleted tail with its head
rewound, an event deleted behind the checkpoint and an edit after it; another ledger's checkpoint is never
used; ``hall-admin ledger verify --daily`` and ``hall-admin daily`` run it."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hall_fixtures import actors_of

from hall.cli import main
from hall.services.storage import checkpoint, ledger
from hall.services.tickets import intake

ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张三", "13812345678", "东村3组")
DAY = datetime(2026, 3, 2, 9, 0)


def _register(opened, n: int, minute: int = 0) -> None:
    clerk = actors_of(opened)["c02"]
    with opened.db.transaction() as s:
        for i in range(n):
            intake.register(s, clerk, intake.IntakeForm("11", ZHANG), now=DAY.replace(minute=minute + i))


def _data_dir(opened) -> Path:
    return Path(opened.db.backups_dir).parent


def _check(opened, *, daily: bool = True):  # type: ignore[no-untyped-def]
    with opened.db.transaction() as s:
        report, since, reached = checkpoint.check(s, _data_dir(opened), daily=daily)
        if report.ok:
            checkpoint.save(_data_dir(opened), s, reached, report.events)
        return report, since


def _rehash_all(conn: sa.Connection) -> None:
    """What a careful forger does after editing an event: every hash recomputed, the heads moved to match."""
    prev: dict[str, str] = {}
    rows = conn.execute(sa.text("SELECT * FROM events ORDER BY node_id, seq")).mappings().all()
    for r in rows:
        before = prev.get(r["node_id"], ledger.GENESIS)
        at = r["occurred_at"] if isinstance(r["occurred_at"], datetime) else datetime.fromisoformat(r["occurred_at"])
        digest = ledger.event_hash(before, event_id=r["event_id"], node_id=r["node_id"], seq=r["seq"],
                                   actor_id=r["actor_id"], actor_name=r["actor_name"], actor_role=r["actor_role"],
                                   occurred_at=at, type=r["type"], ticket_uid=r["ticket_uid"], payload=r["payload"],
                                   format=r["format"], actor_uid=r["actor_uid"])
        conn.execute(sa.text("UPDATE events SET prev_hash = :p, hash = :h WHERE id = :i"),
                     {"p": before, "h": digest, "i": r["id"]})
        prev[r["node_id"]] = digest
    for node, digest in prev.items():
        conn.execute(sa.text("UPDATE node_heads SET hash = :h WHERE node_id = :n"), {"h": digest, "n": node})


def test_the_daily_check_rehashes_only_what_is_new_and_moves_the_checkpoint(hall_sqlite):
    _register(hall_sqlite, 3)
    report, since = _check(hall_sqlite)
    assert report.ok and since is None  # no checkpoint yet: the whole chain, then one is written
    first = json.loads(checkpoint.path_in(_data_dir(hall_sqlite)).read_text())
    _register(hall_sqlite, 2, minute=10)
    report, since = _check(hall_sqlite)
    assert report.ok and since == first["taken_at"]
    moved = json.loads(checkpoint.path_in(_data_dir(hall_sqlite)).read_text())
    assert moved["heads"] != first["heads"] and moved["events"] == report.events
    with hall_sqlite.db.reading() as s:
        assert report.events == ledger.verify(s).events  # the same count as the full verification


@pytest.mark.ledger_edited
def test_a_chain_rehashed_after_an_edit_behind_the_checkpoint_is_reported(hall_sqlite):
    _register(hall_sqlite, 3)
    assert _check(hall_sqlite)[0].ok
    _register(hall_sqlite, 1, minute=10)
    with hall_sqlite.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE events SET payload = replace(payload, '张三', '李四') "
                             "WHERE id = (SELECT min(id) FROM events WHERE type = 'ticket.received')"))
        _rehash_all(conn)
    with hall_sqlite.db.reading() as s:
        assert ledger.verify(s).ok  # the full verification alone cannot see it: every link is consistent
    report, _since = _check(hall_sqlite)
    assert not report.ok and "哈希已改变" in report.problem


@pytest.mark.ledger_edited
def test_a_deleted_tail_with_its_head_rewound_is_reported(hall_sqlite):
    _register(hall_sqlite, 3)
    assert _check(hall_sqlite)[0].ok
    with hall_sqlite.db.engine.begin() as conn:
        node, seq = conn.execute(sa.text("SELECT node_id, seq FROM events ORDER BY id DESC LIMIT 1")).one()
        conn.execute(sa.text("DELETE FROM events WHERE node_id = :n AND seq > :q"), {"n": node, "q": seq - 2})
        prev = conn.execute(sa.text("SELECT hash FROM events WHERE node_id = :n AND seq = :q"),
                            {"n": node, "q": seq - 2}).scalar_one()
        conn.execute(sa.text("UPDATE node_heads SET seq = :q, hash = :h WHERE node_id = :n"),
                     {"q": seq - 2, "h": prev, "n": node})
    with hall_sqlite.db.reading() as s:
        assert ledger.verify(s).ok  # consistent again, as far as the file alone can tell
    report, _since = _check(hall_sqlite)
    assert not report.ok and "已不在台账中" in report.problem


@pytest.mark.ledger_edited
def test_an_event_deleted_behind_the_checkpoint_is_reported(hall_sqlite):
    _register(hall_sqlite, 3)
    assert _check(hall_sqlite)[0].ok
    with hall_sqlite.db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM events WHERE id = (SELECT min(id) FROM events WHERE type = "
                             "'ticket.received')"))
    report, _since = _check(hall_sqlite)
    assert not report.ok and "有事件被删除" in report.problem


@pytest.mark.ledger_edited
def test_an_edit_after_the_checkpoint_is_reported(hall_sqlite):
    _register(hall_sqlite, 2)
    assert _check(hall_sqlite)[0].ok
    _register(hall_sqlite, 2, minute=10)
    with hall_sqlite.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE events SET payload = payload || ' ' WHERE id = (SELECT max(id) FROM events)"))
    report, _since = _check(hall_sqlite)
    assert not report.ok and "内容" in report.problem


def test_another_ledgers_checkpoint_is_not_used_and_the_commands_run_it(hall_sqlite, capsys):
    data = _data_dir(hall_sqlite)
    checkpoint.path_in(data).write_text(json.dumps({"format": 1, "ledger_id": "f" * 64, "events": 1,
                                                    "taken_at": "2026-01-01T00:00:00", "heads": {}}))
    report, since = _check(hall_sqlite)
    assert report.ok and since is None  # not this ledger's: the whole chain was verified
    assert main(["--data-dir", str(data), "ledger", "verify", "--daily"]) == 0
    assert "自检查点" in capsys.readouterr().out
    assert main(["--data-dir", str(data), "daily", "--date", "2026-03-02", "--quiet"]) == 0
    assert "台账核验" in capsys.readouterr().out
