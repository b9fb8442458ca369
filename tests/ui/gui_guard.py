"""Instruments for "the window never blocks": how long the GUI event loop went without turning, and which SQL
statements ran on the GUI thread.

``EventLoopMonitor`` is a 5 ms repeating timer on the GUI thread; the longest gap between two of its ticks is the
longest time the event loop was blocked (a keystroke, a repaint, a click would have waited that long).
``GuiThreadSql`` listens on the engine and records every statement executed on the GUI thread — the size of
the ledger does not matter to it, so it proves on a small ledger what the monitor shows at 1M. ``GcWatch``
records every garbage collection (a full one holds the interpreter, whichever thread runs it).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from PySide6.QtCore import QTimer
from sqlalchemy import event


class EventLoopMonitor:
    """``stalls``: with ``sample_after_ms`` set, a watchdog thread records where the GUI thread was (its Python
    stack) whenever the loop has not turned for that long — what to fix when a gap is too long."""

    def __init__(self, interval_ms: int = 5, *, sample_after_ms: float | None = None, dump_to=None,  # type: ignore[no-untyped-def]
                 dump_after_ms: float = 50.0) -> None:
        self.sample_after_ms = sample_after_ms
        # ``dump_to`` (an open file): faulthandler's C watchdog, re-armed on every tick, writes every thread's stack
        # whenever the loop has not turned for ``dump_after_ms`` — it needs no interpreter lock, so it sees the
        # thread holding it (the Python sampler has to wait for that thread to let go, and adds a contender).
        self.dump_to, self.dump_after_ms = dump_to, dump_after_ms
        self.stalls: list[str] = []
        self._watch: threading.Thread | None = None
        self._stop = threading.Event()
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self.ends: list[float] = []  # perf_counter() at the end of each gap (to line stalls up with other events)
        self._last = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last:
            self.gaps.append((now - self._last) * 1000)
            self.ends.append(now)
        self._last = now
        if self.dump_to is not None and self.timer.isActive():
            import faulthandler

            faulthandler.dump_traceback_later(self.dump_after_ms / 1000, file=self.dump_to)

    def start(self) -> EventLoopMonitor:
        self._last = time.perf_counter()
        self.timer.start()
        if self.sample_after_ms is not None:
            self._stop.clear()
            self._watch = threading.Thread(target=self._watchdog, daemon=True)
            self._watch.start()
        return self

    def _watchdog(self) -> None:
        import sys
        import traceback

        gui = threading.main_thread().ident
        me = threading.get_ident()
        while not self._stop.wait(0.01):
            stalled = (time.perf_counter() - self._last) * 1000
            if stalled > (self.sample_after_ms or 0):  # sampled every 10 ms for as long as the stall lasts
                frames = sys._current_frames()
                parts = [("GUI" if ident == gui else f"thread {ident}") + ":\n"
                         + "".join(traceback.format_stack(f)[-6:]) for ident, f in frames.items() if ident != me]
                self.stalls.append(f"stalled {stalled:.0f} ms\n" + "\n".join(parts))

    def stop(self) -> float:
        self.timer.stop()
        self._tick()
        if self.dump_to is not None:
            import faulthandler

            faulthandler.cancel_dump_traceback_later()
        self._stop.set()
        if self._watch is not None:
            self._watch.join()
        return self.max_ms

    @property
    def max_ms(self) -> float:
        return max(self.gaps, default=0.0)


class GcWatch:
    """Every garbage collection while active — (start perf_counter, generation, ms, thread name, objects collected):
    a full collection holds the interpreter, so whichever thread runs it, the GUI thread waits."""

    def __init__(self) -> None:
        self.runs: list[tuple[float, int, float, str, int]] = []
        self._began: dict[int, float] = {}

    def _seen(self, phase: str, info: dict) -> None:  # type: ignore[type-arg]
        now = time.perf_counter()
        me = threading.get_ident()
        if phase == "start":
            self._began[me] = now
        elif me in self._began:
            t0 = self._began.pop(me)
            self.runs.append((t0, info["generation"], (now - t0) * 1000, threading.current_thread().name,
                              info["collected"]))

    @contextmanager
    def watching(self):  # type: ignore[no-untyped-def]
        import gc

        gc.callbacks.append(self._seen)
        try:
            yield self
        finally:
            gc.callbacks.remove(self._seen)


class GuiThreadSql:
    """Every statement the GUI (main) thread executes on ``engine`` while active."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.engine = engine
        self.statements: list[str] = []
        self.gui = threading.main_thread()

    def _seen(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if threading.current_thread() is self.gui:
            self.statements.append(statement.split("\n", 1)[0][:160])

    @contextmanager
    def watching(self):  # type: ignore[no-untyped-def]
        event.listen(self.engine, "before_cursor_execute", self._seen)
        try:
            yield self
        finally:
            event.remove(self.engine, "before_cursor_execute", self._seen)
