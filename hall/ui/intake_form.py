"""The intake form (收件登记), laid out and tab-ordered like the paper register.

Applicant → ID number (validated as typed; sex and birth date derived, never typed) → name → phone →
village/group → agent → materials checklist → kind → note. The promised due date and its explanation update
as the item, the kind or the materials change. Enter saves from any field: with missing materials the save
becomes 补正 (一次性告知), with Alt+R it becomes 不予受理 with a reason. Every edit is autosaved as a draft.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hall.errors import HallError, ServerUnavailable, ValidationError
from hall.services.base.states import KIND_LABELS, MATERIAL_STATUS, SAME_DAY_KINDS, STATE_LABELS
from hall.services.base.validators import parse_credit_code, parse_id_number
from hall.services.calendar.deadlines import Deadline
from hall.services.catalog.items import ItemView
from hall.services.reporting import queue
from hall.services.reporting.queue import ApplicantView
from hall.services.storage.drafts import DraftStore
from hall.services.tickets import fees, intake, prerequisites
from hall.services.tickets.intake import AgentForm, ApplicantForm, IntakeForm, IntakeResult
from hall.ui import messages
from hall.ui.background import Loader
from hall.ui.drafts import Autosaver
from hall.ui.ops import ChangeListener, Context, read, run
from hall.ui.screen_fit import fit_on_screen
from hall.ui.ticket_detail import PAPER_LABELS, RESULT_PAPERS, show_paper
from hall.ui.widgets import read_only_table

log = logging.getLogger("hall.ui.intake")
SEX_LABELS = {"male": "男", "female": "女"}
STATUS_ORDER = ("received", "missing", "tolerated")
ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class IntakeFormWidget(QWidget):
    saved = Signal(object)  # IntakeResult
    done = Signal()  # saved or cleared: the main window puts the focus back on the item finder

    def __init__(self, ctx: Context, store: DraftStore, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today, now: Callable[[], datetime] = datetime.now) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._today = today
        self._now = now
        self.item: ItemView | None = None
        self.statuses: dict[str, str] = {}
        self.deadline: Deadline | None = None
        self.returning: ApplicantView | None = None
        self.last_result: IntakeResult | None = None
        self.refusing = False
        self._loading = False
        self._applicants = Loader(ctx.db, self)
        self._deadlines = Loader(ctx.db, self)
        self._prerequisite = Loader(ctx.db, self)  # 先照后证, asked before save (the service asks again at save)
        # The promised date shown depends on the calendar, the catalogue's time limits and the settings: a
        # change of one of them (here or at another counter) re-reads it, in the background.
        self.listener = ChangeListener(self, ctx.changes, lambda c: c.calendar or c.catalog or c.settings,
                                       lambda _c: self._deadline_in_background())
        self.autosaver = Autosaver(store, str(ctx.actor.staff_id), self.snapshot, self)
        self._build()
        self._wire()
        self._update_enabled()
        self._show_fee()

    # ----------------------------------------------------------------------------------- layout
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 0, 4, 0)
        self.item_label = QLabel(self.tr("请先在左侧选择事项（Ctrl+F 查找）"))
        self.item_label.setObjectName("intakeItem")
        self.item_label.setWordWrap(True)
        outer.addWidget(self.item_label)

        grid = QGridLayout()
        outer.addLayout(grid, 1)

        who = QGroupBox(self.tr("申请人"))
        form = QFormLayout(who)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        type_row = QHBoxLayout()
        self.type_person = QRadioButton(self.tr("自然人(&P)"))
        self.type_org = QRadioButton(self.tr("法人/其他组织(&O)"))
        self.type_person.setChecked(True)
        self.type_group = QButtonGroup(self)
        self.type_group.addButton(self.type_person)
        self.type_group.addButton(self.type_org)
        type_row.addWidget(self.type_person)
        type_row.addWidget(self.type_org)
        type_row.addStretch(1)
        form.addRow(self.tr("类型："), type_row)
        self.id_label = QLabel(self.tr("身份证号(&I)："))
        self.id_edit = QLineEdit()
        self.id_edit.setObjectName("idNumber")
        self.id_edit.setMaxLength(22)
        self.id_edit.setPlaceholderText(self.tr("18位公民身份号码，读卡或输入"))
        self.id_label.setBuddy(self.id_edit)
        form.addRow(self.id_label, self.id_edit)
        self.id_status = QLabel()
        self.id_status.setObjectName("idStatus")
        self.id_status.setWordWrap(True)
        form.addRow("", self.id_status)
        derived = QHBoxLayout()
        self.sex_value = QLabel("—")
        self.sex_value.setObjectName("sexValue")
        self.birth_value = QLabel("—")
        self.birth_value.setObjectName("birthValue")
        derived.addWidget(QLabel(self.tr("性别：")))
        derived.addWidget(self.sex_value)
        derived.addSpacing(24)
        derived.addWidget(QLabel(self.tr("出生日期：")))
        derived.addWidget(self.birth_value)
        derived.addStretch(1)
        self.derived_label = QLabel(self.tr("（由证件号码得出）"))
        derived.addWidget(self.derived_label)
        form.addRow("", derived)
        self.name_label = QLabel(self.tr("姓名(&N)："))
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("applicantName")
        self.name_label.setBuddy(self.name_edit)
        form.addRow(self.name_label, self.name_edit)
        self.phone_edit = QLineEdit()
        self.phone_edit.setObjectName("phone")
        phone_label = QLabel(self.tr("电话(&T)："))
        phone_label.setBuddy(self.phone_edit)
        form.addRow(phone_label, self.phone_edit)
        self.address_edit = QLineEdit()
        self.address_edit.setObjectName("address")
        self.address_edit.setPlaceholderText(self.tr("如 东村3组"))
        address_label = QLabel(self.tr("村/组(&V)："))
        address_label.setBuddy(self.address_edit)
        form.addRow(address_label, self.address_edit)
        self.agent_check = QCheckBox(self.tr("代理人代为申请(&D)"))
        form.addRow("", self.agent_check)
        self.agent_box = QWidget()
        agent_row = QHBoxLayout(self.agent_box)
        agent_row.setContentsMargins(0, 0, 0, 0)
        self.agent_name = QLineEdit()
        self.agent_name.setPlaceholderText(self.tr("代理人姓名"))
        self.agent_id = QLineEdit()
        self.agent_id.setPlaceholderText(self.tr("代理人身份证号"))
        self.agent_phone = QLineEdit()
        self.agent_phone.setPlaceholderText(self.tr("代理人电话"))
        agent_row.addWidget(self.agent_name, 2)
        agent_row.addWidget(self.agent_id, 3)
        agent_row.addWidget(self.agent_phone, 2)
        form.addRow(self.tr("代理人："), self.agent_box)
        self.returning_label = QLabel()
        self.returning_label.setObjectName("returningLabel")
        self.returning_label.setWordWrap(True)
        form.addRow("", self.returning_label)
        grid.addWidget(who, 0, 0)

        mats = QGroupBox(self.tr("申请材料（空格切换：已收 / 需补正 / 容缺；Alt+A 全部已收）"))
        mats_layout = QVBoxLayout(mats)
        self.materials = read_only_table([self.tr("材料名称"), self.tr("形式/份数"), self.tr("状态")], 0, "materials")
        self.materials.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        mats_layout.addWidget(self.materials)
        kind_row = QHBoxLayout()
        kind_label = QLabel(self.tr("办件类型(&K)："))
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("kindCombo")
        for code, label in KIND_LABELS.items():
            self.kind_combo.addItem(label, code)
        kind_label.setBuddy(self.kind_combo)
        self.kind_reason = QLineEdit()
        self.kind_reason.setObjectName("kindReason")
        self.kind_reason.setPlaceholderText(self.tr("改变类型的原因"))
        kind_row.addWidget(kind_label)
        kind_row.addWidget(self.kind_combo)
        kind_row.addWidget(self.kind_reason, 1)
        mats_layout.addLayout(kind_row)
        note_row = QHBoxLayout()
        note_label = QLabel(self.tr("备注(&E)："))
        self.note_edit = QLineEdit()
        self.note_edit.setObjectName("note")
        note_label.setBuddy(self.note_edit)
        note_row.addWidget(note_label)
        note_row.addWidget(self.note_edit, 1)
        mats_layout.addLayout(note_row)
        grid.addWidget(mats, 0, 1)
        grid.setColumnStretch(0, 5)
        grid.setColumnStretch(1, 6)

        self.refuse_box = QGroupBox(self.tr("不予受理"))
        refuse_form = QFormLayout(self.refuse_box)
        self.refusal_reason = QLineEdit()
        self.refusal_reason.setObjectName("refusalReason")
        self.refusal_reason.setPlaceholderText(self.tr("必须写明理由"))
        self.redirect_organ = QLineEdit()
        self.redirect_organ.setPlaceholderText(self.tr("告知其向哪个机关申请（如有）"))
        refuse_form.addRow(self.tr("理由："), self.refusal_reason)
        refuse_form.addRow(self.tr("应向："), self.redirect_organ)
        self.refuse_box.setVisible(False)
        grid.addWidget(self.refuse_box, 1, 0, 1, 2)

        due_box = QGroupBox(self.tr("承诺办结期限"))
        due_layout = QVBoxLayout(due_box)
        self.due_label = QLabel("—")
        self.due_label.setObjectName("dueLabel")
        self.outcome_label = QLabel()
        self.outcome_label.setObjectName("outcomeLabel")
        self.outcome_label.setWordWrap(True)
        self.explain_label = QLabel()
        self.explain_label.setObjectName("explainLabel")
        self.explain_label.setWordWrap(True)
        due_layout.addWidget(self.due_label)
        due_layout.addWidget(self.outcome_label)
        due_layout.addWidget(self.explain_label)
        # 先照后证: the missing prerequisite item named before the clerk saves.
        self.prerequisite_label = QLabel()
        self.prerequisite_label.setObjectName("prerequisiteLabel")
        self.prerequisite_label.setWordWrap(True)
        self.prerequisite_label.setStyleSheet("color: #b00020; font-weight: bold;")
        self.prerequisite_label.hide()
        due_layout.addWidget(self.prerequisite_label)
        # 一次性收费: the item's fee standard, and (for an item with a fee) who paid and the receipt number.
        fee_row = QHBoxLayout()
        self.fee_label = QLabel()
        self.fee_label.setObjectName("feeLabel")
        self.fee_payer = QLineEdit()
        self.fee_payer.setObjectName("feePayer")
        self.fee_payer.setPlaceholderText(self.tr("缴费人（空白为申请人）"))
        self.fee_receipt = QLineEdit()
        self.fee_receipt.setObjectName("feeReceipt")
        self.fee_receipt.setPlaceholderText(self.tr("票据号码（收费时填写）"))
        fee_row.addWidget(self.fee_label, 1)
        fee_row.addWidget(self.fee_payer)
        fee_row.addWidget(self.fee_receipt)
        due_layout.addLayout(fee_row)
        grid.addWidget(due_box, 2, 0, 1, 2)

        buttons = QHBoxLayout()
        self.save_btn = QPushButton(self.tr("保存 Enter"))
        self.save_btn.setObjectName("saveButton")
        self.save_btn.setDefault(True)
        self.refuse_btn = QPushButton(self.tr("不予受理 Alt+R"))
        self.clear_btn = QPushButton(self.tr("清空 Ctrl+Shift+N"))
        self.lookup_btn = QPushButton(self.tr("查找老申请人 Ctrl+L"))
        self.print_btn = QPushButton(self.tr("打印 Ctrl+P"))
        self.print_btn.setObjectName("printButton")
        self.print2_btn = QPushButton(self.tr("打印 Ctrl+Shift+P"))
        for b in (self.save_btn, self.refuse_btn, self.lookup_btn, self.clear_btn):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.print_btn)
        buttons.addWidget(self.print2_btn)
        outer.addLayout(buttons)
        self.result_label = QLabel()
        self.result_label.setObjectName("resultLabel")
        self.result_label.setWordWrap(True)
        outer.addWidget(self.result_label)
        self.print_btn.setVisible(False)
        self.print2_btn.setVisible(False)

        # Tab order follows the paper form.
        chain = [self.type_person, self.type_org, self.id_edit, self.name_edit, self.phone_edit, self.address_edit,
                 self.agent_check, self.agent_name, self.agent_id, self.agent_phone, self.materials,
                 self.kind_combo, self.kind_reason, self.note_edit, self.refusal_reason, self.redirect_organ,
                 self.save_btn, self.refuse_btn, self.lookup_btn, self.clear_btn]
        for a, b in itertools.pairwise(chain):
            QWidget.setTabOrder(a, b)
        self.agent_box.setVisible(False)

    def _wire(self) -> None:
        for edit in (self.id_edit, self.name_edit, self.phone_edit, self.address_edit, self.agent_name,
                     self.agent_id, self.agent_phone, self.kind_reason, self.note_edit, self.refusal_reason,
                     self.redirect_organ):
            edit.textChanged.connect(self._edited)
            edit.textEdited.connect(self._next_intake_typed)  # typed, not filled in by the program
        for w in (self.id_edit, self.name_edit, self.phone_edit, self.address_edit, self.agent_name, self.agent_id,
                  self.agent_phone, self.kind_reason, self.note_edit, self.refusal_reason, self.redirect_organ,
                  self.materials, self.kind_combo, self.agent_check, self.type_person, self.type_org):
            w.installEventFilter(self)
        self.id_edit.textChanged.connect(self._id_changed)
        self.type_person.toggled.connect(self._type_changed)
        self.agent_check.toggled.connect(self._agent_toggled)
        self.kind_combo.currentIndexChanged.connect(self._kind_changed)
        self.save_btn.clicked.connect(self.save)
        self.refuse_btn.clicked.connect(self.toggle_refusal)
        self.clear_btn.clicked.connect(self.clear_asking)
        self.lookup_btn.clicked.connect(self.lookup_applicant)
        self.print_btn.clicked.connect(lambda: self.print_paper(0))
        self.print2_btn.clicked.connect(lambda: self.print_paper(1))
        here, window = Qt.ShortcutContext.WidgetWithChildrenShortcut, Qt.ShortcutContext.WindowShortcut
        for key, fn, context in (("Ctrl+S", self.save, here),  # saves from any field, the ID field too
                                 ("Alt+R", self.toggle_refusal, here), ("Alt+A", self.all_received, here),
                                 ("Ctrl+L", self.lookup_applicant, here), ("Ctrl+Shift+N", self.clear_asking, here),
                                 # Printing works from anywhere in the window: after a save the focus is back
                                 # on the item finder for the next citizen.
                                 ("Ctrl+P", lambda: self.print_paper(0), window),
                                 ("Ctrl+Shift+P", lambda: self.print_paper(1), window)):
            act = QAction(self)
            act.setShortcut(QKeySequence(key))
            act.setShortcutContext(context)
            act.triggered.connect(fn)
            self.addAction(act)

    # ------------------------------------------------------------------------------------ keys
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if key in ENTER_KEYS and watched in (self.id_edit, self.agent_id):
                # An ID-card reader in keyboard mode types the number and then Enter: that Enter moves on to
                # the next field still empty, it never saves (a returning citizen's immediate item would be
                # closed on the spot, a timed one saved as 补正 with every paper missing).
                self._next_empty_field(watched)
                return True
            if key in ENTER_KEYS and not (isinstance(watched, QComboBox) and watched.view().isVisible()):
                self.save()
                return True
            if watched is self.materials and self._material_key(key):
                return True
        return super().eventFilter(watched, event)

    def _next_empty_field(self, after: QWidget) -> None:
        if after is self.agent_id:
            order: list[QWidget] = [self.agent_phone, self.agent_name]
        else:
            order = [self.name_edit, self.phone_edit, self.address_edit]
        for edit in order:
            if isinstance(edit, QLineEdit) and edit.isVisible() and edit.isEnabled() and not edit.text().strip():
                edit.setFocus()
                return
        # Every applicant field filled (a returning citizen): on to the papers, where Space marks each one.
        self.materials.setFocus()
        if self.materials.rowCount() and self.materials.currentRow() < 0:
            self.materials.setCurrentCell(0, 0)

    def _material_key(self, key: int) -> bool:
        row = self.materials.currentRow()
        if self.item is None or not 0 <= row < len(self.item.materials):
            return False
        name = self.item.materials[row]["name"]
        tolerable = bool(self.item.materials[row].get("tolerable"))
        if key == Qt.Key.Key_Space:
            order = [s for s in STATUS_ORDER if s != "tolerated" or tolerable]
            current = self.statuses.get(name, "received")
            status = order[(order.index(current) + 1) % len(order)] if current in order else "received"
        elif key in (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3):
            status = STATUS_ORDER[key - Qt.Key.Key_1]
            if status == "tolerated" and not tolerable:
                return True
        else:
            return False
        self.statuses[name] = status
        self._show_materials()
        self.materials.selectRow(row)
        self._edited()
        self._refresh_deadline()
        return True

    # ----------------------------------------------------------------------------------- item
    def load_item(self, item: ItemView) -> None:
        """Take the chosen item: its materials, kind and deadline; the applicant typed so far stays."""
        self.item = item
        self.statuses = {m["name"]: self._default_status(item.default_kind) for m in item.materials}
        self._loading = True
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(item.default_kind))
        self._loading = False
        self.item_label.setText(self.tr("事项：{0} {1}（{2}窗口，默认{3}）").format(
            item.code, item.name, item.window_code, KIND_LABELS[item.default_kind]))
        # The last save's line (number, print buttons) stays until the next citizen's first keystroke: a
        # reflexive second Enter in the item finder must not take the number away before it is printed.
        self._show_materials()
        self._update_enabled()
        self._refresh_deadline()
        self._show_fee()
        self._check_prerequisite()
        self._edited()
        self.id_edit.setFocus()

    def _show_fee(self) -> None:
        cents = self.item.fee_cents if self.item is not None else 0
        self.fee_label.setText(self.tr("收费：") + fees.standard_text(cents, self.item.fee if self.item else ""))
        for edit in (self.fee_payer, self.fee_receipt):
            edit.setVisible(bool(cents))

    def _check_prerequisite(self) -> None:
        """Ask, in the background, whether the applicant typed has the item's prerequisite closed."""
        item, number = self.item, self.id_edit.text().strip().upper()
        if item is None or not item.prerequisite or len(number) < 18:
            self.prerequisite_label.hide()
            return
        code, needed = item.code, item.prerequisite
        self._prerequisite.request(lambda s: prerequisites.missing(s, code, needed, number), self._prerequisite_is)

    def _prerequisite_is(self, problem: str | None) -> None:
        self.prerequisite_label.setText(problem or "")
        self.prerequisite_label.setVisible(bool(problem))

    @staticmethod
    def _default_status(kind: str) -> str:
        # A same-day item is done with what is on the counter; timed items are ticked one by one as checked.
        return "received" if kind in SAME_DAY_KINDS else "missing"

    def _show_materials(self) -> None:
        mats = self.item.materials if self.item else ()
        self.materials.setRowCount(len(mats))
        for row, m in enumerate(mats):
            status = self.statuses.get(m["name"], "received")
            label = MATERIAL_STATUS[status] + ("　可容缺" if m.get("tolerable") and status != "tolerated" else "")
            cells = (m["name"], f"{m.get('form', '')} {m.get('count', 1)}份", label)
            for col, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if col == 2 and status == "missing":
                    cell.setForeground(Qt.GlobalColor.red)
                self.materials.setItem(row, col, cell)
        self.materials.resizeRowsToContents()
        if mats and self.materials.currentRow() < 0:
            self.materials.setCurrentCell(0, 0)

    def all_received(self) -> None:
        if self.item is None:
            return
        self.statuses = {m["name"]: "received" for m in self.item.materials}
        self._show_materials()
        self._edited()
        self._refresh_deadline()

    @property
    def kind(self) -> str:
        return self.kind_combo.currentData() or (self.item.default_kind if self.item else "promised")

    def _kind_changed(self, _i: int) -> None:
        self._update_enabled()
        if not self._loading:
            self._edited()
            self._refresh_deadline()

    def _update_enabled(self) -> None:
        has_item = self.item is not None
        changed = has_item and self.item is not None and self.kind != self.item.default_kind
        self.kind_reason.setEnabled(bool(changed) and self.kind != "explain")
        for w in (self.save_btn, self.refuse_btn, self.materials, self.kind_combo):
            w.setEnabled(has_item)

    def missing(self) -> list[str]:
        if self.item is None or self.kind == "explain":
            return []
        return [m["name"] for m in self.item.materials if self.statuses.get(m["name"]) == "missing"]

    def _refresh_deadline(self) -> None:
        if self.item is None:
            return
        code, kind = self.item.code, self.kind
        self._deadlines.cancel()  # what is read now is newer than a re-read still on its way
        self.deadline = read(self.ctx.db, lambda s: intake.preview_deadline(s, code, kind, self._today()))
        self._show_deadline()

    def _deadline_in_background(self) -> None:
        if self.item is None:
            return
        code, kind, today = self.item.code, self.kind, self._today()

        def arrived(d: Deadline) -> None:
            if self.item is not None and (self.item.code, self.kind) == (code, kind):
                self.deadline = d
                self._show_deadline()

        self._deadlines.request(lambda s: intake.preview_deadline(s, code, kind, today), arrived)

    def _show_deadline(self) -> None:
        kind = self.kind
        d = self.deadline
        due = d.due.isoformat() + ("（暂定）" if d.provisional else "")
        missing = self.missing()
        if self.refusing:
            self.due_label.setText(self.tr("不予受理：不计办结期限"))
            self.outcome_label.setText(self.tr("保存后登记为“不予受理”，打印不予受理通知书（Ctrl+P）"))
        elif missing:
            self.due_label.setText(self.tr("补正后起算（若今日收齐：{0}）").format(due))
            self.outcome_label.setText(self.tr("缺 {0} 项材料，保存后登记为“待补正”，一次性告知：{1}").format(
                len(missing), "、".join(missing)))
        else:
            self.due_label.setText(self.tr("承诺办结日期：{0}").format(due))
            tolerated = [n for n, s in self.statuses.items() if s == "tolerated"]
            what = self.tr("当场办结") if kind in SAME_DAY_KINDS else self.tr("受理")
            extra = self.tr("，容缺：{0}").format("、".join(tolerated)) if tolerated else ""
            self.outcome_label.setText(self.tr("材料齐全，保存后{0}{1}").format(what, extra))
        text = "".join(x if x.endswith(("。", "；")) else x + "；" for x in d.explanation)
        if d.provisional:
            text = self.tr("暂定：该年度节假日安排尚未确认，按周一至周五计算，确认后自动重算。") + text
        self.explain_label.setText(text)
        self.explain_label.setToolTip("\n".join(d.explanation))
        self.outcome_label.setStyleSheet("color: #b00020;" if missing or self.refusing else "")

    # -------------------------------------------------------------------------------- applicant
    def _type_changed(self, person: bool) -> None:
        self.id_label.setText(self.tr("身份证号(&I)：") if person else self.tr("信用代码(&I)："))
        self.name_label.setText(self.tr("姓名(&N)：") if person else self.tr("单位名称(&N)："))
        self.id_edit.setPlaceholderText(self.tr("18位公民身份号码，读卡或输入") if person
                                        else self.tr("18位统一社会信用代码"))
        self.derived_label.setVisible(person)
        self._id_changed(self.id_edit.text())
        self._edited()

    def _agent_toggled(self, on: bool) -> None:
        self.agent_box.setVisible(on)
        if on:
            self.agent_name.setFocus()
        self._edited()

    def _id_changed(self, text: str) -> None:
        self.sex_value.setText("—")
        self.birth_value.setText("—")
        self.id_status.setStyleSheet("")
        compact = text.strip().replace(" ", "")
        if len(compact) < 15:
            self.id_status.setText("")
            return
        try:
            if self.type_person.isChecked():
                parsed = parse_id_number(compact, today=self._today())
                self.sex_value.setText(SEX_LABELS[parsed.sex])
                self.birth_value.setText(parsed.birth_date.isoformat())
                ok = self.tr("证件号码有效") + ("" if parsed.area_known else self.tr("（地区码不常见，请核对证件）"))
                number = parsed.number
            else:
                number = parse_credit_code(compact)
                ok = self.tr("统一社会信用代码有效")
        except ValidationError as exc:
            if len(compact) >= 18 or (self.type_person.isChecked() and len(compact) == 15):
                self.id_status.setText(str(exc))
                self.id_status.setStyleSheet("color: #b00020;")
            else:
                self.id_status.setText("")
            return
        self.id_status.setText(ok)
        self.id_status.setStyleSheet("color: #1b5e20;")
        self._check_prerequisite()
        found = read(self.ctx.db, lambda s: queue.find_applicants(s, number, 1))
        if found and found[0].id_no == number:
            self.fill_applicant(found[0], keep_typed=True)

    def fill_applicant(self, a: ApplicantView, *, keep_typed: bool = False) -> None:
        """A returning citizen: their latest details, so only what changed needs typing."""
        self.returning = a
        self._loading = True
        if a.type == "org":
            self.type_org.setChecked(True)
        else:
            self.type_person.setChecked(True)
        if self.id_edit.text().strip().upper() != a.id_no:
            self.id_edit.setText(a.id_no)
        for edit, value in ((self.name_edit, a.name), (self.phone_edit, a.phone), (self.address_edit, a.address)):
            if not (keep_typed and edit.text().strip()):
                edit.setText(value)
        self._loading = False
        self.returning_label.setText(self.tr("老申请人：已带出上次登记的姓名、电话和村/组，请核对"))
        self._edited()

    def lookup_applicant(self) -> None:
        query = self.name_edit.text().strip() or self.id_edit.text().strip()
        if not query:
            messages.info(self, self.tr("查找老申请人"), self.tr("请先输入姓名、拼音首字母或证件号码"))
            return
        # Off the GUI thread: a name or initials search walks up to a few hundred index entries (cold pages on
        # a large ledger take tens of ms). The exact ID lookup above stays inline — one unique-index probe, and a
        # card reader's Enter must find the citizen already filled in.
        self._applicants.request(lambda s: queue.find_applicants(s, query, 10),
                                 lambda found, q=query: self._applicants_found(q, found))

    def _applicants_found(self, query: str, found: list[ApplicantView]) -> None:
        if not found:
            messages.info(self, self.tr("查找老申请人"), self.tr("没有找到“{0}”的登记记录").format(query))
            return
        chosen = found[0] if len(found) == 1 else ApplicantPicker.pick(self, found)
        if chosen is not None:
            self.fill_applicant(chosen)
            self.phone_edit.setFocus()

    # ----------------------------------------------------------------------------------- save
    def toggle_refusal(self) -> None:
        if self.item is None:
            return
        self.refusing = not self.refusing
        self.refuse_box.setVisible(self.refusing)
        self.save_btn.setText(self.tr("保存为不予受理 Enter") if self.refusing else self.tr("保存 Enter"))
        if self.refusing:
            self.refusal_reason.setFocus()
        self._refresh_deadline()
        self._edited()

    def build_form(self) -> IntakeForm:
        assert self.item is not None
        agent = None
        if self.agent_check.isChecked():
            agent = AgentForm(self.agent_name.text(), self.agent_id.text(), self.agent_phone.text())
        kind = self.kind
        return IntakeForm(
            item_code=self.item.code,
            applicant=ApplicantForm("person" if self.type_person.isChecked() else "org", self.id_edit.text(),
                                    self.name_edit.text(), self.phone_edit.text(), self.address_edit.text()),
            materials=dict(self.statuses),  # type: ignore[arg-type]
            kind=kind, kind_reason=self.kind_reason.text(), agent=agent, note=self.note_edit.text(),
            decision="refuse" if self.refusing else "accept", refusal_reason=self.refusal_reason.text(),
            redirect_organ=self.redirect_organ.text(), fee=self._fee_form(),
        )

    def _fee_form(self) -> fees.FeeForm | None:
        """The fee taken with this save: only for an item with a fee and a receipt number typed."""
        if self.item is None or not self.item.fee_cents or not self.fee_receipt.text().strip() or self.refusing:
            return None
        return fees.FeeForm(self.fee_payer.text().strip() or self.name_edit.text(), self.fee_receipt.text())

    def save(self) -> IntakeResult | None:
        if self.item is None:
            messages.error(self, self.tr("无法保存"), self.tr("请先选择事项"))
            return None
        self.autosaver.flush()  # whatever happens next, what was typed is on disk
        form = self.build_form()
        actor, now = self.ctx.actor, self._now()
        # The draft's key is the ticket's id: saving this form again after the server went away mid-save finds
        # the ticket if that save did reach the server, instead of registering the citizen twice.
        uid = self.ticket_uid()
        result = run(self, self.ctx, lambda s: intake.register(s, actor, form, now=now, uid=uid),
                     title=self.tr("未保存"), initiator=self, failed=self._save_failed)
        if result is None:
            return None
        self.last_result = result
        self.autosaver.finish()
        self._reset_fields()
        self._show_result(result)
        self.saved.emit(result)
        self.done.emit()
        return result

    def ticket_uid(self) -> str:
        """This form's ticket id, from its draft's key (a hex UUID; any other key is hashed into one)."""
        key = self.autosaver.key
        try:
            return str(uuid.UUID(key))
        except ValueError:
            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hall-draft:{key}"))

    def _save_failed(self, exc: HallError) -> None:
        if isinstance(exc, ServerUnavailable):
            log.warning("intake not saved, kept as draft %s: %s", self.autosaver.key, exc)
            self.result_label.setText(self.tr("未保存：与数据库服务器的连接中断。已填写的内容已保存为草稿，"
                                              "服务器恢复后再按 Enter 保存即可（不会重复登记）。"))
            self.result_label.setStyleSheet("color: #b00020; font-weight: bold;")

    def _show_result(self, r: IntakeResult) -> None:
        papers = [RESULT_PAPERS[p] for p in r.papers if p in RESULT_PAPERS]
        due = ""
        if r.due_date is not None and r.state not in ("closed_approved",):
            due = self.tr("，承诺办结日期 {0}{1}").format(r.due_date.isoformat(),
                                                    "（暂定）" if r.due_provisional else "")
        text = self.tr("已保存 {0}：{1}{2}。").format(r.number, STATE_LABELS.get(r.state, r.state), due)
        if r.missing:
            text += self.tr("需补正：{0}。").format("、".join(r.missing))
        if r.warnings:
            text += " ".join(r.warnings)
        self.result_label.setText(text)
        self.result_label.setStyleSheet("color: #1b5e20; font-weight: bold;")
        for btn, i, key in ((self.print_btn, 0, "Ctrl+P"), (self.print2_btn, 1, "Ctrl+Shift+P")):
            if i < len(papers):
                btn.setText(self.tr("打印{0} {1}").format(PAPER_LABELS[papers[i]], key))
                btn.setVisible(True)
            else:
                btn.setVisible(False)
        self._papers = papers

    def print_paper(self, i: int) -> None:
        papers = getattr(self, "_papers", [])
        if self.last_result is None or i >= len(papers):
            return
        show_paper(self, self.ctx, self.last_result.number, papers[i])

    def _reset_fields(self) -> None:
        self._loading = True
        for edit in (self.id_edit, self.name_edit, self.phone_edit, self.address_edit, self.agent_name,
                     self.agent_id, self.agent_phone, self.kind_reason, self.note_edit, self.refusal_reason,
                     self.redirect_organ, self.fee_payer, self.fee_receipt):
            edit.clear()
        self.prerequisite_label.hide()
        self.type_person.setChecked(True)
        self.agent_check.setChecked(False)
        self.refusing = False
        self.refuse_box.setVisible(False)
        self.save_btn.setText(self.tr("保存 Enter"))
        self.returning = None
        self.returning_label.clear()
        if self.item is not None:
            self.statuses = {m["name"]: self._default_status(self.item.default_kind) for m in self.item.materials}
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(self.item.default_kind))
            self._show_materials()
        self._loading = False
        self._refresh_deadline()

    def clear_asking(self) -> None:
        if self.is_dirty() and not messages.confirm(self, self.tr("清空登记"),
                                                    self.tr("清空当前未保存的登记吗？已输入的内容将被删除。")):
            return
        self._reset_fields()
        self.autosaver.finish()
        self.result_label.clear()
        self.done.emit()

    def _next_intake_typed(self, *_args: Any) -> None:
        """The clerk typed for the next citizen: the previous save's line and its print buttons go."""
        if self.last_result is None:
            return
        self.last_result = None
        self.result_label.clear()
        self.print_btn.setVisible(False)
        self.print2_btn.setVisible(False)

    # ---------------------------------------------------------------------------------- drafts
    def _edited(self, *_args: Any) -> None:
        if not self._loading:
            self.autosaver.changed()

    def is_dirty(self) -> bool:
        """Anything typed for the citizen in front of the window that is not saved yet."""
        typed = any(e.text().strip() for e in (self.id_edit, self.name_edit, self.phone_edit, self.address_edit,
                                               self.agent_name, self.agent_id, self.note_edit, self.refusal_reason))
        return self.item is not None and typed

    def snapshot(self) -> dict[str, Any] | None:
        if not self.is_dirty() or self.item is None:
            return None
        return {
            "item_code": self.item.code, "item_name": self.item.name,
            "type": "person" if self.type_person.isChecked() else "org", "id_no": self.id_edit.text(),
            "name": self.name_edit.text(), "phone": self.phone_edit.text(), "address": self.address_edit.text(),
            "agent": self.agent_check.isChecked(), "agent_name": self.agent_name.text(),
            "agent_id": self.agent_id.text(), "agent_phone": self.agent_phone.text(),
            "materials": dict(self.statuses), "kind": self.kind, "kind_reason": self.kind_reason.text(),
            "note": self.note_edit.text(), "refusing": self.refusing, "refusal_reason": self.refusal_reason.text(),
            "redirect_organ": self.redirect_organ.text(),
        }

    def restore(self, data: dict[str, Any], item: ItemView, key: str | None = None) -> None:
        """Put a draft back exactly as it was typed (then keep autosaving into the same draft file)."""
        self.load_item(item)
        self._loading = True
        (self.type_org if data.get("type") == "org" else self.type_person).setChecked(True)
        for edit, k in ((self.id_edit, "id_no"), (self.name_edit, "name"), (self.phone_edit, "phone"),
                        (self.address_edit, "address"), (self.agent_name, "agent_name"), (self.agent_id, "agent_id"),
                        (self.agent_phone, "agent_phone"), (self.kind_reason, "kind_reason"),
                        (self.note_edit, "note"), (self.refusal_reason, "refusal_reason"),
                        (self.redirect_organ, "redirect_organ")):
            edit.setText(str(data.get(k, "")))
        self.agent_check.setChecked(bool(data.get("agent")))
        known = {m["name"] for m in item.materials}
        self.statuses.update({n: s for n, s in dict(data.get("materials", {})).items()
                              if n in known and s in STATUS_ORDER})
        i = self.kind_combo.findData(data.get("kind", item.default_kind))
        self.kind_combo.setCurrentIndex(max(i, 0))
        self._loading = False
        if bool(data.get("refusing")) != self.refusing:
            self.toggle_refusal()
        self._show_materials()
        self._update_enabled()
        self._refresh_deadline()
        if key:
            self.autosaver.adopt(key)
        self.id_edit.setFocus()


class ApplicantPicker(QDialog):
    """Several citizens match: pick one with the arrow keys and Enter."""

    def __init__(self, found: list[ApplicantView], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("选择老申请人"))
        self.found = found
        layout = QVBoxLayout(self)
        self.list = QListWidget()
        for a in found:
            it = QListWidgetItem(f"{a.name}　{a.id_masked}　{a.phone}　{a.address}")
            self.list.addItem(it)
        self.list.setCurrentRow(0)
        self.list.activated.connect(lambda _i: self.accept())
        layout.addWidget(self.list)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout.addWidget(box)
        fit_on_screen(self, 41, 18)

    @classmethod
    def pick(cls, parent: QWidget, found: list[ApplicantView]) -> ApplicantView | None:
        if messages.ask_hook is not None:  # tests answer without a modal loop: the first match
            return found[0]
        dlg = cls(found, parent)
        if dlg.exec() == QDialog.DialogCode.Accepted and dlg.list.currentRow() >= 0:
            return found[dlg.list.currentRow()]
        return None

