"""The 信访 page: the 信访 cases (list, and the selected case in full — 四定一包, hearings, feedback, 移交, 回访 —
with the actions on it) and the leaders' reception schedule (一把手接访日: post a slot, book a petitioner).

Every list is a register page (hall/ui/registers_page.py) over a service read on the background loader; the
case detail is read the same way when the selection changes. Every action is one transaction through the page,
which announces what changed; both tabs reload on any change to the ``petitions`` register.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtWidgets import QLabel, QSplitter, QTabWidget, QTextBrowser, QVBoxLayout, QWidget

from hall.errors import ValidationError
from hall.services.cases import petition, petition_steps, petition_views
from hall.services.cases.petition_views import CaseDetail, CaseRow
from hall.services.registers import reception
from hall.services.registers.reception import SlotView
from hall.services.storage.changes import PETITIONS, Changes
from hall.ui import messages
from hall.ui.background import Loader
from hall.ui.ops import COALESCE_MS, ChangeListener, Context
from hall.ui.registers_cases import staff_choices
from hall.ui.registers_model import Column, tr
from hall.ui.registers_page import PageAction, RegisterPage
from hall.ui.ticket_detail import Field

Today = Callable[[], date]
Now = Callable[[], datetime]
CTX = "Registers"
SCHEDULE_DAYS = 60  # the reception tab lists this many days from today
PAPER_CHOICES = (("accept", "受理告知书"), ("four_fixed", "四定一包责任书"), ("hearing", "听证（答询）记录"))


def _d(value: date | None) -> str:
    return value.isoformat() if value else ""


def parse_day(text: str, field: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise ValidationError(field, "应为 YYYY-MM-DD 格式的日期，例如 2026-10-14") from None


def parse_participants(text: str) -> list[petition_steps.Participant]:
    """One participant a line: 身份 姓名 [单位] (spaces or a Chinese comma between)."""
    out = []
    for i, line in enumerate((text or "").splitlines(), start=1):
        parts = line.replace("，", " ").replace(",", " ").split()
        if not parts:
            continue
        if len(parts) < 2:
            raise ValidationError(f"参加人员第 {i} 行", "应为“身份 姓名 单位”，例如“人大代表 周某 镇人大”")
        out.append(petition_steps.Participant(parts[0], parts[1], " ".join(parts[2:])))
    return out


def describe(c: CaseDetail) -> str:
    """The case in full as simple rich text for the detail pane (data escaped)."""
    from html import escape as e

    r = c.row
    due = _d(r.due_date) + ("（暂定）" if r.due_provisional else "")
    parts = [f"<h3>{e(r.number)} {e(c.item_name)}</h3>",
             f"<p>信访人：{e(r.petitioner)}　电话：{e(c.petitioner_phone)}　登记：{_d(r.received_on)}"
             f"　首办责任人：{e(r.first_owner)}</p>",
             f"<p>反映事项：{e(c.matter) or '—'}</p>",
             f"<p>受理告知：{e(r.accept_label)}（期限 {_d(r.accept_due_on)}"
             + (f"，{_d(c.accept_told_on)} 已告知" if c.accept_told_on else "") + f"）　办结期限：{due}"
             f"　状态：{e(r.state_label)}</p>"]
    if c.extensions:
        parts.append("<p>延期：" + "；".join(f"{d} 日（{e(why)}，{e(who)}批准）" for d, why, who in c.extensions)
                     + "</p>")
    if c.agents:
        parts.append("<p>信访代理人：" + "；".join(
            f"{e(a.name)}（{'律师，' + e(a.firm) + '，执业证号 ' + e(a.license_no) if a.is_lawyer else e(a.relation)}"
            f"，{e(a.phone)}）" for a in c.agents) + "</p>")
    f = c.four_fixed
    parts.append("<h4>四定一包</h4>")
    parts.append("<p>尚未确定</p>" if f is None else (
        f"<table border='1' cellspacing='0' cellpadding='3'><tr><td>定领导</td><td>{e(f.leader)}</td></tr>"
        f"<tr><td>定人员</td><td>{e('、'.join(f.staff))}</td></tr>"
        f"<tr><td>定时间</td><td>{_d(f.by_date)} 前化解</td></tr>"
        f"<tr><td>定措施</td><td>{e(f.measures)}</td></tr><tr><td>包结案</td><td>{e(f.pledge)}</td></tr></table>"))
    parts.append("<h4>公开听证 / 答询</h4>")
    for h in c.hearings or ():
        people = "、".join(f"{e(role)} {e(name)}" for role, name, _unit in h.participants)
        parts.append(f"<p><b>{e(h.form_label)}</b> {_d(h.held_on)} {e(h.place)}，主持人 {e(h.host)}<br/>"
                     f"参加人员：{people}<br/>记录：{e(h.record)}<br/>结论：{e(h.conclusion)}</p>")
    if not c.hearings:
        parts.append("<p>（无）</p>")
    parts.append("<h4>进展反馈</h4>" + ("".join(f"<p>{_d(x.told_on)}（{e(x.channel)}，{e(x.told_by)}）"
                                               f"{e(x.content)}</p>" for x in c.feedback) or "<p>（无）</p>"))
    parts.append("<h4>分流 / 移交</h4>" + ("".join(
        f"<p>{_d(x.sent_on)} 移交{e(x.organ)}（{e(x.reference)}），答复期限 {_d(x.due_on)}"
        + ("（暂定）" if x.due_provisional else "")
        + (f"；{_d(x.answered_on)} 答复（{e(x.organ_ref)}）：{e(x.answer)}" if x.state == "answered" else "；待答复")
        + "</p>" for x in c.transfers) or "<p>（无）</p>"))
    parts.append("<h4>回访</h4>" + ("".join(
        f"<p>第 {v.seq} 次：{_d(v.due_on)}" + ("（暂定）" if v.due_provisional else "")
        + (f"，{_d(v.done_on)} {e(v.channel)}：{e(v.outcome)}（{'满意' if v.satisfied else '不满意'}）"
           if v.state == "done" else "，待回访") + "</p>" for v in c.followups) or "<p>（办结后安排）</p>"))
    if c.accept_explanation:  # last: the records above are what the pane is read for
        parts.append("<h4>受理告知期限说明</h4><p style='color:#555'>"
                     + "<br/>".join(e(line) for line in c.accept_explanation) + "</p>")
    return "".join(parts)


class CaseDetailPane(QWidget):
    """The selected case, read on the background loader."""

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("petitionDetail")
        self.loader = Loader(ctx.db, self)
        self.case: CaseDetail | None = None
        self.number = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.browser = QTextBrowser()
        self.browser.setObjectName("petitionDetailText")
        self.browser.setOpenLinks(False)
        self.browser.setPlaceholderText(self.tr("选择左侧信访件查看详情"))
        layout.addWidget(QLabel(self.tr("信访件详情")))
        layout.addWidget(self.browser, 1)

    def show_case(self, number: str) -> None:
        self.number = number
        if not number:
            self.case = None
            self.browser.clear()
            return
        self.loader.request(lambda s: petition_views.case_detail(s, number), self._shown)

    def _shown(self, detail: CaseDetail) -> None:
        if detail.row.number != self.number:
            return
        self.case = detail
        self.browser.setHtml(describe(detail))


def cases_page(ctx: Context, today: Today, now: Now, pane: CaseDetailPane) -> RegisterPage:
    def case_no(r: CaseRow | None) -> str:
        if r is None:
            raise ValidationError("信访件", "请先选择一件信访件")
        return r.number

    def pending(kind: str) -> tuple[tuple[str, str], ...]:
        c = pane.case
        if c is None:
            return ()
        if kind == "transfer":
            return tuple((str(x.id), f"{x.organ}（{_d(x.sent_on)} 移交，期限 {_d(x.due_on)}）")
                         for x in c.transfers if x.state == "sent")
        return tuple((str(v.id), f"第 {v.seq} 次（{_d(v.due_on)}）") for v in c.followups if v.state == "due")

    def choice_id(values: dict[str, Any], key: str, what: str) -> int:
        if not values.get(key):
            raise ValidationError(what, "没有可选的记录")
        return int(values[key])

    channels = tuple((c, c) for c in petition.FEEDBACK_CHANNELS)

    def save_paper(s: Any, r: CaseRow | None, v: dict[str, Any]) -> Path:
        """The paper as a PDF in the data directory's 文书 folder (opened and printed from there)."""
        from hall.print.petition_papers import KINDS, PetitionPaperRenderer
        from hall.services.reporting import papers

        number, kind = case_no(r), v["kind"]
        detail = petition_views.case_detail(s, number)
        issued = (detail.accept_told_on if kind == "accept" else None) or today()
        out = ctx.data_paths().data_dir / "文书" / f"{number}-{KINDS[kind]}.pdf"
        out.parent.mkdir(parents=True, exist_ok=True)
        PetitionPaperRenderer(kind, detail, papers.hall_info(s), issued).render(out)
        messages.info(page, tr("信访文书"), QCoreApplication.translate(CTX, "已生成：{0}").format(str(out)))
        return out

    actions = (
        PageAction("accept", QT_TRANSLATE_NOOP("Registers", "受理告知"),
                   lambda s, a, r, v: petition.decide_acceptance(s, a, case_no(r), v["decision"] == "yes", v["note"],
                                                                 now=now()),
                   fields=lambda: (Field("decision", "是否受理", "choice", (("yes", "予以受理"), ("no", "不予受理"))),
                                   Field("note", "告知内容 / 不予受理理由", "long")),
                   offered=lambda r: r is not None and r.accept_state == "pending" and r.is_open),
        PageAction("four_fixed", QT_TRANSLATE_NOOP("Registers", "四定一包"),
                   lambda s, a, r, v: petition.fix_four(s, a, case_no(r), petition.FourFixed(
                       v["leader_no"], tuple(x for x in v["staff_nos"].replace("，", ",").split(",") if x.strip()),
                       parse_day(v["by_date"], "化解时间"), v["measures"]), now=now()),
                   fields=lambda: (Field("leader_no", "定领导", "choice", staff_choices(ctx)),
                                   Field("staff_nos", "定人员（工号，逗号分隔）"),
                                   Field("by_date", "定时间（YYYY-MM-DD 前化解）"),
                                   Field("measures", "定措施", "long")),
                   offered=lambda r: r is not None and r.is_open and ctx.actor.is_supervisor),
        PageAction("feedback", QT_TRANSLATE_NOOP("Registers", "进展反馈"),
                   lambda s, a, r, v: petition.give_feedback(s, a, case_no(r), v["channel"], v["content"], now=now()),
                   fields=lambda: (Field("channel", "反馈方式", "choice", channels),
                                   Field("content", "反馈内容", "long")),
                   offered=lambda r: r is not None and r.is_open),
        PageAction("hearing", QT_TRANSLATE_NOOP("Registers", "听证 / 答询"),
                   lambda s, a, r, v: petition_steps.record_hearing(
                       s, a, case_no(r), v["form"], parse_day(v["held_on"], "听证日期"), v["place"], v["host"],
                       parse_participants(v["participants"]), v["record"], v["conclusion"], now=now()),
                   fields=lambda: (Field("form", "形式", "choice", tuple(petition_steps.HEARING_FORMS.items())),
                                   Field("held_on", "日期（YYYY-MM-DD）", default=today().isoformat()),
                                   Field("place", "地点"), Field("host", "主持人"),
                                   Field("participants", "参加人员（每行：身份 姓名 单位）", "long"),
                                   Field("record", "听证（答询）记录", "long"), Field("conclusion", "结论", "long")),
                   offered=lambda r: r is not None and r.is_open),
        PageAction("paper", QT_TRANSLATE_NOOP("Registers", "生成文书"), lambda s, _a, r, v: save_paper(s, r, v),
                   fields=lambda: (Field("kind", "文书", "choice", PAPER_CHOICES),)),
        PageAction("named", QT_TRANSLATE_NOOP("Registers", "点名约访"),
                   lambda s, a, r, v: reception.request_named(s, a, case_no(r), v["staff_no"],
                                                              parse_day(v["on_day"], "约访日期"), slot=v["slot"],
                                                              now=now()),
                   fields=lambda: (Field("staff_no", "约访工作人员", "choice", staff_choices(ctx)),
                                   Field("on_day", "约访日期（YYYY-MM-DD）"),
                                   Field("slot", "时段", "choice", (("上午", "上午"), ("下午", "下午"), ("", "不限")))),
                   offered=lambda r: r is not None and r.is_open),
        PageAction("transfer", QT_TRANSLATE_NOOP("Registers", "分流移交"),
                   lambda s, a, r, v: petition_steps.transfer(s, a, case_no(r), v["organ"], v["reference"], now=now()),
                   fields=lambda: (Field("organ", "移交机关"), Field("reference", "移交函文号")),
                   offered=lambda r: r is not None and r.is_open),
        PageAction("transfer_answered", QT_TRANSLATE_NOOP("Registers", "移交答复"),
                   lambda s, a, _r, v: petition_steps.transfer_answered(
                       s, a, choice_id(v, "transfer", "移交记录"), v["organ_ref"], v["answer"], now=now()),
                   fields=lambda: (Field("transfer", "移交记录", "choice", pending("transfer")),
                                   Field("organ_ref", "承办机关编号"), Field("answer", "答复内容", "long"))),
        PageAction("close", QT_TRANSLATE_NOOP("Registers", "办结并安排回访"),
                   lambda s, a, r, v: petition_steps.close_case(s, a, case_no(r), v["outcome"], v["result"],
                                                                now=now()),
                   fields=lambda: (Field("outcome", "办结结果", "choice", (("approved", "办结（诉求解决）"),
                                                                         ("rejected", "办结（诉求不予支持）"))),
                                   Field("result", "办理结果", "long")),
                   offered=lambda r: r is not None and r.is_open and r.accept_state == "accepted"),
        PageAction("followups", QT_TRANSLATE_NOOP("Registers", "安排回访"),
                   lambda s, a, r, _v: petition_steps.schedule_followups(s, a, case_no(r), now=now()),
                   offered=lambda r: r is not None and not r.is_open and not r.followups_scheduled,
                   confirm=QT_TRANSLATE_NOOP("Registers", "按规定为信访件 {0} 安排办结后回访？")),
        PageAction("followup_done", QT_TRANSLATE_NOOP("Registers", "登记回访"),
                   lambda s, a, _r, v: petition_steps.record_followup(
                       s, a, choice_id(v, "followup", "回访记录"), v["channel"], v["outcome"], v["satisfied"] == "yes",
                       now=now()),
                   fields=lambda: (Field("followup", "回访", "choice", pending("followup")),
                                   Field("channel", "回访方式", "choice", channels),
                                   Field("outcome", "回访情况", "long"),
                                   Field("satisfied", "信访人是否满意", "choice", (("yes", "满意"), ("no", "不满意")))),
                   offered=lambda r: r is not None and r.followups_scheduled),
    )
    columns = (
        Column(QT_TRANSLATE_NOOP("Registers", "办件编号"), lambda r: r.number),
        Column(QT_TRANSLATE_NOOP("Registers", "信访人"), lambda r: r.petitioner),
        Column(QT_TRANSLATE_NOOP("Registers", "登记日期"), lambda r: _d(r.received_on), sort=lambda r: r.received_on),
        Column(QT_TRANSLATE_NOOP("Registers", "受理告知"), lambda r: r.accept_label),
        Column(QT_TRANSLATE_NOOP("Registers", "告知期限"), lambda r: _d(r.accept_due_on),
               sort=lambda r: r.accept_due_on),
        Column(QT_TRANSLATE_NOOP("Registers", "办结期限"),
               lambda r: _d(r.due_date) + ("（暂定）" if r.due_provisional else ""), sort=lambda r: r.due_date),
        Column(QT_TRANSLATE_NOOP("Registers", "状态"), lambda r: r.state_label),
        Column(QT_TRANSLATE_NOOP("Registers", "首办责任人"), lambda r: r.first_owner),
    )

    def late(r: CaseRow) -> bool:
        day = today()
        return r.is_open and ((r.accept_state == "pending" and r.accept_due_on < day)
                              or (r.due_date is not None and r.due_date < day))

    page: RegisterPage
    page = RegisterPage(ctx, "petitions", columns,
                        lambda s, v: petition_views.case_list(s, open_only=v.get("scope") == "open"),
                        key=lambda r: r.number, actions=actions, ticket_of=lambda r: r.number, alert_of=late,
                        hint=QT_TRANSLATE_NOOP("Registers", "双击打开办件；受理告知 15 日、办结 60 日（可延期 30 日）"),
                        today=today, registers=(PETITIONS,))
    page.add_choice(QT_TRANSLATE_NOOP("Registers", "范围："),
                    (("open", QT_TRANSLATE_NOOP("Registers", "未办结")),
                     ("all", QT_TRANSLATE_NOOP("Registers", "全部"))),
                    "scope")
    return page


def reception_page(ctx: Context, today: Today, now: Now) -> RegisterPage:
    def notice(s: Any) -> Path:
        """领导干部接访日安排 for the days listed, as a PDF in the data directory's 文书 folder."""
        from hall.print.petition_papers import ReceptionNoticeRenderer
        from hall.services.reporting import papers

        since = today()
        until = since + timedelta(days=SCHEDULE_DAYS)
        out = ctx.data_paths().data_dir / "文书" / f"领导接访日安排-{since.isoformat()}.pdf"
        out.parent.mkdir(parents=True, exist_ok=True)
        ReceptionNoticeRenderer(reception.schedule(s, since, until), papers.hall_info(s), since, until,
                                since).render(out)
        messages.info(page, tr("领导接访日安排"), QCoreApplication.translate(CTX, "已生成：{0}").format(str(out)))
        return out

    actions = (
        PageAction("post_slot", QT_TRANSLATE_NOOP("Registers", "安排接访"),
                   lambda s, a, _r, v: reception.post_slot(s, a, v["leader_no"], parse_day(v["on_day"], "接访日期"),
                                                           v["slot"], v["place"], int(v["capacity"]),
                                                           topic=v["topic"], now=now()),
                   fields=lambda: (Field("leader_no", "接访领导", "choice", staff_choices(ctx)),
                                   Field("on_day", "接访日期（YYYY-MM-DD）"), Field("slot", "时段", default="上午"),
                                   Field("place", "地点", default="镇信访接待室"),
                                   Field("capacity", "可约人数", "int", default=5), Field("topic", "接访主题")),
                   needs_row=False, offered=lambda _r: ctx.actor.is_supervisor),
        PageAction("book", QT_TRANSLATE_NOOP("Registers", "预约接访"),
                   lambda s, a, r, v: reception.book(s, a, r.id, v["name"], v["phone"], v["subject"],
                                                     ticket_number=v["ticket_number"].strip() or None, now=now()),
                   fields=lambda: (Field("name", "信访人姓名"), Field("phone", "信访人电话"),
                                   Field("subject", "反映事项", "long"), Field("ticket_number", "信访件编号（如有）")),
                   offered=lambda r: r is not None and r.free > 0 and r.on_day >= today()),
        PageAction("notice", QT_TRANSLATE_NOOP("Registers", "生成公告"), lambda s, _a, _r, _v: notice(s),
                   needs_row=False),
    )
    columns = (
        Column(QT_TRANSLATE_NOOP("Registers", "日期"), lambda r: _d(r.on_day), sort=lambda r: r.on_day),
        Column(QT_TRANSLATE_NOOP("Registers", "时段"), lambda r: r.slot),
        Column(QT_TRANSLATE_NOOP("Registers", "接访领导"), lambda r: r.leader_name),
        Column(QT_TRANSLATE_NOOP("Registers", "职务"), lambda r: r.leader_post),
        Column(QT_TRANSLATE_NOOP("Registers", "地点"), lambda r: r.place),
        Column(QT_TRANSLATE_NOOP("Registers", "接访主题"), lambda r: r.topic),
        Column(QT_TRANSLATE_NOOP("Registers", "已约 / 可约"), lambda r: f"{r.booked} / {r.capacity}",
               sort=lambda r: r.free),
    )

    def load(s: Any, _v: Any) -> list[SlotView]:
        day = today()
        return reception.schedule(s, day, day + timedelta(days=SCHEDULE_DAYS))

    page: RegisterPage
    page = RegisterPage(ctx, "reception", columns, load, key=lambda r: r.id, actions=actions,
                        alert_of=lambda r: r.free == 0,
                        hint=QT_TRANSLATE_NOOP("Registers", "同一信访人同一日只能预约一个时段"), today=today,
                        registers=(PETITIONS,))
    return page


def board_page(ctx: Context, today: Today) -> RegisterPage:
    """点名约访: the staff a petitioner may ask for by name, with photo and short résumé (placeholders until the
    staff administration records them)."""
    columns = (
        Column(QT_TRANSLATE_NOOP("Registers", "工号"), lambda b: b.staff_no),
        Column(QT_TRANSLATE_NOOP("Registers", "姓名"), lambda b: b.name),
        Column(QT_TRANSLATE_NOOP("Registers", "岗位"), lambda b: b.post),
        Column(QT_TRANSLATE_NOOP("Registers", "窗口"), lambda b: b.window),
        Column(QT_TRANSLATE_NOOP("Registers", "照片"), lambda b: b.photo_text or tr("已登记")),
        Column(QT_TRANSLATE_NOOP("Registers", "简历"), lambda b: b.resume_text, long=True),
    )
    return RegisterPage(ctx, "board", columns, lambda s, _v: reception.staff_board(s), key=lambda b: b.staff_no,
                        hint=QT_TRANSLATE_NOOP("Registers", "信访人可点名约见；在“信访件”中选中案件后点“点名约访”"),
                        today=today, registers=(PETITIONS,))


class PetitionView(QTabWidget):
    """信访: the cases (list and detail) and the leaders' reception schedule."""

    def __init__(self, ctx: Context, parent: QWidget | None = None, *, today: Today = date.today,
                 now: Now | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("petitionView")
        self.ctx = ctx
        self._now = now or (lambda: datetime.combine(today(), datetime.now().time()))
        self.detail = CaseDetailPane(ctx)
        self.cases = cases_page(ctx, today, self._now, self.detail)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.cases)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 5)
        split.setSizes([560, 780])  # the detail (四定一包, hearings) wants the room; the list is a few columns
        self.addTab(split, QCoreApplication.translate(CTX, "信访件"))
        self.reception = reception_page(ctx, today, self._now)
        self.addTab(self.reception, QCoreApplication.translate(CTX, "领导接访日"))
        self.board = board_page(ctx, today)
        self.addTab(self.board, QCoreApplication.translate(CTX, "点名约访"))
        self.cases.table.selectionModel().selectionChanged.connect(lambda *_: self._selected())
        # The detail follows changes to the case on screen (an action here, or another counter's).
        self.listener = ChangeListener(self, ctx.changes, lambda c: c.touches(PETITIONS), self._changed,
                                       coalesce_ms=COALESCE_MS)

    def _selected(self) -> None:
        row = self.cases.current_row()
        self.detail.show_case(row.number if row is not None else "")

    def _changed(self, _changes: Changes) -> None:
        if self.detail.number:
            self.detail.show_case(self.detail.number)

    def refresh(self) -> None:
        self.cases.refresh()
        self.reception.refresh()
        self.board.refresh()


__all__ = ["PetitionView", "describe", "parse_participants", "tr"]
