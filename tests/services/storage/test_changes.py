"""What an operation changed, told by the events it committed: the mapping is total, the result does not depend on
order or repetition, and a recording sees exactly what was committed — not what was rolled back."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hall.services import projections
from hall.services.storage import changes, settings
from hall.services.storage.changes import EFFECTS, MAX_TICKETS, REGISTERS, Changes, recording
from hall.services.tickets import intake
from hall.services.tickets import record as tickets

ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张三", "13812345678", "东村3组")


def test_every_event_type_says_what_it_changes():
    """The program's projection registry is the list of every event type it can append or apply (others are
    refused): each has exactly one entry saying what it changes — none missing, none stale or misspelt."""
    known = projections.build().types
    assert sorted(known - set(EFFECTS)) == [], "add these event types to hall.services.storage.changes.EFFECTS"
    assert sorted(set(EFFECTS) - known) == []


def test_events_become_changes():
    c = Changes.from_events([("ticket.closed", "T1"), ("ticket.printed", "T2"), ("followup.scheduled", "T1"),
                             ("calendar.year_set", None), ("daily.swept", None)])
    assert c.tickets == {"T1"} and c.history == {"T1", "T2"} and c.registers == {"followups"}
    assert c.calendar and not (c.catalog or c.settings or c.staff or c.all_tickets)
    assert c.any_tickets and c.concerns_ticket("T2") and not c.concerns_ticket("T3") and c.touches("followups")
    printed = Changes.from_events([("ticket.printed", "T2")])
    assert printed and not printed.any_tickets and printed.concerns_ticket("T2")  # history only
    assert not Changes.from_events([("daily.swept", None), ("staff.password_set", None)])  # nothing on screen
    assert not Changes()


def test_an_event_type_this_version_does_not_know_means_everything():
    c = Changes.from_events([("ticket.teleported", "T9")])
    assert c.all_tickets and c.registers == REGISTERS and c.catalog and c.calendar and c.settings and c.staff
    assert c.concerns_ticket("anything")


def test_a_huge_change_is_told_as_all_tickets():
    c = Changes.from_events(("ticket.deadline_changed", f"T{i}") for i in range(MAX_TICKETS + 1))
    assert c.all_tickets and not c.tickets and c.any_tickets
    small = Changes.from_events(("ticket.deadline_changed", f"T{i}") for i in range(MAX_TICKETS))
    assert not small.all_tickets and len(small.tickets) == MAX_TICKETS
    assert (small | Changes.from_events([("ticket.closed", "X")])).all_tickets


EVENT = st.tuples(st.sampled_from([*sorted(EFFECTS), "unknown.type"]), st.none() | st.sampled_from("ABCDE"))


@given(st.lists(EVENT, max_size=30), st.lists(EVENT, max_size=30))
def test_order_repetition_and_splitting_do_not_matter(first, second):
    """The same events in any order, told twice, or in two parts merged with ``|`` (one operation's events
    here, another counter's arriving later), give the same Changes."""
    whole = Changes.from_events(first + second)
    assert Changes.from_events(second + first) == whole
    assert Changes.from_events(first + second + first) == whole
    assert Changes.from_events(first) | Changes.from_events(second) == whole
    assert whole.tickets <= whole.history or whole.all_tickets


def _register(s, actor, when):
    return intake.register(s, actor, intake.IntakeForm("11", ZHANG), now=when)


def test_a_recording_sees_what_was_committed_and_not_what_was_rolled_back(hall_db, people):
    c02 = people["c02"]
    with recording() as rec:
        with hall_db.db.transaction() as s:
            kept = _register(s, c02, datetime(2026, 3, 2, 9))
            uid = tickets.get(s, kept.number).uid
        with pytest.raises(RuntimeError), hall_db.db.transaction() as s:
            _register(s, c02, datetime(2026, 3, 2, 10))
            raise RuntimeError("the save fails after its events were appended")
        with hall_db.db.transaction() as s:
            settings.set_values(s, people["admin"], {"hall_name": "测试中心"})
    got = rec.changes()
    assert got.tickets == {uid} and got.settings  # two committed transactions, not the rolled-back one
    assert [t for t, _u in rec.events].count("ticket.received") == 1
    # Outside a recording nothing is kept on the session (the CLI and the benchmarks pay one lookup).
    with hall_db.db.transaction() as s:
        _register(s, c02, datetime(2026, 3, 3, 9))
        assert changes._KEY not in s.info


def test_recordings_in_two_threads_keep_to_their_own(hall_sqlite):
    from hall_fixtures import actors_of

    people = actors_of(hall_sqlite)
    got: dict[str, Changes] = {}
    barrier = threading.Barrier(2)

    def work(name: str, hour: int) -> None:
        with recording() as rec:
            barrier.wait()
            with hall_sqlite.db.transaction() as s:
                _register(s, people["c02"], datetime(2026, 3, 2, hour))
        got[name] = rec.changes()

    threads = [threading.Thread(target=work, args=(n, h)) for n, h in (("a", 9), ("b", 10))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got["a"].tickets) == 1 and len(got["b"].tickets) == 1 and got["a"].tickets != got["b"].tickets
