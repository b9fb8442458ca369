"""Village-laptop sync: the peers the hall has enrolled.

A projection of ledger events (``sync.peer_enrolled`` / ``sync.peer_revoked`` on the hall's chain), so ``ledger
check`` rebuilds it like any other table. What a node has imported is not recorded apart: it is the events
themselves and the peer's chain head in ``node_heads`` (so the hall's state does not depend on import order).
The private keys are never here: they live in the data directory's key file (hall/services/sync/keys.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text
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
