"""涉法信访 on the ticket engine: a 信访 case is a ticket of a 信访 item, plus what only a petition has.

The ticket carries what every case carries — number, the 60 日 办结 limit derived by the item's rule, the clock,
extensions (延期, in the item's natural days, capped at half the statutory limit: 30 日, approver + reason +
延期告知书, hall/services/cases/workflow.py ``extend``), closure and papers. This module adds, each as a ledger
event applied by its projector:

- ``petition.registered``: the case opened on a 信访 ticket, with its 首办责任人 and the 受理告知 deadline (信访工作条例
  §24: 15 日 to tell the petitioner whether it is accepted), derived by the one date rule (natural days, moved off
  a non-working last day) and derived again when the calendar changes (petition_dates.py);
- ``petition.accept_decided``: 受理 / 不予受理 told to the petitioner (不予受理 also closes the ticket as 不通过);
- ``petition.agent_added``: a 信访代理人 (at most two; a lawyer with the 执业证号 and the firm);
- ``petition.four_fixed``: 四定一包 (定领导、定人员、定时间、定措施、包结案);
- ``petition.feedback_given``: progress told to the petitioner while the case is open, dated.

Hearings, 移交 and 回访 are in :mod:`hall.services.cases.petition_steps`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from hall.models import Event, Item, Staff, Ticket
from hall.models.petition import PetitionAgent, PetitionCase, PetitionFeedback
from hall.services.base.actor import Actor
from hall.services.base.validators import free_text, parse_key, parse_person_name, parse_phone
from hall.services.calendar.derived import DateRule
from hall.services.cases import workflow
from hall.services.storage import identity, ledger
from hall.services.tickets import intake
from hall.services.tickets import record as tickets
from hall.services.tickets.record import today_of
from hall.services.tickets.rules import derive_date, permit_petition, refuse_village_on_petition

# 信访工作条例 (2022) §24: whether a petition is accepted is told within 15 日 of receiving it.
ACCEPT_RULE = DateRule(15, "day")
# Which catalogue items are 信访 items: the family is named by the item (a township may number it as it likes).
FAMILY_WORD = "信访"
MAX_AGENTS = 2
ACCEPT_LABELS = {"pending": "待告知", "accepted": "已受理", "not_accepted": "不予受理"}
FEEDBACK_CHANNELS = ("当面", "电话", "短信", "书面", "网上")
# 律师执业证号: 17 digits (执业机构所在地代码 5 + 类别 1 + 取得资格年份 4 + 性别 1 + 序号 6).
LICENSE = re.compile(r"\d{17}")


def is_petition_item(item: Item) -> bool:
    return FAMILY_WORD in item.name


@dataclass(frozen=True)
class AgentForm:
    name: str
    phone: str
    relation: str = ""
    is_lawyer: bool = False
    license_no: str = ""
    firm: str = ""


@dataclass(frozen=True)
class FourFixed:
    """四定一包 as entered: leader and staff by staff number, the date by which it is solved, the measures."""

    leader_no: str
    staff_nos: tuple[str, ...]
    by_date: date
    measures: str
    pledge: str = "包案领导和责任人对本案负责到底，直至案结事了"


def case_of(session: Session, number: str) -> tuple[Ticket, PetitionCase]:
    """The ticket (locked until commit: two counters acting on one case wait for each other, so a third agent or
    a second 移交 to the same organ cannot slip in) and its petition case."""
    t = tickets.get(session, number, lock=True)
    case = session.scalars(select(PetitionCase).where(PetitionCase.ticket_uid == t.uid)).first()
    if case is None:
        raise NotFound(f"办件 {t.number} 不是信访件（未登记信访事项）")
    return t, case


def _staff(session: Session, staff_no: str, field: str) -> Staff:
    staff_no = parse_key(staff_no, field, max_len=20)
    person = session.scalars(select(Staff).where(Staff.staff_no == staff_no, Staff.active)).first()
    if person is None:
        raise ValidationError(field, f"工号“{staff_no}”不存在或已停用")
    return person


def acting(session: Session, actor: Actor, t: Ticket, case: PetitionCase | None, what: str, day: date) -> None:
    """The window's clerks (and a B-post standing in for the window), the case's 首办责任人 and the manager act on
    a case; not a village 代办员 (tickets.rules.permit_petition)."""
    permit_petition(session, actor, t, case.first_owner_id if case is not None else None, what, day)


def require_open(t: Ticket, what: str) -> None:
    if not t.is_open:
        raise ConflictError(f"信访件 {t.number} 已办结或已撤回，不能{what}")


# ------------------------------------------------------------------------------------------ registration
def register(session: Session, actor: Actor, number: str, first_owner_no: str, *,
             now: datetime | None = None) -> PetitionCase:
    """Open the 信访 case on a registered 信访 ticket, naming its 首办责任人 (the first staff member who owns it)."""
    now = today_of(now)
    t = tickets.get(session, number, lock=True)
    item = session.get_one(Item, t.item_id)
    if not is_petition_item(item):
        raise ValidationError("信访事项", f"办件 {t.number} 的事项“{item.name}”不是信访事项")
    acting(session, actor, t, None, "登记信访事项", now.date())
    if session.scalars(select(PetitionCase.id).where(PetitionCase.ticket_uid == t.uid)).first() is not None:
        raise ConflictError(f"办件 {t.number} 已登记为信访件")
    require_open(t, "登记信访事项")
    owner = _staff(session, first_owner_no, "首办责任人")
    start = t.received_at.date()
    due, provisional = derive_date(session, start, ACCEPT_RULE)
    ev = ledger.append(session, actor, "petition.registered", {
        "first_owner_uid": owner.uid, "registered_on": start, "rule": ACCEPT_RULE.to_json(),
        "accept_due_on": due, "accept_provisional": provisional,
        "reason": f"信访事项登记，首办责任人{owner.name}，{ACCEPT_RULE.text()}内告知是否受理（{due}）",
    }, ticket_uid=t.uid, at=now)
    return session.scalars(select(PetitionCase).where(PetitionCase.event_id == ev.event_id)).one()


def register_new(session: Session, actor: Actor, form: intake.IntakeForm, first_owner_no: str, *,
                 agents: tuple[AgentForm, ...] = (), now: datetime | None = None) -> PetitionCase:
    """The counter's one action: the 信访 ticket, its case and its agents, in the caller's unit of work."""
    refuse_village_on_petition(actor, "登记信访事项")  # before the ticket is numbered: nothing half-done to roll back
    result = intake.register(session, actor, form, now=now)
    case = register(session, actor, result.number, first_owner_no, now=now)
    for agent in agents:
        add_agent(session, actor, result.number, agent, now=now)
    return case


@ledger.projector("petition.registered")
def _project_registered(session: Session, ev: Event, p: dict[str, Any]) -> None:
    rule = DateRule.from_json(p["rule"]) or ACCEPT_RULE
    session.add(PetitionCase(
        event_id=ev.event_id, ticket_uid=ev.ticket_uid, registered_on=date.fromisoformat(p["registered_on"]),
        first_owner_id=identity.staff_id(session, p["first_owner_uid"]), accept_days=rule.limit,
        accept_unit=rule.unit, accept_due_on=date.fromisoformat(p["accept_due_on"]),
        accept_provisional=bool(p["accept_provisional"]), accept_state="pending", accept_note=""))
    session.flush()


def decide_acceptance(session: Session, actor: Actor, number: str, accepted: bool, note: str, *,
                      now: datetime | None = None) -> None:
    """受理告知: tell the petitioner whether the case is accepted (不予受理 closes the ticket as 不通过)."""
    now = today_of(now)
    t, case = case_of(session, number)
    acting(session, actor, t, case, "告知是否受理", now.date())
    if case.accept_state != "pending":
        raise ConflictError(f"信访件 {t.number} 已告知“{ACCEPT_LABELS[case.accept_state]}”")
    require_open(t, "告知是否受理")
    why = free_text(note, "告知内容" if accepted else "不予受理理由", max_len=1000, multiline=True,
                    min_len=1 if accepted else 2)
    late = now.date() > case.accept_due_on
    ledger.append(session, actor, "petition.accept_decided", {
        "accepted": accepted, "note": why, "told_on": now.date(), "late": late,
        "reason": ("受理告知：予以受理" if accepted else f"受理告知：不予受理（{why}）")
                  + (f"，已超过告知期限 {case.accept_due_on}" if late else ""),
    }, ticket_uid=t.uid, at=now)
    if not accepted:
        workflow.close(session, actor, t.number, "rejected", f"信访事项不予受理：{why}", now=now)


@ledger.projector("petition.accept_decided")
def _project_decided(session: Session, ev: Event, p: dict[str, Any]) -> None:
    case = session.scalars(select(PetitionCase).where(PetitionCase.ticket_uid == ev.ticket_uid)).one()
    case.accept_state = "accepted" if p["accepted"] else "not_accepted"
    case.accept_told_on, case.accept_note = date.fromisoformat(p["told_on"]), p["note"]


# ---------------------------------------------------------------------------------------------- agents
def check_agent(form: AgentForm) -> dict[str, Any]:
    """A 信访代理人's fields, validated: a name, a phone; a lawyer needs the 17-digit 执业证号 and the firm."""
    out: dict[str, Any] = {
        "name": parse_person_name(form.name, "代理人姓名"),
        "phone": parse_phone(form.phone, "代理人电话"),
        "relation": free_text(form.relation, "与信访人关系", max_len=40, required=False),
        "is_lawyer": bool(form.is_lawyer), "license_no": "", "firm": "",
    }
    if form.is_lawyer:
        license_no = (form.license_no or "").strip()
        if not LICENSE.fullmatch(license_no):
            raise ValidationError("律师执业证号", "应为 17 位数字")
        out["license_no"] = license_no
        out["firm"] = free_text(form.firm, "律师事务所", max_len=80, min_len=2)
    elif (form.license_no or "").strip() or (form.firm or "").strip():
        raise ValidationError("律师执业证号", "非律师代理人不填执业证号和律师事务所")
    return out


def add_agent(session: Session, actor: Actor, number: str, form: AgentForm, *, now: datetime | None = None) -> None:
    now = today_of(now)
    t, case = case_of(session, number)
    acting(session, actor, t, case, "登记信访代理人", now.date())
    require_open(t, "登记信访代理人")
    fields = check_agent(form)
    have = list(session.scalars(select(PetitionAgent).where(PetitionAgent.ticket_uid == t.uid)))
    if len(have) >= MAX_AGENTS:
        raise ConflictError(f"每件信访事项的代理人不超过 {MAX_AGENTS} 人（已有：{'、'.join(a.name for a in have)}）")
    if any(a.name == fields["name"] and a.phone == fields["phone"] for a in have):
        raise ConflictError(f"代理人{fields['name']}已登记")
    ledger.append(session, actor, "petition.agent_added", {
        **fields, "seq": len(have) + 1,
        "reason": f"登记信访代理人（{'律师' if fields['is_lawyer'] else fields['relation'] or '非律师'}）",
    }, ticket_uid=t.uid, at=now)


@ledger.projector("petition.agent_added")
def _project_agent(session: Session, ev: Event, p: dict[str, Any]) -> None:
    session.add(PetitionAgent(event_id=ev.event_id, ticket_uid=ev.ticket_uid, seq=p["seq"], name=p["name"],
                              phone=p["phone"], relation=p["relation"], is_lawyer=p["is_lawyer"],
                              license_no=p["license_no"], firm=p["firm"]))
    session.flush()


# -------------------------------------------------------------------------------------------- 四定一包
def fix_four(session: Session, actor: Actor, number: str, form: FourFixed, *, now: datetime | None = None) -> None:
    """四定一包: the manager fixes the leader, the staff, the date and the measures, and the leader takes the case
    to its end (a second fixing replaces the first; the history keeps both)."""
    now = today_of(now)
    t, _case = case_of(session, number)
    if not actor.is_supervisor:
        raise PermissionDenied("四定一包须由中心主任（或包案领导）确定")
    require_open(t, "确定四定一包")
    leader = _staff(session, form.leader_no, "包案领导")
    if not form.staff_nos:
        raise ValidationError("责任人员", "至少确定一名责任人员")
    people = [_staff(session, no, "责任人员") for no in form.staff_nos]
    if len({p.uid for p in people}) != len(people):
        raise ValidationError("责任人员", "同一人不能重复列入")
    if form.by_date < now.date():
        raise ValidationError("化解时间", "不能早于今天")
    if t.due_date is not None and form.by_date > t.due_date:
        raise ValidationError("化解时间", f"不能晚于办结期限 {t.due_date}（如需更多时间，请按规定延期）")
    ledger.append(session, actor, "petition.four_fixed", {
        "leader_uid": leader.uid, "staff_uids": [p.uid for p in people], "by_date": form.by_date,
        "measures": free_text(form.measures, "化解措施", max_len=2000, multiline=True, min_len=2),
        "pledge": free_text(form.pledge, "包结案", max_len=500, multiline=True, min_len=2),
        "fixed_on": now.date(),
        "reason": f"四定一包：包案领导{leader.name}，责任人{'、'.join(p.name for p in people)}，{form.by_date}前化解",
    }, ticket_uid=t.uid, at=now)


@ledger.projector("petition.four_fixed")
def _project_four(session: Session, ev: Event, p: dict[str, Any]) -> None:
    case = session.scalars(select(PetitionCase).where(PetitionCase.ticket_uid == ev.ticket_uid)).one()
    # Staff by their stable uids (a row id inside JSON would differ between nodes and a rebuild).
    case.four_fixed = {"leader_uid": p["leader_uid"], "staff_uids": list(p["staff_uids"]),
                       "by_date": p["by_date"], "measures": p["measures"], "pledge": p["pledge"],
                       "fixed_on": p["fixed_on"], "fixed_by": ev.actor_name}


# -------------------------------------------------------------------------------------------- feedback
def give_feedback(session: Session, actor: Actor, number: str, channel: str, content: str, *,
                  now: datetime | None = None) -> None:
    """Progress told to the petitioner while the case is open (each time dated)."""
    now = today_of(now)
    t, case = case_of(session, number)
    acting(session, actor, t, case, "登记进展反馈", now.date())
    require_open(t, "登记进展反馈")
    if channel not in FEEDBACK_CHANNELS:
        raise ValidationError("反馈方式", f"应为{'、'.join(FEEDBACK_CHANNELS)}之一")
    ledger.append(session, actor, "petition.feedback_given", {
        "told_on": now.date(), "channel": channel,
        "content": free_text(content, "反馈内容", max_len=2000, multiline=True, min_len=2),
        "reason": f"向信访人反馈办理进展（{channel}）",
    }, ticket_uid=t.uid, at=now)


@ledger.projector("petition.feedback_given")
def _project_feedback(session: Session, ev: Event, p: dict[str, Any]) -> None:
    session.add(PetitionFeedback(event_id=ev.event_id, ticket_uid=ev.ticket_uid,
                                 told_on=date.fromisoformat(p["told_on"]), channel=p["channel"],
                                 content=p["content"], told_by=ev.actor_name))
    session.flush()


def count_open(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(PetitionCase).join(
        Ticket, Ticket.uid == PetitionCase.ticket_uid).where(Ticket.is_open)) or 0)
