"""Enrolment: the hall records a laptop as a peer (an event on its chain); revocation; a laptop's join; what the
hall holds of a point's revoked laptops (said when a replacement is enrolled).

The peer table is a projection like every other, so ``ledger check`` covers it; the private keys are not in it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from hall.errors import ConflictError, HallError, ValidationError
from hall.models import Event, NodeHead, Ticket, TicketSerial
from hall.models.sync import SyncExchange, SyncPeer
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_admin
from hall.services.storage import ledger
from hall.services.storage.db import upsert_insert
from hall.services.sync.keys import fingerprint

ENROLLED = "sync.peer_enrolled"
REVOKED = "sync.peer_revoked"
JOINED = "sync.joined"


def _hex_key(value: Any, what: str) -> str:
    if not (isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)):
        raise ValidationError(what, "应为64位十六进制公钥")
    return value


def enrol(session: Session, actor: Actor, node_id: str, point: str, sign_key: str, box_key: str) -> SyncPeer:
    require_admin(actor, "登记村代办点终端")
    sign_key, box_key = _hex_key(sign_key, "签名公钥"), _hex_key(box_key, "加密公钥")
    if node_id == actor.node_id:
        raise ValidationError("终端", "不能登记中心本机")
    existing = session.get(SyncPeer, node_id)
    if existing is not None:
        state = "已吊销" if existing.revoked_at else "已登记"
        raise ConflictError(f"终端 {node_id[:8]} {state}（受理点 {existing.intake_point}）：不能重复登记；"
                            "更换电脑请在新电脑上重新生成登记申请")
    same_point = session.scalars(select(SyncPeer).where(SyncPeer.intake_point == point,
                                                        SyncPeer.revoked_at.is_(None))).first()
    if same_point is not None:
        # Two laptops numbering one intake point would hand out the same ticket numbers.
        raise ConflictError(f"受理点 {point} 已有登记的终端 {same_point.node_id[:8]}：请先吊销它再登记新终端")
    ledger.append(session, actor, ENROLLED, {"node_id": node_id, "intake_point": point, "sign_key": sign_key,
                                             "box_key": box_key, "fingerprint": fingerprint(sign_key, box_key)})
    return session.get(SyncPeer, node_id)  # type: ignore[return-value]


def revoke(session: Session, actor: Actor, who: str, reason: str) -> SyncPeer:
    """Revoke the peer named by node id (or its first 8 characters) or by intake point code."""
    require_admin(actor, "吊销终端")
    reason = reason.strip()
    if not reason:
        raise ValidationError("吊销原因", "必须填写")
    peers = [p for p in session.scalars(select(SyncPeer).where(SyncPeer.revoked_at.is_(None)))
             if p.node_id == who or (p.node_id.startswith(who) and len(who) >= 8) or p.intake_point == who]
    if len(peers) != 1:
        raise HallError(f"找不到唯一的已登记终端“{who}”（按终端标识或受理点编码）")
    ledger.append(session, actor, REVOKED, {"node_id": peers[0].node_id, "reason": reason})
    return peers[0]


def active_peer(session: Session, node_id: str) -> SyncPeer | None:
    peer = session.get(SyncPeer, node_id)
    return peer if peer is not None and peer.revoked_at is None else None


@dataclass(frozen=True)
class Earlier:
    """A revoked laptop of a point, as the hall last heard of it: what a replacement will and will not get."""

    node_id: str
    intake_point: str
    revoked_at: datetime
    reason: str
    last_import: datetime | None  # the last bundle of it the hall took in (the hall's record of exchanges)
    last_seq: int  # how far the hall holds its chain (0: nothing of it)
    last_event_at: datetime | None  # when it wrote the last event the hall has
    tickets: int  # the tickets it registered that the hall has
    last_number: str | None  # the highest of their numbers

    @property
    def text(self) -> str:
        """In plain words for the administrator enrolling the replacement: the events the hall never received went
        with the old laptop — said, not silent."""
        head = (f"受理点 {self.intake_point} 原来的电脑（终端 {self.node_id[:8]}，{_at(self.revoked_at)} 吊销："
                f"{self.reason}）")
        if not self.last_seq:
            return head + "从未同步到中心：它登记的办件中心都没有，新电脑上也不会有，请村代办员向群众逐件核实。"
        synced = f"最后一次同步到中心是 {_at(self.last_import)}" if self.last_import else "中心没有它的同步记录"
        number = f"，最后一件编号 {self.last_number}" if self.last_number else ""
        return (head + f"{synced}：中心收到它到第 {self.last_seq} 号的事件（最后一条记于 {_at(self.last_event_at)}），"
                f"其中办件 {self.tickets} 件{number}。这些办件连同中心此后的办理都会带到新电脑上；它在那之后登记"
                "或办理而没有同步到中心的，已随那台电脑丢失，新电脑上不会有，请村代办员向群众核实。"
                "新电脑的办件编号接着中心已有的编号续编；原电脑此后发出的编号中心不知道，可能与新电脑的重复，"
                "核实时请同时核对申请人和登记时间。")


def _at(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M") if when is not None else "—"


def earlier(session: Session, point: str) -> tuple[Earlier, ...]:
    """The revoked laptops of ``point``, oldest revocation first, each with how far the hall holds its chain."""
    out = []
    e = Event.__table__.c
    for peer in session.scalars(select(SyncPeer).where(SyncPeer.intake_point == point,
                                                       SyncPeer.revoked_at.is_not(None))
                                .order_by(SyncPeer.revoked_at, SyncPeer.node_id)):
        head = session.get(NodeHead, peer.node_id)
        last_seq = head.seq if head is not None else 0
        last_at = session.scalar(select(e.occurred_at).where(e.node_id == peer.node_id, e.seq == last_seq)) \
            if last_seq else None
        tickets, number = session.execute(
            select(func.count(), func.max(Ticket.number)).select_from(Event.__table__)
            .join(Ticket, Ticket.uid == e.ticket_uid)
            .where(e.node_id == peer.node_id, e.type == "ticket.received")).one()
        last_import = session.scalar(select(func.max(SyncExchange.at)).where(
            SyncExchange.peer == peer.node_id, SyncExchange.direction == "import"))
        out.append(Earlier(peer.node_id, point, peer.revoked_at, peer.revoke_reason, last_import,  # type: ignore[arg-type]
                           last_seq, last_at, int(tickets or 0), number))
    return tuple(out)


def serial_floor(session: Session, point: str) -> dict[str, int]:
    """The highest serial of every day the hall has seen for ``point``: a replacement laptop continues above it."""
    return {s.day: s.last for s in session.scalars(select(TicketSerial).where(TicketSerial.point == point))}


def record_join(session: Session, actor: Actor, hall_node: str, floor: dict[str, int]) -> None:
    require_admin(actor, "登记加入中心")
    ledger.append(session, actor, JOINED, {"hall_node": hall_node, "intake_point": actor.intake_point,
                                           "serial_floor": dict(sorted(floor.items()))})


@ledger.projector(ENROLLED)
def _project_enrolled(session: Session, ev: Event, p: dict[str, Any]) -> None:
    session.add(SyncPeer(node_id=p["node_id"], intake_point=p["intake_point"], sign_key=p["sign_key"],
                         box_key=p["box_key"], fingerprint=p["fingerprint"], enrolled_at=ev.occurred_at,
                         revoked_at=None, revoke_reason=""))
    session.flush()


@ledger.projector(REVOKED)
def _project_revoked(session: Session, ev: Event, p: dict[str, Any]) -> None:
    peer = session.get(SyncPeer, p["node_id"])
    if peer is None:
        raise HallError(f"吊销的终端 {p['node_id'][:8]} 未登记")
    peer.revoked_at = ev.occurred_at
    peer.revoke_reason = p["reason"]
    session.flush()


@ledger.projector(JOINED)
def _project_joined(session: Session, ev: Event, p: dict[str, Any]) -> None:
    raise_serials(session, [(p["intake_point"], day, int(last)) for day, last in p["serial_floor"].items()])


def raise_serials(session: Session, floors: list[tuple[str, str, int]]) -> None:
    """Raise the (point, day) counters to at least the given serials. Counters only ever go up (max), so this
    commutes with the tickets numbered on either side and with the order bundles arrive in."""
    if not floors:
        return
    session.flush()
    table = TicketSerial.__table__
    dialect = session.get_bind().dialect.name
    stmt = upsert_insert(dialect)(table).values(point=bindparam("p"), day=bindparam("d"), last=bindparam("n"))
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.point, table.c.day],
                                      set_={"last": _greatest(dialect, table.c.last, stmt.excluded.last)})
    session.execute(stmt, [{"p": p, "d": d, "n": n} for p, d, n in floors])


def reapply_floors(session: Session) -> int:
    """After a rebuild derived the counters from the tickets alone: the floors the laptop was provisioned with."""
    floors = [(p["intake_point"], day, int(last))
              for payload in session.scalars(select(Event.payload).where(Event.type == JOINED))
              for p in [json.loads(payload)] for day, last in p["serial_floor"].items()]
    raise_serials(session, floors)
    return len(floors)


def _greatest(dialect: str, a: Any, b: Any) -> Any:
    return func.greatest(a, b) if dialect == "postgresql" else func.max(a, b)

