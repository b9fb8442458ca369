"""Catalogue consistency warnings (事项清单一致性提示): items whose limits cannot hold by construction.

Not errors: the catalogue still imports (a township may knowingly keep a local limit), but the administrator is
told on import and in the catalogue view, with the row and the reason:

- a 联办件 whose promised limit is shorter than its co-departments' longest possible answer time — 5 working days
  from the copy day, +3 when a higher level must review (domain-rules.md §2) — plus one working day for the lead
  to close after the answers: such a case is overdue by construction whenever a department uses its time;
- an item whose promised limit exceeds its statutory limit (承诺时限 ≤ 法定时限; the spreadsheet import refuses
  it, an older catalogue may still hold it);
- an item whose prerequisite (先照后证) needs, directly or through others, the item itself: no applicant could
  ever be accepted for any of them;
- an item with a fee amount whose fee standard's wording says 不收费 / 免费 (the paper and the counter would
  contradict each other).

For a natural-day item the answer time is counted as natural days it can take at most outside holiday weeks
(8 working days span at least 10 natural days: two weekends).
"""

from __future__ import annotations

from dataclasses import dataclass

from hall.services.catalog.spec import CatalogSpec, ItemSpec

OPINION_DAYS, HIGHER_REVIEW_DAYS = 5, 3  # hall/services/cases/joint.py (the catalogue sits below the cases)
CLOSE_DAYS = 1  # the lead's own day to close once every answer is in
NATURAL_SPAN_OF = {8: 10}  # working days → the fewest natural days they span (two weekends)


@dataclass(frozen=True)
class CatalogWarning:
    row: int  # the row on the 事项 sheet (first data row 2), as the administrator finds it in Excel
    code: str
    name: str
    reason: str

    def text(self) -> str:
        return f"事项 第 {self.row} 行（{self.code} {self.name}）：{self.reason}"


def needed_for_joint(unit: str) -> int:
    """The shortest promised limit a joint item can keep when a co-department uses all its time."""
    answer = OPINION_DAYS + HIGHER_REVIEW_DAYS
    if unit == "day":
        return NATURAL_SPAN_OF.get(answer, answer * 7 // 5) + CLOSE_DAYS
    return answer + CLOSE_DAYS


def item_warnings(item: ItemSpec, row: int) -> list[CatalogWarning]:
    out: list[CatalogWarning] = []
    word = "日" if item.limit_unit == "day" else "个工作日"
    if item.promised_limit > item.statutory_limit:
        out.append(CatalogWarning(row, item.code, item.name,
                                  f"承诺时限 {item.promised_limit} {word}超过法定时限 {item.statutory_limit} {word}"))
    if item.default_kind == "joint" and len(item.departments) > 1:
        need = needed_for_joint(item.limit_unit)
        if item.promised_limit < need:
            out.append(CatalogWarning(
                row, item.code, item.name,
                f"承诺时限 {item.promised_limit} {word}短于协办部门最长答复时间（抄告后 {OPINION_DAYS} 个工作日，"
                f"需上级审核的加 {HIGHER_REVIEW_DAYS} 个工作日）加主办办结 {CLOSE_DAYS} 个工作日，"
                f"至少应为 {need} {word}，否则协办部门用足时间即超期"))
    return out


def _prerequisite_cycle(item: ItemSpec, needs: dict[str, str]) -> list[str]:
    """The chain of prerequisites from ``item`` back to itself, or [] when it ends."""
    chain, code = [item.code], needs.get(item.code, "")
    while code and code not in chain:
        chain.append(code)
        code = needs.get(code, "")
    return [*chain, code] if code == item.code else []


def warnings(spec: CatalogSpec, *, first_data_row: int = 2) -> list[CatalogWarning]:
    """Every item's warnings, in sheet order (rows as the spreadsheet export writes them)."""
    needs = {i.code: i.prerequisite for i in spec.items if i.prerequisite}
    out: list[CatalogWarning] = []
    for row, item in enumerate(spec.items, first_data_row):
        out += item_warnings(item, row)
        cycle = _prerequisite_cycle(item, needs)
        if cycle:
            out.append(CatalogWarning(row, item.code, item.name,
                                      f"前置事项循环（{' → '.join(cycle)}），任何申请人都无法受理"))
        if item.fee_cents and any(word in item.fee for word in ("不收费", "免费")):
            out.append(CatalogWarning(row, item.code, item.name,
                                      f"收费金额为 {item.fee_cents / 100:.2f} 元，但收费标准写明“{item.fee}”"))
    return out
