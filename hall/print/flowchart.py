"""办事流程图: an item's procedure steps as numbered boxes joined by arrows, readable on A4.

One column when the steps fit the page height, otherwise two columns (the second starts at the top and an
elbow arrow runs through the gutter); long step texts wrap inside their box, and the font shrinks only when
even two columns would not fit.
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph

from hall.print.base import esc
from hall.print.fonts import FontSet

GAP = 9 * mm  # vertical arrow length between boxes
PAD = 3 * mm  # text padding inside a box
GUTTER = 18 * mm
LINE = colors.Color(0.15, 0.15, 0.15)
FILL = colors.Color(0.95, 0.95, 0.95)


class Flowchart(Flowable):
    def __init__(self, steps: tuple[str, ...] | list[str], fonts: FontSet, width: float, max_height: float,
                 font_size: float = 13) -> None:
        super().__init__()
        self.steps = list(steps) or ["（未设置办理流程）"]
        self.fonts, self.avail_w, self.max_h = fonts, width, max_height
        self._layout(font_size)

    def _boxes(self, box_w: float, size: float) -> list[tuple[Paragraph, float]]:
        style = ParagraphStyle("flow", fontName=self.fonts.body, fontSize=size, leading=size * 1.35,
                               alignment=TA_CENTER, wordWrap="CJK")
        out = []
        for i, text in enumerate(self.steps, start=1):
            p = Paragraph(f"<font name='{self.fonts.heading}'>{i}</font>　{esc(text)}", style)
            _, h = p.wrap(box_w - 2 * PAD, 10_000)
            out.append((p, h + 2 * PAD))
        return out

    @staticmethod
    def _column_height(heights: list[float]) -> float:
        return sum(heights) + GAP * max(len(heights) - 1, 0)

    def _layout(self, size: float) -> None:
        while True:
            one_w = min(110 * mm, self.avail_w * 0.72)
            boxes = self._boxes(one_w, size)
            if self._column_height([h for _, h in boxes]) <= self.max_h:
                self.columns, self.box_w, self.boxes, self.split = 1, one_w, boxes, len(boxes)
                break
            two_w = (self.avail_w - GUTTER) / 2
            boxes = self._boxes(two_w, size)
            heights = [h for _, h in boxes]
            # Split where the taller column is shortest; the second column leaves room for the elbow.
            best = min(range(1, len(boxes)), key=lambda k: max(self._column_height(heights[:k]),
                                                              self._column_height(heights[k:]) + GAP),
                       default=1)
            tall = max(self._column_height(heights[:best]), self._column_height(heights[best:]) + GAP)
            if tall <= self.max_h or size <= 8:
                self.columns, self.box_w, self.boxes, self.split = 2, two_w, boxes, best
                break
            size -= 1
        self.font_size = size
        cols = [self.boxes[: self.split], self.boxes[self.split:]]
        self.height = max(self._column_height([h for _, h in cols[0]]),
                          self._column_height([h for _, h in cols[1]]) + (GAP if cols[1] else 0)) + 8 * mm
        self.width = self.avail_w

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        return self.width, self.height

    def _arrow(self, x1: float, y1: float, x2: float, y2: float) -> None:
        """Straight line with a filled head at (x2, y2); only axis-parallel segments are used."""
        c = self.canv
        c.line(x1, y1, x2, y2)
        head = 2.2 * mm
        p = c.beginPath()
        if x1 == x2:  # vertical
            d = -1 if y2 < y1 else 1
            p.moveTo(x2, y2)
            p.lineTo(x2 - head / 2, y2 - d * head)
            p.lineTo(x2 + head / 2, y2 - d * head)
        else:
            d = -1 if x2 < x1 else 1
            p.moveTo(x2, y2)
            p.lineTo(x2 - d * head, y2 - head / 2)
            p.lineTo(x2 - d * head, y2 + head / 2)
        p.close()
        c.drawPath(p, stroke=0, fill=1)

    def draw(self) -> None:
        c = self.canv
        c.saveState()
        c.setStrokeColor(LINE)
        c.setFillColor(LINE)
        c.setLineWidth(0.9)
        xs = [(self.width - self.box_w) / 2] if self.columns == 1 else [0.0, self.box_w + GUTTER]
        top = self.height - 4 * mm
        last = len(self.boxes) - 1
        positions: list[tuple[float, float, float]] = []  # x, y_bottom, height per box
        for col, (start, end) in enumerate(((0, self.split), (self.split, len(self.boxes)))):
            y = top - (GAP if col == 1 else 0)
            for i in range(start, end):
                para, h = self.boxes[i]
                x = xs[col]
                y -= h
                positions.append((x, y, h))
                c.setFillColor(FILL)
                radius = h / 2 if i in (0, last) else 1.5 * mm  # start and end are terminators
                c.roundRect(x, y, self.box_w, h, min(radius, 6 * mm), stroke=1, fill=1)
                c.setFillColor(colors.black)
                para.wrap(self.box_w - 2 * PAD, 10_000)
                para.drawOn(c, x + PAD, y + PAD)
                c.setFillColor(LINE)
                y -= GAP
        for i in range(len(positions) - 1):
            x, yb, _ = positions[i]
            nx, nyb, nh = positions[i + 1]
            cx, ncx = x + self.box_w / 2, nx + self.box_w / 2
            if i + 1 == self.split:  # elbow from the foot of column 1 to the head of column 2
                low = yb - 4 * mm
                mid = x + self.box_w + GUTTER / 2
                high = nyb + nh + GAP / 2
                c.line(cx, yb, cx, low)
                c.line(cx, low, mid, low)
                c.line(mid, low, mid, high)
                c.line(mid, high, ncx, high)
                self._arrow(ncx, high, ncx, nyb + nh)
            else:
                self._arrow(cx, yb, ncx, nyb + nh)
        c.restoreState()
