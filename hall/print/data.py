"""Plain data the renderers draw (defined in :mod:`hall.services.base.paper_data`, which the services build)."""

from hall.services.base.paper_data import (
    KIND_ZH,
    MATERIAL_FORMS,
    Closure,
    DepartmentRequest,
    Extension,
    HallInfo,
    ItemNotice,
    MaterialLine,
    StaffBadge,
    TicketPaper,
    WindowBoard,
)

__all__ = ["KIND_ZH", "MATERIAL_FORMS", "Closure", "DepartmentRequest", "Extension", "HallInfo", "ItemNotice",
           "MaterialLine", "StaffBadge", "TicketPaper", "WindowBoard"]
