"""The 补正 request record shared by intake and handling (补正材料通知): its materials, its supply deadline by the
one date rule, its projector. The handling-stage action is :func:`hall.services.cases.supplement.request`; intake
records the request of a ticket saved as 补正 (hall/services/tickets/intake.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from hall.errors import ValidationError
from hall.models import Event, Item
from hall.models.workflow import SupplementRequest
from hall.services.base.validators import free_text, shown
from hall.services.calendar.derived import DateRule
from hall.services.storage import ledger, settings
from hall.services.tickets.rules import derive_date

REQUESTED = "supplement.requested"
MAX_MATERIALS = 30
STAGES = {"intake": "收件时补正", "handling": "办理中补正"}


def supply_rule(session: Session) -> DateRule:
    """The supply deadline's rule: the ``supplement_days`` setting, in natural days (补正期限（日）)."""
    return DateRule(int(settings.get(session, "supplement_days")), "day")


def materials_lines(item: Item, listed: Sequence[str], free: Sequence[str]) -> list[dict[str, Any]]:
    by_name = {m["name"]: m for m in item.materials}
    unknown = [shown(n) for n in listed if n not in by_name]
    if unknown:
        raise ValidationError("补正材料", f"“{'、'.join(unknown[:5])}”不在本事项的材料清单中；"
                                         "清单以外的材料请填在“其他补正材料”中")
    # Who issues a listed material is read from the catalogue when the notice is printed.
    out = [{"name": n, "form": by_name[n].get("form") or "原件", "count": int(by_name[n].get("count") or 1),
            "source": "item"} for n in listed]
    for raw in free:
        name = free_text(raw, "其他补正材料", max_len=100)
        out.append({"name": name, "form": "原件", "count": 1, "source": "free"})
    names = [m["name"] for m in out]
    if not out:
        raise ValidationError("补正材料", "至少列出一项需补正的材料（一次性告知：全部材料一次列明）")
    if len(out) > MAX_MATERIALS:
        raise ValidationError("补正材料", f"一次最多列 {MAX_MATERIALS} 项")
    if len(set(names)) != len(names):
        raise ValidationError("补正材料", "同一材料不能重复列出")
    return out


def intake_payload(session: Session, marks: Sequence[dict[str, Any]], on: date) -> dict[str, Any]:
    """The request of a 补正 at intake (the ticket saved as 补正): its missing materials, by the date rule."""
    rule = supply_rule(session)
    due, provisional = derive_date(session, on, rule)
    return request_payload(marks, on, rule, due, provisional)


def request_payload(marks: Sequence[dict[str, Any]], on: date, rule: DateRule, due: date,
                    provisional: bool) -> dict[str, Any]:
    """The intake request's payload from the ticket's material marks (shared with the demo's generator)."""
    lines = [{"name": m["name"], "form": m.get("form") or "原件", "count": int(m.get("count") or 1),
              "source": "item"} for m in marks if m["status"] == "missing"]
    return {"stage": "intake", "materials": lines, "note": "", "on": on, "rule": rule.to_json(),
            "due_on": due, "due_provisional": provisional,
            "reason": f"{'、'.join(m['name'] for m in lines)}（{due} 前补正）"}


@ledger.projector(REQUESTED)
def _project_requested(session: Session, ev: Event, p: dict[str, Any]) -> None:
    rule = DateRule.from_json(p["rule"]) or DateRule(5, "day")
    session.add(SupplementRequest(
        event_id=ev.event_id, ticket_uid=ev.ticket_uid, stage=p["stage"], requested_on=date.fromisoformat(p["on"]),
        requested_by=ev.actor_name, materials=p["materials"], reason=p["note"], limit_days=rule.limit,
        limit_unit=rule.unit, due_on=date.fromisoformat(p["due_on"]), due_provisional=p["due_provisional"],
        state="open"))
    session.flush()
