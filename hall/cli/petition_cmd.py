"""`hall-admin petition`: 涉法信访 for the administrator — the leaders' reception schedule (post, list, print the
public notice), the 信访 case list and a case's papers. The same services as the program's 信访 page."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hall.cli.args import iso_date
from hall.errors import ValidationError
from hall.services.cases import petition_views
from hall.services.registers import reception
from hall.services.reporting import papers

PAPERS = {"accept": "信访事项受理告知书", "four_fixed": "四定一包责任书", "hearing": "听证（答询）记录"}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("petition", help="涉法信访：领导接访日安排、信访件清单与文书")
    sub = p.add_subparsers(dest="petition_command", required=True, metavar="ACTION")
    post = sub.add_parser("reception-post", help="安排领导接访（一把手接访日）")
    post.add_argument("--leader", required=True, help="接访领导工号")
    post.add_argument("--day", required=True, type=iso_date, help="接访日期 YYYY-MM-DD（工作日）")
    post.add_argument("--slot", required=True, help="时段，如 上午 或 9:00—11:30")
    post.add_argument("--place", required=True, help="接访地点")
    post.add_argument("--capacity", required=True, type=int, help="可预约人数")
    post.add_argument("--topic", default="", help="接访主题（可省略）")
    post.set_defaults(handler=_post)
    for name, text in (("reception-list", "列出接访安排及预约情况"),
                       ("reception-notice", "打印领导接访日安排公告（PDF）")):
        r = sub.add_parser(name, help=text)
        r.add_argument("--from", dest="since", type=iso_date, default=None, help="起始日期（默认今天）")
        r.add_argument("--to", dest="until", type=iso_date, default=None, help="截止日期（默认起始日后 30 日）")
        if name == "reception-notice":
            r.add_argument("out", metavar="输出文件", help="PDF 文件路径")
        r.set_defaults(handler=_list if name == "reception-list" else _notice)
    cases = sub.add_parser("cases", help="列出信访件")
    cases.add_argument("--open", action="store_true", help="只列未办结的")
    cases.set_defaults(handler=_cases)
    fu = sub.add_parser("followups", help="为已办结、尚未安排回访的信访件按规定安排回访")
    fu.set_defaults(handler=_followups)
    pr = sub.add_parser("print", help="打印信访件文书（PDF）")
    pr.add_argument("number", metavar="办件编号")
    pr.add_argument("kind", metavar="文书",
                    help="accept（受理告知书）| four_fixed（四定一包责任书）| hearing（听证记录）")
    pr.add_argument("out", metavar="输出文件", help="PDF 文件路径")
    pr.set_defaults(handler=_print)


def _range(args: Any) -> tuple[date, date]:
    since = args.since or date.today()
    until = args.until or since + timedelta(days=30)
    if until < since:
        raise ValidationError("截止日期", "不能早于起始日期")
    return since, until


def _post(args: Any, ctx: Any) -> int:
    with ctx.db.transaction() as s:
        slot = reception.post_slot(s, ctx.actor, args.leader, args.day, args.slot, args.place, args.capacity,
                                   topic=args.topic)
        view = next(v for v in reception.schedule(s, slot.on_day, slot.on_day) if v.id == slot.id)
    print(f"已安排：{view.on_day} {view.slot} {view.leader_name} 在{view.place}接访，可约 {view.capacity} 人")
    return 0


def _list(args: Any, ctx: Any) -> int:
    since, until = _range(args)
    with ctx.db.reading() as s:
        rows = reception.schedule(s, since, until)
    if not rows:
        print(f"{since} 至 {until} 没有接访安排")
    for v in rows:
        print(f"{v.id}\t{v.on_day}\t{v.slot}\t{v.leader_name}\t{v.place}\t已约 {v.booked}/{v.capacity}")
    return 0


def _out(path: str) -> Path:
    out = Path(path)
    if out.suffix.lower() != ".pdf":
        raise ValidationError("输出文件", "应为 .pdf 文件")
    return out


def _notice(args: Any, ctx: Any) -> int:
    from hall.print.petition_papers import ReceptionNoticeRenderer

    since, until = _range(args)
    out = _out(args.out)
    with ctx.db.reading() as s:
        rows = reception.schedule(s, since, until)
        hall = papers.hall_info(s)
    ReceptionNoticeRenderer(rows, hall, since, until, date.today()).render(out)
    print(f"已生成领导接访日安排（{len(rows)} 个时段）：{out}")
    return 0


def _cases(args: Any, ctx: Any) -> int:
    with ctx.db.reading() as s:
        rows = petition_views.case_list(s, open_only=args.open)
    for r in rows:
        print(f"{r.number}\t{r.received_on}\t{r.accept_label}（告知期限 {r.accept_due_on}）\t"
              f"办结期限 {r.due_date or '—'}{'（暂定）' if r.due_provisional else ''}\t{r.state_label}\t"
              f"首办责任人 {r.first_owner}")
    print(f"共 {len(rows)} 件")
    return 0


def _followups(args: Any, ctx: Any) -> int:
    from hall.services.cases import petition_steps

    with ctx.db.transaction() as s:
        numbers = petition_steps.schedule_missing_followups(s, ctx.actor)
    print(f"已为 {len(numbers)} 件已办结的信访件安排回访" + (f"：{'、'.join(numbers)}" if numbers else ""))
    return 0


def _print(args: Any, ctx: Any) -> int:
    from hall.print.petition_papers import PetitionPaperRenderer

    if args.kind not in PAPERS:
        raise ValidationError("文书", f"应为 {'、'.join(PAPERS)} 之一")
    out = _out(args.out)
    with ctx.db.reading() as s:
        detail = petition_views.case_detail(s, args.number)
        hall = papers.hall_info(s)
    # The 受理告知书 is dated the day the petitioner was told; the records the day they are printed.
    issued = (detail.accept_told_on if args.kind == "accept" else None) or date.today()
    PetitionPaperRenderer(args.kind, detail, hall, issued).render(out)
    print(f"已生成{PAPERS[args.kind]}：{out}")
    return 0
