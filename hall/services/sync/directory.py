"""The hall's staff directory, as its bundles carry it to a laptop (manifest ``extra["staff_directory"]``).

A laptop holds the staff *events* of its own village only (their password hashes travel in them, as at enrolment);
everyone else — the clerks at the hall's windows who pause, forward or close its tickets — it knows from this
snapshot: uid, staff number, name, role, window, intake point and whether active. No password hash and nothing
else personal ever leaves the hall in it. The laptop keeps it in a local, non-replicated table
(``sync_staff_directory``), replaced whole by every bundle that carries one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from hall.models import Staff
from hall.models.sync import SyncStaffDirectory
from hall.services.storage import identity
from hall.services.sync.bundle import BundleRejected

KEY = "staff_directory"
# Each entry's fields and their JSON types: exactly these (strict, as every part of a bundle).
FIELDS: dict[str, tuple[type, ...]] = {"uid": (str,), "staff_no": (str,), "name": (str,), "role": (str,),
                                       "window_code": (str, type(None)), "intake_point": (str,), "active": (bool,)}
_LIMITS = {"uid": 36, "staff_no": 20, "name": 40, "role": 12, "window_code": 8, "intake_point": 3}
_TABLE = SyncStaffDirectory.__table__


def snapshot(session: Session) -> list[dict[str, Any]]:
    """The hall's whole staff directory (every person, active or not), by staff number."""
    rows = session.execute(select(Staff.uid, Staff.staff_no, Staff.name, Staff.role, Staff.window_code,
                                  Staff.intake_point, Staff.active).order_by(Staff.staff_no))
    return [{"uid": r.uid, "staff_no": r.staff_no, "name": r.name, "role": r.role, "window_code": r.window_code,
             "intake_point": r.intake_point, "active": bool(r.active)} for r in rows]


def parse(extra: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The snapshot a bundle's ``extra`` carries, checked strictly (None: it carries none, e.g. an older hall)."""
    found = extra.get(KEY)
    if found is None:
        return None
    if not isinstance(found, list):
        raise BundleRejected("人员名录（staff_directory）类型不对")
    seen: set[str] = set()
    for entry in found:
        if not isinstance(entry, dict) or set(entry) != set(FIELDS):
            raise BundleRejected("人员名录的字段不符（只应有工号、姓名、角色、窗口、受理点和是否在岗）")
        for name, types in FIELDS.items():
            value = entry[name]
            if not isinstance(value, types):
                raise BundleRejected(f"人员名录的字段 {name} 类型不对")
            if isinstance(value, str) and len(value) > _LIMITS[name]:
                raise BundleRejected(f"人员名录的字段 {name} 过长（上限 {_LIMITS[name]} 个字符）")
        if entry["uid"] in seen:
            raise BundleRejected("人员名录中有重复的人员")
        seen.add(entry["uid"])
    return found


def take(session: Session, extra: dict[str, Any]) -> None:
    """On a laptop: the directory a hall's bundle or provisioning file carries, stored before its events are
    applied (the village's tickets they carry may name the hall's clerks). None carried: nothing changes."""
    entries = parse(extra)
    if entries is not None:
        store(session, entries, datetime.now())


def store(session: Session, entries: list[dict[str, Any]], at: datetime) -> bool:
    """Replace the laptop's directory with ``entries`` (caller's transaction); False when it is the same already."""
    have = [dict(r) for r in session.execute(select(*[_TABLE.c[n] for n in FIELDS]).order_by(
        _TABLE.c.staff_no, _TABLE.c.uid)).mappings()]
    if have == sorted(entries, key=lambda e: (e["staff_no"], e["uid"])):
        return False
    conn = session.connection()
    conn.execute(delete(_TABLE))
    if entries:
        conn.execute(insert(_TABLE), [{**e, "received_at": at} for e in entries])
    _refresh(session, {e["uid"] for e in entries})
    return True


def _refresh(session: Session, listed: set[str]) -> None:
    """The directory-only staff rows (hall clerks this laptop knows from the directory alone) as the directory now
    has them: a replay (``ledger check``, rebuild) creates them from the directory held then, i.e. this one."""
    session.flush()
    session.expire_all()  # the directory rows were replaced under the ORM's feet
    added = identity.added_uids(session)
    rows = session.scalars(select(Staff).where(Staff.uid.in_(listed - added), Staff.active.is_(False),
                                               Staff.password_hash == "")).all()
    for person in rows:
        entry = session.get(SyncStaffDirectory, person.uid)
        if entry is not None:
            for name, value in identity.directory_fields(session, entry).items():
                setattr(person, name, value)
    session.flush()


@dataclass(frozen=True)
class Summary:
    people: int
    active: int
    received_at: datetime | None


def summary(session: Session) -> Summary:
    t = _TABLE.c
    people, active, at = session.execute(select(func.count(), func.count().filter(t.active),
                                                func.max(t.received_at))).one()
    return Summary(int(people or 0), int(active or 0), at)
