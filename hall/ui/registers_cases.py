"""The supervision registers: 责任追究 (accountability), 投诉 (complaints), 回访 (follow-ups), 差评整改.

Who sees what: the manager sees every record; a clerk sees the accountability records against themself and
their own window's follow-ups and rectifications. Who may act is decided by the services (a clerk's finding is
refused even when called directly); the buttons only follow it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from hall.services.catalog import items as catalog
from hall.services.people import staff
from hall.services.registers import accountability, complaints, followups, ratings
from hall.services.registers.accountability import RecordView
from hall.services.registers.complaints import ComplaintView
from hall.services.registers.followups import FollowUpView
from hall.services.registers.ratings import RATING_LEVELS, RectificationView
from hall.ui.ops import Context, read
from hall.ui.registers_model import Column, tr
from hall.ui.registers_page import PageAction, RegisterPage
from hall.ui.ticket_detail import Field

Today = Callable[[], date]
Now = Callable[[], datetime]


def _d(value: date | None) -> str:
    return value.isoformat() if value else ""


def staff_choices(ctx: Context, *, none: str = "") -> tuple[tuple[str, str], ...]:
    """Active window staff and managers as (staff number, "number name（window）") for a choice field."""
    people = [p for p in read(ctx.db, staff.list_staff) if p.active and p.role in ("clerk", "manager")]
    first = (("", none),) if none else ()
    return first + tuple((p.staff_no, f"{p.staff_no} {p.name}" + (f"（{p.window_code}）" if p.window_code else ""))
                         for p in people)


def window_choices(ctx: Context, *, none: str = "") -> tuple[tuple[str, str], ...]:
    first = (("", none),) if none else ()
    return first + tuple((w.code, f"{w.code} {w.name}") for w in read(ctx.db, catalog.window_views))


# ------------------------------------------------------------------------------------ 责任追究
RECORD_STATES = {"open": QT_TRANSLATE_NOOP("Registers", "待认定"),
                 "upheld": QT_TRANSLATE_NOOP("Registers", "属实，予以追究"),
                 "dismissed": QT_TRANSLATE_NOOP("Registers", "不予追究")}


def _responsible(r: RecordView) -> str:
    return "　".join(x for x in (r.staff_name, r.department) if x) or (f"{r.window_code}窗口" if r.window_code else "")


def accountability_page(ctx: Context, today: Today, now: Now) -> RegisterPage:
    actor = ctx.actor
    columns = [
        Column(QT_TRANSLATE_NOOP("Registers", "追究事由"), lambda r: r.cause_label),
        Column(QT_TRANSLATE_NOOP("Registers", "责任人/部门"), _responsible),
        Column(QT_TRANSLATE_NOOP("Registers", "窗口"), lambda r: r.window_code or ""),
        Column(QT_TRANSLATE_NOOP("Registers", "办件编号"), lambda r: r.ticket_number),
        Column(QT_TRANSLATE_NOOP("Registers", "发生日期"), lambda r: _d(r.occurred_on)),
        Column(QT_TRANSLATE_NOOP("Registers", "状态"), lambda r: tr(RECORD_STATES.get(r.state, r.state))),
        Column(QT_TRANSLATE_NOOP("Registers", "处理措施"), lambda r: r.measure),
        Column(QT_TRANSLATE_NOOP("Registers", "认定人"), lambda r: r.found_by or ""),
        Column(QT_TRANSLATE_NOOP("Registers", "认定日期"), lambda r: _d(r.found_on)),
        Column(QT_TRANSLATE_NOOP("Registers", "情况"), lambda r: r.detail, long=True),
        Column(QT_TRANSLATE_NOOP("Registers", "认定意见"), lambda r: r.finding or "", long=True),
    ]
    finding = PageAction(
        "finding", QT_TRANSLATE_NOOP("Registers", "作出认定"),
        lambda s, a, r, v: accountability.record_finding(s, a, r.id, v["finding"], v["text"], measure=v["measure"],
                                                         now=now()),
        fields=lambda: (
            Field("finding", "认定结论", "choice", tuple(accountability.FINDINGS.items())),
            Field("measure", "处理措施", "choice",
                  (("", "（不予追究时不填）"), *((m, m) for m in accountability.MEASURES if m))),
            Field("text", "认定意见", "long")),
        offered=lambda r: actor.is_supervisor and r is not None and r.state == "open")
    def load(s, v):  # type: ignore[no-untyped-def]
        mine = None if actor.is_supervisor else (actor.staff_id if actor.staff_id is not None else -1)
        return accountability.records(s, state=v["stateFilter"] or None, staff_id=mine, limit=v["limit"])

    # Bounded: the daily rules leave a record for every ticket that went overdue (tens of thousands at a
    # ten-year hall); the newest are listed first and "显示更多" goes further back.
    page = RegisterPage(ctx, "accountability", columns, load, key=lambda r: r.id, actions=[finding], bounded=True,
                        ticket_of=lambda r: r.ticket_number, today=today,
                        hint="" if actor.is_supervisor else QT_TRANSLATE_NOOP("Registers", "只列出对您本人的记录"))
    page.add_choice(QT_TRANSLATE_NOOP("Registers", "状态："), [
        ("open", RECORD_STATES["open"]), ("upheld", RECORD_STATES["upheld"]),
        ("dismissed", RECORD_STATES["dismissed"]), ("", QT_TRANSLATE_NOOP("Registers", "全部"))], "stateFilter")
    return page


# -------------------------------------------------------------------------------------------- 投诉
COMPLAINT_STATES = {"overdue": QT_TRANSLATE_NOOP("Registers", "已超期未答复"),
                    "open": QT_TRANSLATE_NOOP("Registers", "待答复"),
                    "upheld": QT_TRANSLATE_NOOP("Registers", "已答复（属实）"),
                    "dismissed": QT_TRANSLATE_NOOP("Registers", "已答复（不属实）")}


def _complaint_state(c: ComplaintView) -> str:
    if c.state == "open":
        return tr(COMPLAINT_STATES["overdue" if c.overdue else "open"])
    return tr(COMPLAINT_STATES["upheld" if c.upheld else "dismissed"])


def complaints_page(ctx: Context, today: Today, now: Now) -> RegisterPage:
    actor = ctx.actor
    columns = [
        Column(QT_TRANSLATE_NOOP("Registers", "投诉编号"), lambda c: c.number),
        Column(QT_TRANSLATE_NOOP("Registers", "收到日期"), lambda c: _d(c.received_on)),
        Column(QT_TRANSLATE_NOOP("Registers", "渠道"), lambda c: c.channel),
        Column(QT_TRANSLATE_NOOP("Registers", "投诉人"), lambda c: c.complainant),
        Column(QT_TRANSLATE_NOOP("Registers", "被投诉人"), lambda c: c.staff_name),
        Column(QT_TRANSLATE_NOOP("Registers", "窗口"), lambda c: c.window_code or ""),
        Column(QT_TRANSLATE_NOOP("Registers", "办件编号"), lambda c: c.ticket_number),
        Column(QT_TRANSLATE_NOOP("Registers", "答复期限"), lambda c: _d(c.due_on)),
        Column(QT_TRANSLATE_NOOP("Registers", "状态"), _complaint_state),
        Column(QT_TRANSLATE_NOOP("Registers", "投诉内容"), lambda c: c.content, long=True),
        Column(QT_TRANSLATE_NOOP("Registers", "答复"), lambda c: c.answer or "", long=True),
    ]
    register = PageAction(
        "register", QT_TRANSLATE_NOOP("Registers", "登记投诉"),
        lambda s, a, _r, v: complaints.register(
            s, a, v["content"], v["channel"], complainant=v["complainant"], phone=v["phone"],
            ticket_number=v["ticket_number"].strip() or None, staff_no=v["staff_no"] or None,
            window_code=v["window_code"] or None, now=now()),
        fields=lambda: (
            Field("channel", "投诉渠道", "choice", tuple((c, c) for c in complaints.CHANNELS)),
            Field("complainant", "投诉人（可匿名）"), Field("phone", "投诉人电话"),
            Field("content", "投诉内容", "long"), Field("ticket_number", "关联办件编号（如有）"),
            Field("staff_no", "被投诉人", "choice", staff_choices(ctx, none="（不涉及具体人员）")),
            Field("window_code", "被投诉窗口", "choice", window_choices(ctx, none="（按办件或被投诉人）"))),
        offered=lambda _r: actor.role in ("clerk", "manager", "admin"), needs_row=False)
    answer = PageAction(
        "answer", QT_TRANSLATE_NOOP("Registers", "答复投诉"),
        lambda s, a, c, v: complaints.answer(s, a, c.number, v["upheld"] == "yes", v["reply"], now=now()),
        fields=lambda: (Field("upheld", "核查结论", "choice", (("yes", "投诉属实"), ("no", "投诉不属实"))),
                        Field("reply", "答复内容", "long")),
        offered=lambda c: actor.is_supervisor and c is not None and c.state == "open")
    def load(s, v):  # type: ignore[no-untyped-def]
        return complaints.register_list(s, today(), open_only=v["stateFilter"] == "open")

    page = RegisterPage(ctx, "complaints", columns, load, key=lambda c: c.number, actions=[register, answer],
                        ticket_of=lambda c: c.ticket_number, alert_of=lambda c: c.overdue, today=today)
    page.add_choice(QT_TRANSLATE_NOOP("Registers", "显示："), [
        ("open", QT_TRANSLATE_NOOP("Registers", "待答复")), ("all", QT_TRANSLATE_NOOP("Registers", "全部"))],
        "stateFilter")
    return page


# -------------------------------------------------------------------------------------------- 回访
def _followup_state(f: FollowUpView, day: date) -> str:
    if f.overdue:
        return QCoreApplication.translate("Registers", "逾期 {0} 天").format((day - f.due_on).days)
    if f.due_on == day:
        return QCoreApplication.translate("Registers", "今日应回访")
    return QCoreApplication.translate("Registers", "待回访")


def followups_page(ctx: Context, today: Today, now: Now) -> RegisterPage:
    actor = ctx.actor
    columns = [
        Column(QT_TRANSLATE_NOOP("Registers", "应回访日期"),
               lambda f: _d(f.due_on) + (tr("（暂定）") if f.due_provisional else "")),
        Column(QT_TRANSLATE_NOOP("Registers", "状态"), lambda f: _followup_state(f, today())),
        Column(QT_TRANSLATE_NOOP("Registers", "回访类型"), lambda f: f.reason_label),
        Column(QT_TRANSLATE_NOOP("Registers", "办件编号"), lambda f: f.ticket_number),
        Column(QT_TRANSLATE_NOOP("Registers", "事项"), lambda f: f.item_name),
        Column(QT_TRANSLATE_NOOP("Registers", "申请人"), lambda f: f.applicant_name),
        Column(QT_TRANSLATE_NOOP("Registers", "联系电话"), lambda f: f.applicant_phone),
        Column(QT_TRANSLATE_NOOP("Registers", "窗口"), lambda f: f.window_code or ""),
    ]
    outcome = PageAction(
        "outcome", QT_TRANSLATE_NOOP("Registers", "登记回访结果"),
        lambda s, a, f, v: followups.record_outcome(
            s, a, f.id, v["method"], v["outcome"], reached=v["reached"] == "yes",
            satisfied={"yes": True, "no": False}.get(v["satisfied"]), now=now()),
        fields=lambda: (Field("method", "回访方式", "choice", tuple((m, m) for m in followups.METHODS)),
                        Field("reached", "是否联系上", "choice", (("yes", "已联系上"), ("no", "未联系上"))),
                        Field("satisfied", "群众意见", "choice", (("yes", "满意"), ("no", "不满意"), ("", "未表态"))),
                        Field("outcome", "回访情况", "long")),
        offered=lambda f: f is not None and (actor.is_supervisor or (actor.role == "clerk"
                                                                     and actor.window_code == f.window_code)))
    def window(v):  # type: ignore[no-untyped-def]
        return None if actor.is_supervisor else (actor.window_code or "-")

    def load(s, v):  # type: ignore[no-untyped-def]
        span = v["rangeFilter"]
        rows = followups.due(s, today(), within_days=7 if span == "week" else 0, window_code=window(v),
                             limit=v["limit"])
        # The list is oldest first, so the overdue ones lead it: the first rows of it hold the first overdue ones.
        return [f for f in rows if f.overdue] if span == "overdue" else rows

    def count(s, v):  # type: ignore[no-untyped-def]
        span = v["rangeFilter"]
        if span == "overdue":  # due before today
            return followups.count_due(s, today() - timedelta(days=1), window_code=window(v))
        return followups.count_due(s, today(), within_days=7 if span == "week" else 0, window_code=window(v))

    page = RegisterPage(ctx, "followups", columns, load, key=lambda f: f.id, actions=[outcome], bounded=True,
                        count=count,
                        ticket_of=lambda f: f.ticket_number, alert_of=lambda f: f.overdue, today=today)
    page.add_choice(QT_TRANSLATE_NOOP("Registers", "范围："), [
        ("today", QT_TRANSLATE_NOOP("Registers", "今日应回访（含逾期）")),
        ("overdue", QT_TRANSLATE_NOOP("Registers", "已逾期")),
        ("week", QT_TRANSLATE_NOOP("Registers", "未来7天"))], "rangeFilter")
    return page


# ---------------------------------------------------------------------------------------- 差评整改
def _verification(r: RectificationView) -> str:
    if r.upheld is None:
        return ""
    if r.upheld:
        return QCoreApplication.translate("Registers", "属实：") + r.verification
    return QCoreApplication.translate("Registers", "不属实：") + r.verification


def rectifications_page(ctx: Context, today: Today, now: Now) -> RegisterPage:
    actor = ctx.actor
    columns = [
        Column(QT_TRANSLATE_NOOP("Registers", "办件编号"), lambda r: r.ticket_number),
        Column(QT_TRANSLATE_NOOP("Registers", "事项"), lambda r: r.item_name),
        Column(QT_TRANSLATE_NOOP("Registers", "窗口"), lambda r: r.window_code),
        Column(QT_TRANSLATE_NOOP("Registers", "被评价人"), lambda r: r.staff_name),
        Column(QT_TRANSLATE_NOOP("Registers", "评价"), lambda r: RATING_LEVELS.get(r.level, "")),
        Column(QT_TRANSLATE_NOOP("Registers", "差评日期"), lambda r: _d(r.opened_on)),
        Column(QT_TRANSLATE_NOOP("Registers", "整改期限"), lambda r: _d(r.due_on)),
        Column(QT_TRANSLATE_NOOP("Registers", "状态"),
               lambda r: r.state_label + (QCoreApplication.translate("Registers", "（已超期）") if r.overdue else "")),
        Column(QT_TRANSLATE_NOOP("Registers", "再评价"),
               lambda r: RATING_LEVELS.get(r.second_level, "") if r.second_level else ""),
        Column(QT_TRANSLATE_NOOP("Registers", "评价意见"), lambda r: r.comment, long=True),
        Column(QT_TRANSLATE_NOOP("Registers", "核实情况"), _verification, long=True),
        Column(QT_TRANSLATE_NOOP("Registers", "整改措施"), lambda r: r.action_taken or "", long=True),
    ]
    verify = PageAction(
        "verify", QT_TRANSLATE_NOOP("Registers", "核实差评"),
        lambda s, a, r, v: ratings.verify(s, a, r.id, v["upheld"] == "yes", v["finding"], now=now()),
        fields=lambda: (Field("upheld", "核实结论", "choice", (("yes", "差评属实"), ("no", "差评不属实"))),
                        Field("finding", "核实情况", "long")),
        offered=lambda r: actor.is_supervisor and r is not None and r.state == "open")
    rectified = PageAction(
        "rectified", QT_TRANSLATE_NOOP("Registers", "登记整改情况"),
        lambda s, a, r, v: ratings.record_rectified(s, a, r.id, v["action"], now=now()),
        fields=lambda: (Field("action", "整改措施", "long"),),
        offered=lambda r: r is not None and r.state == "verified" and (
            actor.is_supervisor or (actor.role == "clerk" and actor.window_code == r.window_code)))
    def load(s, v):  # type: ignore[no-untyped-def]
        rows = ratings.rectifications(s, today(), open_only=v["stateFilter"] == "open")
        return rows if actor.is_supervisor else [r for r in rows if r.window_code == actor.window_code]

    page = RegisterPage(ctx, "rectifications", columns, load, key=lambda r: r.id, actions=[verify, rectified],
                        ticket_of=lambda r: r.ticket_number, alert_of=lambda r: r.overdue, today=today)
    page.add_choice(QT_TRANSLATE_NOOP("Registers", "显示："), [
        ("open", QT_TRANSLATE_NOOP("Registers", "未办结")), ("all", QT_TRANSLATE_NOOP("Registers", "全部"))],
        "stateFilter")
    return page
