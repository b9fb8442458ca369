"""Papers benchmark: one 受理通知书 and the 76-item 六公开 booklet, each beside bare reportlab.

The baseline is a bare reportlab canvas drawing the same content with the same fonts: the text lines of each
page of our own PDF (read back once with pypdf, before timing), one drawString per line, on the same page size,
with the same compression and invariant settings (reportlab defaults); no layout, no tables, no rules. Both run
interleaved in this process with fonts registered first, so font parsing is not counted; the figure is the
median of the runs. Target: ≤ 1.3 × baseline. Install rl-accel (reportlab's C accelerator) for both.

    .venv/bin/python benchmarks/bench_print.py [--runs 7]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from hall.print.catalog_tsv import item_notices_from_tsv
from hall.print.data import HallInfo, ItemNotice, MaterialLine, TicketPaper
from hall.print.fonts import FontSet, cjk_fonts
from hall.print.notices import BookletRenderer
from hall.print.receipt80 import Receipt80Renderer
from hall.print.ticket_layout import TicketPaperRenderer

CATALOG = Path("/work/shared/reference/catalog-76.tsv")
HALL = HallInfo("虞山镇便民服务中心", "虞山镇人民政府", "虞山镇人民路 88 号", "0512-52881234", "0512-52885678")


def sample_ticket() -> TicketPaper:
    return TicketPaper(
        number="320581101-000-20260305-0012", item_code="19", item_name="城乡居民基本养老保险待遇领取申请",
        kind="proxy", window="W03 人社就业与养老保险", applicant_name="张建国",
        applicant_id_masked="1101**********002X", applicant_phone_masked="138****5678",
        accepted_at=datetime(2026, 3, 5, 9, 42), staff_name="李小梅", staff_no="YS0307",
        limit_text="承诺时限 15 个工作日", due_date=date(2026, 3, 26),
        due_explanation="受理日不计入；自 3月6日起计 15 个工作日，至 3月26日。",
        materials_received=(MaterialLine("城乡居民基本养老保险待遇领取申请表", "原件", 1, "窗口提供"),
                            MaterialLine("居民身份证", "复印件", 1, "申请人自备"),
                            MaterialLine("户口簿（户主页及本人页）", "复印件", 1, "申请人自备")))


def bare_pdf(pages: Iterable[list[str]], fonts: FontSet, pagesize: tuple[float, float] = A4) -> bytes:
    """Bare reportlab: each page's lines drawn with one drawString each (already wrapped, so no layout at all),
    the first two lines (hall, title) in the title font, the rest in the body font."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=pagesize, initialFontName=fonts.body, invariant=True)
    left, top, size, leading = 10 * mm, pagesize[1] - 15 * mm, 10.5, 14
    for strings in pages:
        y = top
        for n, s in enumerate(strings):
            c.setFont(fonts.title if n < 2 else fonts.body, size)
            c.drawString(left, y, s)
            y -= leading
        c.showPage()
    c.save()
    return buf.getvalue()


def page_lines(pdf: bytes) -> list[list[str]]:
    """The text lines of every page of our PDF (read once, before timing): the baseline draws exactly these."""
    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(pdf)).pages
    return [[ln for ln in (p.extract_text() or "").splitlines() if ln.strip()] for p in pages]


def page_size(pdf: bytes) -> tuple[float, float]:
    from pypdf import PdfReader

    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    return float(box.width), float(box.height)


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def compare(name: str, ours: Callable[[], object], bare: Callable[[], object], runs: int) -> float:
    ours(), bare()  # warm caches (glyph widths, imports)
    a: list[float] = []
    b: list[float] = []
    for _ in range(runs):  # interleaved so machine noise hits both alike
        a += timed(ours, 1)
        b += timed(bare, 1)
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"{name:<34} hall.print {ma:8.1f} ms   bare reportlab {mb:8.1f} ms   ratio {ma / mb:4.2f}× (target ≤ 1.30×)")
    return ma / mb


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args(argv)
    fonts = cjk_fonts()
    print(f"fonts: title={fonts.title} heading={fonts.heading} body={fonts.body}")
    ticket = sample_ticket()
    acceptance = TicketPaperRenderer("acceptance", ticket, HALL).render()
    compare("受理通知书 (A4, 1 page)", lambda: TicketPaperRenderer("acceptance", ticket, HALL).render(),
            lambda: bare_pdf(page_lines(acceptance), fonts), args.runs)
    roll = Receipt80Renderer("acceptance", ticket, HALL).render()
    roll_size = page_size(roll)
    compare("受理回执 (80 mm roll)", lambda: Receipt80Renderer("acceptance", ticket, HALL).render(),
            lambda: bare_pdf(page_lines(roll), fonts, roll_size), args.runs)
    items: list[ItemNotice] = item_notices_from_tsv(CATALOG, HALL)
    booklet = page_lines(BookletRenderer(items, HALL).render())
    r = compare(f"六公开汇编 ({len(items)} items, {len(booklet)} pages)", lambda: BookletRenderer(items, HALL).render(),
                lambda: bare_pdf(booklet, fonts), max(3, args.runs // 2))
    return 0 if r > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
