"""The one registry of projections: which function applies each event type, built in one place.

Projector functions live beside the services that append their events (``@ledger.projector("ticket.closed")``
only marks a function). This module lists every module that holds projectors, collects the marked functions
into one :class:`~hall.services.storage.ledger.Projections` and installs it on an opened database
(:func:`install`, called by :func:`hall.services.bootstrap.open_hall`). A session of a database without it
cannot append or apply anything, and an event type missing here is refused before it is written — so no script,
benchmark or sync import can project differently from the program just because it imported fewer modules.

Sits above every service package: it imports them all and nothing imports it except the composition roots.
"""

from __future__ import annotations

import functools
import inspect
from types import ModuleType

from hall.services.calendar import workdays
from hall.services.cases import (
    bposts,
    daily,
    joint,
    petition,
    petition_dates,
    petition_steps,
    proxy,
    recalc,
    rederive,
    routing,
    workflow,
)
from hall.services.catalog import items
from hall.services.people import attendance, staff
from hall.services.registers import (
    accountability,
    appointments,
    complaints,
    followups,
    inspection,
    rating_channel,
    ratings,
    reception,
)
from hall.services.reporting import papers, queue, stats
from hall.services.storage import anchor, settings
from hall.services.storage.db import Database
from hall.services.storage.ledger import BulkProjector, Projections, Projector, folds_of, marked
from hall.services.sync import conflicts as sync_conflicts
from hall.services.sync import peers as sync_peers
from hall.services.tickets import fees, intake, record, supplement_notice

# Every module that defines projectors, from the bottom of the package order up.
MODULES: tuple[ModuleType, ...] = (
    settings, workdays, items, staff, attendance, intake, record, supplement_notice, fees,
    accountability, inspection, followups, complaints, rating_channel, ratings, appointments,
    workflow, proxy, joint, routing, bposts, recalc, rederive, daily, sync_peers, sync_conflicts,
    reception, petition, petition_steps, petition_dates,  # 涉法信访
)

# Events that change no current-state table: the ledger keeps them as the audit trail (who printed a paper, who
# looked at a full ID number, who exported the ticket ledger) and nothing else reads them into a table.
# A node's signed chain head too: it is checked against the chain (anchor.check), never projected.
RECORDED_ONLY: frozenset[str] = frozenset({papers.PRINT_EVENT, queue.REVEAL_EVENT, stats.LEDGER_EXPORT_EVENT,
                                           anchor.HEAD_SIGNED})


def collect(modules: tuple[ModuleType, ...] = MODULES,
            recorded_only: frozenset[str] = RECORDED_ONLY) -> Projections:
    """The projections of ``modules``: each marked function of each module (defined there, not imported)."""
    one: dict[str, Projector] = {}
    many: dict[str, BulkProjector] = {}
    folds: dict[str, str] = {}
    for module in modules:
        for _name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__:
                continue
            singles, bulks = marked(fn)
            for event_type in singles:
                if event_type in one:
                    raise RuntimeError(f"two projectors for {event_type}: {_where(one[event_type])} and {_where(fn)}")
                one[event_type] = fn
            for event_type in bulks:
                if event_type in many:
                    raise RuntimeError(f"two set-based projectors for {event_type}")
                many[event_type] = fn
            folds.update(folds_of(fn))
    return Projections(one, many, recorded_only, folds)


@functools.cache
def build() -> Projections:
    """The program's projections (built once per process)."""
    return collect()


def install(db: Database) -> Database:
    """Make every session of ``db`` project through the program's projections."""
    db.install(build())
    return db


def _where(fn: object) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}"
