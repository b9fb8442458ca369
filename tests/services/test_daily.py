"""The daily rules run together, as the system, and a second run the same day changes nothing."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from hall.errors import PermissionDenied
from hall.models import Event
from hall.services import catalog, daily, intake

ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张三")


def test_daily_rules_are_idempotent_and_supervised(hall_db, people):
    with hall_db.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, "03").materials}
        intake.register(s, people["m01"], intake.IntakeForm("03", ZHANG, materials=marks),
                        now=datetime(2026, 6, 1, 9))  # due 2026-06-08
    with pytest.raises(PermissionDenied), hall_db.db.transaction() as s:
        daily.run(s, people["c02"], date(2026, 6, 10))
    with hall_db.db.transaction() as s:
        first = daily.run(s, hall_db.system, date(2026, 6, 10))
        events = s.scalar(select(func.count()).select_from(Event))
    assert first.accountability == 1
    assert "超期办件责任追究记录：1 件" in "\n".join(first.lines())
    with hall_db.db.transaction() as s:
        again = daily.run(s, hall_db.system, date(2026, 6, 10))
        assert s.scalar(select(func.count()).select_from(Event)) == events
    assert (again.accountability, again.deemed_consents, again.followups_scheduled) == (0, 0, 0)
