"""Pages laid out and drawn straight on a canvas: no platypus document, frames or deferred pages.

For long public documents (the 76-item booklet) platypus' per-flowable machinery — frame bookkeeping,
``drawOn`` with a saved/restored graphics state per flowable, a canvas that copies its state per page so the
footer can name the total — costs more than drawing the text itself. Here the fast flowables of
:mod:`hall.print.fastflow` (``Text``, ``Grid``, ``KeepWithNext``, plus ``Gap``) are placed by a small
paginator with platypus' own spacing rules (space before dropped at a page top, adjacent spaces
overlapping, splitting by lines or rows), each page collects what it draws in a :class:`PageOps`, and only
when every page is known — so the total page count and any table of contents are — is each page written
once: shading, rules and text as a few operators per page.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

from hall.print.base import Out, Renderer, page_x_of_y
from hall.print.fastflow import PageOps, text_width

log = logging.getLogger("hall.print.direct")

_FUZZ = 1e-6  # platypus' tolerance for layout arithmetic


class Block(Protocol):
    """What the paginator needs of a flowable (``Text``, ``Grid``, ``KeepWithNext`` and ``Gap`` have it)."""

    def wrap(self, aw: float, ah: float) -> tuple[float, float]: ...
    def split(self, aw: float, ah: float) -> list: ...
    def getSpaceBefore(self) -> float: ...
    def getSpaceAfter(self) -> float: ...
    def emit(self, ops: PageOps, x: float, y: float) -> None: ...


class Whole:
    """A block that never splits across pages and carries no space of its own before or after."""

    def split(self, aw: float, ah: float) -> list:
        return []

    def getSpaceBefore(self) -> float:
        return 0.0

    def getSpaceAfter(self) -> float:
        return 0.0


class Gap(Whole):
    """Vertical white space (platypus' Spacer)."""

    def __init__(self, height: float) -> None:
        self.height = height

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        return aw, self.height

    def emit(self, ops: PageOps, x: float, y: float) -> None:
        pass


class Drawn(Whole):
    """Any platypus flowable that only draws (QR code, rule, signature lines, seal area) as a direct block:
    wrapped as platypus would, drawn at its place with its own ``draw`` in a saved canvas state."""

    def __init__(self, flowable: Flowable, *, align: str = "left", space_before: float | None = None,
                 space_after: float | None = None) -> None:
        self.flowable, self.align = flowable, align
        self.space_before = flowable.getSpaceBefore() if space_before is None else space_before
        self.space_after = flowable.getSpaceAfter() if space_after is None else space_after
        self.width = self.height = 0.0
        self._aw = 0.0

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        self.width, self.height = self.flowable.wrap(aw, ah)
        self._aw = aw
        return aw, self.height

    def getSpaceBefore(self) -> float:
        return self.space_before

    def getSpaceAfter(self) -> float:
        return self.space_after

    def emit(self, ops: PageOps, x: float, y: float) -> None:
        if self.align == "center":
            x += (self._aw - self.width) / 2
        flowable = self.flowable

        def draw(c: Canvas) -> None:
            c.saveState()
            c.translate(x, y)
            flowable.canv = c
            flowable.draw()
            del flowable.canv
            c.restoreState()

        ops.draw(draw)


class Columns(Whole):
    """One row of side-by-side cells, each a stack of blocks, top-aligned — what a one-row platypus Table
    without rules does (cells stack their flowables with their spaces; padding above and below the row)."""

    def __init__(self, cells: Sequence[tuple[float, Sequence[Block]]], *, pad_top: float = 3,
                 pad_bottom: float = 3) -> None:
        self.cells = [(width, list(blocks)) for width, blocks in cells]
        self.pad_top, self.pad_bottom = pad_top, pad_bottom
        self.width = self.height = 0.0
        self._heights: list[list[float]] = []

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        self._heights = [[b.wrap(w, ah)[1] for b in blocks] for w, blocks in self.cells]
        tallest = 0.0
        for (_w, blocks), heights in zip(self.cells, self._heights, strict=True):
            if blocks:
                inner = sum(h + b.getSpaceBefore() + b.getSpaceAfter() for b, h in zip(blocks, heights, strict=True))
                tallest = max(tallest, inner - blocks[0].getSpaceBefore() - blocks[-1].getSpaceAfter())
        self.width, self.height = aw, tallest + self.pad_top + self.pad_bottom
        return aw, self.height

    def emit(self, ops: PageOps, x: float, y: float) -> None:
        cx = x
        for (w, blocks), heights in zip(self.cells, self._heights, strict=True):
            cy = y + self.height - self.pad_top
            for i, (b, h) in enumerate(zip(blocks, heights, strict=True)):
                if i:
                    cy -= b.getSpaceBefore()
                cy -= h
                b.emit(ops, cx, cy)
                cy -= b.getSpaceAfter()
            cx += w


class Paginator:
    """Places blocks top-down in one frame per page, starting new pages as platypus would."""

    def __init__(self, left: float, bottom: float, width: float, height: float) -> None:
        self.left, self.bottom, self.width, self.top = left, bottom, width, bottom + height
        self.pages: list[PageOps] = []
        self.y = self.top
        self.at_top = True
        self.prev_after = 0.0

    def new_page(self) -> PageOps:
        ops = PageOps()
        self.pages.append(ops)
        self.y, self.at_top, self.prev_after = self.top, True, 0.0
        return ops

    def _space(self, b: Block) -> float:
        # Space before is dropped at a page top, and overlaps the space after the previous block.
        return 0.0 if self.at_top else max(b.getSpaceBefore() - self.prev_after, 0.0)

    def _add(self, b: Block, force: bool = False) -> bool:
        s = self._space(b)
        room = self.y - self.bottom - s
        if room <= 0 and not force:
            return False
        _, h = b.wrap(self.width, room)
        if self.y - s - h < self.bottom - _FUZZ and not force:
            return False
        b.emit(self.pages[-1], self.left, self.y - s - h)
        after = b.getSpaceAfter()
        y = self.y - s - h - after
        if y != self.y:
            self.at_top = False
        self.y, self.prev_after = y, after
        return True

    @staticmethod
    def measure(blocks: Sequence[Block], width: float) -> float:
        """The height ``blocks`` take from a page top, unsplit, with the same spacing rules as :meth:`flow`."""
        height, prev_after, at_top = 0.0, 0.0, True
        for b in blocks:
            s = 0.0 if at_top else max(b.getSpaceBefore() - prev_after, 0.0)
            _, h = b.wrap(width, 1e9)
            after = b.getSpaceAfter()
            if s + h + after:
                at_top = False
            height += s + h + after
            prev_after = after
        return height

    def flow(self, blocks: Iterable[Block]) -> None:
        """Lay ``blocks`` out from the current position on (call :meth:`new_page` first)."""
        stack = list(blocks)[::-1]
        while stack:
            b = stack.pop()
            if self._add(b):
                continue
            room = self.y - self.bottom - self._space(b)
            parts = b.split(self.width, room) if room > 0 else []
            if len(parts) > 1 and self._add(parts[0]):
                stack.extend(parts[:0:-1])
                continue
            if self.at_top:
                # Taller than an empty page and unsplittable: print it rather than fail the whole booklet.
                # Its kind only: a block's text is the citizen's data, which the log never carries.
                log.warning("block taller than the page: %s", type(b).__name__)
                self._add(b, force=True)
                continue
            self.new_page()
            stack.append(b)


class DirectRenderer(Renderer):
    """A renderer whose pages come from :meth:`layout` (a list of :class:`PageOps`) instead of a story."""

    def layout(self) -> list[PageOps]:
        raise NotImplementedError

    def paginator(self) -> Paginator:
        top, right, bottom, left = self.margins
        return Paginator(left, bottom, self.pagesize[0] - left - right, self.pagesize[1] - top - bottom)

    def footer(self, ops: PageOps, number: int, total: int) -> None:
        """Same footer as :meth:`Renderer.decorate`: 第 X 页 共 Y 页 centred, a left and a right note below."""
        w = self.pagesize[0]
        y = max(self.margins[2] - 12 * mm, 9 * mm)
        body = self.fonts.body
        mark = page_x_of_y(number, total)
        ops.text(body, 10, (w - text_width(mark, body, 10)) / 2, y, mark)
        if left := self.footer_left():
            ops.text(body, 8, self.margins[3], y - 5 * mm, left)
        if right := self.footer_right():
            ops.text(body, 8, w - self.margins[1] - text_width(right, body, 8), y - 5 * mm, right)

    def write(self, pages: Sequence[PageOps], target: io.BytesIO) -> None:
        c = Canvas(target, pagesize=self.pagesize, invariant=True, initialFontName=self.fonts.body)
        c.setTitle(self.title_meta)
        c.setAuthor("便民服务中心")
        c.setCreator("Hall")
        total = len(pages)
        for number, ops in enumerate(pages, start=1):
            self.footer(ops, number, total)
            ops.write(c)
            c.showPage()
        c.save()

    def render(self, out: Out = None) -> bytes:
        buf = io.BytesIO()
        self.write(self.layout(), buf)
        data = buf.getvalue()
        if isinstance(out, (str, Path)):
            Path(out).write_bytes(data)
        elif out is not None:
            out.write(data)
        return data
