"""A replacement laptop gets its village's earlier tickets: the hall relays the chains of the point's revoked
laptops whole (hall/services/sync/exchange.py, ``relayed``), the laptop checks them link by link, and the
administrator is told at enrolment what went with the old laptop.

Real data directories (a hall, village laptops) driven through ``hall-admin``; tampered files sealed with the
hall's real keys, so they reach the checks behind the signature.
"""

from __future__ import annotations

import copy
import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from mutations import _rehash_from
from sync_env import act, add_point, add_tickets, cli, make_hall, ok, ticket_digest, ticket_row

from hall.paths import Paths
from hall.services.bootstrap import open_hall
from hall.services.storage import at_rest
from hall.services.sync import bundle, directory, exchange, keys

DAY = datetime(2026, 3, 3, 10, 0)


def _rows(data_dir: Path, sql: str, *args: object) -> list[tuple]:
    with at_rest.connect(data_dir / "hall.sqlite3") as c:
        return c.execute(sql, args).fetchall()


def _numbers(data_dir: Path, point: str) -> list[str]:
    return [n for (n,) in _rows(data_dir, "SELECT number FROM tickets WHERE intake_point = ? ORDER BY number", point)]


def _enrol(hall: Path, lap: Path, point: str) -> tuple[str, str]:
    """A laptop's request, the hall's enrolment, the laptop's join: the two outputs people read."""
    req, prov = lap.parent / f"{lap.name}.req", lap.parent / f"{lap.name}.prov"
    ok(cli(lap, "sync", "request", "--point", point, "--out", str(req)))
    enrolled = ok(cli(hall, "sync", "enrol", str(req), "--out", str(prov))).out
    return enrolled, ok(cli(lap, "sync", "join", str(prov))).out


def _export(node: Path, out: Path, *to: str) -> Path:
    ok(cli(node, "sync", "export", *(("--to", *to) if to else ()), "--out", str(out)))
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Point 001's first laptop registers tickets, the hall takes them and acts on some (a supplement request, a
    close); one more ticket on the laptop never reaches the hall; the laptop is lost (revoked) and a replacement
    enrolled and joined. Point 002 has a revoked laptop and a live one, both with tickets at the hall."""
    base = tmp_path_factory.mktemp("replace")
    hall = make_hall(base / "hall")
    for point in ("001", "002"):
        add_point(hall, point)
    old = base / "old001"
    _enrol(hall, old, "001")
    _enrol(hall, base / "old002", "002")
    add_tickets(old, 6, seed=41)
    add_tickets(base / "old002", 4, seed=42)
    for lap, name in ((old, "o1"), (base / "old002", "o2")):
        ok(cli(hall, "sync", "import", str(_export(lap, base / f"{name}.hallsync"))))
    accepted = [n for (n,) in _rows(hall, "SELECT number FROM tickets WHERE intake_point = '001' AND "
                                          "state = 'accepted' ORDER BY number")]
    paused, closed = accepted[0], accepted[1]
    act(hall, paused, "start", DAY)
    act(hall, paused, "pause", DAY.replace(hour=11))  # 等待申请人补正材料
    act(hall, closed, "start", DAY)
    act(hall, closed, "close", DAY.replace(hour=15))
    ok(cli(hall, "sync", "import", str(_export(old, base / "o1b.hallsync"))))  # nothing new: the hall has it all
    add_tickets(old, 1, seed=43, start=datetime(2026, 3, 2, 16, 0))  # registered, never synced: lost with it
    ok(cli(hall, "sync", "revoke", "001", "--reason", "笔记本电脑丢失"))
    ok(cli(hall, "sync", "revoke", "002", "--reason", "换新电脑"))
    _enrol(hall, base / "new002", "002")
    add_tickets(base / "new002", 2, seed=44, start=datetime(2026, 3, 4, 9, 0))
    ok(cli(hall, "sync", "import", str(_export(base / "new002", base / "n2.hallsync"))))
    enrolled, joined = _enrol(hall, base / "new001", "001")
    return {"base": base, "hall": hall, "old": old, "new": base / "new001", "paused": paused, "closed": closed,
            "enrolled": enrolled, "joined": joined, "old_node": keys.load(old).node_id,
            "village2": {keys.load(base / n).node_id for n in ("old002", "new002")},
            "old002": keys.load(base / "old002").node_id}


def _copy(world, name: str, *nodes: str) -> list[Path]:
    out = []
    for node in nodes:
        target = world["base"] / f"{name}-{node}"
        shutil.copytree(world[node], target)
        out.append(target)
    return out


def _same_village(hall: Path, lap: Path) -> None:
    numbers = _numbers(hall, "001")
    assert numbers == _numbers(lap, "001") and len(numbers) == 6
    for number in numbers:
        assert ticket_row(lap, number) == ticket_row(hall, number)
        assert ticket_digest(lap, number) == ticket_digest(hall, number)


def test_the_replacement_holds_the_villages_earlier_tickets_as_the_hall_does(world):
    hall, new = world["hall"], world["new"]
    _same_village(hall, new)
    assert ticket_row(new, world["paused"])[2] == "in_progress"  # paused: waiting for the citizen's supplement
    assert ticket_row(new, world["closed"])[2] == "closed_approved"
    # The old laptop's chain, whole, with the hall's events on its tickets; nothing of it parked.
    assert _rows(new, "SELECT min(seq), max(seq), count(*) FROM events WHERE node_id = ?", world["old_node"]) == \
        _rows(hall, "SELECT min(seq), max(seq), count(*) FROM events WHERE node_id = ?", world["old_node"])
    assert _rows(new, "SELECT count(*) FROM sync_parked") == [(0,)]
    assert "本村原有办件 6 件" in world["joined"]
    for node in (hall, new):
        assert "哈希链全部相符" in ok(cli(node, "ledger", "verify")).out
        assert "所有表一致" in ok(cli(node, "ledger", "check", "--quiet")).out


def test_the_administrator_is_told_what_went_with_the_old_laptop(world):
    said = world["enrolled"]
    last = _numbers(world["hall"], "001")[-1]
    assert "受理点 001 原来的电脑" in said and world["old_node"][:8] in said and "笔记本电脑丢失" in said
    assert "最后一次同步到中心是 " in said and f"最后一件编号 {last}" in said and "其中办件 6 件" in said
    assert "已随那台电脑丢失" in said
    # The ticket registered after the last sync is not at the hall, and not on the replacement.
    lost = _numbers(world["old"], "001")[-1]
    assert lost > last and lost not in _numbers(world["new"], "001")
    # A point's first laptop: nothing to say.
    hall = _copy(world, "first", "hall")[0]
    add_point(hall, "003")
    assert "原来的电脑" not in _enrol(hall, world["base"] / "first-003", "003")[0]


def test_no_other_villages_chain_or_ticket_reaches_the_replacement(world):
    new = world["new"]
    assert _rows(new, "SELECT DISTINCT intake_point FROM tickets") == [("001",)]
    nodes = {n for (n,) in _rows(new, "SELECT DISTINCT node_id FROM events")}
    assert not nodes & world["village2"] and world["old_node"] in nodes
    assert _numbers(world["hall"], "002")  # the hall has them: they were there to be left out


def test_the_replacement_numbers_on_and_takes_later_hall_events_on_old_tickets(world):
    hall, new = _copy(world, "later", "hall", "new")
    act(hall, world["paused"], "resume", DAY.replace(day=5))
    act(hall, world["closed"], "deliver", DAY.replace(day=5))
    back = _export(hall, hall.parent / "later-back.hallsync", "001")
    run = ok(cli(new, "sync", "import", str(back)))
    assert "更新办件 2 件" in run.out and "暂存" not in run.out, run.out
    assert ticket_row(new, world["closed"])[2] == "delivered"
    _same_village(hall, new)
    again = ok(cli(new, "sync", "import", str(back)))
    assert "已导入过" in again.out and "未做任何更改" in again.out
    # New intake on the replacement continues above the old laptop's serials of that day.
    last = _numbers(hall, "001")[-1]
    add_tickets(new, 1, seed=45, start=datetime(2026, 3, 2, 17, 0))
    mine = [n for n in _numbers(new, "001") if n not in _numbers(hall, "001")]
    assert len(mine) == 1 and int(mine[0][-4:]) == int(last[-4:]) + 1 and mine[0][:-4] == last[:-4]
    ok(cli(hall, "sync", "import", str(_export(new, hall.parent / "later-up.hallsync"))))
    assert mine[0] in _numbers(hall, "001")
    for node in (hall, new):
        assert "哈希链全部相符" in ok(cli(node, "ledger", "verify")).out
        assert "所有表一致" in ok(cli(node, "ledger", "check", "--quiet")).out


def test_bundles_in_either_order_end_in_the_same_state(world):
    hall, new = _copy(world, "order", "hall", "new")
    first = _export(hall, hall.parent / "order-1.hallsync", "001")
    act(hall, world["paused"], "resume", DAY.replace(day=6))
    second = _export(hall, hall.parent / "order-2.hallsync", "001")
    ok(cli(new, "sync", "import", str(second)))
    late = ok(cli(new, "sync", "import", str(first)))  # older than what the laptop holds of the hall's chain
    assert "没有变化" in late.out, late.out  # a clean no-op
    _same_village(hall, new)


# ------------------------------------------------------------------------------------------ tampered relays
def _hall_file(world, hall: Path, change, *, earlier: list[str] | None = None) -> bytes:
    """The hall's return file for 001, its events changed by ``change`` (after which the manifest is made
    consistent again), sealed and signed with the hall's real keys."""
    mine, lap = keys.load(hall), keys.load(world["new"])
    opened = open_hall(Paths.resolve(hall))
    try:
        with opened.db.reading() as s:
            events, order = exchange.relayed(s, mine.node_id, "001")
            events, order = change(s, copy.deepcopy(events), order)
            extra = {"order": order, "staff_directory": directory.snapshot(s),
                     "earlier": [world["old_node"]] if earlier is None else earlier}
            m = exchange.manifest(mine, lap.node_id, "bundle", events, {}, extra)
            return bundle.seal(mine, lap.box_key, m, events)
    finally:
        opened.db.dispose()


def _old_chain(world, events: list[dict]) -> list[int]:
    return [i for i, e in enumerate(events) if e["node_id"] == world["old_node"]]


def _edit(world, rehash: bool):
    def change(_s, events, order):
        at = _old_chain(world, events)
        e = events[at[3]]
        p = json.loads(e["payload"])
        p["note"] = "伪造的备注"
        e["payload"] = json.dumps(p, ensure_ascii=False, sort_keys=True)
        if rehash:  # a forger who knows the format: every link of the old chain valid again from there
            chain = [events[i] for i in at]
            _rehash_from(chain, 3)
        return events, order
    return change


def _drop_first(world):
    def change(_s, events, order):
        gone = _old_chain(world, events)[0]
        keep = [i for i in range(len(events)) if i != gone]
        at = {i: n for n, i in enumerate(keep)}
        return [events[i] for i in keep], [at[i] for i in order if i in at]
    return change


def _other_village(world):
    """Point 002's old chain put in the file as if it were 001's earlier laptop's."""
    def change(s, events, order):
        theirs = exchange.own_events(s, world["old002"])
        return events + theirs, order + list(range(len(events), len(events) + len(theirs)))
    return change


@pytest.mark.parametrize("case, reason", [
    ("edit", "内容与哈希不符"),
    ("edit_rehash", "分叉"),
    ("drop_first", "应从第 1 号事件起"),
    ("undeclared", "不在同步范围内"),
    ("other_village", "不是本村代办点的"),
])
def test_a_tampered_relayed_chain_is_refused_and_nothing_changes(world, case, reason):
    hall, new = _copy(world, f"bad-{case}", "hall", "new")
    change = {"edit": _edit(world, False), "edit_rehash": _edit(world, True), "drop_first": _drop_first(world),
              "undeclared": lambda _s, e, o: (e, o), "other_village": _other_village(world)}[case]
    earlier = {"undeclared": [], "other_village": [world["old_node"], world["old002"]]}.get(case)
    data = _hall_file(world, hall, change, earlier=earlier)
    path = new.parent / f"bad-{case}.hallsync"
    path.write_bytes(data)
    before = ok(cli(new, "ledger", "digest")).out
    run = cli(new, "sync", "import", str(path))
    assert run.code == 2 and reason in run.err, run.err
    assert ok(cli(new, "ledger", "digest")).out == before


def test_the_hall_sends_no_earlier_chain_with_another_villages_ticket_on_it(world):
    """A damaged hall ledger (one of the old laptop's tickets now under 002): its chain would carry a 002 citizen to
    001's laptop, so the export stops with the reason instead of sending it."""
    hall = _copy(world, "stray", "hall")[0]
    with at_rest.connect(hall / "hall.sqlite3") as c:
        c.execute("UPDATE tickets SET intake_point = '002' WHERE number = ?", (world["paused"],))
    run = cli(hall, "sync", "export", "--to", "001", "--out", str(hall.parent / "stray.hallsync"))
    assert run.code != 0 and "不是本村办件的" in run.err and "Traceback" not in run.err, run.err
    assert not (hall.parent / "stray.hallsync").exists()
    ok(cli(hall, "sync", "export", "--to", "002", "--out", str(hall.parent / "stray2.hallsync")))  # 002: unaffected


# ------------------------------------------------------------------------------------------ a conflict on an old ticket
@pytest.mark.parametrize("resolve, blind", [(False, False), (True, False), (True, True)])
def test_a_conflict_the_hall_holds_on_an_old_ticket_is_the_same_on_the_replacement(tmp_path, resolve, blind):
    """The hall started a ticket while the old laptop withdrew it (a sync conflict at the hall, open or resolved):
    the replacement derives the same conflict, held events and ticket from the relayed chains. ``blind``: the old
    laptop started it, then withdrew it — the withdrawal (built on its start) reaches the hall after the manager
    kept the hall's branch, naming the hall's version by integer (test_sync_lineage.py)."""
    hall = make_hall(tmp_path / "hall")
    add_point(hall, "001")
    old = tmp_path / "old"
    _enrol(hall, old, "001")
    add_tickets(old, 3, seed=51)
    ok(cli(hall, "sync", "import", str(_export(old, tmp_path / "o1.hallsync"))))
    number = _rows(hall, "SELECT number FROM tickets WHERE state = 'accepted' ORDER BY number")[0][0]
    act(hall, number, "start", DAY)
    act(old, number, "start" if blind else "withdraw", DAY.replace(minute=5))
    ok(cli(hall, "sync", "import", str(_export(old, tmp_path / "o2.hallsync"))))
    if blind:
        act(old, number, "withdraw", DAY.replace(minute=9))
    conflict = ok(cli(hall, "sync", "conflicts")).out.split()[0]
    if resolve:
        ok(cli(hall, "sync", "resolve", conflict, "--keep", "hall", "--reason", "申请人到中心确认继续办理"))
    if blind:
        ok(cli(hall, "sync", "import", str(_export(old, tmp_path / "o3.hallsync"))))
    ok(cli(hall, "sync", "revoke", "001", "--reason", "笔记本电脑丢失"))
    new = tmp_path / "new"
    _enrol(hall, new, "001")
    assert ticket_row(new, number) == ticket_row(hall, number)
    assert ticket_digest(new, number) == ticket_digest(hall, number)
    assert ticket_digest(hall, number)[1]["sync_conflicts"] == 1
    assert ok(cli(new, "sync", "conflicts", "--all")).out == ok(cli(hall, "sync", "conflicts", "--all")).out
    assert "所有表一致" in ok(cli(new, "ledger", "check", "--quiet")).out


def test_a_second_replacement_gets_both_earlier_laptops_chains(world):
    """The replacement registers a ticket and delivers an old one, syncs, and is lost too: the third laptop of 001
    holds the tickets of both earlier laptops (the second's event on the first's ticket with them)."""
    hall, second = _copy(world, "third", "hall", "new")
    act(second, world["closed"], "deliver", DAY.replace(day=7))
    add_tickets(second, 1, seed=46, start=datetime(2026, 3, 7, 9, 0))
    ok(cli(hall, "sync", "import", str(_export(second, hall.parent / "third-up.hallsync"))))
    ok(cli(hall, "sync", "revoke", "001", "--reason", "又丢了"))
    enrolled, joined = _enrol(hall, hall.parent / "third-001", "001")
    assert enrolled.count("受理点 001 原来的电脑") == 2 and "又丢了" in enrolled and "本村原有办件 7 件" in joined
    third = hall.parent / "third-001"
    numbers = _numbers(hall, "001")
    assert numbers == _numbers(third, "001") and len(numbers) == 7
    for number in numbers:
        assert ticket_digest(third, number) == ticket_digest(hall, number)
    assert ticket_row(third, world["closed"])[2] == "delivered"
    assert "哈希链全部相符" in ok(cli(third, "ledger", "verify")).out
    assert "所有表一致" in ok(cli(third, "ledger", "check", "--quiet")).out


def _provision_without(hall: Path, point: str, staff_no: str) -> bytes:
    """The provisioning file for ``point``'s enrolled laptop without one village staff member (neither the events
    that add them nor their directory line): as a hall's partial file would be."""
    from hall.services.sync import peers

    mine = keys.load(hall)
    opened = open_hall(Paths.resolve(hall))
    try:
        with opened.db.reading() as s:
            peer = exchange._peer_by(s, point)
            events, order = exchange.relayed(s, mine.node_id, point)
            people = directory.snapshot(s)
            gone = next(p["uid"] for p in people if p["staff_no"] == staff_no)
            keep = [i for i, e in enumerate(events) if not e["type"].startswith("staff.") or gone not in e["payload"]]
            at = {i: n for n, i in enumerate(keep)}
            events, order = [events[i] for i in keep], [at[i] for i in order if i in at]
            extra = {"order": order, "staff_directory": [p for p in people if p["uid"] != gone],
                     "earlier": exchange.earlier_laptops(s, point),
                     "hall": {"node_id": mine.node_id, "sign_key": mine.sign_key, "box_key": mine.box_key},
                     "intake_point": point, "serial_floor": peers.serial_floor(s, point)}
            m = exchange.manifest(mine, peer.node_id, "provision", events, exchange._heads(s), extra)
            return bundle.seal(mine, peer.box_key, m, events)
    finally:
        opened.db.dispose()


def test_an_old_laptops_event_that_waits_on_the_replacement_applies_with_the_next_file(tmp_path):
    """The old laptop handed a ticket to its village colleague v02. A provisioning file without v02: that event of
    the old chain waits (with its ticket's later ones), the rest of the chain applies; the hall's next return file
    carries the chain again — its waiting event is compared with the parked copy, not taken for a fork — and v02:
    it applies, and the replacement agrees with the hall."""
    from sqlalchemy import select

    from hall.models import Ticket
    from hall.services.cases import workflow
    from hall.services.people import staff

    hall = make_hall(tmp_path / "hall")
    add_point(hall, "001")
    ok(cli(hall, "staff", "add", "--no", "v02", "--name", "周村", "--role", "village", "--point", "001",
           "--password", "village-pass"))
    old = tmp_path / "old"
    _enrol(hall, old, "001")
    add_tickets(old, 4, seed=61)
    opened = open_hall(Paths.resolve(old))
    try:
        with opened.db.transaction() as s:
            t = s.scalars(select(Ticket).where(Ticket.state == "accepted").order_by(Ticket.number)).first()
            workflow.reassign_event(s, opened.system, t, staff.by_number(s, "v02").id, "交由周村跟进", DAY)
            handed = t.number
    finally:
        opened.db.dispose()
    act(old, handed, "start", DAY.replace(hour=11))  # a later event of the same ticket waits with it
    add_tickets(old, 2, seed=62, start=DAY.replace(hour=14))  # the chain goes on past them: they leave a gap
    ok(cli(hall, "sync", "import", str(_export(old, tmp_path / "o.hallsync"))))
    ok(cli(hall, "sync", "revoke", "001", "--reason", "笔记本电脑丢失"))
    new = tmp_path / "new"
    ok(cli(new, "sync", "request", "--point", "001", "--out", str(tmp_path / "req")))
    ok(cli(hall, "sync", "enrol", str(tmp_path / "req"), "--out", str(tmp_path / "unused.prov")))
    (tmp_path / "prov").write_bytes(_provision_without(hall, "001", "v02"))
    ok(cli(new, "sync", "join", str(tmp_path / "prov")))
    assert [t for (t,) in _rows(new, "SELECT type FROM sync_parked ORDER BY seq")] == \
        ["ticket.reassigned", "ticket.started"]
    assert len(_numbers(new, "001")) == 6 and ticket_row(new, handed)[2] == "accepted"
    # The old chain is checked link by link: the gap its waiting events fill is no failure, any other gap is.
    assert "哈希链全部相符" in ok(cli(new, "ledger", "verify")).out
    assert "自检查点" in ok(cli(new, "ledger", "verify", "--daily")).out  # the daily check counts them too
    cut = tmp_path / "cut"
    shutil.copytree(new, cut)
    old_node = keys.load(old).node_id
    after = _rows(cut, "SELECT max(seq) FROM sync_parked WHERE node_id = ?", old_node)[0][0] + 1
    with at_rest.connect(cut / "hall.sqlite3") as c:
        c.execute("DELETE FROM events WHERE node_id = ? AND seq = ?", (old_node, after))
    run = cli(cut, "ledger", "verify")
    assert run.code == 1 and "序号不连续" in run.err and f"{old_node} 第 {after + 1} 号" in run.err, run.err
    back = _export(hall, tmp_path / "back.hallsync", "001")
    run = ok(cli(new, "sync", "import", str(back)))
    assert "其中 2 条是此前暂存、现已补齐的" in run.out, run.out
    assert _rows(new, "SELECT count(*) FROM sync_parked") == [(0,)]
    _same = [ticket_digest(new, n) == ticket_digest(hall, n) for n in _numbers(hall, "001")]
    assert all(_same) and ticket_row(new, handed)[2] == "in_progress"
    assert "哈希链全部相符" in ok(cli(new, "ledger", "verify")).out
    assert "所有表一致" in ok(cli(new, "ledger", "check", "--quiet")).out
