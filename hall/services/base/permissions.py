"""Who may do what. Services call these; the UI only hides what they would refuse."""

from __future__ import annotations

from hall.errors import PermissionDenied
from hall.services.base.actor import Actor

ADMIN_ROLES = ("admin", "system")

# What the 效能监察员 may append: their own findings, their own password, and the audit trail of what they
# looked at or printed. Everything else is refused by the ledger itself, whichever service (or script) asks.
INSPECTOR_MAY_WRITE = frozenset({"inspection.finding_recorded", "staff.password_set", "ticket.printed",
                                 "report.ledger_exported"})


def require_may_write(actor: Actor, event_type: str) -> None:
    """The one check every ledger append makes: a read-only role changes nothing."""
    if actor.role == "inspector" and event_type not in INSPECTOR_MAY_WRITE:
        raise PermissionDenied("效能监察员只能查看办件和记录本人的监察意见，不能办理或修改")


def require_admin(actor: Actor, what: str) -> None:
    if actor.role not in ADMIN_ROLES:
        raise PermissionDenied(f"只有系统管理员可以{what}")


def require_supervisor(actor: Actor, what: str) -> None:
    if not actor.is_supervisor:
        raise PermissionDenied(f"只有中心主任或系统管理员可以{what}")


# Who oversees the hall's conduct (追责, 回访): the manager, the administrator, the program's own sweeps, and
# the 效能监察员 (inspector), who supervises the hall but handles no tickets. For a guard before a *write* use
# require_supervisor: the inspector writes nothing but his own findings (require_may_write), so opening a 追责
# record or scheduling a 回访 is the manager's (role_matrix.py).
OVERSIGHT_ROLES = ("manager", "admin", "system", "inspector")
STAFF_ROLES = ("clerk", "manager", "village", "admin", "inspector")


def require_oversight(actor: Actor, what: str) -> None:
    if actor.role not in OVERSIGHT_ROLES:
        raise PermissionDenied(f"只有中心主任、效能监察员或系统管理员可以{what}")


def require_staff(actor: Actor, what: str) -> None:
    """Any logged-in staff member or the program (not the citizen's rating screen)."""
    if actor.role not in (*STAFF_ROLES, "system"):
        raise PermissionDenied(f"只有工作人员可以{what}")


def require_intake(actor: Actor, intake_point: str) -> None:
    if actor.role == "village" and actor.intake_point != intake_point:
        raise PermissionDenied(f"村代办员只能在本代办点（{actor.intake_point}）登记办件")
    if actor.role not in ("clerk", "village", "manager", "admin", "system"):
        raise PermissionDenied("当前身份不能登记办件")


def require_ticket_action(actor: Actor, *, window_code: str, owner_id: int | None, intake_point: str,
                          what: str, standing_in_for: tuple[str, ...] = ()) -> None:
    """A clerk acts on their window's tickets (or one they own, or a window they stand in for as B-post)."""
    if actor.is_supervisor:
        return
    if owner_id is not None and owner_id == actor.staff_id:
        return
    if actor.role == "clerk" and (window_code == actor.window_code or window_code in standing_in_for):
        return
    if actor.role == "village" and intake_point == actor.intake_point:
        return
    raise PermissionDenied(f"无权{what}：该办件属于{window_code}窗口，不是您负责的窗口或办件")
