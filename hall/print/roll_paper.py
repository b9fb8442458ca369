"""Which paper a printer takes, and how wide a receipt may be laid out on it (no Qt here).

A hall has a different printer on each counter: an office laser printer (A4) beside an 80 mm or a 58 mm thermal
roll printer. The paper choice is the local program's setting per printer name (see
``hall.ui.printer_paper``); this module is the one owner of the rules behind it:

- :func:`guess_size` — on a printer's first print, a printer whose name or whose driver's page sizes say
  "roll / receipt" gets a roll size instead of A4;
- :func:`receipt_width` — when the driver cannot take the receipt's own width, the receipt is laid out again at
  the width the printer can paint (its text keeps its size), or refused with a Chinese message when that width
  cannot hold it legibly. Nothing is ever shrunk to fit, and nothing silently goes out on A4.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from hall.errors import HallError

A4, ROLL80, ROLL58 = "a4", "roll80", "roll58"
SIZES = {A4: "A4 纸", ROLL80: "80 毫米热敏卷纸", ROLL58: "58 毫米热敏卷纸"}
ROLLS = (ROLL80, ROLL58)

# Paper width, and the width the printing head covers (the common 80 mm head prints 72 mm, the 58 mm one 48 mm).
ROLL_PAPER_MM = {ROLL80: 80.0, ROLL58: 58.0}
ROLL_PRINT_MM = {ROLL80: 72.0, ROLL58: 48.0}

# The narrowest column that still holds the receipt at its own type sizes (7.5 pt notes, 9 pt text): the 28 mm
# QR code, the 30 mm seal circle, and a signature line with its label. Below it the receipt would have to
# shrink, which a citizen's proof of filing must not do.
MIN_RECEIPT_MM = 44.0

# Driver names of roll printers, as the big makers' drivers and Chinese no-name drivers spell them.
_ROLL_NAME = re.compile(
    r"receipt|thermal|\broll|\bpos[-_ ]?\d*|tm-?[tmu]\d|tsp\d|xp-?\d|rp-?\d|gp-?\d|小票|热敏|票据|卷纸",
    re.IGNORECASE)
_FIFTY_EIGHT = re.compile(r"(?<!\d)58(?!\d)")


@dataclass(frozen=True)
class DriverSize:
    """One page size a printer's driver offers: its name and its size in millimetres (portrait)."""

    name: str
    width_mm: float
    height_mm: float

    @property
    def roll(self) -> str | None:
        """The roll this size is for, if it is a strip (much longer than wide) of a roll's width."""
        w, h = sorted((self.width_mm, self.height_mm))
        named = bool(_ROLL_NAME.search(self.name))
        if not (named or h >= 2.5 * w):
            return None  # an index card (76 × 127 mm) or a business card is no roll
        if 70 <= w <= 84:
            return ROLL80
        if 44 <= w <= 62:
            return ROLL58
        return None


def guess_size(printer_name: str, driver_sizes: Iterable[DriverSize]) -> str:
    """The paper for a printer never printed on before: a roll for a roll/receipt printer, else A4."""
    rolls = {s.roll for s in driver_sizes} - {None}
    if ROLL80 in rolls:
        return ROLL80
    if ROLL58 in rolls:
        return ROLL58
    if _ROLL_NAME.search(printer_name):
        return ROLL58 if _FIFTY_EIGHT.search(printer_name) and "80" not in printer_name else ROLL80
    return A4


def receipt_width(size: str, paintable_mm: float, printer_name: str) -> float:
    """The content width to lay a ``size`` receipt out at, for a printer that paints ``paintable_mm`` wide.

    The roll's own print width when the printer can paint it; the printer's narrower width otherwise, as long
    as the receipt still fits at its own type sizes; a :class:`HallError` naming the printer and both widths
    when it does not (the clerk then picks another paper in the preview, rather than getting a shrunk receipt).
    """
    wanted = ROLL_PRINT_MM[size]
    if paintable_mm >= wanted:
        return wanted
    if paintable_mm >= MIN_RECEIPT_MM:
        return paintable_mm
    raise HallError(
        f"打印机“{printer_name}”可打印的宽度只有 {paintable_mm:.0f} 毫米，"
        f"{SIZES[size]}回执至少需要 {MIN_RECEIPT_MM:.0f} 毫米才能按正常字号打印；"
        "为免字迹过小无法辨认，本次没有打印。请在打印预览中改选纸张或换一台打印机")


def not_a_roll_printer(size: str, printer_name: str, page_name: str) -> HallError:
    """The refusal when a roll receipt would land on a sheet printer's page (Qt's silent A4 fallback)."""
    return HallError(
        f"打印机“{printer_name}”的驱动没有{SIZES[size]}，只能用“{page_name}”纸张打印；"
        "本次没有打印。请在打印预览中把纸张改为“A4 纸”，或换用热敏卷纸打印机")
