"""The queue's status filter as a pure function of a filter: the last status applied wins, nothing else moves."""

from __future__ import annotations

from dataclasses import fields
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from hall.services.reporting.queue import STATUSES, TicketFilter, with_status

STATUS_FIELDS = {"open_only", "done_only", "state", "sync_conflict"}

bases = st.builds(
    TicketFilter,
    window=st.sampled_from([None, "W01", "W02"]),
    text=st.sampled_from(["", "0003", "王", "zs"]),
    state=st.sampled_from([None, "accepted", "voided"]),
    open_only=st.booleans(),
    exclude_states=st.sampled_from([(), ("supplement",)]),
    received_from=st.sampled_from([None, date(2026, 11, 1)]),
)


@given(bases, st.lists(st.sampled_from(STATUSES), min_size=1, max_size=5))
def test_the_last_status_wins_and_the_rest_of_the_filter_stays(base, statuses):
    f = base
    for status in statuses:
        f = with_status(f, status)
    assert f == with_status(base, statuses[-1])
    assert with_status(f, statuses[-1]) == f  # idempotent
    for field in fields(TicketFilter):
        if field.name not in STATUS_FIELDS:
            assert getattr(f, field.name) == getattr(base, field.name), field.name
