"""A4 layout of per-ticket papers: header with hall name, title, number and QR; fields; tables; seal."""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, KeepTogether, PageBreak, Spacer, Table, TableStyle

from hall.print.base import Renderer, SealArea, SignatureLines, Styles, para, qr_drawing
from hall.print.data import HallInfo, ItemNotice, TicketPaper
from hall.print.fonts import FontSet
from hall.print.sheet import Sheet, TableSection, TextSection
from hall.print.ticket_papers import build_sheets

GRID = colors.Color(0.35, 0.35, 0.35)
HEAD_BG = colors.Color(0.92, 0.92, 0.92)


def fields_table(fields: tuple[tuple[str, str], ...], s: Styles, width: float) -> Table:
    """Label/value grid: short values pair up four columns wide, long ones span the row."""
    label_w = 27 * mm
    value_w = (width - 2 * label_w) / 2
    rows: list[list[object]] = []
    spans: list[tuple[int, int]] = []
    fits = value_w - 8  # cell padding

    def short(value: str) -> bool:
        return stringWidth(value, s.cell.fontName, s.cell.fontSize) <= fits

    i = 0
    while i < len(fields):
        label, value = fields[i]
        nxt = fields[i + 1] if i + 1 < len(fields) else None
        if short(value) and nxt is not None and short(nxt[1]):
            rows.append([para(label, s.cell_head), para(value, s.cell), para(nxt[0], s.cell_head), para(nxt[1], s.cell)])
            i += 2
        else:
            rows.append([para(label, s.cell_head), para(value or "—", s.cell), "", ""])
            spans.append((len(rows) - 1, 1))
            i += 1
    style = [("GRID", (0, 0), (-1, -1), 0.5, GRID), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
             ("FONTNAME", (0, 0), (-1, -1), s.fonts.body), ("BACKGROUND", (0, 0), (0, -1), HEAD_BG), ("TOPPADDING", (0, 0), (-1, -1), 1.5),
             ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]
    for r, _ in spans:
        style.append(("SPAN", (1, r), (3, r)))
    for r, row in enumerate(rows):
        if row[2] != "":
            style.append(("BACKGROUND", (2, r), (2, r), HEAD_BG))
    table = Table(rows, colWidths=[label_w, value_w, label_w, value_w], style=TableStyle(style))
    return table


def section_flowables(section: TableSection | TextSection, s: Styles, width: float) -> list[Flowable]:
    out: list[Flowable] = [para(section.heading, s.heading)]
    if isinstance(section, TextSection):
        for i, line in enumerate(section.lines, start=1):
            out.append(para(f"{i}. {line}" if section.numbered else line, s.cell))
        if not section.lines:
            out.append(para("（无）", s.cell))
        return out
    total = sum(section.widths)
    widths = [width * w / total for w in section.widths]
    rows: list[list[object]] = [[para(h, s.cell_head) for h in section.header]]
    rows += [[para(c, s.cell) for c in row] for row in section.rows]
    style = [("GRID", (0, 0), (-1, -1), 0.5, GRID), ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
             ("FONTNAME", (0, 0), (-1, -1), s.fonts.body),
             ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("TOPPADDING", (0, 0), (-1, -1), 2),
             ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]
    if not section.rows:
        rows.append([para(section.empty_text, s.cell)] + [""] * (len(section.header) - 1))
        style.append(("SPAN", (0, 1), (-1, 1)))
    out.append(Table(rows, colWidths=widths, repeatRows=1, style=TableStyle(style)))
    return out


def sheet_header(sheet: Sheet, hall: HallInfo, s: Styles, width: float) -> Table:
    qr_size = 24 * mm
    center = [para(hall.name, s.hall), para(sheet.title, s.title),
              para(f"办件编号：{sheet.number}", s.docno)]
    if sheet.copy_label:
        center.append(para(sheet.copy_label, s.center))
    qr_cell = qr_drawing(sheet.number, qr_size)
    side = qr_size + 4 * mm
    table = Table([["", center, qr_cell]], colWidths=[side, width - 2 * side, side],
                  style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (2, 0), (2, 0), "CENTER"),
                                    ("FONTNAME", (0, 0), (-1, -1), s.fonts.body),
                                    ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def sheet_story(sheet: Sheet, hall: HallInfo, issued: object, s: Styles, fonts: FontSet, width: float) -> list[Flowable]:
    story: list[Flowable] = [sheet_header(sheet, hall, s, width)]
    if sheet.recipient:
        story.append(para(sheet.recipient, s.salutation))
    story += [para(text, s.body) for text in sheet.statements]
    if sheet.fields:
        story += [Spacer(1, 3 * mm), fields_table(sheet.fields, s, width)]
    for section in sheet.sections:
        story += section_flowables(section, s, width)
    if sheet.notes:
        story.append(para("注意事项", s.heading))
        story += [para(f"{i}. {n}", s.cell) for i, n in enumerate(sheet.notes, start=1)]
    seal_w = 50 * mm
    if sheet.seal:
        left = SignatureLines(sheet.signatures, fonts, width - seal_w - 6 * mm) if sheet.signatures else ""
        closing: Flowable = Table([[left, SealArea(hall.name, issued, fonts, seal_w)]],  # type: ignore[arg-type]
                                  colWidths=[width - seal_w, seal_w],
                                  style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                                    ("FONTNAME", (0, 0), (-1, -1), fonts.body),
                                                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                                    ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    else:
        closing = SignatureLines(sheet.signatures, fonts, width)
    story += [Spacer(1, 2 * mm), KeepTogether([closing])]
    return story


class TicketPaperRenderer(Renderer):
    """One paper kind for one ticket on A4; ``render(out)`` writes the PDF."""

    def __init__(self, kind: str, ticket: TicketPaper, hall: HallInfo, item: ItemNotice | None = None,
                 fonts: FontSet | None = None) -> None:
        super().__init__(fonts)
        self.kind, self.ticket, self.hall, self.item = kind, ticket, hall, item
        self.sheets = build_sheets(kind, ticket, hall, item)
        self.title_meta = f"{self.sheets[0].title} {ticket.number}"

    def footer_left(self) -> str:
        return f"{self.hall.name}  监督投诉电话：{self.hall.supervision_phone}"

    def footer_right(self) -> str:
        return self.ticket.number

    def story(self) -> list[Flowable]:
        story: list[Flowable] = []
        for i, sheet in enumerate(self.sheets):
            if i:
                story.append(PageBreak())
            story += sheet_story(sheet, self.hall, self.ticket.paper_date, self.styles, self.fonts, self.frame_width)
        return story
