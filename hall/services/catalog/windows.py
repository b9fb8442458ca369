"""管理 → 窗口与代办点, the windows half: list, add, edit, disable and enable the hall's service windows.

The windows are part of the catalogue (the items name their window; the Excel catalogue has a 窗口 sheet), so a
change to one is a new catalogue version: the current catalogue with that window added, changed or left out,
appended as one ``catalog.imported`` event like any import. Its projector already keeps a window that left the
catalogue as an inactive row (tickets still name it) and makes it active again when it comes back; syncing,
history and ``ledger check`` need nothing new. A window is disabled only when no current item and no active
clerk belongs to it (move them first), so no ticket can be registered at a window that is gone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall.errors import ConflictError, NotFound, ValidationError
from hall.models import Item, Staff, Window
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_admin
from hall.services.base.validators import free_text
from hall.services.catalog import items as catalog
from hall.services.catalog.spec import WindowSpec

CODE_RULE = re.compile(r"[A-Z][A-Z0-9]{1,7}")


@dataclass(frozen=True)
class WindowRow:
    code: str
    name: str
    sort_order: int
    phone: str
    active: bool
    items: int  # current items at this window
    staff: int  # active staff at this window


@dataclass(frozen=True)
class WindowForm:
    code: str
    name: str
    phone: str = ""
    sort_order: int = 0


def window_rows(session: Session) -> list[WindowRow]:
    """Every window, the inactive ones too (last), with how many items and active staff it has."""
    items = dict(session.execute(select(Item.window_code, func.count()).where(Item.is_current)
                                 .group_by(Item.window_code)).all())
    people = dict(session.execute(select(Staff.window_code, func.count()).where(Staff.active)
                                  .group_by(Staff.window_code)).all())
    rows = session.scalars(select(Window).order_by(Window.active.desc(), Window.sort_order, Window.code))
    return [WindowRow(w.code, w.name, w.sort_order, w.phone, w.active, int(items.get(w.code, 0)),
                      int(people.get(w.code, 0))) for w in rows]


def window_code(value: str) -> str:
    """A window code as typed (full-width letters from an IME and lower case accepted): W01 … W11, W12 …"""
    code = (value or "").strip().translate({c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}).upper()
    if not code:
        raise ValidationError("窗口编码", "不能为空")
    if not CODE_RULE.fullmatch(code):
        raise ValidationError("窗口编码", f"应为字母开头的2到8位字母或数字（如 W12），现为“{value.strip()}”")
    return code


def _checked(form: WindowForm) -> WindowSpec:
    code = window_code(form.code)
    name = free_text(form.name, "窗口名称", max_len=80)
    phone = free_text(form.phone, "咨询电话", max_len=40, required=False)
    if not 0 <= int(form.sort_order) <= 999:
        raise ValidationError("排序", f"应为0到999之间的整数，现为{form.sort_order}")
    return WindowSpec(code, name, int(form.sort_order), phone)


def _save(session: Session, actor: Actor, windows: list[WindowSpec], source: str) -> None:
    spec = catalog.current_spec(session)
    ordered = tuple(sorted(windows, key=lambda w: (w.sort_order, w.code)))
    catalog.import_catalog(session, actor, replace(spec, windows=ordered), source)


def add_window(session: Session, actor: Actor, form: WindowForm) -> WindowRow:
    require_admin(actor, "添加窗口")
    new = _checked(form)
    found = session.get(Window, new.code)
    if found is not None:
        state = "（已停用，可选中后“启用”）" if not found.active else ""
        raise ConflictError(f"窗口编码“{new.code}”已存在{state}")
    current = list(catalog.current_spec(session).windows)
    _save(session, actor, [*current, new], f"窗口：新增 {new.code} {new.name}")
    return _row(session, new.code)


def update_window(session: Session, actor: Actor, form: WindowForm) -> WindowRow:
    """Name, phone and order of an active window (its code never changes: tickets and items name it)."""
    require_admin(actor, "修改窗口")
    new = _checked(form)
    found = session.get(Window, new.code)
    if found is None or not found.active:
        raise NotFound(f"窗口“{new.code}”不存在或已停用")
    current = [new if w.code == new.code else w for w in catalog.current_spec(session).windows]
    if (found.name, found.phone, found.sort_order) != (new.name, new.phone, new.sort_order):
        _save(session, actor, current, f"窗口：修改 {new.code} {new.name}")
    return _row(session, new.code)


def set_window_active(session: Session, actor: Actor, code: str, active: bool) -> WindowRow:
    require_admin(actor, "停用或启用窗口")
    code = window_code(code)
    found = session.get(Window, code)
    if found is None:
        raise NotFound(f"窗口“{code}”不存在")
    if found.active == active:
        raise ConflictError(f"窗口“{code}”已经是{'启用' if active else '停用'}状态")
    current = list(catalog.current_spec(session).windows)
    if active:
        windows = [*current, WindowSpec(found.code, found.name, found.sort_order, found.phone)]
    else:
        row = _row(session, code)
        if row.items or row.staff:
            raise ConflictError(f"窗口“{code}”还有 {row.items} 项事项、{row.staff} 名在岗人员：请先在事项清单中把事项"
                                "移到其他窗口、在“工作人员”中调整人员，再停用")
        windows = [w for w in current if w.code != code]
    _save(session, actor, windows, f"窗口：{'启用' if active else '停用'} {code} {found.name}")
    return _row(session, code)


def _row(session: Session, code: str) -> WindowRow:
    return next(r for r in window_rows(session) if r.code == code)
