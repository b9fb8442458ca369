"""How a widget performs one user action: one unit of work, domain errors shown plainly, nothing half-saved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtWidgets import QWidget

from hall.errors import HallError
from hall.ui import messages

if TYPE_CHECKING:  # the database layer loads in the background at start-up (see hall/ui/startup.py)
    from sqlalchemy.orm import Session

    from hall.paths import Paths
    from hall.services.base.actor import Actor
    from hall.services.storage.db import Database
    from hall.services.storage.node import NodeIdentity

T = TypeVar("T")


class Changes(QObject):
    """One signal that tells every view a ticket (or the catalogue) changed, so it can mark itself stale."""

    tickets_changed = Signal()
    catalog_changed = Signal()


@dataclass
class Context:
    """What the composition root hands to every window: no globals."""

    db: Database
    node: NodeIdentity
    actor: Actor
    changes: Changes
    paths: Paths | None = None  # the data directory in use (drafts, printer choices); None in some tests

    def data_paths(self) -> Paths:
        from hall.paths import Paths

        return self.paths or Paths.resolve()


def run(parent: QWidget | None, db: Database, fn: Callable[[Session], T], *,
        title: str | None = None, failed: Callable[[HallError], None] | None = None) -> T | None:
    """Run ``fn`` in one transaction; a HallError is shown to the person (and given to ``failed``), None returned."""
    try:
        with db.transaction() as session:
            return fn(session)
    except HallError as exc:
        if failed is not None:
            failed(exc)
        messages.error(parent, title or QCoreApplication.translate("ops", "无法完成操作"), str(exc))
        return None


def read(db: Database, fn: Callable[[Session], T]) -> T:
    """A read-only look (no message handling: reads that fail are programming errors or a lost database)."""
    with db.reading() as session:
        return fn(session)
