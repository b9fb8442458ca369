"""The catalogue view (事项清单): every current item as one row, with its consistency warnings beside it.

Rows are numbered as the spreadsheet export writes them (first data row 2), so a warning's row is the row the
administrator edits in Excel.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from hall.services.catalog import consistency
from hall.services.catalog import items as catalog
from hall.services.catalog.spec import KIND_LABELS, UNIT_LABELS, fee_text


@dataclass(frozen=True)
class CatalogRow:
    row: int  # the 事项 sheet row of the export
    code: str
    name: str
    window_code: str
    kind_label: str
    limits: str  # "承诺 15 / 法定 20 工作日"
    fee: str  # "免费" or "20 元（工本费）"
    prerequisite: str  # "18" or ""
    warnings: tuple[str, ...]


def rows(session: Session) -> list[CatalogRow]:
    spec = catalog.current_spec(session)
    by_row: dict[int, list[str]] = {}
    for w in consistency.warnings(spec):
        by_row.setdefault(w.row, []).append(w.reason)
    out = []
    for row, it in enumerate(spec.items, 2):
        fee = f"{fee_text(it.fee_cents)} 元" if it.fee_cents else "免费"
        if it.fee_cents and it.fee:
            fee += f"（{it.fee}）"
        unit = UNIT_LABELS.get(it.limit_unit, "")
        out.append(CatalogRow(row, it.code, it.name, it.window_code, KIND_LABELS.get(it.default_kind, it.default_kind),
                              f"承诺 {it.promised_limit} / 法定 {it.statutory_limit} {unit}", fee, it.prerequisite,
                              tuple(by_row.get(row, ()))))
    return out
