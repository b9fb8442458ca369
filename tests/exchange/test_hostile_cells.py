"""Whatever text a row holds — written before the free-text rule, or by hand in the database — the monthly report,
the ticket ledger and the papers are still written, and a formula typed as text stays text."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from hall_fixtures import actors_of
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from sqlalchemy import text

from hall.exchange import reports_xlsx
from hall.exchange.cells import EXCEL_CELL_MAX, cell_text, new_cell, safe_row
from hall.print.receipt80 import Receipt80Renderer
from hall.print.ticket_layout import TicketPaperRenderer
from hall.services.catalog import items as catalog
from hall.services.reporting import papers
from hall.services.reporting.stats import Period
from hall.services.tickets import intake

LEGACY = "旧\x00数据\x01\x07含\x1b控制\x0b字符\x7f\u202e反向\ufffe"
FORMULA = "=cmd|' /C calc'!A0"


@pytest.fixture
def legacy_hall(hall_sqlite):
    """A ticket whose stored texts hold what the rule now refuses, written straight into the rows."""
    people = actors_of(hall_sqlite)
    with hall_sqlite.db.transaction() as s:
        code = "09"
        marks = {m["name"]: "received" for m in catalog.current_item(s, code).materials}
        r = intake.register(s, people["c02"], intake.IntakeForm(
            code, intake.ApplicantForm("person", "11010519491231002X", "张三", "13812345678", "东村3组"),
            materials=marks), now=datetime(2026, 3, 4, 9))
    with hall_sqlite.db.engine.begin() as c:
        c.execute(text("UPDATE tickets SET note = :v, applicant_name = :v, applicant_address = :v, item_name = :f, "
                       "result = :v"), {"v": LEGACY + "\ud7ff" + "字" * 40_000, "f": FORMULA})
        c.execute(text("UPDATE staff SET name = :v WHERE staff_no = 'c02'"), {"v": "王\x01民政"})
    return hall_sqlite, r.number


def test_legacy_rows_are_exported(legacy_hall, tmp_path):
    hall, _number = legacy_hall
    month, ledger = tmp_path / "month.xlsx", tmp_path / "ledger.xlsx"
    with hall.db.transaction() as s:
        reports_xlsx.monthly_or_quarterly(s, Period.month(2026, 3), month, today=date(2026, 3, 31))
        reports_xlsx.write_ledger(s, hall.system, Period.month(2026, 3), ledger, today=date(2026, 3, 31),
                                  full=True)
    ws = load_workbook(ledger)["办件登记台账"]
    header = [c.value for c in ws[3]]
    row = {h: c for h, c in zip(header, ws[4], strict=True)}
    assert row["事项名称"].value == FORMULA and row["事项名称"].data_type == "s"  # text, never a formula
    name = row["姓名"].value if "姓名" in row else row["申请人"].value
    assert name.startswith("旧\ufffd数据\ufffd\ufffd含\ufffd控制\ufffd字符\ufffd\ufffd反向\ufffd")  # visible marks
    assert len(row["办理结果"].value) == EXCEL_CELL_MAX  # cut where Excel stops, and said so
    assert row["办理结果"].value.endswith("已截断）")
    staff_sheet = load_workbook(month)["效绩考核"]
    assert any(c.value == "王\ufffd民政" for r in staff_sheet.iter_rows() for c in r)


def test_legacy_rows_are_printed(legacy_hall, tmp_path):
    hall, number = legacy_hall
    with hall.db.transaction() as s:
        paper, item, info = papers.paper_for_ticket(s, number, "acceptance")
    for renderer in (TicketPaperRenderer, Receipt80Renderer):
        pdf = renderer("acceptance", paper, info, item).render()
        assert pdf.startswith(b"%PDF")


@settings(max_examples=300, deadline=None)  # a workbook saved per example: slow under load
@given(st.text(st.characters(codec=None), max_size=60) | st.sampled_from([FORMULA, "\ud800x", "=1+1", "a\x00"]))
def test_any_text_makes_a_cell_that_is_written(value):
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("t")
    cell = new_cell(ws, value)
    assert cell.data_type != "f"  # a text is never written as a formula
    ws.append([cell, *safe_row(ws, [value, 1, None])])
    wb.save(io.BytesIO())  # lxml writes every cell: a lone surrogate or a control character would fail here
    assert cell_text(cell_text(value)) == cell_text(value)
    cell_text(value).encode("utf-8")
