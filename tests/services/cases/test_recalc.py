"""Confirming a year or adding a local holiday re-derives open deadlines, each change a ledger event."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import pytest

from hall.errors import PermissionDenied
from hall.services.calendar.workdays import notice_from_dict
from hall.services.cases import recalc
from hall.services.catalog import items as catalog
from hall.services.storage import ledger
from hall.services.tickets import intake
from hall.services.tickets import record as tickets

NOTICE_2027 = {
    "year": 2027,
    "notice": "测试用 2027 年安排（非真实通知）",
    "holidays": [{"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"},
                 {"name": "春节", "start": "2027-02-06", "end": "2027-02-14"}],
    "makeup_workdays": [{"date": "2027-01-31", "name": "春节"}, "2027-02-20"],
}
ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张三")


def _accept(opened, actor, code: str, on: datetime) -> str:
    with opened.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, code).materials}
        return intake.register(s, actor, intake.IntakeForm(code, ZHANG, materials=marks), now=on).number


def test_confirming_next_year_moves_provisional_deadlines_with_events(hall_db, people):
    # 03 (5 working days) accepted Mon 2026-12-28 → Mon 2027-01-04 on Mon–Fri, provisional.
    number = _accept(hall_db, people["m01"], "03", datetime(2026, 12, 28, 9))
    early = _accept(hall_db, people["m01"], "03", datetime(2026, 6, 1, 9))
    with hall_db.db.transaction() as s:
        t = tickets.get(s, number)
        assert (t.due_date, t.due_provisional) == (date(2027, 1, 4), True)
        untouched_due = tickets.get(s, early).due_date
    with pytest.raises(PermissionDenied), hall_db.db.transaction() as s:
        recalc.confirm_year(s, people["c02"], 2027, notice_from_dict(NOTICE_2027))
    with hall_db.db.transaction() as s:
        changed, moved = recalc.confirm_year(s, people["admin"], 2027, notice_from_dict(NOTICE_2027))
    assert date(2027, 1, 1) in changed
    assert moved == [(number, date(2027, 1, 4), date(2027, 1, 5))]
    with hall_db.db.transaction() as s:
        t = tickets.get(s, number)
        assert (t.due_date, t.due_provisional) == (date(2027, 1, 5), False)
        assert tickets.get(s, early).due_date == untouched_due
        last = tickets.history(s, t)[-1]
        assert last.type == "ticket.deadline_changed" and "2027-01-04 → 2027-01-05" in last.text
        assert ledger.verify(s).ok


def test_a_local_holiday_pushes_open_deadlines(hall_db, people):
    number = _accept(hall_db, people["m01"], "03", datetime(2026, 6, 1, 9))  # Mon + 5 wd → Mon 2026-06-08
    with hall_db.db.transaction() as s:
        assert tickets.get(s, number).due_date == date(2026, 6, 8)
        _changed, moved = recalc.add_local_holiday(s, people["admin"], date(2026, 6, 3), "三月三（测试）")
    assert moved == [(number, date(2026, 6, 8), date(2026, 6, 9))]



def test_a_village_tickets_deadline_change_names_its_parent_by_hash_and_a_hall_tickets_does_not(hall_db, people):
    """The recomputation writes on a village ticket as every action does (hall/services/tickets/lineage.py): its
    event names the ticket's head by hash, and the next action builds on it; a hall ticket's carries the integer."""
    from sqlalchemy import select

    from hall.models import Event
    from hall.services.cases import workflow

    village = _accept(hall_db, people["v01"], "03", datetime(2026, 6, 1, 9))
    hall = _accept(hall_db, people["m01"], "03", datetime(2026, 6, 1, 9, 5))
    with hall_db.db.transaction() as s:
        _changed, moved = recalc.add_local_holiday(s, people["admin"], date(2026, 6, 3), "三月三（测试）")
        assert {m[0] for m in moved} == {village, hall}
    with hall_db.db.transaction() as s:
        workflow.start(s, people["v01"], village, now=datetime(2026, 6, 4, 9))
    with hall_db.db.reading() as s:
        def events(number):
            uid = tickets.get(s, number).uid
            return [(e.type, e.hash, ledger.load_payload(e)) for e in s.scalars(
                select(Event).where(Event.ticket_uid == uid).order_by(Event.id))]

        (_r, received, _), (_d, moved_by, p), (_s, _h, started) = events(village)
        assert p[tickets.PARENT_HEAD] == received and started[tickets.PARENT_HEAD] == moved_by
        assert [(t, tickets.PARENT_HEAD in q, q.get(tickets.PARENT)) for t, _h, q in events(hall)] == [
            ("ticket.received", False, None), ("ticket.deadline_changed", False, 1)]


# ------------------------------------------------------------------------------ set-based path vs one by one
AT = datetime(2026, 12, 20, 10, 30, 5, 123456)


def _recompute_one_by_one(session, actor, *, since, why):
    """The path recompute_open took before it was set-based: ORM objects, one ledger.append per change. Kept
    here as the reference the set-based path must agree with."""
    from sqlalchemy import or_, select

    from hall.models import Item, Ticket
    from hall.services.calendar import clock
    from hall.services.tickets import record

    clock.forget_calendar()
    calendar = clock.calendar_for(session)
    changed = []
    rows = session.scalars(
        select(Ticket).where(Ticket.is_open, Ticket.accepted_on.is_not(None), Ticket.due_date.is_not(None),
                             or_(Ticket.due_date >= since, Ticket.due_provisional)).order_by(Ticket.id)).all()
    for t in rows:
        item = session.get_one(Item, t.item_id)
        due, provisional = clock.quick_due(calendar, item, t.kind, t.accepted_on, t.clock)
        if due == t.due_date and provisional == t.due_provisional:
            continue
        old = t.due_date
        record.append_event(session, actor, t, "ticket.deadline_changed", {
            "old": old, "new": due, "old_provisional": t.due_provisional, "new_provisional": provisional,
            "why": why})
        changed.append((t.number, old, due))
    return changed


def _state(session, after_event_id: int, *, exact: bool):
    """Events written after ``after_event_id``, chain heads and ticket rows, as plain tuples. ``exact=False``
    leaves out what differs between two runs by construction (event ids, clock time and so the hashes)."""
    from sqlalchemy import select

    from hall.models import Event, NodeHead, Ticket

    ev = Event.__table__
    skip = {"id"} if exact else {"id", "event_id", "occurred_at", "prev_hash", "hash"}
    events = [tuple(r) for r in session.execute(
        select(*[c for c in ev.c if c.name not in skip]).where(ev.c.id > after_event_id).order_by(ev.c.id))]
    heads = [tuple(r) for r in session.execute(select(NodeHead.__table__).order_by(NodeHead.node_id))]
    tk = Ticket.__table__
    tickets_ = [tuple(r) for r in session.execute(
        select(*[c for c in tk.c if exact or c.name != "updated_at"]).order_by(tk.c.id))]
    if not exact:
        heads = [(node, seq) for node, seq, _hash in heads]
    return events, heads, tickets_


def _rolled_back(opened, fn, *, exact: bool):
    """Run ``fn(session)`` in a transaction, capture the result and the state, and roll everything back."""
    from sqlalchemy import func, select

    from hall.models import Event

    s = opened.db.session()
    try:
        s.begin()
        last = s.scalar(select(func.max(Event.id))) or 0
        result = fn(s)
        s.flush()
        state = _state(s, last, exact=exact)
        assert ledger.verify(s).ok
        return result, state
    finally:
        s.rollback()
        s.close()


def _varied_tickets(opened, people) -> list[str]:
    """Open tickets of every shape the recompute meets: working and natural days, provisional (into 2027),
    paused (still paused and resumed), a special step, an extension, supplemented later, same-day kinds."""
    from workflow_env import prepare

    from hall.services.cases import workflow

    who = prepare(opened, people)
    m = who["m01"]
    numbers = []
    for code, day in [("09", datetime(2026, 11, 20, 9)), ("09", datetime(2026, 12, 10, 9)),
                      ("03", datetime(2026, 12, 24, 9)), ("03", datetime(2026, 12, 28, 9)),
                      ("67", datetime(2026, 12, 4, 9)), ("68", datetime(2026, 11, 30, 9)),
                      ("21", datetime(2026, 12, 16, 9)), ("61", datetime(2026, 12, 29, 9)),
                      ("11", datetime(2026, 12, 21, 9)), ("09", datetime(2026, 12, 1, 9)),
                      ("09", datetime(2026, 12, 2, 9)), ("09", datetime(2026, 12, 3, 9)),
                      ("09", datetime(2026, 12, 7, 9)), ("67", datetime(2026, 12, 14, 9))]:
        numbers.append(_accept(opened, m, code, day))
    with opened.db.transaction() as s:
        workflow.pause(s, m, numbers[9], "补充收入证明", now=datetime(2026, 12, 4, 9))  # still paused
        workflow.pause(s, m, numbers[10], "补充收入证明", now=datetime(2026, 12, 4, 9))
        workflow.resume(s, m, numbers[10], now=datetime(2026, 12, 9, 9))
        workflow.special_start(s, m, numbers[11], "公示", "公示7日", now=datetime(2026, 12, 8, 9))
        workflow.extend(s, m, numbers[12], 5, "需入户核查", "m01", "manager-pass", now=datetime(2026, 12, 15, 9))
        workflow.pause(s, m, numbers[13], "补充调解材料", now=datetime(2026, 12, 16, 9))
    with opened.db.transaction() as s:  # one accepted only when its missing material arrives
        marks = {m_["name"]: "received" for m_ in catalog.current_item(s, "09").materials}
        marks[next(iter(marks))] = "missing"
        late = intake.register(s, m, intake.IntakeForm("09", ZHANG, materials=marks),
                               now=datetime(2026, 12, 11, 9)).number
    with opened.db.transaction() as s:
        tickets.supplement_received(s, m, late, now=datetime(2026, 12, 17, 9))
    return [*numbers, late]


def test_bulk_append_writes_exactly_what_appending_one_by_one_writes(hall_db, people):
    """Same rows (ids, hashes, payload text), same chain heads, same projections — byte for byte — for a type
    with a set-based projector and for one without (which falls back to its ordinary projector)."""
    from hall.services.base.actor import Actor

    numbers = [_accept(hall_db, people["m01"], "03", datetime(2026, 12, d, 9)) for d in (1, 2, 3, 4)]
    with hall_db.db.transaction() as s:
        uids = [tickets.get(s, n).uid for n in numbers]
    moved = [({"old": date(2026, 12, 8), "new": date(2026, 12, 9 + i), "old_provisional": False,
               "new_provisional": i % 2 == 1, "why": "地方节假日“测试”"}, uid) for i, uid in enumerate(uids)]
    voided = [({"reason": "重复登记（测试）", "from_state": "accepted"}, uids[0])]
    fresh_node = Actor(None, "系统", "system", "node-never-seen-before")  # no chain head yet
    batches = [(people["admin"], "ticket.deadline_changed", moved), (fresh_node, "ticket.deadline_changed", moved),
               (people["admin"], "ticket.voided", voided)]

    ids: list[list[str]] = []

    def one_by_one(s):
        for actor, type_, items in batches:
            ids.append([ledger.append(s, actor, type_, p, ticket_uid=u, at=AT).event_id for p, u in items])

    def in_bulk(s):
        for (actor, type_, items), event_ids in zip(batches, ids, strict=True):
            assert ledger.append_many(s, actor, type_, items, at=AT, event_ids=event_ids) == event_ids

    _, expected = _rolled_back(hall_db, one_by_one, exact=True)
    _, got = _rolled_back(hall_db, in_bulk, exact=True)
    events, heads, _rows = got
    assert len(events) == 9 and any(h[0] == "node-never-seen-before" and h[1] == 4 for h in heads)
    assert got == expected


def test_set_based_recompute_agrees_with_one_by_one_on_a_varied_ledger(hall_sqlite):
    """Paused, extended, special-step, natural-day, supplemented and provisional tickets, under random calendar
    changes (a local holiday, confirming 2027, or both): the same moves, events and ticket rows."""
    from hall_fixtures import actors_of
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from hall.services.calendar import workdays as calendar_service

    people = actors_of(hall_sqlite)
    numbers = _varied_tickets(hall_sqlite, people)
    admin = people["admin"]
    seen_moving: set[str] = set()
    weekends = [date(2027, 1, 2) + timedelta(days=7 * k + d) for k in range(8) for d in (0, 1)]

    @st.composite
    def changes(draw):
        out = []
        if draw(st.booleans()):
            first = draw(st.integers(1, 4))
            spring = date(2027, 2, 1) + timedelta(days=draw(st.integers(0, 10)))
            holidays = [{"name": "元旦", "start": "2027-01-01", "end": f"2027-01-0{first}"},
                        {"name": "春节", "start": spring.isoformat(),
                         "end": (spring + timedelta(days=draw(st.integers(0, 7)))).isoformat()}]
            makeup = [d.isoformat() for d in draw(st.lists(st.sampled_from(weekends), max_size=2, unique=True))
                      if not (date(2027, 1, 1) <= d <= date(2027, 1, first))
                      and not (spring <= d <= spring + timedelta(days=7))]
            out.append(("year", {"year": 2027, "notice": "测试用（非真实通知）", "holidays": holidays,
                                 "makeup_workdays": makeup}))
        if draw(st.booleans()) or not out:
            start = date(2026, 12, 1) + timedelta(days=draw(st.integers(0, 27)))  # December 2026: no rows yet
            out.append(("local", (start, start + timedelta(days=draw(st.integers(0, 3))))))
        return out

    def run(path, change):
        def fn(s):
            moved = []
            for what, arg in change:
                if what == "year":
                    notice = calendar_service.notice_from_dict(arg)
                    changed = calendar_service.set_year(s, admin, 2027, notice)
                    since, why = (min(changed) if changed else date(2027, 1, 1)), "确认2027年"
                else:
                    calendar_service.add_local_holiday(s, admin, arg[0], "测试节", end=arg[1])
                    since, why = arg[0], "地方节假日“测试节”"
                moved += path(s, admin, since=since, why=why)
            return moved
        return fn

    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(change=changes())
    def check(change):
        expected = _rolled_back(hall_sqlite, run(_recompute_one_by_one, change), exact=False)
        got = _rolled_back(hall_sqlite, run(recalc.recompute_open, change), exact=False)
        assert got == expected
        seen_moving.update(number for number, _old, _new in got[0])

    check()
    # The comparison covered the interesting shapes: provisional, paused, resumed, special step, extended,
    # natural days, supplemented later.
    assert {numbers[i] for i in (3, 4, 9, 10, 11, 12, 13, 14)} <= seen_moving


def test_recompute_reports_progress_and_writes_nothing_for_unmoved_tickets(hall_sqlite):
    from hall_fixtures import actors_of
    from sqlalchemy import func, select

    from hall.models import Event

    people = actors_of(hall_sqlite)
    _varied_tickets(hall_sqlite, people)
    seen = []
    with hall_sqlite.db.transaction() as s:
        before = s.scalar(select(func.count()).select_from(Event))
        assert recalc.recompute_open(s, people["admin"], since=date(2026, 1, 1), why="无变化",
                                     progress=lambda *a: seen.append(a)) == []
        assert s.scalar(select(func.count()).select_from(Event)) == before
    assert seen[0] == (0, 0, "读取在办件") and seen[-1] == (0, 0, "记录期限变化")
    seen.clear()
    with hall_sqlite.db.transaction() as s:
        _changed, moved = recalc.add_local_holiday(s, people["admin"], date(2026, 12, 22), "冬至（测试）",
                                                   progress=lambda *a: seen.append(a))
    assert moved and seen[-1] == (len(moved), len(moved), "记录期限变化")
    assert any(what.startswith("已重新计算") and done > 0 for done, _t, what in seen)


def test_an_interrupted_recompute_leaves_the_calendar_unchanged_too(hall_sqlite):
    """The calendar change and its recomputed deadlines are one unit: a failure half-way keeps neither."""
    from hall_fixtures import actors_of

    from hall.services.calendar import workdays as calendar_service

    people = actors_of(hall_sqlite)
    numbers = _varied_tickets(hall_sqlite, people)
    with hall_sqlite.db.transaction() as s:
        before = {n: tickets.get(s, n).due_date for n in numbers}

    def stop_when_writing(done, total, what):
        if what == "记录期限变化" and total:
            raise KeyboardInterrupt  # the person closed the program, the machine lost power …

    with pytest.raises(KeyboardInterrupt), hall_sqlite.db.transaction() as s:
        recalc.add_local_holiday(s, people["admin"], date(2026, 12, 22), "冬至（测试）", progress=stop_when_writing)
    with hall_sqlite.db.transaction() as s:
        assert calendar_service.WorkCalendar.load(s).is_workday(date(2026, 12, 22))
        assert {n: tickets.get(s, n).due_date for n in numbers} == before
        assert ledger.verify(s).ok


def test_a_pause_committed_meanwhile_on_postgresql_is_not_overwritten(hall_db, people):
    """PostgreSQL lets another counter commit while the recompute reads: a ticket about to move is locked and
    derived again from what it holds now (SQLite keeps every other writer out for the whole transaction)."""
    if hall_db.db.is_sqlite:
        pytest.skip("SQLite serialises writers with BEGIN IMMEDIATE; nothing can commit meanwhile")
    from workflow_env import prepare

    from hall.models import Item
    from hall.services.calendar import clock
    from hall.services.cases import workflow

    who = prepare(hall_db, people)
    number = _accept(hall_db, who["m01"], "09", datetime(2026, 12, 1, 9))
    other = _accept(hall_db, who["m01"], "09", datetime(2026, 12, 2, 9))
    paused: list[str] = []

    elsewhere = dataclasses.replace(who["m01"], node_id="counter-pc-2")  # another PC: its own chain

    def another_counter_pauses(_done, _total, what):
        if what.startswith("已重新计算") and not paused:
            with hall_db.db.transaction() as s2:
                workflow.pause(s2, elsewhere, number, "补充收入证明", now=datetime(2026, 12, 8, 9))
            paused.append(number)

    with hall_db.db.transaction() as s:
        _changed, moved = recalc.add_local_holiday(s, people["admin"], date(2026, 12, 10), "测试节",
                                                   progress=another_counter_pauses)
    assert paused and {n for n, _o, _d in moved} == {number, other}
    with hall_db.db.transaction() as s:
        cal = clock.calendar_for(s)
        for n in (number, other):
            t = tickets.get(s, n)
            assert (t.due_date, t.due_provisional) == clock.quick_due(
                cal, s.get_one(Item, t.item_id), t.kind, t.accepted_on, t.clock)
        assert [e["kind"] for e in tickets.get(s, number).clock] == ["pause"]
        assert ledger.verify(s).ok
