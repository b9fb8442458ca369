"""A question's Enter does what is safe: "no" for a destructive confirmation, "restore" for a recovered draft
(real QMessageBox, answered by a real key press)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from hall.ui import messages

pytestmark = pytest.mark.gui


def _press_enter_on_the_box(qtbot, seen: list[str]) -> None:
    def press() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, press)
            return
        seen.append(box.defaultButton().text())
        qtbot.keyClick(box, Qt.Key.Key_Return)

    QTimer.singleShot(20, press)


@pytest.mark.parametrize(("default_yes", "answer"), [(False, False), (True, True)])
def test_enter_takes_the_default_answer(qtbot, monkeypatch, default_yes, answer):
    monkeypatch.setattr(messages, "ask_hook", None)
    monkeypatch.setattr(messages, "shown", [])
    seen: list[str] = []
    _press_enter_on_the_box(qtbot, seen)
    got = messages.confirm(None, "恢复未保存的登记", "恢复这份登记吗？", yes="恢复(&R)", no="删除草稿(&D)",
                           default_yes=default_yes)
    assert got is answer
    assert seen == ["恢复(&R)" if default_yes else "删除草稿(&D)"]
