"""Each ticket's sync state on a laptop and at the hall, from real files exchanged through ``hall-admin sync``:
未同步 → 已发出 (an export alone never counts as synced) → 已同步 once the other side's bundle acknowledges it;
the hall's later events on a village ticket flow back the same way; the record is local (``ledger check`` ok)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sync_env import add_tickets, cli, make_hall, make_laptop, ok

from hall.models import Ticket
from hall.paths import Paths
from hall.services.bootstrap import open_hall
from hall.services.sync import journal, state
from hall.services.sync.state import SENT, SYNCED, UNSENT

_OPEN: dict[Path, object] = {}


def _db(data_dir: Path):  # type: ignore[no-untyped-def]
    """Each node's database opened once for the test's reads (the commands open their own)."""
    if data_dir not in _OPEN:
        _OPEN[data_dir] = open_hall(Paths.resolve(data_dir))
    return _OPEN[data_dir]


def states(data_dir: Path) -> dict[str, str]:
    with _db(data_dir).db.reading() as s:
        ids = dict(s.execute(select(Ticket.id, Ticket.number)).all())
        return {ids[i]: code for i, code in state.sync_state(s, ids).items()}


def pending(data_dir: Path, role: str, hall_node: str | None = None) -> list[tuple[int, int]]:
    opened = _db(data_dir)
    with opened.db.reading() as s:
        return [(p.pending_events, p.pending_tickets)
                for p in state.peer_lines(s, opened.node.node_id, role, hall_node)]


def print_receipt(data_dir: Path, number: str) -> None:
    from hall.services.reporting import papers

    opened = _db(data_dir)
    with opened.db.transaction() as s:
        papers.record_print(s, opened.system, number, "acceptance")


@pytest.fixture
def nodes():  # type: ignore[no-untyped-def]
    yield
    while _OPEN:
        _OPEN.popitem()[1].db.dispose()  # type: ignore[attr-defined]


def test_states_follow_the_files_and_their_acknowledgements(tmp_path, nodes):
    hall = make_hall(tmp_path / "hall")
    lap = make_laptop(hall, tmp_path / "lap", "001")
    add_tickets(lap, 3, immediate_only=True)
    on_lap = states(lap)
    assert len(on_lap) == 3 and set(on_lap.values()) == {UNSENT}
    assert states(hall) == {}  # the hall has no village tickets yet, and its own are not sync's concern

    out = tmp_path / "001.hallsync"
    ok(cli(lap, "sync", "export", "--out", str(out)))
    assert set(states(lap).values()) == {SENT}  # written to a file, never imported: not synced
    first = ok(cli(hall, "sync", "import", str(out)))
    assert "新办件 3 件" in first.out
    again = ok(cli(hall, "sync", "import", str(out)))
    assert "已导入过，没有变化" in again.out
    at_hall = states(hall)
    assert set(at_hall) == set(on_lap) and set(at_hall.values()) == {SYNCED}  # nothing of the hall's to send
    assert set(states(lap).values()) == {SENT}  # the laptop has not heard back yet

    number = sorted(at_hall)[0]
    print_receipt(hall, number)  # a later hall event on a village ticket: it must flow back
    assert states(hall)[number] == UNSENT
    back = tmp_path / "back.hallsync"
    ok(cli(hall, "sync", "export", "--to", "001", "--out", str(back)))
    assert states(hall)[number] == SENT
    got = ok(cli(lap, "sync", "import", str(back)))
    assert "更新办件 1 件" in got.out, got.out
    assert set(states(lap).values()) == {SYNCED}  # the hall's bundle acknowledged the laptop's chain
    assert pending(lap, "laptop", journal_hall(lap)) == [(0, 0)]
    assert states(hall)[number] == SENT  # …but the hall learns the laptop has it only from the laptop's next file
    ok(cli(lap, "sync", "export", "--out", str(out)))
    ok(cli(hall, "sync", "import", str(out)))
    assert states(hall)[number] == SYNCED
    assert pending(hall, "hall") == [(0, 0)]
    ok(cli(hall, "ledger", "check"))  # the record is local: not a projection, not compared, kept by a rebuild


def journal_hall(lap: Path) -> str:
    with _db(lap).db.reading() as s:
        found = state.side(s)
        assert found is not None and found.role == "laptop"
        return next(p for p, m in found.marks.items() if m.last_import is not None)


@settings(max_examples=60)
@given(st.one_of(st.none(), st.integers(1, 50)), st.integers(0, 50), st.integers(0, 50))
def test_a_state_only_moves_forward_with_what_was_sent_and_acknowledged(last, sent, acked):
    got = state._state(last, journal.Mark(sent, acked))
    if last is None or last <= acked:
        assert got == SYNCED
    else:
        assert got == (SENT if last <= sent else UNSENT)
        # sending more or hearing back more never moves a ticket backwards
        order = [UNSENT, SENT, SYNCED]
        assert order.index(state._state(last, journal.Mark(sent + 5, acked))) >= order.index(got)
        assert state._state(last, journal.Mark(sent, last)) == SYNCED


@pytest.mark.parametrize("hall_db", [pytest.param("postgresql", marks=pytest.mark.pg)], indirect=True)
def test_the_record_and_the_state_on_the_hall_database(hall_db, tmp_path):
    """At a hall on the real PostgreSQL server (the test above is SQLite's): the grouped reads, the record, and
    the record is not in the digest."""
    import json

    from hall.models.sync import SyncExchange
    from hall.services import ledger_check
    from hall.services.sync import enrolment
    from hall.services.sync.keys import NodeKeys

    hall_keys = NodeKeys.create(hall_db.node.node_id, "hall", "000")
    lap = tmp_path / "lap"
    ok(cli(lap, "sync", "request", "--point", "001", "--out", str(tmp_path / "req")))
    req = enrolment.parse_request((tmp_path / "req").read_bytes())
    with hall_db.db.transaction() as s:
        done = enrolment.enrol(s, hall_db.system, hall_keys, req)
    (tmp_path / "prov").write_bytes(done.provision)
    ok(cli(lap, "sync", "join", str(tmp_path / "prov")))
    add_tickets(lap, 2, immediate_only=True)
    ok(cli(lap, "sync", "export", "--out", str(tmp_path / "b")))
    with hall_db.db.transaction() as s:
        got = journal.import_bundle(s, hall_db.system, hall_keys, (tmp_path / "b").read_bytes())
    assert got.tickets_new == 2
    before = ledger_check.digest(hall_db.db).sha256
    with hall_db.db.transaction() as s:
        ids = list(s.scalars(select(Ticket.id).where(Ticket.intake_point == "001")))
        assert set(state.sync_state(s, ids).values()) == {SYNCED}
        assert [(p.intake_point, p.pending_events, p.pending_tickets)
                for p in state.peer_lines(s, hall_keys.node_id, "hall")] == [("001", 0, 0)]
        rows = list(s.scalars(select(SyncExchange).order_by(SyncExchange.id)))
        assert [r.direction for r in rows] == ["export", "import"]  # the provisioning file, then the bundle
        assert json.loads(rows[1].chains)[0]["node_id"] == req.node_id and rows[1].acked_seq > 0
    with hall_db.db.transaction() as s:  # one more export: only the local record changes
        journal.export(s, hall_keys, to="001")
        assert s.scalar(select(func.count()).select_from(SyncExchange)) == 3
    assert ledger_check.digest(hall_db.db).sha256 == before  # never part of the state two nodes compare
