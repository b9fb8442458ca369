"""The hall's side of sync on its real database — SQLite and the real PostgreSQL server — with a laptop on SQLite
driven through ``hall-admin``: enrol, provision, import, re-import, a refused bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sync_env import add_tickets, cli, ok

from hall.models import Event, IntakePoint, Ticket
from hall.services import ledger_check
from hall.services.storage import at_rest, ledger
from hall.services.sync import exchange, peers
from hall.services.sync.bundle import BundleRejected
from hall.services.sync.keys import NodeKeys


def test_a_laptop_syncs_with_the_hall_database(hall_db, tmp_path):
    hall_keys = NodeKeys.create(hall_db.node.node_id, "hall", "000")
    lap = tmp_path / "lap"
    ok(cli(lap, "sync", "request", "--point", "001", "--out", str(tmp_path / "req")))
    req = json.loads((tmp_path / "req").read_text(encoding="utf-8"))
    with hall_db.db.transaction() as s:
        assert s.get(IntakePoint, "001") is not None
        peers.enrol(s, hall_db.system, req["node_id"], "001", req["sign_key"], req["box_key"])
        (tmp_path / "prov").write_bytes(exchange.provision(s, hall_keys, req["node_id"]))
    ok(cli(lap, "sync", "join", str(tmp_path / "prov")))
    add_tickets(lap, 8)
    ok(cli(lap, "sync", "export", "--out", str(tmp_path / "b")))
    data = (tmp_path / "b").read_bytes()
    with hall_db.db.transaction() as s:
        first = exchange.import_bundle(s, hall_db.system, hall_keys, data)
    after = ledger_check.digest(hall_db.db).sha256
    with hall_db.db.transaction() as s:
        again = exchange.import_bundle(s, hall_db.system, hall_keys, data)
    bad = bytearray(data)
    bad[len(bad) // 2] ^= 0x40
    with pytest.raises(BundleRejected, match="无法解密"), hall_db.db.transaction() as s:
        exchange.import_bundle(s, hall_db.system, hall_keys, bytes(bad))
    assert first.new == 12 and again.new == 0  # join + 8 received + 3 on-the-spot closes
    assert ledger_check.digest(hall_db.db).sha256 == after
    with hall_db.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Ticket).where(Ticket.intake_point == "001")) == 8
        assert s.scalar(select(func.count()).select_from(Event).where(Event.node_id == req["node_id"])) == 12
        assert ledger.verify(s).ok


def test_a_since_file_before_the_earlier_one_waits_on_the_hall_database(hall_db, tmp_path):
    """On SQLite and on PostgreSQL: the later file parks (in a savepoint-guarded import), the earlier one applies
    both in one transaction, and the parked rows are gone."""
    from datetime import datetime

    from hall.models import SyncParked
    from hall.services.sync import journal

    hall_keys = NodeKeys.create(hall_db.node.node_id, "hall", "000")
    lap = tmp_path / "lap"
    ok(cli(lap, "sync", "request", "--point", "001", "--out", str(tmp_path / "req")))
    req = json.loads((tmp_path / "req").read_text(encoding="utf-8"))
    with hall_db.db.transaction() as s:
        peers.enrol(s, hall_db.system, req["node_id"], "001", req["sign_key"], req["box_key"])
        (tmp_path / "prov").write_bytes(exchange.provision(s, hall_keys, req["node_id"]))
    ok(cli(lap, "sync", "join", str(tmp_path / "prov")))
    add_tickets(lap, 3)
    ok(cli(lap, "sync", "export", "--out", str(tmp_path / "first")))
    add_tickets(lap, 2, seed=3, start=datetime(2026, 3, 3, 9, 0))
    ok(cli(lap, "sync", "export", "--since", "5", "--out", str(tmp_path / "second")))
    with hall_db.db.transaction() as s:
        early = journal.import_bundle(s, hall_db.system, hall_keys, (tmp_path / "second").read_bytes())
    with hall_db.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(SyncParked)) == early.parked > 0
        assert s.scalar(select(func.count()).select_from(Event).where(Event.node_id == req["node_id"])) == 0
    assert "等待前序事件" in early.message and early.new_events == 0
    with hall_db.db.transaction() as s:
        late = journal.import_bundle(s, hall_db.system, hall_keys, (tmp_path / "first").read_bytes())
    assert late.released == early.parked and late.parked == 0
    with hall_db.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(SyncParked)) == 0
        assert s.scalar(select(func.count()).select_from(Ticket).where(Ticket.intake_point == "001")) == 5
        assert ledger.verify(s).ok


def test_the_hall_relays_every_counters_chain(hall_db, tmp_path):
    """Two counters of the hall write their own chains (on PostgreSQL: two PCs on one server); the provisioning file
    and the return bundle, exported on the first, carry what the second wrote; the sync state follows both."""
    from dataclasses import replace
    from datetime import datetime

    from hall.services.cases import workflow
    from hall.services.catalog import items as catalog
    from hall.services.sync import enrolment, journal, state

    hall_keys = NodeKeys.create(hall_db.node.node_id, "hall", "000")
    second = replace(hall_db.system, node_id="c0de0002-0000-4000-8000-000000000002")
    with hall_db.db.transaction() as s:
        spec = catalog.current_spec(s)
        renamed = tuple(replace(i, name="第二台窗口电脑改的名") if i.code == "22" else i for i in spec.items)
        catalog.import_catalog(s, second, replace(spec, items=renamed), "测试")
    lap = tmp_path / "lap"
    ok(cli(lap, "sync", "request", "--point", "001", "--out", str(tmp_path / "req")))
    req = enrolment.parse_request((tmp_path / "req").read_bytes())
    with hall_db.db.transaction() as s:
        (tmp_path / "prov").write_bytes(enrolment.enrol(s, hall_db.system, hall_keys, req).provision)
    ok(cli(lap, "sync", "join", str(tmp_path / "prov")))
    with at_rest.connect(lap / "hall.sqlite3") as c:
        assert c.execute("SELECT i.name FROM items i JOIN catalog_versions v ON v.id = i.version_id "
                         "WHERE v.is_current AND i.code = '22'").fetchone() == ("第二台窗口电脑改的名",)
    add_tickets(lap, 3)
    ok(cli(lap, "sync", "export", "--out", str(tmp_path / "b")))
    with hall_db.db.transaction() as s:
        journal.import_bundle(s, hall_db.system, hall_keys, (tmp_path / "b").read_bytes())
        number = s.scalars(select(Ticket.number).where(Ticket.intake_point == "001", Ticket.state == "accepted")
                           .order_by(Ticket.number)).first()
        workflow.start(s, second, number, now=datetime(2026, 3, 3, 9))
    with hall_db.db.transaction() as s:
        ticket_id = s.scalar(select(Ticket.id).where(Ticket.number == number))
        assert state.sync_state(s, [ticket_id]) == {ticket_id: state.UNSENT}
        assert [(p.pending_events, p.pending_tickets) for p in state.peer_lines(s, hall_keys.node_id, "hall")] \
            == [(1, 1)]
        (tmp_path / "back").write_bytes(journal.export(s, hall_keys, to="001").data)
        assert state.sync_state(s, [ticket_id]) == {ticket_id: state.SENT}
    assert "更新办件 1 件" in ok(cli(lap, "sync", "import", str(tmp_path / "back"))).out
    with hall_db.db.transaction() as s:
        at_hall = s.execute(select(Ticket.state, Ticket.version).where(Ticket.number == number)).one()
    with at_rest.connect(lap / "hall.sqlite3") as c:
        # (a start alone, the last event of the file: its projection must be flushed before the import expires)
        assert c.execute("SELECT state, version FROM tickets WHERE number = ?", (number,)).fetchone() == tuple(at_hall)
    assert "哈希链全部相符" in ok(cli(lap, "ledger", "verify")).out


def test_a_replacement_laptop_is_provisioned_with_the_old_ones_tickets_from_the_hall_database(hall_db, tmp_path):
    """On SQLite and on PostgreSQL: the old laptop of 001 is revoked after the hall took its tickets and started
    one; the replacement's provisioning file carries the old chain whole, and enrolment says what the hall has."""
    from hall.services.cases import workflow
    from hall.services.sync import enrolment

    hall_keys = NodeKeys.create(hall_db.node.node_id, "hall", "000")

    def enrol(name: str) -> tuple[enrolment.Enrolled, str]:
        lap = tmp_path / name
        ok(cli(lap, "sync", "request", "--point", "001", "--out", str(tmp_path / f"{name}.req")))
        req = enrolment.parse_request((tmp_path / f"{name}.req").read_bytes())
        with hall_db.db.transaction() as s:
            done = enrolment.enrol(s, hall_db.system, hall_keys, req)
        (tmp_path / f"{name}.prov").write_bytes(done.provision)
        return done, ok(cli(lap, "sync", "join", str(tmp_path / f"{name}.prov"))).out

    enrol("old")
    add_tickets(tmp_path / "old", 4)
    ok(cli(tmp_path / "old", "sync", "export", "--out", str(tmp_path / "b")))
    with hall_db.db.transaction() as s:
        exchange.import_bundle(s, hall_db.system, hall_keys, (tmp_path / "b").read_bytes())
        number = s.scalars(select(Ticket.number).where(Ticket.intake_point == "001", Ticket.state == "accepted")
                           .order_by(Ticket.number)).first()
        workflow.start(s, hall_db.system, number)
        last = s.scalar(select(func.max(Ticket.number)).where(Ticket.intake_point == "001"))
        peers.revoke(s, hall_db.system, "001", "笔记本电脑丢失")
    done, joined = enrol("new")
    assert len(done.earlier) == 1 and done.earlier[0].tickets == 4 and done.earlier[0].last_number == last
    assert done.earlier[0].last_import is None  # exchange.import_bundle alone keeps no record: said so
    assert "中心没有它的同步记录" in done.earlier[0].text and "已随那台电脑丢失" in done.earlier[0].text
    assert "本村原有办件 4 件" in joined
    with at_rest.connect(tmp_path / "new" / "hall.sqlite3") as c:
        assert c.execute("SELECT count(*) FROM tickets WHERE intake_point = '001'").fetchone()[0] == 4
        assert c.execute("SELECT state FROM tickets WHERE number = ?", (number,)).fetchone()[0] == "in_progress"
    assert "哈希链全部相符" in ok(cli(tmp_path / "new", "ledger", "verify")).out
    assert "所有表一致" in ok(cli(tmp_path / "new", "ledger", "check", "--quiet")).out


def test_a_reset_and_a_deactivation_at_the_hall_database_reach_the_laptops_login(hall_db, tmp_path):
    """Village clerk v01's temporary password works on the laptop; once 停用 at the hall, the next file stops the
    login, on SQLite and PostgreSQL alike. (Without the CLI's exchange record the hall holds no acknowledgement,
    so each file carries the village's staff events whole: v01's registration, then what followed.)"""
    from hall.errors import HallError
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.people import staff

    hall_keys = NodeKeys.create(hall_db.node.node_id, "hall", "000")
    lap = tmp_path / "lap"
    ok(cli(lap, "sync", "request", "--point", "001", "--out", str(tmp_path / "req")))
    req = json.loads((tmp_path / "req").read_text(encoding="utf-8"))
    with hall_db.db.transaction() as s:
        peers.enrol(s, hall_db.system, req["node_id"], "001", req["sign_key"], req["box_key"])
        (tmp_path / "prov").write_bytes(exchange.provision(s, hall_keys, req["node_id"]))
    ok(cli(lap, "sync", "join", str(tmp_path / "prov")))

    def round_trip(name: str) -> list[str]:
        ok(cli(lap, "sync", "export", "--out", str(tmp_path / f"{name}-up")))
        with hall_db.db.transaction() as s:
            exchange.import_bundle(s, hall_db.system, hall_keys, (tmp_path / f"{name}-up").read_bytes())
            data = exchange.export(s, hall_keys, to="001")
        (tmp_path / name).write_bytes(data)
        ok(cli(lap, "sync", "import", str(tmp_path / name)))
        return [e["type"] for e in exchange.open_bundle(keys_of(lap), data).events if e["type"].startswith("staff.")]

    def login(password: str) -> None:
        opened = open_hall(Paths.resolve(lap))
        try:
            with opened.db.reading() as s:
                staff.authenticate(s, "v01", password, opened.node)
        finally:
            opened.db.dispose()

    with hall_db.db.transaction() as s:
        staff.reset_password(s, hall_db.system, "v01", "temp-pass-9")
    assert round_trip("reset") == ["staff.added", "staff.password_reset"]
    login("temp-pass-9")
    with hall_db.db.transaction() as s:
        staff.set_active(s, hall_db.system, "v01", False, "已离职")
    assert round_trip("off") == ["staff.added", "staff.password_reset", "staff.active_set"]
    with pytest.raises(HallError, match="工号或密码不正确"):
        login("temp-pass-9")


def keys_of(data_dir: Path) -> NodeKeys:
    from hall.services.sync import keys

    found = keys.load(data_dir)
    assert found is not None
    return found
