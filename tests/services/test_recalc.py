"""Confirming a year or adding a local holiday re-derives open deadlines, each change a ledger event."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from hall.errors import PermissionDenied
from hall.services import catalog, intake, ledger, recalc, tickets
from hall.services.calendar import notice_from_dict

NOTICE_2027 = {
    "year": 2027,
    "notice": "测试用 2027 年安排（非真实通知）",
    "holidays": [{"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"},
                 {"name": "春节", "start": "2027-02-06", "end": "2027-02-14"}],
    "makeup_workdays": [{"date": "2027-01-31", "name": "春节"}, "2027-02-20"],
}
ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张三")


def _accept(opened, actor, code: str, on: datetime) -> str:
    with opened.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, code).materials}
        return intake.register(s, actor, intake.IntakeForm(code, ZHANG, materials=marks), now=on).number


def test_confirming_next_year_moves_provisional_deadlines_with_events(hall_db, people):
    # 03 (5 working days) accepted Mon 2026-12-28 → Mon 2027-01-04 on Mon–Fri, provisional.
    number = _accept(hall_db, people["m01"], "03", datetime(2026, 12, 28, 9))
    early = _accept(hall_db, people["m01"], "03", datetime(2026, 6, 1, 9))
    with hall_db.db.transaction() as s:
        t = tickets.get(s, number)
        assert (t.due_date, t.due_provisional) == (date(2027, 1, 4), True)
        untouched_due = tickets.get(s, early).due_date
    with pytest.raises(PermissionDenied), hall_db.db.transaction() as s:
        recalc.confirm_year(s, people["c02"], 2027, notice_from_dict(NOTICE_2027))
    with hall_db.db.transaction() as s:
        changed, moved = recalc.confirm_year(s, people["admin"], 2027, notice_from_dict(NOTICE_2027))
    assert date(2027, 1, 1) in changed
    assert moved == [(number, date(2027, 1, 4), date(2027, 1, 5))]
    with hall_db.db.transaction() as s:
        t = tickets.get(s, number)
        assert (t.due_date, t.due_provisional) == (date(2027, 1, 5), False)
        assert tickets.get(s, early).due_date == untouched_due
        last = tickets.history(s, t)[-1]
        assert last.type == "ticket.deadline_changed" and "2027-01-04 → 2027-01-05" in last.text
        assert ledger.verify(s).ok


def test_a_local_holiday_pushes_open_deadlines(hall_db, people):
    number = _accept(hall_db, people["m01"], "03", datetime(2026, 6, 1, 9))  # Mon + 5 wd → Mon 2026-06-08
    with hall_db.db.transaction() as s:
        assert tickets.get(s, number).due_date == date(2026, 6, 8)
        _changed, moved = recalc.add_local_holiday(s, people["admin"], date(2026, 6, 3), "三月三（测试）")
    assert moved == [(number, date(2026, 6, 8), date(2026, 6, 9))]
