"""`hall-admin sync`: enrol a village laptop, provision it, exchange bundles, revoke it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hall.cli import sync_conflict_cmd, sync_lan, sync_node
from hall.errors import HallError
from hall.services.sync import enrolment, heads, journal, keys, parking, peers
from hall.services.sync.bundle import BundleRejected

REQUEST_KIND = enrolment.REQUEST_KIND


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser("sync", help="村代办点终端同步").add_subparsers(dest="sync_cmd", required=True,
                                                                       metavar="ACTION")
    r = s.add_parser("request", help="（村代办点电脑）生成密钥和登记申请文件")
    r.add_argument("--point", required=True, help="本机受理点编码（001起）")
    r.add_argument("--out", required=True, help="登记申请文件")
    r.add_argument("--code-out", help="把数据加密的恢复码同时写入这个文件（打印后删除）")
    r.add_argument("--no-encryption", action="store_true",
                   help="不加密本机数据（不建议：笔记本电脑离开中心，遗失即泄露群众身份证号）")
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
    x.add_argument("--full", action="store_true",
                   help="（中心）不按该终端已确认的部分删减，把要转发的各条链整条发出（本机数据有疑问时用）")
    x.set_defaults(handler=cmd_export)
    i = s.add_parser("import", help="导入同步文件（全部核验通过后一次写入）")
    i.add_argument("file")
    i.set_defaults(handler=cmd_import)
    k = s.add_parser("parked", help="列出暂存的事件（已核验，等待所依赖的事件到齐）")
    k.set_defaults(handler=cmd_parked)
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
    mine, request = enrolment.make_request(ctx.paths, args.point)
    if not args.no_encryption:
        code = enrolment.encrypt_new_laptop(ctx.paths)
        print("本机数据已加密。恢复码（只显示这一次；请抄在纸上交中心主任保管）：")
        print(f"    {code}")
        if args.code_out:
            Path(args.code_out).write_text(code + "\n", encoding="utf-8")
    _write(args.out, request.to_bytes())
    print(f"已生成登记申请：{args.out}")
    print(f"本机指纹：{mine.fingerprint}（请与中心屏幕上显示的核对）")
    return 0


def cmd_enrol(args: argparse.Namespace, ctx: Any) -> int:
    req = enrolment.parse_request(_read(args.request, enrolment.REQUEST_MAX))
    mine = sync_node.hall_keys(ctx)
    with ctx.db.transaction() as session:
        done = enrolment.enrol(session, ctx.actor, mine, req)
    _write(args.out, done.provision)
    print(f"已登记终端 {done.node_id}（受理点 {done.intake_point}）")
    print(f"终端指纹：{done.peer_fingerprint}（请与村代办点电脑屏幕上显示的核对）")
    print(f"中心指纹：{done.hall_fingerprint}")
    print(f"开通文件：{args.out}")
    for earlier in done.earlier:  # a replacement: what it will get, and what went with the old laptop
        print(earlier.text)
    return 0


def cmd_join(args: argparse.Namespace, ctx: Any) -> int:
    data = _read(args.provision)
    with ctx.db.transaction() as session:
        joined = enrolment.join(session, ctx.actor, keys.load(ctx.paths.data_dir), data)
    joined.keys.save(ctx.paths.data_dir)  # only once the ledger holds the hall's events
    with ctx.db.reading() as session:  # an earlier laptop's signed heads, now that its key is known
        heads.keep_recorded(session, ctx.paths.data_dir)
    village = f"，本村原有办件 {joined.tickets} 件" if joined.tickets else ""
    print(f"已开通：受理点 {joined.keys.intake_point}，从中心收到 {joined.received} 条事件"
          f"（事项清单、日历、设置、本村人员{village}）")
    print(f"中心指纹：{joined.hall_fingerprint}（请与中心屏幕上显示的核对）")
    return 0


def cmd_export(args: argparse.Namespace, ctx: Any) -> int:
    mine = sync_node.own_keys(ctx)
    with ctx.db.transaction() as session:
        done = journal.export(session, mine, to=args.to, since=args.since, full=args.full)
        _write(args.out, done.data)  # before the commit: a file that could not be written is not recorded
    print(f"已导出同步文件：{args.out}（{len(done.data) / 1024:.0f} KB，{done.preview.events} 条事件）")
    return 0


def cmd_import(args: argparse.Namespace, ctx: Any) -> int:
    mine = sync_node.own_keys(ctx)
    data = _read(args.file)
    with ctx.db.transaction() as session:
        result = journal.import_bundle(session, ctx.actor, mine, data, ctx.paths.data_dir)
    print(result.message)
    return 0


def cmd_parked(args: argparse.Namespace, ctx: Any) -> int:
    with ctx.db.transaction() as session:
        waits = parking.summary(session)
        lines = parking.listing(session)
    if not waits:
        print("没有暂存的事件")
        return 0
    print(f"暂存 {sum(w.count for w in waits)} 条事件（到齐后下次导入时自动导入）：")
    for w in waits:
        print(f"  {w.count} 条：{w.reason}")
    for line in lines:
        print(f"    终端 {line.node_id[:8]} 第 {line.seq} 号  {line.label}  {line.reason}")
    return 0


def cmd_revoke(args: argparse.Namespace, ctx: Any) -> int:
    sync_node.hall_keys(ctx)
    with ctx.db.transaction() as session:
        peer = peers.revoke(session, ctx.actor, args.who, args.reason)
    print(f"已吊销终端 {peer.node_id}（受理点 {peer.intake_point}）：它发来的同步文件今后一律拒绝")
    return 0
