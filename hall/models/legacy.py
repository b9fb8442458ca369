"""What release 1 left implicit, frozen once by the upgrade to format 2 (migration 0003) and never written again.

Release 1's events name staff and items by this database's row ids and leave two values to be computed when they
are projected: the pinyin initials of an applicant's name and of each catalogue item (which change with the
installed pypinyin). A replay must give exactly what those events gave when they were first projected, on any node
and with any library installed, and the old events themselves are hashed and must not change. So the upgrade
records, from the projections release 1 left:

- ``legacy_staff``: each old ``staff.id`` → the person's stable uid (what an old payload's ``staff_id``,
  ``owner``, ``holder_id`` … and an old event's ``actor_id`` mean);
- ``legacy_items``: each old ``items.id`` → its catalogue version's uid and item code, with the item's initials;
- ``legacy_initials``: each old ``ticket.received`` event → the applicant initials it was projected with.

These tables are part of the ledger, not projections: ``ledger rebuild`` and ``ledger check`` keep them beside the
events (a rebuild that dropped them could not replay release 1's events), and nothing but the migration writes
them. Events of format 2 carry all of it themselves and never read these tables.
"""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hall.models.base import Base


class LegacyStaff(Base):
    __tablename__ = "legacy_staff"

    legacy_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    uid: Mapped[str] = mapped_column(String(36))


class LegacyItem(Base):
    __tablename__ = "legacy_items"

    legacy_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    catalog_version_uid: Mapped[str] = mapped_column(String(36))
    code: Mapped[str] = mapped_column(String(16))
    initials: Mapped[str] = mapped_column(String(400), default="")


class LegacyInitials(Base):
    __tablename__ = "legacy_initials"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    initials: Mapped[str] = mapped_column(String(40))


# Not projections: rebuilt from nothing, kept as they are (see the module docstring).
FROZEN_TABLES = ("legacy_staff", "legacy_items", "legacy_initials")
