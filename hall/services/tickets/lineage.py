"""A ticket event's parent named by content: the hash of the event it was built on (``parent_head``).

``parent_version`` (an integer) tells one database's compare-and-set which version an action saw. Between two
nodes it is not enough: after a fork both branches count the same integers, so an event written on the branch a
resolution did not keep can carry exactly the number the kept branch has reached, and would seem to follow it
(hall/services/sync/conflicts.py). So every event :func:`hall.services.tickets.record.append_event` writes on a
ticket that can have events of more than one node also names its parent by the hash of the ticket's **head**: its
last *effective* version-moving event (``ticket.received``, or the last event carrying ``parent_version``; not one
a sync conflict holds or keeps as 未生效).

Only a village point's tickets get it (:func:`may_fork`). A ticket registered at the hall (intake point 000) only
ever has events of the hall's own database: a laptop neither takes (the return bundle carries only its own
village's tickets) nor acts on (its staff may act on their own point's tickets only) a hall ticket, so its events
never meet another node's and the compare-and-set on the one database orders them. A counter's save on a hall ticket
pays nothing; an action on a village ticket pays one indexed query (the ticket's events, newest first, stopping at
the first version-moving one). Events written before this, or by the demo's stand-in for a laptop, carry no
``parent_head`` and keep the integer rule.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, or_, select

from hall.models import Event, Ticket
from hall.models.sync import SyncHeldEvent

PARENT = "parent_version"  # the payload key naming the ticket version an event was based on
PARENT_HEAD = "parent_head"  # the payload key naming, by its hash, the ticket event it was built on
RECEIVED = "ticket.received"
HALL_POINT = "000"  # the hall's own intake point: its tickets never have another node's events

_E = Event.__table__
_T = Ticket.__table__
_HELD = SyncHeldEvent.__table__
# ``"parent_version"`` with both quotes can only be the key in the stored JSON (a quote inside a string value is
# escaped, so a text mentioning the word never matches): a prefilter, confirmed on the parsed payload.
_CANDIDATES = (select(_E.c.id, _E.c.hash, _E.c.type, _E.c.payload)
               .where(_E.c.ticket_uid == bindparam("uid"),
                      or_(_E.c.type == RECEIVED, _E.c.payload.contains(f'"{PARENT}"', autoescape=True)),
                      _E.c.event_id.not_in(select(_HELD.c.event_id).where(_HELD.c.ticket_uid == bindparam("uid"))))
               .order_by(_E.c.id.desc()))
_HEAD = _CANDIDATES
_HEAD_BEFORE = _CANDIDATES.where(_E.c.id < bindparam("before"))


def may_fork(intake_point: str | None) -> bool:
    """Whether a ticket of ``intake_point`` can have events of more than one node (see the module docstring)."""
    return intake_point != HALL_POINT


def moves_version(type: str, payload: Mapping[str, Any]) -> bool:
    """An event of the ticket's lineage: its intake, or one naming the version it was based on."""
    return type == RECEIVED or PARENT in payload


def head(conn: Connection, ticket_uid: str, *, before: int | None = None) -> str | None:
    """The hash of ticket ``ticket_uid``'s last effective version-moving event (of those stored before local id
    ``before``: what the sync gate saw when that event arrived, at import and at every replay alike)."""
    stmt, params = (_HEAD, {"uid": ticket_uid}) if before is None else \
        (_HEAD_BEFORE, {"uid": ticket_uid, "before": before})
    result = conn.execute(stmt, params)
    try:
        for _id, digest, type_, payload in result:  # newest first: almost always the first row
            if moves_version(type_, json.loads(payload)):
                return str(digest)
        return None
    finally:
        result.close()  # the rest unread


def open_heads(conn: Connection, ticket_uids: Collection[str]) -> dict[str, str]:
    """:func:`head` of each of ``ticket_uids`` that may fork, for a bulk writer over open tickets (a deadline
    recomputation): the open village tickets are few beside the hall's, found by one query, then one each."""
    if not ticket_uids:
        return {}
    village = conn.scalars(select(_T.c.uid).where(_T.c.is_open, _T.c.intake_point != HALL_POINT))
    found = {}
    for uid in sorted(set(village) & set(ticket_uids)):
        named = head(conn, uid)
        if named is not None:
            found[uid] = named
    return found
