"""Ratings (好差评, 国办发〔2019〕51号) and the rectification (整改) of every 差评.

The clerk must never rate on the citizen's behalf. A rating is accepted only
- through a :class:`CitizenChannel` (the second screen or tablet the citizen touches) — a staff ``Actor`` is
  refused outright, and the ledger records the rating as made by the citizen channel, not by a staff login;
- with a one-time token issued for that ticket and stage by :func:`request_rating`. Only the token's SHA-256 is
  stored; the token itself goes to the citizen-side screen (the counter program hands it to the pad window,
  or shows it as a QR code for the citizen's phone) and is used up by the rating.

承诺件 are rated at acceptance and at closure; other tickets at closure. A 差评 (不满意 / 非常不满意) opens a
rectification with a deadline of ``rectify_workdays`` working days (setting) and a follow-up call; the manager
verifies it (upheld → an accountability record), the window records what was done, the follow-up call is made,
and the citizen rates again (stage ``second``), which closes the rectification. A ticket not rated within
``unrated_days`` is handled by the local rule ``unrated_counts_as`` (a level, or "" to leave it unrated) —
recorded as its own event by :func:`sweep_unrated`, never mixed up with a citizen's rating.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session

from hall.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from hall.models import Event, Ticket
from hall.models.workflow import RATING_LEVELS, RATING_STAGES, Rating, RatingRequest, Rectification
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_supervisor
from hall.services.base.validators import free_text
from hall.services.calendar.derived import DateRule
from hall.services.registers import rating_channel
from hall.services.registers.rating_channel import ScreenKey
from hall.services.storage import identity, ledger, settings
from hall.services.tickets import record as tickets
from hall.services.tickets.rules import CLOSED, derive_date, permit, staff_name, today_of

POOR = frozenset({1, 2})
LEVEL_BY_LABEL = {v: k for k, v in RATING_LEVELS.items()}
RATABLE_AT_CLOSURE = frozenset({*CLOSED, "delivered", "refused"})
RECT_STATES = {"open": "待核实", "verified": "已核实，整改中", "rectified": "已整改，待回访再评价", "closed": "已办结"}


class CitizenChannel:
    """The citizen-facing rating device: never a staff login. It cannot be made without the rating screen's own
    key (rating_channel.ScreenKey), which opens the sealed invites ``request_rating`` hands out."""

    __slots__ = ("_key", "device", "node_id")

    def __init__(self, node_id: str, device: str = "评价器", *, key: ScreenKey) -> None:
        if not isinstance(key, ScreenKey):
            raise PermissionDenied("评价只能由申请人在评价器上完成：没有评价器密钥，不能建立评价通道")
        self.node_id, self.device, self._key = node_id, device, key

    def actor(self) -> Actor:
        return Actor(staff_id=None, name=f"申请人（{self.device}）", role="citizen", node_id=self.node_id)

    def open(self, sealed: str) -> str | None:
        return self._key.open(sealed)

    def __repr__(self) -> str:
        return f"CitizenChannel({self.node_id[:8]}, {self.device})"


@dataclass(frozen=True)
class RatingInvite:
    """What the citizen-side screen needs: the token (sealed to the enrolled rating screen, so only that screen
    can open it) and what the citizen is rating."""

    token: str
    ticket_number: str
    item_name: str
    stage: str
    stage_label: str
    window_code: str
    staff_name: str


@dataclass(frozen=True)
class RectificationView:
    id: int
    ticket_number: str
    item_name: str
    window_code: str
    staff_name: str
    level: int
    comment: str
    opened_on: date
    due_on: date
    state: str
    state_label: str
    upheld: bool | None
    verification: str
    action_taken: str
    second_level: int | None
    overdue: bool


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_rating(session: Session, actor: Actor, number: str, stage: str, *, rectification_id: int | None = None,
                   now: datetime | None = None) -> RatingInvite:
    """The clerk asks the citizen to rate: a one-time token for the citizen-side screen."""
    now = today_of(now)
    t = tickets.get(session, number, lock=True)  # two counters asking at once: one request, the other is told
    permit(session, actor, t, "请申请人评价", now.date())
    if stage not in RATING_STAGES:
        raise ValidationError("评价环节", f"应为{'、'.join(RATING_STAGES.values())}之一")
    rect_key = ""
    if stage == "acceptance":
        if t.kind != "promised" or t.accepted_on is None:
            raise ConflictError("受理时评价只适用于已受理的承诺件")
    elif stage == "closure":
        if t.state not in RATABLE_AT_CLOSURE:
            raise ConflictError("办件尚未办结，不能进行办结评价")
    else:
        rect = _rect(session, rectification_id)
        if rect.ticket_uid != t.uid or rect.state != "rectified":
            raise ConflictError("整改完成并回访后，才能请申请人再次评价")
        rect_key = rect.event_id
    if _rating_exists(session, t.uid, stage, rectification_id or 0):
        raise ConflictError(f"该办件的{RATING_STAGES[stage]}已完成")
    screen = rating_channel.enrolled(session, actor.node_id)
    if screen is None:
        raise ConflictError("本机评价器尚未登记：请先打开评价器（评价屏），或请系统管理员登记")
    token = secrets.token_urlsafe(24)
    ledger.append(session, actor, "rating.requested", {"token_hash": _hash(token), "stage": stage,
                                                       "rectification": rect_key}, ticket_uid=t.uid, at=now)
    # Sealed to this node's enrolled rating screen: the clerk's side gets ciphertext only that screen opens.
    return RatingInvite(rating_channel.seal(screen.public_key, token), t.number, t.item_name, stage,
                        RATING_STAGES[stage], t.window_code, staff_name(session, t.owner_id))


@ledger.projector("rating.requested")
def _project_requested(session: Session, ev: Event, p: dict[str, Any]) -> None:
    rect = _rect_by_event(session, p["rectification"]) if p["rectification"] else None
    session.add(RatingRequest(token_hash=p["token_hash"], ticket_uid=ev.ticket_uid, stage=p["stage"],
                              rectification_id=rect.id if rect else None, issued_at=ev.occurred_at,
                              issued_by=ev.actor_name))
    session.flush()


def rate(session: Session, channel: CitizenChannel, token: str, level: int, comment: str = "", *,
         now: datetime | None = None) -> Rating:
    """The citizen's own rating, from the citizen-side screen."""
    if not isinstance(channel, CitizenChannel):
        raise PermissionDenied("工作人员不能代申请人评价：评价只能由申请人在评价器上完成")
    now = today_of(now)
    # The invite opens only with the enrolled screen's key: a channel around a key of one's own opens nothing.
    token = channel.open(token) if isinstance(token, str) and len(token) <= 400 else None
    # A token is what request_rating issued (URL-safe ASCII); anything else cannot be one, and must not reach
    # the hash (a lone surrogate has no UTF-8) or the message.
    valid = isinstance(token, str) and 0 < len(token) <= 200 and token.isascii() and token.isprintable()
    # Locked: a token used twice at once (a double tap) waits for the first use to commit and then sees it used.
    req = session.scalars(tickets.for_change(select(RatingRequest).where(RatingRequest.token_hash == _hash(token)))
                          ).first() if valid else None
    if req is None:
        raise PermissionDenied("评价码无效：请工作人员重新发起评价")
    if req.used_at is not None:
        raise ConflictError("该评价码已使用")
    if level not in RATING_LEVELS:
        raise ValidationError("评价等级", "应为非常满意、满意、基本满意、不满意、非常不满意之一")
    body = free_text(comment, "评价意见", max_len=500, required=False)
    if level in POOR and len(body) < 2 and req.stage != "second":
        raise ValidationError("评价意见", "选择不满意时请写明原因，以便整改")
    t = session.scalars(select(Ticket).where(Ticket.uid == req.ticket_uid)).one()
    rect = session.get(Rectification, req.rectification_id) if req.rectification_id else None
    actor = channel.actor()
    ev = ledger.append(session, actor, "rating.given", {
        "token_hash": req.token_hash, "stage": req.stage, "level": level, "comment": body, "source": "citizen",
        "rectification": rect.event_id if rect else "", "window_code": t.window_code,
        "staff_uid": identity.uid_of(session, t.owner_id),
        "reason": f"{RATING_STAGES[req.stage]}：{RATING_LEVELS[level]}" + (f"（{body}）" if body else ""),
    }, ticket_uid=t.uid, at=now)
    rating = session.scalars(select(Rating).where(Rating.event_id == ev.event_id)).one()
    if level in POOR and req.stage != "second":
        _open_rectification(session, Actor.system(channel.node_id), t, rating, now)
    return rating


@ledger.projector("rating.given")
@ledger.projector("rating.deemed")
def _project_rating(session: Session, ev: Event, p: dict[str, Any]) -> None:
    rect = _rect_by_event(session, p["rectification"]) if p.get("rectification") else None
    session.add(Rating(event_id=ev.event_id, ticket_uid=ev.ticket_uid, stage=p["stage"],
                       rectification_id=rect.id if rect else 0, level=p["level"], source=p["source"],
                       comment=p.get("comment", ""), rated_at=ev.occurred_at, window_code=p["window_code"],
                       staff_id=identity.staff_ref(session, p, "staff_uid", "staff_id")))
    if p.get("token_hash"):
        req = session.scalars(select(RatingRequest).where(RatingRequest.token_hash == p["token_hash"])).one()
        req.used_at = ev.occurred_at
    if rect is not None and p["stage"] == "second":
        rect.second_level, rect.state, rect.closed_on = p["level"], "closed", ev.occurred_at.date()
    session.flush()


def _rating_exists(session: Session, uid: str, stage: str, rect_id: int) -> bool:
    return session.scalars(select(Rating.id).where(Rating.ticket_uid == uid, Rating.stage == stage,
                                                   Rating.rectification_id == rect_id)).first() is not None


# --------------------------------------------------------------------------------------- rectification
def _open_rectification(session: Session, actor: Actor, t: Ticket, rating: Rating, now: datetime) -> None:
    from hall.services.registers import followups

    rule = DateRule(int(settings.get(session, "rectify_workdays")), "workday")
    due, provisional = derive_date(session, now.date(), rule)
    ev = ledger.append(session, actor, "rectification.opened", {
        "rating": rating.event_id, "due_on": due, "due_provisional": provisional, "rule": rule.to_json(),
        "staff_uid": identity.uid_of(session, rating.staff_id),
        "window_code": rating.window_code,
        "reason": f"差评（{RATING_LEVELS[rating.level or 1]}）须于 {due} 前核实整改",
    }, ticket_uid=t.uid, at=now)
    rect = _rect_by_event(session, ev.event_id)
    followups.schedule(session, actor, f"rectification:{ev.event_id}", "poor_rating", due, ticket_uid=t.uid,
                       window_code=t.window_code, rectification=ev.event_id, now=now)
    del rect


@ledger.projector("rectification.opened")
def _project_rect_opened(session: Session, ev: Event, p: dict[str, Any]) -> None:
    rating = session.scalars(select(Rating).where(Rating.event_id == p["rating"])).one()
    session.add(Rectification(event_id=ev.event_id, ticket_uid=ev.ticket_uid, rating_id=rating.id,
                              staff_id=identity.staff_ref(session, p, "staff_uid", "staff_id"),
                              window_code=p["window_code"], opened_on=ev.occurred_at.date(),
                              due_on=date.fromisoformat(p["due_on"]), due_provisional=p["due_provisional"],
                              state="open"))
    session.flush()


def _rect(session: Session, rect_id: int | None) -> Rectification:
    rect = session.get(Rectification, rect_id) if rect_id is not None else None
    if rect is None:
        raise NotFound(f"整改记录 {rect_id} 不存在")
    return rect


def _rect_by_event(session: Session, event_id: str) -> Rectification:
    return session.scalars(select(Rectification).where(Rectification.event_id == event_id)).one()


def verify(session: Session, actor: Actor, rectification_id: int, upheld: bool, finding: str, *,
           now: datetime | None = None) -> None:
    """核实: the manager finds whether the 差评 is justified; an upheld one opens an accountability record."""
    from hall.services.registers import accountability

    require_supervisor(actor, "核实差评")
    now = today_of(now)
    rect = _rect(session, rectification_id)
    if rect.state != "open":
        raise ConflictError(f"整改记录当前为“{RECT_STATES[rect.state]}”，不能再核实")
    body = free_text(finding, "核实情况", max_len=2000, multiline=True, min_len=2)
    ledger.append(session, actor, "rectification.verified", {
        "rectification": rect.event_id, "upheld": upheld, "finding": body,
        "reason": ("差评属实：" if upheld else "差评经核实不属实：") + body[:200],
    }, ticket_uid=rect.ticket_uid, at=now)
    if upheld:
        t = session.scalars(select(Ticket).where(Ticket.uid == rect.ticket_uid)).one()
        accountability.open_record(session, actor, f"rating:{rect.event_id}", "poor_rating", now.date(),
                                   ticket_uid=rect.ticket_uid, staff_id=rect.staff_id, window_code=rect.window_code,
                                   detail=f"办件 {t.number}（{t.item_name}）差评属实：{body[:500]}", now=now)


@ledger.projector("rectification.verified")
def _project_verified(session: Session, ev: Event, p: dict[str, Any]) -> None:
    rect = _rect_by_event(session, p["rectification"])
    rect.state, rect.upheld, rect.verification = "verified", p["upheld"], p["finding"]


def record_rectified(session: Session, actor: Actor, rectification_id: int, action_taken: str, *,
                     now: datetime | None = None) -> None:
    """What was done about the 差评 (整改措施), by the window concerned or the manager."""
    now = today_of(now)
    rect = _rect(session, rectification_id)
    if not (actor.is_supervisor or (actor.role == "clerk" and actor.window_code == rect.window_code)):
        raise PermissionDenied(f"只有{rect.window_code}窗口或中心主任可以登记整改情况")
    if rect.state != "verified":
        raise ConflictError(f"整改记录当前为“{RECT_STATES[rect.state]}”：须先由中心主任核实")
    action = free_text(action_taken, "整改措施", max_len=2000, multiline=True, min_len=2)
    ledger.append(session, actor, "rectification.done", {
        "rectification": rect.event_id, "action": action,
        "on": now.date(), "late": now.date() > rect.due_on, "reason": action[:200],
    }, ticket_uid=rect.ticket_uid, at=now)


@ledger.projector("rectification.done")
def _project_done(session: Session, ev: Event, p: dict[str, Any]) -> None:
    rect = _rect_by_event(session, p["rectification"])
    rect.state, rect.action_taken, rect.rectified_on = "rectified", p["action"], date.fromisoformat(p["on"])


def rectifications(session: Session, today: date, *, open_only: bool = True, limit: int | None = None,
                   offset: int = 0) -> list[RectificationView]:
    """差评 awaiting rectification (the dashboard panel), oldest deadline first; ``limit``/``offset`` read a page."""
    stmt = select(Rectification, Ticket, Rating).join(Ticket, Ticket.uid == Rectification.ticket_uid) \
        .join(Rating, Rating.id == Rectification.rating_id)
    if open_only:
        stmt = stmt.where(Rectification.state != "closed")
    stmt = stmt.order_by(Rectification.due_on, Rectification.id)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    out = []
    for r, t, rating in session.execute(stmt).all():
        out.append(RectificationView(
            r.id, t.number, t.item_name, r.window_code, staff_name(session, r.staff_id), rating.level or 0,
            rating.comment, r.opened_on, r.due_on, r.state, RECT_STATES[r.state], r.upheld, r.verification,
            r.action_taken, r.second_level, r.state in ("open", "verified") and today > r.due_on))
    return out


def count_rectifications(session: Session, *, open_only: bool = True) -> int:
    """How many :func:`rectifications` would list (those whose ticket and rating exist, as the list joins them)."""
    stmt = select(func.count(Rectification.id)).join(Ticket, Ticket.uid == Rectification.ticket_uid) \
        .join(Rating, Rating.id == Rectification.rating_id)
    if open_only:
        stmt = stmt.where(Rectification.state != "closed")
    return int(session.scalar(stmt) or 0)


def ratings_of(session: Session, t: Ticket) -> list[Rating]:
    return list(session.scalars(select(Rating).where(Rating.ticket_uid == t.uid).order_by(Rating.id)))


# -------------------------------------------------------------------------------------------- unrated
@dataclass(frozen=True)
class UnratedRule:
    """The local rule for unrated tickets as it stands on one day: who is looked at, and what they count as."""

    today: date
    days: int
    level: int | None
    rule: str
    cutoff: date  # finished (or accepted) before this day and still unrated → the rule applies
    floor: date  # … but not before this day (``lookback_days`` before the cut-off)

    @property
    def window(self) -> tuple[date, date]:
        return self.floor, self.cutoff


def unrated_rule(session: Session, today: date, *, lookback_days: int = 120) -> UnratedRule:
    days = int(settings.get(session, "unrated_days"))
    counts_as = str(settings.get(session, "unrated_counts_as") or "")
    level = LEVEL_BY_LABEL.get(counts_as)
    if counts_as and level is None:
        raise ValidationError("逾期未评价视为", f"“{counts_as}”不是评价等级")
    cutoff = today - timedelta(days=days)
    rule = f"{days}日内未评价，" + (f"按本地规定视为{counts_as}" if level else "按本地规定不计评价")
    return UnratedRule(today, days, level, rule, cutoff, cutoff - timedelta(days=lookback_days))


def _unrated(stage: str):  # type: ignore[no-untyped-def]
    return ~select(Rating.id).where(and_(Rating.ticket_uid == Ticket.uid, Rating.stage == stage,
                                         Rating.rectification_id == 0)).exists()


def _day(d: date) -> datetime:
    return datetime.combine(d, datetime.min.time())


def _unrated_where(stage: str, lo: date, hi: date):  # type: ignore[no-untyped-def]
    if stage == "closure":
        return (Ticket.closed_at < _day(hi), Ticket.closed_at >= _day(lo), Ticket.state.in_(RATABLE_AT_CLOSURE),
                _unrated("closure"))
    return (Ticket.kind == "promised", Ticket.accepted_on < hi, Ticket.accepted_on >= lo, Ticket.state != "voided",
            _unrated("acceptance"))


def unrated_candidates(session: Session, rule: UnratedRule, ranges: Sequence[tuple[date | None, date | None]] = (),
                       touched: Iterable[str] | None = None) -> list[int]:
    """Ids of the tickets :func:`settle_unrated` may have to settle under ``rule``.

    ``touched=None``: the whole window. Otherwise the parts of the window in ``ranges`` (days that entered it
    since the last run) and the ``touched`` tickets (changed since the last run) anywhere in it.
    """
    floor, cutoff = rule.window
    ids: set[int] = set()
    spans = [(floor, cutoff)] if touched is None else [
        (max(floor, lo) if lo else floor, min(cutoff, hi) if hi else cutoff) for lo, hi in ranges]
    for stage in ("acceptance", "closure"):
        for lo, hi in spans:
            if lo < hi:
                ids.update(session.scalars(select(Ticket.id).where(*_unrated_where(stage, lo, hi))))
        uids = sorted(set(touched or ()))
        for i in range(0, len(uids), 500):  # bounded IN lists on any database
            ids.update(session.scalars(select(Ticket.id).where(*_unrated_where(stage, floor, cutoff),
                                                               Ticket.uid.in_(uids[i:i + 500]))))
    return sorted(ids)


@functools.lru_cache(maxsize=16)
def _still_unrated(stage: str, lo: date, hi: date):  # type: ignore[no-untyped-def]
    """The re-check of :func:`settle_unrated`, built once per rule: the daily run calls it for one or two tickets
    at a time, hundreds of times, and building the statement cost as much as running it. Columns, not
    entities: only what the event names is read."""
    return (select(Ticket.id, Ticket.uid, Ticket.number, Ticket.window_code, Ticket.owner_id)
            .where(*_unrated_where(stage, lo, hi), Ticket.id.in_(bindparam("ids", expanding=True)))
            .order_by(Ticket.id))


def settle_unrated(session: Session, actor: Actor, rule: UnratedRule, ids: Sequence[int], *,
                   now: datetime | None = None) -> list[str]:
    """Apply ``rule`` to the tickets of ``ids`` still unrated (re-checked here, in the write transaction)."""
    require_supervisor(actor, "处理逾期未评价")
    if actor.role not in ("system", "manager", "admin"):
        raise PermissionDenied("逾期未评价只能由系统或中心主任登记")
    now = now or _day(rule.today)
    out = []
    for i in range(0, len(ids), 500):
        chunk = list(ids[i:i + 500])
        for stage in ("acceptance", "closure"):
            for t in session.execute(_still_unrated(stage, *rule.window), {"ids": chunk}).all():
                ledger.append(session, actor, "rating.deemed", {
                    "stage": stage, "level": rule.level, "source": "deemed" if rule.level else "lapsed",
                    "rule": rule.rule, "window_code": t.window_code,
                    "staff_uid": identity.uid_of(session, t.owner_id),
                    "reason": f"{RATING_STAGES[stage]}：{rule.rule}",
                }, ticket_uid=t.uid, at=now)
                out.append(t.number)
    return out


def sweep_unrated(session: Session, actor: Actor, today: date, *, lookback_days: int = 120,
                  now: datetime | None = None) -> list[str]:
    """Apply the local rule to tickets nobody rated within ``unrated_days`` (run daily; idempotent).

    Only tickets finished (or, for 承诺件, accepted) within ``lookback_days`` before the cut-off are looked at,
    so the daily run stays small on a ten-year ledger. The whole window in the caller's transaction;
    ``hall.services.cases.daily`` runs it incrementally, in short transactions.
    """
    require_supervisor(actor, "处理逾期未评价")
    if actor.role not in ("system", "manager", "admin"):
        raise PermissionDenied("逾期未评价只能由系统或中心主任登记")
    rule = unrated_rule(session, today, lookback_days=lookback_days)
    return settle_unrated(session, actor, rule, unrated_candidates(session, rule), now=now)
