"""A village ticket handed to a hall clerk reaches the laptop (issue #12 items 1/5).

A laptop holds the staff events of its own village only; a hall clerk it knows from the hall's staff directory.
An event naming such a clerk resolves to a directory-only staff row (inactive, no password hash), so the hand-over
applies instead of waiting forever; nobody can log in as that row; a replay (``ledger check``, rebuild) gives the
same tables. Real data directories, real bundles through ``hall-admin``, real SQLite files.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sync_env import add_point, add_tickets, cli, digest, make_hall, make_laptop, ok, ticket_row

from hall.errors import HallError, PermissionDenied
from hall.models import Ticket
from hall.paths import Paths
from hall.services.bootstrap import open_hall
from hall.services.storage import at_rest
from hall.services.sync import bundle, directory, exchange, keys

SECOND = "c0de0002-0000-4000-8000-000000000002"  # a second hall-side node (a counter PC on the hall's database)
REFUSED = "该人员是中心工作人员，不能在村代办点电脑上登录"


def at_hall(data_dir: Path, node: str | None, work: Any) -> Any:
    """``work(session, actor)`` at this hall, as its system on hall-side node ``node`` (None: the exporting PC)."""
    opened = open_hall(Paths.resolve(data_dir))
    try:
        actor = opened.system if node is None else replace(opened.system, node_id=node)
        with opened.db.transaction() as s:
            return work(s, actor)
    finally:
        opened.db.dispose()


def add_staff(no: str, name: str, role: str, point: str = "000", window: str | None = None) -> Any:
    from hall.services.people import staff

    def work(s: Any, actor: Any) -> None:
        staff.add_staff(s, actor, staff.StaffForm(no, name, role, window_code=window, intake_point=point,
                                                  password="pass-word-1"))
    return work


def hand_over(number: str, to_no: str, at: datetime) -> Any:
    from hall.services.cases import workflow
    from hall.services.people import staff

    def work(s: Any, actor: Any) -> None:
        t = s.scalars(select(Ticket).where(Ticket.number == number)).one()
        workflow.reassign_event(s, actor, t, staff.by_number(s, to_no).id, "转交中心窗口办理", at)
    return work


def rows(data_dir: Path, sql: str, *args: Any) -> list[tuple]:
    with at_rest.connect(data_dir / "hall.sqlite3") as c:
        return c.execute(sql, args).fetchall()


def owner(data_dir: Path, number: str) -> list[tuple]:
    return rows(data_dir, "SELECT s.uid, s.staff_no, s.name, s.role, s.window_code, s.active, s.password_hash "
                          "FROM tickets t JOIN staff s ON s.id = t.owner_id WHERE t.number = ?", number)


def parked(data_dir: Path) -> int:
    return rows(data_dir, "SELECT count(*) FROM sync_parked")[0][0]


def open_numbers(data_dir: Path) -> list[str]:
    return [r[0] for r in rows(data_dir, "SELECT number FROM tickets WHERE intake_point = '001' "
                                         "AND state = 'accepted' ORDER BY number")]


def login(data_dir: Path, staff_no: str, password: str) -> None:
    from hall.services.people import staff

    opened = open_hall(Paths.resolve(data_dir))
    try:
        with opened.db.reading() as s:
            staff.authenticate(s, staff_no, password, opened.node)
    finally:
        opened.db.dispose()


@pytest.fixture
def scene(tmp_path):
    """A hall with two clerks at its windows (c07 added on the exporting PC, c08 on the second node) before the
    laptop of 001 enrolled; the laptop registered tickets and its bundle was imported at the hall."""
    hall = make_hall(tmp_path / "hall")
    add_point(hall, "001")
    at_hall(hall, None, add_staff("c07", "孙窗", "clerk", window="W01"))
    at_hall(hall, SECOND, add_staff("c08", "李窗", "clerk", window="W02"))
    lap = make_laptop(hall, tmp_path / "lap", "001")
    add_tickets(lap, 4)
    ok(cli(lap, "sync", "export", "--out", str(tmp_path / "001.hallsync")))
    ok(cli(hall, "sync", "import", str(tmp_path / "001.hallsync")))
    return {"hall": hall, "lap": lap, "base": tmp_path}


def test_a_village_ticket_handed_to_a_hall_clerk_reaches_the_laptop(scene):
    hall, lap, base = scene["hall"], scene["lap"], scene["base"]
    assert rows(lap, "SELECT count(*) FROM staff WHERE staff_no IN ('c07', 'c08')") == [(0,)]  # directory only
    first, second = open_numbers(lap)[:2]
    at_hall(hall, None, hand_over(first, "c07", datetime(2026, 3, 3, 9)))
    at_hall(hall, SECOND, hand_over(second, "c08", datetime(2026, 3, 3, 10)))
    back = base / "back.hallsync"
    ok(cli(hall, "sync", "export", "--to", "001", "--out", str(back)))
    run = ok(cli(lap, "sync", "import", str(back)))
    assert "暂存" not in run.out and "更新办件 2 件" in run.out, run.out
    assert parked(lap) == 0
    for number, no, name, window in ((first, "c07", "孙窗", "W01"), (second, "c08", "李窗", "W02")):
        (uid, *_), = owner(hall, number)
        assert owner(lap, number) == [(uid, no, name, "clerk", window, 0, "")]  # inactive, no password hash
        assert ticket_row(lap, number) == ticket_row(hall, number)
    assert "哈希链全部相符" in ok(cli(lap, "ledger", "verify")).out
    assert "所有表一致" in ok(cli(lap, "ledger", "check", "--quiet")).out
    before = digest(lap)
    ok(cli(lap, "ledger", "rebuild", "--quiet"))
    assert digest(lap) == before
    assert owner(lap, first)[0][1:3] == ("c07", "孙窗")
    with pytest.raises(PermissionDenied, match=REFUSED):
        login(lap, "c07", "pass-word-1")
    with pytest.raises(PermissionDenied, match=REFUSED):
        login(lap, "c08", "wrong")
    with pytest.raises(HallError, match="工号或密码不正确") as other:
        login(lap, "c99", "pass-word-1")  # nobody by that number: the vague message as before
    assert other.type is HallError
    login(hall, "c07", "pass-word-1")  # at the hall the clerk logs in as ever


def _seal(hall: Path, lap: Path, events: list[dict], extra: dict[str, Any], name: str) -> Path:
    hall_keys, lap_keys = keys.load(hall), keys.load(lap)
    m = exchange.manifest(hall_keys, lap_keys.node_id, "bundle", events, {}, extra)  # type: ignore[union-attr, arg-type]
    path = lap.parent / name
    path.write_bytes(bundle.seal(hall_keys, lap_keys.box_key, m, events))  # type: ignore[union-attr, arg-type]
    return path


def test_a_hand_over_waiting_for_a_clerk_applies_on_the_import_that_brings_the_directory(scene):
    """A clerk added after the laptop enrolled: a return file without a directory parks the hand-over (the laptop
    cannot know that person); the next one carries the directory and it applies in that same import."""
    hall, lap = scene["hall"], scene["lap"]
    at_hall(hall, None, add_staff("c09", "周窗", "clerk", window="W03"))
    number = open_numbers(lap)[0]
    at_hall(hall, None, hand_over(number, "c09", datetime(2026, 3, 3, 9)))

    def relayed(s: Any, actor: Any) -> tuple[list[dict], list[dict]]:
        return exchange.relayed(s, actor.node_id, "001")[0], directory.snapshot(s)

    events, snap = at_hall(hall, None, relayed)
    early = ok(cli(lap, "sync", "import", str(_seal(hall, lap, events, {}, "early.hallsync"))))
    assert "暂存 1 条" in early.out and "等待工作人员" in early.out, early.out
    assert parked(lap) == 1
    late = ok(cli(lap, "sync", "import", str(_seal(hall, lap, events, {directory.KEY: snap}, "late.hallsync"))))
    assert "其中 1 条是此前暂存、现已补齐的" in late.out, late.out
    assert parked(lap) == 0
    assert owner(lap, number)[0][1:6] == ("c09", "周窗", "clerk", "W03", 0)
    assert ticket_row(lap, number) == ticket_row(hall, number)
    assert "所有表一致" in ok(cli(lap, "ledger", "check", "--quiet")).out


def test_a_directory_only_row_is_taken_over_by_the_persons_registration(scene, tmp_path):
    """The hall adds a village clerk of 001 and hands a ticket to them; a file whose directory lists them but whose
    events lack their registration applies the hand-over to a directory-only row; their registration arriving
    later takes that row over (they can log in) — the same tables as a laptop that took the full file alone."""
    hall, lap = scene["hall"], scene["lap"]
    twin = tmp_path / "twin"
    shutil.copytree(lap, twin)
    at_hall(hall, None, add_staff("v05", "吴村", "village", point="001"))
    number = open_numbers(lap)[0]
    at_hall(hall, None, hand_over(number, "v05", datetime(2026, 3, 3, 9)))

    def relayed(s: Any, actor: Any) -> tuple[list[dict], list[dict]]:
        return exchange.relayed(s, actor.node_id, "001")[0], directory.snapshot(s)

    full, snap = at_hall(hall, None, relayed)
    partial = [e for e in full if not e["type"].startswith("staff.")]
    assert len(partial) < len(full)
    extra = {directory.KEY: snap}
    ok(cli(lap, "sync", "import", str(_seal(hall, lap, partial, extra, "partial.hallsync"))))
    assert parked(lap) == 0
    assert owner(lap, number)[0][1:6] == ("v05", "吴村", "village", None, 0)
    with pytest.raises(PermissionDenied, match=REFUSED):
        login(lap, "v05", "pass-word-1")
    assert "所有表一致" in ok(cli(lap, "ledger", "check", "--quiet")).out
    ok(cli(lap, "sync", "import", str(_seal(hall, lap, full, extra, "full.hallsync"))))
    assert rows(lap, "SELECT count(*), max(active) FROM staff WHERE staff_no = 'v05'") == [(1, 1)]
    login(lap, "v05", "pass-word-1")  # registered now: the row is theirs, with their password
    ok(cli(twin, "sync", "import", str(_seal(hall, twin, full, extra, "twin.hallsync"))))
    assert digest(lap) == digest(twin)
    assert "所有表一致" in ok(cli(lap, "ledger", "check", "--quiet")).out
    assert "哈希链全部相符" in ok(cli(lap, "ledger", "verify")).out


def test_a_directory_only_row_follows_the_directory_so_a_replay_agrees(scene):
    """The hall renames the clerk and moves them to another window after the hand-over reached the laptop: the next
    return file's directory refreshes the row, and ``ledger check`` (which replays with that directory) agrees."""
    from hall.services.people import staff

    hall, lap, base = scene["hall"], scene["lap"], scene["base"]
    number = open_numbers(lap)[0]
    at_hall(hall, None, hand_over(number, "c07", datetime(2026, 3, 3, 9)))
    ok(cli(hall, "sync", "export", "--to", "001", "--out", str(base / "one.hallsync")))
    ok(cli(lap, "sync", "import", str(base / "one.hallsync")))
    assert owner(lap, number)[0][1:5] == ("c07", "孙窗", "clerk", "W01")
    at_hall(hall, None, lambda s, actor: staff.update_staff(s, actor, staff.StaffForm(
        "c07", "孙新窗", "clerk", window_code="W03")))
    ok(cli(hall, "sync", "export", "--to", "001", "--out", str(base / "two.hallsync")))
    ok(cli(lap, "sync", "import", str(base / "two.hallsync")))
    assert owner(lap, number)[0][1:6] == ("c07", "孙新窗", "clerk", "W03", 0)
    assert rows(lap, "SELECT count(*) FROM staff WHERE staff_no = 'c07'") == [(1,)]
    assert "所有表一致" in ok(cli(lap, "ledger", "check", "--quiet")).out


@pytest.mark.gui
def test_the_laptops_login_screen_refuses_a_hall_clerk_and_says_why(qtbot, scene):
    from PySide6.QtCore import Qt

    from hall.ui.login_dialog import LoginDialog

    hall, lap, base = scene["hall"], scene["lap"], scene["base"]
    at_hall(hall, None, hand_over(open_numbers(lap)[0], "c07", datetime(2026, 3, 3, 9)))
    ok(cli(hall, "sync", "export", "--to", "001", "--out", str(base / "back.hallsync")))
    ok(cli(lap, "sync", "import", str(base / "back.hallsync")))
    opened = open_hall(Paths.resolve(lap))
    try:
        dlg = LoginDialog(opened.db, opened.node, "示例村代办点")
        qtbot.addWidget(dlg)
        dlg.show()
        qtbot.keyClicks(dlg.staff_no, "c07")
        qtbot.keyClicks(dlg.password, "pass-word-1")
        qtbot.keyClick(dlg.password, Qt.Key.Key_Return)
        assert REFUSED in dlg.error.text() and dlg.actor is None
        dlg.close()
    finally:
        opened.db.dispose()
