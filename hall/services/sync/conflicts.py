"""同步冲突: two nodes acted on one ticket from the same parent — derived, frozen, shown, resolved.

Every ticket event names the version it was based on (``parent_version``, hall/services/tickets/record.py), and on a
village point's ticket also the event it was built on, by hash (``parent_head``, hall/services/tickets/lineage.py).
On one database the compare-and-set lets one of two competing actions win and the other is told at once. Between a
hall and a village laptop both actions are already committed, each on its own chain, before either node sees the
other: both must be kept (nothing lost) and neither may silently win. So a foreign ticket event goes through the
*gate* (:func:`admit`) rather than straight to its projector:

- the ticket has an open conflict: it is held (``sync_held_events``, status ``held``), not applied. (No node
  writes on a frozen ticket — every action, print and recomputation leaves it out — so what arrives while it is
  frozen was written before its node knew of the conflict, and is held on both nodes alike);
- its ``parent_head`` is the ticket's head (its last effective version-moving event, of those stored before it): it
  applies as usual;
- its ``parent_head`` does not take effect (an event of a branch a resolution did not keep, or one already lost):
  it is kept as ``lost`` (未生效) under that event's conflict — whatever integer it names, which after a fork the
  kept branch may well have reached too;
- its ``parent_head`` is an effective event another event moved the ticket on from: a fork. That event and the
  later events of its *side* on the ticket (the rival branch) and this one are held, a conflict record is written, keyed
  by the ticket, the parent version and the sorted pair of the two branches' first event hashes, and the ticket
  is projected again from its events without the held ones (:func:`reproject`) — it is frozen at the fork point.
  The same two events make the same record on either node, whichever arrives first, and a replay (``ledger check``
  / rebuild) derives it again the same way.

An event without ``parent_head`` (written before it existed) is judged by its integer as before: its parent is the
ticket's version, it applies; older, a fork; after a resolution, one of the branch that was not kept that does not
fit the ticket's version is kept as ``lost``.

A ticket has two sides (:func:`village_nodes`): the village's (the laptop of its point) and the hall's — every
other node, since at a hall on PostgreSQL each counter PC writes its own chain and any of them may take the ticket
up next (W01 pauses it, W03 resumes it). A branch is one side's events, never one node's.

Only the manager (or the administrator) resolves a conflict, at any of the hall's PCs: one
``sync.conflict_resolved`` event on that PC's chain, naming the kept branch by its first event's node (or none), the
events it keeps and the reason — the same payload whichever PC writes it. Its projector releases the held events of
the kept node's side, marks the others ``lost`` and projects the ticket again, now with the kept branch. It travels
to the laptop in the next return bundle (it carries the ticket's uid) and the laptop converges the same way. (An
event written before the payload listed its kept events projects as it did: with one hall node, a side is a node.)

A ticket's events go through the gate when the ticket has events of more than one node (:func:`gated_in_import`,
:func:`gated_in_replay`); every other event is projected as before, so the counter's save and a laptop's bundle of
new tickets pay nothing for this.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, func, select, update
from sqlalchemy.orm import Session

from hall.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from hall.models import Base, Event, Ticket
from hall.models.sync import LOCAL_TABLES, SyncConflict, SyncHeldEvent, SyncPeer
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_supervisor
from hall.services.base.validators import free_text
from hall.services.storage import ledger
from hall.services.sync import peers
from hall.services.tickets import lineage
from hall.services.tickets.record import EVENT_LABELS, FROZEN_MESSAGE, PARENT, PARENT_HEAD, describe

RESOLVED = "sync.conflict_resolved"
KEEP_CHOICES = ("hall", "village", "none")
KEEP_LABELS = {"hall": "保留中心的办理", "village": "保留村代办点的办理", "none": "两边都不生效"}
STATUS_LABELS = {"held": "待处理", "lost": "未生效"}
__all__ = ["FROZEN_MESSAGE", "RESOLVED"]

_E = Event.__table__
_T = Ticket.__table__
_HELD = SyncHeldEvent.__table__
_C = SyncConflict.__table__
_P = SyncPeer.__table__
_CHUNK = 500


class MissingParent(ConflictError):
    """A ticket event based on a version of its ticket this node does not hold yet (and no rival branch explains
    it): a sync import parks it until the events that make that version arrive (hall/services/sync/parking.py)."""

    def __init__(self, message: str, waits_for: str) -> None:
        super().__init__(message)
        self.waits_for = waits_for


# ------------------------------------------------------------------------------------------ which events are gated
def gated_in_import(session: Session, sender: str, rows: Iterable[Mapping[str, Any]]) -> set[str]:
    """The tickets of an import's new ``rows`` whose events go through the gate: those that already have events of
    another node than the sender here (a village ticket the hall acted on, or the hall's events on a laptop)."""
    uids = sorted({r["ticket_uid"] for r in rows if r["ticket_uid"] is not None})
    found: set[str] = set()
    conn = session.connection()
    for start in range(0, len(uids), _CHUNK):
        part = uids[start:start + _CHUNK]
        found.update(conn.scalars(select(_E.c.ticket_uid).where(_E.c.ticket_uid.in_(part), _E.c.node_id != sender)
                                  .distinct()))
    return found


def gated_in_replay(conn: Connection) -> set[str]:
    """The tickets whose events a replay sends through the gate: every ticket with events of more than one node
    (a superset of what any import gated: the gate applies a linear history exactly as the projectors do)."""
    return set(conn.scalars(select(_E.c.ticket_uid).where(_E.c.ticket_uid.is_not(None))
                            .group_by(_E.c.ticket_uid).having(func.count(_E.c.node_id.distinct()) > 1)))


# ------------------------------------------------------------------------------------------ the gate
def admit(session: Session, row: Mapping[str, Any], payload: dict[str, Any]) -> str:
    """Apply, hold or keep as lost one stored ticket event (``row`` with its local ``id``); return which it was:
    ``applied``, ``held``, ``lost`` or ``conflict`` (this event made a new conflict)."""
    uid = row["ticket_uid"]
    if row["type"] == RESOLVED:
        _apply(session, row, payload)
        return "applied"
    conn = session.connection()
    open_id = conn.scalar(select(_C.c.conflict_id).where(_C.c.ticket_uid == uid, _C.c.state == "open").limit(1))
    if open_id is not None:
        _hold(conn, row, open_id, "held")
        return "held"
    parent = payload.get(PARENT)
    version = conn.scalar(select(_T.c.version).where(_T.c.uid == uid))
    if parent is None or version is None:
        _apply(session, row, payload)  # (no ticket: its projector says so, as without the gate)
        return "applied"
    named = payload.get(PARENT_HEAD)
    if named is not None:
        return _by_lineage(session, row, payload, named)
    # Written without a parent_head (before it existed, or by the demo's stand-in for a laptop): by the integer.
    if version == parent:
        _apply(session, row, payload)
        return "applied"
    village = village_nodes(conn, uid)
    for c in conn.execute(select(_C).where(_C.c.ticket_uid == uid, _C.c.state == "resolved",
                                           _C.c.parent_version <= parent)).mappings():
        if c["kept_node"] is None or _side(row["node_id"], village) != _side(c["kept_node"], village):
            _hold(conn, row, c["conflict_id"], "lost")  # built on a branch the resolution did not keep
            return "lost"
    rivals = _rival_branch(conn, uid, row["id"], parent)
    if not rivals:
        raise MissingParent(f"办件 {uid} 的事件（{EVENT_LABELS.get(row['type'], row['type'])}）基于本机没有的办件"
                            f"版本 {parent}（本机为 {version}）：缺少前序事件", f"办件 {uid[:8]} 的第 {parent} 版")
    return _fork(session, row, parent, rivals)


def _by_lineage(session: Session, row: Mapping[str, Any], payload: dict[str, Any], named: str) -> str:
    """The gate for an event naming its parent by hash (hall/services/tickets/lineage.py), on a ticket with no
    open conflict: it fits when its parent is the ticket's effective head; it is lost when its parent does not take
    effect (a branch a resolution did not keep, or an event already lost there); otherwise its parent is an
    effective event another event moved the ticket on from: a fork."""
    uid = row["ticket_uid"]
    conn = session.connection()
    if named == lineage.head(conn, uid, before=row["id"]):
        _apply(session, row, payload)
        return "applied"
    base = conn.execute(select(_E.c.id, _E.c.event_id).where(_E.c.ticket_uid == uid, _E.c.hash == named,
                                                             _E.c.id < row["id"])).first()
    if base is None:
        raise MissingParent(f"办件 {uid} 的事件（{EVENT_LABELS.get(row['type'], row['type'])}）基于本机没有的"
                            f"办件事件 {named[:12]}：缺少前序事件", f"办件 {uid[:8]} 的事件 {named[:12]}")
    gone = conn.execute(select(_HELD.c.conflict_id).where(_HELD.c.event_id == base.event_id)).first()
    if gone is not None:
        # Held rows outlive only a resolved conflict's lost events (an open conflict holds the event above).
        _hold(conn, row, gone.conflict_id, "lost")
        return "lost"
    rivals = _rivals_after(conn, uid, base.id, row["id"])
    if not rivals:  # its parent is effective but not the head: something moved the ticket on from it
        raise ConflictError(f"办件 {uid} 的事件 {named[:12]} 之后没有生效的办理，但它不是办件当前的版本")
    return _fork(session, row, payload[PARENT], rivals)


def _fork(session: Session, row: Mapping[str, Any], parent: int, rivals: list[dict[str, Any]]) -> str:
    """A conflict between ``row`` and the rival branch (its first event and that node's later ones): both held,
    the record written, the ticket projected again without them (frozen at the fork point)."""
    conn = session.connection()
    uid = row["ticket_uid"]
    first = rivals[0]
    (hash_a, node_a, ev_a, at_a), (hash_b, node_b, ev_b, at_b) = sorted([
        (first["hash"], first["node_id"], first["event_id"], first["occurred_at"]),
        (row["hash"], row["node_id"], row["event_id"], row["occurred_at"])])
    cid = conflict_key(uid, parent, hash_a, hash_b)
    conn.execute(_C.insert(), {
        "conflict_id": cid, "ticket_uid": uid, "parent_version": parent, "node_a": node_a, "event_a": ev_a,
        "node_b": node_b, "event_b": ev_b, "found_at": max(at_a, at_b), "state": "open", "kept_node": None,
        "reason": "", "resolved_by": "", "resolved_at": None, "resolution_event": None})
    for r in rivals:
        _hold(conn, r, cid, "held")
    _hold(conn, row, cid, "held")
    reproject(session, uid, row["id"])
    return "conflict"


def arrive(session: Session, actor: Actor, type: str, payload: dict[str, Any], ticket_uid: str, *,
           at: datetime | None = None) -> str:
    """Store an event of ``actor``'s node (another node's, as its import would) and pass it through the gate; for
    the demo walkthrough and tests that stand for a laptop inside the hall's ledger. Returns what :func:`admit`
    did. Only village staff of the ticket's own point, and only a ticket event: it stands for that laptop's own act
    arriving, never a way around the services' checks for anyone else."""
    if actor.role != "village":
        raise PermissionDenied("只有村代办员的办理才会经同步到达中心（此处代表村代办点电脑上的操作）")
    if not type.startswith("ticket."):
        raise ValidationError("事件类型", "只能是办件的办理事件")
    point = session.scalar(select(_T.c.intake_point).where(_T.c.uid == ticket_uid))
    if point != actor.intake_point:
        raise PermissionDenied(f"村代办员只能办理本代办点（{actor.intake_point}）的办件")
    ev = ledger.append(session, actor, type, payload, ticket_uid=ticket_uid, at=at, project=False)
    row = dict(session.connection().execute(select(_E).where(_E.c.event_id == ev.event_id)).mappings().one())
    return admit(session, row, json.loads(row["payload"]))


def conflict_key(ticket_uid: str, parent: int, hash_a: str, hash_b: str) -> str:
    first, second = sorted((hash_a, hash_b))
    return hashlib.sha256(f"{ticket_uid}|{parent}|{first}|{second}".encode()).hexdigest()


def _apply(session: Session, row: Mapping[str, Any], payload: dict[str, Any]) -> None:
    ledger.project(session, [row], [payload])
    # Written now: an import expires the session after its gated events, which would drop what a projector only
    # changed on a loaded object (its version moves in SQL at once, so the row would be half applied).
    session.flush()


def _hold(conn: Connection, row: Mapping[str, Any], conflict_id: str, status: str) -> None:
    conn.execute(_HELD.insert(), {"event_id": row["event_id"], "ticket_uid": row["ticket_uid"],
                                  "conflict_id": conflict_id, "node_id": row["node_id"], "status": status})


def _rivals_after(conn: Connection, uid: str, base: int, before: int) -> list[dict[str, Any]]:
    """The other side of a fork off the effective event of local id ``base``: the first effective version-moving
    event after it (the one that moved the ticket on from it: effective events form one line) and every later
    effective event of the same node on the ticket, as :func:`_rival_branch` picks them."""
    rows = [r for r in _effective(conn, uid, before - 1) if r["id"] > base]
    for i, r in enumerate(rows):
        if lineage.moves_version(r["type"], json.loads(r["payload"])):
            return _same_side(conn, uid, rows[i:])
    return []


def _effective(conn: Connection, uid: str, upto: int) -> list[dict[str, Any]]:
    """The ticket's events up to local id ``upto`` that take effect: not held, not lost, not a resolution."""
    held = select(_HELD.c.event_id).where(_HELD.c.ticket_uid == uid)
    return [dict(r) for r in conn.execute(select(_E).where(
        _E.c.ticket_uid == uid, _E.c.id <= upto, _E.c.type != RESOLVED, _E.c.event_id.not_in(held))
        .order_by(_E.c.id)).mappings()]


def _rival_branch(conn: Connection, uid: str, before: int, parent: int) -> list[dict[str, Any]]:
    """The other side of the fork: the first effective event that moved the ticket on from version ``parent``,
    and every later effective event of the same node on the ticket (with or without a parent: a follow-up its
    close scheduled belongs to the close). Another node's events before the fork's second side are not in it, so
    either node picks the same events whichever side it holds."""
    rows = _effective(conn, uid, before - 1)
    for i, r in enumerate(rows):
        p = json.loads(r["payload"]).get(PARENT)
        if p is not None and p >= parent:
            return _same_side(conn, uid, rows[i:])
    return []


def _same_side(conn: Connection, uid: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first of ``rows`` and every later one written on the same side (:func:`village_nodes`): a hall's branch
    is continued by whichever counter PC takes the ticket up next (W01 pauses, W03 resumes), so it is the hall's
    nodes' events, not one node's."""
    village = village_nodes(conn, uid)
    side = _side(rows[0]["node_id"], village)
    return [x for x in rows if _side(x["node_id"], village) == side]


def village_nodes(conn: Connection, uid: str) -> frozenset[str]:
    """The nodes on the village's side of ticket ``uid``; every other node that wrote on it is the hall's.

    Derived from what both ends of a sync hold, so the hall and the laptop (and every replay) split a ticket's
    events into the same two sides: the node that registered the ticket (its ``ticket.received``: the laptop, or
    the demo's stand-in for one), and the village laptops — at the hall its enrolled peers (``sync_peers``, a
    projection of the hall's enrolments, which come before anything a laptop sends); on a laptop, where the hall's
    peer table never comes, the nodes that joined a hall there (``sync.joined`` on a laptop's own chain, before
    anything it exports: itself, and an earlier laptop of its point whose chain the hall relays to a replacement).
    A laptop only ever receives the hall-side chains (and its own point's earlier laptops'), and only a ticket's own
    point's laptop sends events on it, so nothing else can be on the village's side."""
    found = set(conn.scalars(select(_P.c.node_id)))
    if not found:  # a laptop (a hall without peers has no sync): among its few events without a ticket (by index)
        found = set(conn.scalars(select(_E.c.node_id).where(_E.c.ticket_uid.is_(None), _E.c.type == peers.JOINED)
                                 .distinct()))
    registered = conn.scalar(select(_E.c.node_id).where(_E.c.ticket_uid == uid, _E.c.type == lineage.RECEIVED)
                             .order_by(_E.c.id).limit(1))
    if registered is not None:
        found.add(registered)
    return frozenset(found)


def _side(node: str, village: frozenset[str]) -> str:
    return "village" if node in village else "hall"


# Tables with a ticket_uid whose rows an event without that ticket creates (an appointment booked before it is
# kept on a ticket): the ticket's own events only update them, and update them again the same way.
NOT_OWNED = frozenset({"appointments"})


def ticket_tables() -> list[Table]:
    """The current-state tables whose rows of one ticket (by ``ticket_uid``) that ticket's events create."""
    skip = {"events", _HELD.name, _C.name, *NOT_OWNED, *LOCAL_TABLES}  # (parked events are no projection)
    return [t for t in Base.metadata.sorted_tables if "ticket_uid" in t.c and t.name not in skip]


def reproject(session: Session, uid: str, upto: int) -> None:
    """Project ticket ``uid`` again from its effective events up to local id ``upto``: every row of the ticket is
    deleted and its events are applied in order through the installed projectors, as a replay would."""
    session.flush()
    session.expunge_all()  # the rows are about to be replaced; nothing loaded may be written back over them
    conn = session.connection()
    for table in reversed(ticket_tables()):
        conn.execute(delete(table).where(table.c.ticket_uid == uid))
    conn.execute(delete(_T).where(_T.c.uid == uid))
    rows = _effective(conn, uid, upto)
    ledger.project(session, rows, [json.loads(r["payload"]) for r in rows], settle=True)
    session.flush()
    session.expunge_all()


# ------------------------------------------------------------------------------------------ resolution
def resolve(session: Session, actor: Actor, conflict_id: str, keep: str, reason: str, *,
            now: datetime | None = None) -> SyncConflict:
    """处理冲突: the manager (or the administrator) keeps the hall's side, the village's, or neither, with a reason;
    one ``sync.conflict_resolved`` event, on the chain of whichever hall PC they sit at.

    The payload says the same whichever PC writes it: the kept branch by its first event's node (``kept_node``, as
    before) and the events the manager saw held on it (``kept_events``, sorted: what the branch listing shows as
    kept on every node, see :func:`view`). The projector keeps the whole side of ``kept_node``
    (:func:`village_nodes`), so a branch two counter PCs continued is kept whole."""
    require_supervisor(actor, "处理同步冲突")
    if actor.role == "village":
        raise ValidationError("处理冲突", "只能在中心处理")
    c = find(session, conflict_id)
    if c.state != "open":
        raise ConflictError(f"该同步冲突已于 {c.resolved_at:%Y-%m-%d %H:%M} 由 {c.resolved_by} 处理")
    if keep not in KEEP_CHOICES:
        raise ValidationError("处理方式", "应为 保留中心的办理、保留村代办点的办理 或 两边都不生效")
    why = free_text(reason, "处理原因", max_len=500, min_len=2)
    conn = session.connection()
    village = village_nodes(conn, c.ticket_uid)
    if actor.node_id in village:  # a laptop's resolution could never reach the hall (its bundles may not carry one)
        raise ValidationError("处理冲突", "只能在中心处理")
    sides = {_side(c.node_a, village): c.node_a, _side(c.node_b, village): c.node_b}
    if keep != "none" and keep not in sides:
        raise ValidationError("处理方式", f"这个冲突的两边都是{'村代办点' if keep == 'hall' else '中心'}的办理，"
                                      "不能按中心与村代办点选择")
    kept = sides.get(keep)
    held = [] if kept is None else sorted(conn.scalars(select(_HELD.c.event_id).where(
        _HELD.c.conflict_id == c.conflict_id, _HELD.c.status == "held")))
    nodes = dict(conn.execute(select(_E.c.event_id, _E.c.node_id).where(_E.c.event_id.in_(held))).all())
    kept_events = [e for e in held if _side(nodes[e], village) == keep]
    ledger.append(session, actor, RESOLVED, {"conflict_id": c.conflict_id, "kept_node": kept, "keep": keep,
                                             "reason": why, "kept_events": kept_events},
                  ticket_uid=c.ticket_uid, at=now)
    return find(session, conflict_id)


@ledger.projector(RESOLVED)
def _project_resolved(session: Session, ev: Event, p: dict[str, Any]) -> None:
    """Release the held events on the kept node's side, keep the other side's as lost, project the ticket again.
    An event written before ``kept_events`` existed projects as it always did: with one hall node on the ticket the
    kept node's side is that node alone."""
    conn = session.connection()
    cid, kept = p["conflict_id"], p["kept_node"]
    done = conn.execute(update(_C).where(_C.c.conflict_id == cid, _C.c.state == "open").values(
        state="resolved", kept_node=kept, reason=p["reason"], resolved_by=ev.actor_name, resolved_at=ev.occurred_at,
        resolution_event=ev.event_id)).rowcount
    if done != 1:
        raise ValueError(f"同步冲突 {cid[:12]} 不存在或已处理")
    held = _HELD.c
    mine = (held.conflict_id == cid, held.status == "held")
    if kept is None:
        conn.execute(update(_HELD).where(*mine).values(status="lost"))
    else:
        village = sorted(village_nodes(conn, ev.ticket_uid))  # type: ignore[arg-type]
        on_village = held.node_id.in_(village)
        lost = ~on_village if kept in village else on_village
        conn.execute(update(_HELD).where(*mine, lost).values(status="lost"))
        conn.execute(delete(_HELD).where(*mine))
    upto = conn.scalar(select(_E.c.id).where(_E.c.event_id == ev.event_id))
    reproject(session, ev.ticket_uid, upto)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ reading
@dataclass(frozen=True)
class BranchLine:
    """One event of a branch as the manager sees it: who, what, when, and whether it takes effect."""

    event_id: str
    at: datetime
    who: str
    role: str
    what: str
    status: str  # held | lost | applied

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, "已生效")


@dataclass(frozen=True)
class ConflictView:
    conflict_id: str
    ticket_uid: str
    number: str
    item_name: str
    state: str
    parent_version: int
    found_at: datetime
    node_a: str
    node_b: str
    side_a: str  # 中心 / 代办点 001
    side_b: str
    kept_node: str | None
    reason: str
    resolved_by: str
    resolved_at: datetime | None
    branch_a: tuple[BranchLine, ...] = ()
    branch_b: tuple[BranchLine, ...] = ()

    @property
    def short_id(self) -> str:
        return self.conflict_id[:12]

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def outcome(self) -> str:
        if self.is_open:
            return "待中心主任处理"
        if self.kept_node is None:
            return "两边都不生效"
        side = self.side_a if self.kept_node == self.node_a else self.side_b
        return f"保留{side}{' ' if side[-1:].isdigit() else ''}的办理"


def is_conflicted(session: Session, ticket_uid: str) -> bool:
    """The ticket has an open sync conflict (it is frozen; the 同步 screen's 冲突 state)."""
    return session.scalar(select(_C.c.conflict_id).where(_C.c.ticket_uid == ticket_uid, _C.c.state == "open")
                          .limit(1)) is not None


def conflicted_uids(session: Session) -> set[str]:
    """Every ticket with an open sync conflict (for a sync-state column over a page of tickets)."""
    return set(session.scalars(select(_C.c.ticket_uid).where(_C.c.state == "open")))


def find(session: Session, conflict_id: str) -> SyncConflict:
    """The conflict of ``conflict_id`` or of a unique prefix of it (the CLI shows the first 12 characters)."""
    key = (conflict_id or "").strip().lower()
    if len(key) < 6:
        raise ValidationError("冲突编号", "至少输入前 6 位")
    found = list(session.scalars(select(SyncConflict).where(SyncConflict.conflict_id.startswith(key)).limit(2)))
    if not found:
        raise NotFound(f"同步冲突“{key}”不存在")
    if len(found) > 1:
        raise ValidationError("冲突编号", "有多个冲突以此开头，请多输入几位")
    return found[0]


def _label(node: str, village: frozenset[str], point: str | None) -> str:
    """A side as the manager names it: 中心 (any of the hall's PCs), or the village point."""
    if node not in village:
        return "中心"
    return f"代办点 {point}" if point and point != lineage.HALL_POINT else f"终端 {node[:8]}"


def view(session: Session, c: SyncConflict, *, with_branches: bool = True) -> ConflictView:
    """The conflict as the manager sees it, the same on the hall and the laptop: each side's branch is its held
    and lost events under this conflict (rows both nodes agree on) and, once resolved, the events the resolution
    kept — by the list it carries, not by what either node stored before it (a village event written before the
    laptop heard of the resolution is stored before it on the laptop, after it at the hall). Lines in the order they
    were written (time, then node and seq): the same on every node."""
    conn = session.connection()
    village = village_nodes(conn, c.ticket_uid)
    t = session.execute(select(_T.c.number, _T.c.item_name, _T.c.intake_point).where(_T.c.uid == c.ticket_uid)
                        ).first()
    number, item, point = (t[0], t[1], t[2]) if t else ("", "", None)
    a: list[BranchLine] = []
    b: list[BranchLine] = []
    if with_branches:
        status = dict(session.execute(select(_HELD.c.event_id, _HELD.c.status).where(
            _HELD.c.conflict_id == c.conflict_id)).all())
        kept = _kept_events(session, c, village) if c.state == "resolved" and c.kept_node else set()
        rows = session.execute(select(_E).where(_E.c.event_id.in_(sorted({*status, *kept})))).mappings()
        side_a = _side(c.node_a, village)
        for r in sorted(rows, key=lambda r: (r["occurred_at"], r["node_id"], r["seq"])):
            line = BranchLine(r["event_id"], r["occurred_at"], r["actor_name"], r["actor_role"],
                              describe(r["type"], json.loads(r["payload"])), status.get(r["event_id"], "applied"))
            (a if _side(r["node_id"], village) == side_a else b).append(line)
    return ConflictView(c.conflict_id, c.ticket_uid, number, item, c.state, c.parent_version, c.found_at, c.node_a,
                        c.node_b, _label(c.node_a, village, point), _label(c.node_b, village, point),
                        c.kept_node, c.reason, c.resolved_by, c.resolved_at, tuple(a), tuple(b))


def _kept_events(session: Session, c: SyncConflict, village: frozenset[str]) -> set[str]:
    """The kept branch's events (released, they no longer have a held row): as the resolution lists them; for one
    written before it listed them, the kept side's events from the branch's first one up to the resolution, as this
    node stored them (with one hall node, what the hall held)."""
    p = json.loads(session.scalar(select(_E.c.payload).where(_E.c.event_id == c.resolution_event)) or "{}")
    if "kept_events" in p:
        return set(p["kept_events"])
    first = c.event_a if c.kept_node == c.node_a else c.event_b
    start = session.scalar(select(_E.c.id).where(_E.c.event_id == first))
    end = session.scalar(select(_E.c.id).where(_E.c.event_id == c.resolution_event)) if c.resolution_event else None
    if start is None:
        return set()
    q = select(_E.c.event_id, _E.c.node_id, _E.c.payload).where(
        _E.c.ticket_uid == c.ticket_uid, _E.c.id >= start, _E.c.type != RESOLVED)
    if end is not None:
        q = q.where(_E.c.id < end)
    side = _side(c.kept_node, village)  # type: ignore[arg-type]
    out = set()
    for r in session.execute(q):
        parent = json.loads(r.payload).get(PARENT)
        if _side(r.node_id, village) == side and parent is not None and parent >= c.parent_version:
            out.add(r.event_id)
    return out


def listing(session: Session, *, open_only: bool = True, with_branches: bool = False) -> list[ConflictView]:
    """The sync conflicts, newest first (open ones only unless ``open_only`` is false)."""
    q = select(SyncConflict).order_by(SyncConflict.found_at.desc(), SyncConflict.conflict_id)
    if open_only:
        q = q.where(SyncConflict.state == "open")
    return [view(session, c, with_branches=with_branches) for c in session.scalars(q)]


def of_ticket(session: Session, ticket_uid: str) -> list[ConflictView]:
    """The ticket's conflicts (open first, then resolved, newest first), with both branches."""
    rows = session.scalars(select(SyncConflict).where(SyncConflict.ticket_uid == ticket_uid).order_by(
        SyncConflict.state, SyncConflict.found_at.desc()))
    return [view(session, c) for c in rows]


def event_status(session: Session, ticket_uid: str) -> dict[str, str]:
    """Event id -> ``held`` / ``lost`` for the ticket's events that do not take effect (history labels)."""
    return dict(session.execute(select(_HELD.c.event_id, _HELD.c.status).where(_HELD.c.ticket_uid == ticket_uid)
                                ).all())


def open_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(_C).where(_C.c.state == "open")) or 0)
