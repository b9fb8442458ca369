"""`hall-admin demo-data`: fill the ledger with realistic demo tickets (for trying Hall and for benchmarks)."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta
from typing import Any

from hall.demo import data as demo_data
from hall.demo import walkthrough
from hall.errors import ValidationError


def register(sub: Any) -> None:
    p = sub.add_parser("demo-data", help="生成演示办件（各窗口、办件类型、村代办点和日期；百万件约数分钟）")
    p.add_argument("--tickets", required=True, type=_count, help="办件数量，如 1000000")
    p.add_argument("--seed", type=int, default=1, help="随机种子：相同种子、相同数据库生成相同办件（默认1）")
    p.add_argument("--from", dest="start", type=_day, help="最早收件日期 YYYY-MM-DD（默认按数量推算，最多十年）")
    p.add_argument("--to", dest="end", type=_day,
                   help="最晚收件日期 YYYY-MM-DD（默认昨天；加 --workflows 时默认为走查开始的前一天）")
    p.add_argument("--workflows", action="store_true",
                   help="生成后再演示一遍全部业务流程（代办、联办、转办、集体研究、评价整改、回访、投诉、责任追究、"
                        "考勤与B岗、约访、日历调整等），均经由正式业务功能记入台账")
    p.set_defaults(handler=cmd_demo_data)


def _count(text: str) -> int:
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"办件数量应为整数，现为“{text}”") from None
    if not 0 <= value <= demo_data.MAX_TICKETS:
        raise argparse.ArgumentTypeError(f"办件数量应为 0 至 {demo_data.MAX_TICKETS}")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应为 YYYY-MM-DD，现为“{text}”") from None


def cmd_demo_data(args: argparse.Namespace, ctx: Any) -> int:
    if args.start and args.end and args.start > args.end:
        raise ValidationError("日期范围", f"--from {args.start} 晚于 --to {args.end}")
    began = time.perf_counter()
    last = {"at": 0.0, "done": -1}

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if done == last["done"] or (now - last["at"] < 1.0 and done < total):
            return
        last["at"], last["done"] = now, done
        rate = done / (now - began) if now > began else 0.0
        print(f"\r已生成 {done:,}/{total:,} 件（{rate:,.0f} 件/秒）", end="", file=sys.stderr, flush=True)

    end = args.end
    if args.workflows and end is None:
        # The walkthrough plays the working days just before today: the demo tickets end the day before, so
        # the ledger stays in time order.
        end = walkthrough.first_day(ctx.db, date.today()) - timedelta(days=1)
        if args.start and args.start > end:
            raise ValidationError("日期范围", f"--from {args.start} 晚于走查开始前一天 {end}")
    report = demo_data.generate(ctx.db, ctx.node, args.tickets, seed=args.seed, start=args.start, end=end,
                                progress=progress)
    print(file=sys.stderr)
    states = "，".join(f"{k} {v:,}" for k, v in sorted(report.by_state.items(), key=lambda kv: -kv[1]))
    print(f"已生成 {report.tickets:,} 件办件（{report.first_day} 至 {report.last_day}），"
          f"台账事件 {report.events:,} 条，申请人 {report.applicants:,} 人，新增工作人员 {report.staff_added} 人")
    print(f"状态：{states}")
    print(f"用时 {report.seconds:.1f} 秒，{report.rate:,.0f} 件/秒")
    if args.workflows:
        from hall.services.sync import heads

        key = heads.node_keys(ctx.paths.data_dir, ctx.node.node_id, ctx.node.intake_point).sign
        walk = walkthrough.run(ctx.db, ctx.node, seed=args.seed, head_key=key,
                               progress=lambda what: print(f"  … {what}", file=sys.stderr, flush=True))
        lines = walk.lines()
        print(lines[0])
        for line in lines[1:]:
            if line.startswith("  提示"):
                print(line)
    return 0
