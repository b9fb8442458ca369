"""Each ticket's sync state (未同步 / 已发出 / 已同步 / 冲突), and what the 同步 screen shows of each peer.

Derived, never stored: from this node's record of the bundles it wrote and took in (hall/services/sync/journal.py)
and the events themselves. A ticket's *outgoing* events are this node's own events on it — on a laptop, its
intake and every later step; at the hall, the hall's later events on a village's ticket (what flows back).
- 已同步: the other side acknowledged (the ack vector of a bundle it sent) this node's chain at least up to the
  ticket's last outgoing event — an export alone never counts: the file may never have been imported;
- 已发出: an export reached that far, the acknowledgement has not come back yet;
- 未同步: not exported yet;
- 冲突: a sync conflict is open on it (the conflict records are another part's; read when its table exists).
Tickets that have nothing to do with sync (the hall's own, on a hall without laptops) get no state (absent).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, distinct, func, or_, select
from sqlalchemy.orm import Session

from hall.models import Base, Event, Staff, Ticket
from hall.models.sync import SyncExchange, SyncPeer
from hall.services.sync import journal, parking
from hall.services.sync.exchange import RELAYED
from hall.services.sync.keys import NodeKeys

UNSENT, SENT, SYNCED, CONFLICT = "unsent", "sent", "synced", "conflict"
SYNC_LABELS = {UNSENT: "未同步", SENT: "已发出", SYNCED: "已同步", CONFLICT: "冲突"}

# The conflict records (h-conflict's part): a table with a ticket_uid column, open while resolved_at is NULL.
# Guarded by name so this works before that table exists; the integrator adjusts the names if they differ.
CONFLICTS_TABLE = "sync_conflicts"


@dataclass(frozen=True)
class Side:
    """Which end of sync this database is, read from its own record: a laptop has a join, a hall its exchanges."""

    role: str  # "laptop" | "hall"
    node_id: str
    marks: dict[str, journal.Mark]  # per peer


def side(session: Session) -> Side | None:
    t = SyncExchange
    rows = session.execute(select(t.node, t.peer, t.direction, func.max(t.sent_seq), func.max(t.acked_seq),
                                  func.max(t.at), func.count()).group_by(t.node, t.peer, t.direction)).all()
    if not rows:
        return None
    joined = [r[0] for r in rows if r[2] == "join"]
    if joined:
        role, node = "laptop", joined[0]
    else:
        counts: dict[str, int] = {}
        for r in rows:
            counts[r[0]] = counts.get(r[0], 0) + r[6]
        role, node = "hall", max(sorted(counts), key=lambda k: counts[k])
    return Side(role, node, journal.fold([r[1:6] for r in rows if r[0] == node]))


def _conflicted(session: Session, uids: set[str]) -> set[str]:
    table = Base.metadata.tables.get(CONFLICTS_TABLE)
    if table is None or "ticket_uid" not in table.c or not uids:
        return set()
    stmt = select(table.c.ticket_uid).where(table.c.ticket_uid.in_(uids))
    if "resolved_at" in table.c:
        stmt = stmt.where(table.c.resolved_at.is_(None))
    return set(session.scalars(stmt))


def _last_own(session: Session, node_id: str, uids: set[str]) -> dict[str, int]:
    if not uids:
        return {}
    # The node as a CASE, not a WHERE: with ``node_id = ?`` SQLite walks the (node, seq) index over the laptop's
    # whole chain (10 ms a page at 10,000 events); on ticket_uid alone it reads the page's few events (1 ms).
    own = case((Event.node_id == node_id, Event.seq))
    got = session.execute(select(Event.ticket_uid, func.max(own)).where(Event.ticket_uid.in_(uids))
                          .group_by(Event.ticket_uid)).all()
    return {uid: seq for uid, seq in got if seq is not None}


def _point_marks(session: Session, s: Side) -> dict[str, journal.Mark]:
    """At the hall: per intake point, the furthest any of its laptops (a replacement too) was sent and acked."""
    out: dict[str, journal.Mark] = {}
    for node_id, point in session.execute(select(SyncPeer.node_id, SyncPeer.intake_point)):
        m = s.marks.get(node_id, journal.Mark())
        have = out.get(point, journal.Mark())
        out[point] = journal.Mark(max(have.sent_seq, m.sent_seq), max(have.acked_seq, m.acked_seq))
    return out


def _state(last: int | None, mark: journal.Mark) -> str:
    if last is None or last <= mark.acked_seq:
        return SYNCED
    return SENT if last <= mark.sent_seq else UNSENT


def sync_state(session: Session, ticket_ids: Iterable[int]) -> dict[int, str]:
    """ticket id -> its state code (see ``SYNC_LABELS``), for the tickets sync concerns; others are absent."""
    ids = list(ticket_ids)
    s = side(session) if ids else None
    if s is None:
        return {}
    tickets = session.execute(select(Ticket.id, Ticket.uid, Ticket.intake_point).where(Ticket.id.in_(ids))).all()
    if s.role == "laptop":
        hall = next(iter(p for p, m in s.marks.items() if m.last_import is not None), None)
        mark = s.marks.get(hall or "", journal.Mark())
        marks = {point: mark for _i, _u, point in tickets}
    else:
        marks = _point_marks(session, s)
    concerned = [(i, u, p) for i, u, p in tickets if p in marks]
    uids = {u for _i, u, _p in concerned}
    last = _last_own(session, s.node_id, uids)
    conflicted = _conflicted(session, uids)
    return {i: CONFLICT if u in conflicted else _state(last.get(u), marks[p]) for i, u, p in concerned}


def ticket_sync_label(session: Session, uid: str) -> str:
    """The one ticket's state in Chinese ("" when sync does not concern it): the ticket detail's header."""
    if session.scalar(select(func.count()).select_from(SyncExchange)) == 0:
        return ""
    ticket_id = session.scalar(select(Ticket.id).where(Ticket.uid == uid))
    code = sync_state(session, [ticket_id]).get(ticket_id) if ticket_id is not None else None
    return SYNC_LABELS[code] if code else ""


# ------------------------------------------------------------------------------------------ the 同步 screen
@dataclass(frozen=True)
class PeerLine:
    node_id: str
    intake_point: str
    fingerprint: str
    enrolled_at: datetime | None
    revoked_at: datetime | None
    revoke_reason: str
    last_sync: datetime | None
    pending_events: int  # this node's events for that peer not yet in any export
    pending_tickets: int  # tickets with outgoing events the peer has not acknowledged


def _pending(session: Session, node_id: str, mark: journal.Mark, point: str | None) -> tuple[int, int]:
    """(events not yet sent, tickets not yet acknowledged); ``point``: the hall's events for that village."""
    e = Event
    scope = []
    staff_events = 0
    if point is not None:  # what the hall relays (exchange.relayed_events): reference, village staff and tickets
        village = select(Ticket.uid).where(Ticket.intake_point == point)
        scope = [or_(e.type.in_(RELAYED), e.ticket_uid.in_(village))]
        staff_events = _village_staff_events(session, node_id, mark.sent_seq, point)
    events = staff_events + (session.scalar(select(func.count()).select_from(e).where(
        e.node_id == node_id, e.seq > mark.sent_seq, *scope)) or 0)
    ticket_scope = [e.ticket_uid.in_(select(Ticket.uid).where(Ticket.intake_point == point))] if point else []
    tickets = session.scalar(select(func.count(distinct(e.ticket_uid))).where(
        e.node_id == node_id, e.seq > mark.acked_seq, e.ticket_uid.is_not(None), *ticket_scope)) or 0
    return int(events), int(tickets)


def _village_staff_events(session: Session, node_id: str, after: int, point: str) -> int:
    """The hall's staff events after ``after`` that go to ``point``'s laptop (as exchange.relayed_events picks
    them: that village's own staff, their passwords), read from the few staff events since the last export."""
    mine = set(session.scalars(select(Staff.uid).where(Staff.intake_point == point)))
    count = 0
    for kind, payload in session.execute(select(Event.type, Event.payload).where(
            Event.node_id == node_id, Event.seq > after, Event.type.in_(("staff.added", "staff.password_set")))):
        p = json.loads(payload)
        if kind == "staff.added":
            count += p.get("intake_point") == point and not p.get("b_post_uid")
        else:
            count += p.get("staff_uid") in mine
    return count


def peer_lines(session: Session, node_id: str, role: str, hall_node: str | None = None,
               hall_fingerprint: str = "") -> tuple[PeerLine, ...]:
    """At the hall: every enrolled laptop; on a laptop: its hall."""
    marks = journal.marks(session, node_id)
    if role == "laptop":
        if hall_node is None:
            return ()
        m = marks.get(hall_node, journal.Mark())
        events, tickets = _pending(session, node_id, m, None)
        return (PeerLine(hall_node, "000", hall_fingerprint, None, None, "", m.last_sync, events, tickets),)
    out = []
    for p in session.scalars(select(SyncPeer).order_by(SyncPeer.intake_point, SyncPeer.enrolled_at)):
        m = marks.get(p.node_id, journal.Mark())
        events, tickets = _pending(session, node_id, m, p.intake_point) if p.revoked_at is None else (0, 0)
        out.append(PeerLine(p.node_id, p.intake_point, p.fingerprint, p.enrolled_at, p.revoked_at,
                            p.revoke_reason, m.last_sync, events, tickets))
    return tuple(out)


@dataclass(frozen=True)
class Overview:
    """Everything the 同步 screen shows, as plain data."""

    role: str  # "hall" | "laptop" (joined) | "requested" (a laptop waiting for its provisioning file)
    node_id: str
    intake_point: str
    fingerprint: str
    hall_fingerprint: str  # on a laptop: its hall's
    peers: tuple[PeerLine, ...]
    recent: tuple[journal.Line, ...]
    parked: tuple[parking.Wait, ...] = ()  # events that wait for what they depend on (暂存), by reason

    @property
    def parked_count(self) -> int:
        return sum(w.count for w in self.parked)


def overview(session: Session, mine: NodeKeys) -> Overview:
    if mine.role == "laptop" and mine.hall is None:
        return Overview("requested", mine.node_id, mine.intake_point, mine.fingerprint, "", (), ())
    hall = mine.hall
    lines = peer_lines(session, mine.node_id, mine.role, hall.node_id if hall else None,
                       hall.fingerprint if hall else "")
    return Overview(mine.role, mine.node_id, mine.intake_point, mine.fingerprint,
                    hall.fingerprint if hall else mine.fingerprint, lines, journal.recent(session, mine.node_id),
                    parking.summary(session))
