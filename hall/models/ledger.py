"""The ledger (台账): an append-only, hash-chained list of events, one chain per node."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from hall.models.base import Base

HEAD_SIGNED_WHERE = "type = 'ledger.head_signed'"
# The reference events a hall relays to its village laptops at every export (hall/services/sync/exchange.py:
# RELAYED and every staff event of the village's people, STAFF_RELAYED), found without reading the hall's chains.
REFERENCE_TYPES = ("calendar.local_holiday_added", "calendar.year_set", "catalog.imported", "intake_point.added",
                   "settings.changed", "staff.active_set", "staff.added", "staff.b_post_set", "staff.changed",
                   "staff.password_reset", "staff.password_set")
REFERENCE_WHERE = "type IN (" + ", ".join(f"'{t}'" for t in REFERENCE_TYPES) + ")"


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("node_id", "seq", name="uq_events_node_seq"),
        Index("ix_events_ticket", "ticket_uid", "id"),
        # The signed chain heads (a few a day among millions of events): found without a scan by verify and by
        # every sync import (hall/services/storage/anchor.py). Partial, so a save pays nothing for it.
        Index("ix_events_head_signed", "node_id", "seq", sqlite_where=text(HEAD_SIGNED_WHERE),
              postgresql_where=text(HEAD_SIGNED_WHERE)),
        Index("ix_events_reference", "node_id", "seq", sqlite_where=text(REFERENCE_WHERE),
              postgresql_where=text(REFERENCE_WHERE)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    node_id: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(Integer)
    # How the header is hashed (hall.services.storage.ledger.event_hash): 1 for the events of release 1, whose
    # header names the actor by this database's staff.id; 2 names the actor by the stable staff uid.
    format: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # format 1 only: a local staff.id
    actor_uid: Mapped[str | None] = mapped_column(String(36), nullable=True)  # format 2: the stable staff uid
    actor_name: Mapped[str] = mapped_column(String(40))
    actor_role: Mapped[str] = mapped_column(String(12))
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    type: Mapped[str] = mapped_column(String(48))
    ticket_uid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # The canonical JSON text that was hashed; kept verbatim so the chain can be re-checked byte for byte.
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class NodeHead(Base):
    """Last sequence number and hash per node: the row lock that serialises one node's chain."""

    __tablename__ = "node_heads"

    node_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
