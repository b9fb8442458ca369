"""Qt's own dialogs in Chinese: the file dialogs clerks meet when exporting a report or loading a notice show no
English label or button (qtbase_zh_CN plus :mod:`hall.ui.qt_zh` for what that catalogue lacks)."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractButton, QFileDialog, QLabel

from hall.ui.app import install_translators
from hall.ui.qt_zh import MISSING

pytestmark = pytest.mark.gui
ENGLISH = re.compile(r"[A-Za-z]{3,}")


@pytest.fixture
def chinese(qapp):
    installed = install_translators(qapp)
    yield qapp
    for t in installed:
        qapp.removeTranslator(t)


@pytest.mark.parametrize("mode", [QFileDialog.AcceptMode.AcceptOpen, QFileDialog.AcceptMode.AcceptSave])
def test_the_file_dialog_is_chinese_throughout(qtbot, chinese, tmp_path, mode):
    dialog = QFileDialog(None, "导出", str(tmp_path), "Excel 工作簿 (*.xlsx)")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    dialog.setAcceptMode(mode)
    qtbot.addWidget(dialog)
    dialog.show()
    texts = [w.text() for w in dialog.findChildren(QLabel) + dialog.findChildren(QAbstractButton)]
    texts += [a.text() for a in dialog.findChildren(QAction)]
    english = [t for t in texts if ENGLISH.search(t.replace("Excel", "").replace("xlsx", ""))]
    assert english == []
    assert "查找范围(&L)：" in texts and "文件类型(&T)：" in texts


def test_the_supplement_answers_only_its_strings(chinese):
    for (context, source), text in MISSING.items():
        assert QCoreApplication.translate(context, source) == text
    assert QCoreApplication.translate("QFileDialog", "New Folder") == "新建文件夹"  # still qtbase's
    assert QCoreApplication.translate("NoSuchContext", "xyz") == "xyz"  # not blanked
