"""Light flowables for plain CJK text and grid tables, drawn straight on the canvas.

reportlab's Paragraph parses markup and its CJK line breaker is slow; a 76-item booklet of Paragraphs in
Tables costs ~6× bare canvas drawing. Our texts are plain (no markup), so these flowables wrap by summed
glyph widths (cached per font), keep Chinese punctuation off line starts (避头尾), and split tables by rows
across pages with the header repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import getFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

NO_LINE_START = set("，。、；：？！）》」』”’〕】…%,.;:?!)]×")
NO_LINE_END = set("（《「『“‘〔【([")

_widths: dict[str, tuple[dict[int, float], float]] = {}


_tables: dict[str, list[float]] = {}
_BMP = 0x10000


def _metrics(font_name: str) -> tuple[dict[int, float], float]:
    m = _widths.get(font_name)
    if m is None:
        font = getFont(font_name)
        face = font.face
        widths = getattr(face, "charWidths", None)
        if widths is None:  # a standard Type 1 font: ask it per character
            widths = {i: font.stringWidth(chr(i), 1000) for i in range(32, 256)}
        m = (widths, getattr(face, "defaultWidth", 1000))
        _widths[font_name] = m
    return m


def _table(font_name: str) -> list[float]:
    """Glyph widths (per 1000 units) indexed by code point over the BMP: summed at C speed with map()."""
    t = _tables.get(font_name)
    if t is None:
        widths, default = _metrics(font_name)
        t = [default] * _BMP
        for code, w in widths.items():
            if code < _BMP:
                t[code] = w
        _tables[font_name] = t
    return t


def text_width(text: str, font_name: str, size: float) -> float:
    t = _tables.get(font_name) or _table(font_name)
    try:
        return sum(map(t.__getitem__, map(ord, text))) * size / 1000
    except IndexError:  # a character beyond the BMP (rare): per-character look-up
        widths, default = _metrics(font_name)
        return sum(widths.get(ord(ch), default) for ch in text) * size / 1000


def wrap_text(text: str, font_name: str, size: float, width: float, first_indent: float = 0) -> list[str]:
    """Greedy wrap by character (CJK has no spaces), keeping Latin words whole where they fit.

    Each "\n"-separated paragraph starts a new line (its first line ``first_indent`` narrower).
    """
    if "\n" not in text:
        return _wrap_para(text, font_name, size, width, first_indent)
    lines: list[str] = []
    for para in text.split("\n"):
        lines += _wrap_para(para, font_name, size, width, first_indent)
    return lines


def _wrap_para(para: str, font_name: str, size: float, width: float, first_indent: float) -> list[str]:
    # Most cells and lines fit as they are: one C-speed width sum instead of the token loop.
    if text_width(para, font_name, size) <= width - first_indent:
        return [para]
    widths, default = _metrics(font_name)
    scale = size / 1000
    cws = [widths.get(ord(c), default) * scale for c in para]  # every glyph measured once
    lines: list[str] = []
    line: list[str] = []
    w = 0.0
    room = width - first_indent
    i = 0
    n = len(para)
    while i < n:
        ch = para[i]
        # Keep a run of ASCII letters/digits together (ticket numbers, 〔2019〕84号 digits).
        j = i + 1
        if ch.isascii() and ch.isalnum():
            while j < n and para[j].isascii() and (para[j].isalnum() or para[j] in "-_./"):
                j += 1
        elif ch == "×":  # a count ("×1") stays whole, and (NO_LINE_START) with what it counts
            while j < n and para[j].isdigit():
                j += 1
        tw = cws[i] if j == i + 1 else sum(cws[i:j])
        if line and w + tw > room and not (ch in NO_LINE_START and w + tw <= room + size * 1.05):
            # Carry the last character along rather than open a line with "×1" or "，" (避头尾).
            if (line[-1] in NO_LINE_END or ch in NO_LINE_START) and len(line) > 1:
                carry = [line.pop()]
                while len(line) > 1 and carry[0] in NO_LINE_START:  # "认）" of "…确认）”" moves together
                    carry.insert(0, line.pop())
                lines.append("".join(line))
                line, w = carry, sum(widths.get(ord(c), default) for c in carry) * scale
            else:
                lines.append("".join(line))
                line, w = [], 0.0
            room = width
        if tw > room and j > i + 1:  # a run longer than the line: break it anywhere
            for k in range(i, j):
                if line and w + cws[k] > room:
                    lines.append("".join(line))
                    line, w, room = [], 0.0, width
                line.append(para[k])
                w += cws[k]
        else:
            line.extend(para[i:j])
            w += tw
        i = j
    lines.append("".join(line))
    return lines


RGB = tuple[float, float, float]


class PageOps:
    """What a page (or one flowable) draws, collected first and then written in a few operator groups.

    All fills of one colour go into one path, all strokes of one colour/width/dash into another, and all text
    into one text object (BT … ET) with a font operator only where the font changes: per page that is a
    handful of paint operators instead of one per cell, and no canvas state saved per block.
    """

    __slots__ = ("draws", "fills", "strokes", "texts")

    def __init__(self) -> None:
        self.fills: dict[RGB, list[tuple[float, float, float, float]]] = {}
        self.strokes: dict[tuple[RGB, float, tuple[float, ...]], list[tuple[float, ...]]] = {}
        self.texts: list[tuple[str, float, float, float, str]] = []
        self.draws: list[Callable[[Canvas], None]] = []  # anything else (QR code, seal area), drawn last

    def draw(self, fn: Callable[[Canvas], None]) -> None:
        self.draws.append(fn)

    def text(self, font: str, size: float, x: float, y: float, text: str) -> None:
        if text:
            self.texts.append((font, size, x, y, text))

    def fill_rect(self, color: RGB, x: float, y: float, w: float, h: float) -> None:
        self.fills.setdefault(color, []).append((x, y, w, h))

    def stroke_rect(self, color: RGB, width: float, x: float, y: float, w: float, h: float) -> None:
        self.strokes.setdefault((color, width, ()), []).append((x, y, w, h))

    def stroke_line(self, color: RGB, width: float, dash: tuple[float, ...], x1: float, y1: float, x2: float,
                    y2: float) -> None:
        self.strokes.setdefault((color, width, dash), []).append((x1, y1, x2, y2, 0.0))

    def write(self, c: Canvas) -> None:
        """Paint order: shading, then rules, then text on top (text in black)."""
        for rgb, rects in self.fills.items():
            c.setFillColorRGB(*rgb)
            p = c.beginPath()
            for r in rects:
                p.rect(*r)
            c.drawPath(p, stroke=0, fill=1)
        if self.fills:
            c.setFillColorRGB(0, 0, 0)
        for (rgb, width, dash), shapes in self.strokes.items():
            c.setStrokeColorRGB(*rgb)
            c.setLineWidth(width)
            if dash:
                c.setDash(list(dash))
            p = c.beginPath()
            for s in shapes:
                if len(s) == 4:
                    p.rect(*s)
                else:
                    p.moveTo(s[0], s[1])
                    p.lineTo(s[2], s[3])
            c.drawPath(p, stroke=1, fill=0)
            if dash:
                c.setDash()
        if self.texts:
            t = c.beginText()
            current: tuple[str, float] | None = None
            for font, size, x, y, text in self.texts:
                if (font, size) != current:
                    t.setFont(font, size)
                    current = (font, size)
                t.setTextOrigin(x, y)
                t.textLine(text)  # unlike textOut, no width computed for a cursor we never use
            c.drawText(t)
        for fn in self.draws:
            fn(c)


def _rgb(color: colors.Color) -> RGB:
    return (color.red, color.green, color.blue)


class Text(Flowable):
    """A plain text block: font, size, leading, alignment, first-line indent; optional bold-ish label."""

    def __init__(self, text: str, font: str, size: float, leading: float | None = None, *, align: str = "left",
                 indent: float = 0, space_before: float = 0, space_after: float = 0,
                 label: str = "", label_font: str = "") -> None:
        super().__init__()
        self.text, self.font, self.size = str(text), font, size
        self.leading = leading or size * 1.35
        self.align, self.indent = align, indent
        self.spaceBefore, self.spaceAfter = space_before, space_after
        self.label, self.label_font = label, label_font or font
        self._lines: list[str] = []
        self._w = 0.0

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        if aw != self._w or not self._lines:
            label_w = text_width(self.label, self.label_font, self.size) if self.label else 0
            self._lines = wrap_text(self.text, self.font, self.size, aw, self.indent + label_w)
            self._w = aw
        self.width, self.height = aw, len(self._lines) * self.leading
        return self.width, self.height

    def split(self, aw: float, ah: float) -> list[Flowable]:
        self.wrap(aw, ah)
        n = int(ah // self.leading)
        if n <= 0 or n >= len(self._lines) or self.label:
            return []
        first = Text("", self.font, self.size, self.leading, align=self.align, indent=self.indent,
                     space_before=self.spaceBefore)
        first._lines, first._w = self._lines[:n], aw
        rest = Text("", self.font, self.size, self.leading, align=self.align, space_after=self.spaceAfter)
        rest._lines, rest._w = self._lines[n:], aw
        return [first, rest]

    def emit(self, ops: PageOps, x: float, y: float) -> None:
        """Add the wrapped lines to ``ops`` with the block's bottom-left corner at (x, y)."""
        base = y + self.height - self.size * 0.9 - (self.leading - self.size) / 2
        for i, line in enumerate(self._lines):
            lx = x + (self.indent if i == 0 else 0)
            if i == 0 and self.label:
                ops.text(self.label_font, self.size, lx, base, self.label)
                lx += text_width(self.label, self.label_font, self.size)
            if self.align == "center":
                lx = x + (self.width - text_width(line, self.font, self.size)) / 2
            elif self.align == "right":
                lx = x + self.width - text_width(line, self.font, self.size)
            ops.text(self.font, self.size, lx, base, line)
            base -= self.leading

    def draw(self) -> None:
        # One text object for the whole block: far fewer BT/ET and font operators than drawString per line.
        ops = PageOps()
        self.emit(ops, 0, 0)
        ops.write(self.canv)


class Grid(Flowable):
    """A ruled table of plain-text cells; ``spans`` maps (row, col) → last col it spans to (same row).

    Cells in ``head_cols`` and the first ``header_rows`` rows are shaded and use the heading font.
    """

    def __init__(self, rows: Sequence[Sequence[str]], col_widths: Sequence[float], font: str, head_font: str,
                 size: float = 10.5, *, header_rows: int = 0, head_cols: Sequence[int] = (),
                 spans: dict[tuple[int, int], int] | None = None, pad: float = 2.5,
                 rule: colors.Color | None = None, shade: colors.Color | None = None) -> None:
        super().__init__()
        self.rows = [list(r) for r in rows]
        self.col_widths = list(col_widths)
        self.font, self.head_font, self.size = font, head_font, size
        self.leading = size * 1.3
        self.header_rows, self.head_cols = header_rows, set(head_cols)
        self.spans = spans or {}
        self.pad = pad
        self.rule = rule or colors.Color(0.35, 0.35, 0.35)
        self.shade = shade or colors.Color(0.92, 0.92, 0.92)
        self._layout: list[tuple[float, list[tuple[float, float, list[str], str, int]]]] | None = None

    def _is_head(self, r: int, c: int) -> bool:
        return r < self.header_rows or c in self.head_cols

    def _compute(self) -> None:
        layout = []
        cols, spans, head_cols = self.col_widths, self.spans, self.head_cols
        size, leading, pad2 = self.size, self.leading, 2 * self.pad
        for r, row in enumerate(self.rows):
            cells = []
            x = 0.0
            c = 0
            lines_max = 1
            head_row = r < self.header_rows
            while c < len(row):
                last = spans.get((r, c), c) if spans else c
                w = cols[c] if last == c else sum(cols[c:last + 1])
                font = self.head_font if head_row or c in head_cols else self.font
                lines = wrap_text(row[c], font, size, w - pad2)
                cells.append((x, w, lines, font, c))
                if len(lines) > lines_max:
                    lines_max = len(lines)
                x += w
                c = last + 1
            layout.append((lines_max * leading + pad2, cells))
        self._layout = layout

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        if self._layout is None:
            self._compute()
        assert self._layout is not None
        self.width = sum(self.col_widths)
        self.height = sum(h for h, _ in self._layout)
        return self.width, self.height

    def _sub(self, rows: list[list[str]], spans: dict[tuple[int, int], int], header: int) -> Grid:
        g = Grid(rows, self.col_widths, self.font, self.head_font, self.size, header_rows=header,
                 head_cols=tuple(self.head_cols), spans=spans, pad=self.pad, rule=self.rule, shade=self.shade)
        return g

    def split(self, aw: float, ah: float) -> list[Flowable]:
        self.wrap(aw, ah)
        assert self._layout is not None
        used = sum(h for h, _ in self._layout[: self.header_rows])
        n = self.header_rows
        while n < len(self._layout) and used + self._layout[n][0] <= ah:
            used += self._layout[n][0]
            n += 1
        if n <= self.header_rows or n >= len(self.rows):
            return []
        head = self.rows[: self.header_rows]
        first_spans = {k: v for k, v in self.spans.items() if k[0] < n}
        rest_spans = {(r - n + self.header_rows, c): v for (r, c), v in self.spans.items() if r >= n}
        rest_spans.update({k: v for k, v in self.spans.items() if k[0] < self.header_rows})
        return [self._sub(self.rows[:n], first_spans, self.header_rows),
                self._sub(head + self.rows[n:], rest_spans, self.header_rows)]

    def emit(self, ops: PageOps, x0: float, y0: float) -> None:
        """Add shading, rules and cell text to ``ops`` with the table's bottom-left corner at (x0, y0)."""
        assert self._layout is not None
        rule, shade, size, leading, pad = _rgb(self.rule), _rgb(self.shade), self.size, self.leading, self.pad
        drop = size * 0.95 + (leading - size) / 2
        y = y0 + self.height
        for r, (h, cells) in enumerate(self._layout):
            y -= h
            for x, w, lines, font, col in cells:
                x += x0
                if self._is_head(r, col):
                    ops.fill_rect(shade, x, y, w, h)
                ops.stroke_rect(rule, 0.5, x, y, w, h)
                # Vertically centred block of lines.
                ty = y + h / 2 + len(lines) * leading / 2 - drop
                for line in lines:
                    ops.text(font, size, x + pad, ty, line)
                    ty -= leading

    def draw(self) -> None:
        # All shading in one path and all rules in another: two paint operators per table, not two per cell.
        ops = PageOps()
        self.emit(ops, 0, 0)
        self.canv.saveState()
        ops.write(self.canv)
        self.canv.restoreState()


class KeepWithNext(Flowable):
    """A heading glued to what follows it: never alone at a page foot, yet the follower may still split.

    Replaces platypus' keepWithNext, whose KeepTogether moves a long table whole to the next page (leaving
    white space) and deep-copies the frame on every wrap.
    """

    def __init__(self, head: Flowable, body: Flowable) -> None:
        super().__init__()
        self.head, self.body = head, body
        self.spaceBefore = head.getSpaceBefore()
        self.spaceAfter = body.getSpaceAfter()

    def _gap(self) -> float:
        return self.head.getSpaceAfter() + self.body.getSpaceBefore()

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        _, hh = self.head.wrap(aw, ah)
        _bw, bh = self.body.wrap(aw, ah)
        self._hh, self._bh = hh, bh
        self.width, self.height = aw, hh + self._gap() + bh
        return self.width, self.height

    def split(self, aw: float, ah: float) -> list[Flowable]:
        self.wrap(aw, ah)
        room = ah - self._hh - self._gap()
        if room <= 0:
            return []
        parts = self.body.split(aw, room)
        if len(parts) < 2:
            return []  # nothing of the body fits beside the heading: both go to the next page
        return [KeepWithNext(self.head, parts[0]), *parts[1:]]

    def emit(self, ops: PageOps, x: float, y: float) -> None:
        self.head.emit(ops, x, y + self.height - self._hh)  # type: ignore[attr-defined]
        self.body.emit(ops, x, y)  # type: ignore[attr-defined]

    def draw(self) -> None:
        self.head.drawOn(self.canv, 0, self.height - self._hh)
        self.body.drawOn(self.canv, 0, 0)
