"""The ledger: hash chain per node, tamper detection, projections equal to a replay of the events."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from hall.models import Base, Event, Ticket
from hall.services import projections
from hall.services.storage import ledger
from hall.services.storage.db import Database
from hall.services.tickets import intake
from hall.services.tickets import record as tickets

ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张三", "13812345678", "东村3组")


def _some_tickets(opened, people):
    with opened.db.transaction() as s:
        a = intake.register(s, people["c02"], intake.IntakeForm("11", ZHANG), now=datetime(2026, 3, 2, 9))
        b = intake.register(s, people["c02"], intake.IntakeForm("09", ZHANG), now=datetime(2026, 3, 2, 10))
        c = intake.register(s, people["v01"], intake.IntakeForm("18", ZHANG), now=datetime(2026, 3, 3, 9))
    with opened.db.transaction() as s:
        tickets.supplement_received(s, people["c02"], b.number, now=datetime(2026, 3, 4, 9))
        tickets.void(s, people["m01"], c.number, "重复登记")
    return a, b, c


@pytest.mark.ledger_edited
def test_chain_verifies_and_names_the_first_tampered_event(hall_db, people):
    _some_tickets(hall_db, people)
    with hall_db.db.transaction() as s:
        report = ledger.verify(s)
        assert report.ok and report.nodes == 2 and report.events > 8
        victim = s.scalars(select(Event).where(Event.type == "ticket.supplemented")).one()
        victim_id = victim.event_id
    # Someone edits a payload behind the program's back (e.g. with a SQLite browser).
    with hall_db.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE events SET payload = replace(payload, '2026-03-04', '2026-03-01') "
                             "WHERE event_id = :e"), {"e": victim_id})
    with hall_db.db.transaction() as s:
        report = ledger.verify(s)
        assert not report.ok
        assert report.first_broken.event_id == victim_id
        assert "内容" in report.problem


@pytest.mark.ledger_edited
def test_deleting_the_last_event_is_detected(hall_db, people):
    _some_tickets(hall_db, people)
    with hall_db.db.engine.begin() as conn:
        last = conn.execute(sa.text("SELECT max(id) FROM events")).scalar_one()
        conn.execute(sa.text("DELETE FROM events WHERE id = :i"), {"i": last})
    with hall_db.db.transaction() as s:
        assert not ledger.verify(s).ok


def test_projections_equal_a_replay_of_the_events(hall_sqlite, tmp_path):
    from hall_fixtures import actors_of

    people = actors_of(hall_sqlite)
    _some_tickets(hall_sqlite, people)
    # Calendar changes are events too: confirming a year and a local holiday must replay into the same rows.
    from datetime import date

    from hall.services.calendar import workdays as calendar_service

    notice = calendar_service.notice_from_dict({
        "year": 2027, "notice": "测试用（非真实通知）",
        "holidays": [{"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"}],
        "makeup_workdays": [{"date": "2027-01-09", "name": "元旦"}]})
    with hall_sqlite.db.transaction() as s:
        calendar_service.set_year(s, people["admin"], 2027, notice)
        calendar_service.add_local_holiday(s, people["admin"], date(2027, 3, 8), "三月三（测试）")
    replica = projections.install(Database.open(f"sqlite:///{tmp_path / 'replica.sqlite3'}", migrate=False))
    Base.metadata.create_all(replica.engine)
    with hall_sqlite.db.transaction() as src, replica.transaction() as dst:
        for ev in src.scalars(select(Event).order_by(Event.id)):
            copy = Event(**{c.name: getattr(ev, c.name) for c in Event.__table__.columns})
            dst.add(copy)
            dst.flush()
            ledger.apply(dst, copy, json.loads(copy.payload))
    cols = [c for c in Ticket.__table__.columns if c.name != "id"]
    with hall_sqlite.db.transaction() as a, replica.transaction() as b:
        rows_a = [tuple(getattr(t, c.name) for c in cols) for t in a.scalars(select(Ticket).order_by(Ticket.number))]
        rows_b = [tuple(getattr(t, c.name) for c in cols) for t in b.scalars(select(Ticket).order_by(Ticket.number))]
    assert len(rows_a) == 3
    assert rows_a == rows_b
    from hall.models import CalendarDay, CalendarYear

    def calendar_rows(session):
        days = session.execute(select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.kind, CalendarDay.name)
                               .where(CalendarDay.day >= date(2027, 1, 1)).order_by(CalendarDay.day)).all()
        year = session.execute(select(CalendarYear.status, CalendarYear.notice_ref, CalendarYear.confirmed_by)
                               .where(CalendarYear.year == 2027)).all()
        return [tuple(r) for r in days], [tuple(r) for r in year]

    with hall_sqlite.db.transaction() as a, replica.transaction() as b:
        assert calendar_rows(a) == calendar_rows(b)
        assert len(calendar_rows(a)[0]) == 5  # 3 holiday days, 1 make-up day, 1 local holiday
    replica.dispose()
