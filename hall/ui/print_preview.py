"""Print preview and printing of a ticket's paper: the PDF our renderers make, rasterised by pypdfium2.

QtPdf is not in the PySide6-Essentials/Addons wheels, so each PDF page is rendered with pypdfium2 into a
QImage: at screen resolution for the preview, at the printer's resolution for printing. What is printed is
exactly the PDF a clerk could save, so the paper and the file never differ.

Paper size (A4, the 80 mm or the 58 mm roll) is chosen per printer — on a printer's first print from its name and
driver, then as remembered by printer name in ``printers.json`` in the data directory (:mod:`hall.ui.printer_paper`).
Every print and reprint is a ``ticket.printed`` ledger event.

Public API for the counter screen:
    show_paper(parent, ctx, ticket_number, paper) -> None
    print_direct(parent, ctx, ticket_number, paper) -> bool
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QImage, QPixmap
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
from hall.print.roll_paper import A4, ROLL58, ROLL80, ROLL_PAPER_MM, ROLLS, SIZES
from hall.ui import messages, ops
from hall.ui.printer_paper import (
    SETTINGS_FILE,
    PrinterSizes,
    page_images,
    page_sizes_mm,
    paint_to_printer,
)
from hall.ui.screen_fit import fit_on_screen

__all__ = [
    "A4",
    "ROLL58",
    "ROLL80",
    "PrintPreviewDialog",
    "PrinterSizes",
    "page_sizes_mm",
    "print_direct",
    "show_paper",
]

log = logging.getLogger("hall.ui.print")


def tr(text: str) -> str:
    return QCoreApplication.translate("print_preview", text)


# ------------------------------------------------------------------------------------------ rendering
@dataclass(frozen=True)
class PaperPdf:
    number: str
    paper: str  # canonical code
    title: str
    size: str  # a4 | roll80 | roll58
    data: bytes


def make_pdf(ctx: ops.Context, number: str, paper: str, size: str, column_mm: float | None = None) -> PaperPdf:
    """The paper's PDF (HallError for a bad number or kind, or a paper the record cannot fill).

    ``column_mm`` lays a roll receipt out in a column that wide with no side margin (a driver's paintable width);
    by default it is the roll's own width with its margins."""
    from reportlab.lib.units import mm

    from hall.print.receipt80 import Receipt80Renderer
    from hall.print.ticket_layout import TicketPaperRenderer
    from hall.services.base.paper_data import PAPER_TITLES
    from hall.services.reporting import papers

    def build(session):  # type: ignore[no-untyped-def]
        code = papers.paper_code(paper)
        return code, papers.paper_for_ticket(session, number, code)

    code, (ticket, item, hall) = ops.read(ctx.db, build)
    if size not in ROLLS:
        data = TicketPaperRenderer(code, ticket, hall, item).render()
    elif column_mm is None:
        data = Receipt80Renderer(code, ticket, hall, item, paper_width=ROLL_PAPER_MM[size] * mm).render()
    else:
        data = Receipt80Renderer(code, ticket, hall, item, paper_width=column_mm * mm,
                                 content_width=column_mm * mm).render()
    return PaperPdf(ticket.number, code, PAPER_TITLES[code], size, data)


def print_paper(printer: QPrinter, ctx: ops.Context, pdf: PaperPdf) -> int:
    """Put ``pdf`` on ``printer`` at its true size (a roll receipt laid out again for a narrower driver)."""

    def rerender(size: str, column_mm: float | None) -> bytes:
        return make_pdf(ctx, pdf.number, pdf.paper, size, column_mm).data

    return paint_to_printer(printer, pdf.data, pdf.size, rerender)


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
        info = QPrinterInfo.defaultPrinter()
        self.default_printer = info.printerName()
        size = A4 if info.isNull() else self.sizes.choose(info)
        self.pdf = make_pdf(ctx, number, paper, size)
        self.setWindowTitle(tr("打印预览 — {title} {number}").format(title=self.pdf.title, number=self.pdf.number))
        fit_on_screen(self, 57, 50)  # an A4 page wide at 100 % with its scroll bar, as tall as the screen allows

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
                print_paper(printer, self.ctx, self.pdf)
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
        self.take_printers_paper(printer)
        # The size shown in the preview is what gets printed, and is remembered for the printer chosen.
        return self.print_to(printer)

    def take_printers_paper(self, printer: QPrinter) -> None:
        """A printer chosen for the first time that is a roll printer gets its roll, not the A4 shown."""
        if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat or self.sizes.stored(printer.printerName()):
            return
        size = self.sizes.choose(QPrinterInfo(printer))
        if size != self.pdf.size:
            self.size_box.setCurrentIndex(list(SIZES).index(size))  # re-renders the preview

    def print_default(self) -> bool:
        info = QPrinterInfo.defaultPrinter()
        if info.isNull():
            messages.error(self, tr("无法打印"), tr("本机没有设置默认打印机，请用“打印…”选择打印机"))
            return False
        printer = QPrinter(info, QPrinter.PrinterMode.HighResolution)
        self.take_printers_paper(printer)
        return self.print_to(printer)


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
        pdf = make_pdf(ctx, ticket_number, paper, sizes.choose(info))
        print_paper(QPrinter(info, QPrinter.PrinterMode.HighResolution), ctx, pdf)
    except HallError as exc:
        messages.error(parent, tr("打印失败"), str(exc))
        return False
    sizes.set(info.printerName(), pdf.size)
    return record(parent, ctx, pdf, 1, info.printerName())
