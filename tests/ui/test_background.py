"""Background reads and tasks: results arrive on the GUI thread, the newest request wins, a slow query is
interrupted, errors reach the person as messages, progress is reported."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from hall.errors import HallError
from hall.ui.background import Loader, Task, wait_idle

pytestmark = pytest.mark.gui

SLOW = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000000) "
        "SELECT count(*) FROM c")


def test_result_arrives_on_the_gui_thread(qtbot, hall_sqlite):
    loader = Loader(hall_sqlite.db)
    got: list[tuple[int, bool]] = []
    loader.request(lambda s: s.execute(text("SELECT 41 + 1")).scalar(),
                   lambda r: got.append((r, threading.current_thread() is threading.main_thread())))
    assert got == []  # never delivered inside request()
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    assert got == [(42, True)]
    assert not loader.busy


def test_newest_request_wins_and_a_slow_query_is_interrupted(qtbot, hall_sqlite):
    loader = Loader(hall_sqlite.db)
    got: list[str] = []
    loader.request(lambda s: ("slow", s.execute(text(SLOW)).scalar())[0], got.append)
    time.sleep(0.2)  # the slow query is running now
    started = time.perf_counter()
    loader.request(lambda s: "fast", got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    assert got == ["fast"]
    assert wait_idle(5000)  # the interrupted query let go of its thread at once
    assert time.perf_counter() - started < 3
    qtbot.wait(50)
    assert got == ["fast"]  # the superseded one never arrives


def test_a_hall_error_goes_to_failed_not_done(qtbot, hall_sqlite):
    loader = Loader(hall_sqlite.db)
    done, failed = [], []

    def boom(_s):
        raise HallError("示例错误")

    loader.request(boom, done.append, failed=failed.append)
    qtbot.waitUntil(lambda: bool(failed), timeout=5000)
    assert done == [] and str(failed[0]) == "示例错误"


def test_task_reports_progress_then_its_result(qtbot):
    seen: list[tuple[int, int, str]] = []

    def job(progress):
        for i in range(1, 4):
            progress(i, 3, f"第{i}批")
            time.sleep(0.06)
        return "完成"

    task = Task(job)
    task.progressed.connect(lambda d, t, w: seen.append((d, t, w)))
    with qtbot.waitSignal(task.succeeded, timeout=5000) as blocker:
        task.start()
    assert blocker.args == ["完成"]
    assert seen and seen[-1] == (3, 3, "第3批")
    assert not task.running


def test_task_failure_is_a_message(qtbot):
    def job(_progress):
        raise HallError("磁盘已满")

    task = Task(job)
    with qtbot.waitSignal(task.failed, timeout=5000) as blocker:
        task.start()
    assert str(blocker.args[0]) == "磁盘已满"
