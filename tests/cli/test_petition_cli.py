"""`hall-admin petition` on a real data directory: post a reception slot, list it, print its notice and a case's
papers (read back)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from petition_env import at, prepare, worked_case
from pypdf import PdfReader

from hall.cli import main
from hall.services.calendar.clock import calendar_for
from hall.services.cases import workflow


def _text(path) -> str:
    return "".join(re.sub(r"\s+", "", p.extract_text() or "") for p in PdfReader(str(path)).pages)


def test_reception_schedule_and_case_papers_from_the_command_line(hall_sqlite, tmp_path, capsys):
    from hall_fixtures import actors_of

    who = prepare(hall_sqlite, actors_of(hall_sqlite))
    number = worked_case(hall_sqlite, who)
    with hall_sqlite.db.reading() as s:
        cal = calendar_for(s)
        day = next(d for d in (date.today() + timedelta(days=i) for i in range(1, 30)) if cal.is_workday(d))
        # closed from the ticket detail: no 回访 yet — `petition followups` schedules them by rule
    with hall_sqlite.db.transaction() as s:
        workflow.close(s, who["c10"], number, "approved", "已解决", now=at(2026, 10, 30))
    hall_sqlite.db.dispose()
    data = str(tmp_path / "data")
    base = ["--data-dir", data, "petition"]
    assert main([*base, "reception-post", "--leader", "m02", "--day", day.isoformat(), "--slot", "上午",
                 "--place", "镇信访接待室", "--capacity", "4", "--topic", "涉法涉诉"]) == 0
    assert "刘书记 在镇信访接待室接访，可约 4 人" in capsys.readouterr().out
    assert main([*base, "reception-post", "--leader", "m02", "--day", day.isoformat(), "--slot", "上午",
                 "--place", "镇信访接待室", "--capacity", "4"]) == 2
    assert "已安排接访" in capsys.readouterr().err
    assert main([*base, "reception-list", "--from", day.isoformat(), "--to", day.isoformat()]) == 0
    assert "已约 0/4" in capsys.readouterr().out
    notice = tmp_path / "notice.pdf"
    assert main([*base, "reception-notice", str(notice), "--from", day.isoformat()]) == 0
    assert "刘书记" in _text(notice) and "涉法涉诉" in _text(notice)
    assert main([*base, "followups"]) == 0
    assert f"已为 1 件已办结的信访件安排回访：{number}" in capsys.readouterr().out
    assert main([*base, "followups"]) == 0
    assert "已为 0 件" in capsys.readouterr().out
    assert main([*base, "cases"]) == 0
    out = capsys.readouterr().out
    assert number in out and "已受理" in out and "首办责任人 陈综治" in out
    four = tmp_path / "four.pdf"
    assert main([*base, "print", number, "four_fixed", str(four)]) == 0
    assert "四定一包责任书" in _text(four) and "约谈用人单位" in _text(four)
    assert main([*base, "print", number, "nonsense", str(four)]) == 2
    assert "应为 accept" in capsys.readouterr().err
