"""What the idle lock costs the GUI thread: its application-wide event filter sees every event the program
handles, so its price per event, beside no filter and a filter that does nothing, from the same run.

    .venv/bin/python benchmarks/bench_idle_filter.py [--events 200000]

A keystroke is a few dozen events (key press/release, shortcut override, repaints): at a few microseconds each
the filter adds well under a tenth of a millisecond to the 16 ms a keystroke may take (DESIGN.md).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QEvent, QObject
from PySide6.QtWidgets import QApplication


class Bare(QObject):
    def eventFilter(self, _watched: QObject, _event: QEvent) -> bool:
        return False


def per_event_us(target: QObject, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        QCoreApplication.sendEvent(target, QEvent(QEvent.Type.User))
    return (time.perf_counter() - started) / n * 1e6


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, default=200_000)
    n = p.parse_args().events
    app = QApplication([])
    from hall.ui.idle_lock import IdleLock

    target = QObject()
    none = per_event_us(target, n)
    bare = Bare()
    app.installEventFilter(bare)
    with_bare = per_event_us(target, n)
    app.removeEventFilter(bare)
    # The filter's own method, unbound from a widget (the lock itself needs a database; its eventFilter reads
    # only its clock and whether it is locked).
    lock = IdleLock.__new__(IdleLock)
    QObject.__init__(lock)
    lock.screen, lock.clock, lock._last = None, time.monotonic, 0.0
    app.installEventFilter(lock)
    with_lock = per_event_us(target, n)
    app.removeEventFilter(lock)
    print(f"per event: no filter {none:.2f} µs, bare Python filter {with_bare:.2f} µs, "
          f"idle-lock filter {with_lock:.2f} µs (+{with_lock - none:.2f} µs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
