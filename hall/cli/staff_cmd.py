"""`hall-admin staff edit|disable|enable|reset-password`: the same services as 管理 → 工作人员 in the program."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from hall.errors import ValidationError
from hall.services.people import staff


def register_actions(sub: Any) -> None:
    e = sub.add_parser("edit", help="修改工作人员的姓名、角色、岗位、窗口或受理点（工号不变）")
    e.add_argument("staff_no", metavar="工号")
    e.add_argument("--name", help="姓名")
    e.add_argument("--role", help="clerk|manager|village|admin|inspector 或中文角色名")
    e.add_argument("--post", help="岗位")
    e.add_argument("--window", help="窗口编码，如 W02；空字符串表示不属于任何窗口")
    e.add_argument("--point", help="受理点编码")
    e.add_argument("--vanguard", choices=("yes", "no"), help="（党员）先锋岗：yes 标明，no 取消")
    e.set_defaults(handler=cmd_edit)
    for name, active, text in (("disable", False, "停用（离岗：不能再登录，其办件和记录保留）"),
                               ("enable", True, "重新启用")):
        d = sub.add_parser(name, help=text)
        d.add_argument("staff_no", metavar="工号")
        d.add_argument("--reason", required=True, help="原因，记入台账")
        d.set_defaults(handler=cmd_active, active=active)
    pr = sub.add_parser("profile", help="挂牌上岗公示的照片（JPEG/PNG）和简历")
    pr.add_argument("staff_no", metavar="工号")
    pr.add_argument("--photo", metavar="FILE", help="照片文件（最大 5 MB，自动裁成 3:4）")
    pr.add_argument("--no-photo", action="store_true", help="移除照片")
    pr.add_argument("--resume", help="简历（至多60字，会公开张贴）")
    pr.set_defaults(handler=cmd_profile)
    r = sub.add_parser("reset-password", help="设置临时密码：本人下次登录时须改为自己的密码")
    r.add_argument("staff_no", metavar="工号")
    r.add_argument("--password", help="临时密码（也可用环境变量 HALL_STAFF_PASSWORD；省略则提示输入）")
    r.set_defaults(handler=cmd_reset)


def cmd_edit(args: argparse.Namespace, ctx: Any) -> int:
    with ctx.db.transaction() as s:
        now = staff.view(s, args.staff_no)
        form = staff.StaffForm(
            staff_no=now.staff_no, name=args.name if args.name is not None else now.name,
            role=args.role if args.role is not None else now.role,
            post=args.post if args.post is not None else now.post,
            window_code=(args.window or None) if args.window is not None else now.window_code,
            intake_point=args.point if args.point is not None else now.intake_point,
            vanguard=None if args.vanguard is None else args.vanguard == "yes")
        v = staff.update_staff(s, ctx.actor, form)
    print(f"已保存：{v.staff_no} {v.name}（{v.role_label}{'，' + v.window_code if v.window_code else ''}，"
          f"受理点 {v.intake_point}）")
    return 0


def cmd_active(args: argparse.Namespace, ctx: Any) -> int:
    with ctx.db.transaction() as s:
        staff.set_active(s, ctx.actor, args.staff_no, args.active, args.reason)
        v = staff.view(s, args.staff_no)
    print(f"{'已启用' if args.active else '已停用'}：{v.staff_no} {v.name}")
    return 0


def cmd_reset(args: argparse.Namespace, ctx: Any) -> int:
    password = args.password or os.environ.get("HALL_STAFF_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise ValidationError("临时密码", "请用 --password 或环境变量 HALL_STAFF_PASSWORD 给出")
        password = getpass.getpass("临时密码：")
        if getpass.getpass("再输一次：") != password:
            raise ValidationError("临时密码", "两次输入不一致")
    with ctx.db.transaction() as s:
        staff.reset_password(s, ctx.actor, args.staff_no, password)
        v = staff.view(s, args.staff_no)
    print(f"已重置 {v.staff_no} {v.name} 的密码：本人下次登录时须设置新密码")
    return 0


def cmd_profile(args: argparse.Namespace, ctx: Any) -> int:
    from pathlib import Path

    from hall.services.people import photos

    if args.photo and args.no_photo:
        raise ValidationError("--photo/--no-photo", "只能选一个")
    photo: bytes | str | None = ""
    if args.photo:
        path = Path(args.photo)
        try:
            if path.stat().st_size > photos.MAX_FILE_BYTES:
                raise ValidationError(photos.FIELD, f"文件过大，最大 {photos.MAX_FILE_BYTES // 1024 // 1024} MB")
            photo = path.read_bytes()
        except OSError as exc:
            raise ValidationError(photos.FIELD, f"无法读取文件“{path}”：{exc.strerror or exc}") from None
    elif args.no_photo:
        photo = None
    with ctx.db.transaction() as s:
        v = staff.set_profile(s, ctx.actor, args.staff_no, photo=photo, resume=args.resume)
    print(f"已保存 {v.staff_no} {v.name} 的挂牌上岗照片与简历")
    return 0
