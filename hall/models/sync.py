"""Village-laptop sync: the peers the hall has enrolled.

A projection of ledger events (``sync.peer_enrolled`` / ``sync.peer_revoked`` on the hall's chain), so ``ledger
check`` rebuilds it like any other table. What a node has imported is not recorded apart: it is the events
themselves and the peer's chain head in ``node_heads`` (so the hall's state does not depend on import order).
The private keys are never here: they live in the data directory's key file (hall/services/sync/keys.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hall.models.base import Base


class SyncPeer(Base):
    __tablename__ = "sync_peers"

    node_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    intake_point: Mapped[str] = mapped_column(String(3))
    sign_key: Mapped[str] = mapped_column(String(64))  # Ed25519 public key, hex
    box_key: Mapped[str] = mapped_column(String(64))  # X25519 public key, hex
    fingerprint: Mapped[str] = mapped_column(String(64))
    enrolled_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoke_reason: Mapped[str] = mapped_column(Text, default="")


class SyncExchange(Base):
    """One bundle this node wrote or took in: local bookkeeping, never replicated and never a projection.

    Not a ledger event on purpose: recording an export as an event would put a new event on this node's chain
    after the bundle was sealed, so a laptop would never be fully sent (and every export would make two nodes'
    digests differ). Kept in the database (not a file) so every counter of the hall sees the tickets' sync state,
    and a restored backup rolls it back together with the events it describes.
    """

    __tablename__ = "sync_exchanges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    node: Mapped[str] = mapped_column(String(36))  # this node
    peer: Mapped[str] = mapped_column(String(36), index=True)  # the other side
    direction: Mapped[str] = mapped_column(String(8))  # "join" | "export" | "import"
    bundle_id: Mapped[str] = mapped_column(String(64))  # SHA-256 of the file's bytes
    chains: Mapped[str] = mapped_column(Text, default="[]")  # JSON: per-chain node, first/last seq, count
    events: Mapped[int] = mapped_column(Integer, default=0)
    new_events: Mapped[int] = mapped_column(Integer, default=0)
    # export: the last seq of this node's own chain in the bundle; import/join: what the sender said it has of
    # this node's chain (its acknowledgement vector). Plain columns so the state is one grouped query.
    sent_seq: Mapped[int] = mapped_column(Integer, default=0)
    acked_seq: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str] = mapped_column(Text, default="")  # the result in plain words, as shown
    # import/join: the sender's whole acknowledgement vector (JSON node -> [seq, hash]): at the hall, how far a
    # laptop holds each hall-side chain (every counter PC's), which the tickets' sync state needs.
    acks: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")


class SyncStaffDirectory(Base):
    """On a village laptop: the hall's whole staff directory as its last bundle carried it (no password hashes,
    nothing personal beyond the name), replaced whole at each import. Local, never replicated, not a projection:
    the laptop holds the staff events of its own village only, so this is how it names everyone else."""

    __tablename__ = "sync_staff_directory"

    uid: Mapped[str] = mapped_column(String(36), primary_key=True)
    staff_no: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(12))
    window_code: Mapped[str | None] = mapped_column(String(8), nullable=True)
    intake_point: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[datetime] = mapped_column(DateTime)  # when the bundle that carried it was taken in


class SyncParked(Base):
    """A verified event from a bundle that cannot apply yet (停放/暂存): its chain's predecessor, its ticket, or a
    staff member or item its projector names is not here yet (hall/services/sync/parking.py). Local and never
    replicated, like ``sync_exchanges``: the event is stored verbatim (every column a bundle carries) and moves to
    ``events`` the moment what it waits for arrives; it is not ledger state, so a digest never sees it."""

    __tablename__ = "sync_parked"
    __table_args__ = (UniqueConstraint("node_id", "seq", name="uq_sync_parked_node_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    node_id: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(Integer)
    format: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_uid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    actor_name: Mapped[str] = mapped_column(String(40))
    actor_role: Mapped[str] = mapped_column(String(12))
    occurred_at: Mapped[str] = mapped_column(String(32))  # as the bundle carries it (ISO, microseconds)
    type: Mapped[str] = mapped_column(String(48))
    ticket_uid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    sender: Mapped[str] = mapped_column(String(36))  # the node whose bundle carried it
    bundle_id: Mapped[str] = mapped_column(String(64))  # SHA-256 of that file
    reason: Mapped[str] = mapped_column(Text)  # what it waits for, in Chinese
    parked_at: Mapped[datetime] = mapped_column(DateTime)


# Tables of this node alone: not projections (``ledger check`` leaves them be), not in a digest, kept by a rebuild.
LOCAL_TABLES = ("sync_exchanges", "sync_parked", "sync_staff_directory")


class SyncConflict(Base):
    """同步冲突: two nodes acted on one ticket from the same parent version. Derived by the sync gate
    (hall/services/sync/conflicts.py) from the events alone, keyed by the ticket, the parent version and the sorted
    pair of the two branches' first event hashes, so every node and every replay derives the same row."""

    __tablename__ = "sync_conflicts"
    __table_args__ = (Index("ix_sync_conflicts_ticket", "ticket_uid", "state"), Index("ix_sync_conflicts_state",
                                                                                        "state", "found_at"))

    conflict_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_uid: Mapped[str] = mapped_column(String(36))
    parent_version: Mapped[int] = mapped_column(Integer)
    # The two branches by their first event (a: the lower hash), and the nodes that wrote them.
    node_a: Mapped[str] = mapped_column(String(36))
    event_a: Mapped[str] = mapped_column(String(36))
    node_b: Mapped[str] = mapped_column(String(36))
    event_b: Mapped[str] = mapped_column(String(36))
    found_at: Mapped[datetime] = mapped_column(DateTime)  # the later of the two first events
    state: Mapped[str] = mapped_column(String(12), default="open")  # open | resolved
    kept_node: Mapped[str | None] = mapped_column(String(36), nullable=True)  # None with resolved: neither
    reason: Mapped[str] = mapped_column(Text, default="")
    resolved_by: Mapped[str] = mapped_column(String(80), default="")
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    resolution_event: Mapped[str | None] = mapped_column(String(36), nullable=True)


class SyncHeldEvent(Base):
    """A ticket event that does not take effect: held while its ticket's conflict is open (``held``), or on a
    branch the resolution did not keep (``lost``, shown as 未生效). The event itself stays in the ledger."""

    __tablename__ = "sync_held_events"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_uid: Mapped[str] = mapped_column(String(36), index=True)
    conflict_id: Mapped[str] = mapped_column(String(64))
    node_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(8))  # held | lost
