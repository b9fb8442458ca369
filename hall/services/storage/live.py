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
from hall.services.storage import at_rest, changes
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
        conn = at_rest.connect(self.path, timeout=5, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 5000")
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            top = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
            if not self.ready.is_set():
                self.mark = top
                self.ready.set()
            elif top < self.mark:
                self._rewound(top)
            else:
                self._read(conn)  # back after a failure: catch up
            self._connected()
            while not self._stop.wait(self.poll_s):
                now = conn.execute("PRAGMA data_version").fetchone()[0]
                if now != version:
                    version = now
                    self._read(conn)
        finally:
            conn.close()

    def _read(self, conn: sqlite3.Connection) -> None:
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
        self._snapshot_sql = self._read_sql = ""

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
                "pg_snapshot_xmin(pg_current_snapshot())::text, pg_snapshot_xmax(pg_current_snapshot())::text"
                if conn.info.server_version >= 130000 else  # PostgreSQL 12 and older: the txid_ forms
                "txid_snapshot_xmin(txid_current_snapshot())::text, txid_snapshot_xmax(txid_current_snapshot())::text")
            # The snapshot's bounds beside the rows (a row of them alone when no event is new).
            self._read_sql = (
                f"SELECT s.lo, s.hi, e.id, e.event_id, e.type, e.ticket_uid FROM (SELECT {self._snapshot_sql}) "
                "AS s(lo, hi) LEFT JOIN LATERAL (SELECT id, event_id, type, ticket_uid FROM events "
                "WHERE id > %(mark)s OR id = ANY(%(holes)s::integer[]) ORDER BY id LIMIT %(page)s) AS e ON true "
                "ORDER BY e.id")
            conn.execute(f"LISTEN {CHANNEL}")  # before the first read: nothing committed after it goes unheard
            if not self.ready.is_set():
                self._begin(conn)
                self.ready.set()
            else:
                self._catch_up(conn)
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

    def _begin(self, conn: Any) -> None:
        """The first mark: the ledger's end, and as holes the ids missing just below it (their transactions may
        still be running as we start)."""
        with conn.transaction(), conn.cursor() as cur:  # one snapshot for the three looks
            _xmin, xmax = (int(x) for x in cur.execute(f"SELECT {self._snapshot_sql}").fetchone())
            top = cur.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
            present = {r[0] for r in cur.execute("SELECT id FROM events WHERE id > %s", (top - START_WINDOW,))}
        now = time.monotonic()
        self.mark = top
        self.holes = {i: (xmax, now) for i in range(max(1, top - START_WINDOW + 1), top + 1) if i not in present}

    def _catch_up(self, conn: Any) -> None:
        """Back after an outage: everything past the mark, and the holes — unless the ledger is now shorter than
        what was read (another database at the address)."""
        top = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
        if top < self.mark:
            self.holes.clear()
            self._rewound(top)
        else:
            self._read(conn)

    def _read(self, conn: Any) -> None:
        """Everything past the mark and whatever filled a hole; then retire the holes no transaction can fill any
        more. One statement per page — one round trip, and one snapshot that both the rows and the snapshot's
        xmin/xmax come from (what the hole bookkeeping needs)."""
        looked_for = list(self.holes)
        rows: list[Row] = []
        now = time.monotonic()
        retire_below: int | None = None
        first = True
        while True:
            got = conn.execute(self._read_sql, {"mark": self.mark, "holes": looked_for if first else [],
                                                "page": PAGE}).fetchall()
            xmin, xmax = int(got[0][0]), int(got[0][1])
            if first:
                retire_below = xmin
            page: list[Row] = [r[2:] for r in got if r[2] is not None]
            previous = self.mark
            for r in page:
                if r[0] <= self.mark:
                    self.holes.pop(r[0], None)  # filled: its transaction committed late
                    continue
                if r[0] > previous + 1:  # ids handed out, not committed (yet): in flight, or rolled back
                    for hole in range(previous + 1, min(r[0], previous + 1 + MAX_HOLES)):
                        self.holes[hole] = (xmax, now)
                previous = r[0]
            self.mark = previous
            rows.extend(page)
            if len(page) < PAGE:
                break
            first = False
        # A hole whose possible owners (transactions that began before the snapshot that saw it missing) have all
        # ended, and that a later snapshot still does not show, was rolled back: it will never be filled.
        assert retire_below is not None
        for hole in looked_for:
            seen = self.holes.get(hole)
            if seen is not None and retire_below >= seen[0] and now - seen[1] >= HOLE_GRACE_S:
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
