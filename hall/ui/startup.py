"""Open the database while the login dialog is already on screen.

Importing SQLAlchemy and opening (maybe migrating) the ledger takes about a second on a counter PC; the clerk
spends that second typing a staff number. The window appears at once, the work finishes behind it.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QEventLoop, QThread, Signal

log = logging.getLogger("hall.startup")


class BackgroundOpen(QThread):
    """Runs ``open_hall`` once; ``result`` is an Opened, or the exception it raised."""

    done = Signal()

    def __init__(self, paths: Any, url: str | None, intake_point: str | None) -> None:
        super().__init__()
        self.paths, self.url, self.intake_point = paths, url, intake_point
        self.result: Any = None
        self.hall_name = ""

    def run(self) -> None:
        try:
            from hall.services.bootstrap import open_hall
            from hall.services.storage import settings

            opened = open_hall(self.paths, self.url, intake_point=self.intake_point)
            with opened.db.transaction() as s:
                self.hall_name = settings.get(s, "hall_name")
            # Warm what the first screens need, still off the GUI thread: importing (not creating) widget
            # classes is thread-safe, and it is a third of a second the clerk no longer waits after login.
            import hall.services.people.staff
            import hall.ui.main_window  # noqa: F401

            self.result = opened
        except BaseException as exc:  # handed to the GUI thread, which shows it properly
            log.exception("opening the database failed")
            self.result = exc
        self.done.emit()

    def wait_result(self) -> Any:
        """Block (with the event loop running) until the database is open; return the Opened or raise."""
        if self.result is None:  # still working: keep the GUI alive until the thread has finished
            loop = QEventLoop()
            self.finished.connect(loop.quit)
            if not self.isFinished():  # connected first, then checked: the signal cannot slip between
                loop.exec()
        self.wait()  # run() sets result before it emits and returns right after
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result
