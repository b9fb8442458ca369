"""Qt's own strings that its Chinese catalogue (``qtbase_zh_CN.qm``) lacks, so Qt's dialogs are Chinese throughout.

Qt 6 gave some labels of its file dialog mnemonics ("&Look in:", "Files of &type:"); the shipped catalogue
still holds only the old texts, so the dialog showed those two lines in English beside Chinese buttons. This
translator answers exactly those strings and is installed after ``qtbase`` (Qt asks the most recently installed
translator first; anything not here goes on to ``qtbase``).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTranslator

# (context, source text) → Chinese; the mnemonics kept on the same letters as the English.
MISSING: dict[tuple[str, str], str] = {
    ("QFileDialog", "&Look in:"): "查找范围(&L)：",
    ("QFileDialog", "Files of &type:"): "文件类型(&T)：",
    ("QPlatformTheme", "&Save"): "保存(&S)",
}


class QtSupplement(QTranslator):
    """Answers :data:`MISSING`; None (a null string) lets Qt ask the next translator — an empty string would
    be taken as the translation and blank every other label."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)

    def translate(self, context: str, source: str, disambiguation: str | None = None,  # type: ignore[override]
                  n: int = -1) -> str | None:
        return MISSING.get((context, source))

    def isEmpty(self) -> bool:
        return False
