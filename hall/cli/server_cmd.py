"""`hall-admin server init`: an empty PostgreSQL database becomes the hall's server, in one command.

    hall-admin server init --db postgresql://hall@SERVER/hall [--admin-password-file FILE]

The schema (Alembic migrations), the default catalogue and calendar, the hall's intake point, and the first
administrator (工号 admin). The administrator's password is asked twice on a terminal (never echoed) or read from
the first line of ``--admin-password-file`` (``-``: standard input); it never appears on the command line, on the
screen or in a log. Run again on an initialised server it says so and changes nothing — without asking for a
password. The database password, if the address has one, is shown as ``***``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from hall.errors import HallError, ValidationError
from hall.services.storage import dburl


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser("server", help="大厅数据库服务器（PostgreSQL）").add_subparsers(
        dest="server_cmd", required=True, metavar="ACTION")
    i = s.add_parser("init", help="初始化大厅服务器：建表、载入事项清单和节假日、创建管理员")
    i.add_argument("--db", dest="server_db", help="服务器地址 postgresql://用户[:密码]@服务器[:端口]/数据库"
                                                  "（也可用环境变量 HALL_DB）")
    i.add_argument("--admin-password-file", help="从该文件第一行读取管理员密码（- 为标准输入）；省略则在终端输入两次")
    i.set_defaults(handler=cmd_server_init)


def _url(args: argparse.Namespace, ctx: Any) -> str:
    url = args.server_db or ctx.url or os.environ.get("HALL_DB")
    if not url:
        raise ValidationError("--db", "请给出服务器地址，如 postgresql://hall@192.168.1.10/hall")
    dburl.parse(url)  # a clear message for a malformed address before anything else
    return url


def _password(args: argparse.Namespace) -> str:
    if args.admin_password_file:
        try:
            raw = sys.stdin.read() if args.admin_password_file == "-" else \
                Path(args.admin_password_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise HallError(f"无法读取管理员密码文件 {args.admin_password_file}：{exc.__class__.__name__}") from None
        lines = raw.splitlines()
        password = lines[0] if lines else ""
        if not password:
            raise ValidationError("管理员密码文件", "第一行为空")
        return password
    if sys.stdin is None or not sys.stdin.isatty():
        raise ValidationError("管理员密码", "没有终端可以输入：请用 --admin-password-file 文件（第一行为密码）")
    import getpass

    first = getpass.getpass("设置管理员（工号 admin）密码，至少8位：")
    again = getpass.getpass("再输入一次：")
    if first != again:
        raise ValidationError("管理员密码", "两次输入不一致，未做任何更改")
    return first


def cmd_server_init(args: argparse.Namespace, ctx: Any) -> int:
    from hall.logging_setup import configure
    from hall.services.bootstrap import init_server, server_state

    url = _url(args, ctx)
    configure(ctx.paths.ensure().logs_dir)  # what was done is kept in the administrator's hall.log (masked)
    where = dburl.server_label(url)
    print(f"服务器：{dburl.masked(url)}")
    if server_state(url) == "hall":
        print(f"服务器 {where} 已经初始化（已有 Hall 数据库和管理员）：未做任何更改")
        return 0
    outcome = init_server(ctx.paths, url, _password(args))
    print(outcome.message)
    for line in outcome.lines:
        print(f"  {line}")
    if outcome.created:
        print("各窗口电脑启动：hall --db " + dburl.without_password(url) + "（数据库密码在登录时输入），"
              "或在登录窗口选择已保存的服务器")
    return 0
