"""The registers of people and hand-overs: 点名约访 / 巡回下访 (one tab, one day picked), 转办待接收, 集体研究.

The services return ORM rows for visits and escalations; they are copied into plain frozen rows inside the read
transaction, so nothing outside it touches a live session object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QDate, Qt
from PySide6.QtWidgets import (
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from hall.services.cases import routing
from hall.services.catalog import items as catalog
from hall.services.people import attendance, staff
from hall.services.registers import appointments
from hall.services.registers.appointments import AppointmentView
from hall.ui.ops import Context
from hall.ui.registers_cases import staff_choices
from hall.ui.registers_model import Column, tr
from hall.ui.registers_page import PageAction, RegisterPage
from hall.ui.screen_fit import fit_on_screen
from hall.ui.ticket_detail import ActionDialog, Field

Today = Callable[[], date]
Now = Callable[[], datetime]

APPOINTMENT_STATES = {"booked": QT_TRANSLATE_NOOP("Registers", "已预约"), **appointments.OUTCOMES}
VISIT_STATES = {"planned": QT_TRANSLATE_NOOP("Registers", "已安排"), "done": QT_TRANSLATE_NOOP("Registers", "已完成"),
                "cancelled": QT_TRANSLATE_NOOP("Registers", "已取消")}
ESCALATION_STATES = {"open": QT_TRANSLATE_NOOP("Registers", "待研究（停止计时）"),
                     "decided": QT_TRANSLATE_NOOP("Registers", "已研究")}
SLOTS = (("上午", "上午"), ("下午", "下午"), ("", "不限"))


@dataclass(frozen=True)
class VisitRow:
    id: int
    on_day: date
    village: str
    place: str
    market_day: bool
    staff_ids: tuple[int, ...]
    staff_names: str
    state: str
    summary: str
    ticket_numbers: tuple[str, ...]


@dataclass(frozen=True)
class EscalationRow:
    ticket_number: str
    item_name: str
    window_code: str
    reason: str
    submitted_on: date
    submitted_by: str
    state: str
    outcome: str
    meeting: str
    decided_on: date | None


def _d(value: date | None) -> str:
    return value.isoformat() if value else ""


# ------------------------------------------------------------------------------ 点名约访 / 巡回下访
class VisitPlanDialog(ActionDialog):
    """The ticket detail's form plus a checklist of the staff who go on the visit."""

    def __init__(self, title: str, fields: tuple[Field, ...], parent: QWidget | None = None, *,
                 people: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(title, fields, parent)
        self.people = QListWidget()
        self.people.setObjectName("visitStaff")
        for no, label in people:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, no)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.people.addItem(item)
        self.people.setMaximumHeight(160)
        form = self.layout()
        form.insertRow(form.rowCount() - 1, self.tr("下访人员："), self.people)  # type: ignore[attr-defined]
        fit_on_screen(self, 37, 23)

    def values(self) -> dict[str, Any]:
        chosen = [self.people.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.people.count())
                  if self.people.item(i).checkState() == Qt.CheckState.Checked]
        return {**super().values(), "staff_nos": chosen}


class AppointmentsTab(QWidget):
    """One day: the appointments booked for it, and the circuit visits of the weeks around it."""

    def __init__(self, ctx: Context, today: Today, now: Now, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("register_visits_tab")
        self.ctx = ctx
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 0, 6, 0)  # lined up with the pages below, which carry their own margins
        bar.addWidget(QLabel(self.tr("日期：")))
        self.day_edit = QDateEdit()
        self.day_edit.setObjectName("registerDay")
        self.day_edit.setCalendarPopup(True)
        self.day_edit.setDisplayFormat("yyyy-MM-dd")
        t = today()
        self.day_edit.setDate(QDate(t.year, t.month, t.day))
        bar.addWidget(self.day_edit)
        bar.addWidget(QLabel(self.tr("约访按所选日期登记；下访列出所选日期前后30天。")))
        bar.addStretch(1)
        layout.addLayout(bar)
        self.appointments = appointments_page(ctx, today, now, self.day)
        self.visits = visits_page(ctx, today, now, self.day)
        split = QSplitter(Qt.Orientation.Vertical)
        for title, page in ((self.tr("点名约访"), self.appointments), (self.tr("巡回下访"), self.visits)):
            page.filters.insertWidget(0, QLabel(f"<b>{title}</b>"))  # the heading shares the button row
            split.addWidget(page)
        layout.addWidget(split, 1)
        self.day_edit.dateChanged.connect(lambda _d: (self.appointments.refresh(in_place=False),
                                                      self.visits.refresh(in_place=False)))

    def day(self) -> date:
        d = self.day_edit.date()
        return date(d.year(), d.month(), d.day())

    def set_day(self, day: date) -> None:
        self.day_edit.setDate(QDate(day.year, day.month, day.day))


def appointments_page(ctx: Context, today: Today, now: Now, day: Today) -> RegisterPage:
    actor = ctx.actor
    columns = [
        Column(QT_TRANSLATE_NOOP("Registers", "时段"), lambda a: a.slot),
        Column(QT_TRANSLATE_NOOP("Registers", "约访工作人员"), lambda a: a.staff_name),
        Column(QT_TRANSLATE_NOOP("Registers", "约访人"), lambda a: a.citizen_name),
        Column(QT_TRANSLATE_NOOP("Registers", "联系电话"), lambda a: a.citizen_phone),
        Column(QT_TRANSLATE_NOOP("Registers", "状态"), lambda a: tr(APPOINTMENT_STATES.get(a.state, a.state))),
        Column(QT_TRANSLATE_NOOP("Registers", "关联办件"), lambda a: a.ticket_number),
        Column(QT_TRANSLATE_NOOP("Registers", "约访事由"), lambda a: a.purpose, long=True),
    ]

    def mine(a: AppointmentView | None) -> bool:
        # The row names the staff member; the service checks the id (names are only for hiding the button).
        return a is not None and a.state == "booked" and (actor.is_supervisor or a.staff_name == actor.name)

    book = PageAction(
        "book", QT_TRANSLATE_NOOP("Registers", "登记约访"),
        lambda s, a, _r, v: appointments.book(s, a, v["staff_no"], day(), v["citizen_name"], phone=v["phone"],
                                              purpose=v["purpose"], slot=v["slot"], now=now()),
        fields=lambda: (Field("staff_no", "约访工作人员", "choice", staff_choices(ctx)),
                        Field("citizen_name", "约访人姓名"), Field("phone", "约访人电话"),
                        Field("slot", "时段", "choice", SLOTS), Field("purpose", "约访事由", "long")),
        offered=lambda _r: actor.role in ("clerk", "manager", "admin", "village"), needs_row=False)
    outcome = PageAction(
        "appointment_outcome", QT_TRANSLATE_NOOP("Registers", "登记约访结果"),
        lambda s, a, r, v: appointments.record_outcome(s, a, r.id, v["outcome"],
                                                       ticket_number=v["ticket_number"].strip() or None,
                                                       note=v["note"], now=now()),
        fields=lambda: (Field("outcome", "约访结果", "choice", tuple(appointments.OUTCOMES.items())),
                        Field("ticket_number", "关联办件编号（如有）"), Field("note", "备注")),
        offered=mine)
    return RegisterPage(ctx, "appointments", columns, lambda s, v: appointments.for_day(s, v["day"]),
                        params=lambda: {"day": day()}, key=lambda a: a.id,
                        actions=[book, outcome], ticket_of=lambda a: a.ticket_number, today=today)


def _visit_rows(s: Any, day: date) -> list[VisitRow]:
    names = {p.id: p.name for p in staff.list_staff(s)}
    return [VisitRow(v.id, v.on_day, v.village, v.place, v.market_day, tuple(v.staff_ids),
                     "、".join(names.get(i, "?") for i in v.staff_ids), v.state, v.summary or "",
                     tuple(t.number for t in appointments.visit_tickets(s, v.id)))
            for v in appointments.visits(s, day - timedelta(days=30), day + timedelta(days=30))]


def visits_page(ctx: Context, today: Today, now: Now, day: Today) -> RegisterPage:
    actor = ctx.actor
    columns = [
        Column(QT_TRANSLATE_NOOP("Registers", "下访日期"), lambda v: _d(v.on_day)),
        Column(QT_TRANSLATE_NOOP("Registers", "下访村"), lambda v: v.village),
        Column(QT_TRANSLATE_NOOP("Registers", "地点"), lambda v: v.place),
        Column(QT_TRANSLATE_NOOP("Registers", "逢集日"),
               lambda v: QCoreApplication.translate("Registers", "是") if v.market_day else ""),
        Column(QT_TRANSLATE_NOOP("Registers", "下访人员"), lambda v: v.staff_names),
        Column(QT_TRANSLATE_NOOP("Registers", "状态"), lambda v: tr(VISIT_STATES.get(v.state, v.state))),
        Column(QT_TRANSLATE_NOOP("Registers", "下访办件"), lambda v: "、".join(v.ticket_numbers),
               sort=lambda v: len(v.ticket_numbers)),
        Column(QT_TRANSLATE_NOOP("Registers", "下访小结"), lambda v: v.summary, long=True),
    ]
    plan = PageAction(
        "plan", QT_TRANSLATE_NOOP("Registers", "安排巡回下访"),
        lambda s, a, _r, v: appointments.plan_visit(s, a, day(), v["village"], list(v["staff_nos"]),
                                                    place=v["place"], market_day=v["market_day"] == "yes", now=now()),
        fields=lambda: (Field("village", "下访村"), Field("place", "地点"),
                        Field("market_day", "逢集日", "choice", (("no", "否"), ("yes", "是")))),
        offered=lambda _r: actor.is_supervisor, needs_row=False,
        dialog=lambda title, fields, parent: VisitPlanDialog(title, fields, parent,  # type: ignore[arg-type]
                                                             people=staff_choices(ctx)))
    tag = PageAction(
        "tag", QT_TRANSLATE_NOOP("Registers", "标记下访办件"),
        lambda s, a, r, v: appointments.tag_ticket(s, a, r.id, v["number"].strip(), now=now()),
        fields=lambda: (Field("number", "办件编号"),),
        offered=lambda r: r is not None and r.state != "cancelled"
        and (actor.is_supervisor or actor.staff_id in r.staff_ids))
    finish = PageAction(
        "finish", QT_TRANSLATE_NOOP("Registers", "登记下访结果"),
        lambda s, a, r, v: appointments.finish_visit(s, a, r.id, v["summary"], cancelled=v["result"] == "cancelled",
                                                     now=now()),
        fields=lambda: (Field("result", "结果", "choice", (("done", "已完成"), ("cancelled", "已取消"))),
                        Field("summary", "下访小结", "long")),
        offered=lambda r: actor.is_supervisor and r is not None and r.state == "planned")
    # A visit carries many tickets: double-click opens the first; the column lists them all.
    return RegisterPage(ctx, "visits", columns, lambda s, v: _visit_rows(s, v["day"]),
                        params=lambda: {"day": day()}, key=lambda v: v.id,
                        actions=[plan, tag, finish], ticket_of=lambda v: v.ticket_numbers[0] if v.ticket_numbers
                        else "", today=today)


# ------------------------------------------------------------------------------------ 转办待接收
def transfers_page(ctx: Context, today: Today, now: Now) -> RegisterPage:
    actor = ctx.actor
    columns = [
        Column(QT_TRANSLATE_NOOP("Registers", "办件编号"), lambda t: t.ticket_number),
        Column(QT_TRANSLATE_NOOP("Registers", "事项"), lambda t: t.item_name),
        Column(QT_TRANSLATE_NOOP("Registers", "转出窗口"), lambda t: t.from_window),
        Column(QT_TRANSLATE_NOOP("Registers", "接收窗口"), lambda t: t.to_window),
        Column(QT_TRANSLATE_NOOP("Registers", "首问责任人"), lambda t: t.from_owner),
        Column(QT_TRANSLATE_NOOP("Registers", "指定接收人"), lambda t: t.to_staff),
        Column(QT_TRANSLATE_NOOP("Registers", "转办时间"), lambda t: t.requested_at.strftime("%Y-%m-%d %H:%M")),
        Column(QT_TRANSLATE_NOOP("Registers", "转办原因"), lambda t: t.reason, long=True),
        Column(QT_TRANSLATE_NOOP("Registers", "移交内容"), lambda t: t.handover, long=True),
    ]
    receiver = actor.is_supervisor or actor.role == "clerk"
    accept = PageAction(
        "accept", QT_TRANSLATE_NOOP("Registers", "接收转办"),
        lambda s, a, t, _v: routing.accept_transfer(s, a, t.ticket_number, now=now()),
        offered=lambda t: receiver and t is not None,
        confirm=QT_TRANSLATE_NOOP("Registers", "接收办件 {0}？接收后由您负责办理（首问责任转移）。"))
    decline = PageAction(
        "decline", QT_TRANSLATE_NOOP("Registers", "退回转办"),
        lambda s, a, t, v: routing.decline_transfer(s, a, t.ticket_number, v["reason"], now=now()),
        fields=lambda: (Field("reason", "退回原因", "long"),), offered=lambda t: receiver and t is not None)

    def load(s, _v):  # type: ignore[no-untyped-def]
        if actor.is_supervisor:
            windows = [w.code for w in catalog.window_views(s)]
        elif actor.role == "clerk" and actor.window_code:
            # A B-post standing in for an absent colleague receives that window's transfers too.
            windows = [actor.window_code, *attendance.standing_in_for(s, actor.staff_id, today())]
        else:
            windows = []
        rows = [t for w in dict.fromkeys(windows) for t in routing.inbox(s, w)]
        return sorted(rows, key=lambda t: t.requested_at)

    return RegisterPage(ctx, "transfers", columns, load, key=lambda t: t.id, actions=[accept, decline],
                        ticket_of=lambda t: t.ticket_number, today=today,
                        hint=QT_TRANSLATE_NOOP("Registers", "接收前，办件仍由首问责任人负责。"))


# -------------------------------------------------------------------------------------- 集体研究
def _escalation_rows(s: Any, state: str, window: str | None) -> list[EscalationRow]:
    return [EscalationRow(t.number, t.item_name, t.window_code, e.reason, e.submitted_on, e.submitted_by, e.state,
                          e.outcome or "", e.meeting or "", e.decided_on)
            for t, e in routing.escalations(s, state=state) if window is None or t.window_code == window]


def escalations_page(ctx: Context, today: Today, now: Now) -> RegisterPage:
    actor = ctx.actor
    columns = [
        Column(QT_TRANSLATE_NOOP("Registers", "办件编号"), lambda e: e.ticket_number),
        Column(QT_TRANSLATE_NOOP("Registers", "事项"), lambda e: e.item_name),
        Column(QT_TRANSLATE_NOOP("Registers", "窗口"), lambda e: e.window_code),
        Column(QT_TRANSLATE_NOOP("Registers", "提交日期"), lambda e: _d(e.submitted_on)),
        Column(QT_TRANSLATE_NOOP("Registers", "提交人"), lambda e: e.submitted_by),
        Column(QT_TRANSLATE_NOOP("Registers", "状态"),
               lambda e: tr(ESCALATION_STATES.get(e.state, e.state))),
        Column(QT_TRANSLATE_NOOP("Registers", "会议（纪要号）"), lambda e: e.meeting),
        Column(QT_TRANSLATE_NOOP("Registers", "研究日期"), lambda e: _d(e.decided_on)),
        Column(QT_TRANSLATE_NOOP("Registers", "提交理由"), lambda e: e.reason, long=True),
        Column(QT_TRANSLATE_NOOP("Registers", "研究结论"), lambda e: e.outcome, long=True),
    ]
    decide = PageAction(
        "decide", QT_TRANSLATE_NOOP("Registers", "登记研究结论"),
        lambda s, a, e, v: routing.decide(s, a, e.ticket_number, v["outcome"], v["meeting"], now=now()),
        fields=lambda: (Field("outcome", "研究结论", "long"), Field("meeting", "会议（纪要号）")),
        offered=lambda e: actor.is_supervisor and e is not None and e.state == "open")
    def load(s, v):  # type: ignore[no-untyped-def]
        return _escalation_rows(s, v["stateFilter"], None if actor.is_supervisor else
                                (actor.window_code or "-"))

    page = RegisterPage(ctx, "escalations", columns, load, key=lambda e: (e.ticket_number, e.submitted_on),
                        actions=[decide], ticket_of=lambda e: e.ticket_number, today=today)
    page.add_choice(QT_TRANSLATE_NOOP("Registers", "显示："), [
        ("open", QT_TRANSLATE_NOOP("Registers", "待研究")), ("decided", QT_TRANSLATE_NOOP("Registers", "已研究"))],
        "stateFilter")
    return page
