"""The statistics screen's workbooks are written by a child process: the same file as the exporter writes in
process, the exporter's own messages when it refuses, below the window's priority, and without touching the
program's WAL (a reader that checkpointed at close would wait for the program's writers)."""

from __future__ import annotations

import logging
import os
import re
import time

import manager_day as MD
import pytest
from openpyxl import load_workbook

from hall.errors import HallError, PermissionDenied, ValidationError
from hall.exchange import export_process, reports_xlsx
from hall.exchange.export_process import ExportJob
from hall.services.reporting.stats import Period

MONTH = Period.month(2026, 12)


@pytest.fixture
def day(hall_db):
    from hall_fixtures import actors_of

    people = actors_of(hall_db)
    MD.build(hall_db, people)
    return hall_db, people


def _cells(path):
    wb = load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


def _child_line(caplog) -> tuple[int, int | None]:
    lines = [r.getMessage() for r in caplog.records if r.name == "hall.exchange.export_process"]
    found = re.search(r"by process (\d+) \(priority (-?\d+|None)\)", lines[-1])
    assert found, lines
    return int(found[1]), None if found[2] == "None" else int(found[2])


@pytest.mark.parametrize("kind", export_process.KINDS)
def test_the_child_writes_what_the_exporter_writes_in_process(day, tmp_path, caplog, kind):
    hall, people = day
    caplog.set_level(logging.DEBUG, logger="hall.exchange.export_process")
    ours = export_process.run(ExportJob(kind, MONTH, tmp_path / "child.xlsx", MD.TODAY, people["m01"]), hall.db)
    with hall.db.reading() as s:
        same = export_process.write(s, ExportJob(kind, MONTH, tmp_path / "here.xlsx", MD.TODAY, people["m01"]))
    assert ours.path == tmp_path / "child.xlsx" and (ours.sheets, ours.rows) == (same.sheets, same.rows)
    assert ours.rows > 0
    assert _cells(ours.path) == _cells(same.path)
    pid, priority = _child_line(caplog)
    assert pid != os.getpid()  # another interpreter: the window's lock is never held by the workbook
    if hasattr(os, "getpriority"):
        assert priority is not None and priority > os.getpriority(os.PRIO_PROCESS, 0)


def test_a_refusal_in_the_child_is_the_exporters_own_message(day, tmp_path):
    hall, people = day
    out = tmp_path / "out"
    out.mkdir()
    clerk = ExportJob("monthly", MONTH, out / "m.xlsx", MD.TODAY, people["c02"])
    with hall.db.reading() as s, pytest.raises(PermissionDenied) as here:
        export_process.write(s, clerk)
    with pytest.raises(HallError) as there:
        export_process.run(clerk, hall.db)
    assert str(there.value) == str(here.value) and "导出统计报表" in str(there.value)

    bad_name = ExportJob("overdue", MONTH, out / "m.txt", MD.TODAY, people["m01"])
    with pytest.raises(HallError) as there:
        export_process.run(bad_name, hall.db)
    assert str(there.value) == str(ValidationError("导出文件", "文件名应以 .xlsx 结尾"))
    assert list(out.iterdir()) == []  # nothing written, no temporary file left


def test_the_child_leaves_checkpoints_to_the_program(hall_sqlite, tmp_path):
    """A counter's save is in progress (the write lock held) while the export runs: the child reads past it and
    ends at once — it neither checkpoints nor, at close, waits for the writer to fold the WAL back."""
    from hall_fixtures import actors_of

    people = actors_of(hall_sqlite)
    MD.build(hall_sqlite, people)
    job = ExportJob("overdue", MONTH, tmp_path / "o.xlsx", MD.TODAY, people["m01"])
    with hall_sqlite.db.transaction() as s:
        s.connection()  # BEGIN IMMEDIATE: the write lock, held until the export is back
        t0 = time.perf_counter()
        result = export_process.run(job, hall_sqlite.db)
        took = time.perf_counter() - t0
    assert result.rows > 0 and result.path.stat().st_size > 0
    assert took < 8  # a TRUNCATE checkpoint at the child's close would wait 3 × 10 s for this writer


def test_an_unknown_export_is_refused_before_any_process_starts(day, tmp_path):
    hall, people = day
    with pytest.raises(ValueError):
        export_process.run(ExportJob("yearly", MONTH, tmp_path / "y.xlsx", MD.TODAY, people["m01"]), hall.db)


def test_the_exporters_in_process_still_write_the_sheets_the_child_names(day, tmp_path):
    hall, people = day
    with hall.db.reading() as s:
        r = export_process.write(s, ExportJob("performance", MONTH, tmp_path / "p.xlsx", MD.TODAY, people["m01"]))
    assert r.sheets == ("效绩考核", reports_xlsx.SHEET_NAMES["staff"])
