"""`hall-admin window …` and `hall-admin point …`: the same services as 管理 → 窗口与代办点 in the program."""

from __future__ import annotations

import argparse
from typing import Any

from hall.services.catalog import windows
from hall.services.people import staff


def register(subparsers: Any) -> None:
    w = subparsers.add_parser("window", help="服务窗口：列出、添加、修改、停用、启用（每次修改生成事项清单新版本）")
    sub = w.add_subparsers(dest="window_command", required=True, metavar="ACTION")
    sub.add_parser("list", help="列出全部窗口（含已停用）").set_defaults(handler=cmd_window_list)
    for name, text in (("add", "添加窗口"), ("edit", "修改窗口名称、电话或排序（编码不变）")):
        p = sub.add_parser(name, help=text)
        p.add_argument("code", metavar="W12")
        p.add_argument("--name", required=name == "add", help="窗口名称")
        p.add_argument("--phone", help="咨询电话")
        p.add_argument("--order", type=int, help="排序（0–999）")
        p.set_defaults(handler=cmd_window_save)
    for name, active in (("disable", False), ("enable", True)):
        p = sub.add_parser(name, help="停用窗口（须无事项、无在岗人员）" if not active else "重新启用窗口")
        p.add_argument("code", metavar="W12")
        p.set_defaults(handler=cmd_window_active, active=active)

    pt = subparsers.add_parser("point", help="受理点（村代办点）：列出、添加、改名、停用、启用")
    sub = pt.add_subparsers(dest="point_command", required=True, metavar="ACTION")
    sub.add_parser("list", help="列出全部受理点").set_defaults(handler=cmd_point_list)
    p = sub.add_parser("add", help="添加村代办点")
    p.add_argument("code", metavar="002")
    p.add_argument("--name", required=True, help="受理点名称")
    p.set_defaults(handler=cmd_point_add)
    p = sub.add_parser("edit", help="修改受理点名称")
    p.add_argument("code", metavar="002")
    p.add_argument("--name", required=True, help="受理点名称")
    p.set_defaults(handler=cmd_point_edit, active=None)
    for name, active in (("disable", False), ("enable", True)):
        p = sub.add_parser(name, help="停用代办点（须无在岗人员）" if not active else "重新启用代办点")
        p.add_argument("code", metavar="002")
        p.set_defaults(handler=cmd_point_edit, active=active, name=None)


def cmd_window_list(_args: argparse.Namespace, ctx: Any) -> int:
    with ctx.db.reading() as s:
        rows = windows.window_rows(s)
    for r in rows:
        print(f"{r.code}\t{r.name}\t{r.phone or '—'}\t排序 {r.sort_order}\t事项 {r.items}\t在岗 {r.staff}\t"
              f"{'启用' if r.active else '已停用'}")
    return 0


def cmd_window_save(args: argparse.Namespace, ctx: Any) -> int:
    with ctx.db.transaction() as s:
        if args.window_command == "add":
            form = windows.WindowForm(args.code, args.name, args.phone or "", args.order or 0)
            row = windows.add_window(s, ctx.actor, form)
        else:
            now = next((r for r in windows.window_rows(s) if r.code == windows.window_code(args.code)), None)
            form = windows.WindowForm(args.code, args.name if args.name is not None else (now.name if now else ""),
                                      args.phone if args.phone is not None else (now.phone if now else ""),
                                      args.order if args.order is not None else (now.sort_order if now else 0))
            row = windows.update_window(s, ctx.actor, form)
    print(f"已保存窗口：{row.code} {row.name}")
    return 0


def cmd_window_active(args: argparse.Namespace, ctx: Any) -> int:
    with ctx.db.transaction() as s:
        row = windows.set_window_active(s, ctx.actor, args.code, args.active)
    print(f"{'已启用' if row.active else '已停用'}窗口：{row.code} {row.name}")
    return 0


def cmd_point_list(_args: argparse.Namespace, ctx: Any) -> int:
    with ctx.db.reading() as s:
        points = [(p.code, p.name, p.active) for p in staff.intake_points(s)]
    for code, name, active in points:
        print(f"{code}\t{name}\t{'启用' if active else '已停用'}")
    return 0


def cmd_point_add(args: argparse.Namespace, ctx: Any) -> int:
    with ctx.db.transaction() as s:
        staff.add_intake_point(s, ctx.actor, args.code, args.name)
    print(f"已添加受理点：{args.code} {args.name.strip()}")
    return 0


def cmd_point_edit(args: argparse.Namespace, ctx: Any) -> int:
    with ctx.db.transaction() as s:
        now = next((p for p in staff.intake_points(s) if p.code == args.code.strip()), None)
        name = args.name if args.name is not None else (now.name if now else "")
        active = args.active if args.active is not None else (now.active if now else True)
        staff.update_intake_point(s, ctx.actor, args.code, name, active)
    print(f"已保存受理点：{args.code.strip()} {name.strip()}（{'启用' if active else '已停用'}）")
    return 0
