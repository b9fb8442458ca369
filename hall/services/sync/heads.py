"""Signed chain heads with this node's keys (hall/services/storage/anchor.py has the rule and the check).

The composition roots call these with the data directory: the key file and the anchor file live there, outside
the database. A hall PC that never enrolled a laptop has no sync keys yet: :func:`node_keys` makes them (the same
file and format ``hall-admin sync`` uses, mode 0600), at the first start (``open_hall``) or at the first signing.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.models import SyncPeer
from hall.services.base.actor import Actor
from hall.services.storage import anchor
from hall.services.storage.db import Database
from hall.services.sync import keys


def node_keys(data_dir: Path, node_id: str, intake_point: str) -> keys.NodeKeys:
    """This node's keys; a hall PC without any gets its own now (a laptop gets them at ``sync request``)."""
    found = keys.load(data_dir)
    if found is None:
        found = keys.NodeKeys.create(node_id, "hall", intake_point)
        found.save(data_dir)
    return found


def known_keys(session: Session, data_dir: Path) -> dict[str, str]:
    """Each chain's signing key as this node knows it: its own, its hall's (a laptop), its enrolled peers', its
    point's earlier laptops' (a laptop: sent by its hall, see exchange.earlier_keys)."""
    out: dict[str, str] = {}
    for peer in session.scalars(select(SyncPeer)):
        out[peer.node_id] = peer.sign_key
    mine = keys.load(data_dir)
    if mine is not None:
        out[mine.node_id] = mine.sign_key
        if mine.hall is not None:
            out[mine.hall.node_id] = mine.hall.sign_key
        # A replacement laptop: its point's earlier laptops, whose chains the hall relays, as the hall enrolled
        # them (their signed heads are then checked against that key, not merely against themselves).
        for node, key in mine.earlier.items():
            out.setdefault(node, key)
    return out


def sign_now(db: Database, actor: Actor, data_dir: Path, *, at: datetime | None = None) -> anchor.SignedHead:
    """Sign this node's chain head (one commit) and keep it in the anchor file."""
    mine = node_keys(data_dir, actor.node_id, actor.intake_point)
    with db.transaction() as session:
        head = anchor.sign_head(session, actor, mine.sign, at=at)
    anchor.remember(data_dir, [head])
    return head


def keep_recorded(session: Session, data_dir: Path) -> int:
    """After a sync import: keep the newest signed head of every chain the ledger now holds (a village's arrive
    inside its bundle) in the anchor file, so a village chain truncated at the hall later is noticed. Only heads
    signed with the key the chain's node is known by; returns how many chains have one kept."""
    known = known_keys(session, data_dir)
    return len(anchor.remember(data_dir, [h for h in anchor.newest_recorded(session) if known.get(h.node_id) == h.key]))


def check(session: Session, data_dir: Path) -> list[str]:
    """What ``ledger verify`` reports about the signed heads (empty: every chain reaches its signed heads)."""
    return anchor.check(session, known_keys=known_keys(session, data_dir), anchor=anchor.load_anchor(data_dir))
