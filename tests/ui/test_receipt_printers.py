"""Receipt printers: a real ticket's 容缺 receipt through Qt's real QPrinter — to a PDF file and through a private
CUPS server whose drivers lack custom sizes — read back page by page (count, size, the ink's width, the QR code).
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

from hall.print.roll_paper import A4, ROLL58, ROLL80, SIZES
from hall.ui import messages
from hall.ui.ops import ChangeSignal, Context
from hall.ui.print_preview import PrinterSizes, PrintPreviewDialog, page_sizes_mm

pytest.importorskip("pypdfium2")

from papers_env import actors, prepare, tolerance_ticket
from print_queues import cups_server

pytestmark = pytest.mark.gui
needs_zxing = pytest.importorskip("zxingcpp")


@pytest.fixture(scope="module")
def receipt_hall(tmp_path_factory, _sqlite_template):
    """One hall for the module with a 容缺 ticket (two sheets, two copies each), built once."""
    from hall.paths import Paths
    from hall.services.bootstrap import open_hall

    data = tmp_path_factory.mktemp("receipt-hall") / "data"
    shutil.copytree(_sqlite_template, data)
    opened = open_hall(Paths.resolve(data))
    who = prepare(opened, actors(opened))
    yield Context(opened.db, opened.node, who["c03"], ChangeSignal()), tolerance_ticket(opened, who)
    opened.db.dispose()


@pytest.fixture(scope="module")
def cups():
    yield from cups_server()


@pytest.fixture
def told(monkeypatch):
    monkeypatch.setattr(messages, "ask_hook", lambda *_: True)
    messages.shown.clear()
    return messages.shown


def _pages_mm(path: Path) -> list[tuple[int, int]]:
    return [(round(w), round(h)) for w, h in page_sizes_mm(path.read_bytes())]


def _ink_width_mm(path: Path, page: int) -> float:
    """How wide the printed marks on a page are, in millimetres (a shrunk receipt is narrower)."""
    import pypdfium2
    from PIL import ImageOps

    doc = pypdfium2.PdfDocument(path.read_bytes())
    try:
        img = doc[page].render(scale=100 / 72).to_pil().convert("L")
    finally:
        doc.close()
    box = ImageOps.invert(img).point(lambda v: 255 if v > 60 else 0).getbbox()
    assert box is not None, "a blank page"
    return (box[2] - box[0]) / 100 * 25.4


def _qr(path: Path, page: int) -> list[str]:
    import pypdfium2

    doc = pypdfium2.PdfDocument(path.read_bytes())
    try:
        img = doc[page].render(scale=200 / 72).to_pil()
    finally:
        doc.close()
    return [r.text for r in needs_zxing.read_barcodes(img)]


def test_long_receipt_is_one_page_per_copy_on_a_pdf_printer(qtbot, receipt_hall, tmp_path):
    ctx, number = receipt_hall
    dlg = PrintPreviewDialog(None, ctx, number, "tolerance", PrinterSizes(tmp_path / "printers.json"))
    qtbot.addWidget(dlg)
    dlg.size_box.setCurrentIndex(list(SIZES).index(ROLL80))
    # 容缺受理通知书 and 承诺书, two copies each: four slips, each as long as its own text, not a 71 cm strip.
    from pypdf import PdfReader

    texts = [p.extract_text() for p in PdfReader(io.BytesIO(dlg.pdf.data)).pages]
    assert len(texts) == 4 and len(dlg.page_labels) == 4
    assert "第一联" in texts[0] and "第二联" in texts[1] and "承诺书" in texts[2] and number in texts[3]
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "roll.pdf"))
    assert dlg.print_to(printer)
    pages = _pages_mm(tmp_path / "roll.pdf")
    assert pages == [(round(w), round(h)) for w, h in page_sizes_mm(dlg.pdf.data)]
    assert all(w == 80 and 120 < h < 300 for w, h in pages)
    assert 60 < _ink_width_mm(tmp_path / "roll.pdf", 0) <= 72.5  # true size: the 72 mm column, not shrunk
    assert _qr(tmp_path / "roll.pdf", 2) == [number]



def test_first_print_on_a_receipt_printer_takes_its_roll_through_cups(qtbot, receipt_hall, cups, tmp_path, told):
    ctx, number = receipt_hall
    sizes = PrinterSizes(tmp_path / "printers.json")
    roll = QPrinterInfo.printerInfo("Receipt-TM80")
    assert not roll.isNull() and not roll.supportsCustomPageSizes()
    assert sizes.choose(roll) == ROLL80 and sizes.choose(QPrinterInfo.printerInfo("Office-A4")) == A4
    assert sizes.choose(QPrinterInfo.printerInfo("Receipt-58-narrow")) == ROLL58

    cups.lp("lpadmin", "-d", "Office-A4")
    dlg = PrintPreviewDialog(None, ctx, number, "tolerance", sizes)
    qtbot.addWidget(dlg)
    assert dlg.pdf.size == A4  # the office printer is the default
    printer = QPrinter(roll, QPrinter.PrinterMode.HighResolution)
    dlg.take_printers_paper(printer)  # what 打印… does once the clerk picked the receipt printer
    assert dlg.pdf.size == ROLL80
    out = cups.empty("Receipt-TM80")
    assert dlg.print_to(printer), told
    cups.wait_for("Receipt-TM80")
    # The driver has no custom size: Qt alone would print on A4. Here: its own 80 mm page that holds a slip (of
    # 200, 297 and 3276 mm), one per slip, the receipt laid out for the 72 mm it paints, at true size.
    assert _pages_mm(out) == [(80, 297)] * 4
    assert 60 < _ink_width_mm(out, 0) <= 72.5
    assert _qr(out, 0) == [number] and _qr(out, 3) == [number]
    assert sizes.stored("Receipt-TM80") == ROLL80


def test_a_receipt_that_cannot_be_printed_legibly_is_refused_in_chinese(qtbot, receipt_hall, cups, tmp_path,
                                                                         told):
    ctx, number = receipt_hall
    sizes = PrinterSizes(tmp_path / "printers.json")
    cups.lp("lpadmin", "-d", "Receipt-58-narrow")
    dlg = PrintPreviewDialog(None, ctx, number, "acceptance", sizes)
    qtbot.addWidget(dlg)
    assert dlg.pdf.size == ROLL58  # first print: the driver's only page is a 58 mm roll
    out = cups.empty("Receipt-58-narrow")
    assert not dlg.print_default()
    title, text = told[-1]
    assert title == "打印失败" and "Receipt-58-narrow" in text and "40 毫米" in text and "没有打印" in text
    assert out.stat().st_size == 0 and sizes.stored("Receipt-58-narrow") is None

    # A roll receipt asked of an A4-only driver is refused too, never sent onto an A4 sheet.
    dlg.size_box.setCurrentIndex(list(SIZES).index(ROLL80))
    a4 = cups.empty("Office-A4")
    assert not dlg.print_to(QPrinter(QPrinterInfo.printerInfo("Office-A4"), QPrinter.PrinterMode.HighResolution))
    assert "没有80 毫米热敏卷纸" in told[-1][1] and "A4 纸" in told[-1][1]
    assert a4.stat().st_size == 0
    # And an A4 paper asked of a roll printer is not shrunk onto its roll.
    dlg.size_box.setCurrentIndex(list(SIZES).index(A4))
    assert not dlg.print_to(QPrinter(QPrinterInfo.printerInfo("Receipt-TM80"), QPrinter.PrinterMode.HighResolution))
    assert "不支持 A4 纸" in told[-1][1] and "没有打印" in told[-1][1]
