"""管理 → 本中心信息: the hall's name, township and its code, address, phones, office hours and the seal line that
every paper prints from then on, and the local rules (补正 days, rectification and complaint limits, unrated
ratings). The same service and checks as ``hall-admin settings set``: a refused value is named beside its field
and keeps what was typed; nothing is saved unless every value passes. Read in the background, saved as one
``settings.changed`` ledger event; a ticket already registered keeps its number when the township code changes.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hall.errors import HallError, ValidationError
from hall.services.storage import settings
from hall.ui.background import Loader
from hall.ui.ops import Context, run
from hall.ui.screen_fit import text_size

PLACEHOLDERS = {
    "township_code": "9位数字：县级代码6位+乡镇3位，例如 320581101",
    "seal_text": "留空则落款为中心名称",
    "office_hours": "例如 法定工作日 上午 8:30—12:00，下午 14:00—17:30",
}


class HallInfoDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None, *, first_run: bool = False) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("hallInfoDialog")
        self.setWindowTitle(self.tr("本中心信息"))
        # the hall's full name and address fit without scrolling (80 / 120 characters)
        self.setMinimumWidth(text_size(self, 43, 0).width())
        self.loaded: dict[str, Any] | None = None
        self.fields: dict[str, QWidget] = {}
        self.labels: dict[str, QLabel] = {}

        layout = QVBoxLayout(self)
        if first_run:  # the set-up's second step, right after the administrator's password
            self.setWindowTitle(self.tr("首次使用（第2步，共2步）— 本中心信息"))
            intro = QLabel(self.tr("请核对本中心的名称、乡镇代码、地址、电话和办公时间：受理通知书、回执和公示材料"
                                   "都印这些信息，办件编号以乡镇代码开头。以后可在“管理 → 本中心信息”中修改。"))
            intro.setObjectName("firstRunIntro")
            intro.setWordWrap(True)
            layout.addWidget(intro)
        info = QGroupBox(self.tr("本中心信息（印在受理通知书、回执、公示材料上）"))
        form = QFormLayout(info)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)  # an address is long
        for key in settings.HALL_KEYS:
            edit = QLineEdit()
            edit.setObjectName(key)
            edit.setMaxLength(settings.TEXT_LIMITS.get(key, 9))
            edit.setPlaceholderText(self.tr(PLACEHOLDERS.get(key, "")))
            self._add(form, key, edit)
        layout.addWidget(info)
        rules = QGroupBox(self.tr("本地规则"))
        form = QFormLayout(rules)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for key in settings.RULE_KEYS:
            if key in settings.NUMBER_RANGES:
                spin = QSpinBox()
                spin.setObjectName(key)
                spin.setRange(*settings.NUMBER_RANGES[key])
                self._add(form, key, spin)
            else:
                combo = QComboBox()
                combo.setObjectName(key)
                for level in settings.UNRATED_CHOICES:
                    combo.addItem(level, level)
                combo.addItem(self.tr("不计评价"), "")
                self._add(form, key, combo)
        layout.addWidget(rules)
        self.note = QLabel(self.tr("正在读取…"))
        self.note.setObjectName("hallInfoNote")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(self.tr("保存(&S)"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("取消"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._save_button().setEnabled(False)  # until the current values are shown

        self.loader = Loader(ctx.db, self)
        self.loader.request(settings.get_all, self._loaded)

    def _add(self, form: QFormLayout, key: str, widget: QWidget) -> None:
        label = QLabel(self.tr(settings.LABELS[key]) + "：")
        label.setBuddy(widget)
        self.labels[key] = label
        self.fields[key] = widget
        form.addRow(label, widget)

    def _save_button(self) -> Any:
        return self.buttons.button(QDialogButtonBox.StandardButton.Save)

    def _loaded(self, values: dict[str, Any]) -> None:
        self.loaded = values
        for key, widget in self.fields.items():
            value = values[key]
            if isinstance(widget, QLineEdit):
                widget.setText(str(value))
            elif isinstance(widget, QSpinBox):
                widget.setValue(int(value))
            elif isinstance(widget, QComboBox):
                widget.setCurrentIndex(max(0, widget.findData(value)))
        self.note.setText(self.tr("修改后此后打印的文书即用新信息；已登记办件的编号不随乡镇代码改变。"))
        self._save_button().setEnabled(True)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, widget in self.fields.items():
            if isinstance(widget, QLineEdit):
                out[key] = widget.text()
            elif isinstance(widget, QSpinBox):
                out[key] = widget.value()
            elif isinstance(widget, QComboBox):
                out[key] = widget.currentData()
        return out

    def changed(self) -> dict[str, Any]:
        """Only what the administrator changed (one event naming exactly that)."""
        before = self.loaded or {}
        return {k: v for k, v in self.values().items() if before.get(k) != v}

    def _mark(self, error: HallError) -> None:
        for key, label in self.labels.items():
            bad = isinstance(error, ValidationError) and error.field == settings.LABELS[key]
            label.setStyleSheet("color: #b00020; font-weight: bold;" if bad else "")
            if bad:
                self.fields[key].setFocus()
        self.note.setText(str(error))

    def save(self) -> None:
        if self.loaded is None:
            return
        changes = self.changed()
        if not changes:
            self.accept()
            return
        actor = self.ctx.actor
        saved = run(self, self.ctx, lambda s: settings.set_values(s, actor, changes) or True,
                    title=self.tr("本中心信息未保存"), failed=self._mark)
        if saved:
            self.accept()
