"""Who is acting: every service call takes an ``Actor`` and checks permission itself."""

from __future__ import annotations

from dataclasses import dataclass

ROLE_LABELS = {"clerk": "窗口工作人员", "manager": "中心主任", "village": "村代办员", "admin": "系统管理员",
               "inspector": "效能监察员"}
# Who wrote an event, for a history line: staff by name and role; the program itself (系统) and the citizen at the
# rating screen (申请人（…）) by the name they carry, which already says what they are.
NAMED_ONLY_ROLES = frozenset({"system", "citizen"})


def actor_label(name: str, role: str) -> str:
    """The actor of a history line in the glossary's words: "王民政（窗口工作人员）", "系统", "申请人（评价器）"."""
    if role in NAMED_ONLY_ROLES:
        return name or ("系统" if role == "system" else "申请人")
    return f"{name}（{ROLE_LABELS.get(role, '工作人员')}）"


@dataclass(frozen=True)
class Actor:
    staff_id: int | None
    name: str
    role: str  # clerk | manager | village | admin | inspector | system | citizen
    node_id: str
    intake_point: str = "000"
    window_code: str | None = None
    # The stable identity events name the person by (``staff.uid``); ``staff_id`` is this database's row id,
    # for permissions and queries here, never written into an event.
    staff_uid: str | None = None

    @classmethod
    def system(cls, node_id: str, intake_point: str = "000") -> Actor:
        """The program itself (first start, migrations, scheduled recomputation)."""
        return cls(staff_id=None, name="系统", role="system", node_id=node_id, intake_point=intake_point)

    @property
    def is_supervisor(self) -> bool:
        return self.role in ("manager", "admin", "system")

    @property
    def is_inspector(self) -> bool:
        """效能监察员: reads every case, writes nothing but their own findings (see permissions.require_may_write)."""
        return self.role == "inspector"
