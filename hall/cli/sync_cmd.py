"""`hall-admin sync`: enrol a village laptop, provision it, exchange bundles, revoke it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from hall.cli import sync_conflict_cmd, sync_lan, sync_node
from hall.errors import HallError, ValidationError
from hall.services.storage.node import NodeIdentity
from hall.services.sync import exchange, keys, peers
from hall.services.sync.bundle import BundleRejected

REQUEST_KIND = "hall-sync-request"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser("sync", help="村代办点终端同步").add_subparsers(dest="sync_cmd", required=True,
                                                                       metavar="ACTION")
    r = s.add_parser("request", help="（村代办点电脑）生成密钥和登记申请文件")
    r.add_argument("--point", required=True, help="本机受理点编码（001起）")
    r.add_argument("--out", required=True, help="登记申请文件")
    r.set_defaults(handler=cmd_request)
    e = s.add_parser("enrol", help="（中心）登记终端并生成开通文件")
    e.add_argument("request", help="登记申请文件")
    e.add_argument("--out", required=True, help="开通文件")
    e.set_defaults(handler=cmd_enrol)
    j = s.add_parser("join", help="（村代办点电脑）按中心的开通文件开通本机")
    j.add_argument("provision", help="开通文件")
    j.set_defaults(handler=cmd_join)
    x = s.add_parser("export", help="导出同步文件（村代办点→中心；中心用 --to 发给某终端）")
    x.add_argument("--out", required=True)
    x.add_argument("--to", help="（中心）接收终端：受理点编码或终端标识")
    x.add_argument("--since", type=int, default=0, help="（村代办点）只导出该序号之后的事件")
    x.set_defaults(handler=cmd_export)
    i = s.add_parser("import", help="导入同步文件（全部核验通过后一次写入）")
    i.add_argument("file")
    i.set_defaults(handler=cmd_import)
    sync_lan.register(s)
    sync_conflict_cmd.register(s)
    v = s.add_parser("revoke", help="（中心）吊销终端")
    v.add_argument("who", help="终端标识或受理点编码")
    v.add_argument("--reason", required=True)
    v.set_defaults(handler=cmd_revoke)


def _read(path: str, limit: int = 256 * 1024 * 1024) -> bytes:
    p = Path(path)
    if not p.is_file():
        raise HallError(f"文件不存在：{path}")
    if p.stat().st_size > limit:
        raise BundleRejected("文件过大")
    return p.read_bytes()


def _write(path: str, data: bytes) -> None:
    out = Path(path)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)


def cmd_request(args: argparse.Namespace, ctx: Any) -> int:
    data_dir = ctx.paths.data_dir
    if ctx.paths.database_file.exists() or keys.load(data_dir) is not None:
        raise HallError(f"数据目录 {data_dir} 已有台账或密钥：村代办点电脑须从空的数据目录开始")
    if args.point == "000":
        raise ValidationError("受理点编码", "村代办点应为 001 起（000 为中心大厅）")
    ctx.paths.ensure()
    node = NodeIdentity.load_or_create(ctx.paths.node_file, args.point)
    mine = keys.NodeKeys.create(node.node_id, "laptop", node.intake_point)
    mine.save(data_dir)
    request = {"kind": REQUEST_KIND, "node_id": node.node_id, "intake_point": node.intake_point,
               "sign_key": mine.sign_key, "box_key": mine.box_key}
    _write(args.out, json.dumps(request, ensure_ascii=False).encode())
    print(f"已生成登记申请：{args.out}")
    print(f"本机指纹：{mine.fingerprint}（请与中心屏幕上显示的核对）")
    return 0


def cmd_enrol(args: argparse.Namespace, ctx: Any) -> int:
    try:
        req = json.loads(_read(args.request, 64 * 1024))
        if not isinstance(req, dict) or req.get("kind") != REQUEST_KIND:
            raise ValueError
        node_id, point = str(req["node_id"]), str(req["intake_point"])
    except (ValueError, KeyError, UnicodeDecodeError):
        raise ValidationError("登记申请文件", "格式不对（应为 sync request 生成的文件）") from None
    mine = sync_node.hall_keys(ctx)
    from hall.models import IntakePoint
    from hall.services.people import staff

    with ctx.db.transaction() as session:
        if session.get(IntakePoint, point) is None:
            staff.add_intake_point(session, ctx.actor, point, f"代办点{point}")
        peer = peers.enrol(session, ctx.actor, node_id, point, req.get("sign_key"), req.get("box_key"))
        data = exchange.provision(session, mine, peer.node_id)
    _write(args.out, data)
    print(f"已登记终端 {node_id}（受理点 {point}）")
    print(f"终端指纹：{peer.fingerprint}（请与村代办点电脑屏幕上显示的核对）")
    print(f"中心指纹：{mine.fingerprint}")
    print(f"开通文件：{args.out}")
    return 0


def cmd_join(args: argparse.Namespace, ctx: Any) -> int:
    from hall.services.sync.bundle import check_signature, open_bundle

    mine = keys.load(ctx.paths.data_dir)
    if mine is None or mine.role != "laptop":
        raise HallError("本机尚未生成登记申请（先运行 sync request）")
    if mine.hall is not None:
        raise HallError("本机已开通（已加入中心），不能重复开通")
    opened = open_bundle(mine, _read(args.provision))
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
    with ctx.db.transaction() as session:
        result = exchange.apply_opened(session, ctx.actor, joined, opened, hall.node_id)
        peers.record_join(session, ctx.actor, hall.node_id, {str(k): int(v) for k, v in floor.items()})
    joined.save(ctx.paths.data_dir)  # only once the ledger holds the hall's events
    print(f"已开通：受理点 {mine.intake_point}，从中心收到 {result.new} 条事件（事项清单、日历、设置、本村人员）")
    print(f"中心指纹：{hall.fingerprint}（请与中心屏幕上显示的核对）")
    return 0


def cmd_export(args: argparse.Namespace, ctx: Any) -> int:
    mine = sync_node.own_keys(ctx)
    with ctx.db.transaction() as session:
        data = exchange.export(session, mine, to=args.to, since=args.since)
    _write(args.out, data)
    print(f"已导出同步文件：{args.out}（{len(data) / 1024:.0f} KB）")
    return 0


def cmd_import(args: argparse.Namespace, ctx: Any) -> int:
    mine = sync_node.own_keys(ctx)
    data = _read(args.file)
    with ctx.db.transaction() as session:
        result = exchange.import_bundle(session, ctx.actor, mine, data)
    print(result.message)
    return 0


def cmd_revoke(args: argparse.Namespace, ctx: Any) -> int:
    sync_node.hall_keys(ctx)
    with ctx.db.transaction() as session:
        peer = peers.revoke(session, ctx.actor, args.who, args.reason)
    print(f"已吊销终端 {peer.node_id}（受理点 {peer.intake_point}）：它发来的同步文件今后一律拒绝")
    return 0
