"""Argument parsing shared by every sub-command: Chinese complaints and Chinese date parsing."""

from __future__ import annotations

import argparse
from datetime import date


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
