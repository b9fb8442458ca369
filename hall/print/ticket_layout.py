"""A4 layout of per-ticket papers: header with hall name, title, number and QR; fields; tables; seal."""

from __future__ import annotations

from datetime import date

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from hall.print.base import SealArea, SignatureLines, Styles, para, qr_drawing
from hall.print.data import HallInfo, ItemNotice, TicketPaper
from hall.print.direct import Block, Columns, DirectRenderer, Drawn, Gap
from hall.print.fastflow import Grid, KeepWithNext, PageOps, Text, text_width
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


def sheet_header(sheet: Sheet, hall: HallInfo, s: Styles, width: float) -> Columns:
    """Hall name, title, number (and copy label) centred between an empty column and the QR code."""
    qr_size = 24 * mm
    center_w = width - 2 * (qr_size + 4 * mm)
    size = s.title.fontSize
    while size > 14 and text_width(sheet.title, s.title.fontName, size) > center_w:
        size -= 1  # a long title shrinks to stay on one line rather than break a word
    title = Text(sheet.title, s.title.fontName, size, size * 1.3, align="center", space_before=s.title.spaceBefore,
                 space_after=s.title.spaceAfter)
    center: list[Block] = [para(hall.name, s.hall), title, para(f"办件编号：{sheet.number}", s.docno)]
    if sheet.copy_label:
        center.append(para(sheet.copy_label, s.center))
    side = qr_size + 4 * mm
    return Columns([(side, []), (width - 2 * side, center),
                    (side, [Drawn(qr_drawing(sheet.number, qr_size), align="center")])])


def sheet_blocks(sheet: Sheet, hall: HallInfo, issued: date, s: Styles, fonts: FontSet,
                 width: float) -> list[Block]:
    blocks: list[Block] = [sheet_header(sheet, hall, s, width)]
    if sheet.recipient:
        blocks.append(para(sheet.recipient, s.salutation))
    blocks += [para(text, s.body) for text in sheet.statements]
    if sheet.fields:
        blocks += [Gap(3 * mm), fields_table(sheet.fields, s, width)]
    for section in sheet.sections:
        blocks += section_flowables(section, s, width)  # type: ignore[arg-type]  # Grid / KeepWithNext
    if sheet.notes:
        blocks.append(para("注意事项", s.heading))
        blocks.append(para("\n".join(f"{i}. {n}" for i, n in enumerate(sheet.notes, start=1)), s.small))
    seal_w = 50 * mm
    closing: Block
    if sheet.seal:
        left: list[Block] = ([Drawn(SignatureLines(sheet.signatures, fonts, width - seal_w - 6 * mm))]
                             if sheet.signatures else [])
        closing = Columns([(width - seal_w, left), (seal_w, [Drawn(SealArea(hall.issuer, issued, fonts, seal_w))])])
    else:
        closing = Drawn(SignatureLines(sheet.signatures, fonts, width))
    # The closing never splits: when it does not fit, it moves to the next page whole.
    blocks += [Gap(2 * mm), closing]
    return blocks


class TicketPaperRenderer(DirectRenderer):
    """One paper kind for one ticket on A4; ``render(out)`` writes the PDF.

    Laid out by the direct paginator (no platypus document): each sheet starts a page; a counter prints one
    with every save, and platypus' per-flowable machinery cost more than drawing it.
    """

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

    def layout(self) -> list[PageOps]:
        pages = self.paginator()
        for sheet in self.sheets:
            pages.new_page()
            pages.flow(sheet_blocks(sheet, self.hall, self.ticket.paper_date, self.styles, self.fonts,
                                    self.frame_width))
        return pages.pages
