"""Public-notice sheets (公示): 六公开 per item, the 76-item booklet with a table of contents, window boards,
the staff badge board (挂牌上岗) and a 办事流程图 per item.

Everything here goes on a wall or into a public booklet, so every renderer runs :func:`check_public` over
its data first and refuses to print an unmasked ID number or mobile phone.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, Image, PageBreak, Spacer, Table, TableStyle

from hall.print.base import Renderer, para, zh_date
from hall.print.data import HallInfo, ItemNotice, StaffBadge, WindowBoard
from hall.print.direct import Block, DirectRenderer, Gap
from hall.print.fastflow import PageOps, Text, text_width
from hall.print.flowchart import Flowchart
from hall.print.fonts import FontSet
from hall.print.guard import check_public
from hall.print.sheet import TableSection, TextSection
from hall.print.ticket_layout import GRID, HEAD_BG, fields_table, section_flowables

RESUME_SIZE, RESUME_LEAD, RESUME_LINES = 8, 3.6 * mm, 3  # the staff badge's short résumé under the name
MATERIAL_HEADER = ("序号", "材料名称", "形式", "份数", "出具单位")


def _allowed_numbers(hall: HallInfo, items: Sequence[ItemNotice] = ()) -> list[str]:
    """The hall's own published lines may look like mobiles in a village; they are public by design."""
    return [hall.service_phone, hall.supervision_phone, *(i.service_phone for i in items),
            *(i.supervision_phone for i in items)]


class PublicRenderer(Renderer):
    where = "公示材料"

    def __init__(self, hall: HallInfo, fonts: FontSet | None = None, *, data: Sequence[object] = (),
                 items: Sequence[ItemNotice] = ()) -> None:
        super().__init__(fonts)
        self.hall = hall
        check_public(self.where, hall, *data, allowed=_allowed_numbers(hall, items))

    def footer_left(self) -> str:
        return f"{self.hall.name}  咨询电话：{self.hall.service_phone}"

    def footer_right(self) -> str:
        return f"监督投诉电话：{self.hall.supervision_phone}"

    def page_head(self, title: str, subtitle: str = "") -> list[Flowable]:
        st = self.styles.title
        size = st.fontSize
        # Long item names shrink (down to 三号) to stay on one line rather than orphan a character.
        while size > 16 and text_width(title, st.fontName, size) > self.frame_width:
            size -= 1
        head = Text(title, st.fontName, size, size * 1.3, align="center", space_before=st.spaceBefore,
                    space_after=st.spaceAfter)
        out: list[Flowable] = [para(self.hall.name, self.styles.hall), head]
        if subtitle:
            out.append(para(subtitle, self.styles.docno))
        return out


def six_public_story(r: PublicRenderer, item: ItemNotice) -> list[Flowable]:
    s, w = r.styles, r.frame_width
    story = r.page_head(item.name, f"六公开 · 事项编码 {item.code} · {item.window}窗口 · {item.kind_zh}")
    story.append(para("一、服务内容", s.heading))
    story.append(fields_table((("事项名称", item.name), ("办件类型", item.kind_zh), ("办理窗口", item.window),
                               ("办理地点", item.place), ("办理时限", item.limit_text),
                               *((("承办部门", "、".join(item.departments)),) if item.departments else ())), s, w))
    story += section_flowables(TextSection("办理条件", item.conditions, numbered=True), s, w)
    rows = tuple((str(i), m.name, m.form, str(m.count), m.issuer or "申请人")
                 for i, m in enumerate(item.materials, start=1))
    story += section_flowables(TableSection("申请材料", MATERIAL_HEADER, rows, (0.8, 4.6, 2.2, 0.8, 2.1)), s, w)
    story += section_flowables(TextSection("二、办事程序", item.procedure_steps, numbered=True), s, w)
    story += section_flowables(TextSection("三、收费标准", (item.fee,)), s, w)
    story += section_flowables(TextSection("四、政策依据", (item.legal_basis,)), s, w)
    story += section_flowables(TextSection("五、服务电话", (f"咨询电话：{item.service_phone}",
                                                           f"监督投诉电话：{item.supervision_phone}")), s, w)
    staff = "、".join(item.staff_on_duty) or "以窗口挂牌上岗公示为准"
    story += section_flowables(TextSection("六、在岗人员", (staff,)), s, w)
    if item.note:
        story.append(para(f"备注：{item.note}", s.cell))
    return story


class SixPublicRenderer(PublicRenderer, DirectRenderer):
    """六公开 sheets, one item per page start, drawn straight on the canvas (see :mod:`hall.print.direct`)."""

    where = "六公开公示"

    def __init__(self, items: Sequence[ItemNotice], hall: HallInfo, fonts: FontSet | None = None) -> None:
        super().__init__(hall, fonts, data=items, items=items)
        self.items = list(items)
        self.title_meta = "六公开公示"

    def layout(self) -> list[PageOps]:
        pg = self.paginator()
        for item in self.items:
            pg.new_page()
            pg.flow(six_public_story(self, item))
        return pg.pages


TOC_ROW = 7.2 * mm


def toc_header_height(first: bool) -> float:
    return 20 * mm if first else 4 * mm


class BookletRenderer(PublicRenderer, DirectRenderer):
    """The public-notice booklet: cover, table of contents, then every item's 六公开 page(s).

    One layout pass: the items are paginated first (so each one's start page is known), then the cover and
    the contents pages — whose count is fixed in advance, every contents row being one line high — and the
    pages are written in reading order. ``start_pages`` maps item code → printed page number.
    """

    where = "六公开汇编"

    def __init__(self, items: Sequence[ItemNotice], hall: HallInfo, fonts: FontSet | None = None,
                 title: str = "服务事项六公开汇编", issued_on: date | None = None) -> None:
        super().__init__(hall, fonts, data=items, items=items)
        self.items = list(items)
        self.booklet_title = title
        self.issued_on = issued_on or date.today()
        self.title_meta = title
        self.start_pages: dict[str, int] = {}
        avail = self.pagesize[1] - self.margins[0] - self.margins[2]
        first_rows = int((avail - toc_header_height(True)) // TOC_ROW)
        rows = int((avail - toc_header_height(False)) // TOC_ROW)
        rest = max(len(self.items) - first_rows, 0)
        self.toc_chunks = [self.items[:first_rows]] + [
            self.items[first_rows + i * rows: first_rows + (i + 1) * rows] for i in range(math.ceil(rest / rows))]
        self.toc_pages = len(self.toc_chunks)

    def cover(self) -> list[Block]:
        s = self.styles
        return [Gap(50 * mm), para(self.hall.name, s.hall), Gap(8 * mm), para(self.booklet_title, s.title),
                Gap(6 * mm),
                para(f"共 {len(self.items)} 项服务事项 · 服务内容、办事程序、收费标准、政策依据、服务电话、在岗人员",
                     s.center),
                Gap(70 * mm), para(self.hall.township, s.center), para(zh_date(self.issued_on), s.center)]

    def layout(self) -> list[PageOps]:
        cover = self.paginator()
        cover.new_page()
        cover.flow(self.cover())
        body = self.paginator()
        before = len(cover.pages) + self.toc_pages
        for item in self.items:
            body.new_page()
            self.start_pages[item.code] = before + len(body.pages)
            body.flow(six_public_story(self, item))
        toc = [self.toc_page(chunk, first=i == 0) for i, chunk in enumerate(self.toc_chunks)]
        return [*cover.pages, *toc, *body.pages]

    def toc_page(self, entries: Sequence[ItemNotice], first: bool) -> PageOps:
        """One contents page: code, window, name with a dotted leader, and the item's start page."""
        ops = PageOps()
        fonts = self.fonts
        x0, width = self.margins[3], self.frame_width
        y = self.pagesize[1] - self.margins[0]
        if first:
            head = "目　录"
            ops.text(fonts.title, 22, x0 + (width - text_width(head, fonts.title, 22)) / 2, y - 22, head)
        y -= toc_header_height(first)
        size = 11
        name_x = x0 + 26 * mm
        room = x0 + width - name_x - 12 * mm
        for item in entries:
            y -= TOC_ROW
            page = str(self.start_pages[item.code])
            page_w = text_width(page, fonts.body, size)
            ops.text(fonts.heading, size, x0, y, item.code)
            ops.text(fonts.body, size, x0 + width - page_w, y, page)
            ops.text(fonts.body, size, x0 + 12 * mm, y, item.window.split()[0])
            # Width scales with size, so one measurement finds the size that fits.
            full = text_width(item.name, fonts.body, size)
            fit = float(size)
            while fit > 7 and full * fit / size > room:
                fit -= 0.5
            ops.text(fonts.body, fit, name_x, y, item.name)
            left = name_x + full * fit / size + 2 * mm
            right = x0 + width - page_w - 2 * mm
            if right > left:
                ops.stroke_line((0.0, 0.0, 0.0), 0.4, (1, 2), left, y + 1, right, y + 1)
        return ops


class WindowBoardRenderer(PublicRenderer):
    """One board per window: its items with limits and fees, and its staff on duty."""

    where = "窗口公示牌"

    def __init__(self, boards: Sequence[WindowBoard], hall: HallInfo, fonts: FontSet | None = None) -> None:
        super().__init__(hall, fonts, data=boards, items=[i for b in boards for i in b.items])
        self.boards = list(boards)
        self.title_meta = "窗口公示"

    def story(self) -> list[Flowable]:
        s, w = self.styles, self.frame_width
        story: list[Flowable] = []
        for n, board in enumerate(self.boards):
            if n:
                story.append(PageBreak())
            story += self.page_head(f"{board.code} {board.name}窗口", f"本窗口共 {len(board.items)} 项服务事项")
            rows = tuple((it.code, it.name, it.kind_zh, it.limit_text, it.fee) for it in board.items)
            story += section_flowables(TableSection("服务事项", ("编码", "事项名称", "类型", "办理时限", "收费"), rows,
                                                    (0.8, 5.2, 1.1, 2.6, 1.4)), s, w)
            staff = tuple((b.name, b.post, b.staff_no, b.b_post or "—") for b in board.staff)
            story += section_flowables(TableSection("在岗人员", ("姓名", "岗位", "工号", "代理岗（B岗）"), staff,
                                                    (1.5, 3.5, 1.5, 2.5), "以挂牌上岗公示为准"), s, w)
            story.append(para(f"咨询电话：{self.hall.service_phone}　　监督投诉电话：{self.hall.supervision_phone}"
                              f"　　办公时间：{self.hall.office_hours}", s.cell))
        return story


class StaffBoardRenderer(PublicRenderer):
    """挂牌上岗: name, photo (if any), post, staff number and window; nothing personal beyond that."""

    where = "挂牌上岗公示"
    COLS, ROWS = 3, 3

    def __init__(self, staff: Sequence[StaffBadge], hall: HallInfo, fonts: FontSet | None = None) -> None:
        super().__init__(hall, fonts, data=staff)
        self.staff = list(staff)
        self.title_meta = "工作人员挂牌上岗公示"

    def badge(self, b: StaffBadge, w: float, h: float) -> Flowable:
        return _Badge(b, self.fonts, w, h)

    def story(self) -> list[Flowable]:
        w = self.frame_width
        per = self.COLS * self.ROWS
        story: list[Flowable] = []
        head_h = 20 * mm
        cell_w = w / self.COLS
        cell_h = (self.pagesize[1] - self.margins[0] - self.margins[2] - head_h) / self.ROWS - 1
        for start in range(0, max(len(self.staff), 1), per):
            if start:
                story.append(PageBreak())
            story += [para(self.hall.name, self.styles.hall), para("工作人员挂牌上岗公示", self.styles.title)]
            chunk = self.staff[start:start + per]
            rows = [[self.badge(b, cell_w - 4 * mm, cell_h - 4 * mm) for b in chunk[r:r + self.COLS]]
                    for r in range(0, len(chunk), self.COLS)]
            for row in rows:
                row += [""] * (self.COLS - len(row))
            if rows:
                story.append(Table(rows, colWidths=[cell_w] * self.COLS, rowHeights=[cell_h] * len(rows),
                                   style=TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER"),
                                                     ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                                                     ("FONTNAME", (0, 0), (-1, -1), self.fonts.body)])))
        return story


VANGUARD_RED = colors.Color(0.78, 0.06, 0.06)
VANGUARD_TEXT = "党员先锋岗"


class _Badge(Flowable):
    def __init__(self, b: StaffBadge, fonts: FontSet, width: float, height: float) -> None:
        super().__init__()
        self.b, self.fonts, self.width, self.height = b, fonts, width, height

    def wrap(self, aw: float, ah: float) -> tuple[float, float]:
        return self.width, self.height

    def _fit(self, text: str, font: str, size: float, room: float) -> float:
        while size > 6 and self.canv.stringWidth(text, font, size) > room:
            size -= 0.5
        return size

    def draw(self) -> None:
        c, b, w, h = self.canv, self.b, self.width, self.height
        c.saveState()
        c.setStrokeColor(GRID)
        c.setLineWidth(0.8)
        c.roundRect(0, 0, w, h, 2 * mm)
        # (党员)先锋岗: the head strip in party red with the words, so the post is seen from across the hall.
        c.setFillColor(VANGUARD_RED if b.vanguard else HEAD_BG)
        c.rect(0.4, h - 8 * mm, w - 0.8, 8 * mm - 0.4, stroke=0, fill=1)
        c.setFillColor(colors.white if b.vanguard else colors.black)
        head = f"{b.window} 窗口" if b.window.startswith("W") else b.window
        if b.vanguard:
            head += f"　{VANGUARD_TEXT}"
        c.setFont(self.fonts.heading, self._fit(head, self.fonts.heading, 10, w - 4 * mm))
        c.drawCentredString(w / 2, h - 5.6 * mm, head)
        c.setFillColor(colors.black)
        lines = 2 + bool(b.b_post)  # post, staff number, B-post
        resume = self._wrapped(b.resume, w - 6 * mm)
        # A one-inch-ish ID photo (25 × 32 mm), smaller when the badge is short, so no line leaves the card.
        ph = max(min(32 * mm, h - 10 * mm - 8 * mm - lines * 5.5 * mm - len(resume) * RESUME_LEAD - 3 * mm), 12 * mm)
        pw = ph * 25 / 32
        px, py = (w - pw) / 2, h - 10 * mm - ph
        photo = Path(b.photo_path) if b.photo_path else None
        if b.photo:  # the photo the administrator chose in 工作人员 (a JPEG from the ledger)
            c.drawImage(ImageReader(io.BytesIO(b.photo)), px, py, pw, ph, preserveAspectRatio=True)
        elif photo is not None and photo.is_file():
            Image(str(photo), width=pw, height=ph, kind="proportional").drawOn(c, px, py)
        else:
            c.setDash(2, 2)
            c.setStrokeColor(colors.Color(0.6, 0.6, 0.6))
            c.rect(px, py, pw, ph)
            c.setDash()
            c.setFillColor(colors.Color(0.55, 0.55, 0.55))
            c.setFont(self.fonts.body, 9)
            c.drawCentredString(w / 2, py + ph / 2 - 3, "照片")
            c.setFillColor(colors.black)
        y = py - 8 * mm
        size = self._fit(b.name, self.fonts.title, 18, w - 4 * mm)
        c.setFont(self.fonts.title, size)
        c.drawCentredString(w / 2, y, b.name)
        for text in (b.post, f"工号：{b.staff_no}", f"代理岗：{b.b_post}" if b.b_post else ""):
            if not text:
                continue
            y -= 5.5 * mm
            size = self._fit(text, self.fonts.body, 10, w - 4 * mm)
            c.setFont(self.fonts.body, size)
            c.drawCentredString(w / 2, y, text)
        if resume:
            y -= 1.5 * mm
            c.setFont(self.fonts.body, RESUME_SIZE)
            c.setFillColor(colors.Color(0.25, 0.25, 0.25))
            for line in resume:
                y -= RESUME_LEAD
                c.drawCentredString(w / 2, y, line)
        c.restoreState()

    def _wrapped(self, text: str, room: float) -> list[str]:
        """The résumé in lines that fit the card (at most RESUME_LINES; the last one ends in … if cut)."""
        out: list[str] = []
        for para_text in (text or "").splitlines():
            line = ""
            for ch in para_text.strip():
                if line and self.canv.stringWidth(line + ch, self.fonts.body, RESUME_SIZE) > room:
                    out.append(line)
                    line = ""
                line += ch
            if line:
                out.append(line)
        if len(out) > RESUME_LINES:
            out = out[:RESUME_LINES]
            out[-1] = out[-1][:-1] + "…"
        return out


class FlowchartRenderer(PublicRenderer):
    """办事流程图, one item per page."""

    where = "办事流程图"

    def __init__(self, items: Sequence[ItemNotice], hall: HallInfo, fonts: FontSet | None = None) -> None:
        super().__init__(hall, fonts, data=items, items=items)
        self.items = list(items)
        self.title_meta = "办事流程图"

    def story(self) -> list[Flowable]:
        story: list[Flowable] = []
        w = self.frame_width
        for n, item in enumerate(self.items):
            if n:
                story.append(PageBreak())
            head = self.page_head(f"{item.name}办事流程图",
                                  f"事项编码 {item.code} · {item.window}窗口 · {item.kind_zh} · {item.limit_text}")
            used = sum(f.wrap(w, 1000)[1] + f.getSpaceBefore() + f.getSpaceAfter() for f in head)
            foot = para(f"收费标准：{item.fee}　　咨询电话：{item.service_phone}　　"
                        f"监督投诉电话：{item.supervision_phone}", self.styles.cell)
            used += foot.wrap(w, 1000)[1] + 6 * mm
            avail = self.pagesize[1] - self.margins[0] - self.margins[2] - used - 4 * mm
            story += [*head, Spacer(1, 2 * mm), Flowchart(item.procedure_steps, self.fonts, w, avail),
                      Spacer(1, 2 * mm), foot]
        return story
