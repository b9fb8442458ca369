"""The 同步 screens with real files, two real data directories and real SQLite ledgers: a new laptop asks to join
(申请加入, its fingerprint shown), the hall's administrator enrols it from 管理 → 同步… (the request's fingerprint
shown to compare, confirmed, the provisioning file written), the laptop joins (加入); the laptop's village staff
exports a file (what it carries shown first), the hall imports it through the screen (the result in plain words),
the tickets' 同步 column moves 未同步 → 已发出 on the laptop and to 已同步 once the hall's file came back; a
revocation needs its reason, and the revoked laptop's next file is refused with the reason — nothing changed."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from gui_guard import GuiThreadSql
from sqlalchemy import select

from hall.models import Ticket
from hall.paths import Paths
from hall.services.bootstrap import open_hall
from hall.services.people import staff
from hall.services.reporting.queue import TicketFilter
from hall.ui import messages
from hall.ui.background import active_jobs
from hall.ui.main_window import MainWindow
from hall.ui.ops import ChangeSignal, Context
from hall.ui.sync_enrol import LaptopEnrolDialog
from hall.ui.sync_files import Chooser
from hall.ui.sync_screen import SyncDialog
from hall.ui.ticket_table_model import TicketTableModel

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]


class Answers(Chooser):
    """The person's answers to the file dialogs and the reason box, in order."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.texts: list[str] = []

    def open_file(self, parent, caption, file_filter):  # type: ignore[no-untyped-def]
        return self.paths.pop(0)

    def save_file(self, parent, caption, suggested, file_filter):  # type: ignore[no-untyped-def]
        return self.paths.pop(0)

    def text(self, parent, caption, label):  # type: ignore[no-untyped-def]
        return self.texts.pop(0)


def _idle(qtbot, dialog) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not dialog.busy and active_jobs() == 0, timeout=20_000)


def _peer_rows(dialog: SyncDialog) -> list[list[str]]:
    t = dialog.peers
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def _id_number(n: int) -> str:
    body = f"11010519500101{n:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def _register(opened, count: int, start: int = 0) -> None:  # type: ignore[no-untyped-def]
    """Promised tickets (still open: in the queue) taken in at the laptop."""
    from hall.services.catalog import items as catalog
    from hall.services.tickets import intake

    with opened.db.transaction() as s:
        materials = {m["name"]: "received" for m in catalog.current_item(s, "09").materials}
        for i in range(count):
            who = intake.ApplicantForm("person", _id_number(start + i + 1), "张三", "13812345678", "东村3组")
            intake.register(s, opened.system, intake.IntakeForm("09", who, materials=materials),
                            now=datetime(2026, 3, 2, 9, 0) + timedelta(minutes=start + i))


def sync_now_ready(screen: SyncDialog) -> bool:
    return screen.sync_now_btn.isVisible() and screen.sync_now_btn.isEnabled() and screen.url_row.isVisible()


def _states(qtbot, db) -> list[str]:  # type: ignore[no-untyped-def]
    model = TicketTableModel.in_background(db, TicketFilter(open_only=False))
    qtbot.waitUntil(lambda: not model.loading, timeout=10_000)
    got = [model.sync_of(model.key_at(r)) for r in range(model.rowCount())]
    model.deleteLater()
    return got


def test_enrol_export_import_and_revoke_through_the_screens(qtbot, hall_sqlite, tmp_path, monkeypatch):
    from hall_fixtures import actors_of

    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    hall_paths = Paths.resolve(tmp_path / "data")
    admin = Context(hall_sqlite.db, hall_sqlite.node, actors_of(hall_sqlite)["admin"], ChangeSignal(), hall_paths)
    win = MainWindow(admin, tmp_path / "drafts")
    win.stop_daily_timers()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: active_jobs() == 0, timeout=20_000)

    # The new laptop (an empty data directory): 申请加入.
    lap_paths = Paths.resolve(tmp_path / "laptop")
    req, prov = tmp_path / "001.hallreq", tmp_path / "001.hallprov"
    laptop_answers = Answers()
    enrol_screen = LaptopEnrolDialog(lap_paths, chooser=laptop_answers)
    qtbot.addWidget(enrol_screen)
    laptop_answers.paths.append(str(req))
    enrol_screen.point.setText("001")
    enrol_screen.request_btn.click()
    _idle(qtbot, enrol_screen)
    assert req.is_file() and "已生成登记申请文件" in enrol_screen.result.text()
    laptop_print = enrol_screen.fingerprint.text()
    assert len(laptop_print.split()) == 8 and "\n" in laptop_print  # two lines of four groups, to read aloud

    # The hall: 管理 → 同步… → 登记村代办点电脑, the request's fingerprint shown beside the hall's.
    sql = GuiThreadSql(hall_sqlite.db.engine)
    with sql.watching():
        manage = next(a.menu() for a in win.menuBar().actions() if a.text() == "管理(&G)")
        next(a for a in manage.actions() if a.objectName() == "syncAction").trigger()
        hall_screen = win.findChild(SyncDialog)
        hall_answers = Answers()
        hall_screen.chooser = hall_answers
        _idle(qtbot, hall_screen)
        assert hall_screen.enrol_btn.isVisible() and not hall_screen.sync_now_btn.isVisible()
        hall_answers.paths += [str(req), str(prov)]
        hall_screen.enrol_btn.click()
        _idle(qtbot, hall_screen)
    assert sql.statements == []  # every read and write of the screen ran in the background
    assert hall_screen.compare_print.text() == laptop_print
    assert any(title == "核对指纹" and laptop_print in text for title, text in messages.shown)
    assert prov.is_file() and "已登记受理点 001 的电脑" in hall_screen.result.text()
    rows = _peer_rows(hall_screen)
    assert [r[0] for r in rows] == ["001"] and rows[0][2] == laptop_print.replace("\n", " ").replace("  ", " ")
    assert rows[0][-1] == "正常"

    # The laptop: 加入 with the provisioning file; the hall's fingerprint to compare.
    laptop_answers.paths.append(str(prov))
    enrol_screen.join_btn.click()
    _idle(qtbot, enrol_screen)
    assert "已开通：受理点 001" in enrol_screen.result.text(), enrol_screen.result.text()
    assert enrol_screen.fingerprint.text() == hall_screen.own_print.text()
    assert enrol_screen.done_btn.isEnabled()
    again = LaptopEnrolDialog(lap_paths)  # started again on a laptop that joined: only 完成 is left
    qtbot.addWidget(again)
    assert again.done_btn.isEnabled() and not again.join_btn.isEnabled() and not again.request_btn.isEnabled()

    lap = open_hall(lap_paths)
    try:
        _register(lap, 2)
        with lap.db.transaction() as s:
            village = staff.actor_for(staff.by_number(s, "v01"), lap.node)  # came from the hall
            lap_ids = list(s.scalars(select(Ticket.id)))
        assert _states(qtbot, lap.db) == ["未同步", "未同步"]
        lap_ctx = Context(lap.db, lap.node, village, ChangeSignal(), lap_paths)
        lap_win = MainWindow(lap_ctx, tmp_path / "lap-drafts")  # the village staff's window: a 同步 menu
        lap_win.stop_daily_timers()
        qtbot.addWidget(lap_win)
        sync_menu = next(a.menu() for a in lap_win.menuBar().actions() if a.text() == "同步(&S)")
        next(a for a in sync_menu.actions() if a.objectName() == "syncAction").trigger()
        lap_screen = lap_win.findChild(SyncDialog)
        lap_screen.chooser = Answers()
        _idle(qtbot, lap_screen)
        assert lap_screen.sync_now_btn.isVisible() and not lap_screen.enrol_btn.isVisible()
        assert lap_screen.compare_print.text() == hall_screen.own_print.text()
        with hall_sqlite.db.reading() as s:  # the hall's whole staff directory came with the provisioning file
            people = len(staff.list_staff(s))
        assert f"中心人员名录：{people} 人" in lap_screen.directory_line.text(), lap_screen.directory_line.text()
        assert lap_screen.directory_line.isVisible() and not hall_screen.directory_line.isVisible()
        assert _peer_rows(lap_screen)[0][5:7] == ["3", "2"]  # its join and 2 intakes; 2 tickets not acknowledged

        # 导出同步文件 on the laptop: what it carries first, then the file.
        bundle = tmp_path / "001-1.hallsync"
        lap_screen.chooser.paths.append(str(bundle))
        lap_screen.export_btn.click()
        _idle(qtbot, lap_screen)
        said = next(text for title, text in reversed(messages.shown) if title == "导出同步文件")
        assert "将发给中心：共 3 条事件，涉及办件 2 件" in said and "收件登记 2" in said
        assert bundle.is_file() and "已导出同步文件" in lap_screen.result.text()
        assert _states(qtbot, lap.db) == ["已发出", "已发出"]  # written, not yet imported: not synced

        # 导入同步文件 at the hall: the result in plain words; importing it again changes nothing.
        hall_answers.paths.append(str(bundle))
        hall_screen.import_btn.click()
        _idle(qtbot, hall_screen)
        assert "已导入：新办件 2 件" in hall_screen.result.text(), hall_screen.result.text()
        qtbot.waitUntil(lambda: win.queue.model.any_sync and not win.queue.model.loading, timeout=10_000)
        at_hall = [win.queue.model.row_at(r) for r in range(win.queue.model.rowCount())]
        village_rows = [r for r in at_hall if r is not None and "-001-" in r.number]
        assert len(village_rows) == 2
        assert {win.queue.model.sync_of(r.id) for r in village_rows} == {"已同步"}
        detail = win.open_ticket(village_rows[0].number)
        assert "【已同步】" in detail.header.text()  # the ticket detail's header says it too
        detail.close()
        hall_answers.paths.append(str(bundle))
        hall_screen.import_btn.click()
        _idle(qtbot, hall_screen)
        assert "已导入过，没有变化" in hall_screen.result.text()

        # The hall's file back to 001 (the laptop chosen in the list); the laptop's tickets become 已同步.
        back = tmp_path / "back.hallsync"
        hall_screen.peers.selectRow(0)
        hall_answers.paths.append(str(back))
        hall_screen.export_btn.click()
        _idle(qtbot, hall_screen)
        assert back.is_file()
        lap_screen.chooser.paths.append(str(back))
        lap_screen.import_btn.click()
        _idle(qtbot, lap_screen)
        assert "内容均已导入过，没有变化" in lap_screen.result.text(), lap_screen.result.text()
        assert _states(qtbot, lap.db) == ["已同步", "已同步"]
        assert _peer_rows(lap_screen)[0][5:7] == ["0", "0"] and len(lap_ids) == 2
        assert sync_now_ready(lap_screen)

        # 立即同步 over the LAN: `hall-admin sync serve` in a real process at the hall, the address kept.
        _register(lap, 1, start=3)
        assert sorted(_states(qtbot, lap.db)) == ["已同步", "已同步", "未同步"]
        server = subprocess.Popen([sys.executable, "-m", "hall.cli", "--data-dir", str(tmp_path / "data"), "sync",
                                   "serve", "--host", "127.0.0.1", "--port", "0"],
                                  env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        try:
            url = server.stdout.readline().split("：", 1)[1].strip().removesuffix("/hall-sync/v1")
            lap_screen.url.setText(url)
            lap_screen.sync_now_btn.click()
            _idle(qtbot, lap_screen)
        finally:
            server.terminate()
            server.communicate(timeout=10)
        assert "已发送本机 共 4 条事件，涉及办件 3 件" in lap_screen.result.text(), lap_screen.result.text()
        assert "从中心取回：" in lap_screen.result.text()
        assert _states(qtbot, lap.db) == ["已同步"] * 3  # the hall's answer acknowledged it at once
        from hall.ui.connections import settings

        assert settings().value("sync/hall_url") == url
        lap_screen.sync_now_btn.click()  # the hall is gone: said plainly, nothing changed
        _idle(qtbot, lap_screen)
        assert "无法连接中心" in lap_screen.result.text() and "本机数据未改动" in lap_screen.result.text()

        # 撤销: a reason is required; then the laptop's next file is refused, with the reason, nothing changed.
        hall_answers.texts += ["  ", "电脑丢失"]
        hall_screen.revoke_btn.click()
        assert "撤销原因必须填写" in hall_screen.result.text()
        hall_screen.revoke_btn.click()
        _idle(qtbot, hall_screen)
        assert _peer_rows(hall_screen)[0][-1].startswith("已吊销：电脑丢失")
        hall_answers.paths.append(str(bundle))
        hall_screen.import_btn.click()
        _idle(qtbot, hall_screen)
        assert hall_screen.result.text().startswith("同步文件被拒绝：") and "已被吊销" in hall_screen.result.text()
        assert "数据库未做任何更改" in hall_screen.result.text()
    finally:
        lap.db.dispose()


def test_a_file_that_is_not_a_bundle_is_refused_in_plain_words(qtbot, hall_sqlite, tmp_path, monkeypatch):
    from hall_fixtures import actors_of

    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    ctx = Context(hall_sqlite.db, hall_sqlite.node, actors_of(hall_sqlite)["admin"], ChangeSignal(),
                  Paths.resolve(tmp_path / "data"))
    screen = SyncDialog(ctx, chooser=Answers())
    qtbot.addWidget(screen)
    _idle(qtbot, screen)
    junk = Path(tmp_path / "junk.hallsync")
    junk.write_bytes(b"PK\x03\x04 not a bundle")
    screen.chooser.paths.append(str(junk))
    screen.import_btn.click()
    _idle(qtbot, screen)
    assert screen.result.text() == "同步文件被拒绝：不是 Hall 同步文件（文件头不符或文件被截断）。数据库未做任何更改"


def _sync_env():  # type: ignore[no-untyped-def]
    """The sync tests' node helpers (tests/services/sync/sync_env.py: a plain module of another folder)."""
    import importlib.util

    if "sync_env" in sys.modules:
        return sys.modules["sync_env"]
    spec = importlib.util.spec_from_file_location("sync_env", ROOT / "tests" / "services" / "sync" / "sync_env.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sync_env"] = module  # its dataclasses resolve their annotations through it
    spec.loader.exec_module(module)
    return module


def test_the_screen_shows_what_waits_and_why_until_it_arrives(qtbot, tmp_path, monkeypatch):
    """A laptop's ``--since`` file imported before the earlier one: the screen says how many events wait and for
    what; importing the earlier file through the screen applies both and the line goes away."""
    from hall.services.storage import at_rest

    env = _sync_env()
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    hall = env.make_hall(tmp_path / "hall")
    env.add_point(hall, "001")
    lap = env.make_laptop(hall, tmp_path / "lap", "001")
    env.add_tickets(lap, 3, seed=4)
    first, second = tmp_path / "first.hallsync", tmp_path / "second.hallsync"
    env.ok(env.cli(lap, "sync", "export", "--out", str(first)))
    with at_rest.connect(lap / "hall.sqlite3") as c:
        since = c.execute("SELECT count(*) FROM events WHERE node_id = (SELECT node_id FROM events "
                          "WHERE type = 'sync.joined')").fetchone()[0]
    env.add_tickets(lap, 2, seed=5, start=datetime(2026, 3, 3, 9, 0))
    env.ok(env.cli(lap, "sync", "export", "--since", str(since), "--out", str(second)))
    env.ok(env.cli(hall, "sync", "import", str(second)))

    opened = open_hall(Paths.resolve(hall))
    try:
        with opened.db.transaction() as s:
            admin = staff.actor_for(staff.by_number(s, "admin"), opened.node)
        screen = SyncDialog(Context(opened.db, opened.node, admin, ChangeSignal(), Paths.resolve(hall)),
                            chooser=Answers())
        qtbot.addWidget(screen)
        screen.show()
        _idle(qtbot, screen)
        assert screen.parked.isVisible()
        assert screen.parked.text().startswith("暂存 3 条事件")
        assert f"等待前序事件：终端 {screen.overview.peers[0].node_id[:8]} 第 1–{since} 号" in screen.parked.text()
        screen.chooser.paths.append(str(first))
        screen.import_btn.click()
        _idle(qtbot, screen)
        assert "其中 3 条是此前暂存、现已补齐的" in screen.result.text(), screen.result.text()
        qtbot.waitUntil(lambda: not screen.parked.isVisible(), timeout=10_000)
        with opened.db.reading() as s:
            assert len(s.scalars(select(Ticket.uid)).all()) == 5
    finally:
        opened.db.dispose()


def test_enrolling_a_replacement_says_what_went_with_the_old_laptop(qtbot, tmp_path, monkeypatch):
    """Point 001's laptop synced 3 tickets, then was lost (revoked). Enrolling the replacement through the screen
    says, before the administrator confirms and in the result, when the old one last synced and its last number;
    the replacement joins with the village's earlier tickets (said on the laptop's screen)."""
    env = _sync_env()
    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    hall = env.make_hall(tmp_path / "hall")
    env.add_point(hall, "001")
    old = env.make_laptop(hall, tmp_path / "old", "001")
    env.add_tickets(old, 3, seed=6)
    env.ok(env.cli(old, "sync", "export", "--out", str(tmp_path / "old.hallsync")))
    env.ok(env.cli(hall, "sync", "import", str(tmp_path / "old.hallsync")))
    env.ok(env.cli(hall, "sync", "revoke", "001", "--reason", "电脑被盗"))
    req, prov = tmp_path / "new.hallreq", tmp_path / "new.hallprov"
    lap_paths = Paths.resolve(tmp_path / "new")
    laptop = LaptopEnrolDialog(lap_paths, chooser=Answers())
    qtbot.addWidget(laptop)
    laptop.chooser.paths.append(str(req))
    laptop.point.setText("001")
    laptop.request_btn.click()
    _idle(qtbot, laptop)

    opened = open_hall(Paths.resolve(hall))
    try:
        with opened.db.transaction() as s:
            admin = staff.actor_for(staff.by_number(s, "admin"), opened.node)
            last = max(s.scalars(select(Ticket.number).where(Ticket.intake_point == "001")))
        screen = SyncDialog(Context(opened.db, opened.node, admin, ChangeSignal(), Paths.resolve(hall)),
                            chooser=Answers())
        qtbot.addWidget(screen)
        _idle(qtbot, screen)
        screen.chooser.paths += [str(req), str(prov)]
        screen.enrol_btn.click()
        _idle(qtbot, screen)
    finally:
        opened.db.dispose()
    asked = next(text for title, text in messages.shown if title == "核对指纹")
    for text in (asked, screen.result.text()):
        assert "受理点 001 原来的电脑" in text and "电脑被盗" in text and "最后一次同步到中心是 " in text, text
        assert f"最后一件编号 {last}" in text and "已随那台电脑丢失" in text
    assert asked.index("原来的电脑") < asked.index("逐组核对")  # said before the question it informs
    laptop.chooser.paths.append(str(prov))
    laptop.join_btn.click()
    _idle(qtbot, laptop)
    assert "本村原有办件 3 件" in laptop.result.text(), laptop.result.text()
