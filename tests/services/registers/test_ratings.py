"""Ratings: only the citizen channel rates; a 差评 rectification loop; the unrated rule (2026 calendar)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hall_fixtures import rating_pad
from workflow_env import prepare, register

from hall.errors import ConflictError, PermissionDenied, ValidationError
from hall.services.cases import workflow
from hall.services.registers import accountability, followups, ratings
from hall.services.storage import settings
from hall.services.tickets import record as tickets

D = date


@pytest.fixture
def env(hall_db, people):
    return hall_db, prepare(hall_db, people)


def closed(hall, who, when: datetime) -> str:
    number = register(hall, who["c02"], "09", when)
    with hall.db.transaction() as s:
        workflow.close(s, who["c02"], number, "approved", "同意救助", now=when)
    return number


def test_poor_rating_rectification_loop(env):
    hall, who = env
    pad = rating_pad(hall, "W02评价器")
    number = closed(hall, who, datetime(2026, 3, 2, 9))
    with hall.db.transaction() as s:
        with pytest.raises(PermissionDenied):
            ratings.request_rating(s, who["c03"], number, "closure", now=datetime(2026, 3, 2, 10))
        invite = ratings.request_rating(s, who["c02"], number, "closure", now=datetime(2026, 3, 2, 10))
        assert (invite.stage_label, invite.staff_name) == ("办结时评价", "王民政")
        # The clerk's own login can never rate, even holding the token.
        with pytest.raises(PermissionDenied, match="不能代申请人评价"):
            ratings.rate(s, who["c02"], invite.token, 5)  # type: ignore[arg-type]
        with pytest.raises(PermissionDenied, match="评价码无效"):
            ratings.rate(s, pad, "guessed-token", 5)
        with pytest.raises(ValidationError, match="写明原因"):
            ratings.rate(s, pad, invite.token, 1)
        rating = ratings.rate(s, pad, invite.token, 2, "等了很久，态度冷淡", now=datetime(2026, 3, 2, 10, 1))
        assert (rating.level, rating.source, rating.staff_id) == (2, "citizen", who["c02"].staff_id)
        with pytest.raises(ConflictError, match="已使用"):
            ratings.rate(s, pad, invite.token, 5)
        (rect,) = ratings.rectifications(s, D(2026, 3, 2))
        # 15 working days (setting rectify_workdays) from Mon 3/2 → Mon 3/23.
        assert (rect.due_on, rect.state_label, rect.comment) == (D(2026, 3, 23), "待核实", "等了很久，态度冷淡")
        closure_call, call = followups.due(s, D(2026, 3, 23))
        # The item's closure follow-up (7 days after closure) and the 差评 follow-up by the rectification deadline.
        assert (closure_call.reason, closure_call.due_on) == ("closure", D(2026, 3, 9))
        assert (call.reason, call.due_on) == ("poor_rating", D(2026, 3, 23))

        with pytest.raises(PermissionDenied):
            ratings.verify(s, who["c02"], rect.id, False, "不属实", now=datetime(2026, 3, 3, 9))
        with pytest.raises(ConflictError, match="核实"):
            ratings.record_rectified(s, who["c02"], rect.id, "已整改", now=datetime(2026, 3, 3, 9))
        ratings.verify(s, who["m01"], rect.id, True, "调阅监控，等候40分钟属实", now=datetime(2026, 3, 3, 9))
        (rec,) = accountability.records(s)
        assert (rec.cause, rec.staff_name, rec.ticket_number) == ("poor_rating", "王民政", number)
        with pytest.raises(ConflictError, match="整改完成"):
            ratings.request_rating(s, who["c02"], number, "second", rectification_id=rect.id)
        ratings.record_rectified(s, who["c02"], rect.id, "增设叫号提醒，窗口人员接受批评教育",
                                 now=datetime(2026, 3, 10, 9))
        followups.record_outcome(s, who["c02"], call.id, "电话", "已向申请人说明整改措施，申请人表示认可",
                                 satisfied=True, now=datetime(2026, 3, 11, 9))
        assert [f.reason for f in followups.due(s, D(2026, 3, 31))] == ["closure"]
        again = ratings.request_rating(s, who["c02"], number, "second", rectification_id=rect.id,
                                       now=datetime(2026, 3, 11, 9))
        ratings.rate(s, pad, again.token, 4, now=datetime(2026, 3, 11, 9, 5))
        assert ratings.rectifications(s, D(2026, 3, 11)) == []
        (done,) = ratings.rectifications(s, D(2026, 3, 11), open_only=False)
        assert (done.state, done.second_level, done.upheld) == ("closed", 4, True)
        levels = [(r.stage, r.level) for r in ratings.ratings_of(s, tickets.get(s, number))]
        assert levels == [("closure", 2), ("second", 4)]
        accountability.record_finding(s, who["m01"], rec.id, "upheld", "等候过长属实", measure="批评教育",
                                      now=datetime(2026, 3, 12, 9))
        assert accountability.records(s) == []
        assert accountability.records(s, state="upheld")[0].measure == "批评教育"


def test_promised_ticket_is_rated_at_acceptance_and_closure(env):
    hall, who = env
    pad = rating_pad(hall)
    number = register(hall, who["c02"], "09", datetime(2026, 3, 2, 9))
    with hall.db.transaction() as s:
        with pytest.raises(ConflictError, match="尚未办结"):
            ratings.request_rating(s, who["c02"], number, "closure", now=datetime(2026, 3, 2, 9))
        ratings.rate(s, pad, ratings.request_rating(s, who["c02"], number, "acceptance").token, 5)
        with pytest.raises(ConflictError, match="已完成"):
            ratings.request_rating(s, who["c02"], number, "acceptance")


def test_unrated_after_n_days_follows_the_local_rule(env):
    hall, who = env
    first = closed(hall, who, datetime(2026, 3, 2, 9))
    with hall.db.transaction() as s:
        assert ratings.sweep_unrated(s, hall.system, D(2026, 3, 9)) == []  # day 7: still inside
        assert ratings.sweep_unrated(s, hall.system, D(2026, 3, 10)) == [first, first]  # acceptance + closure
        assert ratings.sweep_unrated(s, hall.system, D(2026, 3, 11)) == []
        got = ratings.ratings_of(s, tickets.get(s, first))
        assert {(r.stage, r.level, r.source) for r in got} == {("acceptance", 5, "deemed"), ("closure", 5, "deemed")}
        settings.set_values(s, hall.system, {"unrated_counts_as": ""})
    second = closed(hall, who, datetime(2026, 3, 3, 9))
    with hall.db.transaction() as s:
        assert ratings.sweep_unrated(s, hall.system, D(2026, 3, 11)) == [second, second]
        got = ratings.ratings_of(s, tickets.get(s, second))
        assert {(r.level, r.source) for r in got} == {(None, "lapsed")}
        with pytest.raises(PermissionDenied):
            ratings.sweep_unrated(s, who["c02"], D(2026, 3, 12))
