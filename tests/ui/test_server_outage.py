"""The hall server goes away in the middle of a clerk's save (a real PostgreSQL killed with ``pg_ctl stop -m
immediate`` while the save's transaction is open) and comes back: the clerk sees a clear message naming the server
and no traceback, what was typed stays on screen and in the draft, the program reconnects by itself (no restart),
and afterwards every acknowledged ticket is there exactly once and the unacknowledged one is saved once, from the
draft. The password in the connection address is never logged or shown."""

from __future__ import annotations

import logging
import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import event, func, select

from hall.models import Ticket
from hall.paths import Paths
from hall.services.base.validators import id_check_char
from hall.services.bootstrap import open_hall
from hall.services.people import staff
from hall.ui import messages
from hall.ui.background import wait_idle
from hall.ui.main_window import MainWindow
from hall.ui.ops import ChangeSignal, Context

pytestmark = [pytest.mark.gui, pytest.mark.pg]
TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 9, 30)
SECRET = "Sec-ret-7f3a9"  # in the address; the throwaway server trusts 127.0.0.1, so it is never checked
NAMES = ("王秀英", "李建国", "张桂兰", "陈晓明")


@pytest.fixture
def server():
    """A server of this test's own (the session's is shared: killing it would take other tests down)."""
    import pgserver

    bindir = pgserver.find_bindir()
    if bindir is None:
        pgserver._unavailable("initdb/pg_ctl not found")
    base = Path(tempfile.mkdtemp(prefix="hall-pg-"))
    # Durable, as a hall server runs: with the tests' synchronous_commit=off a commit acknowledged a moment before
    # the kill may be lost in the crash (and its number given out again), which no real hall server does.
    srv = pgserver.start_server(bindir, base, durable=True)
    pgserver._admin_execute(srv, "CREATE DATABASE hall TEMPLATE template0 ENCODING 'UTF8'")
    try:
        yield srv
    finally:
        pgserver.stop_server(srv)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def logged(tmp_path):
    """hall.log as the program writes it (the composition root's logging set-up), removed afterwards."""
    from hall.logging_setup import configure

    root = logging.getLogger("hall")
    before = list(root.handlers)
    path = configure(tmp_path / "logs")
    yield path
    for h in root.handlers[:]:
        if h not in before:
            h.close()
            root.removeHandler(h)


def _id(k: int) -> str:
    body = f"32058119800101{k:03d}"
    return body + id_check_char(body)


def _type_citizen(qtbot, win: MainWindow, k: int) -> None:
    win.finder.search.setFocus()
    qtbot.keyClicks(win.finder.search, "lnyd")  # 老年优待证: an immediate item, every material received
    qtbot.keyClick(win.finder.search, Qt.Key.Key_Return)
    assert QApplication.focusWidget() is win.intake.id_edit
    qtbot.keyClicks(win.intake.id_edit, _id(k))
    win.intake.name_edit.setText(NAMES[k])
    win.intake.address_edit.setText("东村3组")


def _press_enter(qtbot, win: MainWindow) -> None:
    qtbot.keyClick(win.intake.name_edit, Qt.Key.Key_Return)


def test_server_killed_during_a_save_loses_nothing_and_saves_nothing_twice(qtbot, server, tmp_path, logged,
                                                                           monkeypatch):
    import pgserver

    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    url = server.url("hall").replace("postgres@", f"postgres:{SECRET}@")
    opened = open_hall(Paths.resolve(tmp_path / "data").ensure(), url)
    with opened.db.transaction() as s:
        staff.create_first_admin(s, opened.system, "admin-pass-1")
        staff.add_staff(s, opened.system, staff.StaffForm("c02", "王民政", "clerk", "民政窗口", "W02",
                                                          password="clerk-pass-1"))
    with opened.db.reading() as s:
        clerk = staff.actor_for(staff.by_number(s, "c02"), opened.node)
    drafts = tmp_path / "drafts"
    win = MainWindow(Context(opened.db, opened.node, clerk, ChangeSignal()), drafts, today=lambda: TODAY,
                     now=lambda: NOW)
    win.stop_daily_timers()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is win.finder.search)
    try:
        acknowledged = []
        for k in range(3):
            _type_citizen(qtbot, win, k)
            _press_enter(qtbot, win)
            assert win.intake.last_result is not None and win.intake.last_result.number not in acknowledged
            acknowledged.append(win.intake.last_result.number)
            assert acknowledged[-1] in win.intake.result_label.text()  # the clerk was told: acknowledged
        assert messages.shown == []

        # The fourth citizen: the server dies while the save's transaction is open, just before its COMMIT.
        _type_citizen(qtbot, win, 3)
        killed = []

        def kill(_conn) -> None:
            pgserver.kill_server(server)
            killed.append(True)

        event.listen(opened.db.engine, "commit", kill, once=True)
        _press_enter(qtbot, win)
        assert killed
        assert win.intake.last_result is None  # no acknowledgement
        title, text = messages.shown[-1]
        assert title == "未保存"
        assert f"数据库服务器 127.0.0.1:{server.port}/hall" in text and "本次操作未保存" in text, text
        assert "Traceback" not in text and "psycopg" not in text and "OperationalError" not in text
        assert "草稿" in win.intake.result_label.text()
        assert win.intake.name_edit.text() == NAMES[3] and win.intake.id_edit.text() == _id(3)  # still on screen
        saved = [p.read_text(encoding="utf-8") for p in drafts.glob("intake-*.json")]
        assert len(saved) == 1 and NAMES[3] in saved[0] and _id(3) in saved[0]  # and in the draft

        # Still down: pressing Enter again says so again; nothing is written, nothing crashes.
        _press_enter(qtbot, win)
        assert "本次操作未保存" in messages.shown[-1][1]
        assert len(list(drafts.glob("intake-*.json"))) == 1

        # Back up: the same window, the same connection pool, the same form — Enter saves it, once.
        pgserver.restart_server(server)
        _press_enter(qtbot, win)
        result = win.intake.last_result
        assert result is not None and result.number not in acknowledged and not result.already_saved
        assert result.number in win.intake.result_label.text()
        assert not list(drafts.glob("intake-*.json"))  # the draft went with the save
        wait_idle(20_000)
        qtbot.wait(50)
        with opened.db.reading() as s:
            numbers = list(s.scalars(select(Ticket.number)))
            names = dict(s.execute(select(Ticket.number, Ticket.applicant_name)).all())
            assert s.scalar(select(func.count()).select_from(Ticket)) == 4
        assert sorted(numbers) == sorted([*acknowledged, result.number])  # each acknowledged one there once
        assert names[result.number] == NAMES[3]
        assert all("Traceback" not in t for _title, t in messages.shown)
    finally:
        win.close()
        wait_idle(20_000)
        opened.db.dispose()
    # Whatever reaches a hall logger with the address in it is masked (here: the address itself, and the outage).
    logging.getLogger("hall.test").warning("connecting to %s", url)
    log = logged.read_text(encoding="utf-8")
    assert "intake not saved, kept as draft" in log and f"127.0.0.1:{server.port}/hall" in log, log
    assert f"connecting to postgresql+psycopg://postgres:***@127.0.0.1:{server.port}/hall" in log, log
    assert SECRET not in log
    assert all(SECRET not in t for _title, t in messages.shown)
