"""The hall relays every hall-side chain: a hall on PostgreSQL has many counter PCs, each writing its own chain, and
the export runs on one of them. Here a second hall-side node writes on the hall's real SQLite file (as a second
counter does on the server); a village laptop on its own SQLite file takes the provisioning file and the return
bundles through ``hall-admin``. What the second counter did — a catalogue change, a village clerk, a 补正 pause and
the closing of a village ticket — reaches the laptop; a forged event of a hall-side chain is refused with nothing
written; the staff directory travels without a password hash and replaces the laptop's whole."""

from __future__ import annotations

import copy
import json
import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sync_env import add_point, add_tickets, cli, digest, make_hall, make_laptop, ok, ticket_row

from hall.models import Ticket
from hall.paths import Paths
from hall.services.bootstrap import open_hall
from hall.services.storage import at_rest
from hall.services.sync import bundle, directory, exchange, keys, state

SECOND = "c0de0002-0000-4000-8000-000000000002"  # the second counter PC's node id
RENAMED = "居民身份证换领（窗口三改名）"


def at_counter(data_dir: Path, node: str | None, work: Any) -> Any:
    """``work(session, actor)`` at this hall, as its system on counter ``node`` (None: the exporting PC)."""
    opened = open_hall(Paths.resolve(data_dir))
    try:
        actor = opened.system if node is None else replace(opened.system, node_id=node)
        with opened.db.transaction() as s:
            return work(s, actor)
    finally:
        opened.db.dispose()


def rename_item(s: Any, actor: Any) -> None:
    from hall.services.catalog import items as catalog

    spec = catalog.current_spec(s)
    renamed = tuple(replace(i, name=RENAMED) if i.code == "22" else i for i in spec.items)
    catalog.import_catalog(s, actor, replace(spec, items=renamed), "测试：第二台窗口电脑改名")


def add_staff(no: str, name: str, role: str, point: str = "000", window: str | None = None) -> Any:
    from hall.services.people import staff

    def work(s: Any, actor: Any) -> None:
        staff.add_staff(s, actor, staff.StaffForm(no, name, role, window_code=window, intake_point=point,
                                                  password="pass-word-1"))
    return work


def deactivate(no: str) -> Any:
    from hall.services.people import staff

    def work(s: Any, actor: Any) -> None:
        staff.set_active(s, actor, no, False, "调离")
    return work


def on_ticket(number: str, step: str, at: datetime) -> Any:
    from hall.services.cases import workflow

    def work(s: Any, actor: Any) -> None:
        if step == "start":
            workflow.start(s, actor, number, now=at)
        elif step == "pause":
            workflow.pause(s, actor, number, "需补正：户口簿复印件", now=at)
        elif step == "resume":
            workflow.resume(s, actor, number, now=at)
        else:
            workflow.close(s, actor, number, "approved", "准予办理", now=at)
    return work


def rows(data_dir: Path, sql: str, *args: Any) -> list[tuple]:
    with at_rest.connect(data_dir / "hall.sqlite3") as c:
        return c.execute(sql, args).fetchall()


def opened_on_laptop(lap: Path, data: bytes) -> bundle.Opened:
    mine = keys.load(lap)
    assert mine is not None
    return bundle.open_bundle(mine, data)


@pytest.fixture
def scene(tmp_path):
    """A hall whose second counter renamed an item and added a village clerk before the laptop of 001 enrolled;
    the laptop then registered tickets and its bundle was imported at the hall."""
    hall = make_hall(tmp_path / "hall")
    add_point(hall, "001")
    at_counter(hall, SECOND, rename_item)
    at_counter(hall, SECOND, add_staff("c05", "钱窗", "clerk", window="W02"))  # not relayed: a gap in that chain
    at_counter(hall, SECOND, add_staff("v02", "赵村", "village", point="001"))
    lap = make_laptop(hall, tmp_path / "lap", "001")
    add_tickets(lap, 4)
    ok(cli(lap, "sync", "export", "--out", str(tmp_path / "001.hallsync")))
    ok(cli(hall, "sync", "import", str(tmp_path / "001.hallsync")))
    return {"hall": hall, "lap": lap, "base": tmp_path}


def _open_numbers(lap: Path) -> list[str]:
    return [r[0] for r in rows(lap, "SELECT number FROM tickets WHERE state = 'accepted' ORDER BY number")]


def test_provisioning_carries_what_the_second_counter_wrote(scene):
    hall, lap = scene["hall"], scene["lap"]
    assert rows(lap, "SELECT name FROM items i JOIN catalog_versions v ON v.id = i.version_id "
                     "WHERE v.is_current AND i.code = '22'") == [(RENAMED,)]
    assert rows(lap, "SELECT staff_no FROM staff WHERE staff_no = 'v02'") == [("v02",)]  # a village clerk: events
    assert rows(lap, "SELECT count(*) FROM staff WHERE staff_no = 'c05'") == [(0,)]  # a hall clerk: the directory
    assert rows(lap, "SELECT seq FROM node_heads WHERE node_id = ?", SECOND) == rows(
        lap, "SELECT max(seq) FROM events WHERE node_id = ?", SECOND) != [(None,)]
    names = dict(rows(lap, "SELECT staff_no, name FROM sync_staff_directory"))
    assert names["c05"] == "钱窗" and names["v02"] == "赵村" and "admin" in names
    assert "哈希链全部相符" in ok(cli(lap, "ledger", "verify")).out  # both hall chains held in part
    assert "所有表一致" in ok(cli(lap, "ledger", "check", "--quiet")).out
    assert "所有表一致" in ok(cli(hall, "ledger", "check", "--quiet")).out


def test_a_pause_and_closing_on_the_second_counter_reach_the_laptop(scene):
    hall, lap, base = scene["hall"], scene["lap"], scene["base"]
    number = _open_numbers(lap)[0]
    # Interleaved between the two counters: applied chain by chain (the exporting PC's first), the resume would
    # come before the pause it ends. The laptop must apply them in the order the hall stored them.
    at_counter(hall, None, on_ticket(number, "start", datetime(2026, 3, 3, 9)))
    at_counter(hall, SECOND, on_ticket(number, "pause", datetime(2026, 3, 3, 10)))
    at_counter(hall, None, on_ticket(number, "resume", datetime(2026, 3, 4, 9)))
    at_counter(hall, SECOND, on_ticket(number, "close", datetime(2026, 3, 5, 9)))
    back = base / "back.hallsync"
    ok(cli(hall, "sync", "export", "--to", "001", "--out", str(back)))
    m = opened_on_laptop(lap, back.read_bytes()).manifest
    hall_node = keys.load(hall).node_id  # type: ignore[union-attr]
    assert [c["node_id"] for c in m["chains"]] == [hall_node, SECOND]  # the exporting PC's chain first
    before = digest(lap)
    run = ok(cli(lap, "sync", "import", str(back)))
    assert "更新办件 1 件" in run.out, run.out
    assert ticket_row(lap, number)[2] == "closed_approved"
    for uid, n in rows(hall, "SELECT uid, number FROM tickets WHERE intake_point = '001'"):
        assert ticket_row(lap, n) == ticket_row(hall, n)  # every village ticket as the hall has it
        assert rows(lap, "SELECT event_id, hash FROM events WHERE ticket_uid = ? ORDER BY node_id, seq", uid) == \
            rows(hall, "SELECT event_id, hash FROM events WHERE ticket_uid = ? ORDER BY node_id, seq", uid)
    assert "哈希链全部相符" in ok(cli(lap, "ledger", "verify")).out
    assert "所有表一致" in ok(cli(lap, "ledger", "check", "--quiet")).out
    after = digest(lap)
    assert after != before
    assert "已导入过" in ok(cli(lap, "sync", "import", str(back))).out  # the same file again: a no-op
    assert digest(lap) == after


def _states_at_hall(hall: Path) -> dict[str, str]:
    opened = open_hall(Paths.resolve(hall))
    try:
        with opened.db.reading() as s:
            ids = dict(s.execute(select(Ticket.id, Ticket.number).where(Ticket.intake_point == "001")).all())
            return {ids[i]: code for i, code in state.sync_state(s, ids).items()}
    finally:
        opened.db.dispose()


def _pending_at_hall(hall: Path) -> list[tuple[int, int]]:
    opened = open_hall(Paths.resolve(hall))
    try:
        with opened.db.reading() as s:
            return [(p.pending_events, p.pending_tickets)
                    for p in state.peer_lines(s, opened.node.node_id, "hall")]
    finally:
        opened.db.dispose()


def test_the_sync_state_follows_the_second_counters_chain(scene):
    hall, lap, base = scene["hall"], scene["lap"], scene["base"]
    number = _open_numbers(lap)[0]
    assert set(_states_at_hall(hall).values()) == {state.SYNCED}
    at_counter(hall, SECOND, on_ticket(number, "start", datetime(2026, 3, 3, 9)))  # only the second counter
    assert _states_at_hall(hall)[number] == state.UNSENT
    assert _pending_at_hall(hall) == [(1, 1)]
    back = base / "back.hallsync"
    ok(cli(hall, "sync", "export", "--to", "001", "--out", str(back)))
    assert _states_at_hall(hall)[number] == state.SENT
    assert _pending_at_hall(hall) == [(0, 1)]
    ok(cli(lap, "sync", "import", str(back)))
    ok(cli(lap, "sync", "export", "--out", str(base / "again.hallsync")))
    ok(cli(hall, "sync", "import", str(base / "again.hallsync")))  # its ack vector holds the second chain's head
    assert _states_at_hall(hall)[number] == state.SYNCED
    assert _pending_at_hall(hall) == [(0, 0)]


def _reseal(hall: Path, lap: Path, data: bytes, change: Any) -> bytes:
    """The hall's bundle opened, changed by ``change(manifest, events)``, its manifest made consistent again and
    sealed with the hall's real key: only the checks behind the signature can refuse it."""
    o = opened_on_laptop(lap, data)
    m, events = copy.deepcopy(o.manifest), copy.deepcopy(o.events)
    change(m, events)
    m.update(chains=exchange._chains(events), count=len(events), content_sha256=bundle.content_hash(events))
    m["extra"]["order"] = list(range(len(events)))
    hall_keys, lap_keys = keys.load(hall), keys.load(lap)
    assert hall_keys is not None and lap_keys is not None
    return bundle.seal(hall_keys, lap_keys.box_key, m, events)


def _forge_extra_chain(m: dict[str, Any], events: list[dict[str, Any]]) -> None:
    fake = dict(next(e for e in events if e["node_id"] == SECOND), node_id="f0f0f0f0-0000-4000-8000-00000000000f",
                event_id="f0f0f0f0-0000-4000-8000-0000000000ee", seq=1)
    fake["payload"] = json.dumps({"values": {"restart_on_supplement": False}})
    fake["type"] = "settings.changed"
    events.append(fake)  # a third "counter" whose event's hash is not its content's


def _tamper_second_chain(m: dict[str, Any], events: list[dict[str, Any]]) -> None:
    e = next(e for e in events if e["node_id"] == SECOND and e["type"] == "catalog.imported")
    e["payload"] = e["payload"].replace(RENAMED, "伪造的事项名称")


def _fork_own_chain(m: dict[str, Any], events: list[dict[str, Any]]) -> None:
    fake = copy.deepcopy(next(e for e in events if e["node_id"] == SECOND))
    events.append(fake | {"node_id": m["to"], "seq": 1, "event_id": "0e0e0e0e-0000-4000-8000-00000000000e"})


@pytest.mark.parametrize(("change", "reason"), [
    (_forge_extra_chain, "与哈希不符"), (_tamper_second_chain, "与哈希不符"), (_fork_own_chain, "分叉")])
def test_a_forged_hall_side_chain_is_refused_with_nothing_written(scene, change, reason):
    hall, lap, base = scene["hall"], scene["lap"], scene["base"]
    at_counter(hall, SECOND, on_ticket(_open_numbers(lap)[0], "start", datetime(2026, 3, 3, 9)))
    good = base / "good.hallsync"
    # Whole (--full): the laptop acknowledged the reference events, which a return file then leaves out.
    ok(cli(hall, "sync", "export", "--to", "001", "--full", "--out", str(good)))
    bad = base / "bad.hallsync"
    bad.write_bytes(_reseal(hall, lap, good.read_bytes(), change))
    before = digest(lap), rows(lap, "SELECT count(*), max(id) FROM events"), rows(lap, "SELECT * FROM node_heads")
    run = cli(lap, "sync", "import", str(bad))
    assert run.code == 2 and reason in run.err and "数据库未做任何更改" in run.err, run.err
    assert (digest(lap), rows(lap, "SELECT count(*), max(id) FROM events"),
            rows(lap, "SELECT * FROM node_heads")) == before
    assert "已导入" in ok(cli(lap, "sync", "import", str(good))).out  # the genuine file still goes in


def test_an_apply_order_that_is_not_a_permutation_is_refused(scene):
    hall, lap, base = scene["hall"], scene["lap"], scene["base"]
    good = base / "good.hallsync"
    ok(cli(hall, "sync", "export", "--to", "001", "--full", "--out", str(good)))  # more than one event
    o = opened_on_laptop(lap, good.read_bytes())
    hall_keys, lap_keys = keys.load(hall), keys.load(lap)
    assert hall_keys is not None and lap_keys is not None
    before = digest(lap)
    for order in ([0] * len(o.events), list(range(len(o.events) - 1)), ["0"] * len(o.events)):
        m = copy.deepcopy(o.manifest)
        m["extra"]["order"] = order
        (base / "bad.hallsync").write_bytes(bundle.seal(hall_keys, lap_keys.box_key, m, o.events))
        run = cli(lap, "sync", "import", str(base / "bad.hallsync"))
        assert run.code == 2 and "应用顺序" in run.err, run.err
    assert digest(lap) == before


def test_the_staff_directory_has_no_password_hash_and_is_replaced_whole(scene):
    hall, lap, base = scene["hall"], scene["lap"], scene["base"]
    back = base / "back.hallsync"
    at_counter(hall, SECOND, add_staff("c06", "孙窗", "clerk", window="W03"))
    at_counter(hall, None, deactivate("c05"))  # on the exporting PC
    ok(cli(hall, "sync", "export", "--to", "001", "--out", str(back)))
    m = opened_on_laptop(lap, back.read_bytes()).manifest
    entries = m["extra"]["staff_directory"]
    assert entries and all(set(e) == set(directory.FIELDS) for e in entries)
    text = json.dumps(entries, ensure_ascii=False)
    assert "password" not in text and "$argon2" not in text  # no hash, under any name
    hashes = [h for (h,) in rows(hall, "SELECT password_hash FROM staff WHERE password_hash != ''")]
    assert hashes and not any(h in text for h in hashes)
    with at_rest.connect(lap / "hall.sqlite3") as c:  # a stale row the next import must not keep
        c.execute("INSERT INTO sync_staff_directory VALUES ('stale', 'x9', '旧人', 'clerk', NULL, '000', 1, "
                  "'2026-01-01 00:00:00')")
    ok(cli(lap, "sync", "import", str(back)))
    got = {r[0]: r[1:] for r in rows(lap, "SELECT staff_no, name, role, window_code, intake_point, active "
                                          "FROM sync_staff_directory")}
    want = {r[0]: r[1:] for r in rows(hall, "SELECT staff_no, name, role, window_code, intake_point, active "
                                            "FROM staff")}
    assert got == want  # the hall's whole directory, the stale row gone
    assert got["c05"][-1] == 0 and got["c06"][0] == "孙窗"
    assert rows(lap, "SELECT count(*) FROM staff WHERE staff_no IN ('c05', 'c06')") == [(0,)]


def test_a_laptop_copied_at_a_second_hall_chain_verifies_only_with_the_ledger(scene, tmp_path):
    """``ledger verify`` on the laptop: the second counter's chain is held in part (its seq jumps), so it must be
    treated as sparse; a link removed from the laptop's own chain still fails."""
    lap = tmp_path / "lap-copy"
    shutil.copytree(scene["lap"], lap)
    assert "哈希链全部相符" in ok(cli(lap, "ledger", "verify")).out
    seqs = [s for (s,) in rows(lap, "SELECT seq FROM events WHERE node_id = ? ORDER BY seq", SECOND)]
    assert seqs != list(range(1, len(seqs) + 1))  # not every event of that chain came (c05's did not)
    # A backup is checked from its file alone (no key file beside it): the laptop's join record says which chain
    # is its own, so the backup verifies too, and so does a rebuild.
    done = ok(cli(lap, "backup", "--out", str(tmp_path / "lap-backup.sqlite3")))
    assert (tmp_path / "lap-backup.sqlite3").is_file(), done.out
    ok(cli(lap, "ledger", "rebuild"))
    mine = keys.load(lap)
    assert mine is not None
    with at_rest.connect(lap / "hall.sqlite3") as c:
        c.execute("DELETE FROM events WHERE node_id = ? AND seq = 2", (mine.node_id,))
    run = cli(lap, "ledger", "verify")
    assert run.code == 1 and "序号不连续" in run.err


def test_the_reference_index_covers_what_the_hall_relays(tmp_path):
    """The partial index the hall reads its reference events through lists exactly the types it relays, and the
    read uses it (SQLite's plan), never a walk through the hall's chains."""
    from sqlalchemy import event

    from hall.models.ledger import REFERENCE_TYPES

    assert exchange.RELAYED | set(exchange.STAFF_RELAYED) == set(REFERENCE_TYPES)
    hall = make_hall(tmp_path / "hall")
    opened = open_hall(Paths.resolve(hall))
    plans: list[str] = []
    try:
        with opened.db.reading() as s:
            conn = s.connection()

            @event.listens_for(conn, "before_cursor_execute")
            def explain(conn_: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
                if statement.lstrip().startswith("SELECT events.id"):
                    plans.append(" ".join(str(r[-1]) for r in cursor.execute("EXPLAIN QUERY PLAN " + statement,
                                                                               params).fetchall()))
            exchange.relayed(s, opened.node.node_id, "001")
            event.remove(conn, "before_cursor_execute", explain)
    finally:
        opened.db.dispose()
    assert len(plans) == 2 and "ix_events_reference" in plans[0] and "ix_events_ticket" in plans[1], plans


def test_an_older_return_bundle_after_a_newer_one_is_a_clean_no_op(scene):
    """Per chain: the second counter's part of the older file ends before what the laptop holds of it — a file
    built before the newer one, imported late: what it carries is held byte for byte, so nothing changes and the
    import says so (a file of the hall's, signed, is never refused for the order it comes in)."""
    hall, lap, base = scene["hall"], scene["lap"], scene["base"]
    number = _open_numbers(lap)[0]
    at_counter(hall, SECOND, on_ticket(number, "start", datetime(2026, 3, 3, 9)))
    ok(cli(hall, "sync", "export", "--to", "001", "--out", str(base / "old.hallsync")))
    at_counter(hall, SECOND, on_ticket(number, "pause", datetime(2026, 3, 3, 10)))
    ok(cli(hall, "sync", "export", "--to", "001", "--out", str(base / "new.hallsync")))
    ok(cli(lap, "sync", "import", str(base / "new.hallsync")))
    before = digest(lap), rows(lap, "SELECT * FROM node_heads ORDER BY node_id")
    run = ok(cli(lap, "sync", "import", str(base / "old.hallsync")))
    assert "没有变化" in run.out, run.out
    assert (digest(lap), rows(lap, "SELECT * FROM node_heads ORDER BY node_id")) == before


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """The scene once, kept pristine: each example of the property below works on a copy."""
    base = tmp_path_factory.mktemp("relay")
    hall = make_hall(base / "hall")
    add_point(hall, "001")
    at_counter(hall, SECOND, rename_item)
    lap = make_laptop(hall, base / "lap", "001")
    add_tickets(lap, 3)
    ok(cli(lap, "sync", "export", "--out", str(base / "001.hallsync")))
    ok(cli(hall, "sync", "import", str(base / "001.hallsync")))
    return base


# Each ticket's history: start, any number of 补正 pauses and resumes, close — each step at either counter.
STEPS = st.lists(st.sampled_from(["pause"]), max_size=2).map(lambda p: ["start", *[s for _ in p for s in
                                                                                  ("pause", "resume")], "close"])


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(STEPS, min_size=2, max_size=2), data=st.data())
def test_any_interleaving_of_two_counters_reaches_the_laptop_as_the_hall_has_it(pristine, tmp_path_factory, plan,
                                                                               data):
    base = tmp_path_factory.mktemp("example")
    hall, lap = base / "hall", base / "lap"
    shutil.copytree(pristine / "hall", hall)
    shutil.copytree(pristine / "lap", lap)
    numbers = _open_numbers(lap)[:2]
    # The two tickets' steps interleaved as drawn (each ticket's own in order), each at a drawn counter, with a
    # return bundle taken in at drawn moments between them.
    turns = data.draw(st.permutations([n for n, steps in zip(numbers, plan, strict=True) for _ in steps]))
    pending = {n: list(steps) for n, steps in zip(numbers, plan, strict=True)}
    day = datetime(2026, 3, 3, 9)
    for n in turns:
        step = pending[n].pop(0)
        node = data.draw(st.sampled_from([None, SECOND]), label=f"{n[-4:]} {step}")
        at_counter(hall, node, on_ticket(n, step, day))
        day = day.replace(hour=day.hour + 1) if day.hour < 17 else day.replace(day=day.day + 1, hour=9)
        if data.draw(st.booleans(), label="export now"):
            ok(cli(hall, "sync", "export", "--to", "001", "--out", str(base / "mid.hallsync")))
            ok(cli(lap, "sync", "import", str(base / "mid.hallsync")))
    ok(cli(hall, "sync", "export", "--to", "001", "--out", str(base / "last.hallsync")))
    ok(cli(lap, "sync", "import", str(base / "last.hallsync")))
    for n in numbers:
        assert ticket_row(lap, n) == ticket_row(hall, n)
        assert ticket_row(lap, n)[2] == "closed_approved"
    assert "所有表一致" in ok(cli(lap, "ledger", "check", "--quiet")).out


def test_a_staff_directory_with_anything_more_or_less_is_refused():
    good = {"uid": "u1", "staff_no": "c01", "name": "王窗", "role": "clerk", "window_code": "W01",
            "intake_point": "000", "active": True}
    assert directory.parse({}) is None  # an older hall's bundle: none carried, the laptop keeps what it has
    assert directory.parse({"staff_directory": [good]}) == [good]
    for bad in ([{**good, "password_hash": "$argon2id$…"}], [{k: v for k, v in good.items() if k != "role"}],
                [{**good, "active": 1}], [{**good, "name": "名" * 41}], [good, good], {"u1": good}):
        with pytest.raises(bundle.BundleRejected, match="人员名录"):
            directory.parse({"staff_directory": bad})
