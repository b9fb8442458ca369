"""A4 layout of per-ticket papers: header with hall name, title, number and QR; fields; tables; seal."""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, PageBreak, Spacer, Table, TableStyle

from hall.print.base import Renderer, SealArea, SignatureLines, Styles, para, qr_drawing
from hall.print.data import HallInfo, ItemNotice, TicketPaper
from hall.print.fastflow import Grid, KeepWithNext, Text, text_width
from hall.print.fonts import FontSet
from hall.print.sheet import Sheet, TableSection, TextSection
from hall.print.ticket_papers import build_sheets

GRID = colors.Color(0.35, 0.35, 0.35)
HEAD_BG = colors.Color(0.92, 0.92, 0.92)


def fields_table(fields: tuple[tuple[str, str], ...], s: Styles, width: float) -> Grid:
    """Label/value grid: short values pair up four columns wide, long ones span the row."""
    label_w = 27 * mm
    value_w = (width - 2 * label_w) / 2
    fits = value_w - 6  # cell padding
    body, size = s.cell.fontName, s.cell.fontSize

    def short(value: str) -> bool:
        return text_width(value, body, size) <= fits

    rows: list[list[str]] = []
    spans: dict[tuple[int, int], int] = {}
    i = 0
    while i < len(fields):
        label, value = fields[i]
        nxt = fields[i + 1] if i + 1 < len(fields) else None
        if short(value) and nxt is not None and short(nxt[1]):
            rows.append([label, value, nxt[0], nxt[1]])
            i += 2
        else:
            rows.append([label, value or "—"])
            spans[(len(rows) - 1, 1)] = 3
            i += 1
    return Grid(rows, [label_w, value_w, label_w, value_w], body, s.cell_head.fontName, size,
                head_cols=(0, 2), spans=spans, pad=2, rule=GRID, shade=HEAD_BG)


def section_flowables(section: TableSection | TextSection, s: Styles, width: float) -> list[Flowable]:
    heading = para(section.heading, s.heading)
    if isinstance(section, TextSection):
        # One text block per section (lines as paragraphs): far fewer flowables per page, still splittable.
        lines = [f"{i}. {line}" if section.numbered else line for i, line in enumerate(section.lines, start=1)]
        return [KeepWithNext(heading, para("\n".join(lines) or "（无）", s.cell))]
    total = sum(section.widths)
    widths = [width * w / total for w in section.widths]
    rows = [list(section.header), *(list(r) for r in section.rows)]
    spans: dict[tuple[int, int], int] = {}
    if not section.rows:
        rows.append([section.empty_text])
        spans[(1, 0)] = len(section.header) - 1
    grid = Grid(rows, widths, s.cell.fontName, s.cell_head.fontName, s.cell.fontSize, header_rows=1,
                spans=spans, pad=2, rule=GRID, shade=HEAD_BG)
    # Never a heading alone at a page foot; a long table splits by rows with its header repeated.
    return [KeepWithNext(heading, grid)]


def sheet_header(sheet: Sheet, hall: HallInfo, s: Styles, width: float) -> Table:
    qr_size = 24 * mm
    center_w = width - 2 * (qr_size + 4 * mm)
    size = s.title.fontSize
    while size > 14 and text_width(sheet.title, s.title.fontName, size) > center_w:
        size -= 1  # a long title shrinks to stay on one line rather than break a word
    title = Text(sheet.title, s.title.fontName, size, size * 1.3, align="center", space_before=s.title.spaceBefore,
                 space_after=s.title.spaceAfter)
    center = [para(hall.name, s.hall), title, para(f"办件编号：{sheet.number}", s.docno)]
    if sheet.copy_label:
        center.append(para(sheet.copy_label, s.center))
    qr_cell = qr_drawing(sheet.number, qr_size)
    side = qr_size + 4 * mm
    table = Table([["", center, qr_cell]], colWidths=[side, width - 2 * side, side],
                  style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (2, 0), (2, 0), "CENTER"),
                                    ("FONTNAME", (0, 0), (-1, -1), s.fonts.body),
                                    ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def sheet_story(sheet: Sheet, hall: HallInfo, issued: object, s: Styles, fonts: FontSet,
                width: float) -> list[Flowable]:
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
        story.append(para("\n".join(f"{i}. {n}" for i, n in enumerate(sheet.notes, start=1)), s.small))
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
