"""Enrolment as the CLI and the 同步 screen both do it: a laptop's request, the hall's enrolment, the laptop's join.

The request file is plain JSON (public keys only); the provisioning file is a sealed bundle addressed to the new
laptop. Each step is a function over bytes so the caller chooses where they come from (a file dialog, a path).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from hall.errors import HallError, ValidationError
from hall.models import IntakePoint
from hall.paths import Paths
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_admin
from hall.services.people import staff
from hall.services.storage.node import NodeIdentity
from hall.services.sync import directory, exchange, journal, keys, peers
from hall.services.sync.bundle import BundleRejected, check_signature, open_bundle

REQUEST_KIND = "hall-sync-request"
REQUEST_MAX = 64 * 1024


def hall_keys(data_dir: Path, node: NodeIdentity) -> keys.NodeKeys:
    """The hall's keys (made on first use); refused on a village laptop."""
    found = keys.load(data_dir)
    if found is None:
        found = keys.NodeKeys.create(node.node_id, "hall", node.intake_point)
        found.save(data_dir)
    if found.role != "hall":
        raise HallError("本机是村代办点终端，不能做中心的操作")
    return found


def own_keys(data_dir: Path, node: NodeIdentity) -> keys.NodeKeys:
    found = keys.load(data_dir)
    return found if found is not None else hall_keys(data_dir, node)


@dataclass(frozen=True)
class Request:
    node_id: str
    intake_point: str
    sign_key: str
    box_key: str

    @property
    def fingerprint(self) -> str:
        try:
            return keys.fingerprint(self.sign_key, self.box_key)
        except ValueError:
            raise ValidationError("登记申请文件", "公钥格式不对") from None

    def to_bytes(self) -> bytes:
        return json.dumps({"kind": REQUEST_KIND, "node_id": self.node_id, "intake_point": self.intake_point,
                           "sign_key": self.sign_key, "box_key": self.box_key}, ensure_ascii=False).encode()


def make_request(paths: Paths, point: str) -> tuple[keys.NodeKeys, Request]:
    """On a new laptop (an empty data directory): the node, its key pair, and the request for the hall."""
    if paths.database_file.exists() or keys.load(paths.data_dir) is not None:
        raise HallError(f"数据目录 {paths.data_dir} 已有台账或密钥：村代办点电脑须从空的数据目录开始")
    if point == "000":
        raise ValidationError("受理点编码", "村代办点应为 001 起（000 为中心大厅）")
    paths.ensure()
    node = NodeIdentity.load_or_create(paths.node_file, point)
    mine = keys.NodeKeys.create(node.node_id, "laptop", node.intake_point)
    mine.save(paths.data_dir)
    return mine, Request(node.node_id, node.intake_point, mine.sign_key, mine.box_key)


def encrypt_new_laptop(paths: Paths) -> str:
    """A village laptop leaves the building: its ledger, backups and drafts are encrypted from the first byte (the
    ledger does not exist yet, so nothing is converted). Returns the recovery code, shown to the person once."""
    from hall.services.storage import at_rest

    return at_rest.enable(paths.data_dir, paths.database_file).recovery_code


def parse_request(data: bytes) -> Request:
    try:
        if len(data) > REQUEST_MAX:
            raise ValueError
        req: Any = json.loads(data)
        if not isinstance(req, dict) or req.get("kind") != REQUEST_KIND:
            raise ValueError
        found = Request(str(req["node_id"]), str(req["intake_point"]), str(req.get("sign_key")),
                        str(req.get("box_key")))
    except (ValueError, KeyError, UnicodeDecodeError):
        raise ValidationError("登记申请文件", "格式不对（应为村代办点电脑生成的登记申请）") from None
    found.fingerprint  # noqa: B018 - the keys must at least be hex before anyone compares them
    return found


@dataclass(frozen=True)
class Enrolled:
    node_id: str
    intake_point: str
    peer_fingerprint: str
    hall_fingerprint: str
    provision: bytes  # the provisioning file's bytes, to be written by the caller
    # The point's earlier (revoked) laptops: how far the hall holds each, said to the administrator at enrolment
    # (what the hall never received went with the old laptop); their chains are in the provisioning file.
    earlier: tuple[peers.Earlier, ...] = ()


def enrol(session: Session, actor: Actor, hall: keys.NodeKeys, req: Request) -> Enrolled:
    """Record the laptop as a peer (an event) and make its provisioning file, in the caller's transaction."""
    require_admin(actor, "登记村代办点终端")  # before a point is added or a provisioning file is made
    if session.get(IntakePoint, req.intake_point) is None:
        staff.add_intake_point(session, actor, req.intake_point, f"代办点{req.intake_point}")
    peer = peers.enrol(session, actor, req.node_id, req.intake_point, req.sign_key, req.box_key)
    data = exchange.provision(session, hall, peer.node_id)
    # The provisioning file is the laptop's first bundle from the hall: what it carried counts as sent.
    sent = exchange.Outgoing(peer.node_id, peer.box_key, peer.intake_point,
                             *exchange.relayed(session, hall.node_id, peer.intake_point))
    journal.record_export(session, hall, sent, data, what="开通文件")
    return Enrolled(peer.node_id, peer.intake_point, peer.fingerprint, hall.fingerprint, data,
                    peers.earlier(session, peer.intake_point))


@dataclass(frozen=True)
class Joined:
    keys: keys.NodeKeys  # with the hall: save it once the transaction committed
    received: int
    hall_fingerprint: str
    tickets: int = 0  # the village's tickets it took (an earlier laptop's of this point, relayed by the hall)


def join(session: Session, actor: Actor, mine: keys.NodeKeys | None, data: bytes) -> Joined:
    """Provision this laptop from the hall's file, in the caller's transaction (the caller saves the keys after)."""
    require_admin(actor, "开通本机（加入中心）")  # before the file is opened: a clerk learns nothing from it
    if mine is None or mine.role != "laptop":
        raise HallError("本机尚未生成登记申请（先申请加入）")
    if mine.hall is not None:
        raise HallError("本机已开通（已加入中心），不能重复开通")
    opened = open_bundle(mine, data)
    m = opened.manifest
    hall_info = m["extra"].get("hall") if m["kind"] == "provision" else None
    if not isinstance(hall_info, dict) or m["to"] != mine.node_id:
        raise BundleRejected("不是发给本机的开通文件", "recipient")
    hall = keys.Partner(str(hall_info["node_id"]), str(hall_info["sign_key"]), str(hall_info["box_key"]))
    if m["from"] != hall.node_id:
        raise BundleRejected("开通文件的发送方与其中的中心不符", "peer")
    check_signature(opened, hall.sign_key)
    floor = m["extra"].get("serial_floor") or {}
    joined = mine.with_hall(hall)
    directory.take(session, m["extra"])
    result = exchange.apply_opened(session, actor, joined, opened, hall.node_id, bundle_id=journal.bundle_id(data))
    joined = joined.with_earlier(exchange.earlier_keys(opened, joined, hall.node_id))  # saved with the hall's
    peers.record_join(session, actor, hall.node_id, {str(k): int(v) for k, v in floor.items()})
    journal.record_received(session, joined, "join", data, opened, result.new, "已开通")
    tickets = sum(1 for e in result.applied if e["type"] == "ticket.received")
    return Joined(joined, result.new, hall.fingerprint, tickets)
