"""One ticket: who applied for what, its deadline, its full history from the ledger, and the clerk's actions.

Every action button names its shortcut, asks only for what the service needs (a reason, a result …), runs in one
transaction through ``ops.run`` (which tells every view what changed) and shows the outcome at once. A change made
elsewhere — another window, the daily rules, a print — reloads the dialog in the background when it concerns this
ticket. The workflow services
(pause/resume/special steps/extension, transfer, forward, copy, close, deliver) are used when installed; the basic
ones (补正收齐, 办结, 作废) are always there in ``hall.services.tickets.record``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hall.errors import ConflictError, HallError
from hall.services.base.actor import actor_label
from hall.services.cases import joint, proxy, routing, supplement, workflow
from hall.services.catalog import items as catalog
from hall.services.reporting import queue
from hall.services.reporting.queue import TicketDetail
from hall.services.storage.changes import Changes
from hall.services.tickets import record as tickets
from hall.services.tickets import rules
from hall.ui import messages, print_preview
from hall.ui.background import Loader
from hall.ui.conflict_panel import ConflictPanel
from hall.ui.ops import ChangeListener, Context, read, run
from hall.ui.widgets import read_only_table

PAPER_LABELS = {
    "acceptance": "受理通知书", "notice": "一次性告知单", "supplement": "补正材料通知书", "refusal": "不予受理通知书",
    "tolerance": "容缺受理通知书", "forward": "转办（上报）单", "joint": "联办抄告单", "extension": "延期告知书",
    "closure": "办结通知书",
}
# IntakeResult.papers → the paper names of hall/ui/print_preview.show_paper.
RESULT_PAPERS = {"acceptance": "acceptance", "one_time_notice": "notice", "supplement": "supplement",
                 "refusal": "refusal", "tolerance": "tolerance", "completion": "closure"}
SEX_LABELS = {"male": "男", "female": "女"}


def papers_for_state(state: str, kind: str) -> list[str]:
    """The papers that fit a ticket now, most useful first (the clerk can still pick another)."""
    if state == "supplement":
        return ["supplement", "notice"]
    if state == "refused":
        return ["refusal"]
    if state in ("closed_approved", "closed_tolerated", "closed_rejected", "delivered"):
        return ["closure", "acceptance"]
    if state == "forwarded":
        return ["forward", "acceptance"]
    if state == "awaiting_opinions":
        return ["joint", "acceptance"]
    if kind == "explain":
        return ["notice"]
    return ["acceptance", "notice", "extension", "supplement"]


def show_paper(parent: QWidget | None, ctx: Context, number: str, paper: str) -> None:
    """The print hook of every screen: the print preview of one paper of the ticket."""
    print_preview.show_paper(parent, ctx, number, paper)


# ---------------------------------------------------------------------------------------- actions
@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: str = "text"  # text | long | choice | int
    options: tuple[tuple[str, str], ...] = ()  # (value, label) for choices
    default: Any = ""


@dataclass(frozen=True)
class Action:
    name: str  # the workflow's action name (its allowed_actions), or a basic one
    label: str
    key: str
    fields: tuple[Field, ...]
    call: Callable[[Any, Any, str, int, dict[str, Any]], Any]  # (session, actor, number, version, values)


def _close(s: Any, a: Any, n: str, v: int, x: dict[str, Any]) -> Any:
    return workflow.close(s, a, n, x["outcome"], x["result"], result_doc_no=x.get("doc_no", ""), expected_version=v)


def _record_opinion(s: Any, a: Any, n: str, v: int, x: dict[str, Any]) -> Any:
    """A co-department's opinion on the current round's copy to that department."""
    status = joint.status(s, tickets.get(s, n))
    copy = next((c for c in status.copies if c.department == x["department"]), None)
    if copy is None:
        from hall.errors import ValidationError

        raise ValidationError("协办部门", f"“{x['department']}”没有被抄告本办件")
    return joint.record_opinion(s, a, copy.id, x["answer"], x["opinion"], x["answered_by"])


def build_actions(d: TicketDetail, windows: list[tuple[str, str]]) -> list[Action]:
    steps = tuple((x, x) for x in workflow.SPECIAL_STEPS)
    delivery = tuple((x, x) for x in rules.DELIVERY_METHODS)
    outcomes = (("approved", "通过"), ("tolerated", "容缺通过"), ("rejected", "不通过"))
    depts = tuple((x, x) for x in d.departments)
    dept_outcomes = tuple(proxy.DEPT_OUTCOMES.items())
    answers = tuple(joint.ANSWERS.items())
    return [
        Action("start", "开始办理", "Alt+B", (Field("note", "说明（可空）"),),
               lambda s, a, n, v, x: workflow.start(s, a, n, x["note"], expected_version=v)),
        Action("supplement", "补正材料收齐", "Alt+S", (),
               lambda s, a, n, v, x: tickets.supplement_received(s, a, n, expected_version=v)),
        # 补正 during handling: every material in writing, with its deadline (补正材料通知书), then the clock stops.
        Action("pause", "暂停计时（补正）", "Alt+U",
               (Field("materials", "需补正材料（每行一项）", "long"), Field("reason", "补正原因（可空）")),
               lambda s, a, n, v, x: supplement.request_from_text(s, a, n, x["materials"], x.get("reason", ""),
                                                                  expected_version=v)),
        Action("resume", "恢复计时", "Alt+M", (Field("reason", "恢复原因", default="补正材料已收到"),),
               lambda s, a, n, v, x: workflow.resume(s, a, n, x["reason"], expected_version=v)),
        Action("special_start", "特别程序（不计时）", "Alt+X",
               (Field("step", "特别程序", "choice", steps), Field("reason", "说明")),
               lambda s, a, n, v, x: workflow.special_start(s, a, n, x["step"], x["reason"], expected_version=v)),
        Action("special_end", "特别程序结束", "Alt+Z", (Field("result", "特别程序结果"),),
               lambda s, a, n, v, x: workflow.special_end(s, a, n, x["result"], expected_version=v)),
        Action("extend", "申请延期", "Alt+Y",
               (Field("days", "延期工作日", "int", default=5), Field("reason", "延期理由", "long"),
                Field("approver", "批准人工号（中心主任）")),
               lambda s, a, n, v, x: workflow.extend(s, a, n, int(x["days"]), x["reason"], x["approver"],
                                                   expected_version=v)),
        Action("transfer", "转办到其他窗口", "Alt+T",
               (Field("to_window", "接收窗口", "choice", tuple(windows)), Field("reason", "转办原因"),
                Field("handover", "移交内容（首问交接）", "long")),
               lambda s, a, n, v, x: routing.request_transfer(s, a, n, x["to_window"], x["reason"],
                                                                      x["handover"], expected_version=v)),
        Action("forward", "转报上级部门", "Alt+F", (Field("department", "承办部门", "choice", depts),),
               lambda s, a, n, v, x: proxy.forward(s, a, n, x["department"], expected_version=v)),
        Action("department_returned", "登记部门办理结果", "Alt+R",
               (Field("outcome", "部门办理结果", "choice", dept_outcomes), Field("answer", "部门答复", "long"),
                Field("dept_ref", "部门受理编号（如有）"), Field("doc_no", "结果文书编号（如有）")),
               lambda s, a, n, v, x: proxy.department_returned(
                   s, a, n, x["outcome"], x["answer"], dept_ref=x["dept_ref"], result_doc_no=x["doc_no"],
                   expected_version=v)),
        Action("copy", "抄告协办部门", "Alt+J", (),
               lambda s, a, n, v, x: joint.copy(s, a, n, expected_version=v)),
        Action("opinion", "录入协办意见", "Alt+O",
               (Field("department", "协办部门", "choice", depts[1:] or depts),
                Field("answer", "审核意见", "choice", answers), Field("opinion", "意见内容", "long"),
                Field("answered_by", "答复人")), _record_opinion),
        Action("accept_transfer", "接收转办", "Alt+A", (),
               lambda s, a, n, v, x: routing.accept_transfer(s, a, n)),
        Action("escalate", "提交集体研究", "Alt+E", (Field("reason", "提交理由", "long"),),
               lambda s, a, n, v, x: routing.escalate(s, a, n, x["reason"], expected_version=v)),
        Action("decide", "登记集体研究结论", "Alt+K",
               (Field("outcome", "研究结论", "long"), Field("meeting", "会议（纪要号）")),
               lambda s, a, n, v, x: routing.decide(s, a, n, x["outcome"], x["meeting"])),
        Action("close", "办结", "Alt+C",
               (Field("outcome", "办结结果", "choice", outcomes), Field("result", "办理结果", "long"),
                Field("doc_no", "结果文书编号（如有）")), _close),
        Action("deliver", "送达", "Alt+D",
               (Field("how", "送达方式", "choice", delivery), Field("signed_by", "签收人")),
               lambda s, a, n, v, x: workflow.deliver(s, a, n, x["how"], x["signed_by"], expected_version=v)),
        Action("void", "作废", "Alt+V", (Field("reason", "作废原因"),),
               lambda s, a, n, v, x: tickets.void(s, a, n, x["reason"], expected_version=v)),
    ]


def action_enabled(action: str, d: TicketDetail) -> bool:
    if d.sync_conflict:  # frozen until the manager has resolved the sync conflict
        return False
    if action == "supplement":
        return d.state == "supplement"
    if action == "void":
        return d.state != "voided"
    return action in d.actions


class ActionDialog(QDialog):
    """The questions of one action. With ``submit`` the action runs on OK while the dialog is still open, and
    the dialog closes only when it was saved: when it was refused — another counter changed the ticket meanwhile,
    or a rule said no — everything the clerk typed stays, with the reason shown above the buttons."""

    def __init__(self, title: str, fields: tuple[Field, ...], parent: QWidget | None = None, *,
                 submit: Callable[[dict[str, Any]], HallError | None] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.fields = fields
        self.submit = submit  # may be set after construction (a page's own dialog factory)
        self.inputs: dict[str, QWidget] = {}
        form = QFormLayout(self)
        for f in fields:
            w: QWidget
            if f.kind == "choice":
                combo = QComboBox()
                for value, label in f.options:
                    combo.addItem(label, value)
                w = combo
            elif f.kind == "int":
                spin = QSpinBox()
                spin.setRange(1, 60)
                spin.setValue(int(f.default or 1))
                w = spin
            elif f.kind == "long":
                w = QPlainTextEdit(str(f.default))
                w.setTabChangesFocus(True)
                w.setMaximumHeight(90)
            else:
                w = QLineEdit(str(f.default))
            self.inputs[f.key] = w
            form.addRow(f.label + "：", w)
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
        self.resize(560, 100 + 50 * len(fields))

    def accept(self) -> None:
        if self.submit is not None:
            problem = self.submit(self.values())
            if problem is not None:
                self.problem.setText(str(problem))
                self.problem.show()
                return
        super().accept()

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, w in self.inputs.items():
            if isinstance(w, QComboBox):
                out[key] = w.currentData()
            elif isinstance(w, QSpinBox):
                out[key] = w.value()
            elif isinstance(w, QPlainTextEdit):
                out[key] = w.toPlainText()
            elif isinstance(w, QLineEdit):
                out[key] = w.text()
        return out


# ----------------------------------------------------------------------------------------- the view
class TicketDetailDialog(QDialog):
    def __init__(self, ctx: Context, number: str, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.number = number
        self._today = today
        self.windows = [(w.code, f"{w.code} {w.name}") for w in read(ctx.db, catalog.window_views)]
        self.setWindowTitle(self.tr("办件 {0}").format(number))
        self.detail: TicketDetail = read(ctx.db, lambda s: queue.detail(s, ctx.actor, number, today=today()))
        self.loader = Loader(ctx.db, self)
        # Its own actions reload at once (perform); what others change about this ticket arrives here.
        self.listener = ChangeListener(self, ctx.changes, self.concerns, lambda _c: self.reload_in_background(),
                                       own=self)

        layout = QVBoxLayout(self)
        self.header = QLabel()
        self.header.setObjectName("detailHeader")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.header)

        top = QGridLayout()
        who = QGroupBox(self.tr("申请人"))
        who_form = QFormLayout(who)
        self.name_value = QLabel()
        id_row = QHBoxLayout()
        self.id_value = QLabel()
        self.id_value.setObjectName("idValue")
        self.reveal_btn = QPushButton(self.tr("显示完整号码(&R)"))
        self.reveal_btn.setObjectName("revealButton")
        self.reveal_btn.setToolTip(self.tr("查看将记入办理记录"))
        self.reveal_btn.clicked.connect(self.reveal)
        id_row.addWidget(self.id_value)
        id_row.addWidget(self.reveal_btn)
        id_row.addStretch(1)
        self.contact_value = QLabel()
        self.contact_value.setWordWrap(True)
        who_form.addRow(self.tr("姓名："), self.name_value)
        who_form.addRow(self.tr("证件："), id_row)
        who_form.addRow(self.tr("联系："), self.contact_value)
        top.addWidget(who, 0, 0)
        due = QGroupBox(self.tr("期限与材料"))
        due_layout = QVBoxLayout(due)
        self.due_value = QLabel()
        self.due_value.setObjectName("detailDue")
        self.due_value.setWordWrap(True)
        self.materials_value = QLabel()
        self.materials_value.setWordWrap(True)
        due_layout.addWidget(self.due_value)
        due_layout.addWidget(self.materials_value)
        top.addWidget(due, 0, 1)
        top.setColumnStretch(0, 1)
        top.setColumnStretch(1, 1)
        layout.addLayout(top)
        self.conflict_panel = ConflictPanel(ctx, self, resolved=self.reload)
        layout.addWidget(self.conflict_panel)

        history = QGroupBox(self.tr("办理记录（台账）"))
        hl = QVBoxLayout(history)
        self.history = read_only_table([self.tr("时间"), self.tr("经办人"), self.tr("办理情况")], 2, "historyTable")
        hl.addWidget(self.history)
        layout.addWidget(history, 1)

        self.buttons: dict[str, QPushButton] = {}
        self.actions_ = build_actions(self.detail, self.windows)
        grid = QGridLayout()
        for i, a in enumerate(self.actions_):
            b = QPushButton(f"{self.tr(a.label)} {a.key}")
            b.setObjectName(f"action_{a.name}")
            b.setShortcut(QKeySequence(a.key))
            b.clicked.connect(lambda _c=False, act=a: self.ask_and_perform(act))
            self.buttons[a.name] = b
            grid.addWidget(b, i // 6, i % 6)
        self.print_btn = QPushButton(self.tr("打印文书 Ctrl+P"))
        self.print_btn.setObjectName("action_print")
        self.print_btn.setShortcut(QKeySequence("Ctrl+P"))
        self.print_btn.clicked.connect(self.print_default)
        # The citizen rates on their own screen (hall/ui/rating_screen.py); the clerk can only ask.
        self.rate_btn = QPushButton(self.tr("请群众评价 F9"))
        self.rate_btn.setObjectName("action_rate")
        self.rate_btn.setShortcut(QKeySequence("F9"))
        self.rate_btn.clicked.connect(self.ask_rating)
        close_btn = QPushButton(self.tr("关闭 Esc"))
        close_btn.clicked.connect(self.reject)
        n = len(self.actions_)
        for k, b in enumerate((self.print_btn, self.rate_btn, close_btn)):
            grid.addWidget(b, (n + k) // 6, (n + k) % 6)
        layout.addLayout(grid)
        self.show_detail()
        self.resize(1180, 700)

    # ----------------------------------------------------------------------------------- show
    def concerns(self, changes: Changes) -> bool:
        """This ticket changed (its record or its history), or what its figures depend on: the calendar (days
        left), the staff (the owner's name)."""
        return changes.concerns_ticket(self.detail.uid) or changes.calendar or changes.staff

    def reload(self) -> None:
        self.loader.cancel()  # an older background read must not overwrite what is read now
        self.detail = read(self.ctx.db, lambda s: queue.detail(s, self.ctx.actor, self.number, today=self._today()))
        self.show_detail()

    def reload_in_background(self) -> None:
        actor, number, today = self.ctx.actor, self.number, self._today()
        self.loader.request(lambda s: queue.detail(s, actor, number, today=today), self._detail_arrived)

    @property
    def loading(self) -> bool:
        return self.loader.busy or self.conflict_panel.loading

    def _detail_arrived(self, detail: TicketDetail) -> None:
        self.detail = detail
        self.show_detail()

    def show_detail(self) -> None:
        d = self.detail
        self.header.setText(self.tr("<b>{0}</b>　{1} {2}　<b>{3}</b>　{4}　{5}窗口　经办人：{6}").format(
            d.number, d.item_code, d.item_name, d.state_label, d.kind_label, d.window_code, d.owner or "—"))
        self.name_value.setText(d.applicant_name)
        self.id_value.setText(d.applicant_id_masked)
        self.reveal_btn.setVisible(d.applicant_type == "person")
        contact = [d.applicant_phone, d.applicant_address]
        if d.applicant_sex:
            contact.insert(0, SEX_LABELS.get(d.applicant_sex, d.applicant_sex))
        if d.applicant_birth:
            contact.insert(1, self.tr("{0} 出生").format(d.applicant_birth.isoformat()))
        if d.agent:
            contact.append(self.tr("代理人 {0}").format(d.agent.get("name", "")))
        self.contact_value.setText("　".join(c for c in contact if c))
        if d.due_date is not None:
            due = self.tr("承诺办结日期：{0}{1}").format(d.due_date.isoformat(),
                                                   self.tr("（暂定）") if d.due_provisional else "")
            if d.days_left is not None:
                due += "　" + (self.tr("已超期 {0} 个工作日").format(-d.days_left) if d.days_left < 0 else
                               self.tr("今日到期") if d.days_left == 0 else
                               self.tr("剩余 {0} 个工作日").format(d.days_left))
        elif d.state == "supplement":
            due = self.tr("待补正：补正材料收齐之日起计算期限")
        else:
            due = self.tr("不计期限")
        if d.result:
            due += "\n" + self.tr("办理结果：") + d.result
        if d.refusal_reason:
            due += "\n" + self.tr("不予受理理由：") + d.refusal_reason
        if d.void_reason:
            due += "\n" + self.tr("作废原因：") + d.void_reason
        self.due_value.setText(due)
        self.due_value.setStyleSheet("color: #b00020; font-weight: bold;"
                                     if d.days_left is not None and d.days_left < 0 else "")
        self.materials_value.setText(self.tr("材料：") + "；".join(f"{m.name}（{m.status_label}）"
                                                                for m in d.materials))
        self.history.setRowCount(len(d.history))
        for row, line in enumerate(d.history):
            who = actor_label(line.actor, line.role)
            for col, text in enumerate((line.at.strftime("%Y-%m-%d %H:%M"), who, line.text)):
                self.history.setItem(row, col, QTableWidgetItem(text))
        self.history.resizeRowsToContents()
        if d.sync_conflicts or self.conflict_panel.view is not None:  # (the panel stays hidden otherwise)
            self.conflict_panel.load(d.uid)
        for name, b in self.buttons.items():
            b.setEnabled(action_enabled(name, d))
        if hasattr(self, "rate_btn"):
            self.rate_btn.setEnabled(self.rating_stage() is not None and not d.sync_conflict)
            self.print_btn.setEnabled(not d.sync_conflict)  # nothing is written on a frozen ticket
            self.reveal_btn.setEnabled(not d.sync_conflict)

    # ---------------------------------------------------------------------------------- actions
    def ask_and_perform(self, action: Action) -> bool:
        if action.fields:
            # The dialog runs the action itself, so a refusal leaves it open with what was typed.
            dlg = ActionDialog(f"{action.label} — {self.number}", action.fields, self,
                               submit=lambda values: self.attempt(action.name, values, parent=dlg))
            return dlg.exec() == QDialog.DialogCode.Accepted
        if not messages.confirm(self, action.label, self.tr("对办件 {0} 执行“{1}”？").format(self.number,
                                                                                           action.label)):
            return False
        return self.perform(action.name, {})

    def perform(self, name: str, values: dict[str, Any]) -> bool:
        """Run one action with its values (the dialog's answers); True when it was saved."""
        return self.attempt(name, values) is None

    def attempt(self, name: str, values: dict[str, Any], *, parent: QWidget | None = None) -> HallError | None:
        """Run one action on the version this dialog shows; the refusal (also shown as a message), or None once
        it was saved. When another counter changed the ticket meanwhile, the detail shows what it is now, so the
        clerk can look and try again."""
        action = next(a for a in self.actions_ if a.name == name)
        actor, number, version = self.ctx.actor, self.number, self.detail.version
        refused: list[HallError] = []
        done = run(parent or self, self.ctx, lambda s: action.call(s, actor, number, version, values) or True,
                   title=self.tr("未能{0}").format(action.label), initiator=self, failed=refused.append)
        if done is None:
            if refused and isinstance(refused[0], ConflictError):
                self.reload()
            return refused[0] if refused else HallError(self.tr("未能{0}").format(action.label))
        self.reload()
        return None

    def reveal(self) -> None:
        actor, number = self.ctx.actor, self.number
        full = run(self, self.ctx, lambda s: queue.reveal_id(s, actor, number), initiator=self)
        if full:
            self.reload()
            self.id_value.setText(full)
            self.reveal_btn.setVisible(False)

    def rating_stage(self) -> str | None:
        """好差评: 承诺件 are rated at acceptance and at closure; every case at closure."""
        d = self.detail
        if d.state in ("closed_approved", "closed_tolerated", "closed_rejected", "delivered", "refused"):
            return "closure"
        if d.kind == "promised" and d.state in ("accepted", "in_progress"):
            return "acceptance"
        return None

    def ask_rating(self) -> None:
        stage = self.rating_stage()
        if stage is None:
            messages.info(self, self.tr("请群众评价"), self.tr("该办件当前状态不需要评价（承诺件受理后、办结后评价）"))
            return
        from hall.ui.rating_screen import request_citizen_rating

        request_citizen_rating(self, self.ctx, self.number, stage, initiator=self)
        self.reload()

    def print_default(self) -> None:
        show_paper(self, self.ctx, self.number, papers_for_state(self.detail.state, self.detail.kind)[0])


def open_detail(parent: QWidget, ctx: Context, number: str, today: Callable[[], date],
                keep: list[TicketDetailDialog]) -> TicketDetailDialog:
    """Open a ticket's detail without blocking the caller; ``keep`` holds it while it is open."""
    dlg = TicketDetailDialog(ctx, number, parent, today=today)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.finished.connect(lambda _r, d=dlg: keep.remove(d) if d in keep else None)
    keep.append(dlg)
    dlg.open()
    return dlg
