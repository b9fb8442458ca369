"""Monthly statistics to Excel at 1,000,000 tickets, beside bare openpyxl write-only writing the same cells.

Target (DESIGN.md): ≤ 1.2 × bare openpyxl write-only, in the same run.

    flock /tmp/bench1m.lock .venv/bin/python benchmarks/bench_reports.py [--tickets 1000000] [--month 2025-12]
                                                                        [--today 2026-01-05] [--runs 5]

Ours: ``reports_xlsx.monthly_or_quarterly`` — what 导出月报 runs: the queries of the four statistics sheets, the
performance review, the overdue list and the masked ticket ledger of the month, masking, layout and saving
(one read transaction, as the export task does).

Baseline: bare openpyxl in write-only mode writing exactly our workbook's cells. Our workbook is read back once
before timing (not timed); for each cell the baseline sets the value and **only the style attributes Hall set
on it** (font, border, fill, alignment, number format — taken from the cell's own style record, so a cell with
only a date format gets only the date format), plus the same merged ranges, column widths, frozen panes and
print titles. No queries, no masking, no layout. After the timings the script reads both workbooks back and
checks that every cell has the same value and style.

The cached ledger is never written: the run works on its own copy (removed at exit) and checks at the end that
the cache is unchanged. ``ix_tickets_accepted`` and every other index of the model stay as they are.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from copy import copy
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from _ledger import cached_ledger, load_line, untouched, working_copy
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell

TARGET = 1.2
STYLE_IDS = (("font", "fontId"), ("border", "borderId"), ("fill", "fillId"), ("alignment", "alignmentId"),
             ("number_format", "numFmtId"))


@dataclass
class SheetCopy:
    title: str
    rows: list[list[tuple[Any, tuple[tuple[str, Any], ...]]]]  # (value, the style attributes set on the cell)
    merges: list[str]
    widths: dict[str, float]
    freeze: str | None
    print_titles: str | None


def read_back(path: Path) -> list[SheetCopy]:
    """Every cell of our workbook with the style attributes Hall set on it (a style id ≠ 0 in its record)."""
    wb = load_workbook(path)
    shared: dict[Any, Any] = {}  # one object per distinct style, as Hall shares its module-level styles
    out = []
    for ws in wb.worksheets:
        rows = []
        for row in ws.iter_rows():
            cells = []
            for c in row:
                style = getattr(c, "_style", None)  # None on the covered cells of a merged range
                attrs = () if style is None else tuple(
                    (name, shared.setdefault(copy(getattr(c, name)), copy(getattr(c, name))))
                    for name, sid in STYLE_IDS if getattr(style, sid))
                cells.append((c.value, attrs))
            rows.append(cells)
        widths = {k: d.width for k, d in ws.column_dimensions.items() if d.width}
        out.append(SheetCopy(ws.title, rows, [str(r) for r in ws.merged_cells.ranges], widths,
                             ws.freeze_panes, ws.print_title_rows))
    return out


def bare_write(sheets: list[SheetCopy], target: Path) -> None:
    wb = Workbook(write_only=True)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.title)
        for col, width in sheet.widths.items():
            ws.column_dimensions[col].width = width
        if sheet.freeze:
            ws.freeze_panes = sheet.freeze
        if sheet.print_titles:
            ws.print_title_rows = sheet.print_titles
        for row in sheet.rows:
            out: list[Any] = []
            for value, attrs in row:
                if not attrs:
                    out.append(value)
                    continue
                c = WriteOnlyCell(ws)  # styles first, then the value: openpyxl's cheapest order (no default
                for name, style in attrs:  # date format registered and then replaced), as Hall writes its dates
                    setattr(c, name, style)
                c.value = value
                out.append(c)
            ws.append(out)
        for m in sheet.merges:
            ws.merged_cells.add(m)
    wb.save(target)


def same_cells(ours: Path, bare: Path) -> str:
    a, b = read_back(ours), read_back(bare)
    cells = 0
    for sa, sb in zip(a, b, strict=True):
        assert sa.title == sb.title and sorted(sa.merges) == sorted(sb.merges), sa.title
        for ra, rb in zip(sa.rows, sb.rows, strict=True):
            assert len(ra) == len(rb) or not any(v for v, _s in ra[len(rb):]), sa.title
            for (va, xa), (vb, xb) in zip(ra, rb, strict=False):
                assert va == vb and xa == xb, (sa.title, va, vb, xa, xb)
                cells += 1
    styled = sum(1 for s in a for r in s.rows for _v, x in r if x)
    return f"same content: {len(a)} sheets, {cells:,} cells ({styled:,} styled), same values and styles"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--month", default="2025-12")
    ap.add_argument("--today", type=date.fromisoformat, default=date(2026, 1, 5))
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    print(load_line())
    home = cached_ledger(args.tickets)
    with untouched(home):
        code = run(working_copy(home), args)
    print(load_line())
    return code


def run(home: Path, args: argparse.Namespace) -> int:
    from hall.exchange import reports_xlsx
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.reporting.stats import Period

    opened = open_hall(Paths(home))
    period = Period.parse_month(args.month)
    tmp = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    ours_file, bare_file = tmp / "ours.xlsx", tmp / "bare.xlsx"

    def ours() -> Any:
        with opened.db.reading() as s:
            return reports_xlsx.monthly_or_quarterly(s, period, ours_file, today=args.today)

    result = ours()  # warms the page cache, the calendar and imports; not counted
    sheets = read_back(ours_file)
    bare_write(sheets, bare_file)
    ours_ms, bare_ms, ours_cpu, bare_cpu = [], [], [], []
    for _ in range(args.runs):  # alternating, so machine noise hits both alike
        t0, c0 = time.perf_counter(), time.process_time()
        result = ours()
        ours_ms.append((time.perf_counter() - t0) * 1000)
        ours_cpu.append((time.process_time() - c0) * 1000)
        t0, c0 = time.perf_counter(), time.process_time()
        bare_write(sheets, bare_file)
        bare_ms.append((time.perf_counter() - t0) * 1000)
        bare_cpu.append((time.process_time() - c0) * 1000)
    check = same_cells(ours_file, bare_file)
    opened.db.dispose()
    print(f"monthly report {period.label}: sheets {', '.join(result.sheets)}; {result.rows:,} data rows")
    o, b = statistics.median(ours_ms), statistics.median(bare_ms)
    print(f"reports_xlsx.monthly_or_quarterly        median {o:8.0f} ms  (runs {[round(x) for x in ours_ms]})")
    print(f"bare openpyxl write-only, same cells     median {b:8.0f} ms  (runs {[round(x) for x in bare_ms]})")
    oc, bc = statistics.median(ours_cpu), statistics.median(bare_cpu)
    print(f"CPU time (what the work costs, whatever the load): ours {oc:.0f} ms, bare {bc:.0f} ms, {oc / bc:.2f}×")
    per_round = sorted(x / y for x, y in zip(ours_ms, bare_ms, strict=True))
    print(f"ratio {o / b:.2f}× bare (per round {per_round[0]:.2f}–{per_round[-1]:.2f}, median "
          f"{statistics.median(per_round):.2f}); target ≤ {TARGET}×: " + ("met" if o / b <= TARGET else "NOT met"))
    print(check)
    for f in (ours_file, bare_file):
        f.unlink()
    tmp.rmdir()
    return 0 if o / b <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
