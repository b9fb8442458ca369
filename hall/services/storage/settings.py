"""Hall-wide settings: local rules are settings, not constants (domain-rules.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.errors import ValidationError
from hall.models import Event, Setting
from hall.models.workflow import RATING_LEVELS
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_admin
from hall.services.base.validators import free_text, parse_key, shown
from hall.services.storage import ledger

DEFAULTS: dict[str, Any] = {
    "township_code": "320581101",
    "hall_name": "示例镇便民服务中心",
    "township_name": "示例镇",
    "hall_address": "示例镇人民路1号",
    "service_phone": "0512-57688000",
    "supervision_phone": "0512-12345",
    "office_hours": "法定工作日 上午 8:30—12:00，下午 14:00—17:30",
    "seal_text": "",                 # the issuer line under the seal; empty: the hall's name
    "rectify_workdays": 15,          # 差评 rectification deadline (5, 7 or 15 seen)
    "unrated_days": 7,               # no rating after N days …
    "unrated_counts_as": "非常满意",  # … counts as this, or "" to leave unrated
    "supplement_days": 5,            # days the applicant has to bring missing papers
    "complaint_workdays": 15,        # a complaint (投诉) is answered within this many working days
    "idle_lock_minutes": 10,         # the counter's screen locks after this long without input; 0: never
    "village_names": {"001": "东村代办点", "002": "西村代办点", "003": "南村代办点", "004": "北村代办点"},
}
LABELS = {
    "township_code": "乡镇代码", "hall_name": "中心名称", "township_name": "乡镇名称", "hall_address": "中心地址",
    "service_phone": "咨询电话", "supervision_phone": "监督电话", "office_hours": "办公时间",
    "seal_text": "落款（盖章单位）", "rectify_workdays": "差评整改期限（工作日）",
    "unrated_days": "未评价天数", "unrated_counts_as": "逾期未评价视为", "supplement_days": "补正期限（日）",
    "complaint_workdays": "投诉办理期限（工作日）", "village_names": "村代办点名称",
    "idle_lock_minutes": "空闲锁屏（分钟，0为不锁屏）",
}
# 本中心信息 (what the papers' letterhead, footers and seal line say) and the local rules, in the order an
# administrator reads them (hall-admin settings show, 管理 → 本中心信息).
HALL_KEYS = ("hall_name", "township_name", "township_code", "hall_address", "service_phone", "supervision_phone",
             "office_hours", "seal_text")
RULE_KEYS = ("supplement_days", "rectify_workdays", "complaint_workdays", "unrated_days", "unrated_counts_as",
             "idle_lock_minutes")


def get_all(session: Session) -> dict[str, Any]:
    values = dict(DEFAULTS)
    values.update({s.key: s.value for s in session.scalars(select(Setting))})
    return values


_cache: dict[str, tuple[float, dict[str, Any]]] = {}
# Another counter's change is forgotten here the moment the live feed hears of it (hall.services.storage.live);
# the age limit is for programs that follow no feed (the CLI, a script).
CACHE_SECONDS = 30.0


def forget() -> None:
    """Drop the cached settings (another program changed them)."""
    _cache.clear()


def get_cached(session: Session, key: str) -> Any:
    """For hot paths (every save): settings read at most every CACHE_SECONDS; own changes seen at once."""
    import time

    url = str(session.get_bind().engine.url)
    hit = _cache.get(url)
    if hit is None or time.monotonic() - hit[0] > CACHE_SECONDS:
        hit = (time.monotonic(), get_all(session))
        _cache[url] = hit
    return hit[1][key]


def get(session: Session, key: str) -> Any:
    row = session.get(Setting, key)
    return row.value if row is not None else DEFAULTS[key]


# Texts an administrator types for the papers' letterhead and footers: one line each, at most this long.
TEXT_LIMITS = {"hall_name": 80, "township_name": 40, "hall_address": 120, "service_phone": 40,
               "supervision_phone": 40, "office_hours": 80, "seal_text": 60}
UNRATED_CHOICES = tuple(RATING_LEVELS.values())  # what an unrated ticket may count as ("" leaves it unrated)
OPTIONAL = ("seal_text",)  # empty: the seal line says the hall's name
NUMBER_RANGES = {"rectify_workdays": (1, 60), "unrated_days": (1, 365), "supplement_days": (1, 60),
                 "complaint_workdays": (1, 60), "idle_lock_minutes": (0, 240)}


def clean_value(key: str, value: Any) -> Any:
    """One setting as it is stored, or the error naming the setting (its Chinese label) and the rule."""
    if not isinstance(key, str) or key not in DEFAULTS:
        raise ValidationError("系统设置", f"“{shown(key)}”不是可设置的项目")
    label = LABELS.get(key, key)
    if key == "township_code":
        code = parse_key(value, label, max_len=9) if isinstance(value, str) else ""
        if not (len(code) == 9 and code.isascii() and code.isdigit()):
            raise ValidationError(label, "应为9位数字（县级代码6位+乡镇3位）")
        return code
    if key in TEXT_LIMITS:  # one line; every one but the seal line is printed on every paper, so never blank
        return free_text(value, label, max_len=TEXT_LIMITS[key], required=key not in OPTIONAL)
    if key in NUMBER_RANGES:
        lo, hi = NUMBER_RANGES[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(label, "应为整数")
        if not lo <= value <= hi:
            raise ValidationError(label, f"应在{lo}到{hi}之间")
        return value
    if key == "unrated_counts_as":
        if value not in ("", *RATING_LEVELS.values()):
            raise ValidationError(label, f"应为{'、'.join(RATING_LEVELS.values())}之一，或留空（不计评价）")
        return value
    if key == "village_names":
        if not isinstance(value, dict):
            raise ValidationError("村代办点名称", "应为“受理点编码: 名称”的对照表")
        out = {}
        for code, name in value.items():
            point = parse_key(code, "村代办点编码", max_len=3) if isinstance(code, str) else ""
            if not (len(point) == 3 and point.isascii() and point.isdigit()):
                raise ValidationError("村代办点编码", f"“{shown(code)}”应为3位数字")
            out[point] = free_text(name, f"村代办点{point}名称", max_len=80)
        return out
    raise ValidationError(label, "不是可设置的项目")  # a new setting must say here how it is checked


def set_values(session: Session, actor: Actor, values: dict[str, Any]) -> None:
    require_admin(actor, "修改系统设置")
    if not isinstance(values, dict):
        raise ValidationError("系统设置", "应为“项目: 值”的对照表")
    clean = {key: clean_value(key, value) for key, value in values.items()}
    ledger.append(session, actor, "settings.changed", {"values": clean})


@ledger.projector("settings.changed")
def _project(session: Session, ev: Event, payload: dict[str, Any]) -> None:
    _cache.clear()
    for key, value in payload["values"].items():
        row = session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=value))
        else:
            row.value = value
    session.flush()
