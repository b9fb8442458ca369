"""The calendar tables and service on a real SQLite file: seeding, confirming a year, local holidays."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import chinese_calendar
import pytest
from openpyxl import Workbook
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

import hall.models  # noqa: F401  (registers every table)
from hall.errors import ValidationError, ValidationErrors
from hall.models.base import Base
from hall.models.calendar import CalendarDay, CalendarYear
from hall.models.ledger import Event
from hall.services import projections
from hall.services.base.actor import Actor
from hall.services.calendar import workdays as calendar_module
from hall.services.calendar.deadlines import LimitRule, compute_due, due_date
from hall.services.calendar.workdays import (
    HolidayRange,
    MakeupDay,
    WorkCalendar,
    YearNotice,
    add_local_holiday,
    load_year_notice,
    seed_from_package,
    set_year,
    validate_notice,
    year_overview,
)
from hall.services.storage import ledger

D = date
ADMIN = Actor(staff_id=1, name="李管理", role="admin", node_id="node-hall", staff_uid="uid-of-staff-1")

NOTICE_2026 = YearNotice(2026, "国办发明电〔2025〕7号", (
    HolidayRange("元旦", D(2026, 1, 1), D(2026, 1, 3)),
    HolidayRange("春节", D(2026, 2, 15), D(2026, 2, 23)),
    HolidayRange("清明节", D(2026, 4, 4), D(2026, 4, 6)),
    HolidayRange("劳动节", D(2026, 5, 1), D(2026, 5, 5)),
    HolidayRange("端午节", D(2026, 6, 19), D(2026, 6, 21)),
    HolidayRange("中秋节", D(2026, 9, 25), D(2026, 9, 27)),
    HolidayRange("国庆节", D(2026, 10, 1), D(2026, 10, 7)),
), (MakeupDay(D(2026, 1, 4), "元旦"), MakeupDay(D(2026, 2, 14), "春节"), MakeupDay(D(2026, 2, 28), "春节"),
    MakeupDay(D(2026, 5, 9), "劳动节"), MakeupDay(D(2026, 9, 20), "国庆节"), MakeupDay(D(2026, 10, 10), "国庆节")))

# A 2027 notice for the tests only (not the real one): 元旦 Fri–Sun, 春节 with one make-up Sunday.
NOTICE_2027_JSON = {
    "year": 2027,
    "notice": "测试用 2027 年安排（非真实通知）",
    "holidays": [
        {"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"},
        {"name": "春节", "start": "2027-02-06", "end": "2027-02-14"},
    ],
    "makeup_workdays": [{"date": "2027-01-31", "name": "春节"}, "2027-02-20"],
}


@pytest.fixture
def session(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'hall.db'}")
    Base.metadata.create_all(engine)
    # A bare session on purpose (no hall seeded), with the program's projections as any opened database has.
    with Session(engine, info={ledger.SESSION_KEY: projections.build()}) as s:
        yield s
    engine.dispose()


@contextmanager
def tx(s: Session) -> Iterator[None]:
    """One unit of work, as the CLI and UI do it; reads in between autobegin a transaction, end it first."""
    if s.in_transaction():
        s.commit()
    with s.begin():
        yield


def calendar_events(s: Session) -> list[Event]:
    return list(s.scalars(select(Event).where(Event.type.like("calendar.%")).order_by(Event.id)))


# ------------------------------------------------------------------------------------------ seeding
def test_seed_covers_every_package_year_and_is_idempotent(session):
    with tx(session):
        years = seed_from_package(session, ADMIN)
    assert years == list(range(2004, 2027))
    rows = session.scalars(select(CalendarYear)).all()
    assert {r.status for r in rows} == {"confirmed"} and {r.source for r in rows} == {"chinese_calendar"}
    assert session.get(CalendarDay, D(2026, 10, 1)).name == "国庆节"
    assert session.get(CalendarDay, D(2026, 2, 14)).kind == "makeup"
    with tx(session):
        assert seed_from_package(session, ADMIN) == []
    loaded, package = WorkCalendar.load(session), WorkCalendar.from_package()
    d = D(2004, 1, 1)
    while d <= D(2026, 12, 31):
        assert loaded.day_info(d) == package.day_info(d)
        d += timedelta(days=1)


def test_seeding_is_one_event_carrying_the_package_days(session):
    with tx(session):
        years = seed_from_package(session, ADMIN)
    [ev] = calendar_events(session)
    p = ledger.load_payload(ev)
    assert ev.type == "calendar.seeded" and [y for y, _ in p["years"]] == years
    assert {ref for _, ref in p["years"]} == {f"chinesecalendar {chinese_calendar.__version__}"}
    assert ["2026-10-01", False, "holiday", "国庆节"] in p["days"]
    assert len(p["days"]) == session.scalar(select(func.count()).select_from(CalendarDay))


def test_seed_keeps_a_local_holiday_recorded_before_it(session):
    with tx(session):
        add_local_holiday(session, ADMIN, D(2026, 10, 1), "地方节")  # before the package years were seeded
    with tx(session):
        seed_from_package(session, ADMIN)
    assert session.get(CalendarDay, D(2026, 10, 1)).kind == "local"
    assert session.get(CalendarDay, D(2026, 10, 2)).name == "国庆节"


def test_an_old_ledger_seeded_outside_the_ledger_gets_its_calendar_recorded(session):
    """What a release before the seeding event left: the package rows written directly, then a notice and a
    local holiday as events. Recording it makes a replay give back exactly those rows."""
    from hall.services.calendar.workdays import _package_exceptions, record_unrecorded_seed

    with tx(session):  # the old code path of seed_from_package, verbatim in effect
        for exc in _package_exceptions(range(2004, 2027)):
            session.add(CalendarDay(day=exc.on, is_workday=exc.is_workday, kind=exc.kind, name=exc.name))
        for y in range(2004, 2027):
            session.add(CalendarYear(year=y, status="confirmed", source="chinese_calendar",
                                     notice_ref="chinesecalendar 1.9.0"))
    with tx(session):
        set_year(session, ADMIN, 2026, NOTICE_2026)
        add_local_holiday(session, ADMIN, D(2025, 3, 3), "三月三")
    assert calendar_module.unrecorded_seed(session)
    with tx(session):
        assert record_unrecorded_seed(session, ADMIN) == list(range(2004, 2026))  # 2026 is the notice's now
    with tx(session):
        assert record_unrecorded_seed(session, ADMIN) == []  # once
    assert calendar_events(session)[-1].type == "calendar.seeded"

    def table(s):
        days = [tuple(r) for r in s.execute(select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.kind,
                                                   CalendarDay.name).order_by(CalendarDay.day))]
        years = [tuple(r) for r in s.execute(select(CalendarYear.year, CalendarYear.status, CalendarYear.source,
                                                    CalendarYear.notice_ref).order_by(CalendarYear.year))]
        return days, years

    live = table(session)
    replica = create_engine(f"sqlite:///{session.get_bind().url.database}-replay")
    Base.metadata.create_all(replica)
    with Session(replica, info={ledger.SESSION_KEY: projections.build()}) as r, r.begin():
        for ev in calendar_events(session):
            ledger.apply(r, ev, ledger.load_payload(ev))
    with Session(replica) as r:
        assert table(r) == live
    replica.dispose()


def test_seed_keeps_a_year_the_administrator_already_confirmed(session):
    with tx(session):
        set_year(session, ADMIN, 2026, NOTICE_2026)
    with tx(session):
        assert 2026 not in seed_from_package(session, ADMIN)
    assert session.get(CalendarYear, 2026).source == "notice"


# ------------------------------------------------------------------------------------------ set_year
def test_set_year_from_the_2026_notice_equals_the_package_data(session):
    with tx(session):
        changed = set_year(session, ADMIN, 2026, NOTICE_2026)
    cal, package = WorkCalendar.load(session), WorkCalendar.from_package()
    d = D(2026, 1, 1)
    while d <= D(2026, 12, 31):
        assert cal.is_workday(d) == package.is_workday(d), d
        d += timedelta(days=1)
    # Changed = weekdays off + weekend days worked, against the Mon–Fri fallback it replaced.
    weekdays_off = [d for d in changed if d.weekday() < 5]
    weekends_on = [d for d in changed if d.weekday() >= 5]
    assert len(weekdays_off) == 19  # 261 weekdays − 19 + 6 make-up days = 248
    assert weekends_on == [m.on for m in NOTICE_2026.makeup_days]
    overview = year_overview(session, 2026)
    assert overview.status == "confirmed" and overview.working_days == 248
    assert overview.confirmed_by == "李管理" and overview.notice_ref == "国办发明电〔2025〕7号"
    ev = calendar_events(session)
    assert [e.type for e in ev] == ["calendar.year_set"]
    payload = ledger.load_payload(ev[0])
    assert payload["year"] == 2026 and payload["previous_status"] is None
    assert payload["changed_dates"][0] == "2026-01-01" and "2026-10-10" in payload["changed_dates"]


def test_confirming_2027_turns_provisional_deadlines_into_confirmed_ones(session, tmp_path):
    with tx(session):
        seed_from_package(session, ADMIN)
    before = compute_due(WorkCalendar.load(session), LimitRule(5), D(2026, 12, 28))
    assert (before.due, before.provisional) == (D(2027, 1, 4), True)
    path = tmp_path / "2027.json"
    path.write_text(json.dumps(NOTICE_2027_JSON, ensure_ascii=False), encoding="utf-8")
    notice = load_year_notice(path)
    with tx(session):
        changed = set_year(session, ADMIN, 2027, notice)
    assert D(2027, 1, 1) in changed and D(2027, 1, 31) in changed and D(2027, 2, 20) in changed
    after = compute_due(WorkCalendar.load(session), LimitRule(5), D(2026, 12, 28))
    assert (after.due, after.provisional) == (D(2027, 1, 5), False)
    assert "跳过 2027-01-01（周五） 至 2027-01-03（周日）：元旦" in after.explanation
    assert not any("暂定" in line for line in after.explanation)
    # Re-confirming with a corrected notice replaces the statutory rows of the year.
    fixed = YearNotice(2027, "更正", notice.holidays[:1], ())
    with tx(session):
        changed = set_year(session, ADMIN, 2027, fixed)
    assert D(2027, 2, 8) in changed and D(2027, 1, 31) in changed and D(2027, 1, 1) not in changed
    assert session.get(CalendarDay, D(2027, 2, 10)) is None
    set_events = [e for e in calendar_events(session) if e.type == "calendar.year_set"]
    assert [ledger.load_payload(e)["previous_status"] for e in set_events] == [None, "confirmed"]


def test_a_notice_may_start_new_year_in_december_of_the_year_before(session):
    # Like the real 2024 notice: 元旦 2023-12-30 – 2024-01-01.
    notice = YearNotice(2030, "跨年", (HolidayRange("元旦", D(2029, 12, 30), D(2030, 1, 1)),))
    with tx(session):
        changed = set_year(session, ADMIN, 2030, notice)
    assert changed == [D(2029, 12, 31), D(2030, 1, 1)]  # 12/30 is a Sunday
    cal = WorkCalendar.load(session)
    assert not cal.is_workday(D(2029, 12, 31)) and cal.is_confirmed(2030) and not cal.is_confirmed(2029)


# ------------------------------------------------------------------------------------------ validation
@pytest.mark.parametrize(("notice", "year", "expected"), [
    (YearNotice(2027, "", (HolidayRange("国庆节", D(2027, 10, 7), D(2027, 10, 1)),)), 2027,
     "节假日“国庆节”：开始日期 2027-10-07 晚于结束日期 2027-10-01"),
    (YearNotice(2027, "", (HolidayRange("元旦", D(2027, 1, 1), D(2027, 1, 1)),), (MakeupDay(D(2027, 1, 4)),)),
     2027, "调休上班日 2027-01-04：是星期一，调休上班日只能是星期六或星期日"),
    (YearNotice(2027, "", (HolidayRange("元旦", D(2027, 1, 1), D(2027, 1, 3)),)), 2028,
     "年份：通知文件中为 2027 年，命令指定的是 2028 年"),
    (YearNotice(2027, "", (HolidayRange("元旦", D(2027, 1, 1), D(2027, 1, 3)),), (MakeupDay(D(2027, 1, 2)),)),
     2027, "调休上班日 2027-01-02：落在放假期间“元旦”内"),
    (YearNotice(2027, "", (HolidayRange("中秋节", D(2027, 9, 15), D(2027, 9, 17)),
                           HolidayRange("国庆节", D(2027, 9, 17), D(2027, 9, 20)))), 2027,
     "节假日“国庆节”：2027-09-17 与“中秋节”重叠"),
    (YearNotice(2027, "", (HolidayRange("劳动节", D(2028, 5, 1), D(2028, 5, 5)),)), 2027,
     "节假日“劳动节”：2028-05-01 至 2028-05-05 不在 2027 年内"),
    (YearNotice(2027, "", ()), 2027, "节假日：至少应有一个放假安排"),
    (YearNotice(2027, "", (HolidayRange(" ", D(2027, 1, 1), D(2027, 1, 1)),)), 2027, "名称不能为空"),
])
def test_notice_validation_names_the_field_and_rule(notice, year, expected):
    with pytest.raises(ValidationErrors) as err:
        validate_notice(notice, year)
    assert any(expected in p for p in err.value.problems), err.value.problems


def test_invalid_notice_writes_nothing(session):
    bad = YearNotice(2027, "", (HolidayRange("元旦", D(2027, 1, 1), D(2027, 1, 3)),), (MakeupDay(D(2027, 1, 5)),))
    with pytest.raises(ValidationErrors), tx(session):
        set_year(session, ADMIN, 2027, bad)
    assert session.scalars(select(CalendarDay)).all() == [] and calendar_events(session) == []


# ------------------------------------------------------------------------------------------ notice files
def test_xlsx_notice_reads_like_the_json_one(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["年份", 2027])
    ws.append(["通知", NOTICE_2027_JSON["notice"]])
    ws.append([])
    ws.append(["类型", "名称", "开始日期", "结束日期"])
    ws.append(["放假", "元旦", D(2027, 1, 1), D(2027, 1, 3)])
    ws.append(["放假", "春节", "2027-02-06", "2027-02-14"])
    ws.append(["调休上班", "春节", D(2027, 1, 31)])
    ws.append(["调休上班", "", "2027-02-20"])
    wb.save(tmp_path / "2027.xlsx")
    (tmp_path / "2027.json").write_text(json.dumps(NOTICE_2027_JSON, ensure_ascii=False), encoding="utf-8")
    from_xlsx = load_year_notice(tmp_path / "2027.xlsx")
    assert from_xlsx == load_year_notice(tmp_path / "2027.json")
    assert from_xlsx.makeup_days[0] == MakeupDay(D(2027, 1, 31), "春节")


def test_xlsx_with_an_unknown_row_names_row_and_column(tmp_path):
    wb = Workbook()
    wb.active.append(["年份", 2027])
    wb.active.append(["休息", "元旦", D(2027, 1, 1)])
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(ValidationError) as err:
        load_year_notice(tmp_path / "bad.xlsx")
    assert err.value.field == "bad.xlsx 第 2 行 A 列"


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("a.json", '{"year": 2027, "holidays": [', "不是有效的 JSON（第 1 行"),
    ("b.json", '{"holidays": []}', "缺少字段 year"),
    ("c.json", '{"year": 2027, "holidays": [{"name": "元旦", "start": "2027/01/01"}]}', "日期应写成 YYYY-MM-DD"),
    ("d.json", '{"year": 2027, "holidays": [{"name": "元旦", "start": "2027-01-03", "end": "2027-01-01"}]}',
     "晚于结束日期"),
    ("e.yaml", "year: 2027", "只支持 .json 或 .xlsx 文件"),
    ("f.xlsx", "not a workbook", "不是有效的 xlsx 工作簿"),
])
def test_bad_notice_files_get_a_chinese_message(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises((ValidationError, ValidationErrors)) as err:
        load_year_notice(path)
    assert expected in str(err.value)


# ------------------------------------------------------------------------------------------ local holidays
def test_local_holiday_is_skipped_by_name(session):
    with tx(session):
        seed_from_package(session, ADMIN)
        changed = add_local_holiday(session, ADMIN, D(2026, 3, 19), "三月三", end=D(2026, 3, 22))
    assert changed == [D(2026, 3, 19), D(2026, 3, 20)]  # Thu, Fri; the weekend was off anyway
    dl = compute_due(WorkCalendar.load(session), LimitRule(2), D(2026, 3, 18))
    assert dl.due == D(2026, 3, 24)
    assert "跳过 2026-03-19（周四） 至 2026-03-22（周日）：三月三（地方节假日）" in dl.explanation
    payload = ledger.load_payload(calendar_events(session)[-1])
    assert payload == {"name": "三月三", "start": "2026-03-19", "end": "2026-03-22",
                       "changed_dates": ["2026-03-19", "2026-03-20"]}
    assert year_overview(session, 2026).working_days == 246


def test_local_holiday_cannot_overlap_national_days(session):
    with tx(session):
        seed_from_package(session, ADMIN)
    with pytest.raises(ValidationErrors) as err, tx(session):
        add_local_holiday(session, ADMIN, D(2026, 10, 9), "测试", end=D(2026, 10, 10))
    assert err.value.problems == ["地方节假日日期：2026-10-10 已是调休上班日（国庆节）"]
    for bad in [("", D(2026, 3, 1), None), ("x", D(2026, 3, 2), D(2026, 3, 1))]:
        with pytest.raises(ValidationError), tx(session):
            add_local_holiday(session, ADMIN, bad[1], bad[0], end=bad[2])


def test_confirming_a_year_over_a_local_holiday_keeps_the_national_day(session):
    with tx(session):
        add_local_holiday(session, ADMIN, D(2027, 1, 1), "地方节")
        add_local_holiday(session, ADMIN, D(2027, 3, 1), "另一个地方节")
    assert due_date(WorkCalendar.load(session), LimitRule(1), D(2026, 12, 31)) == (D(2027, 1, 4), True)
    with tx(session):
        set_year(session, ADMIN, 2027, load_notice_dict(NOTICE_2027_JSON))
    assert session.get(CalendarDay, D(2027, 1, 1)).kind == "holiday"
    assert session.get(CalendarDay, D(2027, 3, 1)).kind == "local"
    assert ledger.load_payload(calendar_events(session)[-1])["dropped_local_holidays"] == ["2027-01-01"]


def load_notice_dict(data: dict) -> YearNotice:
    from hall.services.calendar.workdays import notice_from_dict

    return notice_from_dict(data)


def test_overview_of_an_unknown_year_is_the_weekday_fallback(session):
    overview = year_overview(session, 2031)
    assert (overview.status, overview.source, overview.working_days) == ("provisional", "weekday-fallback", 261)
    assert overview.days_off_on_weekdays == () and overview.working_weekends == ()


# ------------------------------------------------------------------------------------------ both backends
def test_confirm_and_local_holiday_on_the_seeded_hall_database(hall_db):
    """The same calls on a migrated, seeded hall — SQLite and the real PostgreSQL server."""
    with hall_db.db.transaction() as s:
        assert s.get(CalendarYear, 2026).status == "confirmed"  # seeded at first start
        changed = set_year(s, hall_db.system, 2027, load_notice_dict(NOTICE_2027_JSON))
        add_local_holiday(s, hall_db.system, D(2027, 3, 10), "地方节")
    assert D(2027, 2, 8) in changed
    with hall_db.db.transaction() as s:
        cal = WorkCalendar.load(s)
        assert year_overview(s, 2027).status == "confirmed"
        # The first start's seeding is in the ledger too, before the administrator's changes.
        assert [e.type for e in calendar_events(s)] == ["calendar.seeded", "calendar.year_set",
                                                         "calendar.local_holiday_added"]
        with pytest.raises(ValidationErrors):
            add_local_holiday(s, hall_db.system, D(2027, 3, 10), "再来一次")
    assert due_date(cal, LimitRule(1), D(2027, 3, 9)) == (D(2027, 3, 11), False)
    assert due_date(cal, LimitRule(5), D(2026, 12, 28)) == (D(2027, 1, 5), False)
