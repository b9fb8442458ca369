"""Print preview and printing of a ticket's paper: the PDF our renderers make, rasterised by pypdfium2.

QtPdf is not in the PySide6-Essentials/Addons wheels, so each PDF page is rendered with pypdfium2 into a
QImage: at screen resolution for the preview, at the printer's resolution for printing. What is printed is
exactly the PDF a clerk could save, so the paper and the file never differ.

Paper size (A4 or the 80 mm roll) is chosen per printer and remembered by printer name in
``printers.json`` in the data directory. Every print and reprint is a ``ticket.printed`` ledger event.

Public API for the counter screen:
    show_paper(parent, ctx, ticket_number, paper) -> None
    print_direct(parent, ctx, ticket_number, paper) -> bool
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter, QPixmap
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hall.errors import HallError
from hall.paths import Paths
from hall.ui import messages, ops

log = logging.getLogger("hall.ui.print")

A4, ROLL80 = "a4", "roll80"
SIZES = {A4: "A4 纸", ROLL80: "80 毫米热敏卷纸"}
SETTINGS_FILE = "printers.json"
MAX_PRINT_DPI = 300


def tr(text: str) -> str:
    return QCoreApplication.translate("print_preview", text)


# ---------------------------------------------------------------------------------- printer settings
class PrinterSizes:
    """Paper size per printer name, in a small JSON file (a counter's receipt printer stays on 80 mm)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or Paths.resolve().data_dir / SETTINGS_FILE

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items() if v in SIZES} if isinstance(data, dict) else {}

    def get(self, printer: str) -> str:
        return self._load().get(printer, A4)

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
            log.warning("cannot remember paper size for %s: %s", printer, exc)


# ------------------------------------------------------------------------------------------ rendering
@dataclass(frozen=True)
class PaperPdf:
    number: str
    paper: str  # canonical code
    title: str
    size: str  # a4 | roll80
    data: bytes


def make_pdf(ctx: ops.Context, number: str, paper: str, size: str) -> PaperPdf:
    """The paper's PDF (HallError for a bad number or kind, or a paper the record cannot fill)."""
    from hall.print.receipt80 import Receipt80Renderer
    from hall.print.ticket_layout import TicketPaperRenderer
    from hall.services.base.paper_data import PAPER_TITLES
    from hall.services.reporting import papers

    def build(session):  # type: ignore[no-untyped-def]
        code = papers.paper_code(paper)
        return code, papers.paper_for_ticket(session, number, code)

    code, (ticket, item, hall) = ops.read(ctx.db, build)
    renderer = Receipt80Renderer if size == ROLL80 else TicketPaperRenderer
    return PaperPdf(ticket.number, code, PAPER_TITLES[code], size, renderer(code, ticket, hall, item).render())


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


def paint_to_printer(printer: QPrinter, pdf: bytes) -> int:
    """Paint every page at the printer's resolution, full page, aspect kept; returns the page count."""
    sizes = page_sizes_mm(pdf)
    w, h = sizes[0]
    printer.setFullPage(True)
    printer.setPageLayout(QPageLayout(QPageSize(QSizeF(w, h), QPageSize.Unit.Millimeter, "hall-paper"),
                                      QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)))
    # At most 300 dpi: sharp text on office and thermal printers; a 1200 dpi A4 bitmap would be 550 MB.
    images = page_images(pdf, min(printer.resolution(), MAX_PRINT_DPI))
    painter = QPainter()
    if not painter.begin(printer):
        raise HallError(tr("打印机无法开始打印（请检查打印机是否连接、是否缺纸）"))
    try:
        for i, img in enumerate(images):
            if i and not printer.newPage():
                raise HallError(tr("打印机换页失败，打印未完成"))
            target = QRectF(painter.viewport())
            scaled = QSizeF(img.size()).scaled(target.size(), Qt.AspectRatioMode.KeepAspectRatio)
            painter.drawImage(QRectF(target.topLeft(), scaled), img)
    finally:
        painter.end()
    return len(images)


def printer_label(printer: QPrinter) -> str:
    if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat:
        return f"PDF 文件 {Path(printer.outputFileName()).name}"
    return printer.printerName() or "默认打印机"


# -------------------------------------------------------------------------------------------- dialog
class PrintPreviewDialog(QDialog):
    """Pages stacked in a scroll area with a zoom; 打印… (system dialog), 直接打印 (default printer)."""

    ZOOMS = (50, 75, 100, 125, 150, 200)

    def __init__(self, parent: QWidget | None, ctx: ops.Context, number: str, paper: str,
                 sizes: PrinterSizes | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.number = ctx, number
        self.sizes = sizes or PrinterSizes(ctx.data_paths().data_dir / SETTINGS_FILE)
        self.default_printer = QPrinterInfo.defaultPrinterName()
        size = self.sizes.get(self.default_printer)
        self.pdf = make_pdf(ctx, number, paper, size)
        self.setWindowTitle(tr("打印预览 — {title} {number}").format(title=self.pdf.title, number=self.pdf.number))
        self.resize(820, 900)

        self.size_box = QComboBox()
        for key, label in SIZES.items():
            self.size_box.addItem(tr(label), key)
        self.size_box.setCurrentIndex(list(SIZES).index(size))
        self.size_box.currentIndexChanged.connect(self._size_changed)
        self.zoom = QSpinBox()
        self.zoom.setRange(25, 300)
        self.zoom.setSingleStep(25)
        self.zoom.setSuffix(" %")
        self.zoom.setValue(100)
        self.zoom.valueChanged.connect(self._show_pages)
        self.copies = QSpinBox()
        self.copies.setRange(1, 20)
        self.print_button = QPushButton(tr("打印…"))
        self.print_button.clicked.connect(self.print_with_dialog)
        self.direct_button = QPushButton(tr("直接打印"))
        self.direct_button.setToolTip(tr("打印到默认打印机：{name}").format(name=self.default_printer or tr("（无）")))
        self.direct_button.setEnabled(bool(self.default_printer))
        self.direct_button.clicked.connect(self.print_default)
        close = QPushButton(tr("关闭"))
        close.clicked.connect(self.reject)

        bar = QHBoxLayout()
        for label, widget in ((tr("纸张"), self.size_box), (tr("缩放"), self.zoom), (tr("份数"), self.copies)):
            bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        bar.addStretch(1)
        self.page_count = QLabel()
        bar.addWidget(self.page_count)
        bar.addWidget(self.print_button)
        bar.addWidget(self.direct_button)
        bar.addWidget(close)

        self.pages_widget = QWidget()
        self.pages_layout = QVBoxLayout(self.pages_widget)
        self.pages_layout.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.pages_widget)
        self.scroll.setBackgroundRole(self.scroll.backgroundRole())
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.scroll, 1)
        self.page_labels: list[QLabel] = []
        self._images: list[QImage] = []
        self._render_pages()

    # ---------------------------------------------------------------------------- preview
    def _render_pages(self) -> None:
        # Rendered once at 2× screen resolution; zoom only rescales, so it stays instant.
        self._images = page_images(self.pdf.data, 2 * (self.logicalDpiX() or 96))
        self.page_count.setText(tr("共 {n} 页").format(n=len(self._images)))
        self._show_pages()

    def _show_pages(self) -> None:
        for label in self.page_labels:
            self.pages_layout.removeWidget(label)
            label.deleteLater()
        self.page_labels = []
        factor = self.zoom.value() / 100 / 2
        for img in self._images:
            label = QLabel()
            label.setPixmap(QPixmap.fromImage(img.scaledToWidth(max(int(img.width() * factor), 1),
                                                                Qt.TransformationMode.SmoothTransformation)))
            label.setStyleSheet("background: white; border: 1px solid #999;")
            self.pages_layout.addWidget(label)
            self.page_labels.append(label)

    def _size_changed(self) -> None:
        size = self.size_box.currentData()
        try:
            self.pdf = make_pdf(self.ctx, self.number, self.pdf.paper, size)
        except HallError as exc:
            messages.error(self, tr("无法生成文书"), str(exc))
            return
        self._render_pages()

    # ---------------------------------------------------------------------------- printing
    def print_to(self, printer: QPrinter) -> bool:
        """Paint the paper on ``printer`` (copies = the spin box) and record the print; False on failure."""
        copies = self.copies.value()
        try:
            for _ in range(copies):
                paint_to_printer(printer, self.pdf.data)
        except HallError as exc:
            messages.error(self, tr("打印失败"), str(exc))
            return False
        if printer.outputFormat() != QPrinter.OutputFormat.PdfFormat:
            self.sizes.set(printer.printerName(), self.pdf.size)
        return record(self, self.ctx, self.pdf, copies, printer_label(printer))

    def print_with_dialog(self) -> bool:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(tr("打印 {title}").format(title=self.pdf.title))
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        # The size shown in the preview is what gets printed, and is remembered for the printer chosen.
        return self.print_to(printer)

    def print_default(self) -> bool:
        info = QPrinterInfo.defaultPrinter()
        if info.isNull():
            messages.error(self, tr("无法打印"), tr("本机没有设置默认打印机，请用“打印…”选择打印机"))
            return False
        return self.print_to(QPrinter(info, QPrinter.PrinterMode.HighResolution))


def record(parent: QWidget | None, ctx: ops.Context, pdf: PaperPdf, copies: int, printer: str) -> bool:
    """The print's ledger event (a further print of the same paper is a reprint)."""
    from hall.services.reporting import papers

    def write(session):  # type: ignore[no-untyped-def]
        reprint = papers.print_count(session, pdf.number, pdf.paper) > 0
        papers.record_print(session, ctx.actor, pdf.number, pdf.paper, copies, reprint, printer)
        return True

    return bool(ops.run(parent, ctx, write, title=tr("打印记录未保存")))


# ------------------------------------------------------------------------------------------ public API
def show_paper(parent: QWidget | None, ctx: ops.Context, ticket_number: str, paper: str) -> None:
    """Open the preview of one paper of one ticket (modal); printing from it is recorded."""
    try:
        dialog = PrintPreviewDialog(parent, ctx, ticket_number, paper)
    except HallError as exc:
        messages.error(parent, tr("无法生成文书"), str(exc))
        return
    dialog.exec()


def print_direct(parent: QWidget | None, ctx: ops.Context, ticket_number: str, paper: str) -> bool:
    """Print one paper to the default printer on its remembered paper size, without a dialog."""
    info = QPrinterInfo.defaultPrinter()
    if info.isNull():
        messages.error(parent, tr("无法打印"), tr("本机没有设置默认打印机，请在打印预览中选择打印机"))
        return False
    sizes = PrinterSizes(ctx.data_paths().data_dir / SETTINGS_FILE)
    try:
        pdf = make_pdf(ctx, ticket_number, paper, sizes.get(info.printerName()))
        paint_to_printer(QPrinter(info, QPrinter.PrinterMode.HighResolution), pdf.data)
    except HallError as exc:
        messages.error(parent, tr("打印失败"), str(exc))
        return False
    return record(parent, ctx, pdf, 1, info.printerName())
