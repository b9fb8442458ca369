"""节假日 preview: what confirming a year or adding a local holiday would change equals what the change then does
(the dates whose working status changes and every open ticket whose due date moves), and nothing is written."""

from __future__ import annotations

from datetime import date, datetime

from hall.services.calendar.workdays import HolidayRange, MakeupDay, YearNotice
from hall.services.cases import calendar_preview, recalc
from hall.services.catalog import items as catalog
from hall.services.storage import ledger
from hall.services.tickets import intake


def _accept(db, actor, code: str, on: datetime) -> str:  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, code).materials}
        return intake.register(s, actor, intake.IntakeForm(
            code, intake.ApplicantForm("person", "11010519491231002X", "张三"), materials=marks), now=on).number


def test_the_preview_equals_the_change_and_writes_nothing(hall_sqlite):
    from hall_fixtures import actors_of

    people = actors_of(hall_sqlite)
    db = hall_sqlite.db
    for code, on in (("03", datetime(2026, 12, 28, 9)), ("07", datetime(2026, 12, 30, 10)),
                     ("03", datetime(2027, 1, 20, 9))):
        _accept(db, people["m01"], code, on)
    notice = YearNotice(2027, "测试用", (HolidayRange("元旦", date(2027, 1, 1), date(2027, 1, 3)),
                                         HolidayRange("春节", date(2027, 2, 6), date(2027, 2, 14))),
                        (MakeupDay(date(2027, 2, 20)),))
    with db.reading() as s:
        events = ledger.verify(s).events
        preview = calendar_preview.preview_year(s, 2027, notice)
    with db.reading() as s:
        assert ledger.verify(s).events == events  # nothing written
    with db.transaction() as s:
        changed, moved = recalc.confirm_year(s, people["admin"], 2027, notice)
    assert preview.changed == tuple(changed) and sorted(preview.moved) == sorted(
        (n, a, b) for n, a, b in moved if a != b) and preview.moved

    with db.reading() as s:
        local = calendar_preview.preview_local_holiday(s, date(2027, 1, 25), "三月三", date(2027, 1, 26))
    with db.transaction() as s:
        changed, moved = recalc.add_local_holiday(s, people["admin"], date(2027, 1, 25), "三月三", date(2027, 1, 26))
    assert local.changed == tuple(changed) and sorted(local.moved) == sorted((n, a, b) for n, a, b in moved if a != b)
