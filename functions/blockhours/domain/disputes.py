"""Card disputes: what each of Stripe's dispute events means for the disputed lot and the account.

Stripe takes the disputed amount when a dispute opens for real (inquiries, `warning_*`, take nothing) and
says so with `charge.dispute.funds_withdrawn`; `won` gives it back (`funds_reinstated`), `lost` keeps it.
Events come in any order and more than once, so a dispute is a record of facts (opened, withdrawn,
reinstated, closed with a status), each applied at most once, whatever order they arrive in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from .lots import minutes_worth
from .money import format_cents

if TYPE_CHECKING:
    from .lots import Lot

DisputeFact = Literal["opened", "withdrawn", "reinstated", "closed"]
LOST = "lost"
THAWING = frozenset({"won", "warning_closed", "prevented"})  # closed with the money kept by the shop


@dataclass(frozen=True)
class Dispute:
    """One dispute as the ledger knows it: which lot, how much, and what has happened to the money."""

    dispute_id: str
    email: str
    lot_id: str
    payment_intent: str
    amount_cents: int
    status: str  # Stripe's latest status
    opened_at: int
    version: int = 0
    counted_open: bool = False  # the account counts it among its open disputes (frozen while any is)
    closed_at: int | None = None
    withdrawn: bool = False  # the bank took the money back (funds_withdrawn, or a lost close)
    reinstated: bool = False  # ...and gave it back (funds_reinstated, or a won close)
    taken_minutes: int = 0  # what the withdrawal took off the lot
    taken_cents: int = 0
    owed_cents: int = 0  # the disputed amount beyond what the lot still held: time already used

    @property
    def lost(self) -> bool:
        return self.closed_at is not None and self.status == LOST


@dataclass(frozen=True)
class Withdrawal:
    """The money a withdrawal (or its reversal) moves: off (or back onto) the lot, and the part owed."""

    minutes: int
    cents: int
    owed_cents: int


def withdraw(lot: Lot, disputed_cents: int) -> tuple[Lot, Withdrawal]:
    """The disputed lot's remaining balance leaves it, up to the disputed amount; the rest is owed.

    When the lot holds more than was disputed (a partial dispute), the fewest of its minutes worth the
    disputed amount go with it, so the minutes left still carry at least their own price.
    """
    cents = min(max(lot.remaining_cents, 0), disputed_cents)
    minutes = lot.remaining_minutes if cents == lot.remaining_cents else minutes_worth(lot, cents)
    after = replace(
        lot,
        charged_back_minutes=lot.charged_back_minutes + minutes,
        charged_back_cents=lot.charged_back_cents + cents,
    )
    return after, Withdrawal(minutes, cents, disputed_cents - cents)


def reinstate(lot: Lot, dispute: Dispute) -> Lot:
    """Funds reinstated: what the withdrawal took returns to the lot."""
    return replace(
        lot,
        charged_back_minutes=lot.charged_back_minutes - dispute.taken_minutes,
        charged_back_cents=lot.charged_back_cents - dispute.taken_cents,
    )


def fact_of(event_type: str, status: str) -> DisputeFact:
    """Which fact a dispute event tells; an unknown or in-between event is at least an opening."""
    if event_type == "charge.dispute.closed":
        return "closed"
    if event_type == "charge.dispute.funds_withdrawn":
        return "withdrawn"
    if event_type == "charge.dispute.funds_reinstated":
        return "reinstated"
    return "opened"


def describe(dispute: Dispute, fact: DisputeFact) -> str:
    """The journal's words for a fact, readable by the client and the staff."""
    amount = format_cents(dispute.amount_cents)
    if fact == "opened":
        return f"payment disputed with the bank ({dispute.dispute_id}, {amount}): the account is on hold"
    if fact == "withdrawn":
        parts = [f"the bank returned the disputed {amount} to the cardholder ({dispute.dispute_id})"]
        if dispute.taken_cents:
            parts.append(f"{dispute.taken_minutes} minutes ({format_cents(dispute.taken_cents)}) left removed")
        if dispute.owed_cents:
            parts.append(f"{format_cents(dispute.owed_cents)} for time already used is owed")
        return "; ".join(parts)
    if fact == "reinstated":
        return f"the bank gave the disputed {amount} back ({dispute.dispute_id}): the removed time is restored"
    if dispute.status == LOST:
        return f"dispute {dispute.dispute_id} lost: the account stays on hold until the shop releases it"
    return f"dispute {dispute.dispute_id} closed ({dispute.status.replace('_', ' ')})"


@dataclass(frozen=True)
class WaitingPart:
    """A refund part set aside for the disputed lot and not yet sent: Stripe refuses it now, so it is cancelled."""

    refund_id: str
    index: int
    minutes: int
    amount_cents: int


@dataclass(frozen=True)
class AccountMove:
    """How a dispute fact moves the account's materialised fields (all deltas but `freeze`)."""

    available_minutes: int = 0
    available_cents: int = 0
    awaiting_refund_cents: int = 0
    refunding_cents: int = 0
    charged_back_cents: int = 0
    owed_cents: int = 0
    open_disputes: int = 0
    dispute_holds: int = 0
    freeze: bool = False


@dataclass(frozen=True)
class DisputeChange:
    """Everything one dispute event changes, decided here and written at once (or not at all)."""

    before: Dispute
    after: Dispute
    facts: tuple[DisputeFact, ...]
    lot_before: Lot
    lot_after: Lot
    cancelled: tuple[WaitingPart, ...] = ()
    account: AccountMove = AccountMove()
    debt_opened: int = 0  # cents: a debt of kind "dispute" opens for them
    debt_waived: bool = False  # funds reinstated: the dispute's debt, if still open, is waived
    at: int = 0  # when the event was made: money given back is due for the sweep from then


def apply_fact(
    dispute: Dispute, fact: DisputeFact, status: str, at: int, lot: Lot, waiting: tuple[WaitingPart, ...]
) -> DisputeChange | None:
    """What one event changes; None when it tells nothing new (a duplicate, or an event overtaken by others)."""
    d, lot_after, move = dispute, lot, AccountMove()
    facts: list[DisputeFact] = []
    cancelled: tuple[WaitingPart, ...] = ()
    debt_opened, debt_waived = 0, False
    if d.closed_at is None and fact != "closed" and status != d.status:
        d = replace(d, status=status)
    if fact != "closed" and d.closed_at is None and not d.counted_open:
        d, move = replace(d, counted_open=True), replace(move, open_disputes=1, freeze=True)
        facts.append("opened")
    if fact == "closed" and d.closed_at is None:
        d = replace(d, closed_at=at, status=status)
        facts.append("closed")
        if d.counted_open:
            d, move = replace(d, counted_open=False), replace(move, open_disputes=move.open_disputes - 1)
        if status not in THAWING:  # lost, or a status we do not know: the shop decides when the account thaws
            move = replace(move, dispute_holds=1, freeze=True)
        if status == "won" and not d.reinstated:
            fact = "reinstated"  # a won dispute gives back whatever was (or will be said to be) withdrawn
        elif status == LOST and not d.withdrawn:
            fact = "withdrawn"
    if fact == "withdrawn" and not d.withdrawn:
        d = replace(d, withdrawn=True)
        if not d.reinstated:
            lot_after, taken = _take(d, lot, waiting)
            d = replace(d, taken_minutes=taken.minutes, taken_cents=taken.cents, owed_cents=taken.owed_cents)
            move, cancelled = _merge(move, _taken_move(lot, waiting, taken)), waiting
            debt_opened = taken.owed_cents
        facts.append("withdrawn")
    if fact == "reinstated" and not d.reinstated:
        d = replace(d, reinstated=True)
        if d.withdrawn:
            lot_after = reinstate(lot, d)
            spendable = lot.closed_at is None
            move = _merge(
                move,
                AccountMove(
                    available_minutes=d.taken_minutes if spendable else 0,
                    available_cents=d.taken_cents if spendable else 0,
                    awaiting_refund_cents=0 if spendable else d.taken_cents,
                    charged_back_cents=-d.taken_cents,
                    owed_cents=-d.owed_cents,
                ),
            )
            debt_waived = d.owed_cents > 0
            facts.append("reinstated")
    if d == dispute:
        return None
    d = replace(d, version=dispute.version + 1)
    return DisputeChange(dispute, d, tuple(facts), lot, lot_after, cancelled, move, debt_opened, debt_waived, at)


def _take(d: Dispute, lot: Lot, waiting: tuple[WaitingPart, ...]) -> tuple[Lot, Withdrawal]:
    """Cancel the refunds waiting on the lot (their money is the bank's now), then withdraw what it holds."""
    back = replace(
        lot,
        refunded_minutes=lot.refunded_minutes - sum(p.minutes for p in waiting),
        refunded_cents=lot.refunded_cents - sum(p.amount_cents for p in waiting),
    )
    return withdraw(back, d.amount_cents)


def _taken_move(lot: Lot, waiting: tuple[WaitingPart, ...], taken: Withdrawal) -> AccountMove:
    back_minutes, back_cents = sum(p.minutes for p in waiting), sum(p.amount_cents for p in waiting)
    spendable = lot.closed_at is None
    return AccountMove(
        available_minutes=back_minutes - taken.minutes if spendable else 0,
        available_cents=back_cents - taken.cents if spendable else 0,
        awaiting_refund_cents=0 if spendable else back_cents - taken.cents,
        refunding_cents=-back_cents,
        charged_back_cents=taken.cents,
        owed_cents=taken.owed_cents,
    )


def _merge(a: AccountMove, b: AccountMove) -> AccountMove:
    return AccountMove(
        available_minutes=a.available_minutes + b.available_minutes,
        available_cents=a.available_cents + b.available_cents,
        awaiting_refund_cents=a.awaiting_refund_cents + b.awaiting_refund_cents,
        refunding_cents=a.refunding_cents + b.refunding_cents,
        charged_back_cents=a.charged_back_cents + b.charged_back_cents,
        owed_cents=a.owed_cents + b.owed_cents,
        open_disputes=a.open_disputes + b.open_disputes,
        dispute_holds=a.dispute_holds + b.dispute_holds,
        freeze=a.freeze or b.freeze,
    )
