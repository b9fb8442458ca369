"""`hall-admin sync conflicts / resolve / flags`: the sync conflicts and flags a person must look at."""

from __future__ import annotations

import argparse
from typing import Any

from hall.cli import sync_node
from hall.services.sync import conflicts, flags


def register(s: Any) -> None:
    c = s.add_parser("conflicts", help="列出同步冲突（默认只列待处理的）")
    c.add_argument("--all", action="store_true", help="也列出已处理的")
    c.set_defaults(handler=cmd_conflicts)
    r = s.add_parser("resolve", help="（中心）处理同步冲突：保留一边的办理，或两边都不生效")
    r.add_argument("conflict", help="冲突编号（至少前 6 位）")
    r.add_argument("--keep", required=True, choices=conflicts.KEEP_CHOICES,
                   help="hall：保留中心的办理；village：保留村代办点的办理；none：两边都不生效")
    r.add_argument("--reason", required=True, help="处理原因")
    r.set_defaults(handler=cmd_resolve)
    f = s.add_parser("flags", help="列出须由人核实的同步提示（同一证件号姓名不同、两个终端使用同一受理点编码）")
    f.set_defaults(handler=cmd_flags)


def cmd_conflicts(args: argparse.Namespace, ctx: Any) -> int:
    with ctx.db.transaction() as session:
        found = conflicts.listing(session, open_only=not args.all, with_branches=True)
    if not found:
        print("没有待处理的同步冲突" if not args.all else "没有同步冲突")
        return 0
    for v in found:
        print(f"{v.short_id}  办件 {v.number}  {v.item_name}  发现于 {v.found_at:%Y-%m-%d %H:%M}  {v.outcome}")
        for side, lines in ((v.side_a, v.branch_a), (v.side_b, v.branch_b)):
            for line in lines:
                print(f"    {side}：{line.at:%m-%d %H:%M} {line.who} {line.what}（{line.status_label}）")
        if not v.is_open:
            print(f"    处理：{v.resolved_by} {v.resolved_at:%Y-%m-%d %H:%M}，原因：{v.reason}")
    return 0


def cmd_resolve(args: argparse.Namespace, ctx: Any) -> int:
    sync_node.hall_keys(ctx)  # a laptop is told it cannot (its bundles may not carry a resolution)
    with ctx.db.transaction() as session:
        c = conflicts.resolve(session, ctx.actor, args.conflict, args.keep, args.reason)
        v = conflicts.view(session, c, with_branches=False)
    print(f"已处理同步冲突 {v.short_id}（办件 {v.number}）：{v.outcome}。下次同步时传给村代办点")
    return 0


def cmd_flags(args: argparse.Namespace, ctx: Any) -> int:
    with ctx.db.transaction() as session:
        found = flags.listing(session)
    if not found:
        print("没有须核实的同步提示")
        return 0
    for f in found:
        print(f"{f.label}：{f.text}")
    return 0
