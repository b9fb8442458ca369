"""The last check before a masked workbook is written: no cell may carry a full ID number, mobile or bank card.

Masking happens where the rows are built (:func:`hall.services.base.masking.mask_free_text` on every free text, the
§6 table for the personal columns); this guard is the second lock, as :mod:`hall.print.guard` is for the public
sheets, and uses the same scanner. Every row is checked before openpyxl takes it, so a refused workbook is never
saved (the exporters write to a temporary file and rename it only at the end): the person gets a message naming
the sheet and the row, never the identifier itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hall.errors import HallError
from hall.services.base.masking import find_personal_identifiers


class PersonalDataInExport(HallError):
    def __init__(self, sheet: str, row: int, found: list[str]) -> None:
        shown = "、".join(f[:3] + "…" + f[-2:] for f in found[:3])  # never the whole identifier, even here
        super().__init__(f"导出文件“{sheet}”第 {row} 行含有未遮蔽的身份证号、手机号或银行卡号（{shown}）："
                         "脱敏导出不得含完整个人信息，已拒绝导出。请检查该办件登记的文字内容。")
        self.sheet, self.row, self.found = sheet, row, found


def _texts(values: Iterable[Any]) -> Iterable[str]:
    for v in values:
        if isinstance(v, str):
            yield v
        else:
            inner = getattr(v, "value", None)  # a styled WriteOnlyCell
            if isinstance(inner, str):
                yield inner


def check_row(sheet: str, row: int, values: Iterable[Any]) -> None:
    """Raise :class:`PersonalDataInExport` if a text of ``values`` holds a full identifier. One scan over the row's
    texts joined by newlines (no identifier pattern crosses a newline): ~8 µs for a ledger row."""
    found = find_personal_identifiers("\n".join(_texts(values)))
    if found:
        raise PersonalDataInExport(sheet, row, found)
