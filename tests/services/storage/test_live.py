"""The live feed without Qt, on real SQLite files and the real PostgreSQL server: what another program commits is
delivered as Changes, once; what was rolled back, never; this program's own announced events are left out; a
batch far beyond NOTIFY's 8000 bytes arrives whole; on PostgreSQL an event whose id is below the mark because its
transaction committed late (ids are handed out at insert, not at commit) still arrives.

"Another program" is another Database opened on the same ledger (its own engine and connections): the feed reads
what reaches the ledger and cannot tell a second process from a second engine — the two-process tests are in
tests/ui/test_live_refresh.py.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from live_peer import form

from hall.paths import Paths
from hall.services.bootstrap import follow, open_hall
from hall.services.storage import ledger, live, settings
from hall.services.storage.changes import ANNOUNCED, Changes, recording
from hall.services.tickets import intake


class Heard:
    def __init__(self) -> None:
        self.changes: list[Changes] = []
        self._cond = threading.Condition()

    def __call__(self, found: Changes) -> None:
        with self._cond:
            self.changes.append(found)
            self._cond.notify_all()

    def wait(self, n: int, timeout: float = 10.0) -> list[Changes]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.changes) >= n, timeout), self.changes
            return list(self.changes)


@pytest.fixture
def other(hall_db, tmp_path):
    """A second program on the same ledger (its own engine, its own node)."""
    url = hall_db.db.engine.url.render_as_string(hide_password=False)
    opened = open_hall(Paths.resolve(tmp_path / "other"), url)
    yield opened
    opened.db.dispose()


@pytest.fixture
def feed(hall_db):
    heard = Heard()
    f = follow(hall_db.db, heard, heartbeat_s=0.3) if not hall_db.db.is_sqlite else follow(hall_db.db, heard)
    assert f.wait_ready()
    f.heard = heard  # type: ignore[attr-defined]
    yield f
    f.stop()
    assert not f.running


def _uid(session, number: str) -> str:
    from sqlalchemy import select

    from hall.models import Ticket

    return session.scalar(select(Ticket.uid).where(Ticket.number == number))


def test_another_programs_commit_is_delivered_once_as_changes(other, people, feed):
    with other.db.transaction() as s:
        number = intake.register(s, people["c02"], form(s, "09", 1)).number
        uid = _uid(s, number)
    got = feed.heard.wait(1)
    assert got[0].tickets == {uid} and got[0].any_tickets
    time.sleep(0.8)
    assert len(feed.heard.changes) == 1  # not again at the next poll or heartbeat
    assert feed.mark > 0 and feed.delivered == 1


def test_a_rolled_back_transaction_is_never_delivered(other, people, feed):
    with pytest.raises(RuntimeError), other.db.transaction() as s:
        intake.register(s, people["c02"], form(s, "09", 2))
        settings.set_values(s, people["admin"], {"hall_name": "不会生效"})
        raise RuntimeError("half-way")
    time.sleep(1.0)
    assert feed.heard.changes == []
    with other.db.transaction() as s:
        settings.set_values(s, people["admin"], {"hall_name": "生效了"})
    got = feed.heard.wait(1)
    assert got == [Changes(settings=True)]


def test_own_announced_events_are_left_out_and_own_unannounced_ones_are_not(hall_db, people, feed):
    # Recorded: the operation that made them announces them (ops.run / OperationTask); the feed must not again.
    with recording() as rec, hall_db.db.transaction() as s:
        intake.register(s, people["c02"], form(s, "09", 3))
    assert rec.changes().any_tickets
    deadline = time.monotonic() + 3
    while feed.skipped_own == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert feed.skipped_own >= 1  # read back, and left out
    time.sleep(0.5)
    assert feed.heard.changes == []
    # Committed by this process without a recording (a script, the CLI): nobody announced it, so the feed does.
    with hall_db.db.transaction() as s:
        settings.set_values(s, people["admin"], {"hall_name": "脚本改的"})
    assert feed.heard.wait(1) == [Changes(settings=True)]


def test_a_recorded_transaction_rolled_back_leaves_nothing_behind(hall_db, people, feed):
    before = len(ANNOUNCED._ids)
    with pytest.raises(RuntimeError), recording(), hall_db.db.transaction() as s:
        intake.register(s, people["c02"], form(s, "09", 4))
        assert len(ANNOUNCED._ids) > before
        raise RuntimeError("half-way")
    assert len(ANNOUNCED._ids) == before


def test_a_batch_far_beyond_the_notify_payload_limit_arrives_whole(other, feed):
    uids = [str(uuid.uuid4()) for _ in range(6000)]  # 6,000 events in one transaction (a daily-rules run's size)
    with other.db.transaction() as s:
        ledger.append_many(s, other.system, "ticket.printed", [({"paper": "receipt"}, u) for u in uids])
    got = feed.heard.wait(1, timeout=20)
    assert len(got) == 1
    assert got[0].all_tickets  # more tickets than a screen is told one by one: "all of them"
    assert feed.events_read >= 6000


def _in_flight(other):
    """A transaction of ``other`` that has appended an event (its id is taken) and not committed: on its own node,
    so it holds no lock a second writer waits for."""
    slow = other.db.session()
    slow.begin()
    uid = str(uuid.uuid4())
    ledger.append(slow, other.system, "ticket.printed", {"paper": "receipt"}, ticket_uid=uid)
    return slow, uid


def test_postgresql_an_event_committed_after_a_later_one_still_arrives(hall_db, other, people, feed):
    if hall_db.db.is_sqlite:
        pytest.skip("SQLite's writers take turns: ids are committed in order")
    slow, ghost = _in_flight(other)  # its event id is taken now …
    with other.db.transaction() as s:  # … a later id commits first (a second counter, quicker)
        quick = intake.register(s, people["c03"], form(s, "09", 6)).number
        quick_uid = _uid(s, quick)
    first = feed.heard.wait(1)
    assert first[0].tickets == {quick_uid}
    assert feed.holes  # the slow one's id is below the mark now, and remembered
    time.sleep(live.HOLE_GRACE_S + 0.6)  # several heartbeats: still in flight, so the hole stays
    assert feed.holes
    slow.commit()
    slow.close()
    got = feed.heard.wait(2)
    assert got[1].history == {ghost}
    deadline = time.monotonic() + 5
    while feed.holes and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not feed.holes


def test_postgresql_holes_of_rolled_back_transactions_are_retired(hall_db, other, people, feed):
    if hall_db.db.is_sqlite:
        pytest.skip("PostgreSQL only")
    slow, _ghost = _in_flight(other)
    with other.db.transaction() as s:
        intake.register(s, people["c03"], form(s, "09", 8))
    feed.heard.wait(1)
    assert feed.holes
    slow.rollback()
    slow.close()
    deadline = time.monotonic() + live.HOLE_GRACE_S + 5
    while feed.holes and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not feed.holes  # the transaction that owned them is over: they will never be filled
    assert len(feed.heard.changes) == 1


def test_postgresql_a_commit_without_events_notifies_nobody(hall_db, feed):
    if hall_db.db.is_sqlite:
        pytest.skip("PostgreSQL only")
    import psycopg

    conninfo = hall_db.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as listener:
        listener.execute(f"LISTEN {live.CHANNEL}")
        with hall_db.db.transaction() as s:
            settings.get_all(s)  # reads only
        assert list(listener.notifies(timeout=0.5)) == []
        with hall_db.db.transaction() as s:
            ledger.append(s, hall_db.system, "ticket.printed", {"paper": "receipt"}, ticket_uid=str(uuid.uuid4()))
        assert [n.channel for n in listener.notifies(timeout=2, stop_after=1)] == [live.CHANNEL]
