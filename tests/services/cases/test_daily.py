"""The daily rules: run together as the system, idempotent; the batched, incremental run decides exactly what the
full rules decide — over days with the PC off, a run killed half-way, a changed local rule — in short
transactions, and two processes running it at once duplicate nothing."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hall_fixtures import actors_of
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select

from hall.errors import PermissionDenied
from hall.models import Event, Ticket
from hall.models.workflow import AccountabilityRecord, FollowUp, JointCopy, Rating, Substitution
from hall.services.cases import bposts, daily, joint, workflow
from hall.services.catalog import items as catalog
from hall.services.storage import ledger, runlock
from hall.services.storage import settings as hall_settings
from hall.services.tickets import intake, rules
from hall.services.tickets import record as tickets

ZHANG = intake.ApplicantForm("person", "11010519491231002X", "张三")
MONDAY = date(2026, 3, 2)


def test_daily_rules_are_idempotent_and_supervised(hall_db, people):
    with hall_db.db.transaction() as s:
        marks = {m["name"]: "received" for m in catalog.current_item(s, "03").materials}
        intake.register(s, people["m01"], intake.IntakeForm("03", ZHANG, materials=marks),
                        now=datetime(2026, 6, 1, 9))  # due 2026-06-08
    with pytest.raises(PermissionDenied), hall_db.db.transaction() as s:
        daily.run(s, people["c02"], date(2026, 6, 10))
    with pytest.raises(PermissionDenied):
        daily.run_batched(hall_db.db, people["c02"], date(2026, 6, 10))
    with hall_db.db.transaction() as s:
        first = daily.run(s, hall_db.system, date(2026, 6, 10))
        events = s.scalar(select(func.count()).select_from(Event))
    assert first.accountability == 1
    assert "超期办件责任追究记录：1 件" in "\n".join(first.lines())
    with hall_db.db.transaction() as s:
        again = daily.run(s, hall_db.system, date(2026, 6, 10))
        assert s.scalar(select(func.count()).select_from(Event)) == events
    assert (again.accountability, again.deemed_consents, again.followups_scheduled) == (0, 0, 0)
    batched = daily.run_batched(hall_db.db, hall_db.system, date(2026, 6, 10))
    assert (batched.accountability, batched.deemed_consents, batched.followups_scheduled) == (0, 0, 0)


# ------------------------------------------------------------------------------------ a hall's days
@dataclass
class Hall:
    opened: object
    who: dict

    @property
    def db(self):
        return self.opened.db  # type: ignore[attr-defined]


def _open_copy(template: Path, where: Path) -> Hall:
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall
    from hall.services.people import staff

    shutil.copytree(template, where)
    opened = open_hall(Paths.resolve(where))
    people = actors_of(opened)
    with opened.db.transaction() as s:
        staff.add_staff(s, opened.system, staff.StaffForm("c05", "周卫健", "clerk", "卫健窗口", "W05",
                                                          b_post_no="c02"))
        people["c05"] = staff.actor_for(staff.by_number(s, "c05"), opened.node)
    return Hall(opened, people)


ACTIONS = ("promised", "promised", "village", "joint", "close", "close_raw", "pause", "resume", "absent",
           "present", "answer", "rule")


def _act(h: Hall, day: date, k: int, action: str) -> None:
    """One thing that happens at the hall on ``day`` (the same on every copy: everything is keyed by number)."""
    at = datetime.combine(day, datetime.min.time()) + timedelta(hours=9, minutes=k)
    who = h.who
    with h.db.transaction() as s:
        open_numbers = list(s.scalars(select(Ticket.number).where(Ticket.is_open).order_by(Ticket.id)))
        if action in ("promised", "village", "joint"):
            code, actor = {"promised": ("03", "m01"), "village": ("61", "v01"), "joint": ("37", "c05")}[action]
            actor = who[actor]
            marks = {m["name"]: "received" for m in catalog.current_item(s, code).materials}
            r = intake.register(s, actor, intake.IntakeForm(code, ZHANG, materials=marks), now=at)
            if action == "joint":
                joint.copy(s, who["c05"], r.number, [joint.CopyRequest("县医保中心"),
                                                    joint.CopyRequest("派出所户籍室")], now=at)
        elif action == "close" and open_numbers:
            number = open_numbers[k % len(open_numbers)]
            t = tickets.get(s, number)
            if t.state not in ("supplement", "awaiting_opinions") and t.kind != "joint" \
                    and not rules.open_stop(t, "pause"):
                workflow.close(s, who["m01"], number, "approved", "准予办理", now=at)
        elif action == "close_raw" and open_numbers:
            # A closure that did not pass through workflow.close (an on-the-spot one, or one synced in): no
            # follow-up scheduled, so the daily safety net must find it.
            t = tickets.get(s, open_numbers[0])
            if t.kind != "joint" and t.state != "supplement" and not rules.open_stop(t, "pause"):
                ledger.append(s, who["m01"], "ticket.closed", {
                    "state": "approved", "result": "准予办理", "on_time": t.due_date is None or day <= t.due_date,
                    "result_doc_no": ""}, ticket_uid=t.uid, at=at)
        elif action == "pause" and open_numbers:
            t = tickets.get(s, open_numbers[-1])
            if t.state == "accepted" and t.kind == "promised" and not rules.open_stop(t, "pause"):
                workflow.start(s, who["m01"], t.number, now=at)
                workflow.pause(s, who["m01"], t.number, "等待补正材料", now=at)
        elif action == "resume":
            paused = [n for n in open_numbers if rules.open_stop(tickets.get(s, n), "pause")]
            if paused:
                workflow.resume(s, who["m01"], paused[0], now=at)
        elif action in ("absent", "present"):
            bposts.mark_attendance(s, who["m01"], "c05", "leave" if action == "absent" else "present", day=day, now=at)
        elif action == "answer":
            pending = s.scalars(select(JointCopy).where(JointCopy.state == "pending").order_by(JointCopy.id)).first()
            if pending is not None and pending.due_on >= day:
                joint.record_opinion(s, who["c05"], pending.id, "agree", "", "协办部门经办人", now=at)
        elif action == "rule":
            days = (3, 7, 12)[k % 3]
            hall_settings.set_values(s, who["admin"], {"unrated_days": days})


def _snapshot(h: Hall) -> dict[str, set]:
    """What the rules decide, by natural keys (ticket numbers, not uids or row ids)."""
    with h.db.reading() as s:
        number = dict(s.execute(select(Ticket.uid, Ticket.number)).all())

        def key(text: str) -> str:
            return re.sub(r"[0-9a-f-]{36}", lambda m: number.get(m.group(0), m.group(0)), text)

        return {
            "records": {(key(r.source_key), r.cause, r.staff_id, r.window_code, r.occurred_on, r.detail)
                        for r in s.scalars(select(AccountabilityRecord))},
            "ratings": {(number[r.ticket_uid], r.stage, r.level, r.source, r.staff_id, r.rated_at)
                        for r in s.scalars(select(Rating))},
            "followups": {(key(f.source_key), f.reason, f.due_on, f.state) for f in s.scalars(select(FollowUp))},
            "copies": {(number[c.ticket_uid], c.department, c.round, c.state, c.answered_on)
                       for c in s.scalars(select(JointCopy))},
            "tickets": {(t.number, t.state, t.owner_id, t.is_open, t.version) for t in s.scalars(select(Ticket))},
            "substitutions": {(x.holder_id, x.b_post_id, x.started_on, x.ended_on)
                              for x in s.scalars(select(Substitution))},
        }


class Killed(Exception):
    """The PC switched off in the middle of a run."""


def _killer(after: int):
    calls = {"n": 0}

    def progress(done: int, total: int, what: str) -> None:
        if total and done:  # a batch has just been committed
            calls["n"] += 1
            if calls["n"] > after:
                raise Killed(what)

    return progress


day_plan = st.tuples(
    st.sampled_from((True, True, False)),  # the PC is on that day (mostly)
    st.one_of(st.none(), st.integers(min_value=0, max_value=3)),  # killed after this many batches, run again
    st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=8),
)
ON, OFF = True, False


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(days=st.lists(day_plan, min_size=3, max_size=7), gap=st.integers(min_value=1, max_value=9))
# A week the hall works through: intake at the hall and in a village, the PC off over a long weekend while
# tickets fall due and are closed late, closures outside workflow.close, a run killed half-way, the unrated rule
# shortened then lengthened, a joint case left unanswered, a B-post standing in.
@example(days=[(ON, None, ["promised", "promised", "village", "promised"]), (OFF, None, ["close", "pause"]),
               (ON, 1, ["close_raw", "close", "joint"]), (ON, 0, ["rule", "resume", "promised"]),
               (OFF, None, ["absent", "close_raw"]), (ON, None, ["rule", "rule", "present", "close"]),
               (ON, 2, ["village", "close", "close_raw"])], gap=9)
@example(days=[(ON, None, ["promised", "joint", "village"]), (ON, None, ["answer"]), (ON, None, ["close_raw"]),
               (OFF, None, ["close"]), (ON, 0, ["absent", "promised"]), (ON, None, ["close", "present"])], gap=4)
def test_batched_incremental_run_decides_what_the_full_rules_decide(_sqlite_template, tmp_path_factory, days, gap):
    where = tmp_path_factory.mktemp("days")
    full, batched = _open_copy(_sqlite_template, where / "full"), _open_copy(_sqlite_template, where / "batched")
    try:
        day = MONDAY
        for i, (on, kill, actions) in enumerate(days):
            for k, action in enumerate(actions):
                for h in (full, batched):
                    _act(h, day, k, action)
            if on:
                with full.db.transaction() as s:
                    expect = daily.run(s, full.opened.system, day)
                if kill is not None:
                    with contextlib.suppress(Killed):  # (a run with fewer batches ends before the kill)
                        daily.run_batched(batched.db, batched.opened.system, day, _killer(kill))
                got = daily.run_batched(batched.db, batched.opened.system, day)
                if kill is None:
                    assert got == expect
                assert _snapshot(batched) == _snapshot(full), (i, day)
            # Days pass; sometimes many (a long holiday with the PC off, deadlines falling due meanwhile).
            day += timedelta(days=gap if i % 2 else 1)
    finally:
        full.db.dispose()
        batched.db.dispose()


def test_incremental_run_looks_only_at_what_changed_or_came_due(hall_sqlite):
    """The second day's run never reads the tickets decided the day before (it grows with the day's work, not
    with the ledger's history)."""
    h = Hall(hall_sqlite, actors_of(hall_sqlite))
    for k in range(30):
        _act(h, MONDAY, k, "promised")
    with h.db.reading() as s:
        late = list(s.scalars(select(Ticket.number).order_by(Ticket.id)))[:20]
    with h.db.transaction() as s:
        for n in late:
            workflow.close(s, h.who["m01"], n, "approved", "准予办理", now=datetime(2026, 3, 20, 10))
    first = daily.run_batched(h.db, h.opened.system, date(2026, 3, 23))
    assert first.accountability == 30  # 20 closed late, 10 still open and overdue
    _act(h, date(2026, 3, 24), 0, "promised")  # one new ticket, not yet due
    selected: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "FROM tickets" in statement:
            selected.append(statement)

    event.listen(h.db.engine, "before_cursor_execute", seen)
    try:
        again = daily.run_batched(h.db, h.opened.system, date(2026, 3, 24))
    finally:
        event.remove(h.db.engine, "before_cursor_execute", seen)
    assert again.accountability == 0
    with h.db.reading() as s:
        assert daily.marks(s)["overdue"].day == date(2026, 3, 24)
    # No statement selected the whole overdue history: every ticket query was bounded by the day range or by
    # the uids of the tickets that changed.
    for sql in selected:
        assert any(bound in sql for bound in ("IN (", "due_date >=", "closed_at <", "accepted_on >=")), sql


def test_progress_is_reported_in_chinese_with_counts(hall_sqlite):
    h = Hall(hall_sqlite, actors_of(hall_sqlite))
    for k in range(5):
        _act(h, MONDAY, k, "promised")
    seen: list[tuple[int, int, str]] = []
    daily.run_batched(h.db, h.opened.system, date(2026, 3, 23), lambda d, t, w: seen.append((d, t, w)))
    assert (5, 5, "超期责任追究 5/5") in seen
    assert seen[-1] == (1, 1, "每日规则已完成")


def test_write_transactions_stay_short(hall_sqlite, monkeypatch):
    """No write transaction decides more than BATCH_ITEMS tickets (here 7, on 40 overdue tickets), nor goes on
    past BATCH_SECONDS of work (here 0: one call per transaction, each call sized to PART_SECONDS = 0: one ticket
    after the first call's two)."""
    h = Hall(hall_sqlite, actors_of(hall_sqlite))
    for k in range(40):
        _act(h, MONDAY, k, "promised")
    decided: list[int] = []  # tickets recorded per write transaction
    original = daily.accountability.record_overdue

    def counting(session, actor, today, ids, **kw):
        out = original(session, actor, today, ids, **kw)
        decided[-1] += len(out)
        return out

    def begin(_conn):
        decided.append(0)

    monkeypatch.setattr(daily.accountability, "record_overdue", counting)
    monkeypatch.setattr(daily, "BATCH_ITEMS", 7)
    event.listen(h.db.engine, "begin", begin)
    try:
        assert daily.run_batched(h.db, h.opened.system, date(2026, 3, 23)).accountability == 40
        assert sum(decided) == 40 and max(decided) <= 7
        monkeypatch.setattr(daily, "BATCH_SECONDS", 0.0)
        monkeypatch.setattr(daily, "PART_SECONDS", 0.0)
        for k in range(40, 52):
            _act(h, MONDAY, k, "promised")
        decided.clear()
        assert daily.run_batched(h.db, h.opened.system, date(2026, 3, 24)).accountability == 12
        assert sum(decided) == 12 and max(decided) <= 2 and len([d for d in decided if d]) == 11
    finally:
        event.remove(h.db.engine, "begin", begin)


def test_span_arithmetic():
    d = date
    assert daily.minus((None, d(2026, 3, 5)), (None, d(2026, 3, 2))) == [(d(2026, 3, 2), d(2026, 3, 5))]
    assert daily.minus((None, d(2026, 3, 1)), (None, d(2026, 3, 2))) == []
    # The unrated window moved back (a longer rule) and forward past a long break.
    assert daily.minus((d(2026, 1, 1), d(2026, 3, 1)), (d(2026, 2, 1), d(2026, 4, 1))) == [
        (d(2026, 1, 1), d(2026, 2, 1))]
    assert daily.minus((d(2026, 6, 1), d(2026, 9, 1)), (d(2026, 2, 1), d(2026, 4, 1))) == [
        (d(2026, 6, 1), d(2026, 9, 1))]
    assert daily.merge((d(2026, 6, 1), d(2026, 9, 1)), (d(2026, 2, 1), d(2026, 4, 1))) == (d(2026, 6, 1),
                                                                                            d(2026, 9, 1))
    assert daily.merge((d(2026, 3, 1), d(2026, 5, 1)), (d(2026, 2, 1), d(2026, 4, 1))) == (d(2026, 2, 1),
                                                                                            d(2026, 5, 1))
    assert daily.merge((d(2026, 3, 1), None), (d(2026, 2, 1), None)) == (d(2026, 2, 1), None)


# ------------------------------------------------------------------------- two PCs at once (SQLite)
CHILD = textwrap.dedent("""
    import sys
    from datetime import date
    from pathlib import Path
    from hall.paths import Paths
    from hall.services.cases import daily
    from hall.services.bootstrap import open_hall

    opened = open_hall(Paths.resolve(Path(sys.argv[1])))
    Path(sys.argv[2]).touch()
    while not Path(sys.argv[3]).exists():
        pass
    report = daily.run_batched(opened.db, opened.system, date(2026, 3, 23))
    print(report.accountability)
    opened.db.dispose()
""")


def test_two_processes_running_the_rules_at_once_duplicate_nothing(hall_sqlite, tmp_path):
    h = Hall(hall_sqlite, actors_of(hall_sqlite))
    for k in range(120):
        _act(h, MONDAY, k, "promised")
    data = Path(hall_sqlite.db.engine.url.database).parent  # type: ignore[arg-type]
    go = tmp_path / "go"
    procs = []
    for i in range(2):
        ready = tmp_path / f"ready{i}"
        procs.append((ready, subprocess.Popen([sys.executable, "-c", CHILD, str(data), str(ready), str(go)],
                                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    deadline = datetime.now() + timedelta(seconds=60)
    while not all(r.exists() for r, _ in procs) and datetime.now() < deadline:
        pass
    go.touch()
    outs = [p.communicate(timeout=120) for _, p in procs]
    assert [p.returncode for _, p in procs] == [0, 0], outs
    assert all("Traceback" not in err for _, err in outs), outs
    assert sum(int(out.strip()) for out, _ in outs) == 120  # each ticket recorded by exactly one of them
    with h.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(AccountabilityRecord)) == 120
        assert s.scalar(select(func.count()).where(Event.type == "accountability.opened")) == 120


# --------------------------------------------------------------------------- two PCs at once (PostgreSQL)
@pytest.mark.pg
def test_two_pcs_on_one_server_duplicate_nothing(hall_db):
    """Two hall PCs start the rules at the same moment: one runs them, the other is told and writes nothing;
    every batch that did collide is retried, never a raw IntegrityError."""
    import threading

    if hall_db.db.engine.dialect.name != "postgresql":
        pytest.skip("the SQLite case is the two-process test above")
    h = Hall(hall_db, actors_of(hall_db))
    for k in range(80):
        _act(h, MONDAY, k, "promised")
    reports: list[daily.DailyReport] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def pc() -> None:
        try:
            start.wait()
            reports.append(daily.run_batched(hall_db.db, hall_db.system, date(2026, 3, 23)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=pc) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert sum(r.accountability for r in reports) == 80
    with h.db.reading() as s:
        assert s.scalar(select(func.count()).where(Event.type == "accountability.opened")) == 80
    # Without the advisory lock (two runs really interleaving) the re-check and the retry still hold.
    for k in range(80, 110):
        _act(h, MONDAY, k, "promised")
    lock = daily._one_run_at_a_time
    daily._one_run_at_a_time = lambda _db: contextlib.nullcontext(runlock.Claim(True))  # type: ignore[assignment]
    try:
        reports.clear()
        threads = [threading.Thread(target=pc) for _ in range(2)]
        start.reset()
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        daily._one_run_at_a_time = lock  # type: ignore[assignment]
    assert errors == []
    assert sum(r.accountability for r in reports) == 30
    with h.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(AccountabilityRecord)) == 110
        assert s.scalar(select(func.count()).where(Event.type == "accountability.opened")) == 110


def test_a_mark_counting_events_this_database_lacks_is_not_trusted(hall_sqlite):
    """A mark from another database (a later copy, a sync) names sequence numbers this one has not reached:
    the sweep then looks at everything rather than skip what it never saw."""
    h = Hall(hall_sqlite, actors_of(hall_sqlite))
    _act(h, MONDAY, 0, "promised")
    with h.db.reading() as s:
        upto = daily.heads(s)
    foreign = daily.Mark(date(2026, 3, 20), {n: seq + 1000 for n, seq in upto.items()}, (None, date(2026, 3, 20)))
    with h.db.transaction() as s:
        ledger.append(s, h.opened.system, daily.MARK_TYPE, {"day": date(2026, 3, 20), "sweep": "overdue",
                                                            "marks": {"overdue": foreign.to_json()}})
    assert daily.run_batched(h.db, h.opened.system, date(2026, 3, 23)).accountability == 1
