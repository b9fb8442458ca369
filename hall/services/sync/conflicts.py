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
- its ``parent_head`` is an effective event another event moved the ticket on from: a fork. That event and its
  node's later events on the ticket (the rival branch) and this one are held, a conflict record is written, keyed
  by the ticket, the parent version and the sorted pair of the two branches' first event hashes, and the ticket
  is projected again from its events without the held ones (:func:`reproject`) — it is frozen at the fork point.
  The same two events make the same record on either node, whichever arrives first, and a replay (``ledger check``
  / rebuild) derives it again the same way.

An event without ``parent_head`` (written before it existed) is judged by its integer as before: its parent is the
ticket's version, it applies; older, a fork; after a resolution, one of the branch that was not kept that does not
fit the ticket's version is kept as ``lost``.

Only the manager (or the administrator) resolves a conflict: one ``sync.conflict_resolved`` event on the hall's
chain, naming the kept node (or none) and the reason. Its projector releases the kept branch's held events, marks
the others ``lost`` and projects the ticket again, now with the kept branch. It travels to the laptop in the next
return bundle (it carries the ticket's uid) and the laptop converges the same way.

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
    for c in conn.execute(select(_C).where(_C.c.ticket_uid == uid, _C.c.state == "resolved",
                                           _C.c.parent_version <= parent)).mappings():
        if row["node_id"] in (c["node_a"], c["node_b"]) and row["node_id"] != c["kept_node"]:
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
            return [x for x in rows[i:] if x["node_id"] == r["node_id"]]
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
            return [x for x in rows[i:] if x["node_id"] == r["node_id"]]
    return []


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
            hall_node: str, now: datetime | None = None) -> SyncConflict:
    """处理冲突: the manager (or the administrator) keeps the hall's branch, the village's, or neither, with a
    reason; one ``sync.conflict_resolved`` event on the hall's chain (``hall_node``: this hall's node id)."""
    require_supervisor(actor, "处理同步冲突")
    if actor.role == "village":
        raise ValidationError("处理冲突", "只能在中心处理")
    c = find(session, conflict_id)
    if c.state != "open":
        raise ConflictError(f"该同步冲突已于 {c.resolved_at:%Y-%m-%d %H:%M} 由 {c.resolved_by} 处理")
    if keep not in KEEP_CHOICES:
        raise ValidationError("处理方式", "应为 保留中心的办理、保留村代办点的办理 或 两边都不生效")
    why = free_text(reason, "处理原因", max_len=500, min_len=2)
    nodes = (c.node_a, c.node_b)
    if keep == "none":
        kept = None
    elif keep == "hall":
        if hall_node not in nodes:
            raise ValidationError("处理方式", "这个冲突的两边都不是中心的办理，请选择保留哪个终端的办理")
        kept = hall_node
    else:
        others = [n for n in nodes if n != hall_node]
        kept = others[0]
    ledger.append(session, actor, RESOLVED, {"conflict_id": c.conflict_id, "kept_node": kept, "keep": keep,
                                             "reason": why}, ticket_uid=c.ticket_uid, at=now)
    return find(session, conflict_id)


@ledger.projector(RESOLVED)
def _project_resolved(session: Session, ev: Event, p: dict[str, Any]) -> None:
    conn = session.connection()
    cid, kept = p["conflict_id"], p["kept_node"]
    done = conn.execute(update(_C).where(_C.c.conflict_id == cid, _C.c.state == "open").values(
        state="resolved", kept_node=kept, reason=p["reason"], resolved_by=ev.actor_name, resolved_at=ev.occurred_at,
        resolution_event=ev.event_id)).rowcount
    if done != 1:
        raise ValueError(f"同步冲突 {cid[:12]} 不存在或已处理")
    held = _HELD.c
    conn.execute(update(_HELD).where(held.conflict_id == cid, held.status == "held",
                                     held.node_id != (kept or "")).values(status="lost"))
    conn.execute(delete(_HELD).where(held.conflict_id == cid, held.status == "held"))
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


def _side(session: Session, node: str, hall_node: str | None) -> str:
    if node == hall_node:
        return "中心"
    peer = session.get(SyncPeer, node)
    if peer is not None:
        return f"代办点 {peer.intake_point}"
    point = session.scalar(select(_T.c.intake_point).where(_T.c.node_id == node).limit(1))
    return f"代办点 {point}" if point and point != "000" else f"终端 {node[:8]}"


def _hall_node(session: Session) -> str | None:
    """The hall's node: the one that wrote the peers' enrolment (on a laptop, its join names the hall)."""
    found = session.scalar(select(_E.c.node_id).where(_E.c.type.in_(("sync.peer_enrolled", "catalog.imported")))
                           .order_by(_E.c.id).limit(1))
    return found


def view(session: Session, c: SyncConflict, *, with_branches: bool = True) -> ConflictView:
    hall_node = _hall_node(session)
    t = session.execute(select(_T.c.number, _T.c.item_name).where(_T.c.uid == c.ticket_uid)).first()
    number, item = (t[0], t[1]) if t else ("", "")
    a: list[BranchLine] = []
    b: list[BranchLine] = []
    if with_branches:
        status = dict(session.execute(select(_HELD.c.event_id, _HELD.c.status).where(
            _HELD.c.conflict_id == c.conflict_id)).all())
        kept = _kept_events(session, c) if c.state == "resolved" and c.kept_node else set()
        for r in session.execute(select(_E).where(_E.c.ticket_uid == c.ticket_uid, _E.c.type != RESOLVED)
                                 .order_by(_E.c.id)).mappings():
            p = json.loads(r["payload"])
            parent = p.get(PARENT)
            in_branch = r["event_id"] in status or (
                r["event_id"] in kept and parent is not None and parent >= c.parent_version)
            if not in_branch:
                continue
            line = BranchLine(r["event_id"], r["occurred_at"], r["actor_name"], r["actor_role"],
                              describe(r["type"], p), status.get(r["event_id"], "applied"))
            (a if r["node_id"] == c.node_a else b).append(line)
    return ConflictView(c.conflict_id, c.ticket_uid, number, item, c.state, c.parent_version, c.found_at, c.node_a,
                        c.node_b, _side(session, c.node_a, hall_node), _side(session, c.node_b, hall_node),
                        c.kept_node, c.reason, c.resolved_by, c.resolved_at, tuple(a), tuple(b))


def _kept_events(session: Session, c: SyncConflict) -> set[str]:
    """The kept branch's events: its first event and what that node wrote on the ticket after it, up to the
    resolution (they no longer have a held row once released)."""
    first = c.event_a if c.kept_node == c.node_a else c.event_b
    start = session.scalar(select(_E.c.id).where(_E.c.event_id == first))
    end = session.scalar(select(_E.c.id).where(_E.c.event_id == c.resolution_event)) if c.resolution_event else None
    if start is None:
        return set()
    q = select(_E.c.event_id).where(_E.c.ticket_uid == c.ticket_uid, _E.c.node_id == c.kept_node,
                                    _E.c.id >= start)
    if end is not None:
        q = q.where(_E.c.id < end)
    return set(session.scalars(q))


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
