"""The ticket detail's 同步冲突 panel: both branches side by side (who, what, when), and 处理冲突 for the manager.

A ticket acted on at the hall and at a village laptop from the same version is frozen until the manager chooses a
branch (or neither) with a reason (hall/services/sync/conflicts.py). The panel reads the ticket's conflicts on the
background ``Loader``; the resolution runs through ``ops.run`` in one transaction from a dialog that stays open,
with what was typed, when it is refused.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hall.errors import HallError
from hall.services.base.actor import actor_label
from hall.services.sync import conflicts
from hall.services.sync.conflicts import BranchLine, ConflictView
from hall.ui.background import Loader
from hall.ui.ops import Context, run
from hall.ui.widgets import read_only_table


def gap(side: str) -> str:
    """代办点 001 的办理: a space after a code before the Chinese that follows it."""
    return side + " " if side[-1:].isdigit() else side


class ResolveDialog(QDialog):
    """处理冲突: the choice and a required reason. OK runs ``submit`` while the dialog is open; a refusal is shown
    above the buttons and everything typed stays."""

    def __init__(self, title: str, choices: tuple[tuple[str, str], ...], submit: Callable[[dict[str, str]],
                 HallError | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resolveConflictDialog")
        self.setWindowTitle(title)
        self.submit = submit
        form = QFormLayout(self)
        self.keep = QComboBox()
        self.keep.setObjectName("conflictKeep")
        for value, label in choices:
            self.keep.addItem(label, value)
        self.reason = QPlainTextEdit()
        self.reason.setObjectName("conflictReason")
        self.reason.setTabChangesFocus(True)
        self.reason.setMaximumHeight(90)
        form.addRow(self.tr("处理方式："), self.keep)
        form.addRow(self.tr("处理原因："), self.reason)
        self.problem = QLabel()
        self.problem.setObjectName("actionProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020;")
        self.problem.hide()
        form.addRow(self.problem)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        form.addRow(box)
        self.resize(560, 240)

    def values(self) -> dict[str, str]:
        return {"keep": self.keep.currentData(), "reason": self.reason.toPlainText()}

    def accept(self) -> None:
        problem = self.submit(self.values())
        if problem is not None:
            self.problem.setText(str(problem))
            self.problem.show()
            return
        super().accept()


class ConflictPanel(QGroupBox):
    """Hidden unless the ticket has a sync conflict; ``resolved`` is called after a resolution was saved."""

    def __init__(self, ctx: Context, parent: QWidget | None = None, *,
                 resolved: Callable[[], None] | None = None) -> None:
        super().__init__(self.tr("同步冲突"), parent)
        self.setObjectName("conflictPanel")
        self.ctx = ctx
        self.view: ConflictView | None = None
        self.uid = ""
        self._resolved = resolved
        self.loader = Loader(ctx.db, self)
        layout = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setObjectName("conflictSummary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        sides = QHBoxLayout()
        self.boxes: list[QGroupBox] = []
        self.tables = []
        for name in ("conflictBranchA", "conflictBranchB"):
            box = QGroupBox()
            inner = QVBoxLayout(box)
            table = read_only_table([self.tr("时间"), self.tr("经办人"), self.tr("办理情况"), self.tr("状态")], 2, name)
            table.setMaximumHeight(100)  # the history below keeps most of the height
            inner.addWidget(table)
            sides.addWidget(box, 1)
            self.boxes.append(box)
            self.tables.append(table)
        layout.addLayout(sides)
        row = QHBoxLayout()
        row.addStretch(1)
        self.resolve_btn = QPushButton(self.tr("处理冲突"))
        self.resolve_btn.setObjectName("resolveConflict")
        self.resolve_btn.setToolTip(self.tr("由中心主任选择保留哪一边的办理，并填写原因"))
        self.resolve_btn.clicked.connect(self.ask_and_resolve)
        row.addWidget(self.resolve_btn)
        layout.addLayout(row)
        self.setStyleSheet("QGroupBox#conflictPanel { color: #b00020; font-weight: bold; }")
        self.hide()

    @property
    def loading(self) -> bool:
        return self.loader.busy

    def load(self, ticket_uid: str) -> None:
        self.uid = ticket_uid
        self.loader.request(lambda s: conflicts.of_ticket(s, ticket_uid), self.show_views)

    def show_views(self, views: list[ConflictView]) -> None:
        self.view = views[0] if views else None
        v = self.view
        if v is None:
            self.hide()
            return
        if v.is_open:
            self.summary.setText(self.tr("中心与{0}在同一版本上各自办理了该办件（发现于 {1}）。办件停在分叉前的状态，"
                                         "两边的办理都暂不生效，须由中心主任处理后才能继续办理。").format(
                gap(v.side_b if v.side_a == "中心" else v.side_a), f"{v.found_at:%Y-%m-%d %H:%M}"))
        else:
            self.summary.setText(self.tr("已处理：{0}（{1} 于 {2}，原因：{3}）。未保留的一边记为“未生效”。").format(
                v.outcome, v.resolved_by, f"{v.resolved_at:%Y-%m-%d %H:%M}" if v.resolved_at else "", v.reason))
        for box, table, side, lines in ((self.boxes[0], self.tables[0], v.side_a, v.branch_a),
                                        (self.boxes[1], self.tables[1], v.side_b, v.branch_b)):
            box.setTitle(self.tr("{0}的办理").format(gap(side)))
            self._fill(table, lines)
        self.resolve_btn.setVisible(v.is_open and self.ctx.actor.is_supervisor)
        self.show()

    @staticmethod
    def _fill(table: object, lines: tuple[BranchLine, ...]) -> None:
        table.setRowCount(len(lines))  # type: ignore[attr-defined]
        for row, line in enumerate(lines):
            for col, text in enumerate((f"{line.at:%m-%d %H:%M}", actor_label(line.who, line.role), line.what,
                                        line.status_label)):
                table.setItem(row, col, QTableWidgetItem(text))  # type: ignore[attr-defined]
        table.resizeRowsToContents()  # type: ignore[attr-defined]

    # ------------------------------------------------------------------------------------ resolving
    def choices(self) -> tuple[tuple[str, str], ...]:
        v = self.view
        assert v is not None
        village = v.side_b if v.side_a == "中心" else v.side_a
        return (("hall", self.tr("保留中心的办理")), ("village", self.tr("保留{0}的办理").format(gap(village))),
                ("none", self.tr("两边都不生效（办件回到分叉前的状态）")))

    def dialog(self) -> ResolveDialog:
        v = self.view
        assert v is not None
        holder: list[ResolveDialog] = []
        dlg = ResolveDialog(self.tr("处理同步冲突 — {0}").format(v.number), self.choices(),
                            lambda values: self.attempt(values, holder[0]), self)
        holder.append(dlg)
        return dlg

    def ask_and_resolve(self) -> bool:
        if self.view is None or not self.view.is_open:
            return False
        return self.dialog().exec() == QDialog.DialogCode.Accepted

    def attempt(self, values: dict[str, str], parent: QWidget | None = None) -> HallError | None:
        """Resolve with the dialog's answers; the refusal (the dialog shows it and keeps what was typed) or None."""
        v = self.view
        assert v is not None
        actor, cid = self.ctx.actor, v.conflict_id
        refused: list[HallError] = []
        done = run(parent or self, self.ctx, lambda s: conflicts.resolve(s, actor, cid, values["keep"],
                                                                         values["reason"]),
                   title=self.tr("未能处理同步冲突"), initiator=self, failed=refused.append)
        if done is None:
            return refused[0] if refused else HallError(self.tr("未能处理同步冲突"))
        if self._resolved is not None:
            self._resolved()
        self.load(self.uid)
        return None
