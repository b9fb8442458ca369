"""What the 同步 screens ask a person for: files to open and save, a line of text — replaceable in tests
(Dangerzone's injected file dialogs), and the fingerprint shown large enough to compare group by group."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLabel, QWidget

BUNDLE_FILTER = "同步文件 (*.hallsync);;所有文件 (*)"
REQUEST_FILTER = "登记申请文件 (*.hallreq *.req);;所有文件 (*)"
PROVISION_FILTER = "开通文件 (*.hallprov *.prov);;所有文件 (*)"


class Chooser:
    """Asks with the standard dialogs; a test gives its own answers (a path, a text, or None for 取消)."""

    def open_file(self, parent: QWidget | None, caption: str, file_filter: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(parent, caption, "", file_filter)
        return path or None

    def save_file(self, parent: QWidget | None, caption: str, suggested: str, file_filter: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(parent, caption, suggested, file_filter)
        return path or None

    def text(self, parent: QWidget | None, caption: str, label: str) -> str | None:
        value, ok = QInputDialog.getText(parent, caption, label)
        return value if ok else None


def fingerprint_label(parent: QWidget | None = None) -> QLabel:
    """Large monospaced digits in groups of four: two people read them aloud to each other."""
    label = QLabel(parent)
    font = QFont("DejaVu Sans Mono")
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSize(20)
    font.setBold(True)
    label.setFont(font)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def grouped(fingerprint: str) -> str:
    """Two lines of four groups (8 × 4 hex digits), upper case: easier to read aloud than one long line."""
    groups = fingerprint.upper().split()
    return "  ".join(groups[:4]) + "\n" + "  ".join(groups[4:]) if len(groups) == 8 else fingerprint.upper()


def write_file(path: str, data: bytes) -> None:
    """Atomically (a half-written file on a USB stick must never look like a bundle)."""
    from pathlib import Path

    out = Path(path)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
