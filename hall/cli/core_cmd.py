"""Core commands: init, staff, ticket, ledger verify, backup."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from hall.cli.args import iso_date
from hall.errors import HallError, ValidationError
from hall.services.base.states import KIND_LABELS, MATERIAL_STATUS, STATE_LABELS
from hall.services.people import staff
from hall.services.storage import ledger
from hall.services.tickets import intake
from hall.services.tickets import record as tickets


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("init", help="创建（或检查）数据库并设置管理员密码")
    p.add_argument("--admin-password", help="管理员密码（也可用环境变量 HALL_ADMIN_PASSWORD）")
    p.add_argument("--intake-point", help="本机受理点编码：000为中心大厅，001起为村代办点")
    p.set_defaults(handler=cmd_init)

    s = sub.add_parser("staff", help="工作人员").add_subparsers(dest="staff_cmd", required=True, metavar="ACTION")
    a = s.add_parser("add", help="添加工作人员")
    a.add_argument("--no", required=True, dest="staff_no", help="工号")
    a.add_argument("--name", required=True, help="姓名")
    a.add_argument("--role", required=True, help="clerk|manager|village|admin 或中文角色名")
    a.add_argument("--post", default="", help="岗位")
    a.add_argument("--window", help="窗口编码，如 W02")
    a.add_argument("--point", default="000", help="受理点编码")
    a.add_argument("--b-post", help="B岗（代理岗）工号")
    a.add_argument("--password", help="初始密码（也可用环境变量 HALL_STAFF_PASSWORD）")
    a.set_defaults(handler=cmd_staff_add)
    s.add_parser("list", help="列出工作人员").set_defaults(handler=cmd_staff_list)

    t = sub.add_parser("ticket", help="办件").add_subparsers(dest="ticket_cmd", required=True, metavar="ACTION")
    ta = t.add_parser("add", help="登记办件（JSON：标准输入或文件）")
    ta.add_argument("file", nargs="?", help="JSON 文件；省略则读标准输入")
    ta.add_argument("--as", dest="as_staff", help="以该工号登记（默认系统）")
    ta.set_defaults(handler=cmd_ticket_add)
    ts = t.add_parser("show", help="显示办件及其办理记录")
    ts.add_argument("number")
    ts.set_defaults(handler=cmd_ticket_show)

    lg = sub.add_parser("ledger", help="台账").add_subparsers(dest="ledger_cmd", required=True, metavar="ACTION")
    lg.add_parser("verify", help="逐条核验台账哈希链").set_defaults(handler=cmd_ledger_verify)

    d = sub.add_parser("daily", help="执行每日规则（逾期视为认可、责任追究、未评价、回访排期、B岗顶岗）")
    d.add_argument("--date", type=iso_date, help="按该日执行（YYYY-MM-DD，默认今天）")
    d.add_argument("--full", action="store_true", help="不按上次进度，全部重新检查一遍（结果相同，用时更长）")
    d.add_argument("--quiet", action="store_true", help="不显示进度")
    d.set_defaults(handler=cmd_daily)

    b = sub.add_parser("backup", help="在线备份数据库")
    b.add_argument("--out", required=True, help="备份文件路径")
    b.set_defaults(handler=cmd_backup)


def cmd_init(args: argparse.Namespace, ctx: Any) -> int:
    if args.intake_point:
        ctx.intake_point = args.intake_point
    password = args.admin_password or os.environ.get("HALL_ADMIN_PASSWORD")
    with ctx.db.transaction() as session:
        if staff.needs_admin(session):
            if not password:
                if sys.stdin is not None and sys.stdin.isatty():
                    import getpass

                    password = getpass.getpass("设置管理员密码（至少8位）：")
                else:
                    raise ValidationError(
                        "管理员密码", "首次初始化必须设置（--admin-password 或环境变量 HALL_ADMIN_PASSWORD）"
                    )
            staff.create_first_admin(session, ctx.actor, password)
            print("已创建管理员：工号 admin")
    print(f"数据目录：{ctx.paths.data_dir}")
    print(f"终端：{ctx.node.node_id}（受理点 {ctx.node.intake_point}）")
    print("数据库已就绪")
    return 0


def cmd_staff_add(args: argparse.Namespace, ctx: Any) -> int:
    form = staff.StaffForm(staff_no=args.staff_no, name=args.name, role=args.role, post=args.post,
                           window_code=args.window, intake_point=args.point, b_post_no=args.b_post,
                           password=args.password or os.environ.get("HALL_STAFF_PASSWORD"))
    with ctx.db.transaction() as session:
        v = staff.add_staff(session, ctx.actor, form)
    print(f"已添加：{v.staff_no} {v.name}（{v.role_label}{'，' + v.window_code if v.window_code else ''}）")
    return 0


def cmd_staff_list(args: argparse.Namespace, ctx: Any) -> int:
    with ctx.db.transaction() as session:
        people = staff.list_staff(session)
    for v in people:
        print("\t".join([v.staff_no, v.name, v.role_label, v.window_code or "-", v.intake_point, v.post,
                         f"B岗:{v.b_post_name}" if v.b_post_name else "", "" if v.active else "停用"]))
    return 0


def _form_from_json(data: Any) -> intake.IntakeForm:
    if not isinstance(data, dict):
        raise ValidationError("JSON", "应为一个对象（{...}）")
    try:
        a = data["applicant"]
        applicant = intake.ApplicantForm(type=a.get("type", "person"), id_no=str(a.get("id_no", "")),
                                         name=str(a.get("name", "")), phone=str(a.get("phone", "")),
                                         address=str(a.get("address", "")))
        agent = None
        if data.get("agent"):
            g = data["agent"]
            agent = intake.AgentForm(str(g.get("name", "")), str(g.get("id_no", "")), str(g.get("phone", "")))
        return intake.IntakeForm(
            item_code=str(data["item_code"]), applicant=applicant, materials=dict(data.get("materials", {})),
            kind=data.get("kind"), kind_reason=str(data.get("kind_reason", "")), agent=agent,
            note=str(data.get("note", "")), decision=data.get("decision", "accept"),
            refusal_reason=str(data.get("refusal_reason", "")), redirect_organ=str(data.get("redirect_organ", "")),
            complete_now=data.get("complete_now"),
        )
    except KeyError as exc:
        raise ValidationError(f"JSON 字段 {exc.args[0]}", "缺少该字段") from None
    except (TypeError, AttributeError):
        raise ValidationError("JSON", "字段类型不对（applicant 应为对象，materials 应为 名称→状态 的对象）") from None


def cmd_ticket_add(args: argparse.Namespace, ctx: Any) -> int:
    try:
        text = Path(args.file).read_text(encoding="utf-8") if args.file else sys.stdin.read()
        data = json.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise HallError(f"无法读取办件文件：{exc}") from None
    except json.JSONDecodeError as exc:
        raise ValidationError("JSON", f"格式错误（第{exc.lineno}行第{exc.colno}列）") from None
    form = _form_from_json(data)
    with ctx.db.transaction() as session:
        actor = ctx.actor
        if args.as_staff:
            person = staff.by_number(session, args.as_staff)
            actor = staff.actor_for(person, ctx.node)
        result = intake.register(session, actor, form)
    print(result.number)
    due = f"，承诺办结日期 {result.due_date}{'（暂定）' if result.due_provisional else ''}" if result.due_date else ""
    print(f"{KIND_LABELS[result.kind]}，{STATE_LABELS[result.state]}{due}")
    if result.missing:
        print("需补正材料：" + "、".join(result.missing))
    for w in result.warnings:
        print(f"提示：{w}")
    return 0


def cmd_ticket_show(args: argparse.Namespace, ctx: Any) -> int:
    from hall.services.base.masking import mask_id_for_clerk

    with ctx.db.transaction() as session:
        t = tickets.get(session, args.number)
        lines = [
            f"办件编号：{t.number}",
            f"事项：{t.item_code} {t.item_name}（{t.window_code}）",
            f"类型：{KIND_LABELS[t.kind]}    状态：{STATE_LABELS.get(t.state, t.state)}",
            f"申请人：{t.applicant_name}  "
            + (mask_id_for_clerk(t.applicant_id_no) if t.applicant_type == "person" else t.applicant_id_no),
            f"收件时间：{t.received_at:%Y-%m-%d %H:%M}",
        ]
        if t.due_date:
            lines.append(f"承诺办结日期：{t.due_date}{'（暂定）' if t.due_provisional else ''}")
        for m in t.materials:
            lines.append(f"  材料：{m['name']}（{m['form']}×{m['count']}）{MATERIAL_STATUS.get(m['status'], '')}")
        lines.append("办理记录：")
        for h in tickets.history(session, t):
            lines.append(f"  {h.at:%Y-%m-%d %H:%M:%S}  {h.actor}  {h.text}")
    print("\n".join(lines))
    return 0


def cmd_ledger_verify(args: argparse.Namespace, ctx: Any) -> int:
    with ctx.db.transaction() as session:
        report = ledger.verify(session)
    if report.ok:
        print(f"台账完好：{report.events} 条事件，{report.nodes} 个终端，哈希链全部相符")
        return 0
    ev = report.first_broken
    where = f"终端 {ev.node_id} 第 {ev.seq} 号事件（{ev.event_id}，{ev.type}，{ev.occurred_at:%Y-%m-%d %H:%M:%S}）" \
        if ev is not None else ""
    print(f"台账异常：{where}：{report.problem}", file=sys.stderr)
    return 1


def cmd_daily(args: argparse.Namespace, ctx: Any) -> int:
    from hall.services.cases import daily

    report = daily.run_batched(ctx.db, ctx.actor, args.date or date.today(),
                               None if args.quiet else _progress_printer(), full=args.full)
    print("\n".join(report.lines()))
    copy = ctx.db.daily_backup()
    if copy is not None:
        print(f"  每日备份：{copy}")
    return 0


def _progress_printer():  # type: ignore[no-untyped-def]
    """Progress on stderr: each step once, and its count every two seconds (a scheduled task's log stays short)."""
    import time

    last = {"label": "", "at": 0.0}

    def show(done: int, total: int, what: str) -> None:
        label = what.split(" ")[0].split("：")[0]
        now = time.monotonic()
        if label != last["label"] or now - last["at"] >= 2 or (total and done >= total):
            last["label"], last["at"] = label, now
            print(f"  … {what}", file=sys.stderr, flush=True)

    return show


def cmd_backup(args: argparse.Namespace, ctx: Any) -> int:
    out = Path(args.out)
    started = datetime.now()
    ctx.db.backup(out)
    seconds = (datetime.now() - started).total_seconds()
    print(f"已备份到 {out}（{out.stat().st_size / 1024:.0f} KB，用时 {seconds:.1f} 秒）")
    return 0
