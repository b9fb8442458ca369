"""Core commands: init, staff, ticket, ledger verify/check/rebuild/digest, daily, backup."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from hall.cli import staff_cmd
from hall.cli.args import iso_date
from hall.errors import HallError, ValidationError
from hall.services.base.states import KIND_LABELS, MATERIAL_STATUS, STATE_LABELS
from hall.services.people import staff
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
    a.add_argument("--role", required=True, help="clerk|manager|village|admin|inspector 或中文角色名")
    a.add_argument("--post", default="", help="岗位")
    a.add_argument("--window", help="窗口编码，如 W02")
    a.add_argument("--point", default="000", help="受理点编码")
    a.add_argument("--b-post", help="B岗（代理岗）工号")
    a.add_argument("--password", help="初始密码（也可用环境变量 HALL_STAFF_PASSWORD）")
    a.add_argument("--vanguard", action="store_true", help="（党员）先锋岗，在挂牌上岗公示中标明")
    a.set_defaults(handler=cmd_staff_add)
    s.add_parser("list", help="列出工作人员").set_defaults(handler=cmd_staff_list)
    staff_cmd.register_actions(s)  # edit, disable, enable, reset-password

    t = sub.add_parser("ticket", help="办件").add_subparsers(dest="ticket_cmd", required=True, metavar="ACTION")
    ta = t.add_parser("add", help="登记办件（JSON：标准输入或文件）")
    ta.add_argument("file", nargs="?", help="JSON 文件；省略则读标准输入")
    ta.add_argument("--as", dest="as_staff", help="以该工号登记（默认系统）")
    ta.set_defaults(handler=cmd_ticket_add)
    ts = t.add_parser("show", help="显示办件及其办理记录")
    ts.add_argument("number")
    ts.set_defaults(handler=cmd_ticket_show)

    lg = sub.add_parser("ledger", help="台账").add_subparsers(dest="ledger_cmd", required=True, metavar="ACTION")
    v = lg.add_parser("verify", help="逐条核验台账哈希链，并检查数据库文件结构（SQLite quick_check）")
    v.add_argument("--full", action="store_true",
                   help="文件结构做完整检查（SQLite integrity_check：也核对索引与表内容，用时更长）")
    v.add_argument("--daily", action="store_true",
                   help="每日快速核验：只从上次的检查点起核验新增事件，并确认检查点仍在原处（不做文件结构检查）；"
                        "每周或需要时请不加此项完整核验一次")
    v.set_defaults(handler=cmd_ledger_verify)
    c = lg.add_parser("check", help="在临时副本中按台账重建全部数据表，与现库逐表比较，列出不一致之处")
    c.add_argument("--limit", type=int, default=20, help="最多列出多少处不一致（默认20）")
    c.add_argument("--quiet", action="store_true", help="不显示进度")
    c.set_defaults(handler=cmd_ledger_check)
    r = lg.add_parser("rebuild", help="按台账重建全部数据表（先备份；PostgreSQL 上在一个事务中完成；"
                                      "重建期间各窗口不能保存，请在下班后运行）")
    r.add_argument("--quiet", action="store_true", help="不显示进度")
    r.set_defaults(handler=cmd_ledger_rebuild)
    lg.add_parser("digest", help="当前状态摘要（SHA-256）：比较两台终端或两次重建是否一致").set_defaults(
        handler=cmd_ledger_digest)

    d = sub.add_parser("daily", help="执行每日规则（逾期视为认可、责任追究、未评价、回访排期、B岗顶岗）")
    d.add_argument("--date", type=iso_date, help="按该日执行（YYYY-MM-DD，默认今天）")
    d.add_argument("--full", action="store_true", help="不按上次进度，全部重新检查一遍（结果相同，用时更长）")
    d.add_argument("--quiet", action="store_true", help="不显示进度")
    d.set_defaults(handler=cmd_daily)

    b = sub.add_parser("backup", help="在线备份数据库（写完后核验文件结构与台账哈希链，通过才算备份成功）")
    b.add_argument("--out", help="备份文件路径")
    b.add_argument("--incremental", action="store_true",
                   help="每日增量备份到备份文件夹：第一次一份完整备份，此后每天只备份当天新增的台账事件（压缩），"
                        "完整备份随之更新到最新；保留最近 14 天的恢复点")
    b.add_argument("--date", type=iso_date, help="增量备份：按该日（YYYY-MM-DD，默认今天）")
    b.set_defaults(handler=cmd_backup)

    rs = sub.add_parser("restore", help="从备份恢复数据库（先核验备份；现有数据库连同 -wal/-shm 移到一旁保留；"
                                        "编号在新旧两库已发出的编号之后继续）。请先关闭所有使用该数据库的 Hall")
    rs.add_argument("file", help="备份文件（完整备份 .sqlite3，或增量备份 .jsonl.gz：自动先取其完整备份再逐日补上）")
    rs.add_argument("--force", action="store_true",
                    help="现有数据库已无法读取时仍然恢复（编号只从备份中已有的编号之后继续）")
    rs.set_defaults(handler=cmd_restore)


def cmd_init(args: argparse.Namespace, ctx: Any) -> int:
    if args.intake_point:
        ctx.intake_point = args.intake_point
    password = args.admin_password or os.environ.get("HALL_ADMIN_PASSWORD")
    from hall.services.sync import keys as sync_keys

    laptop = sync_keys.is_laptop(ctx.paths.data_dir)
    with ctx.db.transaction() as session:
        # A village laptop's staff come from the hall (sync join): an administrator created here would be a staff
        # event on the laptop's chain, which the hall refuses (staff are the hall's), blocking every later sync.
        if not laptop and staff.needs_admin(session):
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
                           password=args.password or os.environ.get("HALL_STAFF_PASSWORD"),
                           vanguard=args.vanguard)
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
    from hall.services.base.masking import mask_free_text, mask_id_for_clerk

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
            # A terminal's output is pasted into mails and tickets: identifiers quoted in free text are masked.
            lines.append(f"  {h.at:%Y-%m-%d %H:%M:%S}  {h.actor}  {mask_free_text(h.text)}")
    print("\n".join(lines))
    return 0


def cmd_ledger_verify(args: argparse.Namespace, ctx: Any) -> int:
    from hall.services import ledger_check
    from hall.services.storage import checkpoint

    check_name = "integrity_check" if args.full else "quick_check"
    storage = None
    if not args.daily:
        storage = ledger_check.quick_check(ctx.db, full=args.full)
        if storage:
            shown = "；".join(storage[:3]) + (f"；另有 {len(storage) - 3} 处" if len(storage) > 3 else "")
            latest = ctx.db.latest_backup()
            print(f"台账异常：数据库文件已损坏（SQLite {check_name}：{shown}）。请从最近的备份恢复"
                  + (f"：{latest}" if latest else "") + "。", file=sys.stderr)
            return 1
    from hall.services.sync import heads
    from hall.services.sync import keys as sync_keys

    with ctx.db.transaction() as session:
        report, since, reached = checkpoint.check(session, ctx.paths.data_dir, daily=args.daily,
                                                  sparse=sync_keys.sparse_nodes(ctx.paths.data_dir, session))
        # Against the signed heads too: a chain re-hashed after an edit, or cut short with its head rewound,
        # passes the hash check above but not its signed heads.
        signed = heads.check(session, ctx.paths.data_dir) if report.ok else []
        if report.ok and not signed:  # only a ledger found whole becomes the next checkpoint
            checkpoint.save(ctx.paths.data_dir, session, reached, report.events)
    if signed:
        for line in signed:
            print(f"台账异常：{line}", file=sys.stderr)
        return 1
    if report.ok:
        where = f"；数据库文件结构检查（{check_name}）通过" if storage is not None else ""
        how = f"自检查点（{since}）起核验新增事件，检查点仍在原处" if since else "哈希链全部相符"
        print(f"台账完好：{report.events} 条事件，{report.nodes} 个终端，{how}{where}")
        return 0
    ev = report.first_broken
    where = f"终端 {ev.node_id} 第 {ev.seq} 号事件（{ev.event_id}，{ev.type}，{ev.occurred_at:%Y-%m-%d %H:%M:%S}）" \
        if ev is not None else ""
    print(f"台账异常：{where}：{report.problem}", file=sys.stderr)
    return 1


def cmd_ledger_check(args: argparse.Namespace, ctx: Any) -> int:
    from hall.services import ledger_check

    if args.limit < 0:
        raise ValidationError("--limit", "应为 0 或正整数")
    report = ledger_check.check(ctx.db, limit=args.limit, progress=None if args.quiet else _progress_printer())
    if report.replay_error:
        print(f"台账检查未完成：{report.replay_error}", file=sys.stderr)
        return 1
    cmp = report.comparison
    assert cmp is not None
    print(f"台账检查：按 {report.events:,} 条事件在临时副本中重建 {cmp.tables} 张表，与现库按自然键逐表比较"
          f"（用时 {report.seconds:.1f} 秒）")
    if report.unprojected:
        kinds = "、".join(f"{k} {v:,} 条" for k, v in sorted(report.unprojected.items()))
        print(f"其中不改变任何数据表的事件（只记入台账）：{kinds}")
    if report.ok:
        print(f"所有表一致（共 {cmp.rows_live:,} 行）")
        return 0
    per_table = "，".join(f"{ledger_check.table_label(t)} {n:,} 处" for t, n in sorted(cmp.by_table.items()))
    print(f"发现 {cmp.total:,} 处不一致：{per_table}")
    for diff in cmp.differences:
        print(f"  {ledger_check.describe(diff)}")
    if cmp.total > len(cmp.differences):
        print(f"  ……（只列出前 {len(cmp.differences)} 处，另有 {cmp.total - len(cmp.differences):,} 处）")
    if report.unrecorded_calendar:
        years = report.unrecorded_calendar
        print(f"其中工作日历（{years[0]}–{years[-1]} 年）是旧版本直接写入、未记入台账的："
              "ledger rebuild 会先把它记入台账再重建，不会丢失。")
    print("现库与台账不一致：查明原因后可用 hall-admin ledger rebuild 按台账重建（重建前自动备份）。")
    return 1


def cmd_ledger_rebuild(args: argparse.Namespace, ctx: Any) -> int:
    from hall.services import ledger_check

    report = ledger_check.rebuild(ctx.db, ctx.actor, progress=None if args.quiet else _progress_printer())
    if report.calendar_recorded:
        years = report.calendar_recorded
        print(f"旧版本直接写入的工作日历（{years[0]}–{years[-1]} 年）已先记入台账，重建后保留")
    if report.backup is not None:
        print(f"重建前已备份到 {report.backup}")
    else:
        print("PostgreSQL：重建在一个事务中完成（未另做备份：请在服务器上用 pg_dump 备份）")
    print(f"已按台账 {report.events:,} 条事件重建 {report.after.tables} 张表（用时 {report.seconds:.1f} 秒）：")
    for name, after in report.after.by_table.items():
        before = report.before.by_table.get(name, 0)
        if before or after:
            change = "" if before == after else f"（原 {before:,} 行）"
            print(f"  {ledger_check.table_label(name)} {after:,} 行{change}")
    if report.before.sha256 == report.after.sha256:
        print(f"当前状态摘要未变：{report.after.sha256}（现库原本就与台账一致）")
    else:
        print(f"当前状态摘要：重建前 {report.before.sha256}，重建后 {report.after.sha256}"
              "（与台账不一致之处已按台账更正）")
    return 0


def cmd_ledger_digest(args: argparse.Namespace, ctx: Any) -> int:
    from hall.services import ledger_check

    d = ledger_check.digest(ctx.db)
    print(d.sha256)
    print(f"当前状态摘要（SHA-256）：{d.tables} 张表，共 {d.rows:,} 行，按自然键排序", file=sys.stderr)
    return 0


def cmd_daily(args: argparse.Namespace, ctx: Any) -> int:
    from hall.services.cases import daily

    report = daily.run_batched(ctx.db, ctx.actor, args.date or date.today(),
                               None if args.quiet else _progress_printer(), full=args.full)
    print("\n".join(report.lines()))
    if not report.skipped:  # the node that ran the day's rules signs its chain head (tamper evidence)
        from hall.services.base.actor import Actor
        from hall.services.sync import heads

        signed = heads.sign_now(ctx.db, Actor.system(ctx.node.node_id, ctx.node.intake_point), ctx.paths.data_dir)
        print(f"  链头签名：第 {signed.seq} 号事件")
    from hall.services import backup_chain, backup_list

    with backup_list.one_backup_at_a_time(ctx.db):  # never beside the window's backup: both would roll the base
        done = backup_chain.daily_if_due(ctx.db)  # the base is checked when made; each increment is read back
    if done is not None:
        print(f"  每日备份：{done.path}（{'完整备份，已核验' if done.full else f'增量 {done.events} 条事件'}）")
    from hall.services.storage import checkpoint
    from hall.services.sync import heads as signed_heads
    from hall.services.sync import keys as sync_keys

    with ctx.db.transaction() as session:  # the day's new events re-hashed from the last checkpoint
        chain, _since, reached = checkpoint.check(session, ctx.paths.data_dir, daily=True,
                                                  sparse=sync_keys.sparse_nodes(ctx.paths.data_dir, session))
        problems = signed_heads.check(session, ctx.paths.data_dir) if chain.ok else []
        if chain.ok and not problems:
            checkpoint.save(ctx.paths.data_dir, session, reached, chain.events)
    if not chain.ok or problems:
        ev = chain.first_broken
        at = f"终端 {ev.node_id} 第 {ev.seq} 号事件：" if ev is not None else ""
        for line in [f"{at}{chain.problem}"] if not chain.ok else problems:
            print(f"  台账异常：{line}（请运行 hall-admin ledger verify 完整核验）", file=sys.stderr)
        return 1
    print(f"  台账核验：自检查点起新增事件哈希链相符（共 {chain.events:,} 条事件）")
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
    from hall.services import backup_chain, backup_list, backups

    if args.incremental:
        day = datetime.combine(args.date, datetime.now().time()) if args.date else None
        with backup_list.one_backup_at_a_time(ctx.db):  # one writer of the rolling base at a time, any program
            done = backup_chain.daily(ctx.db, Path(args.out) if args.out else ctx.paths.backups_dir, today=day)
        what = "完整备份（已核验）" if done.full else f"增量备份：{done.events} 条新事件"
        print(f"已备份到 {done.path}（{what}，{done.bytes / 1024:.0f} KB，用时 {done.seconds:.1f} 秒）")
        return 0
    if not args.out:
        raise ValidationError("--out", "请给出备份文件路径（或用 --incremental 备份到备份文件夹）")
    report = backups.take_backup(ctx.db, Path(args.out))
    print(f"已备份到 {report.path}（{report.bytes / 1024:.0f} KB，用时 {report.seconds:.1f} 秒）；"
          f"已核验：文件结构完好（integrity_check），台账 {report.events} 条事件哈希链相符")
    return 0


def cmd_restore(args: argparse.Namespace, ctx: Any) -> int:
    from hall.services import backup_chain

    target = _sqlite_file(ctx)
    report = backup_chain.restore_any(Path(args.file), target, force_unreadable_current=args.force)
    print(f"已从 {report.restored_from} 恢复到 {target}：台账 {report.events} 条事件，哈希链与文件结构核验通过")
    if report.moved_aside:
        print("原数据库已移到一旁保留：" + "、".join(p.name for p in report.moved_aside))
    if report.serials_raised:
        print(f"办件编号：{report.serials_raised} 个（受理点，日期）的序号已调到原数据库发出的最大编号之后，不会重号")
    for note in report.notes:
        print(f"注意：{note}")
    from hall.services.storage import anchor

    kept = anchor.anchor_path(ctx.paths.data_dir)
    if kept.exists():
        # The signed heads kept outside the database may be newer than the restored ledger (an older backup):
        # verify would call that a truncated chain. They are kept aside, not deleted; the restored ledger's own
        # signed heads are what it is verified against from now on (the next daily run signs again).
        aside = kept.with_name(f"signed_heads-before-restore-{datetime.now():%Y%m%d-%H%M%S}.json")
        kept.replace(aside)
        print(f"恢复前的链头签名记录已另存为 {aside.name}；今后按恢复后台账中的链头签名核验")
    print(f"当前状态摘要：{report.digest_restored}（与备份一致）")
    return 0


def _sqlite_file(ctx: Any) -> Path:
    """The SQLite file a restore replaces; never opened here (the restore works on closed files)."""
    from sqlalchemy.engine import make_url

    if not ctx.url:
        return Path(ctx.paths.database_file)
    url = make_url(ctx.url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise HallError("PostgreSQL 数据库请在服务器上用 pg_restore 恢复；"
                        "hall-admin restore 只用于本机 SQLite 数据文件。")
    return Path(url.database)
