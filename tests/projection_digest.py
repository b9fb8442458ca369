"""Compare projections of two databases by natural keys, and replay a ledger into a fresh database (plain helpers
shared by tests).

A stand-in for ``hall-admin ledger digest`` / ``ledger check`` (being written on another branch, in
hall/services/ledger_check.py): every projection table's rows with their surrogate ids left out and every reference
to another table's surrogate id replaced by that row's natural key (a staff member's uid, an item's catalogue
version uid and code, a substitution's event id …), as a sorted list of canonical JSON lines. Two databases that
hold the same state give equal tables, whatever ids their rows happen to have.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from hall.models import Base, Event
from hall.models.legacy import FROZEN_TABLES
from hall.services import projections
from hall.services.storage import ledger
from hall.services.storage.db import Database
from hall.services.sync import conflicts as sync_conflicts

# Not projections: the ledger itself, what the upgrade froze, and what another branch makes come from events.
NOT_COMPARED = frozenset({"events", "node_heads", "ticket_serials", "alembic_version", "sync_exchanges", "sync_parked",
                          *FROZEN_TABLES})

# Each table's natural key, for rows other tables point at by surrogate id.
KEYS = {
    "staff": ("uid",), "catalog_versions": ("uid",), "items": ("version_id", "code"),
    "substitutions": ("event_id",), "circuit_visits": ("event_id",), "rectifications": ("event_id",),
    "ratings": ("event_id",), "complaints": ("number",),
}
# (table, column) -> the table whose surrogate id the column holds.
REFS = {
    ("staff", "b_post_id"): "staff", ("items", "version_id"): "catalog_versions",
    ("tickets", "item_id"): "items", ("tickets", "owner_id"): "staff", ("tickets", "first_owner_id"): "staff",
    ("attendance", "staff_id"): "staff",
    ("substitutions", "holder_id"): "staff", ("substitutions", "b_post_id"): "staff",
    ("substituted_tickets", "substitution_id"): "substitutions", ("substituted_tickets", "original_owner_id"): "staff",
    ("transfers", "from_owner_id"): "staff", ("transfers", "to_staff_id"): "staff",
    ("transfers", "decided_by_id"): "staff", ("accountability_records", "staff_id"): "staff",
    ("rating_requests", "rectification_id"): "rectifications", ("ratings", "rectification_id"): "rectifications",
    ("ratings", "staff_id"): "staff", ("rectifications", "rating_id"): "ratings",
    ("rectifications", "staff_id"): "staff", ("follow_ups", "rectification_id"): "rectifications",
    ("follow_ups", "complaint_id"): "complaints", ("complaints", "staff_id"): "staff",
    ("appointments", "staff_id"): "staff", ("circuit_visits", "staff_ids"): "staff",
    ("visit_tickets", "visit_id"): "circuit_visits",
}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def tables(session: Session, only: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Every projection table as sorted canonical lines, surrogate ids replaced by natural keys."""
    raw = {t.name: [dict(r._mapping) for r in session.execute(select(t))]
           for t in Base.metadata.sorted_tables if t.name not in NOT_COMPARED}
    natural: dict[str, dict[int, Any]] = {}

    def key_of(table: str, row_id: Any) -> Any:
        if row_id is None or row_id == 0:
            return row_id  # ratings.rectification_id is 0 for "none"
        if table not in natural:
            natural[table] = {}
            for r in raw[table]:
                parts = [key_of(REFS[(table, k)], r[k]) if (table, k) in REFS else r[k] for k in KEYS[table]]
                natural[table][r["id"]] = parts[0] if len(parts) == 1 else parts
        return natural[table].get(row_id, f"<missing {table} {row_id}>")

    out = {}
    for name in sorted(only if only is not None else raw):
        lines = []
        for r in raw[name]:
            row = {}
            for col, value in r.items():
                if col == "id":
                    continue
                target = REFS.get((name, col))
                if target is not None:
                    value = [key_of(target, v) for v in value] if isinstance(value, list) else key_of(target, value)
                row[col] = _plain(value)
            lines.append(json.dumps(row, ensure_ascii=False, sort_keys=True, default=str))
        out[name] = sorted(lines)
    return out


def digest(session: Session) -> str:
    return hashlib.sha256(json.dumps(tables(session), ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def differences(a: dict[str, list[str]], b: dict[str, list[str]], limit: int = 5) -> list[str]:
    """The first lines in which two :func:`tables` results differ, for an assertion message."""
    out = []
    for name in sorted(set(a) | set(b)):
        only_a = sorted(set(a.get(name, [])) - set(b.get(name, [])))
        only_b = sorted(set(b.get(name, [])) - set(a.get(name, [])))
        out += [f"{name} only in first: {line}" for line in only_a[:limit]]
        out += [f"{name} only in second: {line}" for line in only_b[:limit]]
    return out


def empty_hall(folder: Path) -> Database:
    """A migrated database with the projections installed and nothing else: the calendar's seeding, like everything
    else, arrives with the events replayed into it."""
    folder.mkdir(parents=True, exist_ok=True)
    return projections.install(Database.open(f"sqlite:///{folder / 'hall.sqlite3'}"))


def replay(source: Session, target: Database, order: list[Event] | None = None) -> None:
    """Copy ``source``'s ledger (its events and what the upgrade froze) into ``target`` and apply every event, in
    ledger order or in ``order``."""
    events = order if order is not None else list(source.scalars(select(Event).order_by(Event.id)))
    frozen = {name: [dict(r._mapping) for r in source.execute(select(Base.metadata.tables[name]))]
              for name in FROZEN_TABLES}
    columns = [c.name for c in Event.__table__.columns if c.name != "id"]
    with target.transaction() as s:
        for name, rows in frozen.items():
            if rows:
                s.execute(insert(Base.metadata.tables[name]), rows)
        nodes: dict[str | None, set[str]] = {}
        for ev in events:
            nodes.setdefault(ev.ticket_uid, set()).add(ev.node_id)
        for ev in events:
            values = {c: getattr(ev, c) for c in columns}
            new_id = s.execute(insert(Event.__table__).returning(Event.__table__.c.id), values).scalar_one()
            if ev.ticket_uid is not None and len(nodes[ev.ticket_uid]) > 1:
                # A ticket more than one node acted on passes the sync conflict gate, as its import did.
                sync_conflicts.admit(s, {**values, "id": new_id}, json.loads(ev.payload))
            else:
                ledger.apply(s, ev, json.loads(ev.payload))
