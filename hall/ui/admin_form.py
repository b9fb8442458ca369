"""A small form dialog the administrator's screens share: labelled fields, one save through a service, a refused
value marked beside its field (the service's ``ValidationError`` names the field by its label) with the rule
below, and everything typed kept — the dialog closes only when the save went through."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hall.errors import HallError, ValidationError
from hall.ui.ops import Context, run
from hall.ui.screen_fit import text_size

BAD = "color: #b00020; font-weight: bold;"



def error_and_save_buttons(dialog: QDialog, layout: QVBoxLayout, save: Callable[[], None]) -> QLabel:
    """The foot of an admin form: the line a refusal is said on (returned), then 保存 / 取消."""
    error = QLabel()
    error.setObjectName("errorLabel")
    error.setWordWrap(True)
    error.setStyleSheet("color: #b00020;")
    layout.addWidget(error)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
    buttons.button(QDialogButtonBox.StandardButton.Save).setText(dialog.tr("保存(&S)"))
    buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(dialog.tr("取消"))
    buttons.accepted.connect(save)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    return error

class AdminForm(QDialog):
    """``fields``: (key, label as the service names it, widget, mnemonic label text)."""

    def __init__(self, ctx: Context, title: str, fields: list[tuple[str, str, QWidget, str]],
                 save: Callable[[Any, dict[str, Any]], Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self._save = ctx, save
        self.setObjectName("adminForm")
        self.setWindowTitle(title)
        self.setMinimumWidth(text_size(self, 30, 0).width())
        self.widgets: dict[str, QWidget] = {}
        self.labels: dict[str, QLabel] = {}
        self._names: dict[str, str] = {}
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for key, name, widget, text in fields:
            label = QLabel(text)
            label.setBuddy(widget)
            widget.setObjectName(key)
            self.widgets[key], self.labels[key], self._names[key] = widget, label, name
            form.addRow(label, widget)
        layout.addLayout(form)
        self.error = error_and_save_buttons(self, layout, self.save)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, w in self.widgets.items():
            out[key] = w.value() if isinstance(w, QSpinBox) else w.text() if isinstance(w, QLineEdit) else None
        return out

    def mark(self, error: HallError) -> None:
        for key, label in self.labels.items():
            bad = isinstance(error, ValidationError) and error.field == self._names[key]
            label.setStyleSheet(BAD if bad else "")
            if bad:
                self.widgets[key].setFocus()
        self.error.setText(str(error))

    def save(self) -> bool:
        values = self.values()
        done = run(self, self.ctx, lambda s: self._save(s, values) or True, title=self.tr("未保存"),
                   failed=self.mark)
        if done:
            self.accept()
        return bool(done)


def line(text: str = "", *, max_len: int = 80, read_only: bool = False, placeholder: str = "") -> QLineEdit:
    edit = QLineEdit(text)
    edit.setMaxLength(max_len)
    edit.setReadOnly(read_only)
    edit.setPlaceholderText(placeholder)
    return edit


def number(value: int, lo: int, hi: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(lo, hi)
    spin.setValue(value)
    return spin
