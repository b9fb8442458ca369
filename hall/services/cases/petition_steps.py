"""The steps of a 信访 case after registration: 公开听证/答询, 分流/移交 to the competent organ, periodic 回访.

- ``petition.hearing_recorded``: a hearing (听证) or an inquiry (答询) with its participants by role —
  人大代表、政协委员、法律专家、律师、当事人及近亲属 (and the hall's own staff) — and its record and conclusion;
  printed as 听证（答询）记录.
- ``petition.transferred`` / ``petition.transfer_answered``: 移交 to the organ that has the power to handle it, with the
  hall's 移交函 reference, a deadline for the organ's answer by the one date rule, and the answer with the organ's
  own reference — tracked like a proxy department leg.
- ``petition.followups_scheduled`` / ``petition.followup_done``: after closure, 回访 on the days the rule gives
  (:data:`FOLLOW_UP_RULES` from the closure day), each then recorded (how, what was said, satisfied or not).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.errors import ConflictError, NotFound, ValidationError
from hall.models import Event, Ticket
from hall.models.petition import PetitionFollowUp, PetitionHearing, PetitionTransfer
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_supervisor
from hall.services.base.validators import free_text, parse_person_name
from hall.services.calendar.derived import DateRule
from hall.services.cases.petition import FEEDBACK_CHANNELS, acting, case_of, require_open
from hall.services.storage import ledger
from hall.services.tickets.record import by_uid, today_of
from hall.services.tickets.rules import derive_date

HEARING_FORMS = {"hearing": "公开听证", "inquiry": "答询"}
PARTICIPANT_ROLES = ("人大代表", "政协委员", "法律专家", "律师", "当事人", "当事人近亲属", "主持人", "工作人员",
                     "其他")
# Roles from outside the administration: a 公开听证 needs at least one, so it is not the office hearing itself.
OUTSIDE_ROLES = frozenset({"人大代表", "政协委员", "法律专家", "律师"})
MAX_PARTICIPANTS = 30
# 信访工作条例 §33: the organ told to handle a transferred matter answers within 15 日 whether it accepts it.
TRANSFER_RULE = DateRule(15, "day")
# 回访 after closure: a first call after 30 日 and a second after 90 日 (local practice of a 案结事了 check).
FOLLOW_UP_RULES = (DateRule(30, "day"), DateRule(90, "day"))


@dataclass(frozen=True)
class Participant:
    role: str
    name: str
    unit: str = ""


# --------------------------------------------------------------------------------------------- hearings
def record_hearing(session: Session, actor: Actor, number: str, form: str, held_on: date, place: str, host: str,
                   participants: list[Participant], record: str, conclusion: str, *,
                   now: datetime | None = None) -> PetitionHearing:
    now = today_of(now)
    t, case = case_of(session, number)
    acting(session, actor, t, case, "登记听证", now.date())
    require_open(t, "登记听证")
    if form not in HEARING_FORMS:
        raise ValidationError("听证形式", "应为公开听证或答询")
    if held_on > now.date():
        raise ValidationError("听证日期", "不能晚于今天（听证记录在听证后登记）")
    if held_on < case.registered_on:
        raise ValidationError("听证日期", f"不能早于信访登记日 {case.registered_on}")
    if not participants or len(participants) > MAX_PARTICIPANTS:
        raise ValidationError("参加人员", f"应为 1 至 {MAX_PARTICIPANTS} 人")
    people = []
    for i, p in enumerate(participants, start=1):
        if p.role not in PARTICIPANT_ROLES:
            raise ValidationError(f"参加人员第 {i} 人身份", f"应为{'、'.join(PARTICIPANT_ROLES)}之一")
        people.append({"role": p.role, "name": parse_person_name(p.name, f"参加人员第 {i} 人姓名"),
                       "unit": free_text(p.unit, f"参加人员第 {i} 人单位", max_len=80, required=False)})
    roles = {p["role"] for p in people}
    if form == "hearing" and not roles & OUTSIDE_ROLES:
        raise ValidationError("参加人员", "公开听证应邀请人大代表、政协委员、法律专家或律师至少一人参加")
    if not roles & {"当事人", "当事人近亲属"}:
        raise ValidationError("参加人员", "应有当事人或其近亲属参加")
    ev = ledger.append(session, actor, "petition.hearing_recorded", {
        "form": form, "held_on": held_on, "place": free_text(place, "听证地点", max_len=120),
        "host": parse_person_name(host, "主持人"), "participants": people,
        "record": free_text(record, "听证记录", max_len=8000, multiline=True, min_len=2),
        "conclusion": free_text(conclusion, "听证结论", max_len=2000, multiline=True, min_len=2),
        "reason": f"{HEARING_FORMS[form]}（{held_on}，{len(people)} 人参加）",
    }, ticket_uid=t.uid, at=now)
    return session.scalars(select(PetitionHearing).where(PetitionHearing.event_id == ev.event_id)).one()


@ledger.projector("petition.hearing_recorded")
def _project_hearing(session: Session, ev: Event, p: dict[str, Any]) -> None:
    session.add(PetitionHearing(event_id=ev.event_id, ticket_uid=ev.ticket_uid, form=p["form"],
                                held_on=date.fromisoformat(p["held_on"]), place=p["place"], host=p["host"],
                                participants=p["participants"], record=p["record"], conclusion=p["conclusion"]))
    session.flush()


# ------------------------------------------------------------------------------------------- 分流/移交
def transfer(session: Session, actor: Actor, number: str, organ: str, reference: str, *,
             rule: DateRule = TRANSFER_RULE, now: datetime | None = None) -> PetitionTransfer:
    """移交 the matter to the competent organ; its answer is due by the rule (derived, re-derived on calendar
    changes)."""
    now = today_of(now)
    t, case = case_of(session, number)
    acting(session, actor, t, case, "移交信访事项", now.date())
    require_open(t, "移交信访事项")
    organ = free_text(organ, "移交机关", max_len=120, min_len=2)
    pending = session.scalars(select(PetitionTransfer).where(PetitionTransfer.ticket_uid == t.uid,
                                                             PetitionTransfer.organ == organ,
                                                             PetitionTransfer.state == "sent")).first()
    if pending is not None:
        raise ConflictError(f"已于 {pending.sent_on} 移交{organ}，尚未答复")
    due, provisional = derive_date(session, now.date(), rule)
    ev = ledger.append(session, actor, "petition.transferred", {
        "organ": organ, "reference": free_text(reference, "移交函文号", max_len=60, min_len=2),
        "sent_on": now.date(), "rule": rule.to_json(), "due_on": due, "due_provisional": provisional,
        "reason": f"移交{organ}，{rule.text()}内答复（{due}{'，暂定' if provisional else ''}）",
    }, ticket_uid=t.uid, at=now)
    return session.scalars(select(PetitionTransfer).where(PetitionTransfer.event_id == ev.event_id)).one()


@ledger.projector("petition.transferred")
def _project_transferred(session: Session, ev: Event, p: dict[str, Any]) -> None:
    rule = DateRule.from_json(p["rule"]) or TRANSFER_RULE
    session.add(PetitionTransfer(event_id=ev.event_id, ticket_uid=ev.ticket_uid, organ=p["organ"],
                                 reference=p["reference"], sent_on=date.fromisoformat(p["sent_on"]),
                                 limit_days=rule.limit, limit_unit=rule.unit, due_on=date.fromisoformat(p["due_on"]),
                                 due_provisional=bool(p["due_provisional"]), state="sent", organ_ref="", answer=""))
    session.flush()


def transfer_answered(session: Session, actor: Actor, transfer_id: int, organ_ref: str, answer: str, *,
                      now: datetime | None = None) -> None:
    now = today_of(now)
    leg = session.get(PetitionTransfer, transfer_id)
    if leg is None:
        raise NotFound(f"移交记录 {transfer_id} 不存在")
    t = by_uid(session, leg.ticket_uid)
    _t, case = case_of(session, t.number)
    acting(session, actor, t, case, "登记移交答复", now.date())
    if leg.state != "sent":
        raise ConflictError(f"{leg.organ}已于 {leg.answered_on} 答复")
    late = now.date() > leg.due_on
    ledger.append(session, actor, "petition.transfer_answered", {
        "transfer": leg.event_id, "answered_on": now.date(),
        "organ_ref": free_text(organ_ref, "承办机关编号", max_len=60, required=False),
        "answer": free_text(answer, "答复内容", max_len=2000, multiline=True, min_len=2), "late": late,
        "reason": f"{leg.organ}答复" + (f"（超过答复期限 {leg.due_on}）" if late else ""),
    }, ticket_uid=t.uid, at=now)


@ledger.projector("petition.transfer_answered")
def _project_answered(session: Session, ev: Event, p: dict[str, Any]) -> None:
    leg = session.scalars(select(PetitionTransfer).where(PetitionTransfer.event_id == p["transfer"])).one()
    leg.state, leg.answered_on = "answered", date.fromisoformat(p["answered_on"])
    leg.organ_ref, leg.answer = p["organ_ref"], p["answer"]


# ----------------------------------------------------------------------------------------------- 回访
def schedule_followups(session: Session, actor: Actor, number: str, *, now: datetime | None = None
                      ) -> list[PetitionFollowUp]:
    """The 回访 of a closed case, on the days :data:`FOLLOW_UP_RULES` gives from the closure day."""
    now = today_of(now)
    t, case = case_of(session, number)
    acting(session, actor, t, case, "安排回访", now.date())
    if t.is_open or t.closed_at is None:
        raise ConflictError(f"信访件 {t.number} 尚未办结，办结后才安排回访")
    if session.scalars(select(PetitionFollowUp.id).where(PetitionFollowUp.ticket_uid == t.uid)).first() is not None:
        raise ConflictError(f"信访件 {t.number} 已安排回访")
    closed_on = t.closed_at.date()
    visits = []
    for rule in FOLLOW_UP_RULES:
        due, provisional = derive_date(session, closed_on, rule)
        visits.append({"rule": rule.to_json(), "due_on": due, "due_provisional": provisional})
    ev = ledger.append(session, actor, "petition.followups_scheduled", {
        "closed_on": closed_on, "visits": visits,
        "reason": "安排回访：" + "、".join(str(v["due_on"]) for v in visits),
    }, ticket_uid=t.uid, at=now)
    return list(session.scalars(select(PetitionFollowUp).where(PetitionFollowUp.event_id == ev.event_id)
                                .order_by(PetitionFollowUp.seq)))


def close_case(session: Session, actor: Actor, number: str, outcome: str, result: str, *,
               now: datetime | None = None) -> list[PetitionFollowUp]:
    """办结 a 信访 case and schedule its 回访 by rule, in the caller's unit of work."""
    from hall.services.cases import workflow

    workflow.close(session, actor, number, outcome, result, now=now)
    return schedule_followups(session, actor, number, now=now)


def schedule_missing_followups(session: Session, actor: Actor, *, now: datetime | None = None) -> list[str]:
    """回访 by rule for every closed 信访 case that has none yet (one closed from the ticket detail, or before this
    program scheduled them): the numbers scheduled. Idempotent: a second run schedules nothing."""
    from hall.models.petition import PetitionCase

    # A sweep over every case: the manager's (or the program's), like the other 回访 sweeps; checked before the
    # query, so the refusal does not depend on whether some case happens to be waiting.
    require_supervisor(actor, "为全部已办结信访件安排回访")

    has = select(PetitionFollowUp.ticket_uid).distinct()
    numbers = list(session.scalars(select(Ticket.number).join(PetitionCase, PetitionCase.ticket_uid == Ticket.uid)
                                   .where(~Ticket.is_open, Ticket.closed_at.is_not(None),
                                          PetitionCase.accept_state != "not_accepted",
                                          PetitionCase.ticket_uid.not_in(has))
                                   .order_by(Ticket.closed_at, Ticket.id)))
    for number in numbers:
        schedule_followups(session, actor, number, now=now)
    return numbers


@ledger.projector("petition.followups_scheduled")
def _project_scheduled(session: Session, ev: Event, p: dict[str, Any]) -> None:
    for seq, v in enumerate(p["visits"], start=1):
        rule = DateRule.from_json(v["rule"]) or FOLLOW_UP_RULES[0]
        session.add(PetitionFollowUp(event_id=ev.event_id, ticket_uid=ev.ticket_uid, seq=seq,
                                    closed_on=date.fromisoformat(p["closed_on"]), limit_days=rule.limit,
                                    limit_unit=rule.unit, due_on=date.fromisoformat(v["due_on"]),
                                    due_provisional=bool(v["due_provisional"]), state="due", channel="",
                                    outcome="", done_by=""))
    session.flush()


def record_followup(session: Session, actor: Actor, followup_id: int, channel: str, outcome: str, satisfied: bool, *,
                   now: datetime | None = None) -> None:
    now = today_of(now)
    v = session.get(PetitionFollowUp, followup_id)
    if v is None:
        raise NotFound(f"回访记录 {followup_id} 不存在")
    t: Ticket = by_uid(session, v.ticket_uid)
    _t, case = case_of(session, t.number)
    acting(session, actor, t, case, "登记回访", now.date())
    if v.state != "due":
        raise ConflictError(f"第 {v.seq} 次回访已于 {v.done_on} 登记")
    if channel not in FEEDBACK_CHANNELS:
        raise ValidationError("回访方式", f"应为{'、'.join(FEEDBACK_CHANNELS)}之一")
    ledger.append(session, actor, "petition.followup_done", {
        "followup": {"event": v.event_id, "seq": v.seq}, "done_on": now.date(), "channel": channel,
        "outcome": free_text(outcome, "回访情况", max_len=2000, multiline=True, min_len=2),
        "satisfied": bool(satisfied),
        "reason": f"第 {v.seq} 次回访（{channel}）：{'满意' if satisfied else '不满意'}",
    }, ticket_uid=t.uid, at=now)


@ledger.projector("petition.followup_done")
def _project_followup_done(session: Session, ev: Event, p: dict[str, Any]) -> None:
    v = session.scalars(select(PetitionFollowUp).where(PetitionFollowUp.event_id == p["followup"]["event"],
                                                      PetitionFollowUp.seq == p["followup"]["seq"])).one()
    v.state, v.done_on = "done", date.fromisoformat(p["done_on"])
    v.channel, v.outcome, v.satisfied, v.done_by = p["channel"], p["outcome"], p["satisfied"], ev.actor_name
