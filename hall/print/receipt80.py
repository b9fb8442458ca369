"""80 mm thermal-roll variant of the per-ticket papers (受理回执 at the counter printer).

Same sheets as the A4 papers, laid out in one narrow column; the page is exactly as tall as its content,
so the printer feeds no blank paper. One page, so it is placed straight on the canvas (:mod:`hall.print.direct`):
the platypus document, frames and deferred pages cost more than the drawing on a counter's every print.
"""

from __future__ import annotations

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
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
                 fonts: FontSet | None = None) -> None:
        super().__init__(fonts)
        self.kind, self.ticket, self.hall, self.item = kind, ticket, hall, item
        self.sheets = build_sheets(kind, ticket, hall, item)
        self.title_meta = f"{self.sheets[0].title}（回执） {ticket.number}"
        self.pagesize = (ROLL_WIDTH, 297 * mm)
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
        out: list[Block] = []
        for i, sheet in enumerate(self.sheets):
            if i:
                out += [Gap(3 * mm), Drawn(HRFlowable(self.frame_width, 1, dash=(4, 2))), Gap(3 * mm)]
            out += self.sheet_blocks(sheet)
        return out

    def layout(self) -> list[PageOps]:
        # Measure first, then size the page to the content (plus 1 mm slack against rounding): one page.
        blocks = self.blocks()
        height = Paginator.measure(blocks, self.frame_width)
        self.pagesize = (ROLL_WIDTH, height + TOP + BOTTOM + 1 * mm)
        pages = self.paginator()
        pages.new_page()
        pages.flow(blocks)
        return pages.pages


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
