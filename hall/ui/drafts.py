"""The Qt side of draft autosave: a debounced writer for a form, and the "restore?" question at start."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QTimer
from PySide6.QtWidgets import QWidget

from hall.services.storage.drafts import Draft, DraftStore
from hall.ui import messages

log = logging.getLogger("hall.ui.drafts")
DELAY_MS = 600  # after the last keystroke; short enough that a power cut loses at most a few characters


class Autosaver(QObject):
    """Call ``changed()`` on every edit; the form's ``snapshot()`` is written shortly after typing pauses."""

    def __init__(self, store: DraftStore, owner: str, snapshot: Callable[[], dict[str, Any] | None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.owner = owner
        self.snapshot = snapshot
        self.key = uuid.uuid4().hex
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DELAY_MS)
        self.timer.timeout.connect(self.flush)

    def changed(self) -> None:
        self.timer.start()

    def flush(self) -> None:
        """Write now (also called before anything risky, e.g. saving the ticket or closing)."""
        self.timer.stop()
        data = self.snapshot()
        try:
            if data is None:
                self.store.discard(self.key)
            else:
                self.store.save(self.key, self.owner, data)
        except OSError as exc:  # a full disk must not take the form down with it
            log.error("draft autosave failed: %s", exc)

    def adopt(self, key: str) -> None:
        """Continue writing into a restored draft's file instead of leaving a second copy."""
        self.key = key

    def finish(self) -> None:
        """The work was saved or deliberately cleared: the draft goes, the next form gets a new key."""
        self.timer.stop()
        self.store.discard(self.key)
        self.key = uuid.uuid4().hex


def offer_restore(parent: QWidget | None, store: DraftStore, owner: str) -> Draft | None:
    """Ask about the newest unsaved intake of this person; None when there is none or it is declined."""
    drafts = store.load_all(owner)
    if not drafts:
        return None
    d = drafts[0]
    tr = QCoreApplication.translate
    text = tr("drafts", "发现一份未保存的登记（{0}，{1}），可能是上次异常退出或停电留下的。\n\n恢复这份登记吗？"
              "选“删除草稿”将不再保留它。").format(d.summary, d.saved_at.strftime("%Y-%m-%d %H:%M"))
    # Enter restores: the draft exists to be saved, and deleting it is the step that cannot be undone.
    if messages.confirm(parent, tr("drafts", "恢复未保存的登记"), text, yes=tr("drafts", "恢复(&R)"),
                        no=tr("drafts", "删除草稿(&D)"), default_yes=True):
        return d
    store.discard(d.key)
    return None
