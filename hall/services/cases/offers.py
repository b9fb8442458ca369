"""What the ticket detail may offer now: every action of a ticket, and for each one it may not, why not.

One function answers both questions for the screen, with the same words the services raise when called anyway:
the permission rule, the state table (:data:`~hall.services.tickets.rules.TRANSITIONS`), the clock (a pause
already running, none to resume) and the kind's preconditions of 办结 (:func:`~hall.services.cases.workflow.
close_blocker`). The screen disables a refused action and shows the reason as its tooltip, so a clerk never
opens a dialog, types a result, and is then told no.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hall.errors import ConflictError, PermissionDenied
from hall.models import Ticket
from hall.services.base.actor import Actor
from hall.services.base.states import STATE_LABELS
from hall.services.cases.workflow import close_blocker
from hall.services.tickets.rules import SUPERVISOR_ONLY, TRANSITIONS, check_transition, open_stop, permit, today_of

# The detail's two basic actions beside the state table (hall.services.tickets.record).
BASIC = ("supplement", "void")


def refusals(session: Session, actor: Actor, t: Ticket, *, now: datetime | None = None) -> dict[str, str]:
    """Every action the ticket detail shows → "" when this actor may do it now, else the reason (Chinese)."""
    day = today_of(now).date()
    names = [*TRANSITIONS, *BASIC]
    try:
        permit(session, actor, t, "办理", day)
    except PermissionDenied as exc:
        return dict.fromkeys(names, str(exc))
    out: dict[str, str] = {}
    for name in TRANSITIONS:
        try:
            check_transition(t, name)
        except ConflictError as exc:
            out[name] = str(exc)
            continue
        paused = open_stop(t, "pause") is not None
        if name == "resume" and not paused:
            out[name] = "计时没有暂停，无需恢复"
        elif name == "pause" and paused:
            out[name] = "计时已暂停（等待补正），请先恢复计时"
        elif name in SUPERVISOR_ONLY and not actor.is_supervisor:
            out[name] = f"只有中心主任可以{TRANSITIONS[name].label}"
        elif name == "close":
            out[name] = close_blocker(session, t)
        else:
            out[name] = ""
    state = STATE_LABELS.get(t.state, t.state)
    out["supplement"] = "" if t.state == "supplement" else f"办件当前为“{state}”，没有待补正的材料"
    out["void"] = "该办件已作废" if t.state == "voided" else ""
    return out
