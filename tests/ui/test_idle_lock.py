"""The idle lock (issue #14 item 2): ``idle_lock_minutes`` (validated, 0 = off, ``hall-admin settings set``); idle
that long, the clerk's window is covered and nothing under it takes a key; the password unlocks with the half-typed
intake still there (and on disk as a draft); 切换用户 logs out; a background job with a progress strip finishes and
shows its result before the lock comes."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from hall.errors import ValidationError
from hall.services.storage import settings
from hall.ui import messages
from hall.ui.background import Task, active_jobs
from hall.ui.main_window import MainWindow
from hall.ui.ops import ChangeSignal, Context

pytestmark = pytest.mark.gui


@examples(max_examples=60, deadline=None)
@given(st.one_of(st.integers(-1000, 1000), st.booleans(), st.text(max_size=4), st.floats(allow_nan=True)))
def test_the_setting_takes_whole_minutes_from_0_to_240(value):
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 240
    if ok:
        assert settings.clean_value("idle_lock_minutes", value) == value
    else:
        with pytest.raises(ValidationError) as refused:
            settings.clean_value("idle_lock_minutes", value)
        assert refused.value.field == "空闲锁屏（分钟，0为不锁屏）"


def test_hall_admin_sets_it_and_refuses_nonsense(hall_sqlite, capsys, tmp_path):
    from hall.cli import main

    data = str(tmp_path / "data")
    assert main(["--data-dir", data, "settings", "set", "idle_lock_minutes=abc"]) != 0
    assert "空闲锁屏" in capsys.readouterr().err
    assert main(["--data-dir", data, "settings", "set", "idle_lock_minutes=5"]) == 0
    with hall_sqlite.db.reading() as s:
        assert settings.get(s, "idle_lock_minutes") == 5


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def counter(qtbot, hall_sqlite, tmp_path, monkeypatch):
    from hall_fixtures import actors_of

    monkeypatch.setattr(messages, "shown", [])
    monkeypatch.setattr(messages, "ask_hook", lambda _t, _x: True)
    people = actors_of(hall_sqlite)
    with hall_sqlite.db.transaction() as s:
        settings.set_values(s, people["admin"], {"idle_lock_minutes": 1})
    win = MainWindow(Context(hall_sqlite.db, hall_sqlite.node, people["c02"], ChangeSignal()), tmp_path / "drafts")
    win.stop_daily_timers()
    qtbot.addWidget(win)
    win.show()
    lock = win.idle_lock
    qtbot.waitUntil(lambda: lock.minutes == 1 and active_jobs() == 0, timeout=10_000)
    clock = Clock()
    lock.clock = clock
    lock.unlock()  # restart the idle count on the test's clock
    return win, clock


def _type_an_intake(win: MainWindow) -> None:
    item = next(i for i in win.items if i.code == "09")
    win.intake.load_item(item)
    win.intake.name_edit.setText("钱桂英")
    win.intake.phone_edit.setText("13900004321")


def test_idle_covers_the_window_the_password_uncovers_it_with_the_intake_kept(qtbot, counter):
    win, clock = counter
    lock = win.idle_lock
    _type_an_intake(win)
    clock.now += 59
    lock.check()
    assert lock.screen is None  # not yet a minute
    QTest.keyClick(win.intake.note_edit, Qt.Key.Key_A)  # a key: the idle count starts again
    clock.now += 59
    lock.check()
    assert lock.screen is None
    clock.now += 61
    with qtbot.waitSignal(lock.locked):
        lock.check()
    screen = lock.screen
    assert screen is not None and screen.isVisible() and screen.isWindow()
    assert win.store.load_all(str(win.ctx.actor.staff_id)), "the half-typed intake is on disk as a draft"
    # Nothing under the lock takes a key: neither typing nor the window's shortcuts.
    tab = win.tabs.currentIndex()
    QTest.keyClick(win.intake.name_edit, Qt.Key.Key_X)
    QTest.keyClick(win, Qt.Key.Key_F3)
    assert win.intake.name_edit.text() == "钱桂英" and win.tabs.currentIndex() == tab
    QTest.keyClicks(screen.password, "wrong-pass")
    QTest.keyClick(screen.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "工号或密码不正确" in screen.error.text(), timeout=10_000)
    assert lock.screen is screen
    screen.password.setText("clerk-pass-1")
    with qtbot.waitSignal(lock.unlocked, timeout=10_000):
        QTest.keyClick(screen.password, Qt.Key.Key_Return)
    assert lock.screen is None and not screen.isVisible()
    assert (win.intake.name_edit.text(), win.intake.phone_edit.text()) == ("钱桂英", "13900004321")
    assert win.intake.is_dirty()


def test_switch_user_at_the_lock_logs_out(qtbot, counter):
    win, clock = counter
    clock.now += 120
    win.idle_lock.check()
    win.idle_lock.screen.switch_btn.click()
    assert win.switch_user and not win.isVisible()


def test_off_at_zero_and_never_over_a_running_job(qtbot, counter):
    win, clock = counter
    lock = win.idle_lock
    lock.minutes = 0
    clock.now += 3600
    lock.check()
    assert lock.screen is None
    lock.minutes = 1
    release = threading.Event()
    task = Task(lambda _p: release.wait(10) and "导出完成")
    got: list[str] = []
    task.succeeded.connect(got.append)
    win.daily_progress.follow(task, "导出")
    task.start()
    clock.now += 3600
    lock.check()
    assert lock.screen is None and win.daily_progress.busy  # the job's result must land first
    release.set()
    qtbot.waitUntil(lambda: not task.running, timeout=10_000)
    assert got == ["导出完成"]
    lock.check()
    assert lock.screen is not None  # still idle after the job: now it locks
    lock.unlock()


def test_an_action_dialog_under_the_lock_keeps_its_text_and_takes_no_enter(qtbot, counter, hall_sqlite):
    from datetime import datetime, timedelta

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from hall.services.base.validators import id_check_char
    from hall.services.catalog import items as catalog
    from hall.services.tickets import intake
    from hall.services.tickets import record as tickets
    from hall.ui.ticket_detail import ActionDialog

    win, clock = counter
    body = "32058119620715123"
    person = intake.ApplicantForm("person", body + id_check_char(body), "钱桂英", "13900004321")
    with hall_sqlite.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, "09").materials}
        number = intake.register(s, win.ctx.actor, intake.IntakeForm("09", person, marks),
                                 now=datetime.now() - timedelta(days=1)).number
    detail = win.open_ticket(number)
    seen: dict = {}

    def under_the_lock() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, ActionDialog):
            QTimer.singleShot(10, under_the_lock)
            return
        box.inputs["reason"].setText("重复登记")
        clock.now += 120
        win.idle_lock.check()
        QTest.keyClick(box.inputs["reason"], Qt.Key.Key_X)
        QTest.keyClick(box.inputs["reason"], Qt.Key.Key_Return)  # would void the ticket, were it not locked
        seen.update(locked=win.idle_lock.screen is not None, text=box.inputs["reason"].text(), open=box.isVisible())
        win.idle_lock.unlock()
        box.reject()

    QTimer.singleShot(0, under_the_lock)
    assert detail.ask_and_perform(next(a for a in detail.actions_ if a.name == "void")) is False
    assert seen == {"locked": True, "text": "重复登记", "open": True}
    with hall_sqlite.db.reading() as s:
        assert tickets.get(s, number).state != "voided"
    detail.close()
