"""The one date rule for every derived date (hall/services/calendar/derived.py), on the 2026 calendar."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hall.errors import ValidationError
from hall.services.calendar.derived import DateRule, check_extension, derive, explain, extension_cap
from hall.services.calendar.workdays import WorkCalendar

CAL = WorkCalendar.from_package()
D = date

dates = st.dates(D(2025, 1, 1), D(2027, 12, 31))  # 2027: no confirmed calendar in the package (暂定)
limits = st.integers(0, 90)
units = st.sampled_from(["workday", "day"])


def _working_days_after(start: date, n: int) -> date:
    d, left = start, n
    while left:
        d += timedelta(days=1)
        left -= CAL.is_workday(d)
    return d


def test_a_supply_deadline_ending_in_national_day_moves_to_the_next_working_day():
    # 补正 on Mon 2026-09-28, 5 日: day 5 is Sat 10/3, inside 国庆 (10/1–10/7) → Thu 10/8 (民法典 §203).
    assert derive(CAL, D(2026, 9, 28), DateRule(5, "day")) == (D(2026, 10, 8), False)
    dl = explain(CAL, D(2026, 9, 28), DateRule(5, "day"), "supplement")
    assert dl.explanation[0].startswith("起算日 2026-09-28（周一） 不计入期限")
    assert dl.explanation[1] == "补正期限：5 日。"
    assert "第 5 日 2026-10-03（周六） 不是工作日，顺延至 2026-10-08（周四）（民法典第二百零三条）。" in dl.explanation
    assert dl.explanation[-1] == "补正期限：2026-10-08（周四）（5 日）。"


def test_an_answer_deadline_counts_working_days_and_make_up_days():
    # Copied Fri 2026-02-13: 2/14 is a make-up Saturday (counted), then 春节 2/15–2/23 → 2/24, 2/25, 2/26, 2/27.
    assert derive(CAL, D(2026, 2, 13), DateRule(5)) == (D(2026, 2, 27), False)


def test_a_date_in_an_unconfirmed_year_is_provisional():
    due, provisional = derive(CAL, D(2026, 12, 28), DateRule(5, "day"))
    assert (due, provisional) == (D(2027, 1, 4), True)  # Sat 1/2 → Mon 1/4 on Mon–Fri, 暂定
    assert explain(CAL, D(2026, 12, 28), DateRule(5, "day"), "complaint").explanation[-1].endswith("，暂定。")


def test_an_appointment_day_no_longer_worked_moves_to_the_next_working_day():
    assert derive(CAL, D(2026, 10, 5), DateRule(0, "day")) == (D(2026, 10, 8), False)
    assert derive(CAL, D(2026, 10, 10), DateRule(0, "day")) == (D(2026, 10, 10), False)  # make-up Saturday


def test_extensions_are_capped_by_half_the_statutory_limit():
    assert extension_cap(60) == 30 and extension_cap(20) == 10 and extension_cap(5) == 2
    assert check_extension(30, 60, "day", 0) == 30
    with pytest.raises(ValidationError,
                       match="法定时限 60 日，延长合计不得超过 30 日（已延长 20 日，至多还可延长 10 日）"):
        check_extension(11, 60, "day", 20)
    with pytest.raises(ValidationError, match="延期天数"):
        check_extension(0, 20, "workday", 0)


def test_bad_rules_are_refused_in_chinese():
    with pytest.raises(ValidationError, match="期限单位"):
        derive(CAL, D(2026, 3, 2), DateRule(5, "hour"))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="期限天数"):
        derive(CAL, D(2026, 3, 2), DateRule(-1))


@settings(max_examples=400, deadline=None)
@given(dates, limits, units)
def test_every_derived_date_is_a_working_day_never_earlier_than_the_rule(start, n, unit):
    due, _provisional = derive(CAL, start, DateRule(n, unit))
    if unit == "workday":
        assert due == (_working_days_after(start, n) if n else start)
        assert n == 0 or CAL.is_workday(due)
    else:
        last = start + timedelta(days=n)
        # The N-th natural day itself when worked, else the first working day after it: never earlier.
        assert due >= last and CAL.is_workday(due)
        assert all(not CAL.is_workday(last + timedelta(days=i)) for i in range((due - last).days))


@settings(max_examples=300, deadline=None)
@given(dates, limits, units)
def test_monotone_in_the_limit(start, n, unit):
    assert derive(CAL, start, DateRule(n, unit))[0] <= derive(CAL, start, DateRule(n + 1, unit))[0]


@settings(max_examples=200, deadline=None)
@given(dates, limits, units, st.randoms(use_true_random=False))
def test_unchanged_by_replay(start, n, unit, rnd: random.Random):
    """A node that rebuilt its calendar from the events (in any order) derives the same date, and the rule
    carried in the event payload (to_json / from_json) is the same rule."""
    exceptions = [e for y in range(2025, 2027) for e in CAL.exceptions(y)]
    rnd.shuffle(exceptions)
    rebuilt = WorkCalendar(exceptions, CAL.confirmed_years)
    rule = DateRule(n, unit)
    assert DateRule.from_json(rule.to_json()) == rule
    assert derive(rebuilt, start, rule) == derive(CAL, start, rule)
    assert explain(rebuilt, start, rule, "joint_copy") == explain(CAL, start, rule, "joint_copy")
