"""Monthly statistics to Excel beside bare openpyxl write-only writing the same cells, in the same run.

Target (DESIGN.md): ≤ 1.2 × bare openpyxl write-only. The monthly workbook (four statistics sheets, the
performance review, the overdue list and the masked ticket ledger of the month) is written by
``reports_xlsx.monthly_or_quarterly`` — queries, masking and layout included. The baseline first reads that
workbook back (not timed), then writes exactly its cells — values, fonts, borders, fills, alignments, number
formats and merged ranges — with bare openpyxl in write-only mode.

    .venv/bin/python benchmarks/bench_reports.py /tmp/dash1m [--month 2026-10] [--today 2026-11-20] [--runs 3] [--index]

Every statistic reads the month through an index except "accepted in the period", which has none on
``tickets.accepted_on`` and scans the ledger; ``--index`` measures with the proposed index (the lead's model).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from copy import copy
from datetime import date
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell

TARGET = 1.2
PROPOSED_INDEX = "CREATE INDEX IF NOT EXISTS ix_tickets_accepted ON tickets (accepted_on)"


def snapshot_cells(path: Path) -> list[tuple[str, list[list[tuple]], list[str]]]:
    """Every cell of every sheet with its style, as plain data for the baseline writer."""
    wb = load_workbook(path)
    out = []
    for ws in wb.worksheets:
        rows = []
        for row in ws.iter_rows():
            cells = []
            for c in row:
                styled = c.has_style
                cells.append((c.value, copy(c.font) if styled else None, copy(c.border) if styled else None,
                              copy(c.fill) if styled else None, copy(c.alignment) if styled else None,
                              c.number_format if styled else None))
            rows.append(cells)
        out.append((ws.title, rows, [str(r) for r in ws.merged_cells.ranges]))
    return out


def bare_write(sheets: list[tuple[str, list[list[tuple]], list[str]]], target: Path) -> None:
    wb = Workbook(write_only=True)
    for title, rows, merges in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            out = []
            for value, font, border, fill, align, fmt in row:
                if font is None:
                    out.append(value)
                    continue
                c = WriteOnlyCell(ws, value=value)
                c.font, c.border, c.fill, c.alignment, c.number_format = font, border, fill, align, fmt
                out.append(c)
            ws.append(out)
        for m in merges:
            ws.merged_cells.add(m)
    wb.save(target)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--month", default="2026-10")
    ap.add_argument("--today", type=date.fromisoformat, default=date(2026, 11, 20))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--index", action="store_true",
                    help="run with the proposed index ix_tickets_accepted(accepted_on) (created, then dropped)")
    args = ap.parse_args()

    from hall.exchange import reports_xlsx
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.stats import Period

    opened = open_hall(Paths.resolve(args.data_dir), None)
    if args.index:
        with opened.db.engine.begin() as conn:
            conn.exec_driver_sql(PROPOSED_INDEX)
    period = Period.parse_month(args.month)
    tmp = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    ours_ms, bare_ms = [], []
    result = None
    for i in range(args.runs + 1):  # the first round warms caches and is not counted
        t0 = time.perf_counter()
        with opened.db.transaction() as s:
            result = reports_xlsx.monthly_or_quarterly(s, period, tmp / "ours.xlsx", today=args.today)
        ours = (time.perf_counter() - t0) * 1000
        sheets = snapshot_cells(tmp / "ours.xlsx")
        t0 = time.perf_counter()
        bare_write(sheets, tmp / "bare.xlsx")
        bare = (time.perf_counter() - t0) * 1000
        if i:
            ours_ms.append(ours)
            bare_ms.append(bare)
    assert result is not None
    cells = sum(len(r) for _t, rows, _m in sheets for r in rows)
    print(f"monthly report {period.label}: sheets {', '.join(result.sheets)}; {result.rows:,} data rows, "
          f"{cells:,} cells")
    o, b = statistics.median(ours_ms), statistics.median(bare_ms)
    print(f"reports_xlsx.monthly_or_quarterly        median {o:8.0f} ms  (runs {[round(x) for x in ours_ms]})")
    print(f"bare openpyxl write-only, same cells     median {b:8.0f} ms  (runs {[round(x) for x in bare_ms]})")
    print(f"ratio {o / b:.2f}× bare; target ≤ {TARGET}×: " + ("met" if o / b <= TARGET else "NOT met"))
    if args.index:
        with opened.db.engine.begin() as conn:
            conn.exec_driver_sql("DROP INDEX IF EXISTS ix_tickets_accepted")
        print("(with the proposed index ix_tickets_accepted(accepted_on))")
    opened.db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
