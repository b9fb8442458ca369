"""`hall-admin calendar …` and `hall-admin deadline …`: calendar years, local holidays, and a due date on demand."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from hall.errors import ValidationError
from hall.services.calendar import workdays as calendar_service
from hall.services.calendar.deadlines import WEEKDAY_NAMES, LimitRule, compute_due
from hall.services.calendar.derived import KIND_NAMES, DateRule, explain
from hall.services.calendar.workdays import DayException, WorkCalendar
from hall.services.cases import recalc

STATUS_NAMES = {"confirmed": "已确认", "provisional": "暂定"}
SOURCE_NAMES = {"chinese_calendar": "chinesecalendar 软件包", "notice": "国务院通知",
                "weekday-fallback": "按周一至周五推算"}


def _iso_date(field: str) -> Callable[[str], date]:
    def parse(text: str) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{field}应写成 YYYY-MM-DD，现为 {text!r}") from None

    return parse


def _year(text: str) -> int:
    if not text.isdigit() or not calendar_service.EARLIEST_YEAR <= int(text) <= calendar_service.LATEST_YEAR:
        raise argparse.ArgumentTypeError(f"年份应为 {calendar_service.EARLIEST_YEAR}–"
                                         f"{calendar_service.LATEST_YEAR} 之间的四位数字，现为 {text!r}")
    return int(text)


def register(subparsers: Any) -> None:
    cal = subparsers.add_parser("calendar", help="工作日历：年度节假日安排、地方节假日")
    sub = cal.add_subparsers(dest="calendar_command", required=True, metavar="CALENDAR_COMMAND")

    show = sub.add_parser("show", help="列出某年休息的工作日和上班的周末")
    show.add_argument("year", type=_year, metavar="YEAR")
    show.set_defaults(handler=show_year)

    set_year = sub.add_parser("set-year",
                              help="按国务院节假日安排通知确认某年（JSON 或 xlsx 文件，格式见 docs/calendar.md）")
    set_year.add_argument("year", type=_year, metavar="YEAR")
    set_year.add_argument("file", metavar="FILE")
    set_year.set_defaults(handler=set_year_from_file)

    local = sub.add_parser("add-holiday", help="添加地方节假日（如少数民族节日）")
    local.add_argument("date", type=_iso_date("日期"), metavar="YYYY-MM-DD")
    local.add_argument("--to", type=_iso_date("结束日期"), metavar="YYYY-MM-DD", help="最后一天（含），默认只一天")
    local.add_argument("--name", required=True, help="节日名称，例如 三月三")
    local.set_defaults(handler=add_holiday)

    dl = subparsers.add_parser("deadline", help="计算办结期限并说明计算过程")
    dl.add_argument("--from", dest="accepted_on", type=_iso_date("受理日期"), required=True, metavar="YYYY-MM-DD",
                    help="受理日期（当日不计入）")
    dl.add_argument("--limit", type=int, required=True, metavar="N", help="办理时限")
    dl.add_argument("--unit", choices=("workday", "day"), default="workday", help="workday 工作日（默认）或 day 自然日")
    dl.add_argument("--kind", choices=("promised", "proxy", "joint", "immediate", "explain"), default="promised",
                    help="办件类型，默认 promised（承诺件）")
    dl.add_argument("--for", dest="date_kind", choices=tuple(KIND_NAMES), default=None,
                    help="派生期限：" + "、".join(f"{k}（{v}）" for k, v in KIND_NAMES.items())
                    + "；给出时按同一日期规则计算并说明")
    dl.set_defaults(handler=show_deadline)


def _day_line(e: DayException) -> str:
    local = "（地方节假日）" if e.kind == "local" else ""
    return f"  {e.on.isoformat()} {WEEKDAY_NAMES[e.on.weekday()]} {e.name}{local}"


def show_year(args: argparse.Namespace, ctx: Any) -> int:
    with ctx.db.session() as s, s.begin():
        ov = calendar_service.year_overview(s, args.year)
    head = f"{ov.year} 年：{STATUS_NAMES[ov.status]}（{SOURCE_NAMES.get(ov.source, ov.source)}"
    if ov.notice_ref and ov.source == "notice":
        head += f"：{ov.notice_ref}"
    head += "）"
    if ov.confirmed_by:
        head += f"，确认人 {ov.confirmed_by}"
    if ov.confirmed_at:
        head += f"，{ov.confirmed_at:%Y-%m-%d %H:%M}"
    print(head)
    if ov.status != "confirmed":
        print("尚未确认节假日安排：按周一至周五计算，涉及本年的期限均为暂定。")
    print(f"全年工作日：{ov.working_days} 天")
    print(f"休息的工作日（周一至周五）：{len(ov.days_off_on_weekdays)} 天")
    for e in ov.days_off_on_weekdays:
        print(_day_line(e))
    print(f"上班的周末（调休上班日）：{len(ov.working_weekends)} 天")
    for e in ov.working_weekends:
        print(_day_line(e))
    return 0


class _Progress:
    """The recomputation's progress on stderr once it has taken a second, then at most once a second (and its
    last step), so a run of seconds at a large hall is not silent and a quick one prints nothing."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.shown = False
        self.clear = "\033[K" if sys.stderr.isatty() else ""

    def __call__(self, done: int, total: int, what: str) -> None:
        now = time.perf_counter()
        if now - self.last < 1.0 and not (self.shown and total and done >= total):
            return
        self.last = now
        self.shown = True
        count = f" {done:,}/{total:,}" if total else ""
        print(f"\r{what}{count}{self.clear}", end="", file=sys.stderr, flush=True)

    def end(self) -> None:
        if self.shown:
            print(file=sys.stderr)


def set_year_from_file(args: argparse.Namespace, ctx: Any) -> int:
    notice = calendar_service.load_year_notice(args.file)
    progress = _Progress()
    try:
        # One transaction: the year and the deadlines it moves are saved together, or neither is.
        with ctx.db.transaction() as s:
            changed, moved = recalc.confirm_year(s, ctx.actor, args.year, notice, progress=progress)
    finally:
        progress.end()
    print(f"已确认 {args.year} 年节假日安排（{notice.reference or '未填文号'}）：{len(notice.holidays)} 个假期，"
          f"{len(notice.makeup_days)} 个调休上班日。")
    print(f"工作日状态改变的日期：{len(changed)} 个" + ("：" if changed else "。"))
    for d in changed:
        print(f"  {d.isoformat()} {WEEKDAY_NAMES[d.weekday()]}")
    _print_moved(moved)
    return 0


def _print_moved(moved: list) -> None:
    print(f"重新计算的在办件期限：{len(moved)} 件" + ("：" if moved else "。"))
    for number, old, new in moved[:50]:
        print(f"  {number}：{old.isoformat()} → {new.isoformat()}")
    if len(moved) > 50:
        print(f"  …… 其余 {len(moved) - 50} 件见各办件办理记录")


def add_holiday(args: argparse.Namespace, ctx: Any) -> int:
    progress = _Progress()
    try:
        with ctx.db.transaction() as s:
            changed, moved = recalc.add_local_holiday(s, ctx.actor, args.date, args.name, end=args.to,
                                                      progress=progress)
    finally:
        progress.end()
    end = args.to or args.date
    span = args.date.isoformat() if end == args.date else f"{args.date.isoformat()} 至 {end.isoformat()}"
    print(f"已添加地方节假日“{args.name.strip()}”：{span}，{len(changed)} 个工作日改为休息。")
    _print_moved(moved)
    return 0


def _calendar(ctx: Any) -> WorkCalendar:
    with ctx.db.reading() as s:
        return WorkCalendar.load_or_package(s)


def show_deadline(args: argparse.Namespace, ctx: Any) -> int:
    if args.limit < 0:
        raise ValidationError("办理时限", f"不能为负数，现为 {args.limit}")
    if getattr(args, "date_kind", None):
        result = explain(_calendar(ctx), args.accepted_on, DateRule(args.limit, args.unit), args.date_kind)
    else:
        result = compute_due(_calendar(ctx), LimitRule(args.limit, args.unit), args.accepted_on, args.kind)
    print(result.due.isoformat())
    if result.provisional:
        print("暂定")
    for line in result.explanation:
        print(line)
    return 0
