"""`hall-admin settings show|set` on a real data directory: 本中心信息 goes onto the papers from then on, every
bad value is refused naming the setting and the rule with nothing changed, and a new township code never
renumbers a ticket already registered."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from hall.cli import main
from hall.models import Event, Ticket
from hall.services.base.validators import id_check_char
from hall.services.catalog import items as catalog
from hall.services.reporting import papers
from hall.services.storage import settings
from hall.services.tickets import intake


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _register(hall, actor, i: int) -> str:
    body = f"32058119800101{i:03d}"
    person = intake.ApplicantForm("person", body + id_check_char(body), "王五")
    with hall.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, "09").materials}
        return intake.register(s, actor, intake.IntakeForm("09", person, marks)).number


def test_show_set_and_the_papers_use_it(hall_sqlite, capsys, tmp_path):
    data = str(tmp_path / "data")
    code, out, _ = run(capsys, "--data-dir", data, "settings", "show")
    assert code == 0 and "【本中心信息】" in out and "中心名称（hall_name）：示例镇便民服务中心" in out
    assert "落款（盖章单位）（seal_text）：（空：用中心名称“示例镇便民服务中心”）" in out

    code, out, _ = run(capsys, "--data-dir", data, "settings", "set", "hall_name=东山镇便民服务中心",
                       "office_hours=周一至周五 8:30—17:30", "seal_text=东山镇人民政府", "supplement_days=7",
                       "village_names=001:东村代办点，002:西山村代办点")
    assert code == 0
    assert "中心名称：示例镇便民服务中心 → 东山镇便民服务中心" in out and "补正期限（日）：5 → 7" in out
    code, out, _ = run(capsys, "--data-dir", data, "settings", "show", "--json")
    shown = json.loads(out)
    assert shown["hall_name"] == "东山镇便民服务中心" and shown["supplement_days"] == 7
    assert shown["village_names"] == {"001": "东村代办点", "002": "西山村代办点"}
    with hall_sqlite.db.transaction() as s:
        info = papers.hall_info(s)
        assert s.scalar(select(func.count()).select_from(Event).where(Event.type == "settings.changed")) >= 1
    assert (info.name, info.office_hours, info.issuer) == ("东山镇便民服务中心", "周一至周五 8:30—17:30",
                                                           "东山镇人民政府")


def test_the_printed_acceptance_notice_carries_the_hall_info(hall_sqlite, capsys, tmp_path):
    from hall_fixtures import actors_of
    from pypdf import PdfReader

    data = str(tmp_path / "data")
    assert run(capsys, "--data-dir", data, "settings", "set", "hall_name=东山镇便民服务中心",
               "office_hours=周一至周五 8:30—17:30", "seal_text=东山镇人民政府")[0] == 0
    number = _register(hall_sqlite, actors_of(hall_sqlite)["c02"], 1)
    pdf = tmp_path / "acc.pdf"
    assert run(capsys, "--data-dir", data, "print", number, "--paper", "acceptance", "--out", str(pdf))[0] == 0
    text = re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in PdfReader(str(pdf)).pages))
    assert "东山镇便民服务中心" in text and "办公时间：周一至周五8:30—17:30" in text and "东山镇人民政府" in text


def test_bad_values_are_refused_naming_the_setting_and_nothing_changes(hall_sqlite, capsys, tmp_path):
    data = str(tmp_path / "data")
    with hall_sqlite.db.transaction() as s:
        before = settings.get_all(s)
    cases = [
        (("supplement_days=abc",), "补正期限（日）：应为整数"),
        (("supplement_days=0",), "补正期限（日）：应在1到60之间"),
        (("township_code=12345",), "乡镇代码：应为9位数字"),
        (("hall_name=",), "中心名称："),
        (("hall_name=东山镇\x07中心",), "中心名称："),
        (("foo=1",), "没有“foo”这一项"),
        (("hall_name",), "应写成 项目名=值"),
        (("unrated_counts_as=还行",), "逾期未评价视为："),
        (("village_names=001东村",), "应写成 编码:名称"),
        (("village_names=1:东村",), "应为3位数字"),
        # one bad value among good ones: none of them is written
        (("hall_name=东山镇便民服务中心", "rectify_workdays=99"), "差评整改期限（工作日）：应在1到60之间"),
    ]
    for argv, message in cases:
        code, _, err = run(capsys, "--data-dir", data, "settings", "set", *argv)
        assert code != 0 and message in err, (argv, err)
        assert "Traceback" not in err
    with hall_sqlite.db.transaction() as s:
        assert settings.get_all(s) == before


def test_a_new_township_code_numbers_new_tickets_only(hall_sqlite, capsys, tmp_path):
    from hall_fixtures import actors_of

    clerk = actors_of(hall_sqlite)["c02"]
    first = _register(hall_sqlite, clerk, 2)
    code, out, _ = run(capsys, "--data-dir", str(tmp_path / "data"), "settings", "set", "township_code=320581102")
    assert code == 0 and "已有办件的编号不变" in out
    second = _register(hall_sqlite, clerk, 3)
    with hall_sqlite.db.transaction() as s:
        numbers = set(s.scalars(select(Ticket.number)))
    assert first in numbers and first.startswith("320581101-") and second.startswith("320581102-")
