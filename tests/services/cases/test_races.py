"""Per-ticket concurrency: counters acting on one ticket at the same moment, on SQLite and on PostgreSQL.

Each race is run many times on real databases. Every side is its own counter (its own node, its own connection,
its own thread): it reads the ticket's version as its screen showed it, all sides meet at a barrier, then each
runs the service in its own transaction with that version. On PostgreSQL the locked load of the second waits for
the first to commit and then reads the new version; on SQLite BEGIN IMMEDIATE does the waiting. Exactly one
side must win every time, the others must be told who changed the ticket, when and to what, and afterwards the
ledger check (rebuild and compare) must equal the live tables.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import func, select
from workflow_env import ZHANG, all_received, prepare

from hall.errors import ConflictError
from hall.models import Event, Ticket
from hall.services import ledger_check
from hall.services.base.states import STATE_LABELS
from hall.services.cases import routing, workflow
from hall.services.people import staff
from hall.services.storage import ledger
from hall.services.storage.node import NodeIdentity
from hall.services.tickets import intake
from hall.services.tickets import record as tickets

REPEAT = 40
DAY = datetime(2026, 3, 3)
MESSAGE = re.compile(r"^该办件已被 (\S+) 于 (\d\d:\d\d) 更新为“(.+)”，请查看后重试$")

# One side of a race: (session, actor, ticket number, the version the clerk saw, when) -> None.
Action = Callable[..., object]


@dataclass
class Outcome:
    side: int
    error: BaseException | None


@pytest.fixture
def env(hall_db, people):
    who = prepare(hall_db, people)
    return hall_db, who


def _counter(opened, staff_no: str, n: int):
    """``staff_no`` acting at counter ``n``: a node of its own, as every counter PC of a hall is."""
    with opened.db.reading() as s:
        return staff.actor_for(staff.by_number(s, staff_no), NodeIdentity(f"counter-{n:02d}", "000"))


def _tickets(opened, actor, count: int, *, started: bool) -> list[str]:
    """``count`` promised tickets (临时救助, W02) registered on 2 March, accepted or already in progress."""
    numbers = []
    with opened.db.transaction() as s:
        form = intake.IntakeForm("09", ZHANG, materials=all_received(s, "09"))
        for i in range(count):
            r = intake.register(s, actor, form, now=datetime(2026, 3, 2, 9, i % 60))
            assert r.state == "accepted"
            numbers.append(r.number)
            if started:
                workflow.start(s, actor, r.number, now=datetime(2026, 3, 2, 10))
    return numbers


def _race(opened, number: str, sides: list[tuple[object, Action, datetime]]) -> list[Outcome]:
    """Run the sides at once on ``number``; each reads the version first, as the clerk's open dialog did."""
    barrier = threading.Barrier(len(sides))
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def run(i: int, actor, action: Action, at: datetime) -> None:
        error: BaseException | None = None
        try:
            with opened.db.reading() as s:
                seen = tickets.get(s, number).version
            barrier.wait(timeout=30)
            with opened.db.transaction() as s:
                action(s, actor, number, seen, at)
        except BaseException as exc:  # every outcome is checked by the caller
            error = exc
        with lock:
            outcomes.append(Outcome(i, error))

    threads = [threading.Thread(target=run, args=(i, a, f, at)) for i, (a, f, at) in enumerate(sides)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert not any(th.is_alive() for th in threads), "a side never finished (deadlock?)"
    return sorted(outcomes, key=lambda o: o.side)


def _check_one_winner(opened, number: str, outcomes: list[Outcome], sides) -> int:
    """Exactly one side won; every other was told, by name and time, what the winner made of the ticket."""
    winners = [o.side for o in outcomes if o.error is None]
    unexpected = [o.error for o in outcomes if o.error is not None and not isinstance(o.error, ConflictError)]
    assert not unexpected, unexpected
    assert len(winners) == 1, [str(o.error) for o in outcomes]
    won = winners[0]
    actor, _action, at = sides[won]
    with opened.db.reading() as s:
        state = tickets.get(s, number).state
    for o in outcomes:
        if o.side == won:
            continue
        m = MESSAGE.match(str(o.error))
        assert m, str(o.error)
        assert m.groups() == (actor.name, f"{at:%H:%M}", STATE_LABELS[state]), str(o.error)
    return won


def _assert_ledger_matches(opened) -> None:
    report = ledger_check.check(opened.db, limit=10)
    assert report.ok, report.replay_error or [ledger_check.describe(d) for d in report.comparison.differences]


def _events(opened, numbers: list[str], types: tuple[str, ...]) -> dict[str, int]:
    with opened.db.reading() as s:
        rows = s.execute(select(Ticket.number, func.count(Event.id))
                         .join(Event, Event.ticket_uid == Ticket.uid)
                         .where(Ticket.number.in_(numbers), Event.type.in_(types))
                         .group_by(Ticket.number)).all()
    return dict(rows)


# ------------------------------------------------------------------------------------------ the sides
def _close(outcome: str, result: str) -> Action:
    def act(s, actor, number, seen, at):
        workflow.close(s, actor, number, outcome, result, now=at, expected_version=seen)
    return act


def _void(s, actor, number, seen, at):
    tickets.void(s, actor, number, "重复登记，作废", expected_version=seen, now=at)


def _pause(s, actor, number, seen, at):
    workflow.pause(s, actor, number, "补充收入证明", now=at, expected_version=seen)


def _transfer(s, actor, number, seen, at):
    routing.request_transfer(s, actor, number, "W03", "属社保事项", "申请书等材料原件3份", now=at,
                             expected_version=seen)


def _start(s, actor, number, seen, at):
    workflow.start(s, actor, number, now=at, expected_version=seen)


def _two_sided(env, first: Action, second: Action, types: tuple[str, ...], *, started: bool = True) -> None:
    opened, who = env
    clerk, manager = _counter(opened, "c02", 1), _counter(opened, "m01", 2)
    numbers = _tickets(opened, who["c02"], REPEAT, started=started)
    wins = [0, 0]
    for i, number in enumerate(numbers):
        # Who reaches the ticket first is up to the threads; the times tell the two apart in the message.
        sides = [(clerk, first, DAY.replace(hour=10, minute=i % 60)),
                 (manager, second, DAY.replace(hour=11, minute=i % 60))]
        wins[_check_one_winner(opened, number, _race(opened, number, sides), sides)] += 1
    # One of the racing events per ticket, never two.
    assert _events(opened, numbers, types) == dict.fromkeys(numbers, 1)
    assert sum(wins) == REPEAT
    _assert_ledger_matches(opened)


def test_close_against_void(env):
    _two_sided(env, _close("approved", "同意救助"), _void, ("ticket.closed", "ticket.voided"))


def test_close_approved_against_close_rejected(env):
    _two_sided(env, _close("approved", "同意救助"), _close("rejected", "不符合救助条件"), ("ticket.closed",))


def test_pause_against_close(env):
    _two_sided(env, _pause, _close("approved", "同意救助"), ("ticket.clock", "ticket.closed"))
    opened, _who = env
    with opened.db.reading() as s:  # never a closed ticket with its clock still paused
        paused_and_closed = [t.number for t in s.scalars(select(Ticket).where(~Ticket.is_open))
                             if any(e["kind"] == "pause" for e in t.clock)]
    assert paused_and_closed == []


def test_transfer_against_close(env):
    _two_sided(env, _transfer, _close("approved", "同意救助"), ("routing.transfer_requested", "ticket.closed"))


def test_eleven_counters_start_one_ticket(env):
    opened, who = env
    counters = [_counter(opened, "c02" if n % 2 else "m01", n) for n in range(11)]
    numbers = _tickets(opened, who["c02"], REPEAT, started=False)
    for i, number in enumerate(numbers):
        sides = [(a, _start, DAY.replace(hour=8 + n, minute=i % 60)) for n, a in enumerate(counters)]
        _check_one_winner(opened, number, _race(opened, number, sides), sides)
    assert _events(opened, numbers, ("ticket.started",)) == dict.fromkeys(numbers, 1)
    _assert_ledger_matches(opened)


def test_the_projection_refuses_an_event_on_a_stale_version(env):
    """Even a path that skipped the locked load cannot record a lost update: two transactions both append an
    event based on the version they read, the compare-and-set in SQL lets exactly one through."""
    opened, who = env
    numbers = _tickets(opened, who["c02"], REPEAT, started=False)
    counters = [_counter(opened, "c02", 1), _counter(opened, "m01", 2)]

    def unlocked_start(s, actor, number, seen, at):
        t = tickets.get(s, number)  # no lock, no version check: only the projection stands in the way
        ledger.append(s, actor, "ticket.started", {"from_state": "accepted", "to": "in_progress", "reason": "",
                                                   tickets.PARENT: seen}, ticket_uid=t.uid, at=at)

    for i, number in enumerate(numbers):
        sides = [(a, unlocked_start, DAY.replace(hour=9 + n, minute=i % 60)) for n, a in enumerate(counters)]
        _check_one_winner(opened, number, _race(opened, number, sides), sides)
    assert _events(opened, numbers, ("ticket.started",)) == dict.fromkeys(numbers, 1)
    _assert_ledger_matches(opened)
