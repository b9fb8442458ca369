"""Live refresh across counters, with two real processes: the test is counter A (it saves through the services, as
another counter's program does), and B is a real Hall program (tests/live_peer.py: composed as the composition
root composes it, its main window on screen offscreen). Nothing is done in B: whatever its screens show after A's
change came through B's live feed — NOTIFY on PostgreSQL, the data_version poll on SQLite (two programs on one
file).
"""

from __future__ import annotations

import dataclasses
import time
from datetime import date, timedelta

import pytest
from live_peer import Peer, form
from sqlalchemy import select

from hall.models import Ticket
from hall.services.calendar import clock
from hall.services.catalog import items as catalog
from hall.services.storage import settings
from hall.services.tickets import intake

pytestmark = pytest.mark.gui


def _peer_for(hall, tmp_path, **kw) -> Peer:
    """B beside A: on SQLite another program on the same data folder (the same file); on PostgreSQL another PC
    with a folder of its own, on the same server."""
    if hall.db.is_sqlite:
        return Peer(hall_data_dir(hall), **kw)
    url = hall.db.engine.url.render_as_string(hide_password=False)
    return Peer(tmp_path / "counter-b", db=url, **kw)


def hall_data_dir(hall):
    from pathlib import Path

    return Path(hall.db.engine.url.database).parent


@pytest.fixture
def b(hall_db, tmp_path):
    peer = _peer_for(hall_db, tmp_path)
    yield peer
    peer.close()


def save(hall, clerk, i: int) -> tuple[str, float]:
    with hall.db.transaction() as s:
        number = intake.register(s, clerk, form(s, "09", i)).number
    return number, time.monotonic()


def test_a_ticket_saved_by_a_appears_in_b_queue_and_dashboard_without_any_action_in_b(hall_db, people, b):
    before = b.ready["open"]
    waited = []
    for i in range(3):
        number, saved_at = save(hall_db, people["c02"], 100 + i)
        in_queue = b.until(queue_has=number, timeout=10)
        on_board = b.until(open=before + i + 1, timeout=10)
        waited.append((in_queue - saved_at, on_board - saved_at))
    state = b.state()
    assert state["live"] >= 3 and state["delivered"] >= 3
    # Well inside the 1 s of the issue (the benchmark measures it properly, bench_live.py).
    assert max(q for q, _d in waited) < 3 and max(d for _q, d in waited) < 3, waited
    print("A's save → B's queue / dashboard (s):", [(round(q, 3), round(d, 3)) for q, d in waited])


def test_a_rolled_back_transaction_announces_nothing_in_b(hall_db, people, b):
    at = b.mark()
    with pytest.raises(RuntimeError), hall_db.db.transaction() as s:
        ghost = intake.register(s, people["c02"], form(s, "09", 200))
        raise RuntimeError("the clerk's save failed half-way")
    time.sleep(1.5)  # several of B's polls (SQLite), a notification's round trip many times over (PostgreSQL)
    assert [m for m in b.lines[at:] if m["ev"] == "live"] == []
    # B is listening all along: the next committed save is announced, and only it.
    number, _t = save(hall_db, people["c02"], 201)
    b.until(queue_has=number, timeout=10)
    told = [m for m in b.lines[at:] if m["ev"] == "live"]
    assert len(told) == 1
    with hall_db.db.reading() as s:
        uid = s.scalar(select(Ticket.uid).where(Ticket.number == number))
    assert told[0]["changes"]["tickets"] == [uid]
    assert ghost.number == number or ghost.number not in b.state()["queue"]  # (SQLite may hand the number out again)


def test_settings_catalogue_and_calendar_changed_by_a_are_fresh_in_b(hall_db, people, b):
    admin = people["admin"]
    # The settings: the window title (B's lookups) and the township code B numbers its next ticket with (B's
    # services cache the settings for 30 s; the feed makes B forget them at once).
    b.send(cmd="save", clerk="c02", seed=300)  # B's cache now holds the old code
    assert b.wait_for(lambda m: m["ev"] == "saved")["number"].startswith("320581101-")
    with hall_db.db.transaction() as s:
        settings.set_values(s, admin, {"hall_name": "新港镇便民服务中心", "township_code": "320581102"})
    b.until(title_has="新港镇便民服务中心", timeout=10)
    at = b.mark()
    b.send(cmd="save", clerk="c02", seed=301)
    assert b.wait_for(lambda m: m["ev"] == "saved", after=at)["number"].startswith("320581102-")

    # The catalogue: an item renamed at A is in B's item finder.
    with hall_db.db.reading() as s:
        spec = catalog.current_spec(s)
    renamed = dataclasses.replace(spec, items=tuple(
        dataclasses.replace(it, name=it.name + "（新版）") if it.code == "09" else it for it in spec.items))
    with hall_db.db.transaction() as s:
        catalog.import_catalog(s, admin, renamed, "测试：改名")
    b.until(finder_has="临时救助申请（急难型可先行救助）（新版）", timeout=10)

    # The calendar: a local holiday at A moves the promised date B's intake form shows for the chosen item.
    b.send(cmd="load_item", code="09")
    due = _wait_due(b)
    with hall_db.db.reading() as s:
        cal = clock.calendar_for(s)
    day = date.today() + timedelta(days=1)
    while not cal.is_workday(day) or day.weekday() >= 5:
        day += timedelta(days=1)
    from hall.services.calendar import workdays

    with hall_db.db.transaction() as s:
        workdays.add_local_holiday(s, admin, day, "测试节")
    b.until(due_not=due, timeout=10)


def _wait_due(b: Peer) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        due = b.state()["due"]
        if due not in ("—", ""):
            return due
        time.sleep(0.05)
    raise AssertionError("B's intake form never showed a promised date")
