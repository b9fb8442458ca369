"""Export and import of bundles: what a node sends, and the checks an import passes before anything is written.

A laptop sends its whole own chain (or from ``since``): the hall keeps what it already has only if it is byte for
byte the same, and takes the rest. The hall sends a laptop, from every hall-side chain (each counter PC of a hall on
PostgreSQL writes its own), the reference events (catalogue, calendar, settings, intake points, and that village's
staff — never other villages' staff) and every event on that village's own tickets, with the order to apply them
in and a snapshot of its staff directory. An import checks everything first (see :func:`import_bundle`) and then
writes in the caller's one transaction."""

from __future__ import annotations

import functools
import gc
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from operator import itemgetter
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import and_, bindparam, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from hall.errors import HallError
from hall.models import Event, NodeHead, Staff, Ticket
from hall.models.ledger import REFERENCE_WHERE
from hall.models.sync import SyncExchange, SyncParked, SyncPeer
from hall.services.base.actor import Actor
from hall.services.storage import bulk, identity, ledger
from hall.services.sync import conflicts, directory, parking, peers
from hall.services.sync.bundle import VERSION, BundleRejected, Opened, check_signature, open_bundle, seal
from hall.services.sync.keys import NodeKeys
from hall.services.tickets.numbering import NUMBER_RE
from hall.services.tickets.record import PARENT

_EVENTS = Event.__table__
_HEADS = NodeHead.__table__
_INSERT_EVENTS = insert(_EVENTS)
_NUMBERS = select(Ticket.__table__.c.number).where(Ticket.__table__.c.uid.in_(bindparam("uids", expanding=True)))
COLUMNS = tuple(c.name for c in _EVENTS.columns if c.name != "id")

# Event types only the hall may write: a laptop's bundle carrying one is refused (it would replace the hall's
# catalogue, calendar, settings, staff or peers).
HALL_ONLY_PREFIXES = ("catalog.", "calendar.", "settings.", "staff.", "intake_point.", "sync.peer_", "bpost.",
                      "attendance.", "sync.conflict_")
# The reference events the hall relays to a laptop (from every hall-side chain).
RELAYED = frozenset({"catalog.imported", "calendar.year_set", "calendar.local_holiday_added", "settings.changed",
                     "intake_point.added"})


_P = ParamSpec("_P")
_R = TypeVar("_R")


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a bundle is built or taken in. Both hold tens of thousands of
    live dicts and tuples (the events, their payloads, the rows to write), none of them garbage, and allocating
    them triggers collections that walk them over and over (~8 % of an import's CPU) to find nothing. Reference
    counting still frees everything at once; the collector resumes afterwards. (Already paused, by a caller or
    another thread: left as it is.)"""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _paused(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    @functools.wraps(fn)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with _collector_paused():
            return fn(*args, **kwargs)
    return run


def _as_json(row: Any) -> dict[str, Any]:
    d = {name: row[name] for name in COLUMNS}
    d["occurred_at"] = d["occurred_at"].isoformat(timespec="microseconds")
    return d


def _as_row(e: dict[str, Any]) -> dict[str, Any]:
    row = dict(e)
    row["occurred_at"] = datetime.fromisoformat(e["occurred_at"])
    return row


def _heads(session: Session) -> dict[str, list[Any]]:
    return {r.node_id: [r.seq, r.hash] for r in session.execute(select(_HEADS))}


def _chains(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for e in events:
        c = out.get(e["node_id"])
        if c is None:
            c = out[e["node_id"]] = {"node_id": e["node_id"], "first_seq": e["seq"], "first_prev": e["prev_hash"],
                                     "count": 0}
        c["last_seq"], c["last_hash"] = e["seq"], e["hash"]
        c["count"] += 1
    return list(out.values())


def manifest(keys: NodeKeys, to: str, kind: str, events: list[dict[str, Any]], ack: dict[str, Any],
             extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"v": VERSION, "kind": kind, "from": keys.node_id, "to": to,
            "created_at": datetime.now().isoformat(timespec="microseconds"), "chains": _chains(events),
            "ack": ack, "count": len(events), "content_sha256": None,  # seal fills it in: one encoding of the events
            "extra": extra or {}}


_OWN = select(*[_EVENTS.c[n] for n in COLUMNS]).where(_EVENTS.c.node_id == bindparam("node"),
                                                       _EVENTS.c.seq > bindparam("since")).order_by(_EVENTS.c.seq)
_AT = COLUMNS.index("occurred_at")
# How SQLAlchemy stores a naive datetime on SQLite (its default storage format, as bulk.py writes it too).
_STORED_AT = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", re.ASCII)
_STORED_RUN = re.compile(f"(?:{_STORED_AT.pattern})*", re.ASCII)
_STORED_SAMPLE = "2026-01-02 03:04:05.000006"  # (the length of every text _STORED_AT matches)
_AT_OF = itemgetter(_AT)
# A naive moment's text in a bundle (isoformat, microseconds), and a run of them.
_BUNDLE_SAMPLE = "2026-01-02T03:04:05.000006"
_BUNDLE_RUN = re.compile(r"(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6})*", re.ASCII)


@_paused
def own_events(session: Session, node_id: str, since: int = 0) -> list[dict[str, Any]]:
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return [_as_json(r) for r in conn.execute(_OWN, {"node": node_id, "since": since}).mappings()]
    # A laptop's whole chain, read as the driver's tuples (no result processing, no row objects): the time's
    # stored text is the bundle's once its separator is a "T", what parsing it and isoformat() would give.
    # Anything stored otherwise is parsed as SQLAlchemy reads it.
    compiled = _OWN.compile(dialect=conn.dialect)
    params = tuple(compiled.construct_params({"node": node_id, "since": since})[k] for k in compiled.positiontup)
    rows = conn.exec_driver_sql(compiled.string, params).fetchall()
    texts = list(map(_AT_OF, rows))
    if (set(map(type, texts)) <= {str} and set(map(len, texts)) <= {len(_STORED_SAMPLE)}
            and _STORED_RUN.fullmatch("".join(texts))):
        # Every time stored as SQLAlchemy stores it (one match over them all: each of the same length, so each
        # match is one time): the rows to dicts and the times' separators to "T" by loops in C.
        out = list(map(dict, map(zip, repeat(COLUMNS), rows)))
        for e, at in zip(out, map(str.replace, texts, repeat(" "), repeat("T"), repeat(1)), strict=True):
            e["occurred_at"] = at
        return out
    out = []
    stored = _STORED_AT.fullmatch
    for row in rows:
        e = dict(zip(COLUMNS, row, strict=True))
        at = row[_AT]
        e["occurred_at"] = at[:10] + "T" + at[11:] if at.__class__ is str and stored(at) else _iso_of(conn, at)
        out.append(e)
    return out


def _iso_of(conn: Any, value: Any) -> str:
    parse = _EVENTS.c.occurred_at.type.dialect_impl(conn.dialect).result_processor(conn.dialect, None)
    at = parse(value) if parse is not None else value
    return at.isoformat(timespec="microseconds")  # type: ignore[no-any-return]


def hall_chains(session: Session, hall_node: str) -> list[str]:
    """The hall-side chains: every node with a chain in this database that is not an enrolled laptop (each counter
    PC of a hall on PostgreSQL writes its own), the exporting node ``hall_node`` first, then by node id."""
    enrolled = set(session.scalars(select(SyncPeer.node_id)))
    others = sorted(n for n in session.scalars(select(_HEADS.c.node_id).where(_HEADS.c.seq > 0))
                    if n not in enrolled and n != hall_node)
    return [hall_node, *others]


# Every staff event type: a laptop gets each of them for the village's people (:func:`village_staff_picks`).
STAFF_RELAYED = ("staff.added", "staff.password_set", "staff.password_reset", "staff.active_set", "staff.changed",
                 "staff.b_post_set")


def village_staff_picks(rows: list[Any], point: str, at_point_now: set[str]) -> tuple[dict[int, str], dict[str, Any]]:
    """Which of the hall's staff events (``rows``: id, type, payload, in stored order) go to ``point``'s laptop: every
    event of a person while a ``staff.added`` or ``staff.changed`` places them at the point, and every event of a
    person who is there now (``at_point_now``, the hall's staff table: one moved in gets their registration and
    passwords too). A move out of the point goes as well (the laptop stops treating them as its own); what happens
    to them afterwards, elsewhere, does not (their later password hashes stay at the hall), nor anything of the
    hall's own or another village's staff. Returns the picked ids (and whose each is), and per person moved in and
    there now the move's row (the latest: :func:`relayed` sends their earlier events even before the cut)."""
    at: dict[str, bool] = {}
    picked: dict[int, str] = {}
    moved_in: dict[str, Any] = {}
    for r in rows:
        kind = r["type"]
        if kind not in STAFF_RELAYED:
            continue
        p = json.loads(r["payload"])
        if kind == "staff.added":
            uid = p.get("uid") or identity.uid_from_event(r["event_id"])  # release 1's: derived, as upgraded
            at[uid] = p.get("intake_point") == point
            take = at[uid]
        else:
            uid = p.get("staff_uid") or ""
            take = at.get(uid, False)
            values = p.get("values") if kind == "staff.changed" else None
            if isinstance(values, dict) and "intake_point" in values:
                at[uid] = values["intake_point"] == point
                take = take or at[uid]  # the move out, or the move in
                if at[uid]:
                    moved_in[uid] = r
        if take or uid in at_point_now:
            picked[r["id"]] = uid
    return picked, {u: r for u, r in moved_in.items() if u in at_point_now}


def earlier_laptops(session: Session, point: str) -> list[str]:
    """The revoked laptops of ``point`` (a lost or replaced one): their chains, which the hall holds whole, are the
    village's earlier tickets, relayed whole to the point's laptop (:func:`relayed`). Only revoked ones — a point
    has one unrevoked laptop, the recipient — and only of this point: a laptop holds its own village's tickets."""
    return sorted(session.scalars(select(SyncPeer.node_id).where(SyncPeer.intake_point == point,
                                                                 SyncPeer.revoked_at.is_not(None))))


@_paused
def relayed(session: Session, hall_node: str, point: str, base: dict[str, list[Any]] | None = None
            ) -> tuple[list[dict[str, Any]], list[int]]:
    """What the hall sends the laptop of ``point`` from every hall-side chain (:func:`hall_chains`): the reference
    events, the staff of that village only (their password hashes are in the events; nobody else's leave the hall),
    and every event a hall-side node wrote on that village's tickets (so the village can tell a citizen
    "材料需补正" or deliver) — in (chain, seq) order, the exporting node's chain first; and the order to apply them
    in (indexes into the events, in the order the hall stored them: a clerk at one counter acts on what another
    counter wrote before, so the laptop must project them in that order, not chain by chain).

    Also the whole chains of the point's earlier laptops (:func:`earlier_laptops`), verbatim, after the hall-side
    ones: a replacement laptop then holds the village's earlier tickets with every later hall event on them (which
    otherwise wait for their ticket for ever). Whole from event 1 until the laptop acknowledges them (then what
    follows its acknowledgement), so the laptop checks them link by link as the hall did. In every bundle, not only
    the provisioning file: a laptop provisioned before this relay existed gets them in its next return file, and
    any one file of the hall's is enough for what it carries, whatever the order they are imported in.

    ``base`` (:func:`acknowledged`): per chain, the [seq, hash] the laptop has acknowledged holding; only what
    comes after it is sent (a return file carries what the laptop lacks, not the earlier chains again each day).
    The file names each base it was cut at (``extra.base``), so the laptop checks it holds it (see
    :func:`_check_base`). A chain sent uncut after all (a person moved into the village: see below) is taken out
    of ``base``, so the file names no cut for it."""
    chains = hall_chains(session, hall_node)
    earlier = earlier_laptops(session, point)
    base = base or {}
    after = {n: int(base[n][0]) if n in base else 0 for n in (*chains, *earlier)}
    rank = {n: i for i, n in enumerate([*chains, *earlier])}
    village = select(Ticket.uid).where(Ticket.intake_point == point)
    e = _EVENTS.c
    columns = (e.id, *[e[n] for n in COLUMNS])
    # Two reads, each on its index: the reference events (a partial index: a few thousand among millions) and the
    # events on the village's tickets (by ticket); never a walk through the hall's whole chains.
    # (All of them, before the cut too: the staff pass below must know the village's people added before it.)
    found = {r["id"]: r for r in session.execute(select(*columns).where(
        e.node_id.in_(chains), text(REFERENCE_WHERE))).mappings()}
    staff_rows = [found[i] for i in sorted(found) if found[i]["type"] in STAFF_RELAYED]
    mine, moved_in = village_staff_picks(staff_rows, point, set(session.scalars(
        select(Staff.uid).where(Staff.intake_point == point))))
    # A person moved into the village after the laptop's acknowledgement: their earlier staff events (registration,
    # passwords) were never sent to it, though they may stand before the cut. Their chains go uncut this once (a
    # whole chain is always enough: the laptop takes what it lacks and compares what it holds); rare, a few events.
    late = {found[i]["node_id"] for i, uid in mine.items()
            if uid in moved_in and moved_in[uid]["seq"] > after[moved_in[uid]["node_id"]]}
    for n in late:
        after[n] = 0
        base.pop(n, None)  # the caller's too: the file names no cut for this chain (see :func:`outgoing`)
    # (The node as an expression: on ``node_id IN …`` SQLite would walk the (node, seq) index over the chains.)
    node = func.coalesce(e.node_id, "")
    past = [node == n if not after[n] else and_(node == n, e.seq > after[n]) for n in chains]
    found.update((r["id"], r) for r in session.execute(select(*columns).where(
        e.ticket_uid.in_(village), or_(*past))).mappings())
    if earlier:
        _only_the_village(session, point, earlier, village, after)
        for n in earlier:  # each on the (node, seq) index from where the laptop's acknowledgement ends
            found.update((r["id"], r) for r in session.execute(select(*columns).where(
                e.node_id == n, e.seq > after[n])).mappings())
    rows = [found[i] for i in sorted(found)]
    picked: list[tuple[int, dict[str, Any]]] = []
    for r in rows:
        if r["type"] in STAFF_RELAYED and r["id"] not in mine:
            continue
        if r["seq"] <= after[r["node_id"]]:  # the laptop has it (a reference event before the cut)
            continue
        picked.append((r["id"], _as_json(r)))
    by_chain = sorted(range(len(picked)), key=lambda i: (rank[picked[i][1]["node_id"]], picked[i][1]["seq"]))
    events = [picked[i][1] for i in by_chain]
    position = {i: at for at, i in enumerate(by_chain)}
    return events, [position[i] for i in range(len(picked))]  # picked is in stored order already


def _only_the_village(session: Session, point: str, earlier: list[str], village: Any,
                      after: dict[str, int]) -> None:
    """An earlier laptop's chain leaves the hall only if every ticket event on it is on a ticket of ``point``: it
    goes whole or not at all, and another village's citizens never reach this laptop. (A laptop writes only on the
    tickets it holds, its own village's; anything else here means a damaged ledger, so the export stops.) Of what
    is to be sent: past ``after`` (the laptop's acknowledgement), what it holds was checked when it was sent."""
    e = _EVENTS.c
    stray = session.execute(select(e.node_id, e.seq).where(
        or_(*[and_(e.node_id == n, e.seq > after[n]) for n in earlier]), e.ticket_uid.is_not(None),
        e.ticket_uid.not_in(village)).limit(1)).first()
    if stray is not None:
        raise HallError(f"受理点 {point} 原终端 {stray[0][:8]} 的链中第 {stray[1]} 号事件不是本村办件的："
                        "不能把它转发给本村的新电脑（其他村的群众信息不发给本村）。"
                        "请运行 ledger check 并报告系统管理员")


def acknowledged(session: Session, peer: str, chains: list[str]) -> dict[str, list[Any]]:
    """What the laptop ``peer`` said it holds of each of ``chains`` (the ack vector of its newest bundle the hall
    took in, ``sync_exchanges.acks``), as far as the hall can prove it: an acknowledged [seq, hash] counts only when
    the hall's own event at that place has that hash. Anything else — a seq beyond what the hall has, another hash,
    no bundle yet — counts as nothing, and that chain goes from its start (a whole chain is always enough).

    A laptop that lost state (restored from an older backup) acknowledges less in its next bundle, and the hall
    sends from there: the newest bundle decides, not the most ever acknowledged."""
    t = SyncExchange
    row = session.scalars(select(t.acks).where(t.peer == peer, t.direction == "import")
                          .order_by(t.id.desc()).limit(1)).first()
    try:
        vector = json.loads(row or "{}")
    except ValueError:
        return {}
    out: dict[str, list[Any]] = {}
    for n in chains:
        got = vector.get(n) if isinstance(vector, dict) else None
        if not (isinstance(got, list) and len(got) == 2 and isinstance(got[0], int) and not isinstance(got[0], bool)
                and got[0] > 0 and isinstance(got[1], str)):
            continue
        have = session.scalar(select(_EVENTS.c.hash).where(_EVENTS.c.node_id == n, _EVENTS.c.seq == got[0]))
        if have == got[1]:
            out[n] = [got[0], got[1]]
    return out


@dataclass(frozen=True)
class Outgoing:
    """What an export will send: to whom, and the events (before anything is sealed or written)."""

    to: str  # the recipient's node id
    box_key: str
    intake_point: str  # the laptop's point (the recipient's at the hall, this node's own on a laptop)
    events: list[dict[str, Any]]
    # The hall's: the order to apply the events in (see :func:`relayed`); None: as they stand (one chain).
    order: list[int] | None = None
    # The hall's: per relayed chain, the [seq, hash] the laptop acknowledged, after which the events were cut.
    base: dict[str, list[Any]] | None = None


def outgoing(session: Session, keys: NodeKeys, *, to: str | None = None, since: int = 0,
             full: bool = False) -> Outgoing:
    """The events a laptop sends its hall, or (``to``: a peer's node id or point code) the hall a laptop: what it
    has not acknowledged of each relayed chain (``full``: every chain whole, whatever it acknowledged)."""
    if keys.role == "laptop":
        if keys.hall is None:
            raise BundleRejected("本机尚未加入中心（先运行 sync join）", "peer")
        return Outgoing(keys.hall.node_id, keys.hall.box_key, keys.intake_point,
                        own_events(session, keys.node_id, since))
    peer = _peer_by(session, to)
    chains = [*hall_chains(session, keys.node_id), *earlier_laptops(session, peer.intake_point)]
    base = {} if full else acknowledged(session, peer.node_id, chains)
    events, order = relayed(session, keys.node_id, peer.intake_point, base)
    return Outgoing(peer.node_id, peer.box_key, peer.intake_point, events, order, base)


def _hall_extra(session: Session, out: Outgoing) -> dict[str, Any]:
    """What the hall's bundles carry beside the events: the apply order, its whole staff directory, which of the
    chains are earlier laptops' of the point (held whole: the laptop checks them link by link) and their public
    signing keys (so the laptop checks their signed heads against the key the hall enrolled, not against the heads
    themselves), and where each carried chain was cut (the laptop's acknowledgement it continues)."""
    carried = {e["node_id"] for e in out.events}
    point_laptops = earlier_laptops(session, out.intake_point)
    keys_of = dict(session.execute(select(SyncPeer.node_id, SyncPeer.sign_key).where(
        SyncPeer.node_id.in_(point_laptops))).all()) if point_laptops else {}
    return {"order": out.order or [], "staff_directory": directory.snapshot(session),
            "earlier": [n for n in point_laptops if n in carried], "earlier_keys": keys_of,
            "base": {n: b for n, b in sorted((out.base or {}).items()) if n in carried}}


@_paused
def seal_outgoing(session: Session, keys: NodeKeys, out: Outgoing) -> bytes:
    extra = _hall_extra(session, out) if keys.role == "hall" else None
    return seal(keys, out.box_key, manifest(keys, out.to, "bundle", out.events, _heads(session), extra), out.events)


def export(session: Session, keys: NodeKeys, *, to: str | None = None, since: int = 0, full: bool = False) -> bytes:
    """A laptop's bundle for its hall, or (``to``: a peer's node id or point code) the hall's for a laptop."""
    return seal_outgoing(session, keys, outgoing(session, keys, to=to, since=since, full=full))


@_paused
def provision(session: Session, keys: NodeKeys, peer_node: str) -> bytes:
    """The provisioning file for a just-enrolled laptop: the relayed events plus the hall's keys and the floor."""
    peer = _peer_by(session, peer_node)
    events, order = relayed(session, keys.node_id, peer.intake_point)
    out = Outgoing(peer.node_id, peer.box_key, peer.intake_point, events, order)
    extra = {"hall": {"node_id": keys.node_id, "sign_key": keys.sign_key, "box_key": keys.box_key},
             "intake_point": peer.intake_point, "serial_floor": peers.serial_floor(session, peer.intake_point),
             **_hall_extra(session, out)}
    return seal(keys, peer.box_key, manifest(keys, peer.node_id, "provision", events, _heads(session), extra),
                events)


def _peer_by(session: Session, who: str | None) -> SyncPeer:
    if not who:
        raise BundleRejected("中心导出须用 --to 指明发给哪个终端（受理点编码或终端标识）", "peer")
    found = [p for p in session.scalars(select(SyncPeer).where(SyncPeer.revoked_at.is_(None)))
             if who in (p.node_id, p.intake_point)]
    if len(found) != 1:
        raise BundleRejected(f"没有已登记且未吊销的终端“{who}”", "peer")
    return found[0]


@dataclass(frozen=True)
class ImportResult:
    sender: str
    received: int
    new: int  # events that entered the ledger: the bundle's, and parked ones it completed
    already: int
    parked: int = 0  # of the bundle's events, how many wait (parking.py)
    released: int = 0  # of ``new``, how many had waited in parking
    waiting: str = ""  # what waits after this import, in plain words
    applied: tuple[dict[str, Any], ...] = ()  # the events that entered the ledger, as the bundle carried them
    behind: tuple[Behind, ...] = ()  # on a laptop: chains of the file cut after what this laptop does not hold

    @property
    def message(self) -> str:
        if self.behind and not self.new and not self.parked:
            return f"未导入（文件共 {self.received} 条）：{behind_text(self.behind)}"
        if not self.new and not self.parked:
            return f"该同步文件已导入过：{self.received} 条事件本机都已有，未做任何更改"
        text = f"已导入 {self.new} 条"
        if self.parked:
            text += f"，暂存 {self.parked} 条（{self.waiting}）"
        if self.released:
            text += f"，其中 {self.released} 条是此前暂存、现已补齐的"
        text += f"（文件共 {self.received} 条，其中 {self.already} 条本机已有）"
        return text + (f"；{behind_text(self.behind)}" if self.behind else "")


@dataclass(frozen=True)
class Behind:
    """A chain of the hall's file that continues an acknowledgement this laptop cannot back (it lacks the event
    the hall cut the chain after — restored from an older backup, say): set aside whole, neither applied nor
    parked. The laptop's next bundle acknowledges what it does hold, and the hall's next file goes on from there."""

    node_id: str
    after_seq: int  # the file carries this chain from after this event, which this laptop does not hold
    held_seq: int  # how far this laptop holds the chain
    count: int  # the file's events of the chain, set aside


def behind_text(behind: tuple[Behind, ...]) -> str:
    """In plain words: what was set aside, why, and what to do."""
    chains = "、".join(f"终端 {b.node_id[:8]} 的 {b.count} 条（接在第 {b.after_seq} 号之后，"
                      f"本机只有到第 {b.held_seq} 号）" for b in behind)
    return (f"另有 {sum(b.count for b in behind)} 条暂未导入：{chains}。中心以为本机已有这些事件之前的部分，"
            "本机却没有（例如本机从较早的备份恢复过）。请先把本机的同步文件导入中心（或点“立即同步”），"
            "中心再发来的文件会从本机实有的地方补齐；本机数据未因此改动")


@_paused
def read(keys: NodeKeys, data: bytes, session: Session) -> tuple[Opened, str]:
    """Decrypt, parse, and check recipient and signature; return the bundle and its sender's sparse flag."""
    opened = open_bundle(keys, data)
    m = opened.manifest
    if m["to"] != keys.node_id:
        raise BundleRejected("文件不是发给本机的", "recipient")
    if keys.role == "hall":
        if m["kind"] != "bundle":
            raise BundleRejected("中心只导入村代办点的同步文件", "invalid")
        peer = session.get(SyncPeer, m["from"])
        if peer is None:
            raise BundleRejected(f"发送终端 {m['from'][:8]} 未在本中心登记", "peer")
        if peer.revoked_at is not None:
            raise BundleRejected(f"发送终端 {m['from'][:8]}（受理点 {peer.intake_point}）已被吊销", "peer")
        check_signature(opened, peer.sign_key)
    else:
        hall = keys.hall
        if hall is None or m["from"] != hall.node_id or m["kind"] != "bundle":
            raise BundleRejected("文件不是本机所属中心发出的", "peer")
        check_signature(opened, hall.sign_key)
    return opened, m["from"]


def import_bundle(session: Session, actor: Actor, keys: NodeKeys, data: bytes) -> ImportResult:
    """Check everything, then write the new events, the sender's head and the projections (caller's transaction).

    Checks, in order: size and header, decryption with this node's key, strict schema, counts and content hash,
    addressed to this node, signed by an enrolled unrevoked peer (a laptop: by its hall), only the sender's own
    chain, no hall-only event type from a laptop, every hash re-computed, each chain continuing from the stored
    one (overlaps byte-identical, otherwise a fork), not older than what is stored (a replayed old bundle).
    """
    opened, sender = read(keys, data, session)
    return apply_opened(session, actor, keys, opened, sender)


@_paused
def apply_opened(session: Session, actor: Actor, keys: NodeKeys, opened: Opened, sender: str, *,
                 bundle_id: str = "") -> ImportResult:
    events = opened.events
    sparse = keys.role == "laptop"  # a laptop holds only parts of the hall-side chains
    earlier = _earlier(opened, keys, sender) if sparse else frozenset()
    if sparse:
        earlier_keys(opened, keys, sender)  # checked before anything is written (the caller keeps them)
    projections = ledger.projections_of(session)
    if sparse or not _gates_pass(events, sender, projections):
        _gate_problem(events, sender, sparse, earlier, projections)
    behind: tuple[Behind, ...] = ()
    if sparse:
        new, behind = _check_hall_chains(session, keys, opened, earlier)
        _own_tickets_only(session, keys.intake_point, new)
    else:
        new = _check_chain(session, sender, events, sparse)
    # What continues the stored chains applies now; what waits for something absent is parked, and what was
    # parked before is tried again (hall/services/sync/parking.py).
    done = parking.settle(session, lambda node, rows: _store(session, node, rows), sender=sender,
                          bundle_id=bundle_id, incoming=new, arrived=events, sparse=sparse)
    skipped = sum(b.count for b in behind)
    return ImportResult(sender, len(events), len(done.applied), len(events) - len(new) - skipped,
                        parked=done.parked, released=done.released, waiting=done.waiting,
                        applied=tuple(done.applied), behind=behind)


@_paused
def retry_parked(session: Session, keys: NodeKeys, opened: Opened, sender: str,
                 bundle_id: str = "") -> ImportResult:
    """A file imported before, once more: nothing of it is stored again, but the parked events are tried again
    (as after every import) and its events that still wait are counted."""
    done = parking.settle(session, lambda node, rows: _store(session, node, rows), sender=sender,
                          bundle_id=bundle_id, incoming=[], arrived=opened.events, sparse=keys.role == "laptop")
    return ImportResult(sender, len(opened.events), len(done.applied), 0, parked=done.parked,
                        released=done.released, waiting=done.waiting, applied=tuple(done.applied))


_NODE = itemgetter("node_id")
_TYPE = itemgetter("type")
_SEQ = itemgetter("seq")
_PREV = itemgetter("prev_hash")
_HASH = itemgetter("hash")
_FORMAT = itemgetter("format")
_AT_TEXT = itemgetter("occurred_at")
_FORMATS = frozenset(ledger.FORMATS)


def _gates_pass(events: list[dict[str, Any]], sender: str, projections: ledger.Projections) -> bool:
    """Whether a village's events all pass the gates :func:`apply_opened` applies event by event — only the
    sender's chain, no hall-only type, every type known — checked over the distinct nodes and types (a bundle of
    ten thousand events has a handful). False: the event-by-event loop finds the first that fails and says why."""
    types = set(map(_TYPE, events))
    if set(map(_NODE, events)) - {sender} or any(t.startswith(HALL_ONLY_PREFIXES) for t in types):
        return False
    try:
        for t in types:
            projections.require(t)
    except ledger.UnknownEventType:
        return False
    return True


def _gate_problem(events: list[dict[str, Any]], sender: str, sparse: bool, earlier: frozenset[str],
                  projections: ledger.Projections) -> None:
    """The first event that a gate of :func:`apply_opened` refuses, as :class:`BundleRejected` (none: returns)."""
    for e in events:
        if e["node_id"] != sender and not sparse:  # a laptop takes every hall-side chain its hall relays
            raise BundleRejected(f"含有其他终端（{e['node_id'][:8]}）的事件：只接受发送终端自己的链")
        laptops = not sparse or e["node_id"] in earlier  # a laptop's chain: the sender's, or an earlier laptop's
        if laptops and e["type"].startswith(HALL_ONLY_PREFIXES):
            raise BundleRejected(f"村代办点不能发出“{e['type']}”事件（事项清单、日历、设置和人员只由中心维护）")
        if (not laptops and e["type"] not in RELAYED and not e["type"].startswith("staff.")
                and e["ticket_uid"] is None):
            raise BundleRejected(f"中心发来的事件类型“{e['type']}”不在同步范围内")
        try:
            projections.require(e["type"])
        except ledger.UnknownEventType as exc:
            raise BundleRejected(exc.message) from None


def _links_hold(events: list[dict[str, Any]], sparse: bool) -> bool:
    """Whether :func:`_check_chain`'s event-by-event rules all hold — sequence rising (whole chain: by one), each
    link naming the hash before it, a known format, the time's canonical text, every hash re-computed — each rule
    over the whole chain at once (lists compared in C, each distinct time parsed once). False: the
    event-by-event loop finds the first event that breaks one and says which."""
    seqs = list(map(_SEQ, events))
    if sparse:
        if seqs[0] <= 0 or not all(map(int.__lt__, seqs, seqs[1:])):
            return False
    elif seqs[0] <= 0 or seqs != list(range(seqs[0], seqs[0] + len(seqs))):
        return False
    if not sparse and list(map(_PREV, events[1:])) != list(map(_HASH, events[:-1])):
        return False
    if not set(map(_FORMAT, events)) <= _FORMATS:
        return False
    times = set(map(_AT_TEXT, events))
    if set(map(type, times)) <= {str} and set(map(len, times)) <= {len(_BUNDLE_SAMPLE)} and _BUNDLE_RUN.fullmatch(
            "".join(times)):
        # Each in the one form a naive moment's canonical text has (one match over them all: each of the same
        # length): canonical once it is a real moment.
        try:
            list(map(datetime.fromisoformat, times))
        except ValueError:
            return False
    elif any(at != _iso(at) for at in times):
        return False
    return list(map(ledger.event_hash_of, events)) == list(map(_HASH, events))


def _chain_problem(events: list[dict[str, Any]], sparse: bool) -> None:
    """The first event of a chain that breaks a rule of :func:`_links_hold`, and which, as :class:`BundleRejected`
    (none: returns)."""
    last_seq = 0
    canonical_at: set[str] = set()
    for i, e in enumerate(events):
        if e["seq"] <= last_seq or (not sparse and i and e["seq"] != last_seq + 1):
            raise BundleRejected(f"事件序号不连续或重排（第 {e['seq']} 号）")
        if not sparse and i and e["prev_hash"] != events[i - 1]["hash"]:
            raise BundleRejected(f"第 {e['seq']} 号事件的前一哈希不符（链被改动或有事件被删除）")
        at = e["occurred_at"]
        if e["format"] not in ledger.FORMATS or (at not in canonical_at and at != _iso(at)):
            raise BundleRejected(f"第 {e['seq']} 号事件的格式或时间不符")
        # (The time's text is what the hash covers: checked just above to be the canonical text of its value.)
        if ledger.event_hash_of(e) != e["hash"]:
            raise BundleRejected(f"第 {e['seq']} 号事件内容与哈希不符（内容被改动）")
        canonical_at.add(at)  # (a ticket's events at one counter share their moment: checked once)
        last_seq = e["seq"]


def _store(session: Session, node: str, new: list[dict[str, Any]]) -> None:
    """Store events and project them: one chain's in chain order (at the hall, ``node`` its sender), or on a laptop
    the hall's chains in the order the hall applied them (``node``: the hall). :class:`parking.NotYet` for the one
    whose projector finds what it names absent."""
    if new:
        rows = [_as_row(e) for e in new]
        # Tickets another node has acted on too go through the conflict gate one event at a time, after the rest
        # (their events commute with other tickets' events, as the per-ticket projection below relies on).
        gated = _gated(session, rows)
        conn = session.connection()
        texts = list(map(_AT_TEXT, new))
        if set(map(len, texts)) <= {len(_BUNDLE_SAMPLE)} and _BUNDLE_RUN.fullmatch("".join(texts)):
            # Each moment's canonical naive text (as _links_hold checked): the stored text is it with a space for
            # its "T", what SQLite's bind processing writes for the moment parsed from it — written as such.
            bulk.execute_columns(conn, _INSERT_EVENTS, {name: list(map(itemgetter(name), rows)) for name in COLUMNS},
                                 stored={"occurred_at": list(map(str.replace, texts, repeat("T"), repeat(" "),
                                                                 repeat(1)))})
        else:
            bulk.executemany(conn, _INSERT_EVENTS, rows)
        _store_heads(session, rows)
        session.expire_all()

        def failed(row: Any, exc: Exception) -> Exception:
            waits = parking.waits_for(exc)
            if waits is not None:
                return parking.NotYet(row, waits)
            return BundleRejected(f"第 {row['seq']} 号事件（{row['type']}）无法应用：{exc}")

        later = [r for r in rows if r["ticket_uid"] in gated]
        if later:
            rows = [r for r in rows if r["ticket_uid"] not in gated]
        payloads = [ledger.loads(r["payload"]) for r in rows]
        for start, end, by_ticket in _segments(rows):
            ledger.project(session, rows[start:end], payloads[start:end], failed=failed, per_ticket=by_ticket,
                           settle=by_ticket)
        # The tickets these events projected carry the numbers of their payloads (intake's projector writes
        # ``number`` as told); those the gate took, as they ended up in the table.
        numbers = [p["number"] for r, p in zip(rows, payloads, strict=True) if r["type"] == "ticket.received"]
        if later:
            _through_gate(session, later, failed)
            numbers += _numbers(session, {r["ticket_uid"] for r in later if r["type"] == "ticket.received"})
        _raise_serials(session, numbers)
        session.flush()


def _gated(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """The tickets of ``rows`` whose events go through the conflict gate: one node's rows where another node's
    events are stored (conflicts.gated_in_import), and a ticket the rows bring events of two nodes for (a
    replacement laptop taking an earlier laptop's ticket with the hall's events on it) when they may hold a fork.

    The gate applies a linear history exactly as the projectors do, one event at a time (a village's earlier year
    through it: seconds); a fork is two events built on one version of the ticket, so two that name the same parent
    version (or a resolution) — a linear history never does, and is projected as a run."""
    nodes = set(map(_NODE, rows))
    if len(nodes) == 1:  # one chain (every village bundle at the hall): no ticket has events of two nodes in it
        return conflicts.gated_in_import(session, nodes.pop(), rows)
    by_node: dict[str, list[dict[str, Any]]] = {}
    by_ticket: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_node.setdefault(r["node_id"], []).append(r)
        if r["ticket_uid"] is not None:
            by_ticket.setdefault(r["ticket_uid"], []).append(r)
    gated = {uid for uid, mine in by_ticket.items() if len({r["node_id"] for r in mine}) > 1 and _may_fork(mine)}
    for node, mine in by_node.items():
        gated |= conflicts.gated_in_import(session, node, mine)
    return gated


def _may_fork(rows: list[dict[str, Any]]) -> bool:
    """Whether one ticket's events may hold a fork: two name the same parent version, or one resolves a conflict
    (false alarms, such as two prints of one version, only send a linear history through the gate)."""
    seen: set[Any] = set()
    for r in rows:
        if r["type"] == conflicts.RESOLVED:
            return True
        parent = json.loads(r["payload"]).get(PARENT)
        if parent is not None:
            if parent in seen:
                return True
            seen.add(parent)
    return False


def _through_gate(session: Session, rows: list[dict[str, Any]],
                  failed: Callable[[Any, Exception], Exception]) -> None:
    """Each of ``rows`` (in the order they were stored) through the conflict gate, with its local id."""
    session.flush()
    ids: dict[str, int] = {}
    for start in range(0, len(rows), 500):
        ids.update(session.execute(select(_EVENTS.c.event_id, _EVENTS.c.id).where(
            _EVENTS.c.event_id.in_([r["event_id"] for r in rows[start:start + 500]]))).all())
    for r in rows:
        try:
            conflicts.admit(session, {**r, "id": ids[r["event_id"]]}, json.loads(r["payload"]))
        except (HallError, ValueError, KeyError) as exc:
            raise failed(r, exc) from exc
    session.flush()  # the last event's ORM changes (a new owner …) reach the row before the session forgets them
    session.expire_all()


# The ticket events of intake and record: each projector changes only its own ticket's rows and the applicant
# register's newest-wins fields, so between tickets they commute (see ledger.project's ``per_ticket``) and a run of
# them is projected by type — the set-based projector of ticket.received gets the whole run at once.
PER_TICKET = frozenset({"ticket.received", "ticket.closed", "ticket.voided", "ticket.supplemented", "ticket.printed"})


def _segments(rows: list[dict[str, Any]]) -> list[tuple[int, int, bool]]:
    """``rows`` cut into maximal runs that may be projected per ticket, and the runs between them (in order)."""
    out: list[tuple[int, int, bool]] = []
    safe = [_safe(r) for r in rows]
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or safe[i] != safe[start]:
            out.append((start, i, safe[start]))
            start = i
    return out


def _safe(row: dict[str, Any]) -> bool:
    return row["type"] in PER_TICKET and row["ticket_uid"] is not None


def _own_tickets_only(session: Session, point: str, events: list[dict[str, Any]]) -> None:
    """A laptop takes the hall's ticket events only for its own village's tickets (one it does not hold yet waits
    for it in parking), and a ticket's registration (an earlier laptop's, relayed) only of its own point."""
    for e in events:
        if e["type"] == "ticket.received" and json.loads(e["payload"]).get("intake_point") != point:
            raise BundleRejected(f"终端 {e['node_id'][:8]} 第 {e['seq']} 号事件登记的办件不是本村代办点的")
    uids = {e["ticket_uid"] for e in events if e["ticket_uid"] is not None}
    if not uids:
        return
    have = {uid: point_ for uid, point_ in session.execute(select(Ticket.uid, Ticket.intake_point).where(
        Ticket.uid.in_(uids)))}
    for e in events:
        uid = e["ticket_uid"]
        # A ticket not here yet: its events wait for it (parking.py); another village's: refused.
        if uid is not None and uid in have and have[uid] != point:
            raise BundleRejected(f"中心发来的第 {e['seq']} 号事件（{e['type']}）所属办件不是本村代办点的")


def _numbers(session: Session, uids: set[str]) -> list[str]:
    """The numbers of the tickets ``uids`` that are in the table."""
    if not uids:
        return []
    session.flush()
    return list(session.connection().scalars(_NUMBERS, {"uids": list(uids)}))  # Core: no ORM rows


def _raise_serials(session: Session, numbers: list[str]) -> None:
    """The numbering's counters for the imported tickets' ``numbers`` (as a rebuild derives them: the highest
    serial of each point and day), so a number handed out on a laptop is never handed out again here."""
    best: dict[tuple[str, str], int] = {}
    match = NUMBER_RE.match
    for number in numbers:
        m = match(number)
        if m:
            _township, point, day, serial = m.groups()
            key = (point, day)
            n = int(serial)
            if n > best.get(key, -1):  # (a serial 0 still names its day, as max() did)
                best[key] = n
    if best:
        peers.raise_serials(session, [(p, d, n) for (p, d), n in sorted(best.items())])


def _check_chain(session: Session, node: str, events: list[dict[str, Any]], sparse: bool, *,
                 waiting: frozenset[int] = frozenset(), late: bool = False) -> list[dict[str, Any]]:
    """Re-hash every event and place the chain against what is stored; return the events that are new.
    ``waiting``: seqs of a whole chain that wait in parking (not stored, compared there; new until they apply).
    ``late``: a hall's file on a laptop, which may end before what the laptop holds (a file built before a newer
    one the laptop imported first): what it holds must be byte for byte the same, and the rest is a no-op."""
    if not events:
        return []
    if not _links_hold(events, sparse):
        _chain_problem(events, sparse)
    head = session.get(NodeHead, node)
    head_seq = head.seq if head is not None else 0
    first, last = events[0]["seq"], events[-1]["seq"]
    stored = {r["seq"]: _as_json(r) for r in session.execute(
        select(*[_EVENTS.c[n] for n in COLUMNS]).where(_EVENTS.c.node_id == node, _EVENTS.c.seq >= first - 1,
                                                       _EVENTS.c.seq <= min(last, head_seq))).mappings()}
    for e in events:
        if e["seq"] <= head_seq:
            have = stored.get(e["seq"])
            if have is None and (sparse or e["seq"] in waiting):
                continue
            if have != e:
                raise BundleRejected(f"分叉：终端 {node[:8]} 第 {e['seq']} 号事件与本机已有的不同。"
                                     "已停止导入，请报告系统管理员", "fork")
    if last < head_seq and not late:
        raise BundleRejected(f"过期的同步文件：本机已有该终端到第 {head_seq} 号的事件，文件只到第 {last} 号"
                             "（旧文件被重放）", "replay")
    # A segment that does not connect to the stored head (yet) is placed by parking.settle: it waits for what is
    # missing, or is a fork when it claims the next place with another link.
    # (On a chain held in part, an earlier event not held yet is new too: it may be what a parked one waits for.)
    new = [e for e in events if e["seq"] > head_seq or ((sparse or e["seq"] in waiting) and e["seq"] not in stored)]
    if new and events[0]["seq"] == 1 and not sparse and events[0]["prev_hash"] != ledger.GENESIS:
        raise BundleRejected("链的第一条事件前一哈希不符")
    return new


def _store_heads(session: Session, rows: list[dict[str, Any]]) -> None:
    """Each chain's head in ``node_heads`` at the last of its new ``rows`` (each chain's rows rise in seq)."""
    last: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["seq"] > last.get(r["node_id"], {"seq": 0})["seq"]:
            last[r["node_id"]] = r
    conn = session.connection()
    have = dict(session.execute(select(_HEADS.c.node_id, _HEADS.c.seq).where(_HEADS.c.node_id.in_(sorted(last)))).all())
    for node, r in sorted(last.items()):
        if node in have:
            if r["seq"] > have[node]:  # (a chain held in part may take an earlier, parked event later)
                conn.execute(update(_HEADS).where(_HEADS.c.node_id == node).values(seq=r["seq"], hash=r["hash"]))
        else:
            conn.execute(insert(_HEADS), {"node_id": node, "seq": r["seq"], "hash": r["hash"]})


def _earlier(opened: Opened, keys: NodeKeys, sender: str) -> frozenset[str]:
    """The chains the hall's bundle says are earlier laptops' of this point, whole (exchange.relayed)."""
    got = opened.manifest["extra"].get("earlier", [])
    if (not isinstance(got, list) or not all(isinstance(n, str) and n for n in got)
            or keys.node_id in got or sender in got):
        raise BundleRejected("清单的原终端列表（earlier）不符")
    return frozenset(got)


def earlier_keys(opened: Opened, keys: NodeKeys, sender: str) -> dict[str, str]:
    """On a laptop: the public signing keys of its point's earlier laptops that the hall's file carries (in the
    signed manifest: ``extra.earlier_keys``, node -> key, as the hall enrolled each). None of this laptop's or its
    hall's own; each a 64-digit hex key."""
    got = opened.manifest["extra"].get("earlier_keys", {})
    if not isinstance(got, dict) or not all(
            isinstance(n, str) and n and n not in (keys.node_id, sender) and isinstance(k, str)
            and len(k) == 64 and all(c in "0123456789abcdef" for c in k) for n, k in got.items()):
        raise BundleRejected("清单的原终端公钥（earlier_keys）不符")
    return dict(got)


def _check_earlier(session: Session, node: str, chain: list[dict[str, Any]],
                   base: list[Any] | None = None) -> list[dict[str, Any]]:
    """An earlier laptop's chain, as the hall checked it when it took it in: whole from its first event (or from
    just after ``base``, the event the laptop acknowledged and holds: :func:`_check_base`), every link re-hashed,
    what is stored byte for byte the same (otherwise a fork), the rest continuing from the stored head.
    An event of it that waits here (parking.py: a ticket event waits with its ticket's later ones) is compared with
    its parked copy by the parking, and is new until it applies."""
    start, link = (base[0] + 1, base[1]) if base else (1, ledger.GENESIS)
    if chain[0]["seq"] != start or (base and chain[0]["prev_hash"] != link):
        raise BundleRejected(f"原终端 {node[:8]} 的链不完整：应从第 {start} 号事件起，实从第 {chain[0]['seq']} 号起")
    waiting = frozenset(session.scalars(select(SyncParked.seq).where(SyncParked.node_id == node)))
    return _check_chain(session, node, chain, False, waiting=waiting, late=True)


def _bases(opened: Opened, chains: set[str]) -> dict[str, list[Any]]:
    """Where the hall's file cut each chain (``extra.base``: node -> [seq, hash], after the laptop's ack)."""
    got = opened.manifest["extra"].get("base", {})
    if not isinstance(got, dict) or not all(
            n in chains and isinstance(b, list) and len(b) == 2 and isinstance(b[0], int)
            and not isinstance(b[0], bool) and b[0] > 0 and isinstance(b[1], str) for n, b in got.items()):
        raise BundleRejected("清单的起点（base）不符")
    return got


def _check_base(session: Session, node: str, chain: list[dict[str, Any]], base: list[Any]) -> int | None:
    """Whether this laptop holds the event the hall cut ``chain`` after: None when it does; otherwise how far it
    holds the chain (the chain is set aside: :class:`Behind`). The same place with another hash is a fork."""
    if chain[0]["seq"] <= base[0]:
        raise BundleRejected(f"终端 {node[:8]} 的事件与清单的起点（base）不符")
    have = session.scalar(select(_EVENTS.c.hash).where(_EVENTS.c.node_id == node, _EVENTS.c.seq == base[0]))
    if have == base[1]:
        return None
    if have is not None:
        raise BundleRejected(f"分叉：终端 {node[:8]} 第 {base[0]} 号事件与本机已有的不同。"
                             "已停止导入，请报告系统管理员", "fork")
    head = session.get(NodeHead, node)
    return head.seq if head is not None else 0


def _check_hall_chains(session: Session, keys: NodeKeys, opened: Opened, earlier: frozenset[str] = frozenset()
                       ) -> tuple[list[dict[str, Any]], tuple[Behind, ...]]:
    """On a laptop: the hall's bundle holds sparse parts of every hall-side chain (a counter PC each). Each is
    checked as one chain (:func:`_check_chain`, sparse); this laptop's own chain, if it comes back, must be what it
    holds byte for byte (anything else is a fork of it); an earlier laptop's of this point comes whole, or from
    where the laptop acknowledged it (:func:`_check_earlier`). The new events, in the order the hall applied them;
    and the chains set aside, cut after an event this laptop does not hold (:class:`Behind`)."""
    events = opened.events
    by_node: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_node.setdefault(e["node_id"], []).append(e)
    own = by_node.pop(keys.node_id, [])
    if own:
        stored = {r["seq"]: _as_json(r) for r in session.execute(
            select(*[_EVENTS.c[n] for n in COLUMNS]).where(_EVENTS.c.node_id == keys.node_id,
                                                           _EVENTS.c.seq.in_([e["seq"] for e in own]))).mappings()}
        for e in own:
            if stored.get(e["seq"]) != e:
                raise BundleRejected(f"分叉：本机的链第 {e['seq']} 号事件与中心发回的不同。"
                                     "已停止导入，请报告系统管理员", "fork")
    bases = _bases(opened, set(by_node))
    behind = []
    for node, chain in list(by_node.items()):
        held = _check_base(session, node, chain, bases[node]) if node in bases else None
        if held is not None:
            behind.append(Behind(node, bases[node][0], held, len(chain)))
            del by_node[node]
    new = {(e["node_id"], e["seq"]) for node, chain in by_node.items()
           for e in (_check_earlier(session, node, chain, bases.get(node)) if node in earlier else
                     _check_chain(session, node, chain, True, late=True))}
    return [events[i] for i in _apply_order(opened) if (events[i]["node_id"], events[i]["seq"]) in new], tuple(behind)


def _apply_order(opened: Opened) -> list[int]:
    """The hall's order to apply its events in (a permutation of their indexes); none given: as they stand."""
    n = len(opened.events)
    order = opened.manifest["extra"].get("order")
    if not order:
        return list(range(n))
    if (not isinstance(order, list) or len(order) != n or any(not isinstance(i, int) or isinstance(i, bool)
                                                              for i in order) or sorted(order) != list(range(n))):
        raise BundleRejected("清单的应用顺序（order）与事件不符")
    return order


def _iso(text: str) -> str:
    try:
        return datetime.fromisoformat(text).isoformat(timespec="microseconds")
    except ValueError:
        return ""
