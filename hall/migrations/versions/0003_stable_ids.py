"""stable identities and deterministic projections: event format 2, staff and catalogue uids, frozen release-1 values

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 14:00:00

Release 1's events stay exactly as written (their payloads and headers are hashed) and still verify as format 1.
What they left implicit is frozen here, once, from the projections release 1 built, so any later replay of them
gives what they gave (hall/models/legacy.py):

- ``events.format`` (1 for every existing event) and ``events.actor_uid`` (set only by format 2);
- ``staff.uid``: uuid5(NAMESPACE, the ``staff.added`` event id), exactly what the projector derives for an old
  event; ``catalog_versions.uid`` likewise from its ``catalog.imported`` event;
- ``legacy_staff`` / ``legacy_items``: what release 1's staff and item row ids mean; ``legacy_items`` and
  ``legacy_initials`` keep the pinyin initials release 1 computed (the installed pypinyin may answer otherwise);
- the projections whose rule changed are recomputed from the events by the new rule, so a rebuild agrees with
  them: applicants (per field, newest by occurred_at then event id; an empty value never wins), attendance (the
  newest mark of a day) and the confirmation time of a calendar year (the event's own naive time, not a
  conversion through this machine's time zone).

One pass over the ``ticket.received`` events, in batches of 20,000 (1.7 s for the 20,000-ticket benchmark ledger on
the 2-core benchmark machine under load, most of it reading and parsing the payloads: about 85 s per million
tickets, after the backup copy; memory grows with the number of distinct applicants, ~300 bytes each). Added
columns are plain ``ADD COLUMN`` (no copy of the large tables on SQLite); the two small tables get unique indexes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# hall.services.storage.identity.NAMESPACE (a test keeps the two equal). Never change it: uids derive from it.
NAMESPACE = uuid.UUID("241c2440-1f37-48a1-ad0f-06b68f3aab3a")
BATCH = 20_000

_events = sa.table(
    "events", sa.column("id", sa.Integer), sa.column("event_id", sa.String), sa.column("type", sa.String),
    sa.column("occurred_at", sa.DateTime), sa.column("actor_name", sa.String), sa.column("payload", sa.Text),
)


def _uid(event_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, event_id))


def _stamp(at: datetime, event_id: str) -> str:
    # hall.services.storage.ledger.stamp
    return f"{at.isoformat(timespec='microseconds')}|{event_id}"


def _of_type(bind: sa.Connection, type_: str) -> Iterator[tuple[str, datetime, str, dict[str, Any]]]:
    """(event id, occurred_at, actor name, payload) of one type's events in ledger order, in batches (keyset on
    the primary key: memory stays flat)."""
    last = 0
    while True:
        rows = bind.execute(sa.select(_events.c.id, _events.c.event_id, _events.c.occurred_at, _events.c.actor_name,
                                      _events.c.payload)
                            .where(_events.c.type == type_, _events.c.id > last)
                            .order_by(_events.c.id).limit(BATCH)).all()
        if not rows:
            return
        for r in rows:
            yield r.event_id, r.occurred_at, r.actor_name, json.loads(r.payload)
        last = rows[-1].id


def upgrade() -> None:
    bind = op.get_bind()
    _columns()
    _legacy_tables()
    _staff_uids(bind)
    _catalog_uids(bind)
    bind.execute(sa.text("INSERT INTO legacy_staff (legacy_id, uid) SELECT id, uid FROM staff"))
    bind.execute(sa.text(
        "INSERT INTO legacy_items (legacy_id, catalog_version_uid, code, initials) "
        "SELECT i.id, v.uid, i.code, i.initials FROM items i JOIN catalog_versions v ON v.id = i.version_id"))
    bind.execute(sa.text(
        "INSERT INTO legacy_initials (event_id, initials) "
        "SELECT e.event_id, t.applicant_initials FROM events e JOIN tickets t ON t.uid = e.ticket_uid "
        "WHERE e.type = 'ticket.received'"))
    op.create_index("ix_staff_uid", "staff", ["uid"], unique=True)
    op.create_index("ix_catalog_versions_uid", "catalog_versions", ["uid"], unique=True)
    _applicants(bind)
    _attendance(bind)
    _calendar_years(bind)


def _columns() -> None:
    op.add_column("events", sa.Column("format", sa.Integer(), server_default="1", nullable=False))
    op.add_column("events", sa.Column("actor_uid", sa.String(length=36), nullable=True))
    op.add_column("staff", sa.Column("uid", sa.String(length=36), server_default="", nullable=False))
    op.add_column("catalog_versions", sa.Column("uid", sa.String(length=36), server_default="", nullable=False))
    for name in ("name_stamp", "phone_stamp", "address_stamp"):
        op.add_column("applicants", sa.Column(name, sa.String(length=64), server_default="", nullable=False))
    op.add_column("attendance", sa.Column("stamp", sa.String(length=64), server_default="", nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        # Release 1 stored the confirmation converted to UTC; the value is set again from its event below.
        # (SQLite keeps both as the same text: nothing to change there.)
        op.alter_column("calendar_years", "confirmed_at", type_=sa.DateTime(), existing_nullable=True,
                        existing_type=sa.DateTime(timezone=True), postgresql_using="confirmed_at AT TIME ZONE 'UTC'")


def _legacy_tables() -> None:
    op.create_table(
        "legacy_staff",
        sa.Column("legacy_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("legacy_id", name=op.f("pk_legacy_staff")),
    )
    op.create_table(
        "legacy_items",
        sa.Column("legacy_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("catalog_version_uid", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("initials", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("legacy_id", name=op.f("pk_legacy_items")),
    )
    op.create_table(
        "legacy_initials",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("initials", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_legacy_initials")),
    )


def _staff_uids(bind: sa.Connection) -> None:
    # A staff number is unique and every staff row was written by its staff.added event.
    by_no = {p["staff_no"]: _uid(event_id) for event_id, _at, _who, p in _of_type(bind, "staff.added")}
    for row_id, staff_no in bind.execute(sa.text("SELECT id, staff_no FROM staff")).all():
        # A row no event wrote (none in a ledger of release 1) still gets a uid of its own.
        uid = by_no.get(staff_no) or str(uuid.uuid5(NAMESPACE, f"staff-row:{staff_no}"))
        bind.execute(sa.text("UPDATE staff SET uid = :uid WHERE id = :id"), {"uid": uid, "id": row_id})


def _catalog_uids(bind: sa.Connection) -> None:
    # Versions were written one per catalog.imported event, in ledger order: pair them in that order, checking
    # each pair's content hash and time; a version that does not pair gets a uid of its own.
    unused = [(event_id, at, p["hash"]) for event_id, at, _who, p in _of_type(bind, "catalog.imported")]
    versions = sa.table("catalog_versions", sa.column("id", sa.Integer), sa.column("created_at", sa.DateTime),
                        sa.column("content_hash", sa.String))
    for row_id, created, content_hash in bind.execute(sa.select(versions.c.id, versions.c.created_at,
                                                                versions.c.content_hash).order_by(versions.c.id)):
        match = next((e for e in unused if e[2] == content_hash and e[1] == created), None)
        if match is not None:
            unused.remove(match)
            uid = _uid(match[0])
        else:
            uid = str(uuid.uuid5(NAMESPACE, f"catalog-version-row:{row_id}"))
        bind.execute(sa.text("UPDATE catalog_versions SET uid = :uid WHERE id = :id"), {"uid": uid, "id": row_id})


def _applicants(bind: sa.Connection) -> None:
    """Every applicant row by the new rule, from the ticket.received events (what a replay now computes)."""
    frozen = sa.table("legacy_initials", sa.column("event_id", sa.String), sa.column("initials", sa.String))
    best: dict[str, dict[str, Any]] = {}
    last = 0
    while True:
        rows = bind.execute(
            sa.select(_events.c.id, _events.c.event_id, _events.c.occurred_at, _events.c.payload, frozen.c.initials)
            .select_from(_events.outerjoin(frozen, frozen.c.event_id == _events.c.event_id))
            .where(_events.c.type == "ticket.received", _events.c.id > last)
            .order_by(_events.c.id).limit(BATCH)).all()
        if not rows:
            break
        last = rows[-1].id
        for r in rows:
            p = json.loads(r.payload)
            a = p["applicant"]
            told = _stamp(r.occurred_at, r.event_id)
            received = datetime.fromisoformat(p["received_at"])
            b = best.get(a["id_no"])
            if b is None:
                b = best[a["id_no"]] = {"name_stamp": "", "phone_stamp": "", "address_stamp": "",
                                        "updated_at": received}
            if told > b["name_stamp"]:
                b.update(name=a["name"], initials=r.initials if r.initials is not None else "",
                         applicant_type=a["type"], sex=a["sex"], birth=a.get("birth"), name_stamp=told)
            if a["phone"] and told > b["phone_stamp"]:
                b.update(phone=a["phone"], phone_stamp=told)
            if a["address"] and told > b["address_stamp"]:
                b.update(address=a["address"], address_stamp=told)
            b["updated_at"] = max(b["updated_at"], received)
    table = sa.table("applicants", *(sa.column(c) for c in (
        "id_no", "name", "initials", "applicant_type", "sex", "phone", "address", "name_stamp", "phone_stamp",
        "address_stamp")), sa.column("birth", sa.Date), sa.column("updated_at", sa.DateTime))
    fields = ("name", "initials", "applicant_type", "sex", "birth", "phone", "address", "name_stamp",
              "phone_stamp", "address_stamp", "updated_at")
    stmt = sa.update(table).where(table.c.id_no == sa.bindparam("b_id_no")).values(
        {f: sa.bindparam(f"b_{f}") for f in fields})
    params: list[dict[str, Any]] = []
    for id_no, b in best.items():
        row = {"b_id_no": id_no, "b_phone": "", "b_address": ""}
        row.update({f"b_{k}": v for k, v in b.items()})
        if row["b_birth"]:
            row["b_birth"] = datetime.fromisoformat(row["b_birth"]).date()
        params.append(row)
        if len(params) >= BATCH:
            bind.execute(stmt, params)
            params = []
    if params:
        bind.execute(stmt, params)


def _attendance(bind: sa.Connection) -> None:
    """Each day's mark is the newest one (release 1 kept whichever came last)."""
    newest: dict[tuple[int, str], tuple[str, dict[str, Any], datetime, str]] = {}
    for event_id, at, who, p in _of_type(bind, "attendance.marked"):
        told = _stamp(at, event_id)
        key = (int(p["staff_id"]), p["day"])
        if key not in newest or told > newest[key][0]:
            newest[key] = (told, p, at, who)
    table = sa.table("attendance", sa.column("staff_id"), sa.column("day", sa.Date), sa.column("status"),
                     sa.column("source"), sa.column("note"), sa.column("marked_by"),
                     sa.column("marked_at", sa.DateTime), sa.column("stamp"))
    for (staff_id, day), (told, p, at, who) in newest.items():
        bind.execute(sa.update(table).where(table.c.staff_id == staff_id,
                                            table.c.day == datetime.fromisoformat(day).date()).values(
            status=p["status"], source=p["source"], note=p["note"], marked_by=who, marked_at=at, stamp=told))


def _calendar_years(bind: sa.Connection) -> None:
    """A confirmed year's time is its (last) confirming event's own time."""
    confirmed: dict[int, datetime] = {}
    for _event_id, at, _who, p in _of_type(bind, "calendar.year_set"):
        confirmed[int(p["year"])] = at
    years = sa.table("calendar_years", sa.column("year", sa.Integer), sa.column("confirmed_at", sa.DateTime))
    for year, at in confirmed.items():
        bind.execute(sa.update(years).where(years.c.year == year).values(confirmed_at=at))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM events WHERE format <> 1 LIMIT 1")).first() is not None:
        raise RuntimeError("the ledger holds events of format 2: release 1 could not verify them")
    op.drop_index("ix_catalog_versions_uid", table_name="catalog_versions")
    op.drop_index("ix_staff_uid", table_name="staff")
    for table in ("legacy_initials", "legacy_items", "legacy_staff"):
        op.drop_table(table)
    drops = {"events": ("actor_uid", "format"), "staff": ("uid",), "catalog_versions": ("uid",),
             "applicants": ("address_stamp", "phone_stamp", "name_stamp"), "attendance": ("stamp",)}
    for table, columns in drops.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_column(column)
