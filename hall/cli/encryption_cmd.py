"""`hall-admin encryption status|enable|recover`: the data folder encrypted at rest (ledger, backups, increments,
drafts). See hall/services/storage/at_rest.py and docs/encryption.md."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from hall.errors import HallError
from hall.services.storage import encryption


def register(subparsers: Any) -> None:
    cmd = subparsers.add_parser("encryption", help="数据加密：查看状态、启用加密、用恢复码恢复密钥")
    sub = cmd.add_subparsers(dest="encryption_command", required=True, metavar="ENCRYPTION_COMMAND")
    sub.add_parser("status", help="本数据文件夹是否已加密，本机是否有密钥").set_defaults(handler=cmd_status)
    on = sub.add_parser("enable", help="加密本数据文件夹（台账、备份、增量备份、草稿）；显示一次恢复码，请抄下保管")
    on.add_argument("--code-out", help="同时把恢复码写入这个文件（例如打印后删除）")
    on.set_defaults(handler=cmd_enable)
    rec = sub.add_parser("recover", help="用恢复码把数据密钥恢复到本机（换电脑或重装系统后）")
    rec.add_argument("--code", help="恢复码（14 组，每组 4 个字母或数字）；不给则从标准输入读一行")
    rec.set_defaults(handler=cmd_recover)


def _database(ctx: Any) -> Path:
    found = encryption.database_of(ctx.paths.data_dir, ctx.url)
    if found is None:
        raise HallError(encryption.SERVER_ONLY)
    return found


def cmd_status(args: argparse.Namespace, ctx: Any) -> int:
    state = encryption.state(ctx.paths.data_dir, _database(ctx))
    if not state.enabled:
        print(f"未加密：{ctx.paths.data_dir}（hall-admin encryption enable 可启用）")
        return 0
    print(f"已加密：{ctx.paths.data_dir}（密钥指纹 {state.fingerprint}，启用于 {state.enabled_at}）")
    print(f"本机密钥：{'有' if state.key_here else '没有 —— 请用恢复码恢复（hall-admin encryption recover）'}"
          + (f"（{state.key_path}）" if state.key_here else ""))
    return 0 if state.key_here else 1


def cmd_enable(args: argparse.Namespace, ctx: Any) -> int:
    ctx.paths.ensure()
    database = _database(ctx)
    done = encryption.enable(ctx.paths.data_dir, database)
    print(f"已加密 {ctx.paths.data_dir}：台账、{len(done.converted)} 个已有文件已转换；"
          "此后的备份、增量备份和草稿都加密保存。")
    print("恢复码（只显示这一次；请抄在纸上交中心主任保管，不要存在这台电脑上）：")
    print(f"    {done.recovery_code}")
    print("丢失了本机密钥（换电脑、重装系统）又没有恢复码，数据将无法读取。")
    if args.code_out:
        Path(args.code_out).write_text(done.recovery_code + "\n", encoding="utf-8")
    return 0


def cmd_recover(args: argparse.Namespace, ctx: Any) -> int:
    code = args.code if args.code is not None else sys.stdin.readline()
    found = encryption.recover(ctx.paths.data_dir, code)
    print(f"密钥已恢复到本机（密钥指纹 {found}）：现在可以正常打开 {ctx.paths.data_dir}。")
    return 0
