"""The hall's daily rules, run once a day (and safely again): nothing is decided silently, each is an event.

Deemed consent of silent co-departments, accountability for overdue tickets, unrated tickets per the local rule,
follow-ups after closure, B-posts for absent staff. Run by the hall node (the GUI at start-up and every hour,
or `hall-admin daily` from a scheduled task); village laptops leave it to the hall.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from hall.services import accountability, bposts, followups, joint, ratings
from hall.services.actor import Actor
from hall.services.permissions import require_supervisor


@dataclass(frozen=True)
class DailyReport:
    day: date
    deemed_consents: int = 0
    accountability: int = 0
    unrated_settled: int = 0
    followups_scheduled: int = 0
    substitutions_started: int = 0
    tickets_to_b_posts: int = 0
    tickets_returned: int = 0
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def lines(self) -> list[str]:
        return [
            f"{self.day.isoformat()} 每日规则：",
            f"  逾期视为认可（联办）：{self.deemed_consents} 件",
            f"  超期办件责任追究记录：{self.accountability} 件",
            f"  逾期未评价按规定处理：{self.unrated_settled} 件",
            f"  办结回访已排期：{self.followups_scheduled} 件",
            f"  B岗顶岗：新开始 {self.substitutions_started} 起，移交办件 {self.tickets_to_b_posts} 件，"
            f"归还 {self.tickets_returned} 件",
            *[f"  提示：{w}" for w in self.warnings],
        ]


def run(session: Session, actor: Actor, today: date) -> DailyReport:
    require_supervisor(actor, "执行每日规则")
    consents = joint.sweep_deemed_consent(session, actor, today)
    overdue = accountability.sweep_overdue(session, actor, today)
    unrated = ratings.sweep_unrated(session, actor, today)
    scheduled = followups.sweep_closed(session, actor, today)
    b = bposts.sweep(session, actor, today)
    return DailyReport(today, len(consents), len(overdue), len(unrated), scheduled, len(b.started), len(b.moved),
                       len(b.returned), tuple(b.warnings))
