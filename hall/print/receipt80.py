"""Thermal-roll variant of the per-ticket papers (受理回执 at the counter printer): 80 mm, 58 mm, or the width a
printer's driver allows (:mod:`hall.print.roll_paper`).

Same sheets as the A4 papers, laid out in one narrow column at fixed type sizes; each sheet (a 容缺 notice, its
promise, each of their copies) is a page of its own, exactly as tall as its content, so the printer feeds no
blank paper and a receipt with copies comes out as separate slips to tear, not one 71 cm strip. Placed straight
on the canvas (:mod:`hall.print.direct`): the platypus document, frames and deferred pages cost more than the
drawing on a counter's every print.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import HRFlowable

from hall.print.base import SealArea, SignatureLines, page_x_of_y, para, qr_drawing
from hall.print.data import HallInfo, ItemNotice, TicketPaper
from hall.print.direct import Block, DirectRenderer, Drawn, Gap, Paginator
from hall.print.fastflow import PageOps, Text, text_width
from hall.print.fonts import FontSet
from hall.print.sheet import Sheet, TableSection, TextSection
from hall.print.ticket_papers import build_sheets

ROLL_WIDTH = 80 * mm
SIDE = 4 * mm  # most 80 mm printers print 72 mm wide
TOP = 4 * mm
BOTTOM = 12 * mm  # room for 第 X 页 共 Y 页 and the tear-off


QR_PAD = 3  # the space a one-cell table put around the code before


class Receipt80Renderer(DirectRenderer):
    margins = (TOP, SIDE, BOTTOM, SIDE)

    def __init__(self, kind: str, ticket: TicketPaper, hall: HallInfo, item: ItemNotice | None = None,
                 fonts: FontSet | None = None, *, paper_width: float = ROLL_WIDTH,
                 content_width: float | None = None) -> None:
        """``paper_width`` is the page width in points; ``content_width`` the column the text fills (the roll's
        print width by default: paper less 4 mm each side). A column as wide as the paper has no side margins:
        that is how a driver's paintable area, already inside the printer's margins, is filled."""
        super().__init__(fonts)
        self.kind, self.ticket, self.hall, self.item = kind, ticket, hall, item
        self.sheets = build_sheets(kind, ticket, hall, item)
        self.title_meta = f"{self.sheets[0].title}（回执） {ticket.number}"
        column = paper_width - 2 * SIDE if content_width is None else min(content_width, paper_width)
        side = (paper_width - column) / 2
        self.margins = (TOP, side, BOTTOM, side)
        self.pagesize = (paper_width, 297 * mm)
        self.page_heights: list[float] = []
        f = self.fonts

        def st(name: str, font: str, size: float, **kw: object) -> ParagraphStyle:
            return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.35, wordWrap="CJK", **kw)

        self.s_hall = st("r_hall", f.heading, 11, alignment=TA_CENTER)
        self.s_title = st("r_title", f.title, 15, alignment=TA_CENTER, spaceBefore=2, spaceAfter=2)
        self.s_center = st("r_center", f.body, 8.5, alignment=TA_CENTER)
        self.s_text = st("r_text", f.body, 9)
        self.s_head = st("r_head", f.heading, 9.5, spaceBefore=3, spaceAfter=1)
        self.s_small = st("r_small", f.body, 7.5)

    def footer(self, ops: PageOps, number: int, total: int) -> None:
        mark = page_x_of_y(number, total)
        body = self.fonts.body
        ops.text(body, 7.5, (self.pagesize[0] - text_width(mark, body, 7.5)) / 2, 6 * mm, mark)

    def sheet_blocks(self, sheet: Sheet) -> list[Block]:
        w = self.frame_width
        out: list[Block] = [para(self.hall.name, self.s_hall), para(sheet.title + "（回执）", self.s_title)]
        if sheet.copy_label:
            out.append(para(sheet.copy_label, self.s_center))
        out += [Drawn(qr_drawing(sheet.number, 28 * mm), align="center", space_before=QR_PAD, space_after=QR_PAD),
                para(f"办件编号：{sheet.number}", self.s_center), Drawn(HRFlowable(w, 0.5, dash=(2, 2)))]
        if sheet.recipient:
            out.append(para(sheet.recipient, self.s_text))
        out += [para(t, self.s_text) for t in sheet.statements]
        out += [_field(label, value, self.fonts, self.s_text) for label, value in sheet.fields]
        for section in sheet.sections:
            out.append(para(section.heading, self.s_head))
            if isinstance(section, TextSection):
                lines = [f"{i}. {x}" if section.numbered else x for i, x in enumerate(section.lines, start=1)]
            else:
                lines = [_row_line(section, row) for row in section.rows] or [section.empty_text]
            out += [para(x, self.s_text) for x in lines]
        out += [para(f"{i}. {n}", self.s_small) for i, n in enumerate(sheet.notes, start=1)]
        out.append(Gap(2 * mm))
        if sheet.signatures:
            out.append(Drawn(SignatureLines(sheet.signatures, self.fonts, w, font_size=9)))
        if sheet.seal:
            out.append(Drawn(SealArea(self.hall.issuer, self.ticket.paper_date, self.fonts, w, diameter=30 * mm,
                                      font_size=9)))
        return out

    def blocks(self) -> list[Block]:
        """Every sheet in one column (what :meth:`layout` puts one sheet per page)."""
        return [b for sheet in self.sheets for b in self.sheet_blocks(sheet)]

    def layout(self) -> list[PageOps]:
        # One page per sheet; each measured first and sized to its content (plus 1 mm slack against rounding).
        out: list[PageOps] = []
        self.page_heights = []
        for sheet in self.sheets:
            blocks = self.sheet_blocks(sheet)
            height = Paginator.measure(blocks, self.frame_width) + TOP + BOTTOM + 1 * mm
            self.pagesize = (self.pagesize[0], height)
            pages = self.paginator()
            pages.new_page()
            pages.flow(blocks)
            out += pages.pages
            self.page_heights += [height] * len(pages.pages)
        return out

    def write(self, pages: Sequence[PageOps], target: io.BytesIO) -> None:
        c = Canvas(target, pagesize=self.pagesize, invariant=True, initialFontName=self.fonts.body)
        c.setTitle(self.title_meta)
        c.setAuthor("便民服务中心")
        c.setCreator("Hall")
        total = len(pages)
        for number, (ops, height) in enumerate(zip(pages, self.page_heights, strict=True), start=1):
            c.setPageSize((self.pagesize[0], height))
            self.footer(ops, number, total)
            ops.write(c)
            c.showPage()
        c.save()


def _field(label: str, value: str, fonts: FontSet, style: ParagraphStyle) -> Text:
    return Text(value or "—", style.fontName, style.fontSize, style.leading, label=f"{label}：",
                label_font=fonts.heading)


def _row_line(section: TableSection, row: tuple[str, ...]) -> str:
    # "1. 名称（原件 ×1，出具：村委会）" for material tables, "label：value；…" for others.
    if section.header[:3] == ("序号", "材料名称", "形式"):
        extra = f"，{row[4]}" if len(row) > 4 and row[4] else ""
        state = f"，{row[5]}" if len(row) > 5 else ""
        return f"{row[0]}. {row[1]}（{row[2]}×{row[3]}{extra}{state}）"
    return "；".join(f"{h}：{v}" for h, v in zip(section.header[1:], row[1:], strict=False) if v)
