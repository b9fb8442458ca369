"""Parking: events whose dependency is absent wait in ``sync_parked`` (verified, verbatim) and apply the moment it
arrives — never refused for the order bundles come in, never force-applied; tampering is still refused.

Real data directories (a hall, village laptops), real bundles sealed with the laptops' keys, real SQLite files.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutations import _rehash_from
from sync_env import act, add_point, add_tickets, cli, digest, make_hall, make_laptop, ok, ticket_row

from hall.paths import Paths
from hall.services import ledger_check
from hall.services.bootstrap import open_hall
from hall.services.storage import at_rest
from hall.services.sync import bundle, exchange, journal, keys
from hall.services.sync.bundle import BundleRejected

POINTS = ("001", "002", "003")


def _chain(lap: Path) -> list[dict]:
    """The laptop's own chain, as a bundle carries it."""
    mine = keys.load(lap)
    opened = open_hall(Paths.resolve(lap))
    try:
        with opened.db.reading() as s:
            return exchange.own_events(s, mine.node_id)
    finally:
        opened.db.dispose()


def _seal(lap_keys: keys.NodeKeys, hall_keys: keys.NodeKeys, events: list[dict]) -> bytes:
    """The bundle the laptop would have exported with ``--since`` when its head was at the last of ``events``."""
    m = exchange.manifest(lap_keys, hall_keys.node_id, "bundle", events, {})
    return bundle.seal(lap_keys, hall_keys.box_key, m, events)


def _parked(data_dir: Path) -> int:
    with at_rest.connect(data_dir / "hall.sqlite3") as c:
        return c.execute("SELECT count(*) FROM sync_parked").fetchone()[0]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A hall with three laptops, each with a chain of a few tickets (some closed on the spot); the hall is kept
    pristine (copy it to import into). Laptop 001 exported twice: its whole chain, then ``--since`` that."""
    base = tmp_path_factory.mktemp("park")
    hall = make_hall(base / "hall")
    for point in POINTS:
        add_point(hall, point)
    laps = {p: make_laptop(hall, base / f"lap{p}", p) for p in POINTS}
    for n, lap in enumerate(laps.values()):
        add_tickets(lap, 4 + n, seed=n + 1)
    first, second = base / "first.hallsync", base / "second.hallsync"
    ok(cli(laps["001"], "sync", "export", "--out", str(first)))
    since = len(_chain(laps["001"]))
    add_tickets(laps["001"], 3, seed=7, start=datetime(2026, 3, 3, 9, 0))
    ok(cli(laps["001"], "sync", "export", "--since", str(since), "--out", str(second)))
    chains = {p: _chain(lap) for p, lap in laps.items()}
    return {"base": base, "hall": hall, "laps": laps, "first": first, "second": second, "since": since,
            "chains": chains, "keys": {p: keys.load(lap) for p, lap in laps.items()}, "hall_keys": keys.load(hall),
            "empty": digest(hall)}


def hall_copy(world, name: str) -> Path:
    target = world["base"] / name
    shutil.copytree(world["hall"], target)
    return target


def test_since_bundles_in_the_wrong_order_wait_then_apply(world):
    right = hall_copy(world, "right")
    ok(cli(right, "sync", "import", str(world["first"])))
    ok(cli(right, "sync", "import", str(world["second"])))
    expected = digest(right)

    wrong = hall_copy(world, "wrong")
    early = ok(cli(wrong, "sync", "import", str(world["second"])))
    waiting = len(world["chains"]["001"]) - world["since"]
    gap = f"第 1–{world['since']} 号" if world["since"] > 1 else "第 1 号"
    assert "已导入 0 条" in early.out and f"暂存 {waiting} 条" in early.out, early.out
    assert "等待前序事件" in early.out and gap in early.out, early.out
    assert _parked(wrong) == waiting
    assert digest(wrong) == world["empty"]  # waiting is not ledger state: nothing of it in the digest
    listed = ok(cli(wrong, "sync", "parked")).out
    assert f"暂存 {waiting} 条事件" in listed and "等待前序事件" in listed

    late = ok(cli(wrong, "sync", "import", str(world["first"])))
    assert f"其中 {waiting} 条是此前暂存、现已补齐的" in late.out, late.out
    assert _parked(wrong) == 0
    assert digest(wrong) == expected
    assert "没有暂存的事件" in ok(cli(wrong, "sync", "parked")).out
    assert "哈希链全部相符" in ok(cli(wrong, "ledger", "verify")).out
    assert "所有表一致" in ok(cli(wrong, "ledger", "check", "--quiet")).out

    for again in (world["second"], world["first"]):  # either file once more: a no-op
        run = ok(cli(wrong, "sync", "import", str(again)))
        assert "已导入过" in run.out, run.out
        assert digest(wrong) == expected and _parked(wrong) == 0


def test_a_file_once_more_while_it_waits_changes_nothing(world):
    hall = hall_copy(world, "twice")
    ok(cli(hall, "sync", "import", str(world["second"])))
    with at_rest.connect(hall / "hall.sqlite3") as c:
        before = c.execute("SELECT event_id, hash, reason, bundle_id FROM sync_parked ORDER BY seq").fetchall()
    run = ok(cli(hall, "sync", "import", str(world["second"])))
    assert "暂存" in run.out
    with at_rest.connect(hall / "hall.sqlite3") as c:
        assert c.execute("SELECT event_id, hash, reason, bundle_id FROM sync_parked ORDER BY seq").fetchall() == before
    assert digest(hall) == world["empty"]


def test_ledger_check_and_rebuild_leave_the_waiting_events_alone(world):
    """``sync_parked`` is not ledger state: a check finds every table consistent with the events, a rebuild keeps
    the parked rows as they were, and the earlier file still completes them afterwards."""
    hall = hall_copy(world, "rebuild")
    ok(cli(hall, "sync", "import", str(world["second"])))
    with at_rest.connect(hall / "hall.sqlite3") as c:
        before = c.execute("SELECT event_id, hash, reason FROM sync_parked ORDER BY seq").fetchall()
    assert before
    assert "所有表一致" in ok(cli(hall, "ledger", "check", "--quiet")).out
    ok(cli(hall, "ledger", "rebuild", "--quiet"))
    with at_rest.connect(hall / "hall.sqlite3") as c:
        assert c.execute("SELECT event_id, hash, reason FROM sync_parked ORDER BY seq").fetchall() == before
    assert digest(hall) == world["empty"]
    ok(cli(hall, "sync", "import", str(world["first"])))
    assert _parked(hall) == 0


def _import(opened, hall_keys, data: bytes) -> journal.Imported:
    with opened.db.transaction() as s:
        return journal.import_bundle(s, opened.system, hall_keys, data)


def _state(opened) -> tuple[str, int]:
    from sqlalchemy import func, select

    from hall.models import SyncParked

    with opened.db.reading() as s:
        parked = s.scalar(select(func.count()).select_from(SyncParked))
    return ledger_check.digest(opened.db).sha256, parked


@pytest.fixture(scope="module")
def in_order(world):
    """The state after each laptop's whole chain was imported, in order."""
    hall = hall_copy(world, "in_order")
    opened = open_hall(Paths.resolve(hall))
    try:
        for p in POINTS:
            _import(opened, world["hall_keys"], _seal(world["keys"][p], world["hall_keys"], world["chains"][p]))
        return _state(opened)
    finally:
        opened.db.dispose()


_runs = iter(range(10**6))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_bundles_cut_anywhere_in_any_order_end_in_one_state(world, in_order, data):
    """k bundles cut from two or three laptops' chains at random points, imported in a random order with some
    imported twice: always the in-order state, and nothing left waiting."""
    points = data.draw(st.sampled_from([POINTS[:2], POINTS[1:], POINTS]), label="laptops")
    bundles = []
    for p in POINTS:
        chain = world["chains"][p]
        if p not in points:  # a laptop not in this draw: its whole chain, in one bundle
            bundles.append(_seal(world["keys"][p], world["hall_keys"], chain))
            continue
        cuts = data.draw(st.lists(st.integers(1, len(chain) - 1), max_size=3, unique=True), label=f"cuts {p}")
        edges = [0, *sorted(cuts), len(chain)]
        bundles += [_seal(world["keys"][p], world["hall_keys"], chain[a:b]) for a, b in itertools.pairwise(edges)]
    order = data.draw(st.permutations(range(len(bundles))), label="order")
    repeats = data.draw(st.lists(st.integers(0, len(bundles) - 1), max_size=3), label="repeats")
    seq = list(order)
    rng = random.Random(len(seq) * 31 + sum(repeats))
    for r in repeats:
        seq.insert(rng.randrange(len(seq) + 1), r)
    hall = hall_copy(world, f"perm{next(_runs)}")
    opened = open_hall(Paths.resolve(hall))
    try:
        for i in seq:
            _import(opened, world["hall_keys"], bundles[i])
        assert _state(opened) == in_order
    finally:
        opened.db.dispose()
        shutil.rmtree(hall)


def _tamper(world, events: list[dict], how: str) -> bytes:
    ev = copy.deepcopy(events)
    if how == "payload":
        p = json.loads(ev[1]["payload"])
        p["tampered"] = 1
        ev[1]["payload"] = json.dumps(p, ensure_ascii=False)
    elif how == "hash":
        ev[-1]["hash"] = "0" * 64
    elif how == "link":
        ev[1]["prev_hash"] = "1" * 64
    return _seal(world["keys"]["001"], world["hall_keys"], ev)


@pytest.mark.parametrize(("how", "reason"), [("payload", "内容与哈希不符"), ("hash", "内容与哈希不符"),
                                             ("link", "前一哈希不符")])
def test_a_tampered_bundle_that_would_wait_is_refused_not_parked(world, how, reason):
    hall = hall_copy(world, f"tamper_{how}")
    events = world["chains"]["001"][world["since"]:]
    opened = open_hall(Paths.resolve(hall))
    try:
        before = _state(opened)
        with pytest.raises(BundleRejected) as caught:
            _import(opened, world["hall_keys"], _tamper(world, events, how))
        assert reason in caught.value.message and "数据库未做任何更改" in caught.value.message
        assert _state(opened) == before and before[1] == 0
    finally:
        opened.db.dispose()


def test_a_waiting_segment_that_forks_the_chain_is_refused_when_its_predecessor_arrives(world):
    """The laptop's key signed a segment whose first link does not fit its own earlier events: parked (nothing
    can tell yet), and when the earlier events arrive the import is refused as a fork, the database unchanged."""
    hall = hall_copy(world, "fork")
    chain = world["chains"]["001"]
    since = world["since"]
    forged = copy.deepcopy(chain[since:])
    forged[0]["prev_hash"] = "2" * 64  # not the hash of event ``since`` of the laptop's chain
    forged[0]["hash"] = _rehash_one(forged[0])
    _rehash_from(forged, 1)
    opened = open_hall(Paths.resolve(hall))
    try:
        got = _import(opened, world["hall_keys"], _seal(world["keys"]["001"], world["hall_keys"], forged))
        assert got.parked == len(forged) and got.new_events == 0
        before = _state(opened)
        with pytest.raises(BundleRejected) as caught:
            _import(opened, world["hall_keys"], _seal(world["keys"]["001"], world["hall_keys"], chain[:since]))
        assert "分叉" in caught.value.message and caught.value.kind == "fork"
        assert _state(opened) == before
    finally:
        opened.db.dispose()


def _rehash_one(e: dict) -> str:
    from hall.services.storage import ledger

    return ledger.event_hash(
        e["prev_hash"], event_id=e["event_id"], node_id=e["node_id"], seq=e["seq"], actor_id=e["actor_id"],
        actor_name=e["actor_name"], actor_role=e["actor_role"], occurred_at=datetime.fromisoformat(e["occurred_at"]),
        type=e["type"], ticket_uid=e["ticket_uid"], payload=e["payload"], format=e["format"],
        actor_uid=e["actor_uid"])


def _before_the_relay(hall: Path, to: str, kind: str) -> bytes:
    """The hall's file for point ``to`` as the release before the relay of earlier laptops' chains made it
    (exchange.relayed without those chains): a provisioning file or a return file."""
    from hall.services.sync import directory, peers

    mine = keys.load(hall)
    opened = open_hall(Paths.resolve(hall))
    try:
        with opened.db.reading() as s:
            peer = exchange._peer_by(s, to)
            events, order = exchange.relayed(s, mine.node_id, to)
            keep = [i for i, e in enumerate(events) if e["node_id"] not in exchange.earlier_laptops(s, to)]
            at = {i: n for n, i in enumerate(keep)}
            events, order = [events[i] for i in keep], [at[i] for i in order if i in at]
            extra = {"order": order, "staff_directory": directory.snapshot(s)}
            if kind == "provision":
                extra.update(hall={"node_id": mine.node_id, "sign_key": mine.sign_key, "box_key": mine.box_key},
                             intake_point=to, serial_floor=peers.serial_floor(s, to))
            m = exchange.manifest(mine, peer.node_id, kind, events, exchange._heads(s), extra)
            return bundle.seal(mine, peer.box_key, m, events)
    finally:
        opened.db.dispose()


def test_a_replacement_provisioned_before_the_relay_gets_the_old_tickets_and_what_waited_applies(world, tmp_path):
    """A laptop of point 003 enrolled (by the release before) after the old one was lost holds none of the village's
    earlier tickets: the hall's start on one of them waits for its ticket. The hall's next return file carries the
    old laptop's chain whole; the ticket arrives, what waited applies, and the laptop agrees with the hall."""
    hall = hall_copy(world, "replace")
    old = tmp_path / "old.hallsync"
    ok(cli(world["laps"]["003"], "sync", "export", "--out", str(old)))
    ok(cli(hall, "sync", "import", str(old)))
    ok(cli(hall, "sync", "revoke", "003", "--reason", "笔记本电脑丢失"))
    new = tmp_path / "lap003b"
    ok(cli(new, "sync", "request", "--point", "003", "--out", str(tmp_path / "req")))
    ok(cli(hall, "sync", "enrol", str(tmp_path / "req"), "--out", str(tmp_path / "unused.prov")))
    (tmp_path / "prov").write_bytes(_before_the_relay(hall, "003", "provision"))
    ok(cli(new, "sync", "join", str(tmp_path / "prov")))
    with at_rest.connect(new / "hall.sqlite3") as c:
        assert c.execute("SELECT count(*) FROM tickets").fetchone()[0] == 0
    with at_rest.connect(hall / "hall.sqlite3") as c:
        number = c.execute("SELECT number FROM tickets WHERE intake_point = '003' AND state = 'accepted' "
                           "ORDER BY number").fetchone()[0]
        held = c.execute("SELECT count(*) FROM tickets WHERE intake_point = '003'").fetchone()[0]
    act(hall, number, "start")
    ok(cli(hall, "staff", "add", "--no", "v03", "--name", "赵村", "--role", "village", "--point", "003",
           "--password", "village-pass"))
    (tmp_path / "back0").write_bytes(_before_the_relay(hall, "003", "bundle"))
    run = ok(cli(new, "sync", "import", str(tmp_path / "back0")))
    assert "暂存 1 条" in run.out and "等待办件" in run.out, run.out
    with at_rest.connect(new / "hall.sqlite3") as c:
        assert c.execute("SELECT count(*) FROM staff WHERE staff_no = 'v03'").fetchone()[0] == 1  # applied
        assert c.execute("SELECT type FROM sync_parked").fetchall() == [("ticket.started",)]
    assert "等待办件" in ok(cli(new, "sync", "parked")).out
    back = tmp_path / "back.hallsync"
    ok(cli(hall, "sync", "export", "--to", "003", "--out", str(back)))
    run = ok(cli(new, "sync", "import", str(back)))
    assert f"新办件 {held} 件" in run.out and "其中 1 条是此前暂存、现已补齐的" in run.out, run.out
    with at_rest.connect(new / "hall.sqlite3") as c:
        assert c.execute("SELECT count(*) FROM sync_parked").fetchone()[0] == 0
        assert c.execute("SELECT count(*) FROM tickets").fetchone()[0] == held
    assert ticket_row(new, number) == ticket_row(hall, number) and ticket_row(new, number)[2] == "in_progress"
    assert "哈希链全部相符" in ok(cli(new, "ledger", "verify")).out
    assert "所有表一致" in ok(cli(new, "ledger", "check", "--quiet")).out


def test_the_halls_event_naming_a_staff_member_the_laptop_lacks_waits_for_that_staff_member(world, tmp_path):
    """The hall adds village staff for point 002 and hands one of that village's tickets to them. A return file
    that carries the hand-over but not the staff member (the hall's chain reaches a laptop only in part): the
    hand-over waits for that person; the next full return file brings them and the hand-over applies — the same
    state as a laptop that took only the full file."""
    from sqlalchemy import select

    from hall.models import Ticket
    from hall.services.cases import workflow
    from hall.services.people import staff

    hall = hall_copy(world, "staffwait")
    lap = tmp_path / "lap002"
    shutil.copytree(world["laps"]["002"], lap)
    twin = tmp_path / "twin002"
    shutil.copytree(world["laps"]["002"], twin)
    bundle_002 = tmp_path / "002.hallsync"
    ok(cli(lap, "sync", "export", "--out", str(bundle_002)))
    ok(cli(hall, "sync", "import", str(bundle_002)))
    ok(cli(hall, "staff", "add", "--no", "v22", "--name", "钱村", "--role", "village", "--point", "002",
           "--password", "village-pass"))
    opened = open_hall(Paths.resolve(hall))
    try:
        with opened.db.transaction() as s:
            t = s.scalars(select(Ticket).where(Ticket.intake_point == "002", Ticket.state == "accepted")
                          .order_by(Ticket.number)).first()
            person = staff.by_number(s, "v22")
            workflow.reassign_event(s, opened.system, t, person.id, "交由村代办员跟进", datetime(2026, 3, 4, 9, 0))
            t_uid = t.uid
            full = exchange.relayed(s, world["hall_keys"].node_id, "002")[0]
    finally:
        opened.db.dispose()
    lap_keys = keys.load(lap)
    # Not a hall clerk the laptop knows from the hall's staff directory (that would resolve to a directory-only row,
    # test_sync_hall_staff.py): v22 came after the provisioning file's directory, and these files carry none.
    with at_rest.connect(lap / "hall.sqlite3") as c:
        assert c.execute("SELECT count(*) FROM sync_staff_directory WHERE staff_no = 'v22'").fetchone() == (0,)
        assert c.execute("SELECT count(*) FROM sync_staff_directory").fetchone()[0] > 0
    partial = [e for e in full if not e["type"].startswith("staff.")]
    assert len(partial) < len(full) and partial[-1]["type"] == "ticket.reassigned"

    def sealed(events: list[dict]) -> Path:
        path = tmp_path / f"back{len(events)}.hallsync"
        m = exchange.manifest(world["hall_keys"], lap_keys.node_id, "bundle", events, {})
        path.write_bytes(bundle.seal(world["hall_keys"], lap_keys.box_key, m, events))
        return path

    early = ok(cli(lap, "sync", "import", str(sealed(partial))))
    assert "暂存 1 条" in early.out and "等待工作人员" in early.out, early.out
    assert _parked(lap) == 1
    late = ok(cli(lap, "sync", "import", str(sealed(full))))
    assert "其中 1 条是此前暂存、现已补齐的" in late.out, late.out
    assert _parked(lap) == 0
    ok(cli(twin, "sync", "import", str(sealed(full))))
    assert digest(lap) == digest(twin)
    with at_rest.connect(lap / "hall.sqlite3") as c:
        owner = c.execute("SELECT s.staff_no FROM tickets t JOIN staff s ON s.id = t.owner_id "
                          "WHERE t.uid = ?", (t_uid,)).fetchone()
    assert owner == ("v22",)
    assert "所有表一致" in ok(cli(lap, "ledger", "check", "--quiet")).out
    assert "哈希链全部相符" in ok(cli(lap, "ledger", "verify")).out


def test_the_halls_ticket_event_based_on_a_version_the_laptop_lacks_waits_for_it(world, tmp_path):
    """The hall starts and then closes a village ticket; a return file with the closing but not the start: the
    closing (based on the started version) waits for that version, and the ticket's later events with it — not
    refused, not made a conflict — and the full file completes them."""
    hall = hall_copy(world, "parentwait")
    lap = tmp_path / "lap003"
    shutil.copytree(world["laps"]["003"], lap)
    b = tmp_path / "003.hallsync"
    ok(cli(lap, "sync", "export", "--out", str(b)))
    ok(cli(hall, "sync", "import", str(b)))
    with at_rest.connect(hall / "hall.sqlite3") as c:
        number, uid = c.execute("SELECT number, uid FROM tickets WHERE intake_point = '003' AND state = 'accepted' "
                                "ORDER BY number").fetchone()
    act(hall, number, "start")
    act(hall, number, "close")
    opened = open_hall(Paths.resolve(hall))
    try:
        with opened.db.reading() as s:
            full = exchange.relayed(s, world["hall_keys"].node_id, "003")[0]
    finally:
        opened.db.dispose()
    lap_keys = keys.load(lap)
    partial = [e for e in full if not (e["ticket_uid"] == uid and e["type"] == "ticket.started")]
    assert len(partial) == len(full) - 1

    def sealed(events: list[dict], name: str) -> Path:
        path = tmp_path / name
        m = exchange.manifest(world["hall_keys"], lap_keys.node_id, "bundle", events, {})
        path.write_bytes(bundle.seal(world["hall_keys"], lap_keys.box_key, m, events))
        return path

    early = ok(cli(lap, "sync", "import", str(sealed(partial, "partial.hallsync"))))
    waiting = sum(1 for e in partial if e["ticket_uid"] == uid)  # the closing, and what the hall wrote after it
    assert f"暂存 {waiting} 条" in early.out and f"等待办件 {uid[:8]} 的事件" in early.out, early.out
    with at_rest.connect(lap / "hall.sqlite3") as c:
        assert c.execute("SELECT state FROM tickets WHERE uid = ?", (uid,)).fetchone() == ("accepted",)
        assert c.execute("SELECT count(*) FROM sync_conflicts").fetchone() == (0,)
    ok(cli(lap, "sync", "import", str(sealed(full, "full.hallsync"))))
    assert _parked(lap) == 0
    with at_rest.connect(lap / "hall.sqlite3") as c, at_rest.connect(hall / "hall.sqlite3") as h:
        q = "SELECT state, version, closed_at FROM tickets WHERE uid = ?"
        assert c.execute(q, (uid,)).fetchone() == h.execute(q, (uid,)).fetchone()
    assert "所有表一致" in ok(cli(lap, "ledger", "check", "--quiet")).out


def test_an_event_naming_an_item_not_here_waits_from_that_event_on_not_from_its_run(world):
    """A laptop's chain whose third ticket names a catalogue version the hall does not hold (yet): the events
    before it apply — although the intake events of all its tickets are projected as one set-based run, whose
    error names only the run's first — and it waits, with the rest of the chain after it, for that item."""
    hall = hall_copy(world, "itemwait")
    chain = copy.deepcopy(world["chains"]["002"])
    received = [i for i, e in enumerate(chain) if e["type"] == "ticket.received"]
    at = received[2]
    p = json.loads(chain[at]["payload"])
    p["catalog_version"] = "00000000-0000-4000-8000-000000000009"
    chain[at]["payload"] = json.dumps(p, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    chain[at]["hash"] = _rehash_one(chain[at])
    _rehash_from(chain, at + 1)
    opened = open_hall(Paths.resolve(hall))
    try:
        got = _import(opened, world["hall_keys"], _seal(world["keys"]["002"], world["hall_keys"], chain))
    finally:
        opened.db.dispose()
    assert got.new_events == at and got.parked == len(chain) - at, got.message
    assert "等待事项 09（清单版本 00000000）" in got.message, got.message
    with at_rest.connect(hall / "hall.sqlite3") as c:
        assert c.execute("SELECT count(*) FROM tickets WHERE intake_point = '002'").fetchone()[0] == 2
        assert c.execute("SELECT min(seq) FROM sync_parked").fetchone()[0] == chain[at]["seq"]
    assert "所有表一致" in ok(cli(hall, "ledger", "check", "--quiet")).out
    assert "哈希链全部相符" in ok(cli(hall, "ledger", "verify")).out
