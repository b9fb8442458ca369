"""The paper rules for roll printers (hall.print.roll_paper): which paper a printer gets on its first print,
and the width a receipt is laid out at on a driver without custom sizes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hall.errors import HallError
from hall.print.roll_paper import (
    A4,
    MIN_RECEIPT_MM,
    ROLL58,
    ROLL80,
    ROLL_PRINT_MM,
    ROLLS,
    DriverSize,
    guess_size,
    receipt_width,
)

OFFICE = [DriverSize("A4", 210, 297), DriverSize("Letter", 215.9, 279.4), DriverSize("A5", 148, 210),
          DriverSize("Index Card 3x5", 76.2, 127), DriverSize("Envelope DL", 110, 220)]


@pytest.mark.parametrize(("name", "sizes", "paper"), [
    ("HP LaserJet Pro M404", OFFICE, A4),
    ("Canon iR2625", [], A4),
    ("EPSON TM-T82III", [], ROLL80),  # the name alone says receipt printer
    ("POS-58 热敏打印机", [], ROLL58),
    ("XP-80C", [], ROLL80),
    ("小票打印机", [], ROLL80),
    ("Gainscha", [DriverSize("80mm x 297mm", 80, 297)], ROLL80),  # the driver's page list says so
    ("Generic", [DriverSize("Roll Paper 58 x 3276 mm", 58, 3276)], ROLL58),
    ("Generic", [DriverSize("58(48) x 210 mm", 58, 210), DriverSize("80(72) x 297 mm", 80, 297)], ROLL80),
])
def test_first_print_paper(name, sizes, paper):
    assert guess_size(name, sizes) == paper


@given(st.lists(st.sampled_from(OFFICE)), st.sampled_from(["HP LaserJet", "Brother HL-L2350", "Kyocera"]))
def test_sheet_printers_keep_a4(sizes, name):
    assert guess_size(name, sizes) == A4


@given(st.sampled_from(ROLLS), st.floats(0, 300, allow_nan=False))
def test_receipt_width_never_shrinks_text_nor_exceeds_the_printer(size, paintable):
    try:
        width = receipt_width(size, paintable, "柜台打印机")
    except HallError as exc:
        assert paintable < MIN_RECEIPT_MM
        assert "柜台打印机" in str(exc) and "没有打印" in str(exc)
        return
    assert MIN_RECEIPT_MM <= width <= min(paintable, ROLL_PRINT_MM[size])
    assert width == ROLL_PRINT_MM[size] or width == paintable
