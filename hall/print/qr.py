"""QR codes for ticket papers: reportlab's encoder, with its mask choice scored fast and one path per code.

reportlab picks the mask pattern as ISO/IEC 18004 asks (lowest penalty of the eight), but scores each
candidate with per-module Python loops: on a one-page 受理通知书 that search costs more than laying out and
drawing all the text. :func:`penalty` computes exactly reportlab's score (its four rules, including its
quirks, checked against it in the tests) on rows held as strings and integers, so the same mask — hence the
same symbol — is chosen in a fraction of the time. Drawing puts every dark run into one filled path instead
of one path and paint operator per run.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from reportlab.graphics.barcode import qrencoder
from reportlab.graphics.barcode.qr import QrCode

# reportlab scores this one orientation only, on rows only (its column slices are tuples, never equal to the
# list pattern), non-overlapping and never in the last slot; we score exactly the same.
_FINDER = "10111010000"
_FINDER_RE = re.compile(_FINDER)


def _rule1(lines: list[int], n: int) -> int:
    """Runs of five or more same-colour modules: 3 + (length − 5) each, on lines held as bit masks.

    A run of L ≥ 5 holds L − 4 windows of five equal modules and scores L − 2: the windows plus 2 per run.
    """
    eq_mask = (1 << (n - 1)) - 1
    score = 0
    for r in lines:
        eq = ~(r ^ (r >> 1)) & eq_mask  # module equal to its neighbour
        w = eq & (eq >> 1) & (eq >> 2) & (eq >> 3)  # five equal modules from here
        if w:
            score += w.bit_count() + 2 * (w & ~(w << 1)).bit_count()
    return score


def _rule2(rows: list[int], n: int) -> int:
    """2 × 2 blocks of one colour: 3 each (rows as bit masks)."""
    mask = (1 << (n - 1)) - 1
    score = 0
    for a, b in itertools.pairwise(rows):
        same_v = ~(a ^ b)  # module equal to the one below
        same_h = ~(a ^ (a >> 1))  # module equal to its neighbour
        score += (same_v & (same_v >> 1) & same_h & mask).bit_count()
    return 3 * score


def _rule3(lines: list[str], n: int) -> int:
    # Leftmost non-overlapping matches, as reportlab's scan; a match in a row's last slot is not counted.
    last = n - len(_FINDER)
    return 40 * sum(1 for m in _FINDER_RE.finditer("2".join(lines)) if m.start() % (n + 1) < last)


def penalty(modules: list[list[bool]]) -> int:
    """reportlab's ``QRUtil.getLostPoint`` for a module matrix."""
    n = len(modules)
    rows = [int("".join("1" if m else "0" for m in row), 2) for row in modules]
    return _penalty_rows(rows, _transpose(rows, n), n)


def _transpose(rows: list[int], n: int) -> list[int]:
    lines = [format(r, f"0{n}b") for r in rows]
    return [int("".join(col), 2) for col in zip(*lines, strict=True)]


def _penalty_rows(rows: list[int], cols: list[int], n: int) -> int:
    """The same score for rows and columns held as bit masks (index 0 is the most significant bit)."""
    lines = [format(r, f"0{n}b") for r in rows]
    dark = sum(r.bit_count() for r in rows)
    rule4 = 10 * (abs(100 * dark // (n * n) - 50) // 5)
    return _rule1(rows, n) + _rule1(cols, n) + _rule2(rows, n) + _rule3(lines, n) + rule4


# Reed–Solomon error-correction bytes by table-driven long division in GF(256): reportlab builds the generator
# polynomial by repeated multiplication and divides with a new polynomial object per step, which is most of a
# ticket code's cost. The result is the same remainder (the symbol tests compare whole symbols).
_EXP = qrencoder.EXP_TABLE
_LOG = qrencoder.LOG_TABLE
_GENERATORS: dict[int, list[int | None]] = {}


def _generator_logs(degree: int) -> list[int | None]:
    """log of each coefficient after the leading 1 of prod(x - a^i), i < degree (None for a zero)."""
    found = _GENERATORS.get(degree)
    if found is None:
        poly = qrencoder.QRUtil.getErrorCorrectPolynomial(degree).num
        found = _GENERATORS[degree] = [_LOG[c] if c else None for c in poly[1:]]
    return found


def _ec_bytes(data: list[int], degree: int) -> list[int]:
    gen = _generator_logs(degree)
    rem = [0] * degree
    for d in data:
        factor = d ^ rem[0]
        rem = rem[1:]
        rem.append(0)
        if factor:
            lf = _LOG[factor]
            for j, lg in enumerate(gen):
                if lg is not None:
                    rem[j] ^= _EXP[(lg + lf) % 255]
    return rem


def _create_data(version: int, level: int, data_list: list) -> list[int]:
    """reportlab's ``QRCode.createData`` (same bit buffer, padding and interleaving), faster ECC."""
    blocks = qrencoder.QRRSBlock.getRSBlocks(version, level)
    buffer = qrencoder.QRBitBuffer()
    for data in data_list:
        data.write(buffer, version)
    capacity = 8 * sum(b.dataCount for b in blocks)
    if buffer.getLengthInBits() > capacity:
        raise ValueError(f"code length overflow. ({buffer.getLengthInBits()} > {capacity})")
    if buffer.getLengthInBits() + 4 <= capacity:
        buffer.put(0, 4)
    while buffer.getLengthInBits() % 8:
        buffer.putBit(False)
    pads = itertools.cycle((qrencoder.QRCode.PAD0, qrencoder.QRCode.PAD1))
    while buffer.getLengthInBits() < capacity:
        buffer.put(next(pads), 8)
    dc: list[list[int]] = []
    ec: list[list[int]] = []
    offset = 0
    for b in blocks:
        dc.append(list(buffer.buffer[offset:offset + b.dataCount]))
        offset += b.dataCount
        ec.append(_ec_bytes(dc[-1], b.totalCount - b.dataCount))
    return [d for group in itertools.chain(itertools.zip_longest(*dc), itertools.zip_longest(*ec))
            for d in group if d is not None]


@dataclass(frozen=True)
class _Layout:
    """Per symbol version: data positions in placement order, which modules carry data (a bit mask per row),
    the function patterns as laid out in test mode (format bits blank), and each mask's flip of mask 0 on
    the data modules, by rows and by columns."""

    positions: list[tuple[int, int]]
    data: list[int]
    function: list[int]
    mask0: list[int]
    flips: list[list[int]]
    flips_t: list[list[int]]


_LAYOUTS: dict[int, _Layout] = {}


def _layout(qr: qrencoder.QRCode) -> _Layout:
    found = _LAYOUTS.get(qr.version)
    if found is None:
        qr.makeImpl(True, 0)  # reportlab's own layout, once per version: the function patterns come from it
        n = qr.moduleCount
        positions = list(qr.dataPosIterator())
        data = [0] * n
        for col, row in positions:
            data[row] |= 1 << (n - 1 - col)
        masks = []
        for k in range(8):
            fn = qrencoder.QRUtil.getMask(k)
            masks.append([sum(1 << (n - 1 - c) for c in range(n) if fn(r, c)) for r in range(n)])
        laid = [int("".join("1" if m else "0" for m in row), 2) for row in qr.modules]
        flips = [[d & (m0 ^ mk) for d, m0, mk in zip(data, masks[0], masks[k], strict=True)] for k in range(8)]
        found = _LAYOUTS[qr.version] = _Layout(
            positions, data, [x & ~d for x, d in zip(laid, data, strict=True)], masks[0], flips,
            [_transpose(f, n) for f in flips])
    return found


class _QRCode(qrencoder.QRCode):
    def _best(self) -> tuple[int, list[int]]:
        if self.dataCache is None:
            self.dataCache = _create_data(self.version, self.errorCorrectLevel, self.dataList)
        lay = _layout(self)
        n = self.moduleCount = self.version * 4 + 17
        # The symbol with mask 0 (test mode, as reportlab scores it): its data bits in placement order, each
        # flipped where mask 0 is dark; every other mask differs only on data modules, by a fixed flip.
        placed = [0] * n
        for (col, row), dark in zip(lay.positions, self._dataBitIterator(self.dataCache), strict=False):
            if dark:
                placed[row] |= 1 << (n - 1 - col)
        base = [f | ((p ^ m) & d) for f, p, m, d in zip(lay.function, placed, lay.mask0, lay.data, strict=True)]
        base_t = _transpose(base, n)
        best, pattern, chosen = 0, 0, base
        for k in range(8):
            rows = [b ^ f for b, f in zip(base, lay.flips[k], strict=True)]
            cols = [b ^ f for b, f in zip(base_t, lay.flips_t[k], strict=True)]
            lost = _penalty_rows(rows, cols, n)
            if k == 0 or best > lost:
                best, pattern, chosen = lost, k, rows
        return pattern, chosen

    def getBestMaskPattern(self) -> int:
        return self._best()[0]

    def make(self) -> None:
        # reportlab lays the whole symbol out again for the chosen mask; the scored layout already holds it,
        # short of the format (and version) bits, which are written over it exactly as reportlab does.
        if self.version is None:
            self.version = self.calculate_version()
        pattern, rows = self._best()
        n = self.moduleCount
        self.modules = [[ch == "1" for ch in format(r, f"0{n}b")] for r in rows]
        self.setupTypeInfo(False, pattern)
        if self.version >= 7:
            self.setupTypeNumber(False)


class FastQrCode(QrCode):
    """reportlab's QR flowable with the fast mask score, all dark modules painted as one path."""

    def __init__(self, value: str, **kw: object) -> None:
        super().__init__(value, **kw)
        self.qr.__class__ = _QRCode  # same encoder state; only the mask search is replaced

    def draw(self) -> None:
        self.qr.make()
        n = self.qr.getModuleCount()
        border = self.qrBorder
        xsize = self.width / (n + border * 2.0)
        ysize = self.height / (n + border * 2.0)
        path = self.canv.beginPath()
        for r, row in enumerate(self.qr.modules):
            c = 0
            y = self.height - (r + border + 1) * ysize
            for dark, run in itertools.groupby(map(bool, row)):
                count = len(list(run))
                if dark:
                    path.rect((c + border) * xsize, y, count * xsize, ysize * 1.05)
                c += count
        self.canv.drawPath(path, stroke=0, fill=1)
