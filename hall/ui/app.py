"""The QApplication: font (a CJK face, large enough to read at the counter), translators, style."""

from __future__ import annotations

import sys

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from hall.paths import resources_dir
from hall.ui.qt_zh import QtSupplement

# In order of preference: what a Windows counter PC has, then what Linux distributions ship.
CJK_FAMILIES = ("Microsoft YaHei UI", "Microsoft YaHei", "SimHei", "PingFang SC", "Noto Sans CJK SC",
                "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "AR PL UMing CN")
BASE_POINT_SIZE = 11  # clerks read at arm's length; 9pt defaults are too small

STYLE = """
QLabel#loginTitle { font-size: 18pt; font-weight: bold; padding: 12px; }
QLabel#errorLabel { color: #b00020; }
QLabel#warningLabel { color: #8a5a00; }
"""


def create_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Hall")
    app.setOrganizationName("Hall")
    families = set(QFontDatabase.families())
    font = QFont(app.font())
    for family in CJK_FAMILIES:
        if family in families:
            font.setFamilies([family, *[f for f in CJK_FAMILIES if f in families and f != family]])
            break
    font.setPointSize(max(font.pointSize(), BASE_POINT_SIZE))
    app.setFont(font)
    app.setStyleSheet(STYLE)
    install_translators(app)
    return app


def install_translators(app: QApplication) -> list[QTranslator]:
    """Qt's own dialogs in Chinese; our strings are written in Chinese, .qm files may override them. Returns the
    translators installed (a test takes them out again)."""
    locale = QLocale(QLocale.Language.Chinese, QLocale.Country.China)
    QLocale.setDefault(locale)
    installed: list[QTranslator] = []
    qt = QTranslator(app)
    if qt.load(locale, "qtbase", "_", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        installed.append(qt)
    installed.append(QtSupplement(app))  # what qtbase_zh_CN lacks (asked before it: installed later)
    ours = QTranslator(app)
    if ours.load(locale, "hall", "_", str(resources_dir() / "i18n")):
        installed.append(ours)
    for t in installed:
        app.installTranslator(t)
    return installed


def settle_heap(*, collect: bool = False) -> None:
    """Move everything built so far (modules, the window's widgets, caches) out of the garbage collector's sight.

    A full collection walks every tracked object and holds the interpreter meanwhile, whichever thread triggers
    it: with the window, SQLAlchemy and openpyxl loaded that is 50–100 ms, during which the GUI thread cannot run a
    single slot — the longest stalls left once no query runs on the GUI thread. These long-lived objects are never
    garbage; frozen, later full collections walk only what was made since. The main window calls it with
    ``collect=True`` before it builds itself (nothing on screen yet: the pause is part of Enter → window) and again
    once it has been shown (no collection then: that would itself be the pause).
    """
    import gc

    if collect:
        gc.collect()
    gc.freeze()
