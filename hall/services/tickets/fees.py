"""一次性收费: the fee an item's standard sets, taken once per ticket, with the payer and the receipt number.

The catalogue gives each item its fee standard (``fee``: the wording, ``fee_cents``: the amount; 0 is 免费). A
charge is one ledger event (``ticket.fee_charged``) naming the amount in 分, who paid and the receipt number; a
second charge on the same ticket is refused, a free item cannot be charged, and no charge may exceed the
standard. (Two offline nodes may still each charge a ticket before they sync: the projection keeps both
receipts, so the double charge shows in the inspector's list instead of depending on which arrived first.) The
受理通知书 prints the charge; the monthly statistics sum it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall.errors import ConflictError, ValidationError
from hall.models import Event, Item, Ticket
from hall.models.supervision import FeeCharge
from hall.services.base.actor import Actor
from hall.services.base.validators import free_text, parse_key
from hall.services.catalog.spec import fee_text, parse_fee
from hall.services.storage import ledger
from hall.services.tickets import record as tickets
from hall.services.tickets.rules import permit

CHARGED = "ticket.fee_charged"
FREE = "免费"
NOT_CHARGEABLE = ("voided", "refused", "withdrawn")


@dataclass(frozen=True)
class FeeForm:
    """What the clerk types: the amount (元; blank: the item's standard), the payer and the receipt number."""

    payer: str
    receipt_no: str
    amount: str = ""


@dataclass(frozen=True)
class FeeView:
    amount_cents: int
    payer: str
    receipt_no: str
    charged_on: date
    charged_by: str

    @property
    def amount_text(self) -> str:
        return yuan(self.amount_cents)


def yuan(cents: int) -> str:
    """¥ with two decimals, as receipts write money: "20.00 元"."""
    return f"{cents // 100}.{cents % 100:02d} 元"


def standard_text(fee_cents: int, wording: str = "") -> str:
    """The fee standard as the counter and the papers show it: "20.00 元（工本费）" or 免费."""
    if not fee_cents:
        return FREE
    said = (wording or "").strip()
    return yuan(fee_cents) + (f"（{said}）" if said and said != fee_text(fee_cents) else "")


def check_form(form: FeeForm, standard_cents: int, item_name: str) -> tuple[int, str, str]:
    """Amount (分), payer and receipt number as stored, or the error naming the field and the rule."""
    if not standard_cents:
        raise ValidationError("收费金额", f"事项“{item_name}”免费，不能收费")
    amount = parse_fee(form.amount, "收费金额") if (form.amount or "").strip() else standard_cents
    if amount <= 0:
        raise ValidationError("收费金额", "应大于0元")
    if amount > standard_cents:
        raise ValidationError("收费金额", f"不能超过收费标准 {yuan(standard_cents)}（实为 {yuan(amount)}）")
    payer = free_text(form.payer, "缴费人", max_len=80)
    receipt_no = parse_key(form.receipt_no, "票据号码", max_len=40)
    return amount, payer, receipt_no


def charged(session: Session, ticket_uid: str) -> FeeView | None:
    """The ticket's charge (the first, should two offline nodes each have taken one: both stay listed)."""
    f = session.scalars(select(FeeCharge).where(FeeCharge.ticket_uid == ticket_uid)
                        .order_by(FeeCharge.charged_on, FeeCharge.event_id)).first()
    return None if f is None else FeeView(f.amount_cents, f.payer, f.receipt_no, f.charged_on, f.charged_by)


def charge(session: Session, actor: Actor, number: str, form: FeeForm, *, now: datetime | None = None) -> FeeView:
    """Record the fee taken for ticket ``number`` — once. The caller owns the transaction."""
    now = now or datetime.now()
    t = tickets.get(session, number, lock=True)
    # Whoever may act on the ticket today takes its fee: with the B-post standing in for an absent holder.
    permit(session, actor, t, "收费", now.date())
    return charge_ticket(session, actor, t, form, now=now)


def charge_ticket(session: Session, actor: Actor, t: Ticket, form: FeeForm, *, now: datetime) -> FeeView:
    """:func:`charge` on a ticket already loaded (and checked) by the caller, e.g. intake in its own save."""
    if t.state in NOT_CHARGEABLE:
        raise ConflictError(f"办件 {t.number} 已{'作废' if t.state == 'voided' else '不予受理或撤回'}，不能收费")
    item = session.get_one(Item, t.item_id)
    before = charged(session, t.uid)
    if before is not None:
        raise ConflictError(f"办件 {t.number} 已于 {before.charged_on} 收费 {before.amount_text}（票据号码 "
                            f"{before.receipt_no}），一次性收费，不能重复收取")
    amount, payer, receipt_no = check_form(form, item.fee_cents or 0, item.name)
    used = session.execute(select(Ticket.number).join(FeeCharge, FeeCharge.ticket_uid == Ticket.uid)
                           .where(FeeCharge.receipt_no == receipt_no)).first()
    if used is not None:
        raise ConflictError(f"票据号码“{receipt_no}”已用于办件 {used[0]}，请核对票据")
    ledger.append(session, actor, CHARGED, {
        "amount_cents": amount, "payer": payer, "receipt_no": receipt_no, "charged_on": now.date(),
        "window_code": t.window_code, "item_code": t.item_code,
        "reason": f"{yuan(amount)}，票据号码 {receipt_no}，缴费人 {payer}",
    }, ticket_uid=t.uid, at=now)
    return FeeView(amount, payer, receipt_no, now.date(), actor.name)


@ledger.projector(CHARGED)
def _project_charged(session: Session, ev: Event, p: dict[str, Any]) -> None:
    session.add(FeeCharge(event_id=ev.event_id, ticket_uid=ev.ticket_uid, amount_cents=int(p["amount_cents"]),
                          payer=p["payer"], receipt_no=p["receipt_no"],
                          charged_on=date.fromisoformat(p["charged_on"]), charged_by=ev.actor_name,
                          window_code=p["window_code"], item_code=p["item_code"]))
    session.flush()


def totals(session: Session, since: date, until: date) -> tuple[int, int]:
    """(number of charges, sum in 分) taken on the days ``since`` .. ``until`` (exclusive)."""
    n, total = session.execute(select(func.count(FeeCharge.id), func.coalesce(func.sum(FeeCharge.amount_cents), 0))
                               .where(FeeCharge.charged_on >= since, FeeCharge.charged_on < until)).one()
    return int(n or 0), int(total or 0)


def totals_by_window(session: Session, since: date, until: date) -> dict[str, tuple[int, int]]:
    """window code → (charges, sum in 分) on the days ``since`` .. ``until`` (exclusive)."""
    rows = session.execute(select(FeeCharge.window_code, func.count(FeeCharge.id), func.sum(FeeCharge.amount_cents))
                           .where(FeeCharge.charged_on >= since, FeeCharge.charged_on < until)
                           .group_by(FeeCharge.window_code))
    return {w: (int(n), int(s or 0)) for w, n, s in rows}
