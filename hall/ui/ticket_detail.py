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
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hall.errors import ConflictError, HallError
from hall.services.base.actor import actor_label
from hall.services.cases import joint, offers, proxy, routing, supplement, workflow
from hall.services.catalog import items as catalog
from hall.services.registers import inspection
from hall.services.reporting import case_dates, queue
from hall.services.reporting.case_dates import CaseExtras
from hall.services.reporting.queue import TicketDetail
from hall.services.storage.changes import Changes
from hall.services.tickets import fees, rules
from hall.services.tickets import record as tickets
from hall.ui import messages, print_preview
from hall.ui.background import Loader
from hall.ui.conflict_panel import ConflictPanel
from hall.ui.ops import ChangeListener, Context, read, run
from hall.ui.screen_fit import fit_on_screen
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
    kind: str = "text"  # text | long | choice | int | password
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
    t = tickets.get(s, n)
    why = offers.refusals(s, a, t)["opinion"]  # permission and state first, as the detail's tooltip says
    if why:
        raise ConflictError(why)
    status = joint.status(s, t)
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
                Field("approver", "批准人工号（中心主任）"),
                # The manager's own act: typed by the manager at this counter (not needed when the manager is the
                # one logged in); the service verifies it.
                Field("approver_password", "批准人密码（由中心主任本人输入）", "password")),
               lambda s, a, n, v, x: workflow.extend(s, a, n, int(x["days"]), x["reason"], x["approver"],
                                                   x.get("approver_password", ""), expected_version=v)),
        Action("transfer", "转办到其他窗口", "Alt+T",
               (Field("to_window", "接收窗口", "choice", tuple(windows)), Field("reason", "转办原因"),
                Field("handover", "移交内容（首问交接）", "long")),
               lambda s, a, n, v, x: routing.request_transfer(s, a, n, x["to_window"], x["reason"],
                                                                      x["handover"], expected_version=v)),
        Action("forward", "转报上级部门", "Alt+F", (Field("department", "承办部门", "choice", depts),),
               lambda s, a, n, v, x: proxy.forward(s, a, n, x["department"], expected_version=v)),
        Action("department_returned", "登记部门办理结果", "Alt+H",
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
    """What the services offer this actor now (hall/services/cases/offers.py); ``d.why_not`` says why not."""
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
            elif f.kind == "password":  # an approver types their own password here, never shown
                w = QLineEdit()
                w.setEchoMode(QLineEdit.EchoMode.Password)
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
        fit_on_screen(self, 37, 5.5 + 2.8 * len(fields))

    def accept(self) -> None:
        if self.submit is not None:
            problem = self.submit(self.values())
            if problem is not None:
                self.show_problem(problem)
                return
        super().accept()

    def show_problem(self, problem: HallError) -> None:
        """The refusal above the buttons; the field it names (a ValidationError) gets the cursor, as typed."""
        self.problem.setText(str(problem))
        self.problem.show()
        named = getattr(problem, "field", "")
        target = next((self.inputs[f.key] for f in self.fields if named and named in f.label), None)
        if target is None and self.fields:
            target = self.inputs[self.fields[0].key]
        if target is not None:
            target.setFocus()

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
def load_detail(session: Any, actor: Any, number: str, today: date) -> tuple[TicketDetail, CaseExtras, str]:
    """The ticket, every date around it explained, its fee and the inspector's findings, and its sync state
    (village laptops; "" where this database does not sync): one read."""
    from hall.services.sync.state import ticket_sync_label

    d = queue.detail(session, actor, number, today=today)
    return d, case_dates.extras(session, number), ticket_sync_label(session, d.uid)


FEE_FIELDS = (Field("payer", "缴费人"), Field("receipt_no", "票据号码"),
              Field("amount", "收费金额（元，空白按收费标准）"))
FINDING_FIELDS = (Field("text", "监察意见", "long"),)


class TicketDetailDialog(QDialog):
    def __init__(self, ctx: Context, number: str, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.number = number
        self._today = today
        self.windows = [(w.code, f"{w.code} {w.name}") for w in read(ctx.db, catalog.window_views)]
        self.setWindowTitle(self.tr("办件 {0}").format(number))
        self.detail: TicketDetail
        self.sync_text: str  # 未同步 / 已发出 / 已同步 / 冲突 on a village laptop or at a hall with laptops, else ""
        self.extras: CaseExtras
        self.detail, self.extras, self.sync_text = read(ctx.db, lambda s: load_detail(s, ctx.actor, number, today()))
        # 效能监察员: reads everything, changes nothing but their own findings (the services refuse the rest).
        self.read_only = ctx.actor.is_inspector
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
        # Every date around the case (due date, 补正, 协办, 转报, 整改, 投诉, 回访, 约访), each explained day by day.
        dates = QGroupBox(self.tr("期限一览（选中一行看逐日说明）"))
        dl = QVBoxLayout(dates)
        self.dates = read_only_table([self.tr("期限"), self.tr("对象"), self.tr("起算日"), self.tr("日期"),
                                      self.tr("状态")], 1, "datesTable")
        self.dates.currentCellChanged.connect(lambda row, *_: self.show_explanation(row))
        self.date_explanation = QLabel()
        self.date_explanation.setObjectName("dateExplanation")
        self.date_explanation.setWordWrap(True)
        self.date_explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        dl.addWidget(self.dates, 1)
        dl.addWidget(self.date_explanation)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(history)
        split.addWidget(dates)
        split.setSizes([640, 520])
        layout.addWidget(split, 1)

        self.buttons: dict[str, QPushButton] = {}
        # The inspector gets no action buttons at all (not merely disabled ones): only the finding below.
        self.actions_ = [] if self.read_only else build_actions(self.detail, self.windows)
        grid = QGridLayout()
        for i, a in enumerate(self.actions_):
            b = QPushButton(f"{self.tr(a.label)} {a.key}")
            b.setObjectName(f"action_{a.name}")
            b.setShortcut(QKeySequence(a.key))
            if a.name == "void":
                b.setAutoDefault(False)  # Enter never opens the void dialog, even with the focus on it
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
        # 一次性收费: once, for an item with a fee standard (the service refuses a second charge).
        self.fee_btn = QPushButton(self.tr("收费 Alt+G"))
        self.fee_btn.setObjectName("action_fee")
        self.fee_btn.setShortcut(QKeySequence("Alt+G"))
        self.fee_btn.clicked.connect(self.ask_fee)
        self.finding_btn = QPushButton(self.tr("记录监察意见 Alt+N"))
        self.finding_btn.setObjectName("action_finding")
        self.finding_btn.setShortcut(QKeySequence("Alt+N"))
        self.finding_btn.clicked.connect(self.ask_finding)
        close_btn = QPushButton(self.tr("关闭 Esc"))
        close_btn.clicked.connect(self.reject)
        n = len(self.actions_)
        extra = (self.print_btn, self.finding_btn, close_btn) if self.read_only else \
            (self.print_btn, self.rate_btn, self.fee_btn, close_btn)
        for k, b in enumerate(extra):
            grid.addWidget(b, (n + k) // 6, (n + k) % 6)
        for b in (self.rate_btn, self.fee_btn, self.finding_btn):
            b.setVisible(b in extra)
        layout.addLayout(grid)
        self.show_detail()
        fit_on_screen(self, 79, 39)

    # ----------------------------------------------------------------------------------- show
    def concerns(self, changes: Changes) -> bool:
        """This ticket changed (its record or its history), or what its figures depend on: the calendar (days
        left), the staff (the owner's name)."""
        return changes.concerns_ticket(self.detail.uid) or changes.calendar or changes.staff

    def reload(self) -> None:
        self.loader.cancel()  # an older background read must not overwrite what is read now
        self.detail, self.extras, self.sync_text = read(self.ctx.db, lambda s: load_detail(
            s, self.ctx.actor, self.number, self._today()))
        self.show_detail()

    def reload_in_background(self) -> None:
        actor, number, today = self.ctx.actor, self.number, self._today()
        self.loader.request(lambda s: load_detail(s, actor, number, today), self._detail_arrived)

    @property
    def loading(self) -> bool:
        return self.loader.busy or self.conflict_panel.loading

    def _detail_arrived(self, got: tuple[TicketDetail, CaseExtras, str]) -> None:
        self.detail, self.extras, self.sync_text = got
        self.show_detail()

    def show_detail(self) -> None:
        d = self.detail
        header = self.tr("<b>{0}</b>　{1} {2}　<b>{3}</b>　{4}　{5}窗口　经办人：{6}").format(
            d.number, d.item_code, d.item_name, d.shown_state, d.kind_label, d.window_code, d.owner or "—")
        if d.rating:
            header += self.tr("　好差评：{0}").format(d.rating)
        if self.sync_text:
            header += self.tr("　<span style='color:{0}'>【{1}】</span>").format(
                "#b00020" if self.sync_text in ("未同步", "冲突") else "#1b5e20" if self.sync_text == "已同步"
                else "#8a6d00", self.tr(self.sync_text))
        self.header.setText(header)
        self.name_value.setText(d.applicant_name)
        self.id_value.setText(d.applicant_id_masked)
        self.reveal_btn.setVisible(d.applicant_type == "person" and not self.read_only)
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
        materials = self.tr("材料：") + "；".join(f"{m.name}（{m.status_label}）" for m in d.materials)
        materials += "\n" + self.tr("收费：") + self.extras.fee_text
        if self.extras.findings:
            materials += "\n" + self.tr("监察意见：") + "；".join(self.extras.findings)
        self.materials_value.setText(materials)
        self.show_dates()
        self.history.setRowCount(len(d.history))
        for row, line in enumerate(d.history):
            who = actor_label(line.actor, line.role)
            for col, text in enumerate((line.at.strftime("%Y-%m-%d %H:%M"), who, line.text)):
                self.history.setItem(row, col, QTableWidgetItem(text))
        self.history.resizeRowsToContents()
        focused = self.focusWidget()
        if d.sync_conflicts or self.conflict_panel.view is not None:  # (the panel stays hidden otherwise)
            self.conflict_panel.load(d.uid)
        for name, b in self.buttons.items():
            b.setEnabled(action_enabled(name, d))
            b.setToolTip(d.why_not(name))
        if hasattr(self, "rate_btn"):
            rateable = self.rating_stage() is not None and not d.sync_conflict
            self.rate_btn.setEnabled(rateable)
            why = self.tr("该办件当前状态不需要评价（承诺件受理后、办结后评价）")
            self.rate_btn.setToolTip("" if rateable else why)
            self.fee_btn.setEnabled(self.extras.fee_due and not d.sync_conflict)
            self.print_btn.setEnabled(not d.sync_conflict)  # nothing is written on a frozen ticket
            self.reveal_btn.setEnabled(not d.sync_conflict)
        if focused is not None and (not focused.isEnabled() or self.focusWidget() is not focused):
            # Qt hands the focus of a button that just became disabled to the next one — maybe 作废.
            self.rest_focus()

    def rest_focus(self) -> None:
        """After an action (or a change that disabled the focused button): the history, where Enter does
        nothing — never a destructive button."""
        self.history.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_dates(self) -> None:
        rows = self.extras.dates
        self.dates.setRowCount(len(rows))
        for row, x in enumerate(rows):
            for col, text in enumerate((x.kind_name, x.what, x.start.isoformat(), x.due_text, x.state)):
                self.dates.setItem(row, col, QTableWidgetItem(text))
        self.dates.resizeRowsToContents()
        if rows:
            self.dates.setCurrentCell(0, 0)
        self.show_explanation(0 if rows else -1)

    def show_explanation(self, row: int) -> None:
        rows = self.extras.dates
        if not 0 <= row < len(rows):
            self.date_explanation.setText(self.tr("本办件没有需计算的期限") if not rows else "")
            return
        x = rows[row]
        self.date_explanation.setText(f"{x.kind_name}　{x.due_text}\n" + "\n".join(x.explanation))

    # ---------------------------------------------------------------------------------- actions
    def ask_and_perform(self, action: Action) -> bool:
        if action.fields:
            # The dialog runs the action itself, so a refusal leaves it open with what was typed.
            dlg = ActionDialog(f"{action.label} — {self.number}", action.fields, self,
                               submit=lambda values: self.attempt(action.name, values, parent=dlg))
            done = dlg.exec() == QDialog.DialogCode.Accepted
            self.rest_focus()
            return done
        if not messages.confirm(self, action.label, self.tr("对办件 {0} 执行“{1}”？").format(self.number,
                                                                                           action.label)):
            return False
        done = self.perform(action.name, {})
        self.rest_focus()
        return done

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
        # In a dialog the refusal is shown in it (ActionDialog.show_problem), not in a box on top of it.
        done = run(parent or self, self.ctx, lambda s: action.call(s, actor, number, version, values) or True,
                   title=self.tr("未能{0}").format(action.label), initiator=self, failed=refused.append,
                   show=parent is None)
        if done is None:
            if refused and isinstance(refused[0], ConflictError):
                self.reload()
            return refused[0] if refused else HallError(self.tr("未能{0}").format(action.label))
        self.reload()
        self.rest_focus()
        return None

    def ask_fee(self) -> bool:
        """一次性收费: payer, receipt number (and the amount when less than the standard), in one transaction."""
        actor, number = self.ctx.actor, self.number

        def submit(values: dict[str, Any]) -> HallError | None:
            refused: list[HallError] = []
            form = fees.FeeForm(values["payer"], values["receipt_no"], values["amount"])
            done = run(dlg, self.ctx, lambda s: fees.charge(s, actor, number, form) or True,
                       title=self.tr("未能收费"), initiator=self, failed=refused.append)
            if done is None:
                return refused[0] if refused else HallError(self.tr("未能收费"))
            self.reload()
            return None

        dlg = ActionDialog(self.tr("收费 — {0}").format(number), FEE_FIELDS, self, submit=submit)
        return dlg.exec() == QDialog.DialogCode.Accepted

    def ask_finding(self) -> bool:
        """The inspector's own finding on this case (效能监察意见)."""
        actor, number = self.ctx.actor, self.number

        def submit(values: dict[str, Any]) -> HallError | None:
            refused: list[HallError] = []
            done = run(dlg, self.ctx, lambda s: inspection.record_finding(s, actor, number, values["text"]) or True,
                       title=self.tr("未能记录监察意见"), initiator=self, failed=refused.append)
            if done is None:
                return refused[0] if refused else HallError(self.tr("未能记录监察意见"))
            self.reload()
            return None

        dlg = ActionDialog(self.tr("记录监察意见 — {0}").format(number), FINDING_FIELDS, self, submit=submit)
        return dlg.exec() == QDialog.DialogCode.Accepted

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


