"""Print setup and number formats every exported workbook shares, so each prints and computes alike.

A county office prints what we send on A4 and feeds the figures to AVERAGE, sorting and charts (Excel, WPS,
LibreOffice). So every sheet is A4 landscape, one page wide, its header rows repeated on each page and a
"第 X 页，共 Y 页" footer; rates and averages are numbers carrying a number format, never text like "97.4%".
"""

from __future__ import annotations

from typing import Any

from openpyxl.worksheet.properties import PageSetupProperties

RATE_FORMAT = "0.0%"  # a rate as a fraction (0.974) shown as 97.4%
DAYS_FORMAT = "0.0"  # an average of working days
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
FOOTER = "第 &P 页，共 &N 页"  # &P / &N: Excel's page number and page count fields


def apply_print_setup(ws: Any, *, title_rows: str | None = None, landscape: bool = True) -> None:
    """A4, landscape, fit to one page wide (as many pages tall as needed), ``title_rows`` ("3:4") repeated on
    every printed page, the page footer. Works on write-only and ordinary worksheets alike."""
    ws.page_setup.paperSize = "9"  # A4 (openpyxl's PAPERSIZE_A4)
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # 0: no limit on the pages down
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = FOOTER
    if title_rows:
        ws.print_title_rows = title_rows
