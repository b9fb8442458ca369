"""Other counters' changes on this program's screens: the live feed (:mod:`hall.services.storage.live`) bridged
to the session's :class:`~hall.ui.ops.ChangeSignal`.

The feed reads on its own thread; what it hears crosses to the GUI thread through a queued signal and is announced
there exactly as this program's own operations are (with no initiator: no screen here made it), so every screen's
:class:`~hall.ui.ops.ChangeListener` reloads — in the background — what concerns it, keeping its scroll position
and selection. The GUI thread only emits; it runs no SQL for it.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from hall.services.storage.changes import Changes
from hall.ui.ops import Context

log = logging.getLogger("hall.ui.live")


class LiveFeed(QObject):
    """The running program's one live feed. ``announced(changes)`` after each delivery was announced.

    Create it on the GUI thread and call :meth:`stop` before the database is disposed (the composition root does
    both)."""

    announced = Signal(object)
    _heard = Signal(object)  # emitted on the feed's thread; queued to ours

    def __init__(self, ctx: Context, parent: QObject | None = None, **options: Any) -> None:
        super().__init__(parent)
        from hall.services.bootstrap import follow

        self._signal = ctx.changes
        self.count = 0  # announcements made (tests and benchmarks count them)
        self._heard.connect(self._announce, Qt.ConnectionType.QueuedConnection)
        self.feed = follow(ctx.db, self._heard.emit, **options)

    def _announce(self, changes: Changes) -> None:
        self.count += 1
        self._signal.announce(changes, None)
        self.announced.emit(changes)

    def stop(self) -> None:
        self.feed.stop()
