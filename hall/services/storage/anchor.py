"""Signed chain heads: tamper evidence with an anchor outside the hash chain.

The chain hash alone has no key: whoever can write the file can edit an event and re-hash everything after it, or
delete the tail and rewind ``node_heads``, and :func:`hall.services.storage.ledger.verify` still passes. So each
node signs its chain head with its Ed25519 node key (the sync key, kept outside the database, mode 0600):

- the signature is recorded in the ledger itself as a ``ledger.head_signed`` event (recorded only, it changes no
  table), so a backup holds it and a sync bundle carries a village's signed heads to the hall verbatim;
- the newest signed head of every chain is also kept in ``signed_heads.json`` beside the database (outside it), so
  deleting the tail *with* its signature events still leaves a head the chain must reach.

:func:`check` compares the chain with every signed head it knows: a head whose event now has another hash means the
chain was rewritten (re-hashed after an edit); a head beyond the chain's end means it was truncated. A signature
that does not verify, or one made with a key that is not the node's, is reported too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from hall.models import Event, NodeHead
from hall.models.ledger import HEAD_SIGNED_WHERE
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_admin
from hall.services.storage import ledger

HEAD_SIGNED = "ledger.head_signed"
ANCHOR_FILE = "signed_heads.json"
_DOMAIN = "hall-chain-head-v1"  # a signature over a head can never be mistaken for one over a sync bundle


@dataclass(frozen=True)
class SignedHead:
    node_id: str
    seq: int
    hash: str
    at: str  # when it was signed (ISO), for the person reading a report
    key: str  # the signer's Ed25519 public key (hex)
    sig: str  # hex

    def message(self) -> bytes:
        return f"{_DOMAIN}\n{self.node_id}\n{self.seq}\n{self.hash}\n{self.at}".encode()

    def signature_ok(self) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.key)).verify(bytes.fromhex(self.sig),
                                                                               self.message())
        except (InvalidSignature, ValueError):
            return False
        return True

    @classmethod
    def from_json(cls, d: Mapping[str, object]) -> SignedHead:
        return cls(str(d["node_id"]), int(d["seq"]), str(d["hash"]), str(d["at"]),  # type: ignore[call-overload]
                   str(d["key"]), str(d["sig"]))


def public_hex(private: Ed25519PrivateKey) -> str:
    raw = serialization.Encoding.Raw
    return private.public_key().public_bytes(raw, serialization.PublicFormat.Raw).hex()


def sign_head(session: Session, actor: Actor, private: Ed25519PrivateKey, *,
              at: datetime | None = None) -> SignedHead:
    """Sign this node's current chain head and record the signature as an event. The caller owns the
    transaction (and then keeps the head in the anchor file with :func:`remember`)."""
    require_admin(actor, "签署台账链头")
    session.flush()
    head = session.get(NodeHead, actor.node_id)
    seq, digest = (head.seq, head.hash) if head is not None else (0, ledger.GENESIS)
    when = (at or datetime.now()).isoformat(timespec="seconds")
    unsigned = SignedHead(actor.node_id, seq, digest, when, public_hex(private), "")
    signed = SignedHead(**{**asdict(unsigned), "sig": private.sign(unsigned.message()).hex()})
    ledger.append(session, actor, HEAD_SIGNED, {**asdict(signed), "reason": f"签署链头：第 {seq} 号事件"},
                  at=at)
    return signed


# ------------------------------------------------------------------------------------------ the anchor file
def anchor_path(data_dir: Path) -> Path:
    return data_dir / ANCHOR_FILE


def load_anchor(data_dir: Path) -> dict[str, SignedHead]:
    path = anchor_path(data_dir)
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {node: SignedHead.from_json(d) for node, d in raw.items()}
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        # Unreadable: report it rather than verify against nothing (verify says so, see check()).
        return {"": SignedHead("", -1, "", "", "", "")}


def remember(data_dir: Path, heads: Iterable[SignedHead]) -> dict[str, SignedHead]:
    """Keep the newest signed head of each chain in the anchor file (written atomically); returns the file's
    content. A head is kept only when its signature verifies and it is newer than the one kept."""
    kept = {n: h for n, h in load_anchor(data_dir).items() if n}
    for h in heads:
        if h.signature_ok() and (h.node_id not in kept or h.seq > kept[h.node_id].seq):
            kept[h.node_id] = h
    path = anchor_path(data_dir)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({n: asdict(h) for n, h in sorted(kept.items())}, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return kept


def recorded(session: Session) -> list[tuple[Event, SignedHead]]:
    """Every signed head recorded in the ledger, with the event that recorded it (oldest first per chain)."""
    # The literal condition of the partial index ix_events_head_signed, so the planner can use it.
    rows = session.scalars(select(Event).where(text(HEAD_SIGNED_WHERE)).order_by(Event.node_id, Event.seq))
    out = []
    for ev in rows:
        try:
            out.append((ev, SignedHead.from_json(json.loads(ev.payload))))
        except (ValueError, KeyError, TypeError):
            out.append((ev, SignedHead(ev.node_id, -1, "", "", "", "")))
    return out


def newest_recorded(session: Session) -> list[SignedHead]:
    """The newest signed head of each chain recorded in the ledger (what a sync import brings in)."""
    newest: dict[str, SignedHead] = {}
    for _ev, h in recorded(session):
        if h.seq >= 0 and (h.node_id not in newest or h.seq > newest[h.node_id].seq):
            newest[h.node_id] = h
    return list(newest.values())


# ------------------------------------------------------------------------------------------ checking
def check(session: Session, *, known_keys: Mapping[str, str], anchor: Mapping[str, SignedHead]) -> list[str]:
    """What is wrong between the chains and their signed heads, in Chinese; empty when all agree.

    ``known_keys``: each node's Ed25519 public key as this node knows it (its own from its key file, its peers'
    from their enrolment); ``anchor``: the signed heads kept outside the database (:func:`load_anchor`)."""
    problems: list[str] = []
    if "" in anchor:
        problems.append(f"链头签名记录文件 {ANCHOR_FILE} 无法读取（被改动或损坏）")
    heads: list[tuple[str, SignedHead]] = []
    for ev, h in recorded(session):
        where = f"终端 {ev.node_id[:8]} 第 {ev.seq} 号事件（链头签名）"
        if h.seq < 0 or h.node_id != ev.node_id:
            problems.append(f"{where}内容无效（签名记录被改动）")
            continue
        heads.append((where, h))
    heads.extend(("本机保存的链头签名记录", h) for n, h in sorted(anchor.items()) if n)
    last_seq: dict[str, int] = {}  # per chain, by an index probe each (never a pass over every event)
    for where, h in heads:
        node = h.node_id[:8]
        expected = known_keys.get(h.node_id)
        if expected is not None and h.key != expected:
            problems.append(f"{where}：终端 {node} 的链头签名不是用该终端的密钥签的（签名被伪造）")
            continue
        if not h.signature_ok():
            problems.append(f"{where}：终端 {node} 第 {h.seq} 号链头的签名无效（签名记录被伪造或改动）")
            continue
        if h.seq == 0:
            continue
        if h.node_id not in last_seq:
            last_seq[h.node_id] = int(session.scalar(select(func.max(Event.seq)).where(Event.node_id == h.node_id))
                                      or 0)
        have = last_seq[h.node_id]
        if have < h.seq:
            problems.append(f"{where}：终端 {node} 的链只到第 {have} 号事件，但 {h.at} 已签名的链头为第 {h.seq} 号"
                            "——链被截短（末尾事件被删除、链头被回退）")
            continue
        digest = session.scalar(select(Event.hash).where(Event.node_id == h.node_id, Event.seq == h.seq))
        if digest != h.hash:
            problems.append(f"{where}：终端 {node} 第 {h.seq} 号事件的哈希与 {h.at} 签名的链头不符"
                            "——链被改写（改动事件后重新计算了哈希）")
    return list(dict.fromkeys(problems))  # one line per problem, however many records saw it
