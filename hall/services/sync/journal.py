"""The local record of every bundle this node wrote or took in (``sync_exchanges``), and the exchanges that keep it.

Export and import go through here (the CLI, the LAN and the 同步 screen alike) so the record cannot be forgotten:
an export is recorded in the transaction that read its events (the caller writes the file before it commits, so
a file that could not be written leaves no record); an import is recorded in the import's own transaction, with
the acknowledgement vector the other side sent — what it already holds of this node's chain. A refused bundle
records nothing (the database stays unchanged). What the tickets' sync state is made of: hall/services/sync/state.py.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.models.sync import SyncExchange
from hall.services.base.actor import Actor
from hall.services.storage import changes
from hall.services.sync import directory, exchange
from hall.services.sync.bundle import Opened
from hall.services.sync.keys import NodeKeys


def bundle_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _ranges(chains: list[dict[str, Any]]) -> str:
    return json.dumps([{k: c[k] for k in ("node_id", "first_seq", "last_seq", "count")} for c in chains],
                      sort_keys=True)


def _acked(manifest: dict[str, Any], node_id: str) -> int:
    """The seq the sender says it holds of ``node_id``'s chain (its ack vector: node -> [seq, hash])."""
    got = manifest["ack"].get(node_id)
    if isinstance(got, list) and got and isinstance(got[0], int) and not isinstance(got[0], bool):
        return max(0, got[0])
    return 0


def record_received(session: Session, keys: NodeKeys, direction: str, data: bytes, opened: Opened, new: int,
                    summary: str) -> bool:
    """Record a bundle taken in; False (and nothing recorded) when this very file was taken in before."""
    m = opened.manifest
    digest = bundle_id(data)
    if session.scalar(select(SyncExchange.id).where(SyncExchange.bundle_id == digest,
                                                    SyncExchange.direction == direction).limit(1)) is not None:
        return False  # the exact file again: it told us nothing new, and an exact re-import changes nothing at all
    session.add(SyncExchange(at=datetime.now(), node=keys.node_id, peer=m["from"], direction=direction,
                             bundle_id=digest, chains=_ranges(m["chains"]), events=m["count"],
                             new_events=new, sent_seq=0, acked_seq=_acked(m, keys.node_id), summary=summary,
                             acks=json.dumps(m["ack"], sort_keys=True)))
    session.flush()
    return True


# ------------------------------------------------------------------------------------------ export
@dataclass(frozen=True)
class Preview:
    """What an export will send, counted by kind, before anything is written."""

    to: str
    intake_point: str
    events: int
    tickets: int  # distinct tickets the events are about
    by_kind: tuple[tuple[str, int], ...]  # (Chinese label, count), most first


def _label(kind: str) -> str:
    from hall.services.tickets.record import EVENT_LABELS

    return EVENT_LABELS.get(kind, kind)


def preview(session: Session, keys: NodeKeys, *, to: str | None = None, since: int = 0,
            full: bool = False) -> Preview:
    out = exchange.outgoing(session, keys, to=to, since=since, full=full)
    return _preview(out)


def _preview(out: exchange.Outgoing) -> Preview:
    kinds = Counter(_label(e["type"]) for e in out.events)
    tickets = len({e["ticket_uid"] for e in out.events if e["ticket_uid"] is not None})
    return Preview(out.to, out.intake_point, len(out.events), tickets,
                   tuple(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))))


@dataclass(frozen=True)
class Exported:
    data: bytes
    preview: Preview
    ticket_uids: frozenset[str]  # whose sync state this export moved (to 已发出)


def export(session: Session, keys: NodeKeys, *, to: str | None = None, since: int = 0,
           full: bool = False) -> Exported:
    """Seal the bundle and record it (caller's transaction: write the file, then commit). ``full``: the hall's
    file with every relayed chain whole, whatever the laptop acknowledged."""
    out = exchange.outgoing(session, keys, to=to, since=since, full=full)
    data = exchange.seal_outgoing(session, keys, out)
    uids = frozenset(e["ticket_uid"] for e in out.events if e["ticket_uid"] is not None)
    return Exported(data, record_export(session, keys, out, data), uids)


def seal(session: Session, keys: NodeKeys, *, to: str | None = None) -> tuple[exchange.Outgoing, bytes]:
    """The bundle without its record (the LAN: recorded with the hall's answer, see hall/services/sync/lan.py)."""
    out = exchange.outgoing(session, keys, to=to)
    return out, exchange.seal_outgoing(session, keys, out)


def record_export(session: Session, keys: NodeKeys, out: exchange.Outgoing, data: bytes, *,
                  what: str = "") -> Preview:
    mine = [e for e in out.events if e["node_id"] == keys.node_id]
    chains = exchange._chains(out.events)
    p = _preview(out)
    session.add(SyncExchange(at=datetime.now(), node=keys.node_id, peer=out.to, direction="export",
                             bundle_id=bundle_id(data), chains=_ranges(chains), events=len(out.events),
                             new_events=0, sent_seq=mine[-1]["seq"] if mine else 0, acked_seq=0,
                             summary=f"{what}发出 {p.events} 条事件（{p.tickets} 件办件）",
                             # The hall's: the acknowledgement the file was cut after (what it did not carry
                             # again), so how far each chain was sent is known from this one export.
                             acks=json.dumps(out.base or {}, sort_keys=True)))
    session.flush()
    return p


# ------------------------------------------------------------------------------------------ import
@dataclass(frozen=True)
class Imported:
    sender: str
    received: int
    new_events: int
    tickets_new: int
    tickets_updated: int
    seen_before: bool = False  # this very file was imported before
    parked: int = 0  # of the file's events, how many wait for what they depend on (暂存)
    released: int = 0  # of the new events, how many had waited (from earlier files)
    waiting: str = ""  # what waits now, in plain words
    behind: tuple[exchange.Behind, ...] = ()  # chains set aside: cut after what this laptop does not hold

    @property
    def message(self) -> str:
        """The result in plain words, for the person who chose the file."""
        text = self._message()
        if self.behind:
            text += f"；{exchange.behind_text(self.behind)}"
        if self.parked:
            text += f"；暂存 {self.parked} 条（{self.waiting}），到齐后自动导入"
        if self.released:
            text += f"；其中 {self.released} 条是此前暂存、现已补齐的"
        return text

    def _message(self) -> str:
        if not self.new_events and not self.parked and self.behind:
            return f"未导入任何事件（文件共 {self.received} 条）"
        if not self.new_events and self.parked:
            again = "该同步文件已导入过：" if self.seen_before else ""
            return f"{again}已导入 0 条（文件共 {self.received} 条）"
        if not self.new_events and self.seen_before:
            return f"该同步文件已导入过，没有变化：文件中 {self.received} 条事件本机都已有，未做任何更改"
        if not self.new_events:
            return f"内容均已导入过，没有变化：文件中 {self.received} 条事件本机都已有"
        parts = []
        if self.tickets_new:
            parts.append(f"新办件 {self.tickets_new} 件")
        if self.tickets_updated:
            parts.append(f"更新办件 {self.tickets_updated} 件")
        what = "，".join(parts) if parts else "没有办件变化（只有事项清单、日历、设置或人员）"
        return f"已导入：{what}；新事件 {self.new_events} 条（文件共 {self.received} 条）"


def import_bundle(session: Session, actor: Actor, keys: NodeKeys, data: bytes,
                  data_dir: Path | None = None) -> Imported:
    """Check everything, import in the caller's transaction, and record it with the sender's acknowledgement.
    ``data_dir``: where this node keeps the signed heads of the chains it holds (the anchor file, outside the
    database): a village's arrive inside its bundle and are kept there (hall.services.sync.heads).

    This very file taken in before (checked, signed, recorded): a no-op, whatever came since — but the parked
    events are tried again, as after every import."""
    opened, sender = exchange.read(keys, data, session)
    digest = bundle_id(data)
    if keys.role == "laptop" and not _older_than_taken(session, opened.manifest):
        directory.take(session, opened.manifest["extra"])
    if _seen(session, digest):
        result = exchange.retry_parked(session, keys, opened, sender, digest)
    else:
        result = exchange.apply_opened(session, actor, keys, opened, sender, bundle_id=digest)
    for e in result.applied:  # what the screens of this program learn when it commits (the events came in verbatim)
        changes.note(session, e["type"], e["ticket_uid"], e["event_id"])
    born = {e["ticket_uid"] for e in result.applied if e["type"] == "ticket.received" and e["ticket_uid"] is not None}
    touched = {e["ticket_uid"] for e in result.applied if e["ticket_uid"] is not None} - born
    got = Imported(sender, len(opened.events), result.new, len(born), len(touched), parked=result.parked,
                   released=result.released, waiting=result.waiting, behind=result.behind)
    if not record_received(session, keys, "import", data, opened, result.new, got.message):
        got = replace(got, seen_before=True)
    if data_dir is not None:
        from hall.services.sync import heads

        if keys.role == "laptop":
            _keep_earlier_keys(data_dir, exchange.earlier_keys(opened, keys, sender))
        heads.keep_recorded(session, data_dir)
    return got


def _keep_earlier_keys(data_dir: Path, earlier: dict[str, str]) -> None:
    """The earlier laptops' keys a hall's file carries, into this laptop's key file (only when they add to it): the
    signed heads of their chains are checked against them (heads.known_keys). Written before the import commits,
    like the anchor file: public keys the hall signed for, harmless if the import then fails."""
    from hall.services.sync import keys as sync_keys

    mine = sync_keys.load(data_dir)
    if mine is not None and earlier and any(mine.earlier.get(n) != k for n, k in earlier.items()):
        mine.with_earlier(earlier).save(data_dir)


def _older_than_taken(session: Session, m: dict[str, Any]) -> bool:
    """On a laptop: whether this file of the hall's was made before one it already took in — the hall's chain
    heads (its manifest's ``ack``) only rise, so a file naming a lower head of any chain than an earlier import did
    is older. Its events are a no-op then (held already), and so must its staff directory be: not put back."""
    mine = {n: v[0] for n, v in m["ack"].items() if isinstance(v, list) and v and isinstance(v[0], int)}
    for acks in session.scalars(select(SyncExchange.acks).where(SyncExchange.peer == m["from"],
                                                                SyncExchange.direction.in_(("import", "join")))):
        try:
            seen = json.loads(acks or "{}")
        except ValueError:
            continue
        if any(isinstance(v, list) and v and isinstance(v[0], int) and n in mine and mine[n] < v[0]
               for n, v in seen.items()):
            return True
    return False


def _seen(session: Session, digest: str) -> bool:
    return session.scalar(select(SyncExchange.id).where(SyncExchange.bundle_id == digest,
                                                        SyncExchange.direction == "import").limit(1)) is not None


# ------------------------------------------------------------------------------------------ reading it back
@dataclass(frozen=True)
class Mark:
    """Per peer: how far this node's chain was sent, how far the peer said it holds it, and when."""

    sent_seq: int = 0
    acked_seq: int = 0
    last_export: datetime | None = None
    last_import: datetime | None = None

    @property
    def last_sync(self) -> datetime | None:
        return max((t for t in (self.last_export, self.last_import) if t is not None), default=None)


def marks(session: Session, node_id: str) -> dict[str, Mark]:
    """Every peer this node exchanged with, from the record (one grouped query)."""
    from sqlalchemy import func

    t = SyncExchange
    return fold(session.execute(select(t.peer, t.direction, func.max(t.sent_seq), func.max(t.acked_seq),
                                       func.max(t.at)).where(t.node == node_id).group_by(t.peer, t.direction)))


def fold(rows: Any) -> dict[str, Mark]:
    """(peer, direction, max sent, max acked, last time) rows -> one Mark per peer."""
    out: dict[str, dict[str, Any]] = {}
    for peer, direction, sent, acked, at in rows:
        m = out.setdefault(peer, {"sent_seq": 0, "acked_seq": 0, "last_export": None, "last_import": None})
        m["sent_seq"] = max(m["sent_seq"], sent or 0)
        m["acked_seq"] = max(m["acked_seq"], acked or 0)
        if direction == "export":
            m["last_export"] = at
        elif m["last_import"] is None or at > m["last_import"]:
            m["last_import"] = at
    return {peer: Mark(**m) for peer, m in out.items()}


@dataclass(frozen=True)
class Line:
    at: datetime
    peer: str
    direction: str
    events: int
    summary: str


def recent(session: Session, node_id: str, limit: int = 20) -> tuple[Line, ...]:
    t = SyncExchange
    rows = session.scalars(select(t).where(t.node == node_id).order_by(t.id.desc()).limit(limit))
    return tuple(Line(r.at, r.peer, r.direction, r.events, r.summary) for r in rows)
