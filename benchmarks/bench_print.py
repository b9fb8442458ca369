"""Papers benchmark: one 受理通知书, the 80 mm receipt and the 76-item 六公开 booklet, each beside bare reportlab.

Ours: the renderer the counter's 打印 runs (layout, wrapping, pagination, QR code, "第 X 页 共 Y 页"), to PDF bytes.

Two baselines, drawn on a bare reportlab ``Canvas`` with the same page size, compression and invariant settings
(reportlab defaults), for each page of our own PDF:

* the same paths: every path we paint (table rules, shading, dotted contents leaders, QR modules …), read
  back from our PDF's content streams with pypdf — the same ``re``/``m``/``l``/``c`` segments, one
  ``drawPath`` per painted path with the same stroke/fill, drawn before the text as ours is (colour and
  line-width changes are not copied);
* the same strings, in our order, in the same font at the same size (``setFont`` only when font or size
  changes). They are recorded once, before timing, from one render of ours by wrapping
  ``PDFTextObject._formatText``, the one place where reportlab turns any string into text operators.
  Positions are not copied: the strings go down the left margin. Baseline 1 draws each with its own
  ``drawString`` (one text object per string, as reportlab's canvas does); baseline 2 puts all of a page's
  strings in **one text object** (``beginText`` … ``textLine`` … ``drawText``), the cheapest way reportlab
  puts text on a page.

Nothing else: no layout, wrapping, measuring or pagination. All three run interleaved (rotating order) in this
process with fonts registered first, so font parsing is not counted; after the timings the script prints the
operator counts of the three PDFs as a check that they carry the same content. Each render is timed in wall
time and in this process's CPU time; figures are medians of the runs (wall with its min–max spread). The
verdict uses the CPU-time ratios: rendering is single-threaded CPU work, and on a shared machine wall time
also counts the time spent waiting for a core (on an idle machine the two agree). Target: ≤ 1.3 × each
baseline. Install rl-accel (reportlab's C accelerator) for all.

    .venv/bin/python benchmarks/bench_print.py [--runs 15] [--profile notice|receipt|booklet]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from _ledger import load_line
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from hall.print.catalog_tsv import item_notices_from_tsv
from hall.print.data import HallInfo, ItemNotice, MaterialLine, TicketPaper
from hall.print.fonts import FontSet, cjk_fonts
from hall.print.notices import BookletRenderer
from hall.print.receipt80 import Receipt80Renderer
from hall.print.ticket_layout import TicketPaperRenderer

TARGET = 1.3
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


@dataclass
class BarePage:
    strings: list[tuple[str, float, str]] = field(default_factory=list)  # (font, size, text)
    paths: list[tuple[list[tuple[str, tuple[float, ...]]], bool, bool]] = field(default_factory=list)


def record(render: Callable[[], bytes]) -> tuple[bytes, list[BarePage]]:
    """Render once, recording every string drawn (with font and size) and reading every painted path back."""
    from reportlab.pdfgen.textobject import PDFTextObject

    strings: list[tuple[int, str, float, str]] = []
    original = PDFTextObject._formatText

    def spy(self: PDFTextObject, text: str) -> str:
        if text:
            strings.append((self._canvas.getPageNumber(), self._fontname, self._fontsize, text))
        return original(self, text)

    PDFTextObject._formatText = spy  # type: ignore[method-assign]
    try:
        pdf = render()
    finally:
        PDFTextObject._formatText = original  # type: ignore[method-assign]
    pages = [BarePage(paths=paths) for paths in pdf_paths(pdf)]
    for number, font, size, text in strings:
        pages[number - 1].strings.append((font, size, text))
    return pdf, pages


_PAINT = {b"S": (True, False), b"s": (True, False), b"f": (False, True), b"F": (False, True), b"f*": (False, True),
          b"B": (True, True), b"B*": (True, True), b"b": (True, True), b"b*": (True, True), b"n": (False, False)}


def pdf_paths(pdf: bytes) -> list[list[tuple[list[tuple[str, tuple[float, ...]]], bool, bool]]]:
    """Per page: each painted path as its segments (rect/moveTo/lineTo/curveTo/close) and stroke/fill flags."""
    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    reader = PdfReader(io.BytesIO(pdf))
    out = []
    for page in reader.pages:
        paths: list[tuple[list[tuple[str, tuple[float, ...]]], bool, bool]] = []
        segs: list[tuple[str, tuple[float, ...]]] = []
        for operands, op in ContentStream(page.get_contents(), reader).operations:
            args = tuple(float(a) for a in operands) if op in b"re m l c v y" else ()
            if op == b"re":
                segs.append(("rect", args))
            elif op == b"m":
                segs.append(("moveTo", args))
            elif op == b"l":
                segs.append(("lineTo", args))
            elif op in (b"c", b"v", b"y"):
                segs.append(("curveTo", args if op == b"c" else args + args[-2:]))
            elif op == b"h":
                segs.append(("close", ()))
            elif op in _PAINT:
                if segs:
                    paths.append((segs, *_PAINT[op]))
                segs = []
        out.append(paths)
    return out


def _draw_paths(c: Canvas, page: BarePage) -> None:
    """A page's recorded paths, drawn bare (both baselines draw them the same way)."""
    for segs, stroke, fill in page.paths:
        p = c.beginPath()
        for name, args in segs:
            getattr(p, name)(*args)
        c.drawPath(p, stroke=int(stroke), fill=int(fill))


def bare_pdf(pages: list[BarePage], fonts: FontSet, pagesize: tuple[float, float] = A4) -> bytes:
    """Bare reportlab: each page's paths, then each page's strings with one drawString each (see module doc)."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=pagesize, initialFontName=fonts.body, invariant=True)
    left, top, bottom = 10 * mm, pagesize[1] - 15 * mm, 10 * mm
    for page in pages:
        _draw_paths(c, page)
        y = top
        current: tuple[str, float] | None = None
        for font, size, text in page.strings:
            if (font, size) != current:
                c.setFont(font, size)
                current = (font, size)
            c.drawString(left, y, text)
            y -= size * 1.3
            if y < bottom:
                y = top
        c.showPage()
    c.save()
    return buf.getvalue()


def bare_pdf_text_object(pages: list[BarePage], fonts: FontSet, pagesize: tuple[float, float] = A4) -> bytes:
    """Bare reportlab, the cheapest way to put text on a page: each page's paths, then all its strings in one
    text object (``beginText`` … ``textLine`` … ``drawText``), ``setFont`` only when font or size changes."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=pagesize, initialFontName=fonts.body, invariant=True)
    left, top, bottom = 10 * mm, pagesize[1] - 15 * mm, 10 * mm
    for page in pages:
        _draw_paths(c, page)
        t = c.beginText(left, top)
        current: tuple[str, float] | None = None
        for font, size, text in page.strings:
            if (font, size) != current:
                t.setFont(font, size, size * 1.3)
                current = (font, size)
            t.textLine(text)
            if t.getY() < bottom:
                t.setTextOrigin(left, top)
        c.drawText(t)
        c.showPage()
    c.save()
    return buf.getvalue()


def operator_counts(pdf: bytes) -> tuple[int, int, int]:
    """(text-showing operators, path segments, paint operators) over all pages, for the same-content check."""
    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    reader = PdfReader(io.BytesIO(pdf))
    text = segs = paints = 0
    for page in reader.pages:
        for _operands, op in ContentStream(page.get_contents(), reader).operations:
            text += op in (b"Tj", b"TJ", b"'", b'"')
            segs += op in (b"re", b"m", b"l", b"c", b"v", b"y")
            paints += op in _PAINT and op != b"n"
    return text, segs, paints


def page_size(pdf: bytes) -> tuple[float, float]:
    from pypdf import PdfReader

    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    return float(box.width), float(box.height)


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """One call's wall time and this process's CPU time, in ms."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000


def compare(name: str, ours: Callable[[], bytes], fonts: FontSet, runs: int) -> tuple[float, float]:
    """Median CPU-time ratios of ours to (one drawString per string, one text object per page)."""
    pdf, pages = record(ours)
    size = page_size(pdf)

    def bare() -> bytes:
        return bare_pdf(pages, fonts, size)

    def bare_text() -> bytes:
        return bare_pdf_text_object(pages, fonts, size)

    fns = [ours, bare, bare_text]
    for fn in fns:  # warm caches (glyph widths, imports)
        fn()
    wall: list[list[float]] = [[], [], []]
    cpu: list[list[float]] = [[], [], []]
    for i in range(runs):  # interleaved, in rotating order, so machine noise hits all three alike
        for k in (i % 3, (i + 1) % 3, (i + 2) % 3):
            w, c = timed(fns[k])
            wall[k].append(w)
            cpu[k].append(c)
    med_w = [statistics.median(x) for x in wall]
    med_c = [statistics.median(x) for x in cpu]
    print(f"{name}")
    print(f"  {'hall.print':<35} wall {med_w[0]:7.1f} ms ({min(wall[0]):.1f}–{max(wall[0]):.1f})   "
          f"CPU {med_c[0]:7.1f} ms")
    ratios = []
    for k, label in ((1, "bare, one drawString per string"), (2, "bare, one text object per page")):
        r_w, r_c = med_w[0] / med_w[k], med_c[0] / med_c[k]
        ratios.append(r_c)
        print(f"  {label:<35} wall {med_w[k]:7.1f} ms ({min(wall[k]):.1f}–{max(wall[k]):.1f})   "
              f"CPU {med_c[k]:7.1f} ms   ours {r_c:4.2f}× CPU, {r_w:4.2f}× wall (target ≤ {TARGET:.2f}×)")
    strings = sum(len(p.strings) for p in pages)
    (ot, osg, op), (bt, bsg, bp), (tt, tsg, tp) = (operator_counts(pdf), operator_counts(bare()),
                                                   operator_counts(bare_text()))
    print(f"  same content: {len(pages)} pages, {strings} strings; text-showing operators ours {ot} / "
          f"drawString {bt} / text object {tt}, path segments {osg} / {bsg} / {tsg}, paints {op} / {bp} / {tp}")
    return ratios[0], ratios[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--profile", choices=("notice", "receipt", "booklet"),
                    help="pyinstrument profile of 20 renders of that paper")
    args = ap.parse_args(argv)
    print(load_line())
    fonts = cjk_fonts()
    print(f"fonts: title={fonts.title} heading={fonts.heading} body={fonts.body}")
    ticket = sample_ticket()
    items: list[ItemNotice] = item_notices_from_tsv(CATALOG, HALL)
    papers: dict[str, Callable[[], bytes]] = {
        "受理通知书 (A4, 1 page)": lambda: TicketPaperRenderer("acceptance", ticket, HALL).render(),
        "受理回执 (80 mm roll)": lambda: Receipt80Renderer("acceptance", ticket, HALL).render(),
        f"六公开汇编 ({len(items)} items)": lambda: BookletRenderer(items, HALL).render(),
    }
    missed = []
    for name, render in papers.items():
        ratios = compare(name, render, fonts, args.runs)
        if max(ratios) > TARGET:
            missed.append(name)
    verdict = f"MISSED by {', '.join(missed)}" if missed else "met by all"
    print(f"target ≤ {TARGET}× both baselines (CPU time): {verdict}")
    print(load_line())
    if args.profile:
        from pyinstrument import Profiler

        render = list(papers.values())[("notice", "receipt", "booklet").index(args.profile)]
        with Profiler(interval=0.0002) as prof:
            for _ in range(20):
                render()
        print(prof.output_text(unicode=True, color=False))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
