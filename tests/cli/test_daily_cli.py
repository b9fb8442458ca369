"""`hall-admin daily` end to end on a real data directory: the report, progress on stderr, and a second run the
same day that finds nothing new."""

from __future__ import annotations

from datetime import datetime

from hall.cli import main
from hall.paths import Paths
from hall.services.bootstrap import open_hall
from hall.services.catalog import items as catalog
from hall.services.tickets import intake


def test_daily_reports_and_shows_progress(capsys, tmp_path):
    data = tmp_path / "data"
    opened = open_hall(Paths.resolve(data))
    with opened.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, "03").materials}
        for minute in range(3):
            intake.register(s, opened.system, intake.IntakeForm(
                "03", intake.ApplicantForm("person", "11010519491231002X", "张三"), marks),
                now=datetime(2026, 6, 1, 9, minute))
    opened.db.dispose()
    assert main(["--data-dir", str(data), "daily", "--date", "2026-06-10"]) == 0
    out, err = capsys.readouterr()
    assert "超期办件责任追究记录：3 件" in out
    assert "链头签名：第 " in out  # the node signs its chain head after the day's rules
    assert "超期责任追究 3/3" in err and "Traceback" not in err
    assert main(["--data-dir", str(data), "daily", "--date", "2026-06-10", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "超期办件责任追究记录：0 件" in out and err == ""
    assert main(["--data-dir", str(data), "daily", "--date", "2026-06-10", "--full", "--quiet"]) == 0
    assert "超期办件责任追究记录：0 件" in capsys.readouterr().out
