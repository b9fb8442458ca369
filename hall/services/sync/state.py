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
from typing import Any

from sqlalchemy import and_, case, distinct, func, or_, select, text
from sqlalchemy.orm import Session

from hall.models import Base, Event, Staff, Ticket
from hall.models.ledger import REFERENCE_WHERE
from hall.models.sync import SyncExchange, SyncPeer
from hall.services.sync import directory, journal, parking
from hall.services.sync.exchange import RELAYED, STAFF_RELAYED, hall_chains, village_staff_picks
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


@dataclass(frozen=True)
class ChainMarks:
    """At the hall, per laptop: how far each hall-side chain (a counter PC's) was sent to it, and how far it said
    it holds each (the ack vector of its last bundle)."""

    sent: dict[str, int]
    acked: dict[str, int]

    def state(self, last: dict[str, int]) -> str:
        """A ticket's state from its last event on each hall-side chain (``last``: node -> seq)."""
        if all(seq <= self.acked.get(n, 0) for n, seq in last.items()):
            return SYNCED
        return SENT if all(seq <= self.sent.get(n, 0) for n, seq in last.items()) else UNSENT


def chain_marks(session: Session) -> dict[str, ChainMarks]:
    """At the hall: per peer, from the newest export to it and the newest bundle from it. (Every export of the hall
    carries everything relayed after the laptop's acknowledgement it was cut at — kept in the export's ``acks`` —
    so the newest export has sent each chain up to the later of that and what it carried; and the newest bundle
    says what the laptop holds now.) An import recorded before the whole ack vector was kept acknowledges the
    exporting node's chain alone."""
    t = SyncExchange
    newest = select(func.max(t.id)).where(t.direction.in_(("export", "import"))).group_by(t.peer, t.direction)
    out: dict[str, ChainMarks] = {}
    for peer, node, direction, chains, acks, acked in session.execute(
            select(t.peer, t.node, t.direction, t.chains, t.acks, t.acked_seq).where(t.id.in_(newest))):
        m = out.setdefault(peer, ChainMarks({}, {}))
        if direction == "export":
            m.sent.update({n: int(v[0]) for n, v in json.loads(acks or "{}").items() if isinstance(v, list) and v})
            m.sent.update({c["node_id"]: int(c["last_seq"]) for c in json.loads(chains or "[]")})
        else:
            vector = json.loads(acks or "{}")
            m.acked.update({n: int(v[0]) for n, v in vector.items() if isinstance(v, list) and v}
                           if vector else {node: int(acked or 0)})
    return out


def _point_marks(session: Session) -> dict[str, ChainMarks]:
    """At the hall: per intake point, the furthest any of its laptops (a replacement too) was sent and acked."""
    by_peer = chain_marks(session)
    out: dict[str, ChainMarks] = {}
    for node_id, point in session.execute(select(SyncPeer.node_id, SyncPeer.intake_point)):
        m = by_peer.get(node_id, ChainMarks({}, {}))
        have = out.setdefault(point, ChainMarks({}, {}))
        for mine, theirs in ((have.sent, m.sent), (have.acked, m.acked)):
            for n, seq in theirs.items():
                mine[n] = max(mine.get(n, 0), seq)
    return out


def _last_hall_side(session: Session, uids: set[str]) -> dict[str, dict[str, int]]:
    """At the hall: each ticket's last event on every hall-side chain (not an enrolled laptop's)."""
    if not uids:
        return {}
    laptops = set(session.scalars(select(SyncPeer.node_id)))
    out: dict[str, dict[str, int]] = {}
    for uid, node, seq in session.execute(select(Event.ticket_uid, Event.node_id, func.max(Event.seq)).where(
            Event.ticket_uid.in_(uids)).group_by(Event.ticket_uid, Event.node_id)):
        if node not in laptops:
            out.setdefault(uid, {})[node] = seq
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
    if s.role == "hall":
        return _hall_states(session, tickets)
    hall = next(iter(p for p, m in s.marks.items() if m.last_import is not None), None)
    mark = s.marks.get(hall or "", journal.Mark())
    uids = {u for _i, u, _p in tickets}
    last = _last_own(session, s.node_id, uids)
    conflicted = _conflicted(session, uids)
    return {i: CONFLICT if u in conflicted else _state(last.get(u), mark) for i, u, _p in tickets}


def _hall_states(session: Session, tickets: Iterable[Any]) -> dict[int, str]:
    """At the hall: a village ticket's outgoing events are those of every hall-side chain on it."""
    marks = _point_marks(session)
    concerned = [(i, u, p) for i, u, p in tickets if p in marks]
    uids = {u for _i, u, _p in concerned}
    last = _last_hall_side(session, uids)
    conflicted = _conflicted(session, uids)
    return {i: CONFLICT if u in conflicted else marks[p].state(last.get(u, {})) for i, u, p in concerned}


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


def _pending(session: Session, node_id: str, mark: journal.Mark) -> tuple[int, int]:
    """On a laptop: (its events not yet sent, its tickets not yet acknowledged)."""
    e = Event
    events = session.scalar(select(func.count()).select_from(e).where(e.node_id == node_id, e.seq > mark.sent_seq))
    tickets = session.scalar(select(func.count(distinct(e.ticket_uid))).where(
        e.node_id == node_id, e.seq > mark.acked_seq, e.ticket_uid.is_not(None)))
    return int(events or 0), int(tickets or 0)


def _hall_pending(session: Session, hall_node: str, mark: ChainMarks, point: str) -> tuple[int, int]:
    """At the hall, for ``point``'s laptop: (events of every hall-side chain it is to get — as
    exchange.relayed picks them: reference, that village's staff, its tickets — not yet in any export to it,
    tickets of that village with hall-side events it has not acknowledged)."""
    e = Event
    chains = hall_chains(session, hall_node)
    village = select(Ticket.uid).where(Ticket.intake_point == point)

    def past(marks: dict[str, int]) -> Any:
        return or_(*[and_(e.node_id == n, e.seq > marks.get(n, 0)) for n in chains])

    events = session.scalar(select(func.count()).select_from(e).where(
        past(mark.sent), or_(e.type.in_(RELAYED), e.ticket_uid.in_(village)))) or 0
    events += _village_staff_events(session, chains, mark.sent, point)
    tickets = session.scalar(select(func.count(distinct(e.ticket_uid))).where(
        past(mark.acked), e.ticket_uid.in_(village))) or 0
    return int(events), int(tickets)


def _village_staff_events(session: Session, chains: list[str], sent: dict[str, int], point: str) -> int:
    """The hall's staff events not yet sent that go to ``point``'s laptop, as exchange.relayed picks them (every
    event of the village's people: exchange.village_staff_picks), read from the hall's few staff events (through the
    reference index, as the relay reads them)."""
    mine = set(session.scalars(select(Staff.uid).where(Staff.intake_point == point)))
    rows = session.execute(select(Event.id, Event.event_id, Event.node_id, Event.seq, Event.type, Event.payload)
                           .where(Event.node_id.in_(chains), text(REFERENCE_WHERE), Event.type.in_(STAFF_RELAYED))
                           .order_by(Event.id)).mappings().all()
    picked, _ = village_staff_picks(rows, point, mine)
    return sum(1 for r in rows if r["id"] in picked and r["seq"] > sent.get(r["node_id"], 0))


def peer_lines(session: Session, node_id: str, role: str, hall_node: str | None = None,
               hall_fingerprint: str = "") -> tuple[PeerLine, ...]:
    """At the hall: every enrolled laptop; on a laptop: its hall."""
    marks = journal.marks(session, node_id)
    if role == "laptop":
        if hall_node is None:
            return ()
        m = marks.get(hall_node, journal.Mark())
        events, tickets = _pending(session, node_id, m)
        return (PeerLine(hall_node, "000", hall_fingerprint, None, None, "", m.last_sync, events, tickets),)
    out = []
    by_chain = chain_marks(session)
    for p in session.scalars(select(SyncPeer).order_by(SyncPeer.intake_point, SyncPeer.enrolled_at)):
        m = marks.get(p.node_id, journal.Mark())
        events, tickets = (_hall_pending(session, node_id, by_chain.get(p.node_id, ChainMarks({}, {})),
                                         p.intake_point) if p.revoked_at is None else (0, 0))
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
    staff_directory: directory.Summary | None = None  # on a laptop: the hall's staff directory it holds
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
                    directory.summary(session) if mine.role == "laptop" else None, parking.summary(session))
