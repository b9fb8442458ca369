"""Small charts drawn with QPainter (QtCharts would add PySide6-Addons, ~150 MB, for three charts)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from hall.ui.screen_fit import text_size

PALETTE = ("#2f6fb3", "#3a9a5b", "#c0392b", "#e08e0b", "#7f8c8d")


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]
    color: str


class Chart(QWidget):
    """Grouped bars or lines over category labels, with a legend, y-axis ticks and sparse x labels."""

    def __init__(self, title: str, kind: str = "bar", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.kind = kind  # bar | line
        self.labels: tuple[str, ...] = ()
        self.series: tuple[Series, ...] = ()
        self.setMinimumSize(text_size(self, 17, 8))  # in the font's characters and lines: holds at 150 %
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(420, 220)

    def set_data(self, labels: Sequence[str], series: Sequence[Series]) -> None:
        self.labels = tuple(labels)
        self.series = tuple(series)
        self.update()

    @staticmethod
    def _nice_max(value: float) -> float:
        if value <= 0:
            return 1.0
        magnitude = 10 ** (len(str(int(value))) - 1)
        for step in (1, 2, 2.5, 5, 10):
            top = step * magnitude
            if top >= value:
                return float(top)
        return float(10 * magnitude)

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#ffffff"))
        fm = QFontMetrics(self.font())
        line_h = fm.height()
        p.setPen(QColor("#222222"))
        title_font = self.font()
        title_font.setBold(True)
        p.setFont(title_font)
        p.drawText(QRectF(8, 4, self.width() - 16, line_h + 2), Qt.AlignmentFlag.AlignLeft, self.title)
        p.setFont(self.font())
        # Legend on the title line, right-aligned.
        x = self.width() - 8.0
        for s in reversed(self.series):
            w = fm.horizontalAdvance(s.name)
            x -= w
            p.setPen(QColor("#444444"))
            p.drawText(QPointF(x, 4 + fm.ascent()), s.name)
            x -= 14
            p.fillRect(QRectF(x, 4 + line_h / 2 - 5, 10, 10), QColor(s.color))
            x -= 10
        n = len(self.labels)
        top_value = self._nice_max(max((v for s in self.series for v in s.values), default=0))
        left = 8 + fm.horizontalAdvance(f"{top_value:g}") + 6
        plot = QRectF(left, 10 + line_h * 1.5, self.width() - left - 10, self.height() - line_h * 3 - 14)
        if n == 0 or plot.width() <= 10 or plot.height() <= 10:
            p.end()
            return
        grid = QPen(QColor("#e3e3e3"))
        for i in range(5):
            y = plot.bottom() - plot.height() * i / 4
            p.setPen(grid)
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            p.setPen(QColor("#666666"))
            label = f"{top_value * i / 4:g}"
            p.drawText(QRectF(0, y - line_h / 2, left - 4, line_h), Qt.AlignmentFlag.AlignRight, label)
        slot = plot.width() / n
        every = max(1, int((fm.horizontalAdvance("00-00") + 8) / slot) + 1) if self.kind == "line" or n > 12 else 1
        p.setPen(QColor("#444444"))
        for i, text in enumerate(self.labels):
            if i % every == 0:
                p.drawText(QRectF(plot.left() + i * slot - 20, plot.bottom() + 3, slot + 40, line_h),
                           Qt.AlignmentFlag.AlignHCenter, text)
        scale = plot.height() / top_value
        if self.kind == "bar":
            k = max(len(self.series), 1)
            bar_w = max(slot * 0.8 / k, 1.0)
            for j, s in enumerate(self.series):
                for i, v in enumerate(s.values):
                    h = v * scale
                    p.fillRect(QRectF(plot.left() + i * slot + slot * 0.1 + j * bar_w, plot.bottom() - h, bar_w - 1, h),
                               QColor(s.color))
        else:
            for s in self.series:
                pen = QPen(QColor(s.color))
                pen.setWidthF(2.0)
                p.setPen(pen)
                pts = [QPointF(plot.left() + (i + 0.5) * slot, plot.bottom() - v * scale)
                       for i, v in enumerate(s.values)]
                for a, b in itertools.pairwise(pts):
                    p.drawLine(a, b)
                for pt in pts:
                    p.drawEllipse(pt, 2.5, 2.5)
        p.setPen(QColor("#999999"))
        p.drawLine(plot.bottomLeft(), plot.bottomRight())
        p.end()
