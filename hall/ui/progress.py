"""Progress for a :class:`hall.ui.background.Task`: a bar with what is being done, shown only when the wait
is long enough to notice (one second), never a modal dialog that stops the counter."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from hall.ui.background import Task
from hall.ui.screen_fit import text_size

SHOW_AFTER_MS = 1000


class ProgressStrip(QWidget):
    """A label and a bar that follow one task at a time (e.g. in the main window's status bar)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("progressStrip")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setObjectName("progressWhat")
        self.bar = QProgressBar()
        self.bar.setObjectName("progressBar")
        self.bar.setMaximumWidth(text_size(self.bar, 16, 0).width())
        self.bar.setTextVisible(True)
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        self.hide()
        self._clock = QElapsedTimer()
        self._reveal = QTimer(self, singleShot=True, interval=SHOW_AFTER_MS)
        self._reveal.timeout.connect(self._maybe_show)
        self._task: Task | None = None
        self._what = ""

    @property
    def busy(self) -> bool:
        """A task is being followed and still running (the idle lock waits for it)."""
        return self._task is not None and self._task.running

    def follow(self, task: Task, title: str) -> None:
        self._task = task
        self._what = title
        self.label.setText(title)
        self.bar.setRange(0, 0)  # busy until the first report says how much there is
        self._clock.start()
        self._reveal.start()
        task.progressed.connect(self._progressed)
        task.ended.connect(self._ended)

    def _maybe_show(self) -> None:
        if self._task is not None and self._task.running:
            self.show()

    def _progressed(self, done: int, total: int, what: str) -> None:
        if self.sender() is not self._task:
            return
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
        else:
            self.bar.setRange(0, 0)
        self.label.setText(f"{self._what}：{what}" if what else self._what)
        if self._clock.elapsed() >= SHOW_AFTER_MS:
            self.show()

    def _ended(self) -> None:
        if self.sender() is not self._task:
            return
        self._task = None
        self._reveal.stop()
        self.hide()
