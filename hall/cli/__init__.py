"""`hall-admin`: the administrator's command line. Calls services, print and exchange; never the UI.

Each area registers its sub-commands from its own module (``hall/cli/<area>_cmd.py``, listed in
:data:`COMMAND_MODULES`) through ``register(subparsers)`` and a handler ``run(args, ctx) -> int``. Every
command works without a terminal, exits non-zero with a one-line Chinese reason on bad input, and never prints
a traceback for it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from hall.cli import (
    calendar_cmd,
    catalog_cmd,
    core_cmd,
    demo_cmd,
    encryption_cmd,
    petition_cmd,
    places_cmd,
    print_cmd,
    report_cmd,
    server_cmd,
    settings_cmd,
    sync_cmd,
)
from hall.cli.args import ChineseArgumentParser, iso_date  # noqa: F401  (iso_date: for callers of this package)
from hall.errors import HallError
from hall.logging_setup import crash_report

log = logging.getLogger("hall.cli")

# The modules that contribute sub-commands, in the order of ``hall-admin --help``; each has register(subparsers).
COMMAND_MODULES = (core_cmd, settings_cmd, server_cmd, catalog_cmd, demo_cmd, calendar_cmd, print_cmd, report_cmd,
                   sync_cmd, encryption_cmd, petition_cmd, places_cmd)

def build_parser() -> argparse.ArgumentParser:
    parser = ChineseArgumentParser(prog="hall-admin", description="Hall 便民服务中心 管理命令")
    parser.add_argument("--data-dir", help="数据目录（默认按系统约定；也可用环境变量 HALL_HOME）")
    parser.add_argument("--db", help="数据库地址，例如 postgresql://user:pw@host/hall；默认本机 SQLite")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=ChineseArgumentParser)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Chinese messages must reach a Windows console or a pipe intact.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(encoding="utf-8", errors="replace")
    parser = build_parser()
    args = parser.parse_args(argv)
    from hall.cli.context import CliContext

    try:
        with CliContext.from_args(args) as ctx:
            return int(args.handler(args, ctx) or 0)
    except HallError as exc:
        print(f"错误：{exc}".replace("\n", " "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"错误：文件或磁盘操作失败：{exc.strerror or exc}（{getattr(exc, 'filename', '') or ''}）",
              file=sys.stderr)
        return 2
    except Exception as exc:
        # Unexpected: the traceback goes to hall.log through the crash report (no bound values, identifiers
        # masked), the terminal gets one line — never Python's own traceback, which would print the database
        # driver's DETAIL with the row's values.
        log_path = _configure_logging(args)
        log.error("unexpected error in %s\n%s", args.command, crash_report(type(exc), exc, exc.__traceback__))
        where = f"，详细记录已写入 {log_path}" if log_path else ""
        print(f"错误：程序遇到意外错误（{type(exc).__name__}），本次操作未完成{where}", file=sys.stderr)
        return 70  # EX_SOFTWARE


def _configure_logging(args: argparse.Namespace) -> Path | None:
    """hall.log in the data directory the command works on (None when it cannot be written)."""
    from hall.logging_setup import configure
    from hall.paths import Paths

    try:
        return configure(Paths.resolve(getattr(args, "data_dir", None)).logs_dir)
    except (OSError, HallError):
        return None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
