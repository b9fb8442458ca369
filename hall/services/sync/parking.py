"""Parking (暂存): verified events that cannot apply yet wait in ``sync_parked`` until what they depend on is here.

An import checks everything first (hall/services/sync/exchange.py): decryption, the signature of an enrolled
unrevoked peer, the content hash, the schema, every hash re-computed, overlaps byte-identical. Of the events that
passed, those that continue what is stored apply as before; the rest wait, verbatim, with the bundle that carried
them and what they wait for:

- **前序事件** — a chain segment that does not connect to the stored head (a ``--since`` bundle imported before
  the earlier one);
- **办件** — an event on a ticket this node does not hold yet (a laptop given the hall's events on a ticket an
  earlier laptop of its point registered);
- **工作人员 / 事项** — an event whose projector names a staff member or an item that is not here yet
  (:class:`~hall.services.storage.identity.MissingReference`);
- **办件版本** — a ticket event based on a version of its ticket that is not here yet
  (:class:`~hall.services.sync.conflicts.MissingParent`).

Nothing is ever force-applied. On a chain this node holds whole (the hall holding a laptop's chain) an event that
waits holds back the rest of its chain, so the events table never has a gap; on a chain held in part (a laptop
holding the hall's), only the later events of the same ticket wait with it. After every import the parked rows are
tried again in chain order until nothing more applies, in the import's own transaction, so bundles imported in
any order end in the same state. A parked event that has meanwhile been stored (same event id, identical bytes)
is dropped from parking; one that differs from what is stored or from what arrives for its place is a fork, and
the import is refused.

``sync_parked`` is local bookkeeping like ``sync_exchanges``: not a projection, not in a digest, left alone by
``ledger check`` and rebuild.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hall.models import Event, NodeHead, Ticket
from hall.models.sync import SyncParked
from hall.services.storage import identity, ledger
from hall.services.sync.bundle import BundleRejected
from hall.services.sync.conflicts import MissingParent

_EVENTS = Event.__table__
_PARKED = SyncParked.__table__
COLUMNS = tuple(c.name for c in _EVENTS.columns if c.name != "id")
CREATES_TICKET = frozenset({"ticket.received"})
_CHUNK = 500

# What stores and projects a run of one chain's events (in chain order): exchange._store. It raises
# :class:`NotYet` for the event that cannot apply yet, anything else for a refusal.
Store = Callable[[str, list[dict[str, Any]]], None]


class NotYet(Exception):
    """Raised from inside a store for the event whose projector found something absent; the store is undone."""

    def __init__(self, row: dict[str, Any], waits_for: str) -> None:
        super().__init__(waits_for)
        self.node_id, self.seq, self.waits_for = row["node_id"], row["seq"], waits_for


def waits_for(exc: BaseException) -> str | None:
    """What a projector's error says is absent (``None``: a real failure, not something to wait for)."""
    if isinstance(exc, identity.MissingReference | MissingParent):
        return exc.waits_for
    return None


@dataclass(frozen=True)
class Wait:
    """One reason rows wait, for the result and the 同步 screen: a chain, a range of its seqs, and why."""

    node_id: str
    first_seq: int
    last_seq: int
    count: int
    reason: str

    @property
    def text(self) -> str:
        return f"{self.count} 条{self.reason}"


@dataclass
class Outcome:
    applied: list[dict[str, Any]] = field(default_factory=list)  # what entered the ledger, in the order it did
    released: int = 0  # of those, how many had waited in parking before this import
    parked: int = 0  # of the bundle's events, how many wait now
    waits: tuple[Wait, ...] = ()  # everything that waits after this import

    @property
    def waiting(self) -> str:
        return describe(self.waits)


def describe(waits: tuple[Wait, ...]) -> str:
    """What waits, in plain words: the one reason, or each reason with its count."""
    if len(waits) == 1:
        return waits[0].reason
    return "；".join(w.text for w in waits)


# An event's place, (node, seq): one C call (an import keys its ten thousand events by it several times over).
_key: Callable[[dict[str, Any]], tuple[str, int]] = itemgetter("node_id", "seq")


def _as_json(row: Any) -> dict[str, Any]:
    d = {name: row[name] for name in COLUMNS}
    if isinstance(d["occurred_at"], datetime):
        d["occurred_at"] = d["occurred_at"].isoformat(timespec="microseconds")
    return d


def _fork(node: str, seq: int, what: str) -> BundleRejected:
    return BundleRejected(f"分叉：终端 {node[:8]} 第 {seq} 号事件与本机{what}的不同。已停止导入，请报告系统管理员",
                          "fork")


def settle(session: Session, store: Store, *, sender: str, bundle_id: str, incoming: list[dict[str, Any]],
           arrived: list[dict[str, Any]] | tuple[()] = (), sparse: bool) -> Outcome:
    """Apply what of ``incoming`` (the bundle's verified events not stored yet) and of the parked rows can apply,
    chain by chain in chain order, until nothing more does; park the rest. ``arrived``: every event of the bundle,
    compared with the parked row of its place (identical, or the import is refused as a fork)."""
    rows = session.execute(select(_PARKED)).mappings().all()
    parked = {_key(d): d for d in map(_as_json, rows)}
    old_reasons = {(r["node_id"], r["seq"]): r["reason"] for r in rows}
    for e in arrived:
        have = parked.get(_key(e))
        if have is not None and have != e:
            raise _fork(e["node_id"], e["seq"], "暂存")
    pool = dict(parked)
    for e in incoming:
        pool.setdefault(_key(e), e)
    out = Outcome()
    if not pool:
        return out
    _drop_stored(session, pool, parked)
    reasons: dict[tuple[str, int], str] = {}
    progress = True
    # On a laptop the hall's file holds parts of several hall-side chains (a counter PC each) in the order the hall
    # applied them (a pause on one PC between a start and a resume on another): that order, as one sequence, the
    # events parked before it first. At the hall, each chain by itself in chain order.
    order = {_key(e): i for i, e in enumerate(incoming)}
    while progress and pool:
        progress = False
        reasons = {}
        if sparse:
            groups = [(sender, sorted(pool.values(), key=lambda e: (order.get(_key(e), -1), e["node_id"], e["seq"])))]
        else:
            groups = [(node, sorted((e for k, e in pool.items() if k[0] == node), key=lambda e: e["seq"]))
                      for node in sorted({n for n, _s in pool})]
        for node, chain in groups:
            ready = _ready(session, node, chain, sparse, reasons)
            done = _try(session, store, node, ready, sparse, reasons)
            for e in done:
                del pool[_key(e)]
            out.applied.extend(done)
            progress = progress or bool(done)
    out.released = sum(1 for e in out.applied if _key(e) in parked)
    _write(session, parked, pool, reasons, old_reasons, sender=sender, bundle_id=bundle_id)
    incoming_keys = {_key(e) for e in (*incoming, *arrived)}
    out.parked = sum(1 for k in pool if k in incoming_keys)
    out.waits = summary(session)
    return out


def _drop_stored(session: Session, pool: dict[tuple[str, int], dict[str, Any]],
                 parked: dict[tuple[str, int], dict[str, Any]]) -> None:
    """Parked rows whose place the events table already holds: dropped when identical, a fork when not. (The
    bundle's own new events were placed against what is stored by the import's checks.)"""
    for node in {n for n, _s in parked}:
        seqs = sorted(s for n, s in parked if n == node)
        for start in range(0, len(seqs), _CHUNK):
            part = seqs[start:start + _CHUNK]
            for r in session.execute(select(*[_EVENTS.c[n] for n in COLUMNS]).where(
                    _EVENTS.c.node_id == node, _EVENTS.c.seq.in_(part))).mappings():
                stored = _as_json(r)
                if pool[_key(stored)] != stored:
                    raise _fork(node, stored["seq"], "已有")
                del pool[_key(stored)]


def _head(session: Session, node: str) -> tuple[int, str]:
    head = session.get(NodeHead, node)
    return (head.seq, head.hash) if head is not None else (0, ledger.GENESIS)


def _ready(session: Session, node: str, chain: list[dict[str, Any]], sparse: bool,
           reasons: dict[tuple[str, int], str]) -> list[dict[str, Any]]:
    """The events of ``chain`` (one node's pooled events, in seq order) whose dependencies are visibly here: the
    segment continuing the stored head (a whole chain) and, of those, the ones whose ticket is here or born
    before them. Why each of the others waits goes into ``reasons``."""
    if sparse:
        ready = chain
    else:
        seq, digest = _head(session, node)
        ready = []
        for e in chain:
            if e["seq"] != seq + 1:
                break
            if e["prev_hash"] != digest:
                raise _fork(node, e["seq"], "已有")  # it claims the place after the stored head with another link
            ready.append(e)
            seq, digest = e["seq"], e["hash"]
        if len(ready) < len(chain):
            first = chain[len(ready)]["seq"]
            gap = f"等待前序事件：终端 {node[:8]} 第 {seq + 1}–{first - 1} 号" if first > seq + 2 else \
                f"等待前序事件：终端 {node[:8]} 第 {seq + 1} 号"
            for e in chain[len(ready):]:
                reasons[_key(e)] = gap
    return _tickets_here(session, node, ready, sparse, reasons)


def _tickets_here(session: Session, node: str, ready: list[dict[str, Any]], sparse: bool,
                  reasons: dict[tuple[str, int], str]) -> list[dict[str, Any]]:
    # Only the tickets not born earlier in ``ready`` are looked up (a village's on-the-spot ticket and its close
    # arrive together): for the others the loop below never asks ``have``.
    wanted_set: set[str] = set()
    born_before: set[str] = set()
    for e in ready:
        uid = e["ticket_uid"]
        if uid is None:
            continue
        if e["type"] in CREATES_TICKET:
            born_before.add(uid)
        elif uid not in born_before:
            wanted_set.add(uid)
    wanted = sorted(wanted_set)
    have: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        have.update(session.scalars(select(Ticket.uid).where(Ticket.uid.in_(wanted[start:start + _CHUNK]))))
    born: set[str] = set()
    blocked: set[str] = set()
    out = []
    for i, e in enumerate(ready):
        uid = e["ticket_uid"]
        if uid is not None and e["type"] in CREATES_TICKET:
            born.add(uid)
        if uid is not None and (uid in blocked or (uid not in have and uid not in born)):
            why = f"等待办件 {uid[:8]}"
            if not sparse:
                _hold_rest(node, ready[i:], why, reasons)
                return out
            blocked.add(uid)
            reasons[_key(e)] = why
            continue
        out.append(e)
    return out


def _hold_rest(node: str, rest: list[dict[str, Any]], why: str, reasons: dict[tuple[str, int], str]) -> None:
    """A whole chain waits at its first unready event: the ones after it wait for that one."""
    reasons[_key(rest[0])] = why
    for e in rest[1:]:
        reasons[_key(e)] = f"等待前序事件：终端 {node[:8]} 第 {rest[0]['seq']} 号（{why}）"


def _try(session: Session, store: Store, node: str, ready: list[dict[str, Any]], sparse: bool,
         reasons: dict[tuple[str, int], str]) -> list[dict[str, Any]]:
    """Store ``ready`` in a savepoint; returns what was stored. When an event turns out to wait, what comes before
    it is stored alone; the event itself is tried alone (a set-based projector names only the first event of its
    run), and only when it fails alone is it held — on a whole chain with the rest of the chain, on a chain held in
    part with the later events of its ticket."""
    while ready:
        wait = _attempt(session, store, node, ready)
        if wait is None:
            return ready
        at = next(i for i, e in enumerate(ready) if _key(e) == (wait.node_id, wait.seq))
        if at:
            ready = ready[:at]  # it applied before the failing run began: on its own it applies
            continue
        if len(ready) > 1:
            alone = _attempt(session, store, node, ready[:1])
            if alone is None:
                return ready[:1]
            wait = alone
        why = f"等待{wait.waits_for}"
        if not sparse:
            _hold_rest(node, ready, why, reasons)
            return []
        uid = ready[0]["ticket_uid"]
        reasons[_key(ready[0])] = why
        later = [e for e in ready[1:] if uid is not None and e["ticket_uid"] == uid]
        for e in later:
            reasons[_key(e)] = f"等待同一办件的第 {ready[0]['seq']} 号事件（{why}）"
        skip = {_key(ready[0]), *map(_key, later)}
        ready = [e for e in ready if _key(e) not in skip]
    return []


def _attempt(session: Session, store: Store, node: str, rows: list[dict[str, Any]]) -> NotYet | None:
    """``store(rows)`` in a savepoint: kept when it succeeds, undone (and the wait returned) when one waits."""
    savepoint = session.begin_nested()
    try:
        store(node, rows)
    except NotYet as wait:
        savepoint.rollback()
        # What the rolled-back store taught the id cache may name rows that no longer exist.
        session.info.pop(identity._PENDING, None)
        session.expire_all()
        return wait
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return None


def _write(session: Session, parked: dict[tuple[str, int], dict[str, Any]], pool: dict[tuple[str, int], Any],
           reasons: dict[tuple[str, int], str], old_reasons: dict[tuple[str, int], str], *, sender: str,
           bundle_id: str) -> None:
    gone = [k for k in parked if k not in pool]
    conn = session.connection()
    for node in {n for n, _s in gone}:
        seqs = [s for n, s in gone if n == node]
        for start in range(0, len(seqs), _CHUNK):
            conn.execute(delete(_PARKED).where(_PARKED.c.node_id == node,
                                               _PARKED.c.seq.in_(seqs[start:start + _CHUNK])))
    for k in pool:
        if k in parked and reasons.get(k, old_reasons.get(k)) != old_reasons.get(k):
            conn.execute(_PARKED.update().where(_PARKED.c.node_id == k[0], _PARKED.c.seq == k[1])
                         .values(reason=reasons[k]))
    now = datetime.now()
    fresh = [{**pool[k], "sender": sender, "bundle_id": bundle_id, "reason": reasons.get(k, "等待前序事件"),
              "parked_at": now} for k in sorted(pool) if k not in parked]
    if fresh:
        conn.execute(_PARKED.insert(), fresh)


# ------------------------------------------------------------------------------------------------ reading it back
def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(_PARKED)) or 0)


def summary(session: Session) -> tuple[Wait, ...]:
    """What waits, grouped by chain and reason, each group's seq range and size (a few rows: one grouped query)."""
    p = _PARKED.c
    rows = session.execute(select(p.node_id, p.reason, func.min(p.seq), func.max(p.seq), func.count())
                           .group_by(p.node_id, p.reason).order_by(p.node_id, func.min(p.seq)))
    return tuple(Wait(node, lo, hi, n, reason) for node, reason, lo, hi, n in rows)


@dataclass(frozen=True)
class ParkedLine:
    node_id: str
    seq: int
    type: str
    label: str
    reason: str
    parked_at: datetime


def listing(session: Session, limit: int = 200) -> tuple[ParkedLine, ...]:
    """The parked events in chain order (``hall-admin sync parked``)."""
    from hall.services.tickets.record import EVENT_LABELS

    p = _PARKED.c
    rows = session.execute(select(p.node_id, p.seq, p.type, p.reason, p.parked_at).order_by(p.node_id, p.seq)
                           .limit(limit))
    return tuple(ParkedLine(n, s, t, EVENT_LABELS.get(t, t), r, at) for n, s, t, r, at in rows)
