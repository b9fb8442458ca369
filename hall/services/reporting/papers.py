"""Papers (文书) from the ledger: per-ticket paper data, public-notice data, and the print record.

Builds the plain data of :mod:`hall.services.base.paper_data` that :mod:`hall.print` draws, from the ticket, its
events, the current catalogue, settings and staff. Personal data is masked here for the receipt audience
(domain-rules.md §6: ID 3201**********1234, phone 138****5678, address village/group only); public data never
carries an ID number or a personal phone. Every print and reprint is a ``ticket.printed`` ledger event.

Proxy (转办/上报单) and joint (联办抄告单) papers read the workflow services (:mod:`hall.services.cases.proxy`,
:mod:`hall.services.cases.joint`); extensions and closures come from the ticket's clock and closing events.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.errors import NotFound, ValidationError
from hall.models import Event, Item, Staff, Ticket, Window
from hall.services.base.actor import ROLE_LABELS, Actor
from hall.services.base.masking import Audience, FieldKind, mask_for, mask_free_text
from hall.services.base.paper_data import (
    PAPER_ALIASES,
    PAPER_TITLES,
    Closure,
    DepartmentRequest,
    Extension,
    HallInfo,
    ItemNotice,
    MaterialLine,
    StaffBadge,
    TicketPaper,
    WindowBoard,
    default_procedure,
    limit_text,
)
from hall.services.base.permissions import require_staff
from hall.services.base.states import STATE_LABELS
from hall.services.base.validators import parse_key, search_text, shown
from hall.services.calendar import clock
from hall.services.cases import joint, proxy, supplement
from hall.services.catalog import items as catalog
from hall.services.people import staff
from hall.services.people.photos import photo_bytes
from hall.services.storage import identity, ledger, settings
from hall.services.tickets import fees
from hall.services.tickets import record as tickets
from hall.services.tickets.rules import derive_date
from hall.services.tickets.supplement_notice import supply_rule

PRINT_EVENT = "ticket.printed"
MAX_COPIES = 20
CLOSE_LABELS = {"closed_approved": "通过", "closed_tolerated": "容缺通过", "closed_rejected": "不通过"}
JOINT_OPINIONS = {"agree": "同意", "disagree": "不同意", "needs_more": "需补充", "deemed_consent": "逾期视为认可",
                  "pending": ""}
# States after which a proxy/joint case has been forwarded or copied (its paper then exists).
_FORWARDED = {"forwarded", "in_progress", "special", "escalated", "closed_approved", "closed_tolerated",
              "closed_rejected", "delivered"}
_CLOSED = {"closed_approved", "closed_tolerated", "closed_rejected", "delivered"}


def paper_code(kind: str) -> str:
    """The canonical paper code for ``kind`` (aliases accepted); a one-line Chinese reason if unknown."""
    key = kind.strip() if isinstance(kind, str) else ""
    code = PAPER_ALIASES.get(key, key)
    if code not in PAPER_TITLES:
        choices = "、".join(f"{k}（{v}）" for k, v in PAPER_TITLES.items())
        raise ValidationError("文书种类", f"不认识“{shown(kind)}”，可选：{choices}")
    return code


# ----------------------------------------------------------------------------------------------- hall
def hall_info(session: Session) -> HallInfo:
    s = settings.get_all(session)
    township = str(s["township_name"])
    return HallInfo(name=str(s["hall_name"]), township=f"{township}人民政府", address=str(s["hall_address"]),
                    service_phone=str(s["service_phone"]), supervision_phone=str(s["supervision_phone"]),
                    office_hours=str(s["office_hours"]), seal_text=str(s["seal_text"]))


# ------------------------------------------------------------------------------------------ catalogue
def _window_names(session: Session) -> dict[str, Window]:
    return {w.code: w for w in session.scalars(select(Window))}


def _conditions(text: str) -> tuple[str, ...]:
    parts = [p.strip() for p in text.replace("\n", "；").split("；")]
    return tuple(p for p in parts if p) or ("申请人符合本事项政策规定的条件；申请材料齐全、真实、有效。",)


def _notice(item: Item, hall: HallInfo, windows: dict[str, Window], on_duty: dict[str, tuple[str, ...]]) -> ItemNotice:
    w = windows.get(item.window_code)
    materials = tuple(MaterialLine(m["name"], m.get("form") or "原件", int(m.get("count") or 1),
                                   m.get("issuer") or "申请人") for m in item.materials)
    departments = tuple(item.departments)
    return ItemNotice(
        code=item.code, name=item.name, window=f"{item.window_code} {w.name if w else ''}".strip(),
        kind=item.default_kind, legal_basis=item.policy_basis.strip() or "—",
        conditions=_conditions(item.conditions),
        procedure_steps=tuple(item.procedure) or default_procedure(item.default_kind, "、".join(departments)),
        materials=materials, fee=item.fee.strip() or "不收费",
        limit_text=limit_text(item.default_kind, item.promised_limit, item.limit_unit, item.statutory_limit),
        place=f"{hall.name}{item.window_code}窗口",
        service_phone=(w.phone if w and w.phone else hall.service_phone), supervision_phone=hall.supervision_phone,
        departments=departments, staff_on_duty=on_duty.get(item.window_code, ()), note=item.note.strip())


def _on_duty(session: Session) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for b in staff_badges(session):
        if b.window.startswith("W"):
            out.setdefault(b.window, []).append(f"{b.name}（{b.post}）" if b.post else b.name)
    return {k: tuple(v) for k, v in out.items()}


def item_notices(session: Session) -> list[ItemNotice]:
    """Every current catalogue item's public guide (六公开 / 一次性告知), in window and code order."""
    hall = hall_info(session)
    windows, on_duty = _window_names(session), _on_duty(session)
    return [_notice(i, hall, windows, on_duty) for i in catalog.current_items(session)]


def item_notice(session: Session, code: str) -> ItemNotice:
    """One current item's public guide; NotFound (事项编码…不存在) for an unknown code."""
    item = catalog.current_item(session, code)
    return _notice(item, hall_info(session), _window_names(session), _on_duty(session))


def staff_badges(session: Session) -> list[StaffBadge]:
    """挂牌上岗: active hall staff (window clerks and the manager); never an ID number or a phone."""
    badges = []
    profiles = {no: (photo, resume) for no, photo, resume in session.execute(
        select(Staff.staff_no, Staff.photo, Staff.resume).where(Staff.active))}
    for v in staff.list_staff(session):
        if not v.active or v.role not in ("clerk", "manager") or v.intake_point != "000":
            continue
        badges.append(StaffBadge(name=v.name, post=v.post or ROLE_LABELS.get(v.role, v.role), staff_no=v.staff_no,
                                 window=v.window_code or "中心", photo_path=v.photo_path or None,
                                 b_post=v.b_post_name, photo=photo_bytes(profiles.get(v.staff_no, ("", ""))[0]),
                                 resume=profiles.get(v.staff_no, ("", ""))[1], vanguard=v.vanguard))
    return badges


def window_boards(session: Session, window_code: str | None = None) -> list[WindowBoard]:
    """Per-window boards (items, limits, fees, staff on duty); one window when ``window_code`` is given."""
    hall = hall_info(session)
    windows, on_duty = _window_names(session), _on_duty(session)
    code = None if window_code is None else parse_key(window_code, "窗口编码", max_len=8).upper()
    wanted = [w for w in catalog.windows(session) if code is None or w.code == code]
    if code is not None and not wanted:
        raise NotFound(f"窗口“{code}”不存在（应为 W01–W11 之类的窗口编码）")
    badges = staff_badges(session)
    boards = []
    for w in wanted:
        items = tuple(_notice(i, hall, windows, on_duty) for i in catalog.current_items(session, w.code))
        boards.append(WindowBoard(w.code, w.name, items, tuple(b for b in badges if b.window == w.code)))
    return boards


# -------------------------------------------------------------------------------------------- tickets
def papers_for(ticket: Ticket) -> tuple[str, ...]:
    """The papers that apply to the ticket's kind and state, most important first.

    The 一次性告知单 can always be given (it is also the written record of a consultation).
    """
    state, kind = ticket.state, ticket.kind
    if state in ("voided", "withdrawn"):
        return ()
    if state == "refused":
        return ("refusal",)
    if state in ("received", "supplement"):
        return ("supplement", "notice") if state == "supplement" else ("notice",)
    if kind == "explain":
        return ("notice",)
    out: list[str] = []
    if _supplement_pending(ticket):
        out.append("supplement")  # a 补正 during handling: its notice first
    if state in _CLOSED:
        out.append("closure")
    if any(e.get("kind") == "extend" for e in ticket.clock or []):
        out.append("extension")
    if kind == "proxy" and state in _FORWARDED:
        out.append("forward")
    if kind == "joint" and (state == "awaiting_opinions" or state in _FORWARDED):
        out.append("joint")
    out.append("acceptance")
    if any(m.get("status") == "tolerated" for m in ticket.materials or []):
        out.append("tolerance")
    out.append("notice")
    return tuple(out)


def _supplement_pending(t: Ticket) -> bool:
    """A 补正 during handling is waiting for the citizen (the open pause was recorded as a 补正 request)."""
    running = None
    for entry in t.clock or []:
        if entry.get("kind") == "pause":
            running = entry
        elif entry.get("kind") == "resume":
            running = None
    return bool(running and running.get("supplement"))


def _supplement_part(session: Session, t: Ticket, item: Item) -> dict[str, Any]:
    """The 补正 notice's materials and deadline: from the ticket's newest 补正 request; a ticket saved as 补正
    before requests were recorded gets the same rule on its received date."""
    req = supplement.latest(session, t)
    if req is not None:
        issuers = {m["name"]: m.get("issuer") or "" for m in item.materials}
        lines = tuple(MaterialLine(m["name"], m.get("form") or "原件", int(m.get("count") or 1),
                                   issuers.get(m["name"], "") or "申请人") for m in req.materials)
        return {"materials_missing": lines, "supplement_due": req.due_on,
                "supplement_due_provisional": req.due_provisional, "supplement_stage": req.stage,
                "supplement_requested_on": req.requested_on, "issued_on": req.requested_on,
                "supplement_reason": req.reason}  # dated the day of the 补正
    due, provisional = derive_date(session, t.received_at.date(), supply_rule(session))
    return {"supplement_due": due, "supplement_due_provisional": provisional,
            "supplement_requested_on": t.received_at.date()}


def _events(session: Session, t: Ticket) -> list[tuple[Event, dict[str, Any]]]:
    return [(ev, ledger.load_payload(ev)) for ev in ledger.history(session, t.uid)]


def _last(events: list[tuple[Event, dict[str, Any]]], type_: str) -> tuple[Event, dict[str, Any]] | None:
    hits = [e for e in events if e[0].type == type_]
    return hits[-1] if hits else None


def _staff_no(session: Session, staff_id: int | None) -> str:
    if staff_id is None:
        return ""
    person = session.get(Staff, staff_id)
    return person.staff_no if person else ""


def _staff_no_by_uid(session: Session, uid: str | None) -> str:
    if uid is None:
        return ""
    return session.scalar(select(Staff.staff_no).where(Staff.uid == uid)) or ""


def _actor_staff_no(session: Session, ev: Event) -> str:
    """The staff number of whoever wrote ``ev`` (events of release 1 name them by their old row id)."""
    if ev.actor_uid is not None:
        return _staff_no_by_uid(session, ev.actor_uid)
    return _staff_no(session, identity.legacy_staff_id(session, ev.actor_id))


def _receipt(kind: FieldKind, value: str | None) -> str:
    return (mask_for(Audience.RECEIPT, kind, value) or "") if value else ""


def _material_lines(t: Ticket, item: Item, status: str) -> tuple[MaterialLine, ...]:
    issuers = {m["name"]: m.get("issuer") or "" for m in item.materials}
    return tuple(MaterialLine(m["name"], m.get("form") or "原件", int(m.get("count") or 1),
                              issuers.get(m["name"], "") or "申请人")
                 for m in t.materials or [] if m.get("status") == status)


def _proxy_departments(session: Session, t: Ticket, item: Item) -> tuple[tuple[DepartmentRequest, ...], str]:
    legs = proxy.legs(session, t)
    if legs:
        out = []
        for leg in legs:
            opinion = proxy.DEPT_OUTCOMES.get(leg.outcome, "") if leg.outcome else ""
            ask = "请依法审核办理并反馈办理结果" + (f"；报送方式：{leg.how_sent}" if leg.how_sent else "")
            if leg.note:
                ask += f"；{leg.note}"
            out.append(DepartmentRequest(leg.department, ask, leg.dept_due_on, "上报", reference_no=leg.dept_ref,
                                         answered_on=leg.returned_on, opinion=opinion, opinion_note=leg.answer))
        sent = "、".join(f"{m['name']}（{m['form']}×{m['count']}）" for m in legs[-1].what_sent)
        return tuple(out), f"随附材料：{sent}。" if sent else ""
    return tuple(DepartmentRequest(d, "请依法审核办理并反馈办理结果", t.due_date, "上报",
                                   due_provisional=t.due_provisional) for d in item.departments), ""


def _joint_departments(session: Session, t: Ticket, item: Item) -> tuple[DepartmentRequest, ...]:
    copies = [c for c in joint.history(session, t) if c.state != "superseded"]
    if copies:
        return tuple(DepartmentRequest(
            c.department, c.asked or "审核并反馈意见（同意 / 不同意 / 需补充）", c.due_on, "协办",
            due_provisional=c.due_provisional, answered_on=c.answered_on, opinion=JOINT_OPINIONS.get(c.state, ""),
            opinion_note="" if c.state == "deemed_consent" else c.opinion) for c in copies)
    return tuple(DepartmentRequest(d, "审核并反馈意见（同意 / 不同意 / 需补充）", None, "协办")
                 for d in list(item.departments)[1:])


def _extension(session: Session, events: list[tuple[Event, dict[str, Any]]]) -> Extension | None:
    for ev, p in reversed(events):
        entry = p.get("entry") or {}
        if ev.type == "ticket.clock" and entry.get("kind") == "extend":
            if not p.get("old_due") or not p.get("new_due"):
                return None
            staff_no = (_staff_no_by_uid(session, entry["approver_uid"]) if "approver_uid" in entry
                        else _staff_no(session, identity.legacy_staff_id(session, entry.get("approver_id"))))
            approver = "中心主任 " + entry.get("approver", "") + (f"（工号 {staff_no}）" if staff_no else "")
            return Extension(date.fromisoformat(p["old_due"]), date.fromisoformat(p["new_due"]),
                             entry.get("reason", ""), approver, date.fromisoformat(entry["on"]),
                             bool(p.get("due_provisional")))
    return None


def _closure(session: Session, t: Ticket, events: list[tuple[Event, dict[str, Any]]]) -> Closure | None:
    closed = _last(events, "ticket.closed")
    if closed is None:
        return None
    ev, p = closed
    doc_no = p.get("result_doc_no") or ""
    if not doc_no and t.kind == "proxy":
        doc_no = next((leg.result_doc_no for leg in reversed(proxy.legs(session, t)) if leg.result_doc_no), "")
    label = CLOSE_LABELS.get(p.get("state", ""), "办结")
    result = label + (f"（{p['result']}）" if p.get("result") and p["result"] != label else "")
    delivered = _last(events, "ticket.delivered")
    how, at, receiver = "", None, ""
    if delivered is not None:
        dev, dp = delivered
        on = date.fromisoformat(dp["delivered_on"])
        at = dev.occurred_at if dev.occurred_at.date() == on else datetime.combine(on, time())
        how, receiver = dp.get("how", ""), dp.get("signed_by", "")
    return Closure(result, doc_no or "—", ev.occurred_at.date(), how, at, receiver)


def _explain(lines: tuple[str, ...]) -> str:
    """The deadline explanation for paper: the rule, the holidays skipped, pauses and extensions, the result.

    The day-by-day "计入 …" lines and plain weekends stay on the clerk's screen; a paper keeps what a citizen
    needs to check the date.
    """
    kept = [ln.rstrip("。") for ln in lines
            if not ln.startswith("计入") and not (ln.startswith("跳过") and ln.endswith("周末"))]
    return "；".join(kept) + "。" if kept else ""


def paper_for_ticket(session: Session, number: str, kind: str, *,
                     today: date | None = None) -> tuple[TicketPaper, ItemNotice | None, HallInfo]:
    """Everything the paper ``kind`` needs for ticket ``number``, masked for the applicant (receipt audience).

    Raises NotFound for an unknown number and ValidationError for an unknown kind or a paper the ticket's
    record cannot fill (e.g. 延期告知书 without an approved extension).
    """
    code = paper_code(kind)
    t = tickets.get(session, number)
    item = session.get_one(Item, t.item_id)
    hall = hall_info(session)
    windows = _window_names(session)
    events = _events(session, t)
    received = _last(events, "ticket.received")
    rp = received[1] if received else {}
    accepting = _last(events, "ticket.supplemented") or received
    accepted_at = t.received_at
    staff_name, staff_no = tickets.owner_name(session, t), _staff_no(session, t.owner_id)
    if accepting is not None:
        accepted_at = accepting[0].occurred_at
        staff_name, staff_no = accepting[0].actor_name, _actor_staff_no(session, accepting[0])
    explanation = ""
    if t.accepted_on is not None and t.kind not in ("explain", "immediate"):
        d = clock.deadline(clock.calendar_for(session), item, t.kind, t.accepted_on, t.clock)
        explanation = _explain(d.explanation)
    agent = t.agent or {}
    org = t.applicant_type == "org"  # a credit code is public register data, not personal
    w = windows.get(t.window_code)
    paper = TicketPaper(
        number=t.number, item_code=t.item_code, item_name=t.item_name, kind=t.kind,
        window=f"{t.window_code} {w.name if w else ''}".strip(), applicant_name=t.applicant_name,
        applicant_id_masked=t.applicant_id_no if org else _receipt(FieldKind.ID_NUMBER, t.applicant_id_no),
        applicant_phone_masked=_receipt(FieldKind.PHONE, t.applicant_phone),
        applicant_address=_receipt(FieldKind.ADDRESS, t.applicant_address),
        agent_name=agent.get("name", ""), agent_id_masked=_receipt(FieldKind.ID_NUMBER, agent.get("id_no")),
        agent_phone_masked=_receipt(FieldKind.PHONE, agent.get("phone")),
        accepted_at=accepted_at if code in ("acceptance", "tolerance") else t.received_at,
        staff_name=staff_name or "—", staff_no=staff_no,
        limit_text=limit_text(t.kind, item.promised_limit, item.limit_unit, item.statutory_limit),
        due_date=t.due_date, due_provisional=t.due_provisional, due_explanation=explanation,
        materials_received=_material_lines(t, item, "received"),
        materials_missing=_material_lines(t, item, "tolerated" if code == "tolerance" else "missing"),
        supplement_due=None,
        refusal_reasons=tuple(r.strip() for r in (t.refusal_reason or "").splitlines() if r.strip()),
        redirect_organ=str(rp.get("redirect_organ") or ""),
        issued_on=(today or date.today()) if code in ("extension", "closure", "forward", "joint") else None,
    )
    paper = _mask_free_texts(_complete(session, t, item, paper, code, events))
    notice = _notice(item, hall, windows, _on_duty(session)) if code == "notice" else None
    return paper, notice, hall


# Fields of a ticket paper that are not free text: the number, and the applicant's and agent's identifiers, masked
# already by the §6 receipt rule (an organisation's credit code stays whole: it is public register data).
_NOT_FREE_TEXT = frozenset({"number", "applicant_id_masked", "applicant_phone_masked", "agent_id_masked",
                            "agent_phone_masked"})


def _mask_free_texts(obj: Any, name: str = "") -> Any:
    """Every free text of a paper (results, reasons, notes, opinions, asks …) with identifiers masked: a clerk who
    quotes someone's ID number or phone in a reason must not print it whole (a paper travels, is copied, filed)."""
    import dataclasses

    if isinstance(obj, str):
        return obj if name in _NOT_FREE_TEXT else mask_free_text(obj)
    if isinstance(obj, tuple):
        return tuple(_mask_free_texts(x, name) for x in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: _mask_free_texts(getattr(obj, f.name), f.name) for f in dataclasses.fields(obj)}
        changed = {k: v for k, v in changes.items() if v is not getattr(obj, k) and v != getattr(obj, k)}
        return dataclasses.replace(obj, **changed) if changed else obj
    return obj


def _complete(session: Session, t: Ticket, item: Item, paper: TicketPaper, code: str,
              events: list[tuple[Event, dict[str, Any]]]) -> TicketPaper:
    """Fill the kind-specific parts and refuse, in Chinese, a paper the record cannot support."""
    from dataclasses import replace

    title = PAPER_TITLES[code]
    if code == "refusal" and t.state != "refused":
        raise ValidationError(title, f"办件 {t.number} 未被决定不予受理")
    if code == "supplement":
        paper = replace(paper, **_supplement_part(session, t, item))
        if not paper.materials_missing:
            raise ValidationError(title, f"办件 {t.number} 没有需补正的材料")
        return paper
    if code == "tolerance":
        due, provisional = derive_date(session, t.received_at.date(), supply_rule(session))
        paper = replace(paper, supplement_due=due, supplement_due_provisional=provisional)
    if code == "tolerance" and not paper.materials_missing:
        raise ValidationError(title, f"办件 {t.number} 没有容缺受理的材料")
    if code == "acceptance" and t.accepted_on is None:
        raise ValidationError(title, f"办件 {t.number} 尚未受理（当前为{_state_label(t)}）")
    if code == "acceptance":
        paper = replace(paper, fee_text=fee_text_for(session, t, item))
    if code == "forward":
        if t.kind != "proxy":
            raise ValidationError(title, "只有代办件才有转办（上报）单")
        departments, ask = _proxy_departments(session, t, item)
        if not departments:
            raise ValidationError(title, "事项清单未列承办部门，且本办件尚未转报")
        return replace(paper, departments=departments, forward_ask=ask)
    if code == "joint":
        if t.kind != "joint":
            raise ValidationError(title, "只有联办件才有联办抄告单")
        departments = _joint_departments(session, t, item)
        if not departments:
            raise ValidationError(title, "事项清单未列协办部门，且本办件尚未抄告")
        return replace(paper, departments=departments)
    if code == "extension":
        ext = _extension(session, events)
        if ext is None:
            raise ValidationError(title, f"办件 {t.number} 没有经批准的延期记录")
        return replace(paper, extension=ext, issued_on=ext.approved_on)
    if code == "closure":
        cl = _closure(session, t, events)
        if cl is None:
            raise ValidationError(title, f"办件 {t.number} 尚未办结（当前为{_state_label(t)}）")
        return replace(paper, closure=cl, issued_on=cl.closed_on)
    return paper


def fee_text_for(session: Session, t: Ticket, item: Item) -> str:
    """一次性收费 as the 受理通知书 prints it: 免费, what was taken (amount, receipt number, payer), or the standard
    still to be paid."""
    standard = fees.standard_text(item.fee_cents or 0, item.fee)
    if not item.fee_cents:
        return standard
    taken = fees.charged(session, t.uid)
    if taken is None:
        return f"收费标准 {standard}，尚未收取"
    return (f"一次性收取 {taken.amount_text}（收费标准：{standard}）　票据号码：{taken.receipt_no}"
            f"　缴费人：{taken.payer}")


def _state_label(t: Ticket) -> str:
    return STATE_LABELS.get(t.state, t.state)


# ------------------------------------------------------------------------------------------- printing
def record_print(session: Session, actor: Actor, number: str, kind: str, copies: int = 1, reprint: bool = False,
                 printer: str = "") -> Event:
    """Ledger event ``ticket.printed``: who printed which paper of which ticket, how many copies, where, and
    whether it was a reprint (补打). The caller owns the transaction."""
    require_staff(actor, "打印办件文书")
    code = paper_code(kind)
    if not isinstance(copies, int) or not 1 <= copies <= MAX_COPIES:
        raise ValidationError("份数", f"应为1到{MAX_COPIES}份")
    t = tickets.get(session, number)
    tickets.refuse_if_frozen(session, t.uid)  # nothing is written on a frozen ticket (sync conflict)
    where = search_text(printer, 120) or "未指定打印机"  # the system's printer name: cleaned, never refused
    title = PAPER_TITLES[code]
    return ledger.append(session, actor, PRINT_EVENT, {
        "paper": code, "title": title, "copies": copies, "reprint": bool(reprint), "printer": where,
        "reason": f"{title} {copies} 份{'（补打）' if reprint else ''}，{where}",
    }, ticket_uid=t.uid)


def print_count(session: Session, number: str, kind: str) -> int:
    """How many times this paper of this ticket was printed before (a further print is a reprint)."""
    code = paper_code(kind)
    t = tickets.get(session, number)
    evs = session.scalars(select(Event).where(Event.ticket_uid == t.uid, Event.type == PRINT_EVENT))
    return sum(1 for ev in evs if ledger.load_payload(ev).get("paper") == code)
