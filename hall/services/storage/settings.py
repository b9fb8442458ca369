"""Hall-wide settings: local rules are settings, not constants (domain-rules.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.errors import ValidationError
from hall.models import Event, Setting
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_admin
from hall.services.storage import ledger

DEFAULTS: dict[str, Any] = {
    "township_code": "320581101",
    "hall_name": "示例镇便民服务中心",
    "township_name": "示例镇",
    "hall_address": "示例镇人民路1号",
    "service_phone": "0512-57688000",
    "supervision_phone": "0512-12345",
    "rectify_workdays": 15,          # 差评 rectification deadline (5, 7 or 15 seen)
    "unrated_days": 7,               # no rating after N days …
    "unrated_counts_as": "非常满意",  # … counts as this, or "" to leave unrated
    "supplement_days": 5,            # days the applicant has to bring missing papers
    "complaint_workdays": 15,        # a complaint (投诉) is answered within this many working days
    "village_names": {"001": "东村代办点", "002": "西村代办点", "003": "南村代办点", "004": "北村代办点"},
}
LABELS = {
    "township_code": "乡镇代码", "hall_name": "中心名称", "township_name": "乡镇名称", "hall_address": "中心地址",
    "service_phone": "咨询电话", "supervision_phone": "监督电话", "rectify_workdays": "差评整改期限（工作日）",
    "unrated_days": "未评价天数", "unrated_counts_as": "逾期未评价视为", "supplement_days": "补正期限（日）",
    "complaint_workdays": "投诉办理期限（工作日）",
}


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


def set_values(session: Session, actor: Actor, values: dict[str, Any]) -> None:
    require_admin(actor, "修改系统设置")
    for key, value in values.items():
        if key not in DEFAULTS:
            raise ValidationError(key, "不是可设置的项目")
        if key == "township_code" and not (isinstance(value, str) and len(value) == 9 and value.isdigit()):
            raise ValidationError(LABELS[key], "应为9位数字（县级代码6位+乡镇3位）")
        if isinstance(DEFAULTS[key], int) and not isinstance(value, int):
            raise ValidationError(LABELS.get(key, key), "应为整数")
    ledger.append(session, actor, "settings.changed", {"values": values})


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
