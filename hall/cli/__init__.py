"""`hall-admin`: the administrator's command line. Calls services, print and exchange; never the UI.

Each area registers its sub-commands from its own module (``hall/cli/<area>_cmd.py``) through
``register(subparsers)`` and a handler ``run(args, ctx) -> int``. Every command works without a terminal,
exits non-zero with a one-line Chinese reason on bad input, and never prints a traceback for it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from hall.errors import HallError
from hall.logging_setup import crash_report

log = logging.getLogger("hall.cli")

# Modules that contribute sub-commands; each has register(subparsers).
COMMAND_MODULES = (
    "hall.cli.core_cmd",
    "hall.cli.catalog_cmd",
    "hall.cli.demo_cmd",
    "hall.cli.calendar_cmd",
    "hall.cli.print_cmd",
    "hall.cli.report_cmd",
)


class ChineseArgumentParser(argparse.ArgumentParser):
    """argparse's own complaints, in one Chinese line (the reason) plus where to look, exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        message = (message.replace("the following arguments are required", "缺少必填参数")
                   .replace("invalid choice", "无效的选项").replace("unrecognized arguments", "无法识别的参数")
                   .replace("expected one argument", "缺少参数值").replace("argument ", "参数 ")
                   .replace("invalid", "无效的").replace("value", "值"))
        self.exit(2, f"错误：{message}（用 {self.prog} --help 查看用法）\n")


def iso_date(text: str) -> date:
    """An argparse type: YYYY-MM-DD, with a Chinese message."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期“{text}”应为 YYYY-MM-DD 格式的有效日期") from None


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = ChineseArgumentParser(prog="hall-admin", description="Hall 便民服务中心 管理命令")
    parser.add_argument("--data-dir", help="数据目录（默认按系统约定；也可用环境变量 HALL_HOME）")
    parser.add_argument("--db", help="数据库地址，例如 postgresql://user:pw@host/hall；默认本机 SQLite")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=ChineseArgumentParser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # an area not built yet contributes nothing
                continue
            raise
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
