"""Every exported workbook as an analyst opens it: figures are numbers with number formats, dates are dates, and
each sheet prints on A4 landscape, one page wide, with its header rows repeated and a page footer.

The workbooks are the real exports of the manager's December (monthly and quarterly reports, the masked and the
full ledger, the overdue list, the performance review) and the shipped catalogue, read back with openpyxl; one is
recomputed by LibreOffice Calc headless, which must find an AVERAGE over the rate column.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path
from typing import Any

import manager_day as MD
import pytest
from openpyxl import load_workbook

from hall.exchange import reports_xlsx
from hall.exchange.catalog_xlsx import write_catalog_xlsx
from hall.exchange.print_setup import DATE_FORMAT, DATETIME_FORMAT, DAYS_FORMAT, RATE_FORMAT
from hall.services.catalog import items as catalog
from hall.services.reporting.stats import Period

# Headings whose cells must be numbers (None: nothing to rate) in this format; counts must be ints.
FORMATTED = {"按时办结率": RATE_FORMAT, "满意率": RATE_FORMAT, "平均办理时长（工作日）": DAYS_FORMAT}
COUNTS = {"收件", "受理", "不予受理", "办结", "按时办结", "超期办结", "超期未办结", "评价数", "差评", "出勤天数",
          "超期（工作日）", "序号", "排序", "承诺时限", "法定时限", "份数", "办结后回访天数"}
DATES = {"受理日期": DATE_FORMAT, "承诺办结日期": DATE_FORMAT, "收件时间": DATETIME_FORMAT,
         "办结时间": DATETIME_FORMAT}
TEXT_FIGURE = re.compile(r"^-?\d+(\.\d+)?%?$")  # "97.4%" or "3.0" written as text: what must never be seen


@pytest.fixture
def workbooks(hall_sqlite, tmp_path) -> dict[str, Path]:
    from hall_fixtures import actors_of

    people = actors_of(hall_sqlite)
    MD.build(hall_sqlite, people)
    month = Period.month(2026, 12)
    out = {name: tmp_path / f"{name}.xlsx" for name in
           ("monthly", "quarterly", "ledger", "ledger_full", "overdue", "performance", "catalogue")}
    with hall_sqlite.db.transaction() as s:
        reports_xlsx.monthly_or_quarterly(s, month, out["monthly"], today=MD.TODAY, actor=people["m01"])
        reports_xlsx.monthly_or_quarterly(s, Period.quarter(2026, 4), out["quarterly"], today=MD.TODAY,
                                          actor=people["m01"], with_ledger=False)
        reports_xlsx.write_ledger(s, people["m01"], month, out["ledger"], today=MD.TODAY)
        reports_xlsx.write_ledger(s, people["admin"], month, out["ledger_full"], today=MD.TODAY, full=True)
        reports_xlsx.write_overdue(s, people["m01"], month, out["overdue"], today=MD.TODAY)
        reports_xlsx.write_performance(s, people["m01"], month, out["performance"], today=MD.TODAY)
    write_catalog_xlsx(catalog.read_tsv_dir(catalog.default_catalog_dir()), out["catalogue"])
    return out


def _header_rows(ws: Any) -> tuple[int, dict[str, int]]:
    """The last header row and {heading: column} over the repeated title rows (two rows for grouped headings)."""
    rows = ws.print_title_rows  # "$3:$4"
    first, last = (int(x) for x in rows.replace("$", "").split(":"))
    headings: dict[str, int] = {}
    for r in range(first, last + 1):
        for c in range(1, ws.max_column + 1):
            v = ws.cell(r, c).value
            if isinstance(v, str):
                headings.setdefault(v, c)
    return last, headings


def _data_cells(ws: Any, first: int, col: int) -> list[Any]:
    """The cells of a column below the headers down to the 合计 row (included) or the first empty row."""
    out = []
    for r in range(first, ws.max_row + 1):
        lead = ws.cell(r, 1).value
        if lead is None and ws.cell(r, 2).value is None:
            break
        if isinstance(lead, str) and lead.startswith(("说明", "本期无")):
            break
        out.append(ws.cell(r, col))
        if lead == "合计":
            break
    return out


def _check_print_setup(name: str, ws: Any) -> None:
    where = f"{name}/{ws.title}"
    assert int(ws.page_setup.paperSize) == 9, where  # A4
    assert ws.page_setup.orientation == "landscape", where
    assert ws.sheet_properties.pageSetUpPr.fitToPage, where
    assert (int(ws.page_setup.fitToWidth), int(ws.page_setup.fitToHeight)) == (1, 0), where
    assert ws.print_title_rows, where
    footer = ws.oddFooter.center.text or ""
    assert "&P" in footer and "&N" in footer, where


def test_every_workbook_has_numbers_dates_and_print_setup(workbooks):
    seen_formats: set[str] = set()
    rate_cells = 0
    for name, path in workbooks.items():
        wb = load_workbook(path)
        for ws in wb.worksheets:
            _check_print_setup(name, ws)
            last, headings = _header_rows(ws)
            for heading, col in headings.items():
                cells = _data_cells(ws, last + 1, col)
                where = f"{name}/{ws.title}/{heading}"
                if heading in FORMATTED:
                    values = [c for c in cells if c.value is not None]
                    assert values, where
                    for c in values:
                        assert isinstance(c.value, int | float) and not isinstance(c.value, bool), where
                        assert c.number_format == FORMATTED[heading], where
                        seen_formats.add(c.number_format)
                        if FORMATTED[heading] == RATE_FORMAT:
                            assert 0 <= c.value <= 1, where  # a fraction, shown as a percentage
                            rate_cells += 1
                elif heading in COUNTS and not (ws.title == "办件登记台账" and heading == "按时办结"):  # 是/否
                    for c in cells:
                        if c.value is not None and c.value != "合计":
                            assert type(c.value) is int, (where, c.value)
                elif heading in DATES:
                    dated = [c for c in cells if isinstance(c.value, datetime | date)]
                    assert dated, where
                    assert all(c.number_format == DATES[heading] for c in dated), where
            # No figure anywhere written as text (a code such as "01" on the catalogue's text columns aside).
            if name != "catalogue":
                for row in ws.iter_rows(min_row=last + 1, values_only=True):
                    assert not any(isinstance(v, str) and TEXT_FIGURE.match(v) and "%" in v for v in row), \
                        (name, ws.title, row)
    assert seen_formats == {RATE_FORMAT, DAYS_FORMAT} and rate_cells > 10
    # The catalogue, once 36 portrait pages cut between columns: its header row repeated on each page.
    assert load_workbook(workbooks["catalogue"])["事项"].print_title_rows == "$1:$1"


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(os.environ.get("CI") == "true", reason="LibreOffice is not installed on CI (CI=true)")
@pytest.mark.skipif(_soffice() is None,
                    reason="LibreOffice Calc is absent (scripts/setup_linux.sh test installs libreoffice-calc-nogui)")
def test_libreoffice_computes_an_average_over_the_rate_column(workbooks, tmp_path):
    """The 按窗口 sheet, recomputed by LibreOffice Calc: AVERAGE over 按时办结率 is a number, the mean of the
    rates of the windows that closed anything (empty cells skipped), as Excel/WPS would compute it."""
    src = load_workbook(workbooks["monthly"])
    ws = src["按窗口"]
    last, headings = _header_rows(ws)
    col = headings["按时办结率"]
    cells = _data_cells(ws, last + 1, col)[:-1]  # without the 合计 row
    rates = [c.value for c in cells if c.value is not None]
    letter = cells[0].column_letter
    # The analyst's formula, in a cell of its own below the table; and the sheet moved first, as LibreOffice
    # converts only the first sheet to CSV.
    target = ws.cell(ws.max_row + 2, col)
    target.value = f"=AVERAGE({letter}{cells[0].row}:{letter}{cells[-1].row})"
    target.number_format = "0.0000"
    probe = tmp_path / "probe.xlsx"
    src.save(probe)
    profile = tmp_path / "lo-profile"
    proc = subprocess.run(
        [_soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
         "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false", "--outdir", str(tmp_path),
         str(probe)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "probe.csv", encoding="utf-8") as f:
        table = list(csv.reader(f))
    computed = table[target.row - 1][col - 1]
    assert abs(float(computed) - sum(rates) / len(rates)) < 1e-4, (computed, rates)
    # The rates themselves come out as LibreOffice shows them: percentages, not text it could not average.
    shown = [table[c.row - 1][col - 1] for c in cells if c.value is not None]
    assert all(s.endswith("%") for s in shown), shown
