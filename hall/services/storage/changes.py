"""What an operation changed, derived from the events it appended (Anki's ``OpChanges``, told by the ledger).

Every mutation is a ledger event, so the most reliable account of what a unit of work changed is the list of
``(event type, ticket uid)`` it committed: each event type says which parts of the hall it touches
(:data:`EFFECTS`). :meth:`Changes.from_events` turns such a list into one small immutable :class:`Changes`; the
UI announces it once after every successful operation and each screen decides whether it concerns it. The same
list can come from anywhere — this program's own transactions (:func:`recording`), or, on the hall LAN, other
counters' events received by PostgreSQL LISTEN/NOTIFY — and gives the same answer.

:func:`recording` collects what the transactions of the current thread *commit* while it is active: the ledger
notes each appended event on its session (:func:`note`), and the note is handed over when that session commits
(a rolled-back transaction, or a retried batch, changed nothing and reports nothing). Outside a recording
(the CLI, the benchmarks) noting costs one context-variable lookup.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

# What a screen can care about besides tickets: the registers (one name per register page or panel) and the
# hall's reference data.
ACCOUNTABILITY = "accountability"
COMPLAINTS = "complaints"
FOLLOWUPS = "followups"
RATINGS = "ratings"
RECTIFICATIONS = "rectifications"
APPOINTMENTS = "appointments"
VISITS = "visits"
TRANSFERS = "transfers"
ESCALATIONS = "escalations"
ATTENDANCE = "attendance"
BPOSTS = "bposts"
PETITIONS = "petitions"  # 信访 cases and the leaders' reception schedule
REGISTERS = frozenset({ACCOUNTABILITY, COMPLAINTS, FOLLOWUPS, RATINGS, RECTIFICATIONS, APPOINTMENTS, VISITS,
                       TRANSFERS, ESCALATIONS, ATTENDANCE, BPOSTS, PETITIONS})
FLAGS = ("catalog", "calendar", "settings", "staff")

TICKET = "ticket"  # the ticket's own record changed (state, due date, owner, window, kind …)
# Every event that names a ticket adds it to ``history`` (its detail shows the event); TICKET adds it to
# ``tickets`` as well. An event without TICKET (a print, a follow-up done) leaves the ticket lists as they were.

EFFECTS: dict[str, frozenset[str]] = {t: frozenset(parts) for t, parts in {
    # the ticket's own life
    "ticket.received": (TICKET,), "ticket.started": (TICKET,), "ticket.closed": (TICKET,),
    "ticket.voided": (TICKET,), "ticket.supplemented": (TICKET,), "ticket.withdrawn": (TICKET,),
    "ticket.kind_changed": (TICKET,), "ticket.clock": (TICKET,), "ticket.delivered": (TICKET,),
    "ticket.reassigned": (TICKET,), "ticket.deadline_changed": (TICKET,),
    "ticket.printed": (), "ticket.id_revealed": (),
    "ticket.fee_charged": (),  # the ticket's history (and the receipt paper), not its record
    "proxy.forwarded": (TICKET,), "proxy.reference": (), "proxy.returned": (TICKET,),
    "joint.copied": (TICKET,), "joint.opinion": (TICKET,), "joint.deemed_consent": (TICKET,),
    "routing.transfer_requested": (TICKET, TRANSFERS), "routing.transfer_accepted": (TICKET, TRANSFERS),
    "routing.transfer_declined": (TRANSFERS,),
    "routing.escalated": (TICKET, ESCALATIONS), "routing.decided": (TICKET, ESCALATIONS),
    "supplement.requested": (), "supplement.due_changed": (),
    "joint.due_changed": (TICKET,), "proxy.due_changed": (TICKET,),
    # the registers
    "accountability.opened": (ACCOUNTABILITY,), "accountability.found": (ACCOUNTABILITY,),
    "inspection.finding_recorded": (ACCOUNTABILITY,),
    "complaint.registered": (COMPLAINTS,), "complaint.answered": (COMPLAINTS,),
    "followup.scheduled": (FOLLOWUPS,), "followup.done": (FOLLOWUPS,),
    "rating.requested": (RATINGS,),
    # a second rating closes the rectification it followed
    "rating.given": (RATINGS, RECTIFICATIONS), "rating.deemed": (RATINGS, RECTIFICATIONS),
    "rectification.opened": (RECTIFICATIONS,), "rectification.verified": (RECTIFICATIONS,),
    "rectification.done": (RECTIFICATIONS,), "rectification.due_changed": (RECTIFICATIONS,),
    "complaint.due_changed": (COMPLAINTS,), "followup.due_changed": (FOLLOWUPS,),
    "appointment.moved": (APPOINTMENTS,),
    "appointment.booked": (APPOINTMENTS,), "appointment.kept": (APPOINTMENTS,),
    "appointment.closed": (APPOINTMENTS,),
    "visit.planned": (VISITS,), "visit.ticket_tagged": (VISITS,), "visit.finished": (VISITS,),
    "attendance.marked": (ATTENDANCE,),
    "bpost.started": (BPOSTS,), "bpost.ended": (BPOSTS,),
    "bpost.reassigned": (TICKET, BPOSTS), "bpost.returned": (TICKET, BPOSTS),
    # 涉法信访: the case's own records (the ticket's record is changed only by the ticket events it also appends)
    "petition.registered": (PETITIONS,), "petition.accept_decided": (PETITIONS,),
    "petition.agent_added": (PETITIONS,), "petition.four_fixed": (PETITIONS,),
    "petition.feedback_given": (PETITIONS,), "petition.hearing_recorded": (PETITIONS,),
    "petition.transferred": (PETITIONS,), "petition.transfer_answered": (PETITIONS,),
    "petition.followups_scheduled": (PETITIONS,), "petition.followup_done": (PETITIONS,),
    "petition.due_changed": (PETITIONS,),
    "reception.slot_posted": (PETITIONS,), "reception.booked": (PETITIONS,), "reception.cancelled": (PETITIONS,),
    # the hall's reference data
    "calendar.year_set": ("calendar",), "calendar.local_holiday_added": ("calendar",), "calendar.seeded": ("calendar",),
    "catalog.imported": ("catalog",),
    "settings.changed": ("settings",),
    "staff.added": ("staff",), "staff.b_post_set": ("staff",), "intake_point.added": ("staff",),
    "intake_point.changed": ("staff",),
    "staff.changed": ("staff",), "staff.active_set": ("staff",),
    "staff.password_set": (), "staff.password_reset": (),  # nothing any screen shows
    # bookkeeping: nothing on screen changes
    "daily.swept": (), "report.ledger_exported": (),
    "ledger.head_signed": (),  # a node's signed chain head (hall/services/storage/anchor.py)
    "rating.screen_enrolled": (),  # a node's rating screen key (nothing on a staff screen shows it)
    # village-laptop sync: the enrolled peers and a laptop's join (its serial floor)
    "sync.peer_enrolled": (), "sync.peer_revoked": (), "sync.joined": (),
    # a resolved sync conflict: the ticket is projected again with the kept branch
    "sync.conflict_resolved": (TICKET,),
}.items()}

MAX_TICKETS = 5000  # more tickets than this in one change is told as "all tickets" (a recomputation, a resync)


@dataclass(frozen=True)
class Changes:
    """What one operation (or a burst of them, merged with ``|``) changed. Empty: nothing any screen shows."""

    tickets: frozenset[str] = frozenset()  # uids of tickets whose record changed
    history: frozenset[str] = frozenset()  # uids of tickets with a new event (every one of ``tickets`` too)
    registers: frozenset[str] = frozenset()  # names from REGISTERS
    catalog: bool = False
    calendar: bool = False
    settings: bool = False
    staff: bool = False  # staff, their B-posts, the intake points
    all_tickets: bool = False  # which tickets is not known (too many, or an event type this version does not know)

    @classmethod
    def everything(cls) -> Changes:
        """What a screen must assume when it cannot know (an unknown event type, a reconnect after a gap)."""
        return cls(registers=REGISTERS, catalog=True, calendar=True, settings=True, staff=True, all_tickets=True)

    @classmethod
    def from_events(cls, events: Iterable[tuple[str, str | None]]) -> Changes:
        """The changes told by ``(event type, ticket uid)`` pairs — this node's own or another's."""
        tickets: set[str] = set()
        history: set[str] = set()
        parts: set[str] = set()
        unknown = False
        for type_, uid in events:
            effect = EFFECTS.get(type_)
            if effect is None:
                unknown = True  # a newer program's event: assume the worst rather than miss a change
                if uid:
                    tickets.add(uid)
                    history.add(uid)
                continue
            if uid:
                history.add(uid)
                if TICKET in effect:
                    tickets.add(uid)
            parts |= effect
        made = cls(tickets=frozenset(tickets), history=frozenset(history),
                   registers=frozenset(parts & REGISTERS), **{f: f in parts for f in FLAGS})
        return made | cls.everything() if unknown else made._bounded()

    def _bounded(self) -> Changes:
        if len(self.history) > MAX_TICKETS:
            return replace(self, tickets=frozenset(), history=frozenset(), all_tickets=True)
        return self

    def __or__(self, other: Changes) -> Changes:
        if not isinstance(other, Changes):
            return NotImplemented
        return Changes(self.tickets | other.tickets, self.history | other.history, self.registers | other.registers,
                       self.catalog or other.catalog, self.calendar or other.calendar,
                       self.settings or other.settings, self.staff or other.staff,
                       self.all_tickets or other.all_tickets)._bounded()

    def __bool__(self) -> bool:
        return bool(self.history or self.registers or self.catalog or self.calendar or self.settings or self.staff
                    or self.all_tickets)

    @property
    def any_tickets(self) -> bool:
        """Some ticket's record changed: a ticket list (queue, counts) may look different."""
        return self.all_tickets or bool(self.tickets)

    def concerns_ticket(self, uid: str) -> bool:
        """Something about this ticket changed (its record, or only its history)."""
        return self.all_tickets or uid in self.history

    def touches(self, *registers: str) -> bool:
        return any(r in self.registers for r in registers)


# ----------------------------------------------------------------------------------------------- recording
@dataclass
class Recorder:
    """The events committed while a :func:`recording` is active, in commit order."""

    events: list[tuple[str, str | None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def committed(self, events: list[tuple[str, str | None]]) -> None:
        with self._lock:
            self.events.extend(events)

    def changes(self) -> Changes:
        with self._lock:
            return Changes.from_events(self.events)


_CURRENT: ContextVar[Recorder | None] = ContextVar("hall_changes_recorder", default=None)
_KEY = "hall.changes"  # session.info: (recorder, events appended in the session's current transaction)
_installed = False
_install_lock = threading.Lock()


WROTE = "hall.wrote"  # session.info: this transaction appended events (the hall LAN's NOTIFY is sent at commit)


class Announced:
    """The ids of events this program's own operations committed (or are committing) while recorded: those are
    announced by the operation itself, so the live feed (:mod:`hall.services.storage.live`), which reads every
    new event of the ledger, leaves them out instead of announcing them a second time. Kept only while a feed
    runs (nobody would take them out otherwise), and bounded."""

    LIMIT = 200_000

    def __init__(self) -> None:
        self._ids: dict[str, None] = {}
        self._lock = threading.Lock()
        self._feeds = 0

    @property
    def enabled(self) -> bool:
        return self._feeds > 0

    def enable(self) -> None:
        with self._lock:
            self._feeds += 1

    def disable(self) -> None:
        with self._lock:
            self._feeds = max(0, self._feeds - 1)
            if not self._feeds:
                self._ids.clear()

    def add(self, event_ids: Iterable[str]) -> None:
        with self._lock:
            self._ids.update(dict.fromkeys(event_ids))
            while len(self._ids) > self.LIMIT:  # ids of events never read back (committed before the feed began)
                del self._ids[next(iter(self._ids))]

    def discard(self, event_ids: Iterable[str]) -> None:
        with self._lock:
            for event_id in event_ids:
                self._ids.pop(event_id, None)

    def take(self, event_id: str) -> bool:
        """True (and forgotten) when the event is one of ours, already announced."""
        with self._lock:
            return self._ids.pop(event_id, False) is None


ANNOUNCED = Announced()


def note(session: Any, type_: str, ticket_uid: str | None, event_id: str | None = None) -> None:
    """Called by the ledger for each appended event: kept on the session until it commits."""
    session.info[WROTE] = True
    rec = _CURRENT.get()
    if rec is None:
        return
    pending = session.info.get(_KEY)
    if pending is None or pending[0] is not rec:
        pending = session.info[_KEY] = (rec, [], [])
    pending[1].append((type_, ticket_uid))
    if event_id is not None and ANNOUNCED.enabled:
        # Before the commit, not after it: the feed may read the committed event before after_commit runs here.
        pending[2].append(event_id)
        ANNOUNCED.add((event_id,))


def note_many(session: Any, type_: str, ticket_uids: Iterable[str | None],
              event_ids: Iterable[str] | None = None) -> None:
    session.info[WROTE] = True
    if _CURRENT.get() is None:
        return
    if event_ids is None:
        for uid in ticket_uids:
            note(session, type_, uid)
        return
    for uid, event_id in zip(ticket_uids, event_ids, strict=True):
        note(session, type_, uid, event_id)


def _committed(session: Any) -> None:
    got = session.info.pop(_KEY, None)
    if got is not None:
        got[0].committed(got[1])


def _rolled_back(session: Any) -> None:
    got = session.info.pop(_KEY, None)  # nothing of it happened
    if got is not None and got[2]:
        ANNOUNCED.discard(got[2])


def _install() -> None:
    """Listen for commits and rollbacks of every session (once per process, on the first recording)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        from sqlalchemy import event
        from sqlalchemy.orm import Session

        event.listen(Session, "after_commit", _committed)
        event.listen(Session, "after_rollback", _rolled_back)
        _installed = True


@contextmanager
def recording() -> Iterator[Recorder]:
    """Collect what this thread's transactions commit inside the block (any number of them)."""
    _install()
    rec = Recorder()
    token = _CURRENT.set(rec)
    try:
        yield rec
    finally:
        _CURRENT.reset(token)
