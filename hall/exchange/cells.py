"""The last lock before a workbook: whatever text a cell gets, the file is written and opens as data.

The free-text rule (hall.services.base.validators.free_text) keeps control characters out of everything saved since it
came in; rows written before it (or by a hand edit of the database) may still hold them. openpyxl refuses such a
cell with ``IllegalCharacterError`` half-way through a year's ledger, a lone surrogate fails lxml's UTF-8, a cell
over Excel's 32,767 characters makes Excel call the file corrupt, and a text starting with "=" is written as a
formula (``=cmd|' /C calc'!A0`` — formula injection). :func:`cell_text` turns any of them into plain, safe text;
:func:`safe_row` does it for a row at the cost of one scan when nothing needs doing (the common case).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

EXCEL_CELL_MAX = 32_767
_CUT_MARK = "…（以下内容过长，已截断）"
# What openpyxl refuses, what UTF-8 cannot encode, XML's noncharacters and the bidi overrides (which Excel shows
# as they would reorder the text) — the free-text rule's list; tab and newline stay (Excel keeps them in a cell).
_UNSAFE = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069\ufffe\uffff"
_UNSAFE_RE = re.compile(f"[{_UNSAFE}]")


def cell_text(value: str) -> str:
    """``value`` fit for a cell: unsafe characters become U+FFFD (visible, not silently dropped), cut at
    Excel's limit. A leading "=" is kept; :func:`safe_value` makes such a cell a string, not a formula."""
    text = _UNSAFE_RE.sub("\ufffd", value)
    if ILLEGAL_CHARACTERS_RE.search(text):  # openpyxl's own list, should it ever grow
        text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
    if len(text) > EXCEL_CELL_MAX:
        text = text[:EXCEL_CELL_MAX - len(_CUT_MARK)] + _CUT_MARK
    return text


def safe_value(ws: WriteOnlyWorksheet, value: Any) -> Any:
    """A value for a write-only row: text made safe, and text starting with "=" written as a string cell."""
    if not isinstance(value, str):
        return value
    text = cell_text(value)
    if not text.startswith("="):
        return text
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"  # text, never a formula
    return cell


def new_cell(ws: WriteOnlyWorksheet, value: Any) -> WriteOnlyCell:
    """A cell to style: its text made safe before openpyxl sees it (its constructor refuses illegal characters),
    and a text starting with "=" kept a string."""
    if not isinstance(value, str):
        return WriteOnlyCell(ws, value=value)
    text = cell_text(value)
    cell = WriteOnlyCell(ws, value=text)
    if text.startswith("="):
        cell.data_type = "s"
    return cell


def safe_row(ws: WriteOnlyWorksheet, row: Sequence[Any]) -> list[Any]:
    """``row`` ready for ``ws.append``: untouched unless some text in it needs :func:`safe_value`."""
    # One scan over the row's texts joined by newlines (a value starting with "=" follows a newline, or starts it):
    # a few microseconds for a row that needs nothing, against hundreds for writing it.
    joined = "\n".join([v for v in row if isinstance(v, str)])
    if len(joined) <= EXCEL_CELL_MAX and not joined.startswith("=") and "\n=" not in joined \
            and not _UNSAFE_RE.search(joined):
        return list(row)
    return [safe_value(ws, v) for v in row]
