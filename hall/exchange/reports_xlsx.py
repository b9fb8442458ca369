"""Statistics, performance review, overdue list and ticket ledger to Excel (openpyxl write-only, lxml).

Every figure comes from :mod:`hall.services.reporting.stats` — the same numbers as on screen. The sheets follow
the shape a county office (县政务服务管理办公室) expects of a township report: a title row, a line with the period, the
reporting unit and the date, two header rows with merged group headings, one row per window (item, kind,
intake point …), a 合计 row, a signature line; frozen panes below the headers, A4 landscape, fit to one page
wide, header rows repeated on every printed page.

Write-only mode streams rows, so a ledger of a whole year stays in constant memory; files are written to a
temporary name and moved into place, so a reader never sees half a workbook.
"""

from __future__ import annotations

import contextlib
import os
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from hall.errors import ValidationError
from hall.exchange.cells import new_cell, safe_row, safe_value
from hall.exchange.pii_guard import check_row
from hall.exchange.print_setup import DATE_FORMAT, DATETIME_FORMAT, DAYS_FORMAT, RATE_FORMAT, apply_print_setup
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_admin, require_supervisor
from hall.services.base.states import KIND_LABELS
from hall.services.reporting import stats, supervision
from hall.services.reporting.stats import Period, StatsRow, StatsTable, fmt_days, fmt_rate
from hall.services.storage import ledger, settings
from hall.services.storage.files import atomic_path

# ---------------------------------------------------------------------------------------------- styles
_thin = Side(style="thin", color="000000")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
TITLE_FONT = Font(name="SimSun", size=16, bold=True)
BOLD = Font(name="SimSun", size=10, bold=True)
PLAIN = Font(name="SimSun", size=10)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center")
HEAD_FILL = PatternFill("solid", fgColor="D9E1F2")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")

# The statistics table: (group heading or None, column heading, value of a row).
STAT_COLUMNS: tuple[tuple[str | None, str, Any], ...] = (
    ("收件受理", "收件", lambda r: r.received),
    ("收件受理", "受理", lambda r: r.accepted),
    ("收件受理", "不予受理", lambda r: r.refused),
    ("办结", "办结", lambda r: r.closed),
    ("办结", "按时办结", lambda r: r.on_time),
    ("办结", "超期办结", lambda r: r.closed_late),
    ("办结", "按时办结率", lambda r: r.on_time_rate),
    (None, "超期未办结", lambda r: r.open_overdue),
    (None, "平均办理时长（工作日）", lambda r: r.avg_workdays),
    ("好差评", "评价数", lambda r: r.rated),
    ("好差评", "差评", lambda r: r.poor),
    ("好差评", "满意率", lambda r: r.satisfaction_rate),
)
# Columns written as numbers with a number format (the rest are counts, whole numbers): AVERAGE, sorting and
# charts work on them. A rate with nothing to rate (no closure, no rating) is an empty cell — a gap in a chart,
# skipped by AVERAGE — where the screen shows "—".
NUMBER_FORMATS = {"按时办结率": RATE_FORMAT, "满意率": RATE_FORMAT, "平均办理时长（工作日）": DAYS_FORMAT}
SHEET_NAMES = {"window": "按窗口", "kind": "按办件类型", "village": "按受理点", "item": "按事项", "staff": "按工作人员"}
REPORT_DIMENSIONS = ("window", "kind", "village", "item")


@dataclass(frozen=True)
class ReportResult:
    path: Path
    sheets: tuple[str, ...]
    rows: int  # data rows written (statistics rows and ledger rows)


# ---------------------------------------------------------------------------------------------- helpers
def _width(text: Any) -> int:
    s = str(text if text is not None else "")[:60]
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


class _Sheet:
    """A write-only sheet with styled cells, merged ranges and column widths worked out as rows are added."""

    def __init__(self, wb: Workbook, title: str, ncols: int, widths: Sequence[int] | None = None, *,
                 masked: bool = True) -> None:
        self.ws = wb.create_sheet(title)
        self.ncols = ncols
        self.row = 0
        self.widths = list(widths) if widths else None
        # A masked sheet (all but the administrator's full ledger) is scanned row by row before it is written.
        self.masked = masked

    def cell(self, value: Any, font: Font = PLAIN, align: Alignment = CENTER, *, border: bool = True,
             fill: PatternFill | None = None, fmt: str | None = None) -> WriteOnlyCell:
        c = new_cell(self.ws, value)  # text from the database: any row, however old, is written
        c.font = font
        c.alignment = align
        if border:
            c.border = BORDER
        if fill is not None:
            c.fill = fill
        if fmt:
            c.number_format = fmt
        return c

    def append(self, cells: Iterable[Any]) -> None:
        row = [safe_value(self.ws, c) for c in cells]
        if self.masked:
            check_row(self.ws.title, self.row + 1, row)
        self.ws.append(row)
        self.row += 1

    def merge(self, first_col: int, last_col: int, first_row: int | None = None, last_row: int | None = None) -> None:
        r1 = first_row or self.row
        r2 = last_row or r1
        self.ws.merged_cells.add(f"{get_column_letter(first_col)}{r1}:{get_column_letter(last_col)}{r2}")

    def page(self, *, landscape: bool = True, title_rows: str | None = None, freeze: str | None = None) -> None:
        apply_print_setup(self.ws, title_rows=title_rows, landscape=landscape)
        if freeze:
            self.ws.freeze_panes = freeze

    def set_widths(self, widths: Sequence[int]) -> None:
        # Write-only sheets take column widths before the first row is written.
        for i, w in enumerate(widths, 1):
            self.ws.column_dimensions[get_column_letter(i)].width = w


def _figure(sh: _Sheet, heading: str, value: Any, font: Font = PLAIN, fill: PatternFill | None = None) -> Any:
    """A statistics cell: a rate or an average as a number with its format, a count as an int."""
    return sh.cell(value, font, fill=fill, fmt=NUMBER_FORMATS.get(heading))


def shown(heading: str, value: Any) -> Any:
    """A figure as the screen shows it: the text the sheet's number format displays ("97.4%", "3.0", "—")."""
    fmt = NUMBER_FORMATS.get(heading)
    if fmt == RATE_FORMAT:
        return fmt_rate(value)
    if fmt == DAYS_FORMAT:
        return fmt_days(value)
    return value


def _save(wb: Workbook, path: Path) -> None:
    with atomic_path(path) as tmp:
        wb.save(tmp)


@contextlib.contextmanager
def _building(wb: Workbook) -> Iterator[Workbook]:
    """A workbook being built: if building stops (the personal-data guard refused a row, a database error), its
    sheets' temporary files are closed and removed at once — not left for the interpreter's exit, and no half-open
    XML writer is left for the garbage collector to trip over."""
    try:
        yield wb
    except BaseException:
        discard(wb)
        raise


def discard(wb: Workbook) -> None:
    """Close and remove the temporary files of a write-only workbook that will not be saved."""
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        with contextlib.suppress(Exception):
            ws.close()
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.cleanup()


def _target(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if p.suffix.lower() != ".xlsx":
        raise ValidationError("导出文件", "文件名应以 .xlsx 结尾")
    if not p.parent.is_dir():
        raise ValidationError("导出文件", f"文件夹“{p.parent}”不存在")
    return p


def _header_info(session: Session, period: Period, today: date) -> tuple[str, str]:
    hall = str(settings.get(session, "hall_name"))
    clipped = period.clipped(today)
    span = f"统计期间：{clipped.start.isoformat()} 至 {clipped.end.isoformat()}"
    if clipped.end < period.end:
        span += "（截至当日）"
    return hall, f"{span}    填报单位：{hall}    制表日期：{today.isoformat()}"


# ------------------------------------------------------------------------------------ statistics sheet
def write_stats_sheet(wb: Workbook, table: StatsTable, hall: str, subtitle: str, title: str | None = None) -> int:
    """One statistics table as a county-style sheet. Returns the data rows written (without the total)."""
    ncols = 2 + len(STAT_COLUMNS)
    sh = _Sheet(wb, SHEET_NAMES[table.dimension], ncols)
    name_width = 34 if table.dimension in ("item", "window") else 18
    sh.set_widths([6, name_width] + [max(8, _width(h) + 2) for _g, h, _f in STAT_COLUMNS])
    sh.page(title_rows="3:4", freeze="C5")

    heading = title or f"{hall}{table.period.label}政务服务办件统计表（{table.dimension_label}）"
    sh.ws.row_dimensions[1].height = 30
    sh.append([sh.cell(heading, TITLE_FONT, border=False)] + [sh.cell(None, border=False)] * (ncols - 1))
    sh.merge(1, ncols)
    sh.append([sh.cell(subtitle, PLAIN, LEFT, border=False)] + [sh.cell(None, border=False)] * (ncols - 1))
    sh.merge(1, ncols)

    # Two header rows: group headings merged across their columns, lone headings merged down.
    top = [sh.cell("序号", BOLD, fill=HEAD_FILL), sh.cell(table.dimension_label, BOLD, fill=HEAD_FILL)]
    bottom = [sh.cell(None, BOLD, fill=HEAD_FILL), sh.cell(None, BOLD, fill=HEAD_FILL)]
    merges: list[tuple[int, int, int, int]] = [(1, 1, 3, 4), (2, 2, 3, 4)]
    col = 3
    i = 0
    while i < len(STAT_COLUMNS):
        group = STAT_COLUMNS[i][0]
        if group is None:
            top.append(sh.cell(STAT_COLUMNS[i][1], BOLD, fill=HEAD_FILL))
            bottom.append(sh.cell(None, BOLD, fill=HEAD_FILL))
            merges.append((col, col, 3, 4))
            i += 1
            col += 1
            continue
        span = 0
        while i + span < len(STAT_COLUMNS) and STAT_COLUMNS[i + span][0] == group:
            span += 1
        for j in range(span):
            top.append(sh.cell(group if j == 0 else None, BOLD, fill=HEAD_FILL))
            bottom.append(sh.cell(STAT_COLUMNS[i + j][1], BOLD, fill=HEAD_FILL))
        merges.append((col, col + span - 1, 3, 3))
        i += span
        col += span
    sh.append(top)
    sh.append(bottom)
    for c1, c2, r1, r2 in merges:
        sh.merge(c1, c2, r1, r2)

    for n, row in enumerate(table.rows, 1):
        sh.append([sh.cell(n), sh.cell(row.label, align=LEFT)] + [_figure(sh, h, f(row)) for _g, h, f in STAT_COLUMNS])
    sh.append([sh.cell("合计", BOLD, fill=TOTAL_FILL), sh.cell(None, BOLD, fill=TOTAL_FILL)]
              + [_figure(sh, h, f(table.total), BOLD, TOTAL_FILL) for _g, h, f in STAT_COLUMNS])
    sh.merge(1, 2)
    sh.append([])
    notes = ("说明：收件、不予受理按收件日期统计；受理按受理日期；办结、按时办结、超期办结按办结日期；"
             "超期未办结为统计期末已过承诺办结日期仍未办结的办件（补正、特别程序、集体研究期间不计）；"
             "平均办理时长为受理次日起至办结日的工作日数；满意率＝（评价数－差评）÷评价数。")
    sh.ws.row_dimensions[sh.row + 1].height = 42  # write-only: row heights are set before the row is written
    sh.append([sh.cell(notes, PLAIN, Alignment(wrap_text=True, vertical="top"), border=False)]
              + [sh.cell(None, border=False)] * (ncols - 1))
    sh.merge(1, ncols)
    sh.append([sh.cell("填表人：", PLAIN, LEFT, border=False), None, None, None,
               sh.cell("审核人：", PLAIN, LEFT, border=False), None, None, None,
               sh.cell("单位（盖章）：", PLAIN, LEFT, border=False)])
    return len(table.rows)


def monthly_or_quarterly(session: Session, period: Period, path: str | os.PathLike[str], *, today: date,
                         actor: Actor | None = None, with_ledger: bool = True) -> ReportResult:
    """月报 / 季报: one sheet per dimension (window, kind, intake point, item), the performance review, the
    overdue list and, by default, the masked ticket ledger of the period (办件登记台账) as the county asks."""
    if actor is not None:
        require_supervisor(actor, "导出统计报表")
    target = _target(path)
    with _building(Workbook(write_only=True)) as wb:
        hall, subtitle = _header_info(session, period, today)
        rows = 0
        tables = stats.collect_many(session, period, (*REPORT_DIMENSIONS, "staff"), today=today)
        for dim in REPORT_DIMENSIONS:
            rows += write_stats_sheet(wb, tables[dim], hall, subtitle)
        lines = stats.performance(session, period, today=today, table=tables["staff"])
        rows += write_performance_sheet(wb, lines, period, hall, subtitle)
        rows += write_overdue_sheet(wb, stats.overdue_list(session, period, today=today), period, hall, subtitle)
        rows += write_departments_sheet(wb, supervision.department_stats(session, period.clipped(today)), period,
                                        hall, subtitle)
        rows += write_fees_sheet(wb, supervision.fee_lines(session, period.clipped(today)), period, hall, subtitle)
        if with_ledger:
            rows += write_ledger_sheet(wb, stats.ledger_rows(session, period.clipped(today)), period, hall, subtitle)
        _save(wb, target)
    return ReportResult(target, tuple(ws.title for ws in wb.worksheets), rows)


# -------------------------------------------------------------------------------------- performance sheet
PERF_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("工号", lambda p: p.staff_no),
    ("窗口", lambda p: p.window_code),
    ("收件", lambda p: p.stats.received),
    ("受理", lambda p: p.stats.accepted),
    ("办结", lambda p: p.stats.closed),
    ("按时办结", lambda p: p.stats.on_time),
    ("按时办结率", lambda p: p.stats.on_time_rate),
    ("超期办结", lambda p: p.stats.closed_late),
    ("超期未办结", lambda p: p.stats.open_overdue),
    ("平均办理时长（工作日）", lambda p: p.stats.avg_workdays),
    ("评价数", lambda p: p.stats.rated),
    ("差评", lambda p: p.stats.poor),
    ("满意率", lambda p: p.stats.satisfaction_rate),
    ("出勤天数", lambda p: p.present_days),
    ("缺勤/请假/公出天数", lambda p: p.away_days),
    ("责任追究（成立）", lambda p: p.accountability_upheld),
    ("责任追究（待核实）", lambda p: p.accountability_open),
)


def write_performance_sheet(wb: Workbook, lines: Sequence[stats.PerformanceRow], period: Period, hall: str,
                            subtitle: str) -> int:
    ncols = 2 + len(PERF_COLUMNS)
    sh = _Sheet(wb, "效绩考核", ncols)
    sh.set_widths([6, 12] + [max(8, _width(h) + 2) for h, _f in PERF_COLUMNS])
    sh.page(title_rows="3:3", freeze="C4")
    sh.append([sh.cell(f"{hall}{period.label}工作人员效绩考核表", TITLE_FONT, border=False)]
              + [None] * (ncols - 1))
    sh.merge(1, ncols)
    sh.append([sh.cell(subtitle, PLAIN, LEFT, border=False)] + [None] * (ncols - 1))
    sh.merge(1, ncols)
    sh.append([sh.cell("序号", BOLD, fill=HEAD_FILL), sh.cell("姓名", BOLD, fill=HEAD_FILL)]
              + [sh.cell(h, BOLD, fill=HEAD_FILL) for h, _f in PERF_COLUMNS])
    for n, p in enumerate(lines, 1):
        sh.append([sh.cell(n), sh.cell(p.stats.label, align=LEFT)] + [_figure(sh, h, f(p)) for h, f in PERF_COLUMNS])
    total = stats.add_rows("", "合计", [p.stats for p in lines])
    agg = stats.PerformanceRow(total, "", "", sum(p.present_days for p in lines), sum(p.away_days for p in lines),
                               sum(p.accountability_upheld for p in lines),
                               sum(p.accountability_open for p in lines))
    sh.append([sh.cell("合计", BOLD, fill=TOTAL_FILL), sh.cell(None, BOLD, fill=TOTAL_FILL)]
              + [_figure(sh, h, None if h in ("工号", "窗口") else f(agg), BOLD, TOTAL_FILL)
                 for h, f in PERF_COLUMNS])
    sh.merge(1, 2)
    return len(lines)


# ------------------------------------------------------------------------------------------ overdue sheet
OVERDUE_HEADERS = ("序号", "办件编号", "事项名称", "窗口", "办件类型", "经办人", "受理日期", "承诺办结日期",
                   "办结日期", "超期（工作日）", "当前状态", "超期原因")


def write_overdue_sheet(wb: Workbook, lines: Sequence[stats.OverdueLine], period: Period, hall: str,
                        subtitle: str) -> int:
    ncols = len(OVERDUE_HEADERS)
    sh = _Sheet(wb, "超期办件", ncols)
    sh.set_widths([6, 28, 30, 6, 9, 10, 12, 13, 12, 9, 12, 50])
    sh.page(title_rows="3:3", freeze="C4")
    sh.append([sh.cell(f"{hall}{period.label}超期办件清单", TITLE_FONT, border=False)] + [None] * (ncols - 1))
    sh.merge(1, ncols)
    sh.append([sh.cell(subtitle + f"    超期办件共 {len(lines)} 件", PLAIN, LEFT, border=False)]
              + [None] * (ncols - 1))
    sh.merge(1, ncols)
    sh.append([sh.cell(h, BOLD, fill=HEAD_FILL) for h in OVERDUE_HEADERS])
    wrap = Alignment(horizontal="left", vertical="center", wrap_text=True)
    for n, o in enumerate(lines, 1):
        sh.append([sh.cell(n), sh.cell(o.number), sh.cell(o.item_name, align=wrap), sh.cell(o.window_code),
                   sh.cell(KIND_LABELS.get(o.kind, o.kind)), sh.cell(o.owner),
                   sh.cell(o.accepted_on, fmt=DATE_FORMAT), sh.cell(o.due_date, fmt=DATE_FORMAT),
                   sh.cell(o.closed_on if o.closed_on else "未办结", fmt=DATE_FORMAT), sh.cell(o.days_over),
                   sh.cell(o.state), sh.cell(o.reason, align=wrap)])
    if not lines:
        sh.append([sh.cell("本期无超期办件", PLAIN, LEFT)] + [sh.cell(None)] * (ncols - 1))
        sh.merge(1, ncols)
    return len(lines)


# ------------------------------------------------------------------------- co-departments and fees (效能监察)
MONEY_FORMAT = "#,##0.00"  # 元 with two decimals; the cell holds the exact amount (a Decimal of 分 / 100)
DEPARTMENT_COLUMNS: tuple[tuple[str, Any, str | None], ...] = (
    ("抄告次数", lambda r: r.copies, None),
    ("已回复", lambda r: r.answered, None),
    ("逾期回复", lambda r: r.late, None),
    ("逾期视为认可", lambda r: r.deemed, None),
    ("待回复", lambda r: r.pending, None),
    ("平均答复时长（工作日）", lambda r: r.avg_answer_days, DAYS_FORMAT),
    ("视为认可率", lambda r: r.deemed_rate, RATE_FORMAT),
)


def write_departments_sheet(wb: Workbook, rows: Sequence[supervision.DepartmentRow], period: Period, hall: str,
                            subtitle: str) -> int:
    """协办部门答复统计: per co-department answer times and the deemed-consent rate (效能监察)."""
    ncols = 2 + len(DEPARTMENT_COLUMNS)
    sh = _Sheet(wb, "协办部门答复", ncols)
    sh.set_widths([6, 28] + [max(10, _width(h) + 2) for h, _f, _x in DEPARTMENT_COLUMNS])
    sh.page(title_rows="3:3", freeze="C4")
    sh.append([sh.cell(f"{hall}{period.label}协办部门答复情况统计表", TITLE_FONT, border=False)] + [None] * (ncols - 1))
    sh.merge(1, ncols)
    sh.append([sh.cell(subtitle, PLAIN, LEFT, border=False)] + [None] * (ncols - 1))
    sh.merge(1, ncols)
    sh.append([sh.cell("序号", BOLD, fill=HEAD_FILL), sh.cell("协办部门", BOLD, fill=HEAD_FILL)]
              + [sh.cell(h, BOLD, fill=HEAD_FILL) for h, _f, _x in DEPARTMENT_COLUMNS])
    for n, r in enumerate(rows, 1):
        sh.append([sh.cell(n), sh.cell(r.department, align=LEFT)]
                  + [sh.cell(f(r), fmt=fmt) for _h, f, fmt in DEPARTMENT_COLUMNS])
    total = supervision.total_row(list(rows))
    sh.append([sh.cell("合计", BOLD, fill=TOTAL_FILL), sh.cell(None, BOLD, fill=TOTAL_FILL)]
              + [sh.cell(f(total), BOLD, fill=TOTAL_FILL, fmt=fmt) for _h, f, fmt in DEPARTMENT_COLUMNS])
    sh.merge(1, 2)
    notes = ("说明：按抄告日期统计（不含已重新抄告的轮次）；平均答复时长为抄告次日起至答复日的工作日数；"
             "视为认可率＝逾期视为认可÷（已回复＋逾期视为认可）。")
    sh.append([sh.cell(notes, PLAIN, Alignment(wrap_text=True, vertical="top"), border=False)] + [None] * (ncols - 1))
    sh.merge(1, ncols)
    return len(rows)


FEE_HEADERS = ("序号", "办件编号", "事项名称", "窗口", "收费日期", "金额（元）", "票据号码", "收费人")


def write_fees_sheet(wb: Workbook, lines: Sequence[supervision.FeeLine], period: Period, hall: str,
                     subtitle: str) -> int:
    """一次性收费 of the period: every receipt and the sum (the payer is not listed: an exported list carries no
    citizen's name)."""
    ncols = len(FEE_HEADERS)
    sh = _Sheet(wb, "一次性收费", ncols)
    sh.set_widths([6, 28, 30, 6, 12, 12, 18, 10])
    sh.page(title_rows="3:3", freeze="C4")
    total = sum(x.amount_cents for x in lines)
    sh.append([sh.cell(f"{hall}{period.label}一次性收费统计表", TITLE_FONT, border=False)] + [None] * (ncols - 1))
    sh.merge(1, ncols)
    sh.append([sh.cell(subtitle + f"    收费 {len(lines)} 笔，合计 {fees_yuan(total)}", PLAIN, LEFT, border=False)]
              + [None] * (ncols - 1))
    sh.merge(1, ncols)
    sh.append([sh.cell(h, BOLD, fill=HEAD_FILL) for h in FEE_HEADERS])
    wrap = Alignment(horizontal="left", vertical="center", wrap_text=True)
    for n, x in enumerate(lines, 1):
        sh.append([sh.cell(n), sh.cell(x.number), sh.cell(x.item_name, align=wrap), sh.cell(x.window_code),
                   sh.cell(x.charged_on, fmt=DATE_FORMAT), sh.cell(Decimal(x.amount_cents) / 100, fmt=MONEY_FORMAT),
                   sh.cell(x.receipt_no), sh.cell(x.charged_by)])
    sh.append([sh.cell("合计", BOLD, fill=TOTAL_FILL)] + [sh.cell(None, BOLD, fill=TOTAL_FILL)] * 4
              + [sh.cell(Decimal(total) / 100, BOLD, fill=TOTAL_FILL, fmt=MONEY_FORMAT),
                 sh.cell(None, BOLD, fill=TOTAL_FILL), sh.cell(None, BOLD, fill=TOTAL_FILL)])
    sh.merge(1, 5)
    return len(lines)


def fees_yuan(cents: int) -> str:
    return supervision.fees.yuan(cents)


# ------------------------------------------------------------------------------------------- ledger sheet
def write_ledger_sheet(wb: Workbook, export: stats.LedgerExport, period: Period, hall: str, subtitle: str) -> int:
    ncols = len(export.columns) + 1
    sh = _Sheet(wb, "办件登记台账", ncols, masked=not export.full)
    width = {"办件编号": 27, "收件时间": 17, "事项名称": 30, "办理结果": 30, "住址": 30, "住址（村/组）": 14,
             "身份证号/信用代码": 20, "联系电话": 14, "办结时间": 17, "承诺办结日期": 12, "受理日期": 11}
    sh.set_widths([7] + [width.get(c, max(6, _width(c) + 2)) for c in export.columns])
    sh.page(title_rows="3:3", freeze="C4")
    title = f"{hall}{period.label}办件登记台账" + ("（含完整个人信息，注意保密）" if export.full else "")
    sh.append([sh.cell(title, TITLE_FONT, border=False)] + [None] * (ncols - 1))
    sh.merge(1, ncols)
    note = "" if export.full else "    个人信息已按规定脱敏：姓名部分隐去，住址仅列村/组，不列身份证号和电话"
    sh.append([sh.cell(subtitle + note, PLAIN, LEFT, border=False)] + [None] * (ncols - 1))
    sh.merge(1, ncols)
    sh.append([sh.cell("序号", BOLD, fill=HEAD_FILL)] + [sh.cell(c, BOLD, fill=HEAD_FILL) for c in export.columns])
    # Plain values for the bulk; a cell object only where a date needs its format (4 of 17 columns), the format
    # set before the value — openpyxl then keeps it instead of first registering its own default date format.
    fmts = {"收件时间": DATETIME_FORMAT, "办结时间": DATETIME_FORMAT, "受理日期": DATE_FORMAT,
            "承诺办结日期": DATE_FORMAT}
    dated = [(i, fmts[c]) for i, c in enumerate(export.columns, 1) if c in fmts]  # positions after 序号
    ws = sh.ws
    n = 0
    for n, row in enumerate(export.rows, 1):
        # An empty text ("", no 暂定, no result yet) is an empty cell: nothing to write (a tenth of the ledger's
        # cells), and Excel's COUNTA no longer counts it as filled.
        cells: list[Any] = [n, *[None if v == "" else v for v in row]]
        for i, fmt in dated:
            value = cells[i]
            if value is not None:
                if isinstance(value, str):  # text where a date belongs (a legacy row): made safe like any text
                    c = new_cell(ws, value)
                else:
                    c = WriteOnlyCell(ws)
                    c.number_format = fmt
                    c.value = value
                cells[i] = c
        if not export.full:
            check_row(ws.title, sh.row + n, cells)
        ws.append(safe_row(ws, cells))  # one scan per row; a legacy row's bad text is made safe
    return n


def write_ledger(session: Session, actor: Actor, period: Period, path: str | os.PathLike[str], *, today: date,
                 full: bool = False, now: datetime | None = None) -> ReportResult:
    """The ticket ledger of a period. Masked by default (manager or administrator); ``full`` — with names, ID
    numbers, phones and addresses — only for an administrator, and recorded as a ledger event."""
    if full:
        require_admin(actor, "导出含完整个人信息的办件台账")
    else:
        require_supervisor(actor, "导出办件台账")
    target = _target(path)
    with _building(Workbook(write_only=True)) as wb:
        hall, subtitle = _header_info(session, period, today)
        clipped = period.clipped(today)
        rows = write_ledger_sheet(wb, stats.ledger_rows(session, clipped, full=full), period, hall, subtitle)
        _save(wb, target)
    if full:
        ledger.append(session, actor, stats.LEDGER_EXPORT_EVENT, {
            "from": clipped.start, "to": clipped.end, "rows": rows, "full": True, "file": target.name,
            "reason": f"导出 {clipped.start} 至 {clipped.end} 办件台账（含完整个人信息）{rows} 件",
        }, at=now)
    return ReportResult(target, (wb.worksheets[0].title,), rows)


def write_overdue(session: Session, actor: Actor, period: Period, path: str | os.PathLike[str], *,
                  today: date) -> ReportResult:
    require_supervisor(actor, "导出超期办件清单")
    target = _target(path)
    with _building(Workbook(write_only=True)) as wb:
        hall, subtitle = _header_info(session, period, today)
        rows = write_overdue_sheet(wb, stats.overdue_list(session, period, today=today), period, hall, subtitle)
        _save(wb, target)
    return ReportResult(target, ("超期办件",), rows)


def write_performance(session: Session, actor: Actor, period: Period, path: str | os.PathLike[str], *,
                      today: date) -> ReportResult:
    require_supervisor(actor, "导出效绩考核表")
    target = _target(path)
    with _building(Workbook(write_only=True)) as wb:
        hall, subtitle = _header_info(session, period, today)
        lines = stats.performance(session, period, today=today)
        rows = write_performance_sheet(wb, lines, period, hall, subtitle)
        write_stats_sheet(wb, stats.collect(session, period, "staff", today=today), hall, subtitle)
        _save(wb, target)
    return ReportResult(target, ("效绩考核", SHEET_NAMES["staff"]), rows)


def stats_row_values(row: StatsRow) -> list[Any]:
    """The statistic cells of one row as the screen shows them (rates and averages as text)."""
    return [shown(h, f(row)) for _g, h, f in STAT_COLUMNS]


def stats_row_numbers(row: StatsRow) -> list[Any]:
    """The statistic cells of one row exactly as written to the sheet: counts, rates (fractions) and averages
    as numbers, None where there is nothing to rate."""
    return [f(row) for _g, _h, f in STAT_COLUMNS]
