"""Property tests of the 信访 dates by the one rule on the 2026 calendar (and the unconfirmed 2027): the 受理告知
deadline, a 移交 answer and the 回访 days are working days, never before start + limit, monotone in the limit;
an extension in natural days is capped at 30 日 whatever was approved before."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hall.errors import ValidationError
from hall.services.calendar.clock import calendar_for
from hall.services.calendar.derived import DateRule, check_extension, derive
from hall.services.cases.petition import ACCEPT_RULE
from hall.services.cases.petition_steps import FOLLOW_UP_RULES, TRANSFER_RULE

DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 3, 31))
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def cal(hall_sqlite):
    with hall_sqlite.db.reading() as s:
        return calendar_for(s)


@FAST
@given(start=DAYS, rule=st.sampled_from((ACCEPT_RULE, TRANSFER_RULE, *FOLLOW_UP_RULES)))
def test_each_petition_date_is_a_working_day_no_earlier_than_its_limit(cal, start, rule):
    due, provisional = derive(cal, start, rule)
    assert due >= start + timedelta(days=rule.limit)
    assert cal.is_workday(due)
    # Moved only as far as the first working day: every day between the natural last day and it is a rest day.
    natural = start + timedelta(days=rule.limit)
    assert all(not cal.is_workday(natural + timedelta(days=i)) for i in range((due - natural).days))
    assert provisional == (due.year >= 2027 or natural.year >= 2027)


@FAST
@given(start=DAYS, a=st.integers(0, 120), b=st.integers(0, 120))
def test_natural_day_dates_are_monotone_in_the_limit(cal, start, a, b):
    lo, hi = sorted((a, b))
    assert derive(cal, start, DateRule(lo, "day"))[0] <= derive(cal, start, DateRule(hi, "day"))[0]


@FAST
@given(already=st.integers(0, 30), days=st.integers(1, 40))
def test_petition_extensions_together_never_pass_30_days(already, days):
    if already + days <= 30:
        assert check_extension(days, 60, "day", already) == days
    else:
        with pytest.raises(ValidationError, match="不得超过 30 日"):
            check_extension(days, 60, "day", already)
