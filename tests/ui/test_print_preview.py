"""Print preview of a real ticket's paper: pages shown, printed to a PDF-format QPrinter, print recorded."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtPrintSupport import QPrinter
from sqlalchemy import select

from hall.models import Event
from hall.services.storage import ledger
from hall.services.tickets import record as tickets
from hall.ui import messages
from hall.ui.ops import ChangeSignal, Context
from hall.ui.print_preview import A4, ROLL80, PrinterSizes, PrintPreviewDialog

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "services"))
pytest.importorskip("hall.services.cases.joint")
pytest.importorskip("pypdfium2")

from papers_env import actors, build, prepare

pytestmark = pytest.mark.gui


@pytest.fixture
def env(hall_sqlite):
    who = prepare(hall_sqlite, actors(hall_sqlite))
    numbers = build(hall_sqlite, who)
    return Context(hall_sqlite.db, hall_sqlite.node, who["c03"], ChangeSignal()), numbers, hall_sqlite


def _prints(hall, number):
    with hall.db.transaction() as s:
        t = tickets.get(s, number)
        evs = s.scalars(select(Event).where(Event.ticket_uid == t.uid, Event.type == "ticket.printed")
                        .order_by(Event.id)).all()
        return [(e.actor_name, ledger.load_payload(e)) for e in evs]


def test_preview_shows_every_page_and_prints_to_a_pdf_printer(qtbot, env, tmp_path):
    ctx, numbers, hall = env
    sizes = PrinterSizes(tmp_path / "printers.json")
    dlg = PrintPreviewDialog(None, ctx, numbers["tolerance"], "tolerance", sizes)
    qtbot.addWidget(dlg)
    dlg.show()
    assert len(dlg.page_labels) == 4  # 容缺受理通知书 and 承诺书, two copies each
    assert dlg.page_count.text() == "共 4 页"
    assert dlg.page_labels[0].pixmap().width() > 500
    dlg.zoom.setValue(50)
    assert dlg.page_labels[0].pixmap().width() < 400

    changed = []
    ctx.changes.changed.connect(lambda c, _who: changed.append(c))
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    out = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(out))
    assert dlg.print_to(printer)
    from pypdf import PdfReader

    printed = PdfReader(str(out))
    assert len(printed.pages) == 4
    assert round(float(printed.pages[0].mediabox.width) / 72 * 25.4) == 210
    assert len(changed) == 1 and changed[0].history and not changed[0].any_tickets  # the print is history only
    dlg.copies.setValue(2)
    printer2 = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer2.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer2.setOutputFileName(str(tmp_path / "again.pdf"))
    assert dlg.print_to(printer2)
    got = _prints(hall, numbers["tolerance"])
    assert [(who, p["paper"], p["copies"], p["reprint"]) for who, p in got] == [
        ("李社保", "tolerance", 1, False), ("李社保", "tolerance", 2, True)]
    assert got[0][1]["printer"] == "PDF 文件 printed.pdf"


def test_roll80_paper_and_sizes_remembered_per_printer(qtbot, env, tmp_path):
    ctx, numbers, _hall = env
    sizes = PrinterSizes(tmp_path / "printers.json")
    assert sizes.get("柜台热敏打印机") == A4
    sizes.set("柜台热敏打印机", ROLL80)
    assert PrinterSizes(tmp_path / "printers.json").get("柜台热敏打印机") == ROLL80
    dlg = PrintPreviewDialog(None, ctx, numbers["acceptance"], "acceptance", sizes)
    qtbot.addWidget(dlg)
    dlg.size_box.setCurrentIndex(1)  # 80 mm roll
    assert dlg.pdf.size == ROLL80 and len(dlg.page_labels) == 1
    img = dlg._images[0]
    assert img.height() > 2 * img.width()  # a long narrow receipt
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "roll.pdf"))
    assert dlg.print_to(printer)
    from pypdf import PdfReader

    assert round(float(PdfReader(str(tmp_path / "roll.pdf")).pages[0].mediabox.width) / 72 * 25.4) == 80


def test_unknown_ticket_is_told_plainly(qtbot, env, monkeypatch):
    ctx, _numbers, _hall = env
    from hall.ui import print_preview

    monkeypatch.setattr(messages, "ask_hook", lambda *_: True)
    messages.shown.clear()
    print_preview.show_paper(None, ctx, "320581101-000-20990101-0001", "acceptance")
    assert messages.shown and "不存在" in messages.shown[-1][1]
