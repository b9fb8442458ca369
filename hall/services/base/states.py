"""Ticket states and kinds: one code name per idea, one Chinese label (glossary.md)."""

from __future__ import annotations

STATE_LABELS = {
    "received": "已接件",
    "supplement": "待补正",
    "accepted": "已受理",
    "in_progress": "办理中",
    "forwarded": "已转报",
    "awaiting_opinions": "待反馈",
    "special": "特别程序",
    "escalated": "集体研究",
    "refused": "不予受理",
    "closed_approved": "办结（通过）",
    "closed_tolerated": "办结（容缺通过）",
    "closed_rejected": "办结（不通过）",
    "delivered": "已送达",
    "withdrawn": "已撤回",
    "voided": "已作废",
}
# Not a state: a ticket whose clock is paused for 补正 keeps its state (已受理, 办理中 …); screens show this instead.
PAUSED_LABEL = "已暂停"
# States in which the clock no longer runs.
FINISHED = frozenset({"refused", "closed_approved", "closed_tolerated", "closed_rejected", "delivered",
                      "withdrawn", "voided"})
KIND_LABELS = {"explain": "解释件", "immediate": "即办件", "promised": "承诺件", "proxy": "代办件", "joint": "联办件"}
SAME_DAY_KINDS = frozenset({"explain", "immediate"})
MATERIAL_STATUS = {"received": "已收", "missing": "需补正", "tolerated": "容缺"}


def is_open(state: str) -> bool:
    return state not in FINISHED
