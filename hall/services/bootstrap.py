"""First start and every start: open (or create) the ledger, migrate, seed what an empty hall needs."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall.models import CatalogVersion, IntakePoint
from hall.paths import Paths
from hall.services import calendar, catalog, settings, staff
from hall.services.actor import Actor
from hall.services.db import Database
from hall.services.node import NodeIdentity

log = logging.getLogger("hall.bootstrap")


@dataclass
class Opened:
    db: Database
    node: NodeIdentity
    system: Actor
    needs_admin: bool


def open_hall(paths: Paths, url: str | None = None, *, intake_point: str | None = None) -> Opened:
    """The composition roots (GUI and CLI) call this once."""
    paths.ensure()
    node = NodeIdentity.load_or_create(paths.node_file, intake_point)
    db = Database.open(url or paths.sqlite_url, backups_dir=paths.backups_dir)
    system = Actor.system(node.node_id, node.intake_point)
    with db.transaction() as session:
        if db.upgraded_from is not None:
            # A ledger written by an older release: what it seeded outside the ledger is recorded now.
            calendar.record_unrecorded_seed(session, system)
        seed(session, system)
        needs = staff.needs_admin(session)
    return Opened(db, node, system, needs)


def seed(session: Session, system: Actor) -> None:
    """Idempotent: the default catalogue, the calendar years the package knows, the hall's intake point."""
    if session.scalar(select(func.count()).select_from(CatalogVersion)) == 0:
        catalog.seed_default(session, system)
        log.info("seeded the default catalogue")
    calendar.seed_from_package(session, system)
    if session.get(IntakePoint, "000") is None:
        staff.add_intake_point(session, system, "000", settings.get(session, "hall_name"))
    if system.intake_point != "000" and session.get(IntakePoint, system.intake_point) is None:
        names = settings.get(session, "village_names")
        staff.add_intake_point(session, system, system.intake_point,
                               names.get(system.intake_point, f"代办点{system.intake_point}"))
