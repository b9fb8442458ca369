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
from hall.services.base.permissions import require_supervisor, require_ticket_action
from hall.services.base.states import STATE_LABELS
from hall.services.cases.routing import receiver_refusal
from hall.services.cases.workflow import close_blocker
from hall.services.people.attendance import standing_in_for
from hall.services.tickets.rules import SUPERVISOR_ONLY, TRANSITIONS, check_transition, open_stop, today_of

# The detail's two basic actions beside the state table (hall.services.tickets.record).
BASIC = ("supplement", "void")


def refusals(session: Session, actor: Actor, t: Ticket, *, now: datetime | None = None) -> dict[str, str]:
    """Every action the ticket detail shows → "" when this actor may do it now, else the reason (Chinese), asked
    in the order the service asks (permission, the supervisor rule, the state, the clock, the kind)."""
    day = today_of(now).date()
    stands_in = standing_in_for(session, actor.staff_id, day) if actor.staff_id is not None else ()

    def denied(what: str, windows: tuple[str, ...]) -> str:
        try:
            require_ticket_action(actor, window_code=t.window_code, owner_id=t.owner_id,
                                  intake_point=t.intake_point, what=what, standing_in_for=windows)
        except PermissionDenied as exc:
            return str(exc)
        return ""

    out: dict[str, str] = {}
    paused = open_stop(t, "pause") is not None
    for name, tr in TRANSITIONS.items():
        if name == "accept_transfer":  # the receiving window answers, not the ticket's own
            out[name] = receiver_refusal(session, actor, t, day)
            continue
        try:
            if name in SUPERVISOR_ONLY:  # before the ticket's window, as the service asks
                require_supervisor(actor, tr.label)
            why = denied(tr.label, stands_in)
            if not why:
                check_transition(t, name)
        except (ConflictError, PermissionDenied) as exc:
            why = str(exc)
        if why:
            out[name] = why
        elif name == "resume" and not paused:
            out[name] = "计时没有暂停，无需恢复"
        elif name == "pause" and paused:
            out[name] = "计时已暂停（等待补正或容缺材料），请先恢复计时再发出新的补正通知"
        elif name == "close":
            out[name] = close_blocker(session, t)
        else:
            out[name] = ""
    state = STATE_LABELS.get(t.state, t.state)
    # The basic actions check the window without B-posts (hall.services.tickets.record._editable).
    out["supplement"] = denied("登记补正", ()) or (
        "" if t.state == "supplement" else f"办件当前为“{state}”，没有待补正的材料")
    out["void"] = denied("作废", ()) or ("该办件已作废" if t.state == "voided" else "")
    return out
