"""Window sizes in lines and characters of the window's own font, kept inside the screen's available area.

A size in pixels is right for one font and one scale only: at 150 % (QT_SCALE_FACTOR, or Windows' display
scaling) or with a larger system font a 900-pixel-tall dialog runs off a 1366×768 screen, and its buttons with it.
So a window asks for so many characters by so many lines, and gets at most what the screen it opens on has
free (less the window manager's frame, which Qt cannot know before the first show).
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

# Logical pixels for the frame and the title bar around a top-level window (openbox, Windows 10/11: 30–40).
FRAME_RESERVE = QSize(16, 48)


def text_size(widget: QWidget, columns: float, lines: float) -> QSize:
    """``columns`` Chinese characters wide, ``lines`` lines tall, in ``widget``'s font."""
    fm = widget.fontMetrics()
    return QSize(round(columns * fm.horizontalAdvance("中")), round(lines * fm.lineSpacing()))


def available(widget: QWidget) -> QRect:
    """The free area of the screen the window opens on (its parent's screen for a dialog)."""
    parent = widget.parentWidget()
    screen = (parent.window().screen() if parent is not None else None) or widget.screen() \
        or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def room(widget: QWidget) -> QSize:
    """The largest window size (frame excluded) that fits the available area."""
    free = available(widget).size()
    return QSize(max(free.width() - FRAME_RESERVE.width(), 1), max(free.height() - FRAME_RESERVE.height(), 1))


def fit_on_screen(widget: QWidget, columns: float, lines: float) -> QSize:
    """Resize ``widget`` to ``columns`` × ``lines`` of its text, no larger than the screen has room for."""
    want, free = text_size(widget, columns, lines), room(widget)
    size = QSize(min(want.width(), free.width()), min(want.height(), free.height()))
    widget.resize(size)
    return size
