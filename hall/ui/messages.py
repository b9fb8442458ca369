"""Every message box goes through here, so tests can answer them and nothing blocks a test run."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

# Tests (and scripted starts) replace this: it sees every message and, for a question, returns the answer.
ask_hook: Callable[[str, str], bool] | None = None
shown: list[tuple[str, str]] = []  # (title, text) of every message shown — read by tests


def error(parent: QWidget | None, title: str, text: str) -> None:
    shown.append((title, text))
    if ask_hook is not None:
        ask_hook(title, text)
        return
    QMessageBox.warning(parent, title, text)


def info(parent: QWidget | None, title: str, text: str) -> None:
    shown.append((title, text))
    if ask_hook is not None:
        ask_hook(title, text)
        return
    QMessageBox.information(parent, title, text)


def confirm(parent: QWidget | None, title: str, text: str, *, yes: str | None = None, no: str | None = None,
            default_yes: bool = False) -> bool:
    """A yes/no question. Enter answers "no" unless ``default_yes`` — a question whose "no" destroys something
    (a recovered draft) defaults to keeping it; ``yes``/``no`` name what the buttons do."""
    shown.append((title, text))
    if ask_hook is not None:
        return ask_hook(title, text)
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Yes
                      | QMessageBox.StandardButton.No, parent)
    if yes:
        box.button(QMessageBox.StandardButton.Yes).setText(yes)
    if no:
        box.button(QMessageBox.StandardButton.No).setText(no)
    box.setDefaultButton(QMessageBox.StandardButton.Yes if default_yes else QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes
