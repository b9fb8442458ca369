"""Helpers for the print tests: read produced PDFs back as text, fonts and images."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # samples.py

needs_poppler = pytest.mark.skipif(shutil.which("pdftoppm") is None or shutil.which("pdffonts") is None,
                                   reason="poppler-utils (pdftoppm, pdffonts) not installed")


def pdf_pages_text(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [re.sub(r"\s+", "", p.extract_text() or "") for p in PdfReader(str(path)).pages]


def pdf_text(path: Path) -> str:
    return "".join(pdf_pages_text(path))


def pdffonts_rows(path: Path) -> list[list[str]]:
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


def decode_qr(path: Path, page: int = 1, dpi: int = 150) -> list[str]:
    import zxingcpp
    from PIL import Image

    prefix = path.with_suffix("")
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-f", str(page), "-l", str(page), "-singlefile",
                    str(path), str(prefix)], check=True)
    with Image.open(f"{prefix}.png") as img:
        return [r.text for r in zxingcpp.read_barcodes(img)]
