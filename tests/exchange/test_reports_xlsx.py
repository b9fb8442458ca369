"""Excel reports read back with openpyxl: the same figures as the dashboard and the statistics layer."""

from __future__ import annotations

import html
import re
import zipfile

import manager_day as MD
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from hall.errors import PermissionDenied, ValidationError
from hall.exchange import reports_xlsx
from hall.models import Event
from hall.services.base.masking import find_unmasked_identifiers
from hall.services.reporting import dashboard, stats
from hall.services.reporting.stats import Period


@pytest.fixture
def day(hall_sqlite):
    from hall_fixtures import actors_of

    people = actors_of(hall_sqlite)
    MD.build(hall_sqlite, people)
    return hall_sqlite, people


def _rows(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_monthly_report_layout_and_figures(day, tmp_path):
    hall, people = day
    out = tmp_path / "2026-12.xlsx"
    with hall.db.transaction() as s:
        result = reports_xlsx.monthly_or_quarterly(s, Period.month(2026, 12), out, today=MD.TODAY,
                                                   actor=people["m01"])
        snap = dashboard.snapshot(s, MD.TODAY)
        table = stats.collect(s, Period.month(2026, 12), "window", today=MD.TODAY)
    assert result.sheets == ("按窗口", "按办件类型", "按受理点", "按事项", "效绩考核", "超期办件", "协办部门答复",
                             "一次性收费", "办件登记台账")
    wb = load_workbook(out)
    ws = wb["按窗口"]
    rows = _rows(ws)
    assert rows[0][0] == "示例镇便民服务中心2026年12月政务服务办件统计表（窗口）"
    assert "统计期间：2026-12-01 至 2026-12-16（截至当日）" in rows[1][0]
    assert rows[2][:5] == ["序号", "窗口", "收件受理", None, None] and rows[3][2:5] == ["收件", "受理", "不予受理"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:N1", "A3:A4", "B3:B4", "C3:E3", "F3:I3", "J3:J4", "L3:N3"} <= merged
    assert ws.freeze_panes == "C5"
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$3:$4"
    data = rows[4:4 + 11]
    assert [r[1][:3] for r in data] == [f"W{i:02d}" for i in range(1, 12)]
    w01 = data[0]
    assert w01[2:] == reports_xlsx.stats_row_numbers(table.rows[0])
    assert w01[2:9] == [7, 7, 0, 2, 1, 1, 0.5]  # the rate a number (shown 50.0% by its format), not text
    total = rows[15]
    assert total[0] == "合计" and total[2:] == reports_xlsx.stats_row_numbers(table.total)
    # The file agrees with the dashboard: closures and on-time of the month, overdue at the end of today.
    assert (total[5], total[6], total[9]) == (snap.rate_month.closed, snap.rate_month.on_time, snap.totals.overdue)
    assert reports_xlsx.shown("按时办结率", total[8]) == snap.rate_month.text
    assert ws.cell(16, 9).number_format == "0.0%"


def test_no_personal_identifiers_leave_in_the_masked_report(day, tmp_path):
    hall, people = day
    out = tmp_path / "m.xlsx"
    with hall.db.transaction() as s:
        reports_xlsx.monthly_or_quarterly(s, Period.month(2026, 12), out, today=MD.TODAY, actor=people["m01"])
    with zipfile.ZipFile(out) as zf:
        # lxml may write CJK as character references: unescape before scanning.
        text = html.unescape("".join(zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith(".xml")))
    assert find_unmasked_identifiers(text) == []
    assert "张三丰" not in text and "张*丰" in text
    ledger = _rows(load_workbook(out)["办件登记台账"])
    assert ledger[2][:3] == ["序号", "办件编号", "收件时间"] and len(ledger) == 3 + 10


def test_full_ledger_is_admin_only_and_a_ledger_event(day, tmp_path):
    hall, people = day
    with hall.db.transaction() as s, pytest.raises(PermissionDenied):
        reports_xlsx.write_ledger(s, people["m01"], Period.month(2026, 12), tmp_path / "x.xlsx", today=MD.TODAY,
                                  full=True)
    out = tmp_path / "full.xlsx"
    with hall.db.transaction() as s:
        r = reports_xlsx.write_ledger(s, people["admin"], Period.between(MD.TODAY.replace(day=1), MD.TODAY), out,
                                      today=MD.TODAY, full=True)
    assert r.rows == 10
    rows = _rows(load_workbook(out).active)
    assert "身份证号/信用代码" in rows[2] and any("11010519491231002X" in r for r in rows)
    with hall.db.transaction() as s:
        ev = s.scalars(select(Event).where(Event.type == "report.ledger_exported")).one()
        assert ev.actor_role == "admin" and '"rows":10' in ev.payload


def test_overdue_and_performance_workbooks(day, tmp_path):
    hall, people = day
    with hall.db.transaction() as s:
        reports_xlsx.write_overdue(s, people["m01"], Period.month(2026, 12), tmp_path / "o.xlsx", today=MD.TODAY)
        reports_xlsx.write_performance(s, people["m01"], Period.month(2026, 12), tmp_path / "p.xlsx",
                                       today=MD.TODAY)
    over = _rows(load_workbook(tmp_path / "o.xlsx").active)
    assert [r[9] for r in over[3:]] == [7, 3, 2, 2]
    assert "超期办件共 4 件" in over[1][0]
    perf = _rows(load_workbook(tmp_path / "p.xlsx")["效绩考核"])
    c02 = next(r for r in perf if r[2] == "c02")
    assert c02[1] == "王民政" and c02[6] == 3  # closed
    with hall.db.transaction() as s, pytest.raises(PermissionDenied):
        reports_xlsx.write_overdue(s, people["c02"], Period.month(2026, 12), tmp_path / "o2.xlsx", today=MD.TODAY)


def test_bad_target_names_the_field(day, tmp_path):
    hall, people = day
    with hall.db.transaction() as s:
        with pytest.raises(ValidationError, match="导出文件"):
            reports_xlsx.write_overdue(s, people["m01"], Period.month(2026, 12), tmp_path / "o.csv", today=MD.TODAY)
        with pytest.raises(ValidationError, match="不存在"):
            reports_xlsx.write_overdue(s, people["m01"], Period.month(2026, 12), tmp_path / "no" / "o.xlsx",
                                       today=MD.TODAY)


def test_ledger_dates_are_excel_dates_in_their_own_formats_only(day, tmp_path):
    """Times and dates of the ledger are real Excel dates shown as 2026-12-16 09:30 / 2026-12-16, and the
    workbook registers no other date format (openpyxl's default is never set first and then replaced)."""
    from datetime import date, datetime

    hall, people = day
    out = tmp_path / "ledger.xlsx"
    with hall.db.reading() as s:
        reports_xlsx.write_ledger(s, people["m01"], Period.month(2026, 12), out, today=MD.TODAY)
    ws = load_workbook(out).active
    head = [c.value for c in ws[3]]
    data = [row for row in ws.iter_rows(min_row=4) if row[0].value is not None]
    assert len(data) == 10
    day_kinds = (date, datetime)  # openpyxl reads a date cell back as a datetime at midnight
    for column, kind, shown in (("收件时间", datetime, "yyyy-mm-dd hh:mm"), ("受理日期", day_kinds, "yyyy-mm-dd"),
                                ("承诺办结日期", day_kinds, "yyyy-mm-dd"), ("办结时间", datetime, "yyyy-mm-dd hh:mm")):
        cells = [row[head.index(column)] for row in data if row[head.index(column)].value is not None]
        assert cells and all(isinstance(c.value, kind) and c.number_format == shown for c in cells), column
    with zipfile.ZipFile(out) as zf:
        styles = zf.read("xl/styles.xml").decode("utf-8")
        sheet = zf.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "h:mm:ss" not in styles
    # No empty text is written as a cell (no 暂定, no result yet): those cells are empty, not "".
    assert sheet.count('t="inlineStr"') > 100 and not re.search(r'<c [^>]*t="inlineStr"\s*(/>|></c>)', sheet)
