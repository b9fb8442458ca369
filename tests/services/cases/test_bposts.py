"""Attendance and B-post substitution and return (c03 at W03 is covered by c02), 2026 calendar."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select
from workflow_env import LI, prepare, register

from hall.errors import PermissionDenied
from hall.models import Event
from hall.services.cases import bposts, workflow
from hall.services.people import attendance, staff
from hall.services.tickets import record as tickets

D = date


@pytest.fixture
def env(hall_db, people):
    return hall_db, prepare(hall_db, people)


def test_b_post_substitution_and_return(env):
    hall, who = env
    mine = register(hall, who["c03"], "19", datetime(2026, 3, 6, 9))  # 养老待遇领取, W03, owned by c03
    with hall.db.transaction() as s:
        with pytest.raises(PermissionDenied):
            bposts.mark_attendance(s, who["c03"], "c03", "leave", day=D(2026, 3, 9), now=datetime(2026, 3, 6, 17))
        with pytest.raises(PermissionDenied):
            bposts.mark_attendance(s, who["c02"], "c03", "present", now=datetime(2026, 3, 9, 8))
        with pytest.raises(PermissionDenied):  # c02 is not standing in yet
            workflow.start(s, who["c02"], mine, now=datetime(2026, 3, 6, 17))
        bposts.mark_attendance(s, who["m01"], "c03", "leave", day=D(2026, 3, 9), note="病假",
                        now=datetime(2026, 3, 9, 8))
        t = tickets.get(s, mine)
        assert t.owner_id == who["c02"].staff_id
        (view,) = bposts.substitutions(s, D(2026, 3, 9))
        assert (view.holder, view.b_post, view.window_code, view.tickets_held) == ("李社保", "王民政", "W03", 1)
        duty = {d.staff_no: d for d in attendance.on_duty(s, D(2026, 3, 9))}
        assert duty["c03"].status_label == "请假" and duty["c03"].stood_in_by == "王民政"
        assert duty["c02"].standing_in_for == ("李社保",) and duty["m01"].status == "unmarked"
        assert attendance.standing_in_for(s, who["c02"].staff_id, D(2026, 3, 9)) == ("W03",)
    # A new W03 ticket from the village point while c03 is away goes to the B-post too.
    village = register(hall, who["v01"], "19", datetime(2026, 3, 9, 10), applicant=LI)
    with hall.db.transaction() as s:
        report = bposts.sweep(s, hall.system, D(2026, 3, 9), now=datetime(2026, 3, 9, 10, 5))
        assert report.moved == [village] and report.started == []
        assert tickets.get(s, village).owner_id == who["c02"].staff_id
        # Standing in, c02 works W03's tickets as that window's clerk.
        workflow.start(s, who["c02"], mine, now=datetime(2026, 3, 9, 11))
        assert bposts.sweep(s, hall.system, D(2026, 3, 9)).moved == []  # idempotent
    with hall.db.transaction() as s:
        bposts.mark_attendance(s, who["c03"], "c03", "present", now=datetime(2026, 3, 11, 8, 5))  # self check-in
        assert tickets.get(s, mine).owner_id == who["c03"].staff_id
        assert tickets.get(s, village).owner_id == who["c03"].staff_id
        assert bposts.substitutions(s, D(2026, 3, 11)) == []
        assert attendance.standing_in_for(s, who["c02"].staff_id, D(2026, 3, 11)) == ()
        with pytest.raises(PermissionDenied):
            workflow.pause(s, who["c02"], mine, "x", now=datetime(2026, 3, 11, 9))
        # Every hand-over and return is an event on the ticket.
        uid = tickets.get(s, mine).uid
        types = s.scalars(select(Event.type).where(Event.ticket_uid == uid).order_by(Event.id)).all()
        assert types == ["ticket.received", "bpost.reassigned", "ticket.started", "bpost.returned"]


def test_no_substitution_when_the_b_post_is_away_too(env):
    hall, who = env
    with hall.db.transaction() as s:
        bposts.mark_attendance(s, who["m01"], "c02", "business", day=D(2026, 3, 9), now=datetime(2026, 3, 9, 8))
        bposts.mark_attendance(s, who["m01"], "c03", "absent", day=D(2026, 3, 9), now=datetime(2026, 3, 9, 8))
        report = bposts.sweep(s, who["m01"], D(2026, 3, 9))
        assert report.started == [] and "李社保" in report.warnings[0]
        # c05's B-post is c02 as well: nobody can stand in.
        assert bposts.stand_in_for(s, staff.by_number(s, "c05"), D(2026, 3, 9)) is None


def test_a_mark_made_after_seeing_a_later_dated_one_still_overrides_it(env):
    """Another PC's clock ahead (or a check-in stamped later in the day): the manager's override, made after
    seeing that mark, wins — it is dated just after it — instead of being dropped without a word."""
    hall, who = env
    day = D(2026, 3, 9)
    with hall.db.transaction() as s:
        bposts.mark_attendance(s, who["m01"], "c03", "absent", day=day, now=datetime(2026, 3, 9, 16))
        bposts.mark_attendance(s, who["m01"], "c03", "leave", day=day, note="补请假", now=datetime(2026, 3, 9, 9))
        assert attendance.status_of(s, who["c03"].staff_id, day) == "leave"
        marks = s.scalars(select(Event).where(Event.type == "attendance.marked").order_by(Event.id)).all()
        assert marks[-1].occurred_at > marks[-2].occurred_at
