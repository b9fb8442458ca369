"""The hall's daily rules, run once a day (and safely again): nothing is decided silently, each is an event.

Deemed consent of silent co-departments, accountability for overdue tickets, unrated tickets per the local rule,
follow-ups after closure, B-posts for absent staff. Run by the hall node (the GUI at start-up and every hour,
or `hall-admin daily` from a scheduled task); village laptops leave it to the hall.

:func:`run` applies every rule in full inside the caller's transaction (tests, small ledgers). :func:`run_batched`
is what the program and `hall-admin daily` use: the same rules with the same results, but

- **incremental**: a sweep looks only at what came due or changed since its last completed run. Its progress is
  a ledger event (``daily.swept``) holding, per sweep, the day, the last sequence number of every node's chain it
  had seen (``upto``) and the span of days its date window has covered. A ticket row changes only through an
  event carrying its ``ticket_uid``, so a ticket with no event after ``upto`` is exactly as that run saw it: it
  was decided then, unless the day moved it into the rule (the part of today's window outside ``covered``). A
  sweep interrupted half-way wrote no mark, so the next run looks again from the previous one (each rule is
  idempotent); a PC off for days just has a wider span to look at.
- **in short transactions**: candidates are read in a read transaction (no write lock), then decided and
  written in batches of a few milliseconds each (re-checked inside, so another run or a counter that got there
  first is respected), with a pause between batches so a counter saving a ticket gets the lock at its next try.

Per-node sequence numbers, not event row ids, make the watermark: a node's events commit in sequence order on
either database (the node head row serialises them), while PostgreSQL may commit row ids out of order.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hall.errors import HallError
from hall.models import Event, NodeHead
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_supervisor
from hall.services.cases import bposts, joint, petition_steps
from hall.services.registers import accountability, followups, ratings
from hall.services.storage import ledger, runlock
from hall.services.storage.db import Database

log = logging.getLogger("hall.daily")

MARK_TYPE = "daily.swept"
# Event types whose projectors only add records, ratings, follow-ups or requests (which can only take a ticket
# out of a sweep, never bring one in) and leave the ticket row alone: the daily run's own output above all, so
# the day after a first run does not look at every ticket it recorded. Any type not listed counts as a change.
QUIET_TYPES = frozenset({
    "accountability.opened", "accountability.found", "rating.deemed", "rating.given", "rating.requested",
    "followup.scheduled", "followup.done", "rectification.opened", "rectification.verified", "rectification.done",
    MARK_TYPE,
})
BATCH_ITEMS = 200  # at most this many tickets per write transaction …
BATCH_SECONDS = 0.015  # … and about this much work, so a counter's save never waits long for the lock
# Between two batches the lock is left free for half the time the batch held it, and never less than
# PAUSE_SECONDS. A counter that found the lock taken tries again every millisecond (storage/db.py's
# _sqlite_begin; PostgreSQL queues it), so a few milliseconds let every waiting save in before the next batch;
# the pause was once as long as the batch (to outwait SQLite's backing-off busy handler), which made the run
# spend half its time asleep: 2.9 s of the next day's 3.97 s at 1M.
PAUSE_SECONDS = 0.003
PAUSE_SHARE = 0.5
REMARK_AFTER_EVENTS = 500  # a same-day run with nothing to do writes a new mark only after this many new events
PG_LOCK_KEY = 0x48414C4C_4441494C & 0x7FFFFFFFFFFFFFFF  # "HALLDAIL": one daily run at a time on a hall server

Progress = Callable[[int, int, str], None]
Span = tuple[date | None, date | None]  # [lo, hi) in days; None is unbounded
T = TypeVar("T")


@dataclass(frozen=True)
class DailyReport:
    day: date
    deemed_consents: int = 0
    accountability: int = 0
    unrated_settled: int = 0
    followups_scheduled: int = 0
    substitutions_started: int = 0
    tickets_to_b_posts: int = 0
    tickets_returned: int = 0
    warnings: tuple[str, ...] = field(default_factory=tuple)
    # 信访件 closed without their 回访 (from the ordinary ticket detail): scheduled by the rule now.
    petition_followups: int = 0
    # Not run: another PC (or another program on this PC) was running the rules; says who. Nothing was written.
    skipped: str = ""

    def lines(self) -> list[str]:
        if self.skipped:
            return [f"{self.day.isoformat()} 每日规则：{self.skipped}"]
        return [
            f"{self.day.isoformat()} 每日规则：",
            f"  逾期视为认可（联办）：{self.deemed_consents} 件",
            f"  超期办件责任追究记录：{self.accountability} 件",
            f"  逾期未评价按规定处理：{self.unrated_settled} 件",
            f"  办结回访已排期：{self.followups_scheduled} 件",
            f"  信访件回访已排期：{self.petition_followups} 件",
            f"  B岗顶岗：新开始 {self.substitutions_started} 起，移交办件 {self.tickets_to_b_posts} 件，"
            f"归还 {self.tickets_returned} 件",
            *[f"  提示：{w}" for w in self.warnings],
        ]


def run(session: Session, actor: Actor, today: date) -> DailyReport:
    """Every rule in full, in the caller's transaction (one write transaction: for tests and small ledgers)."""
    require_supervisor(actor, "执行每日规则")
    consents = joint.sweep_deemed_consent(session, actor, today)
    overdue = accountability.sweep_overdue(session, actor, today)
    unrated = ratings.sweep_unrated(session, actor, today)
    scheduled = followups.sweep_closed(session, actor, today)
    b = bposts.sweep(session, actor, today)
    petitions = petition_steps.schedule_missing_followups(session, actor)
    return DailyReport(today, len(consents), len(overdue), len(unrated), scheduled, len(b.started), len(b.moved),
                       len(b.returned), tuple(b.warnings), petition_followups=len(petitions))


# ------------------------------------------------------------------------------------------------ marks
@dataclass(frozen=True)
class Mark:
    """How far one sweep got: the day it ran for, each node's last sequence number it had seen, and the span of
    days its date window has covered so far (one contiguous span)."""

    day: date
    upto: dict[str, int]
    covered: Span

    def to_json(self) -> dict[str, Any]:
        return {"day": self.day, "upto": dict(sorted(self.upto.items())), "covered": list(self.covered)}

    @classmethod
    def from_json(cls, p: dict[str, Any]) -> Mark:
        lo, hi = p["covered"]
        return cls(date.fromisoformat(p["day"]), {str(k): int(v) for k, v in p["upto"].items()},
                   (date.fromisoformat(lo) if lo else None, date.fromisoformat(hi) if hi else None))


@ledger.projector(MARK_TYPE)
def _project_mark(session: Session, ev: Event, p: dict[str, Any]) -> None:
    """Progress marks are read back from the ledger itself (:func:`marks`); no current-state table holds them."""


_LATEST_MARK = (select(Event.payload).where(Event.ticket_uid.is_(None), Event.type == MARK_TYPE)
                .order_by(Event.id.desc()).limit(1))


def marks(session: Session) -> dict[str, Mark]:
    """The newest mark of every sweep: the newest ``daily.swept`` event carries them all.

    Found through ``ix_events_ticket`` (events with no ticket, newest first): only the few non-ticket events
    since the last run are stepped over.
    """
    payload = session.scalars(_LATEST_MARK).first()
    if payload is None:
        return {}
    return {name: Mark.from_json(m) for name, m in json.loads(payload)["marks"].items()}


def heads(session: Session) -> dict[str, int]:
    """Each node's last sequence number in this database (a skip scan of ``uq_events_node_seq``: a few index
    seeks per node, whatever the size of the ledger)."""
    out: dict[str, int] = {}
    last = ""
    while True:
        node = session.scalars(select(Event.node_id).where(Event.node_id > last).order_by(Event.node_id).limit(1)
                               ).first()
        if node is None:
            return out
        seq = session.scalars(select(Event.seq).where(Event.node_id == node).order_by(Event.seq.desc()).limit(1)
                              ).first()
        out[node] = int(seq or 0)
        last = node


def changed_since(session: Session, since: dict[str, int], upto: dict[str, int]) -> tuple[set[str], int]:
    """Tickets with an event after ``since`` (up to ``upto``) that may bring them into a sweep; and how many
    events were looked at."""
    uids: set[str] = set()
    count = 0
    for node, last in upto.items():
        first = since.get(node, 0)
        if last <= first:
            continue
        rows = session.execute(select(Event.ticket_uid, Event.type).where(
            Event.node_id == node, Event.seq > first, Event.seq <= last))
        for uid, type_ in rows:
            count += 1
            if uid is not None and type_ not in QUIET_TYPES:
                uids.add(uid)
    return uids, count


def minus(window: Span, covered: Span | None) -> list[Span]:
    """The parts of ``window`` outside ``covered`` (half-open spans of days, None unbounded)."""
    if covered is None:
        return [window]
    lo, hi = window
    clo, chi = covered
    out: list[Span] = []
    if clo is not None and (lo is None or lo < clo):
        out.append((lo, clo if hi is None else min(hi, clo)))
    if chi is not None and (hi is None or hi > chi):
        out.append((chi if lo is None else max(lo, chi), hi))
    return [(a, b) for a, b in out if a is None or b is None or a < b]


def merge(window: Span, covered: Span | None) -> Span:
    """The covered span after ``window`` was swept: both together if they touch, else the window alone."""
    if covered is None:
        return window
    (lo, hi), (clo, chi) = window, covered
    if (hi is not None and clo is not None and hi < clo) or (chi is not None and lo is not None and chi < lo):
        return window
    return (None if lo is None or clo is None else min(lo, clo), None if hi is None or chi is None else max(hi, chi))


# --------------------------------------------------------------------------------------------- sweeps
@dataclass(frozen=True)
class _Plan:
    """One sweep, set up on the day's read snapshot: its date window, how to find candidates, how to decide."""

    window: Span
    candidates: Callable[[Session, list[Span], set[str] | None], list[int]]
    apply: Callable[[Session, Actor, Sequence[int]], Any]


def _overdue_plan(_session: Session, today: date) -> _Plan:
    return _Plan(accountability.overdue_window(today),
                 lambda s, spans, touched: accountability.overdue_candidates(s, today, spans, touched),
                 lambda s, actor, ids: accountability.record_overdue(s, actor, today, ids))


def _unrated_plan(session: Session, today: date) -> _Plan:
    rule = ratings.unrated_rule(session, today)  # read once: the window and the decisions use the same rule
    return _Plan(rule.window,
                 lambda s, spans, touched: ratings.unrated_candidates(s, rule, spans, touched),
                 lambda s, actor, ids: ratings.settle_unrated(s, actor, rule, ids))


def _followup_plan(_session: Session, today: date) -> _Plan:
    return _Plan(followups.closure_window(today),
                 lambda s, spans, touched: followups.closed_candidates(s, today, spans, touched),
                 lambda s, actor, ids: followups.schedule_closed(s, actor, today, ids))


INCREMENTAL: dict[str, tuple[str, Callable[[Session, date], _Plan]]] = {
    "overdue": ("超期责任追究", _overdue_plan),
    "unrated": ("逾期未评价", _unrated_plan),
    "followups": ("办结回访排期", _followup_plan),
}


def run_batched(db: Database, actor: Actor, today: date, progress: Progress | None = None, *,
                full: bool = False) -> DailyReport:
    """The daily rules, incrementally and in short transactions (see the module docstring); opens its own
    transactions. ``progress(done, total, what)`` is told what is being done ("超期责任追究 1200/3077").
    ``full=True`` ignores the marks and looks at everything again (the results are the same)."""
    require_supervisor(actor, "执行每日规则")
    report = progress or (lambda _d, _t, _w: None)
    with _one_run_at_a_time(db) as claim:
        if not claim.held:
            who = claim.holder.describe() if claim.holder is not None else "另一台电脑"
            log.info("daily rules for %s skipped: another run holds the claim (%s)", today,
                     claim.holder.note("daily") if claim.holder is not None else "holder unknown")
            return DailyReport(today, skipped=f"{who}正在执行每日规则，本机未重复执行")
        log.info("daily rules for %s: this run holds the claim", today)
        with db.reading() as s:
            state = {} if full else marks(s)
        consents = _deemed_consents(db, actor, today, report)
        results: dict[str, list[Any]] = {}
        quiet = QuietRanges(actor.node_id)
        written: set[str] = set()
        for name, (label, plan) in INCREMENTAL.items():
            results[name] = _incremental(db, actor, today, report, name, label, plan, state, quiet, written)
        _carry_marks_forward(db, actor, today, state, quiet, written)
        b = _b_posts(db, actor, today, report)
        # 信访件 closed from the ordinary detail get their 回访 by the rule (a small table: one short transaction).
        with db.transaction() as s:
            petitions = petition_steps.schedule_missing_followups(s, actor)
    report(1, 1, "每日规则已完成")
    return DailyReport(today, len(consents), len(results["overdue"]), len(results["unrated"]),
                       sum(results["followups"]), len(b.started), len(b.moved), len(b.returned), tuple(b.warnings),
                       petition_followups=len(petitions))


def _deemed_consents(db: Database, actor: Actor, today: date, progress: Progress) -> list[Any]:
    # Not marked: pending copies past their deadline are an index range, and each leaves it once settled.
    with db.reading() as s:
        ids = joint.deemed_consent_candidates(s, today)
    chunks = in_batches(db, ids, lambda s, chunk: joint.deem_consent(s, actor, today, chunk), progress,
                        "逾期视为认可")
    return [c for chunk in chunks for c in chunk]


def _incremental(db: Database, actor: Actor, today: date, progress: Progress, name: str, label: str,
                 make: Callable[[Session, date], _Plan], state: dict[str, Mark], quiet: QuietRanges,
                 written: set[str]) -> list[Any]:
    progress(0, 0, f"{label}：查找待处理的办件")
    mark = state.get(name)
    with db.reading() as s:
        upto = heads(s)  # before the candidates: anything later is looked at next time
        plan = make(s, today)
        if mark is not None and any(upto.get(node, 0) < seq for node, seq in mark.upto.items()):
            # A mark that counts events this database does not have (it came with a copy or a sync from
            # another database): it proves nothing here, so this sweep looks at everything.
            mark = None
        if mark is None:
            seen, ids = 0, plan.candidates(s, [plan.window], None)
        else:
            touched, seen = changed_since(s, mark.upto, upto)
            ids = plan.candidates(s, minus(plan.window, mark.covered), touched)
    # Not durable: a lost batch's tickets are candidates again next run (the mark below is durable and comes
    # after them, so it is lost with them).
    done = in_batches(db, ids, lambda s, chunk: plan.apply(s, actor, chunk), progress, label, quiet, durable=False)
    flat = [r for chunk in done for r in (chunk if isinstance(chunk, list) else [chunk])]
    new = Mark(today, quiet.carry(upto), merge(plan.window, mark.covered if mark else None))
    if mark is None or mark.day != today or any(flat) or seen >= REMARK_AFTER_EVENTS:
        state[name] = new
        written.add(name)
        _write_marks(db, actor, today, state, quiet, name)
    return flat


def _write_marks(db: Database, actor: Actor, today: date, state: dict[str, Mark], quiet: QuietRanges,
                 sweep: str) -> None:
    with db.transaction() as s:
        ev = ledger.append(s, actor, MARK_TYPE, {"day": today, "sweep": sweep,
                                                 "marks": {k: v.to_json() for k, v in sorted(state.items())}})
    quiet.ranges.append((ev.seq - 1, ev.seq))  # the mark itself never brings a ticket in


def _carry_marks_forward(db: Database, actor: Actor, today: date, state: dict[str, Mark], quiet: QuietRanges,
                         written: set[str]) -> None:
    """After the last sweep, move this run's marks past what the later sweeps (and the marks) wrote: otherwise
    tomorrow's first sweep would read through today's thousands of records and ratings again."""
    moved = False
    for name in written:
        m = state[name]
        carried = quiet.carry(m.upto)
        if carried != m.upto:
            state[name], moved = Mark(m.day, carried, m.covered), True
    if moved:
        _write_marks(db, actor, today, state, quiet, "all")


class QuietRanges:
    """Spans ``(lo, hi]`` of one node's chain that hold only QUIET_TYPES events, seen by this run's own batches.

    A mark may be moved over such a span: none of its events can bring a ticket into a sweep, whoever wrote
    them. Each batch reads its node's head before and after its work (inside its write transaction) and the
    types in between — a handful of rows it has just written.
    """

    def __init__(self, node_id: str) -> None:
        self.node = node_id
        self.ranges: list[tuple[int, int]] = []

    def _head(self, session: Session) -> int:
        return int(session.scalars(select(NodeHead.seq).where(NodeHead.node_id == self.node)).first() or 0)

    def begin(self, session: Session) -> int:
        """Called first in a batch's write transaction: this node's head before the batch."""
        return self._head(session)

    def end(self, session: Session, before: int) -> tuple[int, int] | None:
        """Called last in the same transaction: the batch's span if it holds only quiet events (to be kept with
        ``ranges.append`` once the transaction has committed)."""
        after = self._head(session)
        if after > before:
            types = set(session.scalars(select(Event.type).where(
                Event.node_id == self.node, Event.seq > before, Event.seq <= after)))
            if types <= QUIET_TYPES:
                return before, after
        return None

    def carry(self, upto: dict[str, int]) -> dict[str, int]:
        """``upto`` with this node's sequence moved to the end of the quiet spans that start at or before it."""
        if self.node not in upto:
            return dict(upto)
        seq, moved = upto[self.node], True
        while moved:
            moved = False
            for lo, hi in self.ranges:
                if lo <= seq < hi:
                    seq, moved = hi, True
        return {**upto, self.node: seq}


def _b_posts(db: Database, actor: Actor, today: date, progress: Progress) -> bposts.SweepReport:
    # Not marked: it follows the day's attendance; the tickets it moves are those of today's substitutions.
    progress(0, 0, "B岗顶岗")
    with db.transaction() as s:
        report = bposts.start_and_end(s, actor, today)

    def step(fn: Callable[..., None]) -> Callable[[Session, Sequence[int]], bposts.SweepReport]:
        def apply(s: Session, chunk: Sequence[int]) -> bposts.SweepReport:
            part = bposts.SweepReport()  # per batch: a batch rolled back leaves nothing in the report
            fn(s, actor, today, chunk, part)
            return part
        return apply

    for find, fn, label in ((bposts.returns_pending, bposts.return_tickets, "B岗办件归还"),
                            (bposts.routing_candidates, bposts.route_tickets, "B岗办件移交")):
        with db.reading() as s:
            ids = find(s, today)
        for part in in_batches(db, ids, step(fn), progress, label):
            report.moved += part.moved
            report.returned += part.returned
    return report


def in_batches(db: Database, ids: Sequence[int], fn: Callable[[Session, Sequence[int]], T], progress: Progress,
               label: str, quiet: QuietRanges | None = None, *, durable: bool = True) -> list[T]:
    """Run ``fn(session, part)`` over ``ids`` in short write transactions of about BATCH_SECONDS of work each
    (at most BATCH_ITEMS ids); returns the result of every call.

    Inside a transaction ``fn`` is called on small parts (sized to a couple of milliseconds each) until the
    time is used up, so a run of expensive tickets after cheap ones never makes one long transaction. Between
    transactions the lock is left free for a share of the time it was held (PAUSE_SHARE). A transaction that
    collides with another run on PostgreSQL (a unique key written meanwhile) is rolled back and tried again: the
    re-check inside ``fn`` then sees the other run's rows, so nothing is written twice.

    ``durable=False``: the batches commit without waiting for the disk (``Database.transaction``) — for sweeps
    whose candidates are found again by the next run if a power cut loses them; the caller ends on a durable
    commit. A flush per batch was half the next day's run at 1M (6.5 ms a commit, 180 batches).
    """
    out: list[T] = []
    total, done = len(ids), 0
    step = [2]  # ids per call, carried from one transaction to the next
    if total:
        progress(0, total, f"{label} 0/{total}")
    while done < total:
        began = time.perf_counter()
        results, used = _with_retry(db, fn, ids, done, step, quiet, durable)
        held = time.perf_counter() - began
        out.extend(results)
        done += used
        progress(done, total, f"{label} {done}/{total}")
        if done < total:
            time.sleep(max(PAUSE_SECONDS, held * PAUSE_SHARE))
    return out


PART_SECONDS = 0.004  # the work of one call inside a transaction


_ATTEMPTS = 5  # a batch that collided with another run's is tried again (its re-check skips what that run did)


def _with_retry(db: Database, fn: Callable[[Session, Sequence[int]], T], ids: Sequence[int], start: int,
                step: list[int], quiet: QuietRanges | None, durable: bool = True) -> tuple[list[T], int]:
    """One write transaction over ``ids[start:]``: calls of ``fn`` until BATCH_SECONDS of work or BATCH_ITEMS
    ids; returns the results and how many ids it used."""
    for attempt in range(_ATTEMPTS):
        try:
            with db.transaction(durable=durable) as s:
                before = quiet.begin(s) if quiet is not None else 0
                began, results, i = time.perf_counter(), [], start
                limit = min(len(ids), start + BATCH_ITEMS)
                while i < limit:
                    part = ids[i:min(limit, i + step[0])]
                    t0 = time.perf_counter()
                    results.append(fn(s, part))
                    took = time.perf_counter() - t0
                    i += len(part)
                    # Towards PART_SECONDS a call (never more than double at once).
                    step[0] = max(1, min(2 * step[0], int(len(part) * PART_SECONDS / max(took, 1e-5))))
                    if time.perf_counter() - began >= BATCH_SECONDS:
                        break
                s.flush()
                span = quiet.end(s, before) if quiet is not None else None
            if quiet is not None and span is not None:
                quiet.ranges.append(span)  # committed
            return results, i - start
        except IntegrityError as exc:
            log.info("daily batch collided with another run, trying again (%s)", exc.__class__.__name__)
            if attempt == _ATTEMPTS - 1:
                raise HallError("每日规则与另一台电脑同时执行，部分办件本次未处理：请稍后再执行一次。") from exc
            # A random wait: two PCs that collided and waited alike would meet again on the same batch.
            time.sleep(random.uniform(0.02, 0.08) * (attempt + 1))
    raise AssertionError("unreachable")


@contextlib.contextmanager
def _one_run_at_a_time(db: Database) -> Iterator[runlock.Claim]:
    """One run at a time per ledger, whichever PCs (or programs on one PC) start it: a PostgreSQL advisory lock on
    a hall server, an OS file lock beside a SQLite ledger. Whoever finds it taken skips its run instead of doing
    the same work twice in interleaved batches (each batch would re-check, but both would write their marks and
    report halves of the work)."""
    with runlock.exclusive(db.engine, "daily", PG_LOCK_KEY) as claim:
        yield claim
