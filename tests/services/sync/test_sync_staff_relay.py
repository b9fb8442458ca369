"""Staff changes at the hall reach the village's laptop (issue #12, "what flows back").

Every staff event of the village's people goes to its laptop in the next file: 停用/启用, a password reset, a change
of name or point, a person moved in (with their registration and passwords) or out; the laptop logs in only the
active staff of its own point. Other villages' and the hall's own staff events never leave the hall. Real data
directories driven through ``hall-admin``, real bundles opened with the laptop's real keys, the real login service.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sync_env import add_point, cli, make_hall, make_laptop, ok

from hall.errors import HallError, PermissionDenied
from hall.paths import Paths
from hall.services.bootstrap import open_hall
from hall.services.people import staff
from hall.services.sync import bundle, keys, state


def at(data_dir: Path, work: Any, *, write: bool = True) -> Any:
    opened = open_hall(Paths.resolve(data_dir))
    try:
        with (opened.db.transaction() if write else opened.db.reading()) as s:
            return work(s, opened)
    finally:
        opened.db.dispose()


def login(data_dir: Path, staff_no: str, password: str) -> bool:
    """The real login service on this node; True when it lets the person in (and whether they must set a password
    is asked separately)."""
    return at(data_dir, lambda s, o: staff.authenticate(s, staff_no, password, o.node), write=False) is not None


def must_set(data_dir: Path, staff_no: str) -> bool:
    return at(data_dir, lambda s, o: staff.must_set_password(s, staff.by_number(s, staff_no).id), write=False)


def exchange(world: dict[str, Any], name: str) -> tuple[Path, str]:
    """The laptop's bundle to the hall (its acknowledgement), then the hall's file back: the file and the import."""
    hall, lap, base = world["hall"], world["lap"], world["base"]
    ok(cli(lap, "sync", "export", "--out", str(base / f"{name}-up.hallsync")))
    ok(cli(hall, "sync", "import", str(base / f"{name}-up.hallsync")))
    back = base / f"{name}-back.hallsync"
    ok(cli(hall, "sync", "export", "--to", "001", "--out", str(back)))
    return back, ok(cli(lap, "sync", "import", str(back))).out


def carried(lap: Path, path: Path) -> list[dict[str, Any]]:
    mine = keys.load(lap)
    assert mine is not None
    return bundle.open_bundle(mine, path.read_bytes()).events


def uid_of(data_dir: Path, staff_no: str) -> str:
    return at(data_dir, lambda s, o: staff.by_number(s, staff_no).uid, write=False)


def about(events: list[dict[str, Any]], uid: str) -> list[str]:
    """The types of the staff events in ``events`` that are about the person ``uid``."""
    out = []
    for e in events:
        if e["type"].startswith("staff."):
            p = json.loads(e["payload"])
            if uid in (p.get("uid"), p.get("staff_uid")):
                out.append(e["type"])
    return out


@pytest.fixture
def world(tmp_path):
    """A hall with points 001 and 002, village clerks v01 (001) and v02 (002) and a hall clerk c07; the laptop of
    001 joined and has exchanged once (the hall holds its acknowledgement)."""
    hall = make_hall(tmp_path / "hall")
    add_point(hall, "001")
    add_point(hall, "002")
    for no, name, role, point, extra in (("v01", "周村", "village", "001", ()), ("v02", "吴村", "village", "002", ()),
                                         ("c07", "孙窗", "clerk", "000", ("--window", "W01"))):
        ok(cli(hall, "staff", "add", "--no", no, "--name", name, "--role", role, "--point", point, *extra,
               "--password", "pass-word-1"))
    lap = make_laptop(hall, tmp_path / "lap", "001")
    world = {"hall": hall, "lap": lap, "base": tmp_path}
    exchange(world, "first")
    assert login(lap, "v01", "pass-word-1")
    return world


def test_deactivated_at_the_hall_cannot_log_in_on_the_laptop_and_reactivated_can(world):
    hall, lap = world["hall"], world["lap"]
    at(hall, lambda s, o: staff.set_active(s, o.system, "v01", False, "已离职"))
    back, _ = exchange(world, "off")
    assert about(carried(lap, back), uid_of(hall, "v01")) == ["staff.active_set"]  # cut after the ack: just it
    with pytest.raises(HallError, match="工号或密码不正确"):  # as for any deactivated account
        login(lap, "v01", "pass-word-1")
    assert "已导入过" in ok(cli(lap, "sync", "import", str(back))).out  # the same file again: no change
    at(hall, lambda s, o: staff.set_active(s, o.system, "v01", True, "返岗"))
    exchange(world, "on")
    assert login(lap, "v01", "pass-word-1")
    assert "所有表一致" in ok(cli(lap, "ledger", "check", "--quiet")).out


def test_a_password_reset_at_the_hall_works_on_the_laptop_and_must_be_changed_there(world):
    hall, lap = world["hall"], world["lap"]
    at(hall, lambda s, o: staff.reset_password(s, o.system, "v01", "temp-pass-9"))
    exchange(world, "reset")
    with pytest.raises(HallError, match="工号或密码不正确"):
        login(lap, "v01", "pass-word-1")
    assert login(lap, "v01", "temp-pass-9") and must_set(lap, "v01")


def test_a_name_change_shows_in_the_laptops_staff_list(world):
    hall, lap = world["hall"], world["lap"]

    def rename(s: Any, o: Any) -> None:
        staff.update_staff(s, o.system, staff.StaffForm("v01", "周新村", "village", intake_point="001"))
    at(hall, rename)
    exchange(world, "rename")
    names = at(lap, lambda s, o: {v.staff_no: v.name for v in staff.list_staff(s)}, write=False)
    assert names["v01"] == "周新村"


def test_a_person_moved_in_gets_everything_and_one_moved_out_loses_the_login(world):
    hall, lap = world["hall"], world["lap"]
    with pytest.raises(HallError):  # v02 belongs to 002: the laptop of 001 does not know them
        login(lap, "v02", "pass-word-1")

    def move(no: str, name: str, point: str) -> Any:
        return lambda s, o: staff.update_staff(s, o.system, staff.StaffForm(no, name, "village", intake_point=point))
    at(hall, move("v02", "吴村", "001"))
    # v01 becomes a clerk at the hall's window W01: no longer a village role, so only the laptop's own-point rule
    # stands between them and the laptop.
    at(hall, lambda s, o: staff.update_staff(s, o.system, staff.StaffForm("v01", "周村", "clerk", window_code="W01",
                                                                          intake_point="000")))
    back, _ = exchange(world, "move")
    events = carried(lap, back)
    # v02's registration and password came with the move although they stand before the laptop's acknowledgement.
    assert about(events, uid_of(hall, "v02")) == ["staff.added", "staff.changed"]
    # (That chain went uncut this once, so v01's registration, which the laptop holds, came again and was compared.)
    assert about(events, uid_of(hall, "v01")) == ["staff.added", "staff.changed"]
    mine = keys.load(lap)
    assert mine is not None
    assert bundle.open_bundle(mine, back.read_bytes()).manifest["extra"]["base"] == {}
    assert login(lap, "v02", "pass-word-1")
    with pytest.raises(PermissionDenied, match="已不属于本受理点"):
        login(lap, "v01", "pass-word-1")
    # What happens to v01 at the hall afterwards stays at the hall (their new password hash too).
    at(hall, lambda s, o: staff.set_password(s, o.system, "v01", "other-pass-2"))
    back, _ = exchange(world, "after")
    assert about(carried(lap, back), uid_of(hall, "v01")) == []
    assert "所有表一致" in ok(cli(lap, "ledger", "check", "--quiet")).out
    assert "哈希链全部相符" in ok(cli(lap, "ledger", "verify")).out


def test_other_villages_and_the_halls_staff_events_never_reach_the_laptop(world):
    hall, lap = world["hall"], world["lap"]
    for no in ("v02", "c07"):
        at(hall, lambda s, o, no=no: staff.reset_password(s, o.system, no, "temp-pass-9"))
        at(hall, lambda s, o, no=no: staff.set_active(s, o.system, no, False, "已离职"))
    whole = world["base"] / "whole.hallsync"
    ok(cli(hall, "sync", "export", "--to", "001", "--full", "--out", str(whole)))
    events = carried(lap, whole)
    assert about(events, uid_of(hall, "v01")) == ["staff.added"]
    for no in ("v02", "c07", "admin"):
        assert about(events, uid_of(hall, no)) == [], no
    hashes = [json.loads(e["payload"]).get("password_hash") for e in events if e["type"].startswith("staff.")]
    assert len([h for h in hashes if h]) == 1  # v01's alone


def test_the_pending_count_counts_the_new_staff_events_as_the_relay_picks_them(world):
    hall = world["hall"]
    at(hall, lambda s, o: staff.set_active(s, o.system, "v01", False, "已离职"))
    at(hall, lambda s, o: staff.set_active(s, o.system, "v02", False, "已离职"))  # another village's: not counted

    def pending(s: Any, o: Any) -> int:
        mine = keys.load(hall)
        assert mine is not None
        line = next(p for p in state.peer_lines(s, mine.node_id, "hall") if p.intake_point == "001")
        return line.pending_events
    assert at(hall, pending, write=False) == 1


def test_the_directory_refuses_a_person_the_hall_deactivated_before_their_event_arrives(world):
    """A laptop synced before every staff event was relayed lacks the 停用 event (its row still says active): the
    hall's directory, which every file carries, refuses the login all the same."""
    from hall.services.storage import at_rest

    hall, lap = world["hall"], world["lap"]
    at(hall, lambda s, o: staff.set_active(s, o.system, "v01", False, "已离职"))
    exchange(world, "off")
    with at_rest.connect(lap / "hall.sqlite3") as c:  # as such a laptop holds it: the event never came
        c.execute("UPDATE staff SET active = 1 WHERE staff_no = 'v01'")
        c.commit()
    with pytest.raises(HallError, match="工号或密码不正确"):
        login(lap, "v01", "pass-word-1")
