"""Sync flags for a person (同步提示): what an import may bring that no rule can settle, derived from the tickets.

- the same ID number with a different name from two nodes (a typing error at the village or at the hall, or a
  wrong ID number): the administrator checks the papers;
- two nodes registering tickets under one intake-point code at overlapping times (a copied laptop, or a revoked
  one still in use): their numbers may collide.

Derived on reading, never stored: the same tickets give the same flags on every node and after any rebuild, in any
import order, and nothing has to be undone when a ticket is corrected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall.models import Ticket
from hall.models.sync import SyncExchange
from hall.services.base.masking import mask_id_for_clerk
from hall.services.tickets.lineage import HALL_POINT


@dataclass(frozen=True)
class Flag:
    kind: str  # name | point
    key: str  # the ID number / the intake-point code
    text: str

    @property
    def label(self) -> str:
        return {"name": "同一证件号码姓名不同", "point": "两个终端使用同一受理点编码"}[self.kind]


def name_flags(session: Session) -> list[Flag]:
    """ID numbers that tickets of more than one node carry with more than one name."""
    t = Ticket.__table__.c
    ids = select(t.applicant_id_no).where(t.applicant_type == "person").group_by(t.applicant_id_no).having(
        func.count(t.applicant_name.distinct()) > 1, func.count(t.node_id.distinct()) > 1)
    rows = session.execute(select(t.applicant_id_no, t.applicant_name, t.intake_point, t.number)
                           .where(t.applicant_id_no.in_(ids)).order_by(t.applicant_id_no, t.number)).all()
    names: dict[str, dict[str, list[str]]] = {}
    for id_no, name, point, number in rows:
        where = "中心" if point == HALL_POINT else f"代办点 {point}"
        names.setdefault(id_no, {}).setdefault(name, []).append(f"{where} {number}")
    out = []
    for id_no, by_name in names.items():
        told = "；".join(f"“{n}”（{'、'.join(w[:3])}{'等' if len(w) > 3 else ''}）" for n, w in by_name.items())
        out.append(Flag("name", id_no, f"证件号码 {mask_id_for_clerk(id_no)}：{told}"))
    return out


def point_flags(session: Session) -> list[Flag]:
    """Intake points under which two nodes registered tickets in overlapping periods."""
    t = Ticket.__table__.c
    rows = session.execute(select(t.intake_point, t.node_id, func.min(t.received_at), func.max(t.received_at),
                                  func.count()).where(t.intake_point != HALL_POINT)
                           .group_by(t.intake_point, t.node_id).order_by(t.intake_point, t.node_id)).all()
    spans: dict[str, list[tuple[str, datetime, datetime, int]]] = {}
    for point, node, first, last, n in rows:
        spans.setdefault(point, []).append((node, first, last, n))
    out = []
    for point, nodes in spans.items():
        clash = [(a, b) for i, a in enumerate(nodes) for b in nodes[i + 1:] if a[1] <= b[2] and b[1] <= a[2]]
        if clash:
            told = "；".join(f"终端 {n[:8]} {f:%Y-%m-%d}～{la:%Y-%m-%d} 共 {c} 件" for n, f, la, c in nodes)
            out.append(Flag("point", point, f"受理点 {point}：{told}"))
    return out


def listing(session: Session) -> list[Flag]:
    return name_flags(session) + point_flags(session)


def stamp(session: Session) -> tuple[Any, ...] | None:
    """What the exchanges recorded so far (None: this database has never exchanged a bundle, so no ticket came
    from another node by sync). Tickets from other nodes arrive only by an exchange, so the flags change with this
    stamp — or when a ticket is corrected, which a screen catches by deriving them again now and then. One read of
    the local exchanges table (a few rows a day)."""
    t = SyncExchange.__table__.c
    count, last = session.execute(select(func.count(), func.max(t.id))).one()
    return (int(count), last) if count else None
