"""A sync conflict with the hall on the real PostgreSQL server and a laptop on SQLite: the same conflict on both,
frozen, resolved by the manager at the hall, and the laptop converges after the return bundle (the fixture's
teardown runs ``ledger check`` on the hall, so a replay derives the conflict and the resolution the same)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sync_env import act, add_tickets, cli, ok, ticket_row

from hall.errors import ConflictError
from hall.models import Staff, Ticket
from hall.models.sync import SyncConflict, SyncHeldEvent
from hall.services.cases import workflow
from hall.services.people import staff
from hall.services.storage import at_rest
from hall.services.sync import conflicts, exchange, peers
from hall.services.sync.keys import NodeKeys
from hall.services.tickets.record import FROZEN_MESSAGE


def _hall_rows(s, number: str) -> tuple:
    t = s.scalars(select(Ticket).where(Ticket.number == number)).one()
    return (t.uid, t.number, t.state, int(t.is_open), t.version)


def _sync_rows_pg(s) -> tuple[list[tuple], list[tuple]]:
    c = [(r.conflict_id, r.ticket_uid, r.parent_version, r.node_a, r.event_a, r.node_b, r.event_b, r.state,
          r.kept_node, r.reason) for r in s.scalars(select(SyncConflict).order_by(SyncConflict.conflict_id))]
    h = [(r.event_id, r.ticket_uid, r.conflict_id, r.node_id, r.status)
         for r in s.scalars(select(SyncHeldEvent).order_by(SyncHeldEvent.event_id))]
    return c, h


def _sync_rows_lap(lap) -> tuple[list[tuple], list[tuple]]:
    with at_rest.connect(lap / "hall.sqlite3") as c:
        return (c.execute("SELECT conflict_id, ticket_uid, parent_version, node_a, event_a, node_b, event_b, state, "
                          "kept_node, reason FROM sync_conflicts ORDER BY conflict_id").fetchall(),
                c.execute("SELECT event_id, ticket_uid, conflict_id, node_id, status FROM sync_held_events "
                          "ORDER BY event_id").fetchall())


@pytest.mark.parametrize("hall_db", [pytest.param("postgresql", marks=pytest.mark.pg)], indirect=True)
def test_a_conflict_with_the_hall_on_postgresql_converges(hall_db, tmp_path):
    hall_keys = NodeKeys.create(hall_db.node.node_id, "hall", "000")
    lap = tmp_path / "lap"
    ok(cli(lap, "sync", "request", "--point", "001", "--out", str(tmp_path / "req")))
    req = json.loads((tmp_path / "req").read_text(encoding="utf-8"))
    with hall_db.db.transaction() as s:
        peers.enrol(s, hall_db.system, req["node_id"], "001", req["sign_key"], req["box_key"])
        (tmp_path / "prov").write_bytes(exchange.provision(s, hall_keys, req["node_id"]))
    ok(cli(lap, "sync", "join", str(tmp_path / "prov")))
    add_tickets(lap, 3, immediate_only=False)
    ok(cli(lap, "sync", "export", "--out", str(tmp_path / "b1")))
    with hall_db.db.transaction() as s:
        exchange.import_bundle(s, hall_db.system, hall_keys, (tmp_path / "b1").read_bytes())
        number = s.scalar(select(Ticket.number).where(Ticket.state == "accepted").order_by(Ticket.number))
        manager = staff.actor_for(s.scalars(select(Staff).where(Staff.role == "manager")).first(),
                                  hall_db.node)
        workflow.close(s, manager, number, "approved", "准予办理")
    act(lap, number, "withdraw")
    with hall_db.db.transaction() as s:
        back = exchange.export(s, hall_keys, to="001")
    (tmp_path / "back").write_bytes(back)
    ok(cli(lap, "sync", "import", str(tmp_path / "back")))
    ok(cli(lap, "sync", "export", "--out", str(tmp_path / "up")))
    with hall_db.db.transaction() as s:
        exchange.import_bundle(s, hall_db.system, hall_keys, (tmp_path / "up").read_bytes())
    with hall_db.db.transaction() as s:
        assert _sync_rows_pg(s) == _sync_rows_lap(lap) and len(_sync_rows_pg(s)[1]) == 3
        assert _hall_rows(s, number)[2:] == ("accepted", 1, 1)
        uid = _hall_rows(s, number)[0]
        assert conflicts.is_conflicted(s, uid) and conflicts.open_count(s) == 1
    with pytest.raises(ConflictError, match=FROZEN_MESSAGE), hall_db.db.transaction() as s:
        workflow.start(s, manager, number)
    with hall_db.db.transaction() as s:
        cid = conflicts.listing(s)[0].conflict_id
        conflicts.resolve(s, manager, cid, "hall", "申请人到中心确认继续办理")
        back2 = exchange.export(s, hall_keys, to="001")
    (tmp_path / "back2").write_bytes(back2)
    ok(cli(lap, "sync", "import", str(tmp_path / "back2")))
    with hall_db.db.transaction() as s:
        assert _hall_rows(s, number) == (*ticket_row(lap, number)[:4], ticket_row(lap, number)[6])
        assert _hall_rows(s, number)[2] == "closed_approved"
        assert _sync_rows_pg(s) == _sync_rows_lap(lap)
        assert {r[4] for r in _sync_rows_pg(s)[1]} == {"lost"}  # the withdrawal: 未生效
    assert "所有表一致" in ok(cli(lap, "ledger", "check", "--quiet")).out
