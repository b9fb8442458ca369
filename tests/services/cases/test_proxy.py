"""A proxy round trip on the 2026 calendar: forward, the department's reference, its answer, delivery."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from workflow_env import prepare, register

from hall.errors import ConflictError, PermissionDenied, ValidationError
from hall.services.cases import proxy, workflow
from hall.services.tickets import record as tickets

D = date


@pytest.fixture
def env(hall_db, people):
    return hall_db, prepare(hall_db, people)


def test_proxy_round_trip(env):
    hall, who = env
    # 最低生活保障申请 (item 07, W02): 30 working days end to end, handled by 县民政局.
    number = register(hall, who["c02"], "07", datetime(2026, 3, 2, 9))
    with hall.db.transaction() as s:
        t = tickets.get(s, number)
        assert t.due_date == D(2026, 4, 14)  # 30 wd after Mon 3/2, 清明 4/6 skipped
        with pytest.raises(ValidationError, match="承办部门"):
            proxy.forward(s, who["c02"], number, "县公安局", now=datetime(2026, 3, 4, 9))
        with pytest.raises(ConflictError, match="承办部门的办理结果"):
            workflow.close(s, who["c02"], number, "approved", "x", now=datetime(2026, 3, 4, 9))
        leg = proxy.forward(s, who["c02"], number, "县民政局", how_sent="专人报送",
                            what_sent=["最低生活保障申请书", "家庭成员身份证及户口簿"], now=datetime(2026, 3, 4, 9))
        assert tickets.get(s, number).state == "forwarded"
        assert [m["name"] for m in leg.what_sent] == ["最低生活保障申请书", "家庭成员身份证及户口簿"]
        # The department's leg: everything but one working day kept for delivery → due Mon 4/13.
        assert (leg.dept_days, leg.dept_due_on) == (27, D(2026, 4, 13))
    with hall.db.transaction() as s:
        with pytest.raises(PermissionDenied):
            proxy.record_reference(s, who["c03"], number, "MZ-2026-0311", now=datetime(2026, 3, 5, 9))
        proxy.record_reference(s, who["c02"], number, "MZ-2026-0311", now=datetime(2026, 3, 5, 9))
        with pytest.raises(ValidationError, match="结果返回日期"):
            proxy.department_returned(s, who["c02"], number, "approved", "x", returned_on=D(2026, 3, 3),
                                      now=datetime(2026, 3, 20, 9))
        proxy.department_returned(s, who["c02"], number, "approved", "经审核符合低保条件，自4月起发放",
                                  returned_on=D(2026, 3, 20), result_doc_no="县民低保〔2026〕45号",
                                  now=datetime(2026, 3, 20, 16))
        t = tickets.get(s, number)
        assert t.state == "in_progress"
        leg = proxy.legs(s, t)[0]
        assert (leg.dept_ref, leg.returned_on, leg.state) == ("MZ-2026-0311", D(2026, 3, 20), "returned")
        timing = proxy.timing(s, t, D(2026, 3, 23))
        # Our leg 3/3–3/4 (2 wd), their leg 3/5–3/20 (12 wd), ours again 3/23 (1 wd): inside the 30.
        assert (timing.our_days_before, timing.dept_days_used, timing.our_days_after) == (2, 12, 1)
        assert timing.total_used == 15 and not timing.dept_overdue and timing.limit == 30
    with hall.db.transaction() as s:
        workflow.close(s, who["c02"], number, "approved", "县民政局批准低保", result_doc_no="县民低保〔2026〕45号",
                       now=datetime(2026, 3, 23, 10))
        with pytest.raises(ValidationError, match="送达方式"):
            workflow.deliver(s, who["c02"], number, "托人带", "张三", now=datetime(2026, 3, 24, 10))
        workflow.deliver(s, who["c02"], number, "当面领取", "张三", doc_no="SD-0001", now=datetime(2026, 3, 24, 10))
        t = tickets.get(s, number)
        assert t.state == "delivered" and t.closed_on_time
        d = workflow.delivery_of(s, t)
        assert (d.how, d.delivered_on, d.signed_by, d.recorded_by) == ("当面领取", D(2026, 3, 24), "张三", "王民政")
        with pytest.raises(ConflictError):
            workflow.deliver(s, who["c02"], number, "当面领取", "张三", now=datetime(2026, 3, 24, 11))
        texts = [h.text for h in tickets.history(s, t)]
        assert texts[1].startswith("转报：报县民政局") and texts[-1].startswith("送达：当面领取")


def test_department_allotment_stays_inside_the_promised_total(env):
    hall, who = env
    number = register(hall, who["c02"], "15", datetime(2026, 9, 21, 9))  # 惠民殡葬补贴, 10 wd
    with hall.db.transaction() as s:
        due = tickets.get(s, number).due_date
        assert due == D(2026, 10, 12)  # 国庆 10/1–10/7 skipped, 10/10 make-up Saturday counted
        with pytest.raises(ValidationError, match="超出承诺办结日期"):
            proxy.forward(s, who["c02"], number, "县民政局", dept_days=11, now=datetime(2026, 9, 22, 9))
        leg = proxy.forward(s, who["c02"], number, "县民政局", dept_days=5, now=datetime(2026, 9, 22, 9))
        assert leg.dept_due_on == D(2026, 9, 30)  # 中秋 9/25 skipped
        proxy.department_returned(s, who["c02"], number, "rejected", "不符合条件", returned_on=D(2026, 10, 9),
                                  now=datetime(2026, 10, 9, 9))
        timing = proxy.timing(s, tickets.get(s, number), D(2026, 10, 9))
        assert timing.dept_overdue and timing.days_left == 2  # 10/10 (make-up) and 10/12
