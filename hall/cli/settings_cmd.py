"""`hall-admin settings show|set`: 本中心信息 (what every paper's letterhead, footer and seal line say) and the
hall's local rules — the same service and the same checks as 管理 → 本中心信息 in the program."""

from __future__ import annotations

import argparse
import json
from typing import Any

from hall.errors import ValidationError
from hall.services.base.validators import shown
from hall.services.storage import settings


def register(subparsers: Any) -> None:
    cmd = subparsers.add_parser("settings",
                                help="本中心信息与本地规则：中心名称、乡镇代码、地址、电话、办公时间、落款，补正期限等")
    sub = cmd.add_subparsers(dest="settings_command", required=True, metavar="SETTINGS_COMMAND")
    show = sub.add_parser("show", help="列出全部设置及其当前值")
    show.add_argument("--json", action="store_true", help="以 JSON 输出（项目名: 值）")
    show.set_defaults(handler=show_settings)
    put = sub.add_parser("set",
                         help="修改一项或几项设置：项目名=值，例如 hall_name=某某镇便民服务中心 supplement_days=5")
    put.add_argument("pairs", nargs="+", metavar="KEY=VALUE")
    put.set_defaults(handler=set_settings)
    screen = sub.add_parser("rating-screen",
                            help="登记（或重新登记）本机评价器（评价屏）的密钥：更换电脑或密钥文件丢失后使用")
    screen.add_argument("--device", default="评价器", help="评价器名称，例如 W02窗口评价屏")
    screen.set_defaults(handler=enrol_rating_screen)


def enrol_rating_screen(args: argparse.Namespace, ctx: Any) -> int:
    """The administrator's act that replaces this node's enrolled rating screen key (the screen's own first
    opening enrols it by itself; a different key found later is refused until this is run)."""
    from hall.services.registers import rating_channel

    key = rating_channel.ScreenKey.load_or_create(ctx.paths.data_dir)
    with ctx.db.transaction() as s:
        found = rating_channel.enrolled(s, ctx.node.node_id)
        if found is not None and found.public_key == key.public_hex:
            print(f"本机评价器已登记（{found.device}，公钥 {key.public_hex[:16]}…），无需重新登记")
            return 0
        rating_channel.enrol(s, ctx.actor, key.public_hex, args.device)
    print(f"已登记本机评价器：{args.device}（公钥 {key.public_hex[:16]}…）；此前发出的评价邀请作废，请重新发起评价")
    return 0


def _label(key: str) -> str:
    return settings.LABELS.get(key, key)


def _shown_value(value: Any) -> str:
    if isinstance(value, dict):
        return "；".join(f"{k} {v}" for k, v in value.items()) or "（无）"
    return str(value) if value != "" else "（空）"


def show_settings(args: argparse.Namespace, ctx: Any) -> int:
    with ctx.db.transaction() as s:
        values = settings.get_all(s)
    if args.json:
        print(json.dumps(values, ensure_ascii=False, indent=2))
        return 0
    groups = (("本中心信息", settings.HALL_KEYS), ("本地规则", settings.RULE_KEYS),
              ("其他", tuple(k for k in settings.DEFAULTS if k not in settings.HALL_KEYS + settings.RULE_KEYS)))
    for title, keys in groups:
        if not keys:
            continue
        print(f"【{title}】")
        for key in keys:
            value = values[key]
            if key == "seal_text" and not value:
                value = f"（空：用中心名称“{values['hall_name']}”）"
            print(f"  {_label(key)}（{key}）：{_shown_value(value)}")
    return 0


def _parse(pair: str) -> tuple[str, Any]:
    key, sep, text = pair.partition("=")
    key = key.strip()
    if not sep:
        raise ValidationError("设置", f"“{shown(pair)}”应写成 项目名=值（项目名见 hall-admin settings show）")
    if key not in settings.DEFAULTS:
        known = "、".join(settings.DEFAULTS)
        raise ValidationError("设置", f"没有“{shown(key)}”这一项，可设置：{known}")
    if key in settings.NUMBER_RANGES:
        stripped = text.strip()
        if not (stripped.isascii() and stripped.isdigit()):
            raise ValidationError(_label(key), f"应为整数，现为“{shown(text)}”")
        return key, int(stripped)
    if key == "village_names":  # 001=东村代办点,002=西村代办点
        out: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in text.replace("，", ",").split(","))):
            code, eq, name = part.partition(":") if ":" in part else part.partition("：")
            if not eq:
                raise ValidationError("村代办点名称", f"“{shown(part)}”应写成 编码:名称，多个用逗号分隔")
            out[code.strip()] = name.strip()
        return key, out
    return key, text


def set_settings(args: argparse.Namespace, ctx: Any) -> int:
    values = dict(_parse(p) for p in args.pairs)
    with ctx.db.transaction() as s:
        before = settings.get_all(s)
        settings.set_values(s, ctx.actor, values)
    for key, value in values.items():
        print(f"{_label(key)}：{_shown_value(before[key])} → {_shown_value(settings.clean_value(key, value))}")
    if "township_code" in values and values["township_code"] != before["township_code"]:
        print("提示：已有办件的编号不变；此后登记的办件按新乡镇代码编号。")
    return 0
