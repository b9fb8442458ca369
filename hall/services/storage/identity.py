"""Stable identities in events, this database's row ids in the tables.

Events name a person by the staff uid and an item by its catalogue version's uid and its code: the same on every
node, in every replay. The projection tables keep their integer keys (``staff.id``, ``items.id``), which differ
between nodes; a projector turns the stable reference into this database's key here.

Release 1's events (format 1) named both by the row ids of the database that wrote them. The upgrade froze what
those ids meant (:mod:`hall.models.legacy`), so an old event resolves to the same person or item in any replay.

The translations are cached per opened database (:class:`LocalIds`, held in every session's ``info``): the
counter's save resolves its clerk and item without a query. What a transaction learns (a row it inserted, or read
while it may have written uncommitted rows) joins the shared cache only when it commits, and is forgotten when it
rolls back; committed pairs never go stale, since rows are never deleted or renumbered. Only ``ledger rebuild`` in
place renumbers rows; it must call :meth:`LocalIds.clear`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from hall.errors import NotFound
from hall.models import CatalogVersion, Event, Item, LegacyInitials, LegacyItem, LegacyStaff, Staff, Window
from hall.models.sync import SyncStaffDirectory

SESSION_KEY = "hall.local_ids"
_PENDING = "hall.local_ids.pending"  # this transaction's pairs, not yet committed

# uid = uuid5(NAMESPACE, event id) for what a release-1 event created without naming it: a staff member
# (``staff.added``) and a catalogue version (``catalog.imported``). Fixed forever: migration 0003 uses this value.
NAMESPACE = uuid.UUID("241c2440-1f37-48a1-ad0f-06b68f3aab3a")


def uid_from_event(event_id: str) -> str:
    """The stable uid of what the release-1 event ``event_id`` created (the upgrade gave it the same)."""
    return str(uuid.uuid5(NAMESPACE, event_id))


def new_uid() -> str:
    return str(uuid.uuid4())


@dataclass
class LocalIds:
    """One database's translations, shared by its sessions."""

    staff: dict[str, int] = field(default_factory=dict)  # staff uid -> staff.id
    items: dict[tuple[str, str], int] = field(default_factory=dict)  # (catalogue version uid, code) -> items.id
    legacy_staff: dict[int, str] | None = None  # release 1's staff.id -> uid (frozen: loaded once)
    legacy_items: dict[int, tuple[str, str]] | None = None  # release 1's items.id -> (version uid, code)
    uids: dict[int, str] = field(default_factory=dict)  # staff.id -> uid: one transaction's memo, never shared

    def clear(self) -> None:
        self.staff.clear()
        self.items.clear()
        self.legacy_staff = self.legacy_items = None


def local_ids(session: Session) -> LocalIds:
    found = session.info.get(SESSION_KEY)
    if found is None:  # a session of an engine opened by hand (a script, a migration test): its own cache
        found = session.info[SESSION_KEY] = LocalIds()
    return found


def _pending(session: Session) -> LocalIds:
    found = session.info.get(_PENDING)
    if found is None:
        found = session.info[_PENDING] = LocalIds()
    return found


def _known(session: Session, table: str, key: Any) -> int | None:
    # This transaction's own pairs first: they are the newest (a rebuild in place renumbers rows).
    pending = session.info.get(_PENDING)
    if pending is not None:
        got = getattr(pending, table).get(key)
        if got is not None:
            return got
    return getattr(local_ids(session), table).get(key)


@event.listens_for(Session, "after_commit")
def _promote(session: Session) -> None:
    learned = session.info.pop(_PENDING, None)
    if learned is not None:
        shared = local_ids(session)
        shared.staff.update(learned.staff)
        shared.items.update(learned.items)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction: object) -> None:
    session.info.pop(_PENDING, None)


class MissingReference(NotFound):
    """An event names a staff member or an item this database does not hold (yet): a sync import parks it until
    the event that adds it arrives (hall/services/sync/parking.py)."""

    def __init__(self, message: str, waits_for: str) -> None:
        super().__init__(message)
        self.waits_for = waits_for  # in Chinese, for the 同步 screen: "工作人员 …" / "事项 …"


# ------------------------------------------------------------------------------------------------ staff
def staff_id(session: Session, uid: str | None) -> int | None:
    """This database's id of the staff member ``uid`` (None for None)."""
    if uid is None:
        return None
    got = _known(session, "staff", uid)
    if got is None:
        # A handful of rows: read them all, so the next unknown uid costs nothing either.
        learned = _pending(session).staff
        learned.update({u: i for u, i in session.execute(select(Staff.uid, Staff.id))})
        got = learned.get(uid)
        if got is None:
            got = _from_directory(session, uid)
        if got is None:
            raise MissingReference(f"台账事件指向的工作人员 {uid} 不存在（该人员的登记事件尚未导入）",
                                   f"工作人员 {uid[:8]}")
    return got


# A village laptop holds the staff events of its own village only; the hall's clerks who act on its tickets it
# knows from the hall's staff directory (``sync_staff_directory``, local, persistent, empty on every other node).
# An event naming such a clerk resolves to a *directory-only* row, created the moment it is first needed: the
# directory's uid, staff number, name, role and window (when this database has that window), inactive, no
# password hash (nobody can log in as it). The directory is kept as the laptop last received it and a replay
# (``ledger check``, rebuild) reads the same table, so it creates the same row; each directory that arrives
# refreshes such rows (hall/services/sync/directory.py), so they always mirror it. A later ``staff.added`` for the
# uid (the person joined this village) takes the row over.
def _from_directory(session: Session, uid: str) -> int | None:
    entry = session.get(SyncStaffDirectory, uid)
    if entry is None:
        return None
    person = Staff(uid=uid, **directory_fields(session, entry), post="", password_hash="", must_set_password=False,
                   active=False)
    session.add(person)
    session.flush()
    remember_staff(session, uid, person.id)
    return person.id


def directory_fields(session: Session, entry: SyncStaffDirectory) -> dict[str, Any]:
    """What a directory-only staff row takes from its directory entry."""
    window = entry.window_code if entry.window_code and session.get(Window, entry.window_code) else None
    return {"staff_no": entry.staff_no, "name": entry.name, "role": entry.role, "window_code": window,
            "intake_point": entry.intake_point, "created_at": entry.received_at}


def has_directory(session: Session) -> bool:
    """Whether this database holds a staff directory (a village laptop that received one)."""
    return session.scalar(select(SyncStaffDirectory.uid).limit(1)) is not None


def directory_only(session: Session, person: Staff) -> bool:
    """Whether ``person`` is a directory-only row (a hall clerk this laptop knows from the directory alone)."""
    if person.active or person.password_hash or session.get(SyncStaffDirectory, person.uid) is None:
        return False
    return person.uid not in added_uids(session)


def added_uids(session: Session) -> set[str]:
    """The uids of every person a ``staff.added`` event of this database registered (release 1's: derived)."""
    out = set()
    for event_id, payload in session.execute(select(Event.event_id, Event.payload).where(Event.type == "staff.added")):
        out.add(json.loads(payload).get("uid") or uid_from_event(event_id))
    return out


def remember_staff(session: Session, uid: str, row_id: int) -> None:
    _pending(session).staff[uid] = row_id


def legacy_staff_id(session: Session, legacy: int | None) -> int | None:
    """What a release-1 event's staff id means here: the person the upgrade froze it to. An id the upgrade never
    saw keeps release 1's own meaning (a row id of this database)."""
    if legacy is None:
        return None
    ids = local_ids(session)
    if ids.legacy_staff is None:
        ids.legacy_staff = dict(session.execute(select(LegacyStaff.legacy_id, LegacyStaff.uid)).all())
    uid = ids.legacy_staff.get(int(legacy))
    return staff_id(session, uid) if uid is not None else int(legacy)


def staff_ref(session: Session, p: dict[str, Any], key: str, legacy_key: str) -> int | None:
    """The staff member a payload names: by uid under ``key`` (format 2), by release 1's id under ``legacy_key``."""
    if key in p:
        return staff_id(session, p[key])
    return legacy_staff_id(session, p.get(legacy_key))


def staff_refs(session: Session, p: dict[str, Any], key: str, legacy_key: str) -> list[int]:
    """A list of staff members (``visit.planned``'s party), as :func:`staff_ref`."""
    if key in p:
        return [staff_id(session, u) for u in p[key]]  # type: ignore[misc]
    return [legacy_staff_id(session, i) for i in p.get(legacy_key) or []]  # type: ignore[misc]


def actor_staff_id(session: Session, ev: Event) -> int | None:
    """This database's id of the person who wrote ``ev`` (None for the program or a citizen)."""
    if ev.actor_uid is not None:
        return staff_id(session, ev.actor_uid)
    return legacy_staff_id(session, ev.actor_id)


def uid_of(session: Session, row_id: int | None) -> str | None:
    """The stable uid of this database's staff row ``row_id``, for a payload (None for None)."""
    if row_id is None:
        return None
    memo = _pending(session).uids  # a sweep names the same few owners for thousands of tickets
    uid = memo.get(row_id)
    if uid is None:
        uid = session.scalar(select(Staff.uid).where(Staff.id == row_id))
        if uid is None:
            raise NotFound(f"工作人员（内部号 {row_id}）不存在")
        memo[row_id] = uid
    return uid


# ------------------------------------------------------------------------------------------------ items
def item_id(session: Session, version_uid: str, code: str) -> int:
    """This database's id of item ``code`` of catalogue version ``version_uid``."""
    key = (version_uid, code)
    got = _known(session, "items", key)
    if got is None:
        learned = _pending(session).items
        rows = session.execute(select(Item.code, Item.id).join(CatalogVersion, CatalogVersion.id == Item.version_id)
                               .where(CatalogVersion.uid == version_uid))
        learned.update({(version_uid, c): i for c, i in rows})
        got = learned.get(key)
        if got is None:
            raise MissingReference(f"台账事件指向的事项 {code}（事项清单版本 {version_uid}）不存在",
                                   f"事项 {code}（清单版本 {version_uid[:8]}）")
    return got


def remember_items(session: Session, version_uid: str, by_code: dict[str, int]) -> None:
    _pending(session).items.update({(version_uid, c): i for c, i in by_code.items()})


def item_ref(session: Session, p: dict[str, Any]) -> int:
    """The item a ``ticket.received`` payload names: by version uid and code (format 2), or release 1's id."""
    if "catalog_version" in p:
        return item_id(session, p["catalog_version"], p["item_code"])
    ids = local_ids(session)
    if ids.legacy_items is None:
        ids.legacy_items = {i: (v, c) for i, v, c in session.execute(
            select(LegacyItem.legacy_id, LegacyItem.catalog_version_uid, LegacyItem.code))}
    known = ids.legacy_items.get(int(p["item_id"]))
    return item_id(session, *known) if known is not None else int(p["item_id"])


def legacy_item_initials(session: Session, version_uid: str) -> dict[str, str]:
    """The initials release 1 projected the items of catalogue version ``version_uid`` with (frozen at upgrade)."""
    return dict(session.execute(select(LegacyItem.code, LegacyItem.initials)
                                .where(LegacyItem.catalog_version_uid == version_uid)).all())


def legacy_applicant_initials(session: Session, event_id: str) -> str | None:
    """The applicant initials release 1 projected the ``ticket.received`` event ``event_id`` with."""
    return session.scalar(select(LegacyInitials.initials).where(LegacyInitials.event_id == event_id))
