"""`hall-admin report …` end to end on a real data directory (HALL_HOME per test)."""

from __future__ import annotations

import manager_day as MD
import pytest
from openpyxl import load_workbook

from hall.cli import main


@pytest.fixture
def home(hall_sqlite, monkeypatch):
    from hall_fixtures import actors_of

    MD.build(hall_sqlite, actors_of(hall_sqlite))
    data = hall_sqlite.db.engine.url.database
    hall_sqlite.db.dispose()
    from pathlib import Path

    monkeypatch.setenv("HALL_HOME", str(Path(data).parent))
    return Path(data).parent


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_monthly_report_command(home, tmp_path, capsys):
    out = tmp_path / "m.xlsx"
    code, text, _ = run(capsys, "report", "monthly", "--month", "2026-12", "--today", "2026-12-16", "--out", str(out))
    assert code == 0 and "已导出" in text
    ws = load_workbook(out)["按窗口"]
    total = [c.value for c in ws[16]]
    assert total[0] == "合计" and total[2:4] == [10, 8]


def test_quarterly_ledger_overdue_performance(home, tmp_path, capsys):
    assert run(capsys, "report", "quarterly", "--quarter", "2026Q4", "--today", "2026-12-16", "--no-ledger",
               "--out", str(tmp_path / "q.xlsx"))[0] == 0
    assert "办件登记台账" not in load_workbook(tmp_path / "q.xlsx").sheetnames
    code, text, _ = run(capsys, "report", "ledger", "--from", "2026-12-01", "--to", "2026-12-16", "--full",
                        "--today", "2026-12-16", "--out", str(tmp_path / "l.xlsx"))
    assert code == 0 and "已记入台账" in text
    assert run(capsys, "report", "overdue", "--today", "2026-12-16", "--out", str(tmp_path / "o.xlsx"))[0] == 0
    assert run(capsys, "report", "performance", "--month", "2026-12", "--today", "2026-12-16",
               "--out", str(tmp_path / "p.xlsx"))[0] == 0


def test_bad_input_is_one_chinese_line(home, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["report", "monthly", "--month", "2026-13", "--out", str(tmp_path / "x.xlsx")])
    assert "统计月份" in capsys.readouterr().err
    code, _, err = run(capsys, "report", "overdue", "--out", str(tmp_path / "x.txt"))
    assert code == 2 and err.startswith("错误：导出文件")
