"""80 mm thermal-roll variant of the per-ticket papers (受理回执 at the counter printer).

Same sheets as the A4 papers, laid out in one narrow column; the page is exactly as tall as its content,
so the printer feeds no blank paper.
"""

from __future__ import annotations

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, HRFlowable, Spacer, Table, TableStyle

from hall.print.base import Renderer, SealArea, SignatureLines, para, qr_drawing
from hall.print.data import HallInfo, ItemNotice, TicketPaper
from hall.print.fastflow import Text
from hall.print.fonts import FontSet
from hall.print.sheet import Sheet, TableSection, TextSection
from hall.print.ticket_papers import build_sheets

ROLL_WIDTH = 80 * mm
SIDE = 4 * mm  # most 80 mm printers print 72 mm wide
TOP = 4 * mm
BOTTOM = 12 * mm  # room for 第 X 页 共 Y 页 and the tear-off


class Receipt80Renderer(Renderer):
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

    def decorate(self, c, number: int, total: int) -> None:  # type: ignore[no-untyped-def]
        c.saveState()
        c.setFont(self.fonts.body, 7.5)
        c.drawCentredString(self.pagesize[0] / 2, 6 * mm, f"第 {number} 页 共 {total} 页")
        c.restoreState()

    def sheet_story(self, sheet: Sheet) -> list[Flowable]:
        w = self.frame_width
        out: list[Flowable] = [para(self.hall.name, self.s_hall), para(sheet.title + "（回执）", self.s_title)]
        if sheet.copy_label:
            out.append(para(sheet.copy_label, self.s_center))
        qr = Table([[qr_drawing(sheet.number, 28 * mm)]], colWidths=[w],
                   style=TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER"), ("FONTNAME", (0, 0), (-1, -1),
                                                                              self.fonts.body)]))
        out += [qr, para(f"办件编号：{sheet.number}", self.s_center), HRFlowable(w, 0.5, dash=(2, 2))]
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
        out.append(Spacer(1, 2 * mm))
        if sheet.signatures:
            out.append(SignatureLines(sheet.signatures, self.fonts, w, font_size=9))
        if sheet.seal:
            out.append(SealArea(self.hall.name, self.ticket.paper_date, self.fonts, w, diameter=30 * mm,
                                font_size=9))
        return out

    def story(self) -> list[Flowable]:
        story: list[Flowable] = []
        for i, sheet in enumerate(self.sheets):
            if i:
                story += [Spacer(1, 3 * mm), HRFlowable(self.frame_width, 1, dash=(4, 2)), Spacer(1, 3 * mm)]
            story += self.sheet_story(sheet)
        return story

    def prepare(self) -> list[Flowable]:
        # Measure first, then size the page to the content (plus 1 mm slack against rounding).
        story = self.story()
        height = 0.0
        for f in story:
            _, h = f.wrap(self.frame_width, 10_000 * mm)
            height += h + f.getSpaceBefore() + f.getSpaceAfter()
        self.pagesize = (ROLL_WIDTH, height + TOP + BOTTOM + 1 * mm)
        return story


def _field(label: str, value: str, fonts: FontSet, style: ParagraphStyle) -> Flowable:
    return Text(value or "—", style.fontName, style.fontSize, style.leading, label=f"{label}：",
                label_font=fonts.heading)


def _row_line(section: TableSection, row: tuple[str, ...]) -> str:
    # "1. 名称（原件 ×1，出具：村委会）" for material tables, "label：value；…" for others.
    if section.header[:3] == ("序号", "材料名称", "形式"):
        extra = f"，{row[4]}" if len(row) > 4 and row[4] else ""
        state = f"，{row[5]}" if len(row) > 5 else ""
        return f"{row[0]}. {row[1]}（{row[2]}×{row[3]}{extra}{state}）"
    return "；".join(f"{h}：{v}" for h, v in zip(section.header[1:], row[1:], strict=False) if v)
