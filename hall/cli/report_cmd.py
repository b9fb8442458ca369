"""`hall-admin report …`: monthly / quarterly statistics, ticket ledger, overdue list, performance review."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from hall.errors import ValidationError
from hall.exchange import reports_xlsx
from hall.services.reporting.stats import Period


def _day(field: str):  # type: ignore[no-untyped-def]
    def parse(text: str) -> date:
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{field}应写成 YYYY-MM-DD，现为“{text}”") from None

    return parse


def _month(text: str) -> Period:
    try:
        return Period.parse_month(text)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _quarter(text: str) -> Period:
    try:
        return Period.parse_quarter(text)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers: Any) -> None:
    rep = subparsers.add_parser("report", help="统计报表导出 Excel：月报、季报、办件台账、超期清单、效绩考核")
    sub = rep.add_subparsers(dest="report_command", required=True, metavar="REPORT")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--out", required=True, metavar="FILE.xlsx", help="输出文件（.xlsx）")
        p.add_argument("--today", type=_day("统计日"), metavar="YYYY-MM-DD",
                       help="统计截止日（默认今天；未结束的期间统计到这一天）")

    m = sub.add_parser("monthly", help="月度统计（按窗口、办件类型、受理点、事项，附效绩、超期清单、办件台账）")
    m.add_argument("--month", required=True, type=_month, metavar="YYYY-MM")
    m.add_argument("--no-ledger", action="store_true", help="不附办件登记台账")
    common(m)
    m.set_defaults(handler=cmd_statistics)

    q = sub.add_parser("quarterly", help="季度统计（同月报格式）")
    q.add_argument("--quarter", required=True, type=_quarter, metavar="YYYYQn")
    q.add_argument("--no-ledger", action="store_true", help="不附办件登记台账")
    common(q)
    q.set_defaults(handler=cmd_statistics)

    led = sub.add_parser("ledger", help="某期间的办件登记台账（默认个人信息脱敏）")
    led.add_argument("--from", dest="start", required=True, type=_day("开始日期"), metavar="YYYY-MM-DD")
    led.add_argument("--to", dest="end", required=True, type=_day("结束日期"), metavar="YYYY-MM-DD")
    led.add_argument("--full", action="store_true",
                     help="含完整姓名、身份证号、电话、住址（仅系统管理员；导出本身记入台账）")
    common(led)
    led.set_defaults(handler=cmd_ledger)

    over = sub.add_parser("overdue", help="超期办件清单及原因（默认本月）")
    over.add_argument("--month", type=_month, metavar="YYYY-MM")
    common(over)
    over.set_defaults(handler=cmd_overdue)

    perf = sub.add_parser("performance", help="工作人员效绩考核表")
    perf.add_argument("--month", type=_month, metavar="YYYY-MM")
    perf.add_argument("--quarter", type=_quarter, metavar="YYYYQn")
    common(perf)
    perf.set_defaults(handler=cmd_performance)


def _today(args: argparse.Namespace) -> date:
    return args.today or date.today()


def _done(result: reports_xlsx.ReportResult) -> int:
    print(f"已导出 {result.path}（工作表：{'、'.join(result.sheets)}；数据 {result.rows:,} 行）")
    return 0


def cmd_statistics(args: argparse.Namespace, ctx: Any) -> int:
    period: Period = args.month if args.report_command == "monthly" else args.quarter
    with ctx.db.transaction() as s:
        result = reports_xlsx.monthly_or_quarterly(s, period, args.out, today=_today(args), actor=ctx.actor,
                                                   with_ledger=not args.no_ledger)
    return _done(result)


def cmd_ledger(args: argparse.Namespace, ctx: Any) -> int:
    period = Period.between(args.start, args.end)
    with ctx.db.transaction() as s:
        result = reports_xlsx.write_ledger(s, ctx.actor, period, args.out, today=_today(args), full=args.full)
    if args.full:
        print("注意：文件含完整个人信息，本次导出已记入台账；请妥善保管，用后销毁。")
    return _done(result)


def cmd_overdue(args: argparse.Namespace, ctx: Any) -> int:
    today = _today(args)
    period = args.month or Period.month(today.year, today.month)
    with ctx.db.transaction() as s:
        return _done(reports_xlsx.write_overdue(s, ctx.actor, period, args.out, today=today))


def cmd_performance(args: argparse.Namespace, ctx: Any) -> int:
    today = _today(args)
    if args.month and args.quarter:
        raise ValidationError("考核期间", "--month 与 --quarter 只能选一个")
    period = args.month or args.quarter or Period.month(today.year, today.month)
    with ctx.db.transaction() as s:
        return _done(reports_xlsx.write_performance(s, ctx.actor, period, args.out, today=today))
