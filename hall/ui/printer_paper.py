"""Paper per printer on this PC, and putting a paper's PDF pages on a real QPrinter at their true size.

The choice of paper is a setting of the local program (``printers.json`` in the data directory), not of the
ledger: each counter has its own printers. A printer never printed on before gets the paper
:func:`hall.print.roll_paper.guess_size` reads from its name and its driver's page sizes, so a receipt printer's
first print is a roll receipt, not an A4 page.

Printing never scales a page: a page is drawn 1:1 on paper of its own size. When the driver cannot take that
size (Qt would quietly keep A4 and shrink the receipt onto it), a roll receipt is laid out again at the width
the driver's own roll size can paint, or refused with a Chinese message — never sent to A4.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QRectF, QSizeF
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPaintEngine, QPainter
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

from hall.errors import HallError
from hall.paths import Paths
from hall.print.roll_paper import (
    A4,
    ROLLS,
    SIZES,
    DriverSize,
    guess_size,
    not_a_roll_printer,
    receipt_width,
)

log = logging.getLogger("hall.ui.print")

SETTINGS_FILE = "printers.json"
MAX_PRINT_DPI = 300
_MM_TOLERANCE = 1.0  # a driver rounds a custom size to its own units

# (size, content width in mm or None for the roll's own) -> the paper's PDF, laid out for that width.
Rerender = Callable[[str, float | None], bytes]


def tr(text: str) -> str:
    return QCoreApplication.translate("print_preview", text)


# ---------------------------------------------------------------------------------- printer settings
class PrinterSizes:
    """Paper size per printer name, in a small JSON file (a counter's receipt printer stays on its roll)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or Paths.resolve().data_dir / SETTINGS_FILE

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items() if v in SIZES} if isinstance(data, dict) else {}

    def stored(self, printer: str) -> str | None:
        return self._load().get(printer)

    def get(self, printer: str) -> str:
        return self.stored(printer) or A4

    def choose(self, info: QPrinterInfo) -> str:
        """The remembered paper of this printer, or on its first print the one its name and driver suggest."""
        name = info.printerName()
        return self.stored(name) or guess_size(name, driver_sizes(info))

    def set(self, printer: str, size: str) -> None:
        if size not in SIZES or not printer:
            return
        data = self._load()
        if data.get(printer) == size:
            return
        data[printer] = size
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
            tmp.replace(self.path)
        except OSError as exc:  # a read-only data dir must not stop printing
            log.warning("cannot remember paper size for a printer: %s", exc)


def driver_sizes(info: QPrinterInfo) -> list[DriverSize]:
    out = []
    for size in info.supportedPageSizes():
        mm = size.size(QPageSize.Unit.Millimeter)
        out.append(DriverSize(size.name(), mm.width(), mm.height()))
    return out


# ------------------------------------------------------------------------------------------ PDF pages
def page_images(pdf: bytes, dpi: float) -> list[QImage]:
    """Every page as a QImage at ``dpi`` (white background, 32-bit)."""
    import pypdfium2

    doc = pypdfium2.PdfDocument(pdf)
    try:
        out = []
        for i in range(len(doc)):
            page = doc[i]
            bitmap = page.render(scale=dpi / 72, prefer_bgrx=True)
            # BGRx bytes are QImage's Format_RGB32 on little-endian machines; copy() detaches the buffer.
            img = QImage(bitmap.buffer, bitmap.width, bitmap.height, bitmap.stride, QImage.Format.Format_RGB32)
            out.append(img.copy())
            bitmap.close()
            page.close()
        return out
    finally:
        doc.close()


def page_sizes_mm(pdf: bytes) -> list[tuple[float, float]]:
    import pypdfium2

    doc = pypdfium2.PdfDocument(pdf)
    try:
        return [(w / 72 * 25.4, h / 72 * 25.4) for w, h in (doc[i].get_size() for i in range(len(doc)))]
    finally:
        doc.close()


# ------------------------------------------------------------------------------------------- printing
def _page(w: float, h: float) -> QPageSize:
    return QPageSize(QSizeF(w, h), QPageSize.Unit.Millimeter, "hall-paper")


def _takes(printer: QPrinter, w: float, h: float) -> bool:
    """Whether the printer's driver has paper of this size (Qt itself accepts any size and lets the driver
    quietly put it on its default paper, scaled: the A4 receipt of a roll printer's first print)."""
    if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat:
        return True
    info = QPrinterInfo(printer)
    if info.isNull() or info.supportsCustomPageSizes():
        return True
    return any(abs(d.width_mm - w) <= _MM_TOLERANCE and abs(d.height_mm - h) <= _MM_TOLERANCE
               for d in driver_sizes(info))


def paint_to_printer(printer: QPrinter, pdf: bytes, size: str = A4, rerender: Rerender | None = None) -> int:
    """Print every page of ``pdf`` (a ``size`` paper) on ``printer`` at its true size; returns the sheets fed.

    ``rerender`` lays a roll paper out again at a narrower width, for a driver without custom sizes.
    """
    sizes = page_sizes_mm(pdf)
    printer.setFullPage(True)
    w, h = sizes[0]
    if size in ROLLS and not _can_resize(printer):
        # Pages differ in height (one per sheet): a PDF-based engine (PDF file, CUPS) takes a new size per
        # page; others (the Windows GDI driver) cannot while printing, so every page gets the tallest height.
        h = max(sh for _sw, sh in sizes)
    if not _takes(printer, w, h):
        if size not in ROLLS:
            page = printer.pageLayout().pageSize().name()
            raise HallError(tr("打印机“{name}”不支持 {size}，只能用“{page}”纸张，本次没有打印")
                            .format(name=printer.printerName(), size=SIZES[size], page=page))
        return _paint_on_driver_roll(printer, size, rerender, pdf)
    printer.setPageSize(_page(w, h))
    return _paint_true_size(printer, pdf, sizes, per_page=size in ROLLS)


def _can_resize(printer: QPrinter) -> bool:
    engine = printer.paintEngine()
    return engine is not None and engine.type() == QPaintEngine.Type.Pdf


def _begin(painter: QPainter, printer: QPrinter) -> None:
    if not painter.begin(printer):
        raise HallError(tr("打印机无法开始打印（请检查打印机是否连接、是否缺纸）"))


def _new_page(printer: QPrinter) -> None:
    if not printer.newPage():
        raise HallError(tr("打印机换页失败，打印未完成"))


def _dpi(printer: QPrinter) -> int:
    # At most 300 dpi: sharp text on office and thermal printers; a 1200 dpi A4 bitmap would be 550 MB.
    return min(printer.resolution(), MAX_PRINT_DPI)


def _paint_true_size(printer: QPrinter, pdf: bytes, sizes: list[tuple[float, float]], per_page: bool) -> int:
    images = page_images(pdf, _dpi(printer))
    can_resize = _can_resize(printer)
    painter = QPainter()
    _begin(painter, printer)
    try:
        for i, (img, (w, h)) in enumerate(zip(images, sizes, strict=True)):
            if i:
                if per_page and can_resize:
                    printer.setPageSize(_page(w, h))  # takes effect on the next page
                _new_page(printer)
            target = QRectF(painter.viewport())
            px_per_mm = printer.resolution() / 25.4
            painter.drawImage(QRectF(target.left(), target.top(), w * px_per_mm, h * px_per_mm), img)
    finally:
        painter.end()
    return len(images)


def _driver_roll(printer: QPrinter, size: str, need_mm: float) -> QPageSize | None:
    """The driver's own roll page: of this roll's width if it has one, else of any roll; the shortest strip that
    holds a ``need_mm`` slip (no paper fed blank), else the longest."""
    pages = []
    for page in QPrinterInfo(printer).supportedPageSizes():
        mm = page.size(QPageSize.Unit.Millimeter)
        roll = DriverSize(page.name(), mm.width(), mm.height()).roll
        if roll is not None:
            pages.append((roll != size, mm.height() < need_mm, -mm.height() if mm.height() < need_mm
                          else mm.height(), page))
    return min(pages, key=lambda t: t[:3])[3] if pages else None


def _paint_on_driver_roll(printer: QPrinter, size: str, rerender: Rerender | None, pdf: bytes) -> int:
    """The driver lacks the receipt's size: its own roll page, the receipt laid out for the width it paints,
    at true size; a receipt longer than the driver's page continues on the next one (the printer cuts there)."""
    name = printer.printerName() or tr("默认打印机")
    page = _driver_roll(printer, size, max(h for _w, h in page_sizes_mm(pdf)))
    if page is None:
        raise not_a_roll_printer(size, name, printer.pageLayout().pageSize().name())
    printer.setFullPage(False)
    printer.setPageSize(page)
    # The driver's minimum margins are where the head cannot print (its imageable area): paint inside them.
    laid = printer.pageLayout()
    printer.setPageMargins(laid.minimumMargins(), laid.units())
    paint = printer.pageLayout().paintRect(QPageLayout.Unit.Millimeter)
    log.info("roll receipt on the driver's %s page, %.1f mm paintable", page.name(), paint.width())
    column = receipt_width(size, paint.width(), name)
    if rerender is not None:
        pdf = rerender(size, column)
    elif page_sizes_mm(pdf)[0][0] > paint.width() + _MM_TOLERANCE:
        raise receipt_width_error(name, paint.width())
    images = page_images(pdf, _dpi(printer))
    px_per_mm = printer.resolution() / 25.4
    fed = 0
    painter = QPainter()
    _begin(painter, printer)
    try:
        for img, (w, h) in zip(images, page_sizes_mm(pdf), strict=True):
            # Slice the page into the driver page's paintable height; each slice drawn 1:1.
            top = 0.0
            while top < h - _MM_TOLERANCE:
                if fed:
                    _new_page(printer)
                part = min(paint.height(), h - top)
                src = QRectF(0, top / h * img.height(), img.width(), part / h * img.height())
                view = QRectF(painter.viewport())
                painter.drawImage(QRectF(view.left(), view.top(), w * px_per_mm, part * px_per_mm), img, src)
                top += part
                fed += 1
    finally:
        painter.end()
    return fed


def receipt_width_error(name: str, paint_mm: float) -> HallError:
    return HallError(tr("打印机“{name}”可打印宽度只有 {w:.0f} 毫米，回执放不下，本次没有打印")
                     .format(name=name, w=paint_mm))
