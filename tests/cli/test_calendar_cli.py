"""`hall-admin calendar …` and `hall-admin deadline …` end to end on a real data directory (HALL_HOME per test)."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import create_engine

import hall.models  # noqa: F401  (registers every table)
from hall.cli import build_parser, main
from hall.cli.calendar_cmd import show_deadline
from hall.models.base import Base
from hall.services import projections
from hall.services.base.actor import Actor
from hall.services.calendar.workdays import add_local_holiday, seed_from_package
from hall.services.storage.db import Database


def run(capsys, *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_deadline_prints_the_iso_date_first_then_the_explanation(capsys):
    code, lines, _ = run(capsys, "deadline", "--from", "2026-09-28", "--limit", "20")
    assert code == 0
    assert lines[0] == "2026-10-30"
    assert lines[1] == "受理日 2026-09-28（周一） 不计入期限（民法典第二百零一条）。"
    assert "跳过 2026-10-01（周四） 至 2026-10-07（周三）：国庆节" in lines
    assert lines[-1] == "办结期限：2026-10-30（周五）（20 个工作日）。"


@pytest.mark.parametrize(("argv", "due"), [
    (("--from", "2026-02-12", "--limit", "5"), "2026-02-26"),
    (("--from", "2026-02-13", "--limit", "1"), "2026-02-14"),
    (("--from", "2026-08-03", "--limit", "60", "--unit", "day"), "2026-10-08"),
    (("--from", "2026-10-03", "--limit", "20", "--kind", "immediate"), "2026-10-03"),
])
def test_deadline_worked_examples(capsys, argv, due):
    code, lines, _ = run(capsys, "deadline", *argv)
    assert (code, lines[0]) == (0, due)
    assert lines[1] != "暂定"


def test_a_derived_date_is_explained_by_the_same_rule(capsys):
    code, lines, _ = run(capsys, "deadline", "--from", "2026-09-28", "--limit", "5", "--unit", "day",
                         "--for", "supplement")
    assert code == 0 and lines[0] == "2026-10-08"
    assert lines[2] == "补正期限：5 日。" and lines[-1] == "补正期限：2026-10-08（周四）（5 日）。"


def test_provisional_deadline_says_so_on_the_second_line(capsys):
    code, lines, _ = run(capsys, "deadline", "--from", "2026-12-28", "--limit", "5")
    assert code == 0
    assert lines[:2] == ["2027-01-04", "暂定"]
    assert any(line.startswith("暂定：2027 年") for line in lines)


def test_calendar_show_lists_weekdays_off_and_working_weekends(capsys):
    code, lines, _ = run(capsys, "calendar", "show", "2026")
    assert code == 0
    assert lines[0].startswith("2026 年：已确认（chinesecalendar 软件包")
    assert "全年工作日：248 天" in lines
    assert "休息的工作日（周一至周五）：19 天" in lines
    assert "上班的周末（调休上班日）：6 天" in lines
    for day in ("2026-01-04 周日", "2026-02-14 周六", "2026-02-28 周六", "2026-05-09 周六", "2026-09-20 周日",
                "2026-10-10 周六"):
        assert any(line.startswith(f"  {day}") for line in lines), day
    code, lines, _ = run(capsys, "calendar", "show", "2027")
    assert lines[0] == "2027 年：暂定（按周一至周五推算）"
    assert "全年工作日：261 天" in lines


def test_set_year_confirms_2027_and_the_deadline_stops_being_provisional(capsys, tmp_path):
    notice = tmp_path / "2027.json"
    notice.write_text(json.dumps({
        "year": 2027, "notice": "测试用通知（非真实）",
        "holidays": [{"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"}],
        "makeup_workdays": [],
    }, ensure_ascii=False), encoding="utf-8")
    code, lines, _ = run(capsys, "calendar", "set-year", "2027", str(notice))
    assert code == 0
    assert lines[0].startswith("已确认 2027 年节假日安排（测试用通知（非真实））：1 个假期")
    assert lines[1:] == ["工作日状态改变的日期：1 个：", "  2027-01-01 周五", "重新计算的在办件期限：0 件。"]
    code, lines, _ = run(capsys, "deadline", "--from", "2026-12-28", "--limit", "5")
    assert lines[0] == "2027-01-05" and "暂定" not in lines[1]
    code, lines, _ = run(capsys, "calendar", "show", "2027")
    assert lines[0].startswith("2027 年：已确认（国务院通知：测试用通知（非真实）），确认人 系统，")


def test_set_year_with_the_wrong_year_is_refused_in_chinese(capsys, tmp_path):
    notice = tmp_path / "2027.json"
    notice.write_text('{"year": 2027, "holidays": [{"name": "元旦", "start": "2027-01-01"}]}', encoding="utf-8")
    code, lines, err = run(capsys, "calendar", "set-year", "2028", str(notice))
    assert code == 2 and lines == []
    assert "年份：通知文件中为 2027 年，命令指定的是 2028 年" in err
    code, _, err = run(capsys, "calendar", "set-year", "2027", str(tmp_path / "missing.json"))
    assert code == 2 and err.startswith("错误：")


def test_add_holiday_changes_the_deadline(capsys):
    code, lines, _ = run(capsys, "calendar", "add-holiday", "2026-03-19", "--to", "2026-03-20", "--name", "三月三")
    assert (code, lines) == (0, ["已添加地方节假日“三月三”：2026-03-19 至 2026-03-20，2 个工作日改为休息。",
                                 "重新计算的在办件期限：0 件。"])
    code, lines, _ = run(capsys, "deadline", "--from", "2026-03-18", "--limit", "1")
    assert lines[0] == "2026-03-23"
    assert "跳过 2026-03-19（周四） 至 2026-03-20（周五）：三月三（地方节假日）" in lines
    code, _, err = run(capsys, "calendar", "add-holiday", "2026-10-01", "--name", "重复")
    assert code == 2 and "已是法定节假日（国庆节）" in err


@pytest.mark.parametrize(("argv", "reason"), [
    (("deadline", "--from", "2026-13-01", "--limit", "5"), "受理日期应写成 YYYY-MM-DD"),
    (("calendar", "show", "26"), "年份应为 1990–2200 之间的四位数字"),
    (("deadline", "--from", "2026-01-01", "--limit", "5", "--unit", "hour"), "--unit"),
])
def test_malformed_arguments_exit_2_with_a_reason(capsys, argv, reason):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(list(argv))
    assert exc.value.code == 2
    assert reason in capsys.readouterr().err


def test_negative_limit_is_refused(capsys):
    code, _, err = run(capsys, "deadline", "--from", "2026-01-01", "--limit", "-1")
    assert code == 2 and "办理时限" in err


# ------------------------------------------------------------------------------------------ empty database
@dataclass
class _Ctx:
    """What CliContext offers a handler (db + actor), over a database this test builds itself."""

    db: Database
    actor: Actor


@pytest.fixture
def bare_ctx(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'bare.db'}")
    Base.metadata.create_all(engine)
    db = projections.install(Database(engine))
    yield _Ctx(db, Actor.system("node-test"))
    db.dispose()


def test_deadline_on_an_empty_database_falls_back_to_the_package_calendar(capsys, bare_ctx):
    args = argparse.Namespace(accepted_on=date(2026, 2, 12), limit=5, unit="workday",
                              kind="promised")
    assert show_deadline(args, bare_ctx) == 0
    assert capsys.readouterr().out.splitlines()[0] == "2026-02-26"


def test_deadline_prefers_the_database_calendar(capsys, bare_ctx):
    with bare_ctx.db.session() as s, s.begin():
        seed_from_package(s, bare_ctx.actor)
        add_local_holiday(s, bare_ctx.actor, date(2026, 2, 13), "地方节")
    args = argparse.Namespace(accepted_on=date(2026, 2, 12), limit=5, unit="workday",
                              kind="promised")
    show_deadline(args, bare_ctx)
    assert capsys.readouterr().out.splitlines()[0] == "2026-02-27"
