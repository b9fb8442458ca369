"""一把手接访日: posting the leaders' reception slots and booking petitioners — capacity per slot, no petitioner
booked twice on a day, no leader posted twice for the same slot; hypothesis drives random booking sequences
through the real services against a model of the rules."""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from petition_env import at, prepare
from sqlalchemy import func, select

from hall.errors import ConflictError, PermissionDenied, ValidationError
from hall.models.petition import ReceptionBooking
from hall.services.calendar.clock import calendar_for
from hall.services.registers import reception

PHONES = ("13800000001", "13800000002", "13800000003", "13800000004")


@pytest.fixture
def env(hall_sqlite):
    from hall_fixtures import actors_of

    return hall_sqlite, prepare(hall_sqlite, actors_of(hall_sqlite))


def test_posting_rules(env):
    opened, who = env
    with opened.db.transaction() as s:
        slot = reception.post_slot(s, who["m01"], "m02", date(2026, 3, 4), "上午", "镇信访接待室", 3,
                                   topic="征地拆迁", now=at(2026, 3, 2))
        assert slot.capacity == 3
    with opened.db.transaction() as s, pytest.raises(ConflictError, match="已安排接访"):
        reception.post_slot(s, who["m01"], "m02", date(2026, 3, 4), "上午", "镇信访接待室", 3, now=at(2026, 3, 2))
    with opened.db.transaction() as s, pytest.raises(ValidationError, match="不是工作日"):
        reception.post_slot(s, who["m01"], "m02", date(2026, 10, 2), "上午", "镇信访接待室", 3, now=at(2026, 3, 2))
    with opened.db.transaction() as s, pytest.raises(PermissionDenied):
        reception.post_slot(s, who["c10"], "m02", date(2026, 3, 5), "上午", "镇信访接待室", 3, now=at(2026, 3, 2))
    with opened.db.transaction() as s, pytest.raises(ValidationError, match="1 至 50"):
        reception.post_slot(s, who["m01"], "m02", date(2026, 3, 5), "下午", "镇信访接待室", 0, now=at(2026, 3, 2))
    with opened.db.transaction() as s:
        b = reception.book(s, who["c10"], slot.id, "张三", PHONES[0], "反映征地补偿", now=at(2026, 3, 2))
        assert [v.booked for v in reception.schedule(s, date(2026, 3, 1), date(2026, 3, 31))] == [1]
        reception.cancel(s, who["c10"], b.id, "信访人改约", now=at(2026, 3, 3))
        assert [v.free for v in reception.schedule(s, date(2026, 3, 1), date(2026, 3, 31))] == [3]
    with opened.db.transaction() as s, pytest.raises(ConflictError, match="已过"):
        reception.book(s, who["c10"], slot.id, "张三", PHONES[0], "反映征地补偿", now=at(2026, 3, 5))


def test_two_counters_booking_the_last_place_at_once(hall_db):
    """On both databases: the last place of a slot, and one petitioner booked at two counters into two slots of
    the same day — each time exactly one booking wins and the other is told why."""
    import threading

    from hall_fixtures import actors_of

    from hall.services.people import staff
    from hall.services.storage.node import NodeIdentity

    who = prepare(hall_db, actors_of(hall_db))
    with hall_db.db.transaction() as s:
        one = reception.post_slot(s, who["m01"], "m02", date(2026, 3, 4), "上午", "接待室", 1, now=at(2026, 3, 2)).id
        am = reception.post_slot(s, who["m01"], "m02", date(2026, 3, 5), "上午", "接待室", 5, now=at(2026, 3, 2)).id
        pm = reception.post_slot(s, who["m01"], "m02", date(2026, 3, 5), "下午", "接待室", 5, now=at(2026, 3, 2)).id
        counters = [staff.actor_for(staff.by_number(s, "c10"), NodeIdentity(f"counter-{n:02d}", "000"))
                    for n in (1, 2)]
    for slots, phones in (((one, one), PHONES[:2]), ((am, pm), (PHONES[2], PHONES[2]))):
        gate = threading.Barrier(2)
        errors: list[BaseException | None] = [None, None]

        def side(i: int, slots=slots, phones=phones, gate=gate, errors=errors) -> None:
            gate.wait()
            try:
                with hall_db.db.transaction() as s:
                    reception.book(s, counters[i], slots[i], "张三", phones[i], "反映问题", now=at(2026, 3, 2))
            except ConflictError as exc:
                errors[i] = exc

        threads = [threading.Thread(target=side, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sum(e is None for e in errors) == 1, errors
        assert re.search("已约满|不能重复预约", str(next(e for e in errors if e is not None)))


_days = itertools.count()


@pytest.mark.usefixtures("env")
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(capacity=st.integers(1, 3),
       ops=st.lists(st.tuples(st.sampled_from(("book", "cancel")), st.integers(0, 1), st.integers(0, 3)),
                    min_size=1, max_size=10))
def test_no_double_booking_and_no_overbooking(env, capacity, ops):
    opened, who = env
    with opened.db.transaction() as s:
        cal = calendar_for(s)
        n = next(_days)
        day = [d for d in (date(2026, 3, 2) + timedelta(days=i) for i in range(200)) if cal.is_workday(d)][n]
        slots = [reception.post_slot(s, who["m01"], leader, day, "上午", "镇信访接待室", capacity,
                                     now=at(2026, 3, 1)).id for leader in ("m01", "m02")]
    held: dict[int, tuple[int, int]] = {}  # petitioner -> (slot index, booking id): the model
    for action, slot_i, person in ops:
        with opened.db.transaction() as s:
            if action == "book":
                room = sum(1 for si, _ in held.values() if si == slot_i) < capacity
                ok = person not in held and room
                if ok:
                    b = reception.book(s, who["c10"], slots[slot_i], "张三", PHONES[person], "反映问题",
                                       now=at(2026, 3, 1))
                    held[person] = (slot_i, b.id)
                else:
                    with pytest.raises(ConflictError, match=r"已有接访预约|已约满"):
                        reception.book(s, who["c10"], slots[slot_i], "张三", PHONES[person], "反映问题",
                                       now=at(2026, 3, 1))
            elif person in held:
                reception.cancel(s, who["c10"], held.pop(person)[1], "信访人改约", now=at(2026, 3, 1))
    with opened.db.transaction() as s:
        live = list(s.scalars(select(ReceptionBooking).where(ReceptionBooking.on_day == day,
                                                             ReceptionBooking.state == "booked")))
        assert sorted(b.petitioner_phone for b in live) == sorted(PHONES[p] for p in held)
        assert len({b.petitioner_phone for b in live}) == len(live)  # nobody twice on the day
        for slot_id in slots:
            assert s.scalar(select(func.count()).select_from(ReceptionBooking).where(
                ReceptionBooking.slot_id == slot_id, ReceptionBooking.state == "booked")) <= capacity
