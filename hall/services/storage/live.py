"""The hall LAN, live: every running program learns what the others committed, within a second, without asking.

What a change is comes from the ledger, as for this program's own operations (:mod:`changes`): the events another
program committed since we last looked, turned into one :class:`~hall.services.storage.changes.Changes` by the same
rule. So nothing but the ledger is trusted, nothing is sent that a reader could not read back, and a feed that was
away (the server restarted, a network cable pulled) catches up by reading from where it stopped — its
*high-water mark*, the largest ``events.id`` it has read.

- **PostgreSQL**: the transaction that appends events sends ``NOTIFY hall_events`` just before it commits
  (:func:`install_notify`; PostgreSQL delivers it at commit, and a rolled-back transaction's notification is
  never delivered). The payload is empty, so the 8000-byte limit never matters: a daily-rules batch of 100,000
  events is one notification, and the listener reads the events themselves. :class:`PgFeed` holds ONE connection
  of its own on a background thread, ``LISTEN``s, and on each notification (and every few seconds anyway) reads the
  events past its mark. Ids come from a sequence, so they are handed out in the order transactions *insert*, not
  the order they *commit*: an id below the mark may still be in flight. The feed remembers such gaps ("holes")
  and reads them again until the transactions that could own them have all ended — known exactly from the
  server's snapshot (every transaction older than the snapshot's ``xmin`` is over). If the server goes away the
  feed reconnects by itself and reads on from its mark and its holes: nothing committed meanwhile is missed.
- **SQLite** (several programs on one PC, one file): :class:`SqliteFeed` polls ``PRAGMA data_version`` on a
  connection of its own every :data:`POLL_S` — a read of the WAL index in shared memory, no disk access, that
  changes exactly when another connection committed — and then reads the events past its mark. SQLite's writers
  take turns, so ids are committed in order and there are no holes.

Either feed leaves out the events this program's own operations committed (they were announced by the operation
that made them: :data:`changes.ANNOUNCED`), forgets the caches the change makes stale (``forget``: the settings,
the calendar, the catalogue — on every node), and hands the rest to ``deliver`` — on its own thread: the UI's
bridge (:mod:`hall.ui.live`) passes it to the GUI thread through a queued signal. No Qt here.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event

from hall.redact import mask_secrets
from hall.services.storage import changes
from hall.services.storage.changes import Changes

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("hall.live")

CHANNEL = "hall_events"
POLL_S = 0.25  # SQLite: how often data_version is looked at (a few microseconds each)
HEARTBEAT_S = 5.0  # PostgreSQL: read anyway after this long without a notification (a lost one, holes to retire)
PAGE = 5000  # events read per query
START_WINDOW = 2000  # PostgreSQL: ids below the first mark that may still be in flight when the feed starts
HOLE_GRACE_S = 2.0  # a hole is retired no sooner than this after it was seen, whatever the snapshot says
MAX_HOLES = 20_000
RETRY_S = (0.2, 0.5, 1.0, 2.0, 3.0)  # waits between reconnection attempts (the last one repeats)

Deliver = Callable[[Changes], None]
Forget = Callable[[Changes], None]
Row = tuple[int, str, str, "str | None"]  # id, event_id, type, ticket_uid


# ------------------------------------------------------------------------------------------------ the sender
def install_notify(maker: sessionmaker[Session]) -> None:
    """Every session of ``maker`` (a PostgreSQL database's) that appended events notifies the hall at commit."""
    event.listen(maker, "before_commit", _notify_before_commit)
    event.listen(maker, "after_rollback", _forget_wrote)


def _notify_before_commit(session: Session) -> None:
    if session.info.pop(changes.WROTE, False):
        # In the transaction: PostgreSQL sends it when (and only if) the commit succeeds.
        session.connection().exec_driver_sql(f"NOTIFY {CHANNEL}")


def _forget_wrote(session: Session) -> None:
    session.info.pop(changes.WROTE, None)


# ------------------------------------------------------------------------------------------------ the feeds
class Feed:
    """A background thread that follows the ledger and delivers what others changed (see the module)."""

    kind = ""

    def __init__(self, deliver: Deliver, forget: Forget | None = None, *,
                 retry_s: Sequence[float] = RETRY_S) -> None:
        self._deliver = deliver
        self._forget = forget
        self._stop = threading.Event()
        self.ready = threading.Event()  # the first mark is taken: anything committed from now on is delivered
        self.connected = threading.Event()
        self.mark = 0  # the largest events.id read
        self.delivered = 0  # deliveries made (each one a Changes)
        self.events_read = 0
        self.skipped_own = 0  # events of this program's own operations, left out
        self.reconnects = 0
        self.connected_at = 0.0  # time.monotonic() of the last (re)connection
        self._once = False
        self._failures = 0
        self.retry_s = tuple(retry_s)
        self._thread = threading.Thread(target=self._main, name=f"hall-live-{self.kind}", daemon=True)

    def start(self) -> Feed:
        changes.ANNOUNCED.enable()
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        changes.ANNOUNCED.disable()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait_ready(self, timeout: float = 10.0) -> bool:
        return self.ready.wait(timeout)

    def _main(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()  # returns when stopped; raises when the database went away
                return
            except Exception as exc:  # the feed must outlive any outage: logged once, retried
                self.connected.clear()
                wait = self.retry_s[min(self._failures, len(self.retry_s) - 1)]
                self._failures += 1
                (log.warning if self._failures == 1 else log.debug)(
                    "live feed lost the database (%s); retrying in %.1f s",
                    mask_secrets(str(exc).splitlines()[0] if str(exc) else type(exc).__name__), wait)
                if self._stop.wait(wait):
                    return

    def _follow(self) -> None:
        raise NotImplementedError

    def _connected(self) -> None:
        self.connected_at = time.monotonic()
        if self._once:
            self.reconnects += 1
            log.info("live feed: connected again, caught up to event %d", self.mark)
        self._once = True
        self._failures = 0
        self.connected.set()

    def _hand_over(self, rows: list[Row]) -> None:
        """Turn rows read past the mark into Changes (leaving out our own) and deliver them."""
        told: list[tuple[str, str | None]] = []
        for _id, event_id, type_, uid in rows:
            if changes.ANNOUNCED.take(event_id):
                self.skipped_own += 1
            else:
                told.append((type_, uid))
        self.events_read += len(rows)
        if told:
            self._send(Changes.from_events(told))

    def _send(self, found: Changes) -> None:
        if not found:
            return
        if self._forget is not None:
            self._forget(found)  # before the screens reload: they must not read a stale cache
        self.delivered += 1
        self._deliver(found)

    def _rewound(self, top: int) -> None:
        """The ledger is shorter than what we read (restored from a backup, a new database at the address):
        start again from its end and let every screen reload."""
        log.warning("live feed: the ledger ends at %d, below the %d already read; starting again", top, self.mark)
        self.mark = top
        self._send(Changes.everything())


class SqliteFeed(Feed):
    kind = "sqlite"

    def __init__(self, path: Path, deliver: Deliver, forget: Forget | None = None, *, poll_s: float = POLL_S,
                 **options: Any) -> None:
        super().__init__(deliver, forget, **options)
        self.path, self.poll_s = path, poll_s

    def _follow(self) -> None:
        # Its own connection, never writing, in autocommit: each look is a short read that holds nothing up.
        conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 5000")
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            top = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
            if not self.ready.is_set():
                self.mark = top
                self.ready.set()
            else:
                self._read(conn, top)  # back after a failure: catch up
            self._connected()
            while not self._stop.wait(self.poll_s):
                now = conn.execute("PRAGMA data_version").fetchone()[0]
                if now != version:
                    version = now
                    self._read(conn, None)
        finally:
            conn.close()

    def _read(self, conn: sqlite3.Connection, top: int | None) -> None:
        if top is None:
            top = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
        if top < self.mark:
            self._rewound(top)
            return
        rows: list[Row] = []
        while True:
            page = conn.execute("SELECT id, event_id, type, ticket_uid FROM events WHERE id > ? ORDER BY id LIMIT ?",
                                (self.mark, PAGE)).fetchall()
            if not page:
                break
            rows.extend(page)
            self.mark = page[-1][0]
            if len(page) < PAGE:
                break
        self._hand_over(rows)


class PgFeed(Feed):
    kind = "postgresql"

    def __init__(self, conninfo: str, deliver: Deliver, forget: Forget | None = None, *,
                 heartbeat_s: float = HEARTBEAT_S, **options: Any) -> None:
        super().__init__(deliver, forget, **options)
        self._conninfo = conninfo
        self.heartbeat_s = heartbeat_s
        # id → (the xmax of the snapshot that saw it missing, when): read again until every transaction that
        # could own it has ended
        self.holes: dict[int, tuple[int, float]] = {}
        self._snapshot_sql = ""

    def _follow(self) -> None:
        import psycopg

        # keepalives: a peer that vanished without a word (a cable pulled) is noticed in ~15 s, not hours
        conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5, keepalives=1,
                               keepalives_idle=5, keepalives_interval=2, keepalives_count=3,
                               application_name="hall live feed")
        try:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            self._snapshot_sql = (
                "SELECT pg_snapshot_xmin(pg_current_snapshot())::text, pg_snapshot_xmax(pg_current_snapshot())::text"
                if conn.info.server_version >= 130000 else
                "SELECT txid_snapshot_xmin(txid_current_snapshot())::text, "
                "txid_snapshot_xmax(txid_current_snapshot())::text")
            conn.execute(f"LISTEN {CHANNEL}")  # before the first read: nothing committed after it goes unheard
            if not self.ready.is_set():
                self._begin(conn)
                self.ready.set()
            else:
                self._read(conn)  # back after an outage: everything past the mark, and the holes
            self._connected()
            last = time.monotonic()
            while not self._stop.is_set():
                heard = False
                for _note in conn.notifies(timeout=0.5, stop_after=1):
                    heard = True
                if heard or time.monotonic() - last >= self.heartbeat_s:
                    # One read for every notification that arrived meanwhile (they queue up in the connection).
                    self._read(conn)
                    last = time.monotonic()
        finally:
            conn.close()

    def _snapshot(self, cur: Any) -> tuple[int, int]:
        xmin, xmax = cur.execute(self._snapshot_sql).fetchone()
        return int(xmin), int(xmax)

    def _begin(self, conn: Any) -> None:
        """The first mark: the ledger's end, and as holes the ids missing just below it (their transactions may
        still be running as we start)."""
        with conn.transaction(), conn.cursor() as cur:
            _xmin, xmax = self._snapshot(cur)
            top = cur.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
            present = {r[0] for r in cur.execute("SELECT id FROM events WHERE id > %s", (top - START_WINDOW,))}
        now = time.monotonic()
        self.mark = top
        self.holes = {i: (xmax, now) for i in range(max(1, top - START_WINDOW + 1), top + 1) if i not in present}

    def _read(self, conn: Any) -> None:
        """Everything past the mark and whatever filled a hole, in one consistent snapshot; then retire the holes
        no transaction can fill any more."""
        with conn.transaction(), conn.cursor() as cur:
            xmin, xmax = self._snapshot(cur)
            top = cur.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
            if top < self.mark:
                self.holes.clear()
                self._rewound(top)
                return
            rows: list[Row] = []
            if self.holes:
                rows.extend(cur.execute("SELECT id, event_id, type, ticket_uid FROM events WHERE id = ANY(%s)",
                                        (list(self.holes),)).fetchall())
                for r in rows:
                    self.holes.pop(r[0], None)
            now = time.monotonic()
            while True:
                page = cur.execute("SELECT id, event_id, type, ticket_uid FROM events WHERE id > %s ORDER BY id "
                                   "LIMIT %s", (self.mark, PAGE)).fetchall()
                if not page:
                    break
                previous = self.mark
                for r in page:
                    if r[0] > previous + 1:  # ids handed out, not committed (yet): in flight or rolled back
                        for hole in range(previous + 1, min(r[0], previous + 1 + MAX_HOLES)):
                            self.holes[hole] = (xmax, now)
                    previous = r[0]
                rows.extend(page)
                self.mark = page[-1][0]
                if len(page) < PAGE:
                    break
        # A hole whose possible owners (transactions that began before the snapshot that saw it missing) have all
        # ended, and that this snapshot still does not show, was rolled back: it will never be filled.
        for hole, (seen_xmax, seen_at) in list(self.holes.items()):
            if xmin >= seen_xmax and now - seen_at >= HOLE_GRACE_S:
                del self.holes[hole]
        if len(self.holes) > MAX_HOLES:
            for hole in sorted(self.holes)[: len(self.holes) - MAX_HOLES]:
                del self.holes[hole]
        self._hand_over(rows)


def start(engine: Engine, deliver: Deliver, forget: Forget | None = None, **options: Any) -> Feed:
    """ONE feed for the running program on the database of ``engine`` (its own connection and thread);
    ``stop()`` it before the database is disposed."""
    if engine.dialect.name == "postgresql":
        conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        feed: Feed = PgFeed(conninfo, deliver, forget, **options)
    else:
        feed = SqliteFeed(Path(engine.url.database or ""), deliver, forget, **options)
    return feed.start()
