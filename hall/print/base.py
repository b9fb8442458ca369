"""Renderer base: GB/T 9704-style A4 page, styles, "第 X 页 共 Y 页", QR code, seal area, signature lines.

Modelled on pretix's reportlab renderer: a document template with page hooks, a canvas that defers pages
so the total is known when the footer is drawn, and small flowables every paper shares.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from hall.print.fastflow import Text
from hall.print.fonts import FontSet, cjk_fonts
from hall.print.qr import FastQrCode

# GB/T 9704-2012 §5.2.1: 天头 37 mm, 订口 28 mm; type area 156 × 225 mm leaves 26 mm right, 35 mm bottom.
MARGIN_TOP = 37 * mm
MARGIN_BOTTOM = 35 * mm
MARGIN_LEFT = 28 * mm
MARGIN_RIGHT = 26 * mm

Out = str | Path | BinaryIO | None


def esc(text: object) -> str:
    """Text for a Paragraph: data never becomes markup."""
    return escape(str(text)).replace("\n", "<br/>")


def zh_date(d: date | datetime | None) -> str:
    if d is None:
        return ""
    return f"{d.year}年{d.month}月{d.day}日"


def zh_datetime(d: datetime | None) -> str:
    if d is None:
        return ""
    return f"{zh_date(d)} {d.hour:02d}:{d.minute:02d}"


@dataclass(frozen=True)
class Styles:
    fonts: FontSet
    hall: ParagraphStyle
    title: ParagraphStyle
    docno: ParagraphStyle
    salutation: ParagraphStyle
    body: ParagraphStyle
    heading: ParagraphStyle
    cell: ParagraphStyle
    cell_head: ParagraphStyle
    small: ParagraphStyle
    right: ParagraphStyle
    center: ParagraphStyle


def make_styles(fonts: FontSet, scale: float = 1.0) -> Styles:
    """Styles for A4 (scale 1) or the 80 mm roll (scale < 1)."""

    def st(name: str, font: str, size: float, leading: float, **kw: object) -> ParagraphStyle:
        return ParagraphStyle(name, fontName=font, fontSize=size * scale, leading=leading * scale,
                              wordWrap="CJK", **kw)

    return Styles(
        fonts=fonts,
        hall=st("hall", fonts.heading, 14, 20, alignment=TA_CENTER),
        # 二号小标宋 (22 pt) per GB/T 9704 for the title.
        title=st("title", fonts.title, 22, 28, alignment=TA_CENTER, spaceBefore=2, spaceAfter=2),
        docno=st("docno", fonts.body, 11, 15, alignment=TA_CENTER, spaceAfter=4),
        salutation=st("salutation", fonts.body, 13, 20, spaceBefore=2),
        # 仿宋 body; 13 pt rather than 三号 (16 pt) so a notice with its field grid fits one A4 page.
        body=st("body", fonts.body, 13, 20, firstLineIndent=26 * scale, spaceAfter=2),
        heading=st("heading", fonts.heading, 12, 16, spaceBefore=4, spaceAfter=2),
        cell=st("cell", fonts.body, 10.5, 13.5),
        cell_head=st("cell_head", fonts.heading, 10.5, 13.5),
        small=st("small", fonts.body, 9, 12),
        right=st("right", fonts.body, 13, 20, alignment=TA_RIGHT),
        center=st("center", fonts.body, 11, 15, alignment=TA_CENTER),
    )


def qr_drawing(payload: str, size: float) -> FastQrCode:
    """A QR code flowable drawn straight on the canvas (error correction M, 4-module quiet zone).

    reportlab's QrCode flowable (via :class:`hall.print.qr.FastQrCode`) is used rather than a graphics
    Drawing, whose renderer selects Helvetica and would leave an unembedded font in every PDF.
    """
    return FastQrCode(payload, width=size, height=size, qrLevel="M", qrBorder=4)


class SealArea(Flowable):
    """Issuer and date with a seal placeholder: a dashed circle where the seal goes.

    Not a fake seal: a light dashed outline marked 盖章处 so the clerk knows where to stamp; per GB/T 9704
    the seal presses on the issuer name and date, so the circle is centred on them.
    """

    def __init__(self, issuer: str, when: date, fonts: FontSet, width: float, diameter: float = 40 * mm,
                 font_size: float = 13) -> None:
        super().__init__()
        self.issuer, self.when, self.fonts = issuer, when, fonts
        self.width, self.diameter, self.font_size = width, diameter, font_size
        self.height = diameter + 2 * mm

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        r = self.diameter / 2
        cx = self.width - r
        cy = r + 1 * mm
        c.saveState()
        c.setStrokeColor(colors.Color(0.6, 0.6, 0.6))
        c.setDash(3, 2)
        c.setLineWidth(0.6)
        c.circle(cx, cy, r)
        c.setFillColor(colors.Color(0.5, 0.5, 0.5))
        c.setFont(self.fonts.body, 8)
        c.drawCentredString(cx, cy + r - 6 * mm, "（盖章处）")
        c.setFillColor(colors.black)
        # Long hall names shrink so the issuer line stays inside the type area.
        size = self.font_size
        while size > 7 and c.stringWidth(self.issuer, self.fonts.body, size) > self.width:
            size -= 0.5
        c.setFont(self.fonts.body, size)
        name_x = min(cx, self.width - c.stringWidth(self.issuer, self.fonts.body, size) / 2)
        c.drawCentredString(name_x, cy + 1 * mm, self.issuer)
        c.setFont(self.fonts.body, self.font_size)
        c.drawCentredString(cx, cy - self.font_size - 1 * mm, zh_date(self.when))
        c.restoreState()


class SignatureLines(Flowable):
    """Signature lines: "label：________" and a "年 月 日" date, on one row when wide, else two."""

    def __init__(self, labels: Sequence[str], fonts: FontSet, width: float, font_size: float = 12,
                 with_date: bool = True) -> None:
        super().__init__()
        self.labels, self.fonts, self.width = list(labels), fonts, width
        self.font_size, self.with_date = font_size, with_date
        self.date_text = "　　　年　　月　　日"
        label_w = max((pdfmetrics.stringWidth(f"{lb}：", fonts.body, font_size) for lb in self.labels),
                      default=0)
        date_w = pdfmetrics.stringWidth(self.date_text, fonts.body, font_size)
        self.one_row = not with_date or label_w + 28 * mm + date_w + 4 * mm <= width
        self.row = font_size * 2.0
        per = 1 if self.one_row else 2
        self.height = self.row * per * len(self.labels)

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        c.saveState()
        c.setFont(self.fonts.body, self.font_size)
        c.setLineWidth(0.5)
        y = self.height
        date_w = c.stringWidth(self.date_text, self.fonts.body, self.font_size)
        for label in self.labels:
            y -= self.row
            base = y + self.font_size * 0.5
            text = f"{label}："
            c.drawString(0, base, text)
            x0 = c.stringWidth(text, self.fonts.body, self.font_size) + 2
            line_end = self.width - date_w - 4 * mm if self.one_row and self.with_date else self.width
            c.line(x0, base - 2, line_end, base - 2)
            if self.with_date:
                if not self.one_row:
                    y -= self.row
                    base = y + self.font_size * 0.5
                c.drawRightString(self.width, base, self.date_text)
        c.restoreState()


class NumberedCanvas(Canvas):
    """Defers every page until save() so each footer can say 第 X 页 共 Y 页 with the true total."""

    def __init__(self, *args: object, decorate: Callable[[Canvas, int, int], None] | None = None,
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._saved_pages: list[dict] = []
        self._decorate = decorate

    def showPage(self) -> None:
        self._saved_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._saved_pages)
        for number, state in enumerate(self._saved_pages, start=1):
            self.__dict__.update(state)
            if self._decorate is not None:
                self._decorate(self, number, total)
            Canvas.showPage(self)
        Canvas.save(self)


def page_x_of_y(number: int, total: int) -> str:
    return f"第 {number} 页 共 {total} 页"


class Renderer:
    """Base of every document: subclasses provide ``story()`` and may override ``footer_left``."""

    pagesize: tuple[float, float] = A4
    margins = (MARGIN_TOP, MARGIN_RIGHT, MARGIN_BOTTOM, MARGIN_LEFT)
    title_meta = "文书"

    def __init__(self, fonts: FontSet | None = None) -> None:
        self.fonts = fonts or cjk_fonts()
        self.styles = make_styles(self.fonts)

    @property
    def frame_width(self) -> float:
        return self.pagesize[0] - self.margins[1] - self.margins[3]

    def story(self) -> list[Flowable]:
        raise NotImplementedError

    def prepare(self) -> list[Flowable]:
        """The story to build; a renderer that sizes its page from the content measures it here."""
        return self.story()

    def footer_left(self) -> str:
        return ""

    def footer_right(self) -> str:
        return ""

    def decorate(self, c: Canvas, number: int, total: int) -> None:
        """Footer on every page: 第 X 页 共 Y 页 centred; below it a left and a right note."""
        w = self.pagesize[0]
        y = max(self.margins[2] - 12 * mm, 9 * mm)
        c.saveState()
        c.setFont(self.fonts.body, 10)
        c.drawCentredString(w / 2, y, page_x_of_y(number, total))
        c.setFont(self.fonts.body, 8)
        if left := self.footer_left():
            c.drawString(self.margins[3], y - 5 * mm, left)
        if right := self.footer_right():
            c.drawRightString(w - self.margins[1], y - 5 * mm, right)
        c.restoreState()

    def make_doc(self, target: BinaryIO) -> BaseDocTemplate:
        top, right, bottom, left = self.margins
        doc = BaseDocTemplate(target, pagesize=self.pagesize, leftMargin=left, rightMargin=right,
                              topMargin=top, bottomMargin=bottom, title=self.title_meta, author="便民服务中心",
                              creator="Hall", invariant=True)
        frame = Frame(left, bottom, self.pagesize[0] - left - right, self.pagesize[1] - top - bottom,
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body")
        doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
        return doc

    def build(self, doc: BaseDocTemplate, story: list[Flowable]) -> None:
        doc.build(story, canvasmaker=self._canvasmaker)

    def _canvasmaker(self, *args: object, **kwargs: object) -> NumberedCanvas:
        # Our font from the first operator on, so no unembedded Helvetica lands in the PDF.
        kwargs["initialFontName"] = kwargs.get("initialFontName") or self.fonts.body
        return NumberedCanvas(*args, decorate=self.decorate, **kwargs)

    def render(self, out: Out = None) -> bytes:
        """Write the PDF to ``out`` (path or binary file) and return its bytes."""
        story = self.prepare()
        buf = io.BytesIO()
        doc = self.make_doc(buf)
        self.build(doc, story)
        data = buf.getvalue()
        if isinstance(out, (str, Path)):
            Path(out).write_bytes(data)
        elif out is not None:
            out.write(data)
        return data


def para(text: object, style: ParagraphStyle) -> Text:
    """Plain text in a paragraph style, laid out by the fast :class:`Text` flowable (no markup)."""
    align = {TA_CENTER: "center", TA_RIGHT: "right"}.get(style.alignment, "left")
    return Text(str(text), style.fontName, style.fontSize, style.leading, align=align,
                indent=style.firstLineIndent, space_before=style.spaceBefore, space_after=style.spaceAfter)


__all__ = ["TA_LEFT", "Renderer", "SealArea", "SignatureLines", "Styles", "esc", "make_styles", "para",
           "qr_drawing", "zh_date", "zh_datetime"]
