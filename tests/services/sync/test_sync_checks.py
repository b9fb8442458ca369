"""The import's checks over a whole chain at once (exchange._links_hold, exchange._gates_pass) pass exactly what
the event-by-event rules pass; whatever they refuse is named as the first failing event's rule."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hall.services.storage import ledger
from hall.services.sync import exchange
from hall.services.sync.bundle import BundleRejected

NODE = "22222222-2222-4222-8222-222222222222"
OTHER = "33333333-3333-4333-8333-333333333333"


def _hash(e: dict) -> str:
    return ledger.event_hash(
        e["prev_hash"], event_id=e["event_id"], node_id=e["node_id"], seq=e["seq"], actor_id=e["actor_id"],
        actor_name=e["actor_name"], actor_role=e["actor_role"], occurred_at=datetime.fromisoformat(e["occurred_at"]),
        type=e["type"], ticket_uid=e["ticket_uid"], payload=e["payload"], format=e["format"],
        actor_uid=e["actor_uid"])


def _chain(n: int, first: int = 1) -> list[dict]:
    out: list[dict] = []
    prev = ledger.GENESIS if first == 1 else "a" * 64
    start = datetime(2026, 3, 2, 9, 0, 0, 1)
    for i in range(n):
        e = {"event_id": f"e{i}", "node_id": NODE, "seq": first + i, "format": 2 if i % 3 else 1,
             "actor_id": None if i % 3 else 4, "actor_uid": f"u{i % 2}" if i % 3 else None, "actor_name": "王芳",
             "actor_role": "clerk", "occurred_at": (start + timedelta(seconds=i // 2)).isoformat(
                 timespec="microseconds"), "type": "ticket.received", "ticket_uid": f"t{i // 2}",
             "payload": f'{{"n":{i}}}', "prev_hash": prev}
        e["hash"] = prev = _hash(e)
        out.append(e)
    return out


def _rehash(e: dict) -> dict:
    return {**e, "hash": _hash(e)}


def _put(c: list[dict], i: int, e: dict) -> list[dict]:
    return [*c[:i], e, *c[i + 1:]]


CHANGES = [
    lambda c, i: c,
    lambda c, i: [*c[:i], *c[i + 1:]],  # one dropped
    lambda c, i: [*c[:i], c[-1], *c[i:-1]],  # reordered
    lambda c, i: _put(c, i, {**c[i], "seq": c[i]["seq"] + 2}),
    lambda c, i: _put(c, i, _rehash({**c[i], "seq": c[i]["seq"] + 2})),
    lambda c, i: _put(c, i, _rehash({**c[i], "seq": 0})),
    lambda c, i: _put(c, i, {**c[i], "prev_hash": "b" * 64}),
    lambda c, i: _put(c, i, _rehash({**c[i], "prev_hash": "b" * 64})),
    lambda c, i: _put(c, i, {**c[i], "payload": c[i]["payload"] + " "}),
    lambda c, i: _put(c, i, {**c[i], "format": 3}),
    lambda c, i: _put(c, i, {**c[i], "format": 0}),
    lambda c, i: _put(c, i, {**c[i], "occurred_at": c[i]["occurred_at"].replace("T", " ")}),
    lambda c, i: _put(c, i, {**c[i], "occurred_at": c[i]["occurred_at"][:19]}),
    lambda c, i: _put(c, i, {**c[i], "occurred_at": "yesterday"}),
    lambda c, i: _put(c, i, {**c[i], "occurred_at": "2026-02-30T09:00:00.000000"}),  # the form, not a moment
    lambda c, i: _put(c, i, {**c[i], "occurred_at": "2026-03-02T24:00:00.000000"}),
    lambda c, i: _put(c, i, {**c[i], "hash": "c" * 64}),
    lambda c, i: _put(c, i, _rehash({**c[i], "occurred_at": "2026-03-02T09:00:00.000001+08:00"})),  # canonical
]


def _problem(events: list[dict], sparse: bool) -> str | None:
    try:
        exchange._chain_problem(events, sparse)
    except BundleRejected as exc:
        return exc.reason
    return None


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 7), st.sampled_from([1, 5]), st.sampled_from(range(len(CHANGES))), st.data(), st.booleans())
def test_the_whole_chain_check_agrees_with_the_event_by_event_rules(n, first, change, data, sparse):
    chain = _chain(n, first)
    events = CHANGES[change](chain, data.draw(st.integers(0, n - 1)))
    if not events:
        return
    assert exchange._links_hold(events, sparse) == (_problem(events, sparse) is None)


def test_each_change_is_refused_by_both_and_named_by_the_first_broken_event():
    chain = _chain(6)
    assert exchange._links_hold(chain, False) and exchange._links_hold(chain, True)
    for change in CHANGES[1:-1]:  # (the last: an aware moment's canonical text, which both accept)
        events = change(chain, 2)
        assert not exchange._links_hold(events, False)
        with pytest.raises(BundleRejected):
            exchange._chain_problem(events, False)
    # A sparse chain skips seqs and does not link: both accept it, and refuse a seq that falls.
    sparse = [chain[0], chain[2], _rehash({**chain[5], "prev_hash": "d" * 64})]
    assert exchange._links_hold(sparse, True) and _problem(sparse, True) is None
    assert not exchange._links_hold(sparse, False) and _problem(sparse, False) is not None
    assert not exchange._links_hold(sparse[::-1], True) and "序号" in (_problem(sparse[::-1], True) or "")
    # An aware moment's canonical text (never written by the program, not the common form): accepted by both.
    aware = CHANGES[-1](chain, 5)
    assert exchange._links_hold(aware, False) and _problem(aware, False) is None


def _projections() -> ledger.Projections:
    def nothing(*_args: object) -> None:
        return None
    return ledger.Projections(one={"ticket.received": nothing, "ticket.closed": nothing},
                              many={}, recorded_only=frozenset({"ticket.printed"}))


def _gate(events: list[dict]) -> str | None:
    try:
        exchange._gate_problem(events, NODE, False, frozenset(), _projections())
    except BundleRejected as exc:
        return exc.reason
    return None


@pytest.mark.parametrize("change", [
    {}, {"node_id": OTHER}, {"type": "catalog.imported"}, {"type": "staff.added"}, {"type": "ticket.unheard_of"},
    {"type": "ticket.printed"},
])
@pytest.mark.parametrize("at", [0, 3])
def test_the_gates_over_distinct_nodes_and_types_agree_with_the_event_by_event_gates(change, at):
    events = _chain(5)
    events[min(at, len(events) - 1)] = {**events[min(at, len(events) - 1)], **change}
    assert exchange._gates_pass(events, NODE, _projections()) == (_gate(events) is None)
    assert (_gate(events) is None) == (change in ({}, {"type": "ticket.printed"}))


def test_a_laptops_chain_read_as_driver_tuples_is_what_sqlalchemy_reads(tmp_path):
    """exchange.own_events on SQLite (driver tuples, the times' text turned in C): the events as the generic
    path reads them — also when a time is stored in another form SQLAlchemy reads (then row by row)."""
    import sqlalchemy as sa
    from sync_env import add_tickets, make_hall

    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.sync import keys

    home = make_hall(tmp_path / "hall")
    add_tickets(home, 3)
    node = keys.load(home).node_id
    opened = open_hall(Paths.resolve(home))
    try:
        with opened.db.transaction() as s:
            conn = s.connection()
            generic = [exchange._as_json(r) for r in conn.execute(exchange._OWN, {"node": node, "since": 0}).mappings()]
            assert len(generic) > 6 and exchange.own_events(s, node) == generic
            assert exchange.own_events(s, node, 3) == generic[3:]
            for (name,) in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                                "AND tbl_name = 'events'").fetchall():
                conn.exec_driver_sql(f'DROP TRIGGER "{name}"')  # (rolled back below)
            conn.execute(sa.text("UPDATE events SET occurred_at = substr(occurred_at, 1, 19) "
                                 "WHERE node_id = :n AND seq = 2"), {"n": node})
            reread = [exchange._as_json(r) for r in conn.execute(exchange._OWN, {"node": node, "since": 0}).mappings()]
            assert reread[1]["occurred_at"].endswith(".000000") and exchange.own_events(s, node) == reread
            s.rollback()
    finally:
        opened.db.dispose()


def test_an_imported_chain_is_stored_as_the_laptop_stored_it(tmp_path):
    """The import writes each moment as the bundle's text with a space (bulk.execute_columns' stored): the raw
    values the hall holds are those the laptop's own SQLAlchemy writes left, column for column."""
    from sync_env import add_point, add_tickets, make_hall, make_laptop

    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.sync import keys

    hall = make_hall(tmp_path / "hall")
    add_point(hall, "001")
    lap = make_laptop(hall, tmp_path / "lap", "001")
    add_tickets(lap, 4, immediate_only=True)
    node = keys.load(lap).node_id
    columns = ", ".join(exchange.COLUMNS)

    def raw(home, write=None):
        opened = open_hall(Paths.resolve(home))
        try:
            with opened.db.transaction() as s:
                if write is not None:
                    write(opened, s)
            with opened.db.reading() as s:
                return s.connection().exec_driver_sql(
                    f"SELECT {columns} FROM events WHERE node_id = ? ORDER BY seq", (node,)).fetchall()
        finally:
            opened.db.dispose()

    data: list[bytes] = []
    laptop_rows = raw(lap, lambda opened, s: data.append(exchange.export(s, keys.load(lap))))
    hall_rows = raw(hall, lambda opened, s: exchange.import_bundle(s, opened.system, keys.load(hall), data[0]))
    assert len(laptop_rows) == 9 and hall_rows == laptop_rows
    assert all(" " in r[exchange.COLUMNS.index("occurred_at")] for r in hall_rows)
