"""How a widget performs one user action, and how every screen learns what it changed (Anki's operations).

An operation is one unit of work: :func:`run` (a click: one transaction on the GUI thread, a domain error shown
plainly, nothing half-saved) or :class:`OperationTask` (a long change on the pool: a calendar change with its
recomputation, the daily rules). Either records what its transactions commit — the ledger events, turned into
one immutable :class:`~hall.services.storage.changes.Changes` — and, after it succeeded, announces it once on the
session's :class:`ChangeSignal`. No widget emits a change by hand.

Every screen subscribes with a :class:`ChangeListener`: it says what concerns it (``changes.any_tickets``,
``changes.touches("followups")``, ``changes.calendar`` …) and reloads — in the background — only then. The
operation's *initiator* (the widget that ran it and already shows its result) can be left out. The hall-LAN
feeds other counters' events, turned into ``Changes`` by the same rule, into the same signal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from hall.errors import HallError
from hall.services.storage.changes import Changes, recording
from hall.ui import messages
from hall.ui.background import Progress, Task

if TYPE_CHECKING:  # the database layer loads in the background at start-up (see hall/ui/startup.py)
    from sqlalchemy.orm import Session

    from hall.paths import Paths
    from hall.services.base.actor import Actor
    from hall.services.storage.db import Database
    from hall.services.storage.node import NodeIdentity

T = TypeVar("T")

COALESCE_MS = 300  # a burst of changes (other counters' saves, a register action and its follow-up) is one reload


class ChangeSignal(QObject):
    """The one signal of a session: ``changed(changes, initiator)`` after every successful operation.

    ``initiator`` is the object that ran the operation (it may already show the outcome), or None."""

    changed = Signal(object, object)

    def announce(self, changes: Changes, initiator: object | None = None) -> None:
        self.changed.emit(changes, initiator)


@dataclass
class Context:
    """What the composition root hands to every window: no globals."""

    db: Database
    node: NodeIdentity
    actor: Actor
    changes: ChangeSignal = field(default_factory=ChangeSignal)
    paths: Paths | None = None  # the data directory in use (drafts, printer choices); None in some tests

    def data_paths(self) -> Paths:
        from hall.paths import Paths

        return self.paths or Paths.resolve()


def transact(db: Database, fn: Callable[[Session], T]) -> tuple[T, Changes]:
    """Run ``fn`` in one transaction; return its result and what it committed. Errors propagate."""
    with recording() as rec, db.transaction() as session:
        result = fn(session)
    return result, rec.changes()


def run(parent: QWidget | None, ctx: Context, fn: Callable[[Session], T], *, title: str | None = None,
        initiator: object | None = None, failed: Callable[[HallError], None] | None = None,
        show: bool = True) -> T | None:
    """Run ``fn`` in one transaction and announce what it changed; a HallError is shown (unless ``show`` is
    False: the caller shows it in place) and given to ``failed``, and None returned."""
    try:
        result, changes = transact(ctx.db, fn)
    except HallError as exc:
        if failed is not None:
            failed(exc)
        if show or failed is None:
            messages.error(parent, title or QCoreApplication.translate("ops", "无法完成操作"), str(exc))
        return None
    ctx.changes.announce(changes, initiator)
    return result


def read(db: Database, fn: Callable[[Session], T]) -> T:
    """A read-only look (no message handling: reads that fail are programming errors or a lost database)."""
    with db.reading() as session:
        return fn(session)


class OperationTask(Task):
    """A long operation on the pool (it opens its own transactions): what they commit is announced once when it
    ends — after success, and after a failure or a stop half-way too if earlier transactions had committed
    something (that stays done, and the screens must show it)."""

    def __init__(self, ctx: Context, fn: Callable[[Progress], Any], parent: QObject | None = None, *,
                 initiator: object | None = None) -> None:
        self._signal = ctx.changes
        self._initiator = initiator
        self._recorded: Changes | None = None

        def job(progress: Progress) -> Any:
            with recording() as rec:
                try:
                    return fn(progress)
                finally:
                    self._recorded = rec.changes()  # read on the GUI thread once the job's outcome arrived

        super().__init__(job, parent)
        self.ended.connect(self._announce)  # before any slot the caller connects: views learn first

    def _announce(self) -> None:
        changes, self._recorded = self._recorded, None
        if changes is not None and (self.error is None or changes):
            self._signal.announce(changes, self._initiator)


class ChangeListener(QObject):
    """One screen's subscription to the :class:`ChangeSignal`.

    ``react(changes)`` is called with the changes that ``concerns`` the screen — at once, or ``coalesce_ms``
    after the first of a burst with the burst merged (never restarted, so a steady stream still gets through).
    Changes initiated by ``own`` are left out (that screen showed the outcome itself). A child of ``owner``: it
    stops listening when the owner is deleted (Qt drops the connection; nothing is disconnected by hand)."""

    def __init__(self, owner: QObject, signal: ChangeSignal, concerns: Callable[[Changes], bool],
                 react: Callable[[Changes], None], *, coalesce_ms: int = 0, own: object | None = None) -> None:
        super().__init__(owner)
        self._concerns, self._react, self._own = concerns, react, own
        self._pending: Changes | None = None
        self.reacted = 0  # how many times ``react`` ran (tests count reloads with it)
        self._timer: QTimer | None = None
        if coalesce_ms > 0:
            self._timer = QTimer(self)
            self._timer.setSingleShot(True)
            self._timer.setInterval(coalesce_ms)
            self._timer.timeout.connect(self._fire)
        signal.changed.connect(self._arrived)

    def _arrived(self, changes: Changes, initiator: object | None) -> None:
        if (self._own is not None and initiator is self._own) or not self._concerns(changes):
            return
        if self._timer is None:
            self.reacted += 1
            self._react(changes)
            return
        self._pending = changes if self._pending is None else self._pending | changes
        if not self._timer.isActive():
            self._timer.start()

    def forget(self) -> None:
        """Drop a coalesced reaction still to come (the screen is reloading anyway)."""
        self._pending = None
        if self._timer is not None:
            self._timer.stop()

    @property
    def waiting(self) -> bool:
        """A concerning change arrived and its (coalesced) reaction is still to come."""
        return self._pending is not None

    def _fire(self) -> None:
        changes, self._pending = self._pending, None
        if changes is not None:
            self.reacted += 1
            self._react(changes)
