"""One date rule for every derived date around a ticket (派生期限): 补正 supply deadlines, co-department answer
deadlines, proxy department legs, rectifications, complaints, follow-ups and appointments.

Each such date is ``start`` + a :class:`DateRule` (``limit`` days in ``unit``), counted exactly as a ticket's
due date is (:mod:`hall.services.calendar.deadlines`): the start day is not counted (民法典 §201); working days
skip holidays and count 调休 days; a natural-day limit whose last day is not a working day moves to the next
working day (民法典 §203); a year without a confirmed calendar counts Mon–Fri and makes the date 暂定. The rule
travels in the event that creates the date, so :mod:`hall.services.cases.rederive` can derive the date again,
with one recorded event per date that moves, whenever the calendar changes.

Extensions count in the item's own unit and are capped (:func:`extension_cap`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from hall.errors import ValidationError
from hall.services.calendar.deadlines import (
    MAX_LIMIT,
    UNIT_NAMES,
    Deadline,
    LimitRule,
    Unit,
    WorkCalendar,
    compute_due,
    due_date,
)

# The kinds of derived date, with the name a clerk reads on screen and paper.
KIND_NAMES = {
    "supplement": "补正期限",
    "joint_copy": "协办部门答复期限",
    "proxy_leg": "承办部门办理时限",
    "rectification": "差评整改期限",
    "complaint": "投诉答复期限",
    "followup": "回访日期",
    "appointment": "约访日期",
    "petition_accept": "信访受理告知期限",
    "petition_transfer": "移交机关答复期限",
    "petition_followup": "信访回访日期",
}

# 行政许可法 §42 (20 日, extendable by 10) and 信访工作条例 §32 (60 日, extendable by 30) both allow at most half
# the statutory limit again: the cap of every approved extension, counted in the item's unit.
EXTENSION_SHARE_NUM, EXTENSION_SHARE_DEN = 1, 2


@dataclass(frozen=True)
class DateRule:
    """``limit`` days in ``unit`` after the start day (0: the start day itself, moved off a non-working day
    when the unit is natural days)."""

    limit: int
    unit: Unit = "workday"

    def to_json(self) -> dict[str, Any]:
        return {"limit": self.limit, "unit": self.unit}

    @classmethod
    def from_json(cls, data: Any) -> DateRule | None:
        if not isinstance(data, dict) or "limit" not in data:
            return None
        return cls(int(data["limit"]), data.get("unit", "workday"))

    def text(self) -> str:
        return f"{self.limit} {UNIT_NAMES[self.unit]}"


def _check(rule: DateRule) -> LimitRule:
    if not isinstance(rule.limit, int) or not 0 <= rule.limit <= MAX_LIMIT:
        raise ValidationError("期限天数", f"应为 0 至 {MAX_LIMIT} 之间的整数，现为 {rule.limit}")
    if rule.unit not in UNIT_NAMES:
        raise ValidationError("期限单位", f"应为 workday（工作日）或 day（自然日），现为 {rule.unit}")
    return LimitRule(rule.limit, rule.unit)


def derive(calendar: WorkCalendar, start: date, rule: DateRule) -> tuple[date, bool]:
    """The derived date and whether it is provisional (暂定)."""
    return due_date(calendar, _check(rule), start, "promised")


def explain(calendar: WorkCalendar, start: date, rule: DateRule, kind: str) -> Deadline:
    """The derived date with the same day-by-day explanation as a due date, its last line naming the kind."""
    dl = compute_due(calendar, _check(rule), start, "promised")
    name = KIND_NAMES.get(kind, "期限")
    lines = [ln.replace("受理日", "起算日", 1) if i == 0 else ln for i, ln in enumerate(dl.explanation)]
    lines[1] = f"{name}：{rule.text()}。"
    lines[-1] = lines[-1].replace("办结期限", name, 1)
    return Deadline(dl.due, dl.provisional, tuple(lines), dl.counted_days, dl.provisional_years, dl.paused_since,
                    dl.limit, dl.unit, dl.extension_days)


def extension_cap(statutory_limit: int) -> int:
    """The most days all extensions of one case may add together (in the item's unit)."""
    return max(statutory_limit, 0) * EXTENSION_SHARE_NUM // EXTENSION_SHARE_DEN


def check_extension(days: object, statutory_limit: int, unit: str, already: int) -> int:
    """``days`` more on top of ``already`` approved: refused with the rule named when the total passes the cap."""
    word = UNIT_NAMES.get(unit, "日")
    cap = extension_cap(statutory_limit)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise ValidationError("延期天数", f"应为正整数（{word}）")
    if already + days > cap:
        left = max(cap - already, 0)
        raise ValidationError("延期天数", f"法定时限 {statutory_limit} {word}，延长合计不得超过 {cap} {word}"
                                          f"（已延长 {already} {word}，至多还可延长 {left} {word}）")
    return days
