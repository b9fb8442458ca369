"""The ledger: every mutation is an event, appended to this node's hash chain and projected at once.

Projections (current-state tables) are updated by the projector of the event type, inside the same transaction, so
the ticket tables never disagree with the history. Which projector that is comes from the :class:`Projections`
installed on the database when it was opened (:mod:`hall.services.projections`), never from import order; an event
type without one is refused before anything is written. Sync imports other nodes' events through the same
projectors.

Events name people and items by stable ids (a staff uid; a catalogue version uid and item code), never by a row id
of one database; the hashed header names the actor by uid too (format 2, :data:`FORMAT`). Release 1's events
(format 1, actor by row id) verify as they were written and replay through what the upgrade froze
(hall/models/legacy.py, hall/services/storage/identity.py).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from json.encoder import encode_basestring
from json.scanner import c_make_scanner  # type: ignore[attr-defined]
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from hall.errors import ConflictError, HallError
from hall.models import Event, NodeHead
from hall.models.sync import SyncConflict, SyncExchange, SyncParked
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_may_write
from hall.services.storage import changes

GENESIS = "0" * 64

Projector = Callable[[Session, Event, dict[str, Any]], None]
# A set-based projector applies many events of one type at once: ``rows`` are the stored event rows (dicts of the
# events table's columns) in sequence order, ``payloads`` their stored JSON loaded back. It must leave the
# projections exactly as the one-event projector applied in the same order would (tests compare both).
BulkProjector = Callable[[Session, list[dict[str, Any]], list[dict[str, Any]]], None]
# What a folding set-based projector (``bulk_projector(..., folds=…)``) is given beside each of its events: the
# ticket's next event (its stored row and payload) when that is of the type it folds in, otherwise None.
Then = list[tuple[Mapping[str, Any], dict[str, Any]] | None]

_PROJECTS = "__hall_projects__"
_PROJECTS_MANY = "__hall_projects_many__"
_FOLDS = "__hall_folds__"


def projector(event_type: str) -> Callable[[Projector], Projector]:
    """Mark the function that applies ``event_type`` to the current-state tables.

    Marking registers nothing: :func:`hall.services.projections.build` collects the marked functions of the
    modules it lists into one :class:`Projections`, which is installed on the database when it is opened. So what
    a session projects never depends on which modules happened to be imported."""

    def mark(fn: Projector) -> Projector:
        setattr(fn, _PROJECTS, (*getattr(fn, _PROJECTS, ()), event_type))
        return fn

    return mark


def bulk_projector(event_type: str, *, folds: str | None = None) -> Callable[[BulkProjector], BulkProjector]:
    """Mark the set-based twin of ``event_type``'s projector, used by :func:`append_many`.

    ``folds``: an event type the function can fold in. When events are projected per ticket (:func:`project`) and
    a ticket's event of ``event_type`` is followed by its next event of type ``folds``, that event is not projected
    on its own: it is given to this function beside the first (keyword ``then``, a :data:`Then` aligned with the
    rows), which writes the ticket's rows once as they stand after both — exactly what the two projectors in order
    leave (an intake's INSERT carrying its on-the-spot close, instead of an INSERT and then an UPDATE). An error of a
    folded event is raised as :class:`Folded`, naming that event."""

    def mark(fn: BulkProjector) -> BulkProjector:
        setattr(fn, _PROJECTS_MANY, (*getattr(fn, _PROJECTS_MANY, ()), event_type))
        if folds is not None:
            setattr(fn, _FOLDS, {**getattr(fn, _FOLDS, {}), event_type: folds})
        return fn

    return mark


def marked(fn: object) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The event types ``fn`` was marked to project, one at a time and set-based."""
    return getattr(fn, _PROJECTS, ()), getattr(fn, _PROJECTS_MANY, ())


def folds_of(fn: object) -> dict[str, str]:
    """For each event type ``fn`` projects set-based, the type of a ticket's next event it folds in (if any)."""
    return dict(getattr(fn, _FOLDS, {}))


class Folded(Exception):
    """The error of an event a set-based projector folded in (see :func:`bulk_projector`), with that event's row,
    so the import or replay names the event that failed, not the one it was folded into."""

    def __init__(self, row: Mapping[str, Any], error: Exception) -> None:
        super().__init__(str(error))
        self.row = row
        self.error = error


class UnknownEventType(HallError):
    """An event type this program has no projection for: appending it, or applying it from a replay or a sync."""

    def __init__(self, event_type: str) -> None:
        super().__init__(f"台账事件类型“{event_type}”在本程序中没有对应的处理（程序版本过旧或台账来自未知来源），"
                         "已停止写入，数据库未改动")
        self.event_type = event_type


class ProjectionsNotInstalled(RuntimeError):
    """A session of a database opened without :func:`hall.services.projections.install` — a programming error."""


@dataclass(frozen=True)
class Projections:
    """Every event type this program knows and what applies it: one projector each, an optional set-based twin,
    and the types that are only recorded (an audit line such as a printed paper changes no table)."""

    one: Mapping[str, Projector]
    many: Mapping[str, BulkProjector]
    recorded_only: frozenset[str]
    # A set-based projector's event type -> the type of a ticket's next event it folds in (bulk_projector's folds).
    folds: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        both = self.recorded_only & set(self.one)
        if both:
            raise ValueError(f"both projected and recorded only: {sorted(both)}")
        stray = set(self.many) - set(self.one)
        if stray:
            raise ValueError(f"set-based projector without a one-event projector: {sorted(stray)}")
        loose = {t for t, nxt in self.folds.items() if t not in self.many or nxt not in self.one}
        if loose:
            raise ValueError(f"folding without a set-based projector or a projector of what it folds: {sorted(loose)}")

    @property
    def types(self) -> frozenset[str]:
        return frozenset(self.one) | self.recorded_only

    def require(self, event_type: str) -> None:
        if event_type not in self.one and event_type not in self.recorded_only:
            raise UnknownEventType(event_type)

    def apply(self, session: Session, ev: Event, payload: dict[str, Any]) -> None:
        fn = self.one.get(ev.type)
        if fn is not None:
            fn(session, ev, payload)
        elif ev.type not in self.recorded_only:
            raise UnknownEventType(ev.type)


SESSION_KEY = "hall.projections"


def projections_of(session: Session) -> Projections:
    """The projections installed on the database this session belongs to."""
    found = session.info.get(SESSION_KEY)
    if found is None:
        raise ProjectionsNotInstalled("open the database through hall.services.bootstrap.open_hall, or install "
                                      "hall.services.projections on it, before appending or applying events")
    return found


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# What json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_json_default) does,
# without building a new encoder on every call (most of its cost for small payloads): the same text.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_json_default)


def canonical(payload: dict[str, Any]) -> str:
    return _ENCODER.encode(payload)


_SCAN = c_make_scanner(json.JSONDecoder()) if c_make_scanner is not None else None


def loads(text: str) -> Any:
    """``json.loads(text)`` for a stored payload: the decoder's own scanner called at once, without the wrappers
    that look for whitespace around it (a canonical payload has none; one that has, or that does not parse, goes
    through json.loads, which gives the value or raises its error). A sync import loads ten thousand at a time."""
    if _SCAN is not None:
        try:
            value, end = _SCAN(text, 0)
        except (StopIteration, ValueError):
            return json.loads(text)
        if end == len(text):
            return value
    return json.loads(text)


# The header format new events are written in. 1 (release 1): the header names the actor by ``actor_id``, this
# database's staff.id. 2: by ``actor_uid``, the stable staff uid, and the header carries ``"v": 2`` itself, so an
# event cannot be passed off as the other format without its hash breaking. Both verify; only 2 is written.
FORMAT = 2
FORMATS = (1, 2)


def event_hash(prev_hash: str, *, event_id: str, node_id: str, seq: int, actor_id: int | None,
               actor_name: str, actor_role: str, occurred_at: datetime, type: str,
               ticket_uid: str | None, payload: str, format: int = 1, actor_uid: str | None = None) -> str:
    return event_hash_at(prev_hash, occurred_at.isoformat(timespec="microseconds"), event_id=event_id,
                         node_id=node_id, seq=seq, actor_id=actor_id, actor_name=actor_name, actor_role=actor_role,
                         type=type, ticket_uid=ticket_uid, payload=payload, format=format, actor_uid=actor_uid)


def event_hash_at(prev_hash: str, at: str, *, event_id: str, node_id: str, seq: int, actor_id: int | None,
                  actor_name: str, actor_role: str, type: str, ticket_uid: str | None, payload: str, format: int = 1,
                  actor_uid: str | None = None) -> str:
    """:func:`event_hash` with the time as its hashed text, ``at`` (``occurred_at.isoformat(timespec=
    "microseconds")``): for a sync import, which holds that text and has checked it is that."""
    if format == 1:
        head = canonical({
            "event_id": event_id, "node_id": node_id, "seq": seq, "actor_id": actor_id, "actor_name": actor_name,
            "actor_role": actor_role, "occurred_at": at, "type": type, "ticket_uid": ticket_uid,
        })
    elif format == 2:
        head = _head_2(event_id, node_id, seq, actor_uid, actor_name, actor_role, at, type, ticket_uid)
    else:
        raise ValueError(f"unknown event format {format}")
    return hashlib.sha256(f"{prev_hash}\n{head}\n{payload}".encode()).hexdigest()


def event_hash_of(e: Mapping[str, Any]) -> str:
    """:func:`event_hash_at` of an event as a sync bundle carries it (its stored columns, the time as its text):
    the same digest, read straight from the mapping (an import re-hashes every event it receives)."""
    if e["format"] == 2:
        head = _head_2(e["event_id"], e["node_id"], e["seq"], e["actor_uid"], e["actor_name"], e["actor_role"],
                       e["occurred_at"], e["type"], e["ticket_uid"])
        return hashlib.sha256(f"{e['prev_hash']}\n{head}\n{e['payload']}".encode()).hexdigest()
    return event_hash_at(
        e["prev_hash"], e["occurred_at"], event_id=e["event_id"], node_id=e["node_id"], seq=e["seq"],
        actor_id=e["actor_id"], actor_name=e["actor_name"], actor_role=e["actor_role"], type=e["type"],
        ticket_uid=e["ticket_uid"], payload=e["payload"], format=e["format"], actor_uid=e["actor_uid"])


def _head_2(event_id: str, node_id: str, seq: int, actor_uid: str | None, actor_name: str, actor_role: str,
            at: str, type: str, ticket_uid: str | None) -> str:
    """canonical() of a format-2 header, written out in its sorted key order: the same text, without building and
    sorting a dict per event (a sync import re-hashes tens of thousands). Values of other types: canonical()."""
    if (seq.__class__ is int and actor_name.__class__ is str and actor_role.__class__ is str
            and event_id.__class__ is str and node_id.__class__ is str and type.__class__ is str
            and (actor_uid is None or actor_uid.__class__ is str)
            and (ticket_uid is None or ticket_uid.__class__ is str)):
        q = _quote
        return (f'{{"actor_name":{q(actor_name)},"actor_role":{q(actor_role)},'
                f'"actor_uid":{"null" if actor_uid is None else q(actor_uid)},"event_id":{q(event_id)},'
                f'"node_id":{q(node_id)},"occurred_at":{q(at)},"seq":{int.__repr__(seq)},'
                f'"ticket_uid":{"null" if ticket_uid is None else q(ticket_uid)},"type":{q(type)},"v":2}}')
    return canonical({
        "v": 2, "event_id": event_id, "node_id": node_id, "seq": seq, "actor_uid": actor_uid,
        "actor_name": actor_name, "actor_role": actor_role, "occurred_at": at, "type": type,
        "ticket_uid": ticket_uid,
    })


# What the encoder writes for a string when ensure_ascii is off (the same C function it calls).
_quote = encode_basestring


def stamp(occurred_at: datetime, event_id: str) -> str:
    """An event's place in "newest wins" (occurred_at, then event id), as text that sorts the same way: what a
    projection keeps beside a value two nodes may both tell, so either order of arrival leaves the newest."""
    return f"{occurred_at.isoformat(timespec='microseconds')}|{event_id}"


_HEADS = NodeHead.__table__
_EVENTS = Event.__table__
# Built once: constructing statements per save costs more than executing them.
_CLAIM = (update(_HEADS).where(_HEADS.c.node_id == bindparam("node")).values(seq=_HEADS.c.seq + 1)
          .returning(_HEADS.c.seq, _HEADS.c.hash))
_SET_HEAD = update(_HEADS).where(_HEADS.c.node_id == bindparam("node")).values(hash=bindparam("digest"))
_INSERT_EVENT = insert(_EVENTS)


def _next_in_chain(session: Session, node_id: str) -> tuple[int, str]:
    """Claim the next sequence number of this node's chain; the UPDATE holds the row lock until commit."""
    row = session.connection().execute(_CLAIM, {"node": node_id}).first()
    if row is None:
        session.add(NodeHead(node_id=node_id, seq=1, hash=GENESIS))
        session.flush()
        return 1, GENESIS
    return row[0], row[1]


# A ticket with an open sync conflict is frozen (hall/services/sync/conflicts.py): nothing may be written on it
# here, or this node would apply what the other node's gate holds back. Its resolution, a new ticket's intake and
# an event standing for another node's (``project=False``) are what may still name it.
FROZEN_MESSAGE = "该办件存在同步冲突，须由中心主任处理后才能继续办理"
NOT_FROZEN_CHECKED = frozenset({"sync.conflict_resolved", "ticket.received"})
_SC = SyncConflict.__table__.c
_FROZEN_ONE = select(_SC.conflict_id).where(_SC.ticket_uid == bindparam("uid"), _SC.state == "open").limit(1)
_FROZEN_ALL = select(_SC.ticket_uid).where(_SC.state == "open")


def is_frozen(session: Session, ticket_uid: str) -> bool:
    """An open sync conflict freezes the ticket (one indexed lookup, the statement built once)."""
    return session.connection().execute(_FROZEN_ONE, {"uid": ticket_uid}).first() is not None


def frozen_uids(session: Session) -> set[str]:
    """The tickets an open sync conflict freezes (few: a bulk recomputation leaves them out)."""
    return set(session.connection().scalars(_FROZEN_ALL))


def _refuse_frozen(session: Session, type: str, ticket_uids: Sequence[str | None]) -> None:
    if type in NOT_FROZEN_CHECKED:
        return
    uids = [u for u in ticket_uids if u is not None]
    if not uids:
        return
    hit = is_frozen(session, uids[0]) if len(uids) == 1 else bool(frozen_uids(session) & set(uids))
    if hit:
        raise ConflictError(FROZEN_MESSAGE)


def append(session: Session, actor: Actor, type: str, payload: dict[str, Any], *,
           ticket_uid: str | None = None, at: datetime | None = None, project: bool = True) -> Event:
    """Append one event for ``actor`` and apply its projector. The caller owns the transaction.

    ``project=False``: only store it (the caller applies it another way: the sync conflict gate, for an event
    standing for one another node wrote)."""
    projections = projections_of(session)
    projections.require(type)  # before anything is written: an unknown type never reaches the chain
    require_may_write(actor, type)  # a read-only role (效能监察员) changes nothing, whichever service asks
    if project:
        _refuse_frozen(session, type, [ticket_uid])
    seq, prev = _next_in_chain(session, actor.node_id)
    occurred = at or datetime.now()
    text = canonical(payload)
    fields = dict(
        event_id=str(uuid.uuid4()), node_id=actor.node_id, seq=seq, format=FORMAT, actor_id=None,
        actor_uid=_actor_uid(actor), actor_name=actor.name, actor_role=actor.role, occurred_at=occurred, type=type,
        ticket_uid=ticket_uid, payload=text,
    )
    digest = event_hash(prev, **fields)  # type: ignore[arg-type]
    # The row goes in through Core (no unit-of-work bookkeeping on the hot path); projectors get a transient
    # Event carrying the same values.
    conn = session.connection()
    conn.execute(_INSERT_EVENT, {**fields, "prev_hash": prev, "hash": digest})
    conn.execute(_SET_HEAD, {"node": actor.node_id, "digest": digest})
    ev = Event(**fields, prev_hash=prev, hash=digest)
    # Projectors see exactly what a replay or a sync import will see: the stored JSON, not live objects.
    if project:
        projections.apply(session, ev, json.loads(text))
    changes.note(session, type, ticket_uid, fields["event_id"])  # what the UI will be told once this commits
    return ev


def _actor_uid(actor: Actor) -> str | None:
    if actor.staff_id is not None and actor.staff_uid is None:
        # A staff actor built without its uid would write an event naming nobody: a programming error.
        raise ValueError(f"actor {actor.name!r} has a staff id but no stable uid (use staff.actor_for)")
    return actor.staff_uid


_CLAIM_MANY = (update(_HEADS).where(_HEADS.c.node_id == bindparam("node")).values(seq=_HEADS.c.seq + bindparam("n"))
               .returning(_HEADS.c.seq, _HEADS.c.hash))


@dataclass(frozen=True, slots=True)
class Draft:
    """One event to append with :func:`append_events`: what :func:`append` takes, as a value."""

    actor: Actor
    type: str
    payload: dict[str, Any]
    ticket_uid: str | None = None
    at: datetime | None = None
    event_id: str | None = None  # None: a fresh UUID (a given one is for a deterministic ledger or a test)


class Stored:
    """A stored event row as projectors read it (the attributes of :class:`~hall.models.Event`), without the ORM's
    instance set-up, which costs more than a small projector when hundreds of thousands are applied."""

    __slots__ = ("_row",)
    _COLUMNS = frozenset(c.name for c in _EVENTS.columns)

    def __init__(self, row: Mapping[str, Any]) -> None:
        self._row = row  # read on access: a projector reads a few of the columns, a sync import makes thousands

    def __getattr__(self, name: str) -> Any:
        if name in Stored._COLUMNS:
            return self._row.get(name)  # a column the row lacks (a new row's id) reads as None
        raise AttributeError(name)


def _column_reader(name: str) -> property:
    # A property per column: found by the ordinary attribute lookup, where __getattr__ is tried only after that
    # lookup has failed (which costs more than the read itself, thousands of times per import).
    return property(lambda self: self._row.get(name), doc=f"the stored event's {name}")


for _name in Stored._COLUMNS:
    setattr(Stored, _name, _column_reader(_name))
del _name


def append_many(session: Session, actor: Actor, type: str, items: Sequence[tuple[dict[str, Any], str | None]], *,
                at: datetime | None = None, event_ids: Sequence[str] | None = None,
                batch: int = 5000) -> list[str]:
    """Append one event per ``(payload, ticket_uid)`` of ``items``, all of ``type`` and at the same moment,
    and project them; return their event ids. The caller owns the transaction.

    :func:`append_events` for one actor, one type and one moment (``event_ids`` is for tests that compare both
    paths byte for byte; normally fresh UUIDs are drawn).
    """
    if event_ids is not None and len(event_ids) != len(items):
        raise ValueError("one event id per item")
    occurred = at or datetime.now()
    ids: Sequence[str | None] = event_ids if event_ids is not None else [None] * len(items)
    return append_events(session, [Draft(actor, type, payload, uid, occurred, event_id)
                                   for (payload, uid), event_id in zip(items, ids, strict=True)], batch=batch)


def append_events(session: Session, drafts: Sequence[Draft], *, batch: int = 5000, settle: bool = False,
                  per_ticket: bool = False) -> list[str]:
    """Append ``drafts`` in order, each on its actor's node chain, and project them; return their event ids. The
    caller owns the transaction.

    The rows, hashes, node heads and projections are exactly what calling :func:`append` for each draft in order
    would leave — only cheaper: each node's sequence numbers are claimed in one UPDATE, the rows go in by
    executemany, and a run of one type with a :func:`bulk_projector` is projected set-based (every other event
    through its ordinary projector). ``settle``: flush and empty the unit of work after an event whose projector
    loaded rows through the ORM, as after a save's commit (only for a caller that holds no ORM objects of its own:
    a generator or a replay — it keeps memory flat and the projectors' Core paths in use). ``per_ticket``: see
    :func:`project`.
    """
    if not drafts:
        return []
    projections = projections_of(session)
    for type_ in {d.type for d in drafts}:
        projections.require(type_)  # before anything is written: an unknown type never reaches the chain
        _refuse_frozen(session, type_, [d.ticket_uid for d in drafts if d.type == type_])
    for d in drafts:
        require_may_write(d.actor, d.type)
    session.flush()  # pending ORM changes reach the tables before the Core writes below
    conn = session.connection()
    per_node = Counter(d.actor.node_id for d in drafts)
    heads: dict[str, tuple[int, str]] = {}
    for node_id, n in per_node.items():
        row = conn.execute(_CLAIM_MANY, {"node": node_id, "n": n}).first()
        if row is None:
            session.add(NodeHead(node_id=node_id, seq=n, hash=GENESIS))
            session.flush()
            heads[node_id] = (0, GENESIS)
        else:
            heads[node_id] = (row[0] - n, row[1])
    now = datetime.now()
    rows: list[dict[str, Any]] = []
    for d in drafts:
        seq, prev = heads[d.actor.node_id]
        fields = dict(event_id=d.event_id or str(uuid.uuid4()), node_id=d.actor.node_id, seq=seq + 1, format=FORMAT,
                      actor_id=None, actor_uid=_actor_uid(d.actor), actor_name=d.actor.name, actor_role=d.actor.role,
                      occurred_at=d.at or now, type=d.type, ticket_uid=d.ticket_uid, payload=canonical(d.payload))
        digest = event_hash(prev, **fields)  # type: ignore[arg-type]
        fields["prev_hash"] = prev
        fields["hash"] = digest
        rows.append(fields)
        heads[d.actor.node_id] = (seq + 1, digest)
    for start in range(0, len(rows), batch):
        conn.execute(_INSERT_EVENT, rows[start:start + batch])
    conn.execute(_SET_HEAD, [{"node": node_id, "digest": digest} for node_id, (_seq, digest) in heads.items()])
    # Projectors see exactly what a replay or a sync import will see: the stored JSON, not live objects.
    project(session, rows, [json.loads(r["payload"]) for r in rows], settle=settle, per_ticket=per_ticket)
    for r in rows:
        changes.note(session, r["type"], r["ticket_uid"], r["event_id"])
    return [r["event_id"] for r in rows]


def project(session: Session, rows: Sequence[Mapping[str, Any]], payloads: Sequence[dict[str, Any]], *,
            settle: bool = False, per_ticket: bool = False,
            failed: Callable[[Mapping[str, Any], Exception], Exception] | None = None) -> None:
    """Apply stored event rows (dicts of the events table's columns) in order through the installed projections:
    a run of one type that has a set-based projector at once, every other event by its projector.

    ``settle`` as in :func:`append_events`. ``failed``: turns an error of a projector into the exception to raise
    (a replay names the event); without it the projector's own error propagates.

    ``per_ticket``: the caller vouches that the events' projectors each change only their own ticket's rows and
    projections that are order-independent (the ticket actions of intake and record: a ticket row, the applicant
    upsert's newest-wins). Then events of different tickets commute, and they are applied grouped by type, which
    gives the set-based projectors long runs where time order interleaves the types: in waves (a ticket's first
    event of ``rows`` in the first wave, its second in the second …), so each ticket's events keep their order;
    within a wave by type, each type's events in their order — a ticket's first event is always in the first wave,
    so the rows that ``ticket.received`` inserts are numbered as a replay in order numbers them. A ticket's second
    event that its first event's set-based projector folds in (``bulk_projector``'s ``folds``: an intake's
    on-the-spot close) is handed to that projector beside the first instead of being applied after it.
    """
    installed = projections_of(session)
    then: Then | None = None
    if per_ticket:
        rows, payloads, then = _by_ticket(rows, payloads, installed.folds)
    bulk = installed.many
    i, n = 0, len(rows)
    while i < n:
        row = rows[i]
        kind = row["type"]
        try:
            many = bulk.get(kind)
            if many is not None:
                j = i + 1
                while j < n and rows[j]["type"] == kind:
                    j += 1
                folded = then[i:j] if then is not None and kind in installed.folds else None
                if folded is not None and any(t is not None for t in folded):
                    many(session, list(rows[i:j]), list(payloads[i:j]), then=folded)  # type: ignore[arg-type, call-arg]
                else:
                    many(session, list(rows[i:j]), list(payloads[i:j]))  # type: ignore[arg-type]
                i = j
                continue
            installed.apply(session, Stored(row), payloads[i])  # type: ignore[arg-type]
            if settle and (session.identity_map or session.new):
                session.flush()
                session.expunge_all()
        except Folded as exc:
            if failed is None:
                raise exc.error from None
            raise failed(exc.row, exc.error) from exc.error
        except (sa_exc.SQLAlchemyError, HallError, KeyError, ValueError, TypeError) as exc:
            if failed is None:
                raise
            raise failed(row, exc) from exc
        i += 1


def _by_ticket(rows: Sequence[Mapping[str, Any]], payloads: Sequence[dict[str, Any]], folds: Mapping[str, str]
               ) -> tuple[list[Mapping[str, Any]], list[dict[str, Any]], Then]:
    """``rows`` in waves (see :func:`project`); within a wave by type, in the order the types first appear. A
    ticket's second event that its first event's set-based projector folds in (``folds``) leaves the sequence and
    stands beside the first (the :data:`Then`, aligned with the rows returned); the ticket's later events keep
    their order after it."""
    seen: dict[str, int] = {}
    first: dict[str, int] = {}
    types: dict[str, int] = {}
    then: Then = [None] * len(rows)
    keys = []
    for i, r in enumerate(rows):
        uid = r["ticket_uid"]
        if uid is None:
            raise ValueError(f"per-ticket projection of an event without a ticket: {r['type']}")
        wave = seen.get(uid, 0)
        seen[uid] = wave + 1
        if wave == 0:
            first[uid] = i
        elif wave == 1 and folds and folds.get(rows[first[uid]]["type"]) == r["type"]:
            then[first[uid]] = (r, payloads[i])
            continue
        keys.append((wave, types.setdefault(r["type"], len(types)), i))
    keys.sort()
    return ([rows[i] for _w, _t, i in keys], [payloads[i] for _w, _t, i in keys],
            [then[i] for _w, _t, i in keys])


class UnknownEventFormat(HallError):
    def __init__(self, fmt: object) -> None:
        super().__init__(f"台账事件格式 {fmt} 在本程序中未知（事件来自更新版本的程序），已停止写入，数据库未改动")


def apply(session: Session, ev: Event, payload: dict[str, Any]) -> None:
    """Apply one stored event (a replay, a rebuild, a sync import) through the installed projections."""
    # A newer program's header may name things this one cannot resolve. (No format: an event built in memory
    # without one, which the events table would store as 1.)
    if ev.format is not None and ev.format not in FORMATS:
        raise UnknownEventFormat(ev.format)
    projections_of(session).apply(session, ev, payload)


@dataclass(frozen=True)
class ChainReport:
    events: int
    nodes: int
    first_broken: Event | None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken is None and not self.problem


def event_problem(ev: Event, last_seq: int, last_hash: str, *, sparse: bool = False) -> str:
    """Why ``ev`` does not continue its chain from (``last_seq``, ``last_hash``), in Chinese; "" when it does.
    ``sparse``: a chain held only in part (its sequence must rise, links are not checkable)."""
    if sparse:
        if ev.seq <= last_seq:
            return f"序号未递增：前一条为 {last_seq}，实为 {ev.seq}"
    elif ev.seq != last_seq + 1:
        return f"序号不连续：应为 {last_seq + 1}，实为 {ev.seq}"
    elif ev.prev_hash != last_hash:
        return "前一事件哈希不符（链被改动或有事件被删除）"
    if ev.format not in FORMATS:
        return f"事件格式 {ev.format} 未知（台账来自更新版本的程序或被改动）"
    if (ev.format == 1 and ev.actor_uid is not None) or (ev.format >= 2 and ev.actor_id is not None):
        # The header field the format does not hash must stay empty, or it could be changed unnoticed.
        return "事件内容与哈希不符（内容被改动）"
    expect = event_hash(
        ev.prev_hash, event_id=ev.event_id, node_id=ev.node_id, seq=ev.seq, actor_id=ev.actor_id,
        actor_name=ev.actor_name, actor_role=ev.actor_role, occurred_at=ev.occurred_at, type=ev.type,
        ticket_uid=ev.ticket_uid, payload=ev.payload, format=ev.format, actor_uid=ev.actor_uid,
    )
    return "" if expect == ev.hash else "事件内容与哈希不符（内容被改动）"


def verify(session: Session, batch: int = 5000, *, sparse: frozenset[str] = frozenset()) -> ChainReport:
    """Re-check every node's chain: sequence without gaps, each hash over its predecessor and content, and the
    stored head of every chain — this node's and each imported peer's — at its last event, so an imported chain
    that lost its tail or a link fails. ``sparse``: chains held only in part (a laptop's copy of the hall's
    reference events): their sequence must rise and each event's hash must match, links are not checkable.
    Every other chain is checked link by link — on a laptop its point's earlier laptops' too, relayed whole
    (:func:`relayed_whole`): there the only gap allowed is one its waiting events fill (``sync_parked``: verified
    at import, waiting for what they depend on), each linked to the one before."""
    heads: dict[str, tuple[int, str]] = {}
    waiting = parked_links(session)
    count = 0
    for ev in _iter_events(session, batch):
        count += 1
        last_seq, last_hash = heads.get(ev.node_id, (0, GENESIS))
        if ev.node_id in waiting and ev.node_id not in sparse:
            last_seq, last_hash = bridge(waiting[ev.node_id], last_seq, last_hash, ev.seq)
        problem = event_problem(ev, last_seq, last_hash, sparse=ev.node_id in sparse)
        if problem:
            return ChainReport(count, len(heads), ev, problem)
        heads[ev.node_id] = (ev.seq, ev.hash)
    return heads_report(session, heads, count)


def parked_links(session: Session) -> dict[str, dict[int, tuple[str, str]]]:
    """The events waiting in ``sync_parked`` (a few): node -> seq -> (prev_hash, hash), to bridge their gaps."""
    p = SyncParked.__table__.c
    out: dict[str, dict[int, tuple[str, str]]] = {}
    for node, seq, prev, digest in session.execute(select(p.node_id, p.seq, p.prev_hash, p.hash)):
        out.setdefault(node, {})[seq] = (prev, digest)
    return out


def bridge(waiting: Mapping[int, tuple[str, str]], last_seq: int, last_hash: str, upto: int) -> tuple[int, str]:
    """From (``last_seq``, ``last_hash``) through the waiting events that continue it, link by link, towards
    ``upto``: where that ends (unchanged when none does; the caller then reports the gap)."""
    while last_seq + 1 < upto:
        got = waiting.get(last_seq + 1)
        if got is None or got[0] != last_hash:
            break
        last_seq, last_hash = last_seq + 1, got[1]
    return last_seq, last_hash


def _own_node(session: Session) -> str | None:
    return session.scalars(select(SyncExchange.node).where(SyncExchange.direction == "join").limit(1)).first()


def relayed_whole(session: Session) -> frozenset[str]:
    """On a village laptop, the relayed chains it holds whole from their first event: its point's earlier laptops'
    (the hall sends each whole the first time, and after that what follows the laptop's acknowledgement). Each is
    a laptop's chain, so it holds that laptop's own ``sync.joined`` — a hall-side chain never does. From the
    database alone, like :func:`held_in_part`; anywhere but a laptop: none."""
    own = _own_node(session)
    if own is None:
        return frozenset()
    return frozenset(n for n in session.scalars(select(Event.node_id).where(
        Event.ticket_uid.is_(None), Event.type == "sync.joined").distinct()) if n != own)


def held_in_part(session: Session) -> frozenset[str]:
    """The chains a village laptop holds only in part, from its database alone (a backup copy has no key file):
    every chain but its own and its earlier laptops' (:func:`relayed_whole`) — its hall relays only some events of
    each hall-side chain. The laptop is the node of its join record (``sync_exchanges``); anywhere else (a hall, a
    database that never synced): none."""
    own = _own_node(session)
    if own is None:
        return frozenset()
    whole = relayed_whole(session)
    return frozenset(n for n in session.scalars(select(NodeHead.node_id)) if n != own and n not in whole)


def heads_report(session: Session, heads: dict[str, tuple[int, str]], count: int) -> ChainReport:
    """The chains' ends as found (``heads``: each node's last (seq, hash)) against the stored heads: an imported
    chain that lost its tail, or every event of one, fails here."""
    for node_id, (seq, digest) in heads.items():
        head = session.get(NodeHead, node_id)
        if head is not None and (head.seq != seq or head.hash != digest):
            return ChainReport(count, len(heads), _last_event(session, node_id),
                               f"终端 {node_id} 的链尾记录为第 {head.seq} 号，实有 {seq} 号（末尾事件被删除或被改动）")
    for head in session.scalars(select(NodeHead).where(NodeHead.seq > 0)):
        if head.node_id not in heads:  # a chain whose every event is gone
            return ChainReport(count, len(heads), None,
                               f"终端 {head.node_id} 的链尾记录为第 {head.seq} 号，台账中没有它的任何事件（链被删除）")
    return ChainReport(count, len(heads), None)


def rebuild_heads(session: Session) -> int:
    """Set each node's head to its chain's last event (a rebuild; the chain itself must verify first)."""
    e = _EVENTS
    last = select(e.c.node_id, func.max(e.c.seq).label("seq")).group_by(e.c.node_id).subquery()
    rows = select(e.c.node_id, e.c.seq, e.c.hash).join(
        last, (e.c.node_id == last.c.node_id) & (e.c.seq == last.c.seq))
    session.execute(delete(_HEADS))
    session.execute(insert(_HEADS).from_select(["node_id", "seq", "hash"], rows))
    return int(session.scalar(select(func.count()).select_from(_HEADS)) or 0)


def _last_event(session: Session, node_id: str) -> Event | None:
    return session.scalars(
        select(Event).where(Event.node_id == node_id).order_by(Event.seq.desc()).limit(1)
    ).first()


def _iter_events(session: Session, batch: int) -> Iterator[Event]:
    # Keyset pagination on (node, seq): per-node order is what the chain needs, and memory stays flat.
    last_node, last_seq = "", 0
    while True:
        rows = session.scalars(
            select(Event)
            .where((Event.node_id > last_node) | ((Event.node_id == last_node) & (Event.seq > last_seq)))
            .order_by(Event.node_id, Event.seq)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_node, last_seq = rows[-1].node_id, rows[-1].seq
        session.expunge_all()


def history(session: Session, ticket_uid: str) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.ticket_uid == ticket_uid).order_by(Event.id)))


def load_payload(ev: Event) -> dict[str, Any]:
    try:
        return json.loads(ev.payload)
    except ValueError as exc:  # pragma: no cover - a verified chain never has this
        raise HallError(f"台账事件 {ev.event_id} 内容无法读取") from exc
