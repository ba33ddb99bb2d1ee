"""Refunds: the unused part of each lot back to the payment it came from, newest lot first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from .lots import fifo_order

if TYPE_CHECKING:
    from .lots import Lot


@dataclass(frozen=True)
class RefundPart:
    """What one lot gives back, to its own PaymentIntent."""

    lot_id: str
    payment_intent: str
    minutes: int
    amount_cents: int
    status: str = "requested"  # requested → succeeded | pending | failed
    stripe_refund_id: str = ""
    failure: str = ""


class NothingToRefund(Exception):
    pass


Scope = Literal["all", "settled"]


def refundable(lot: Lot, scope: Scope) -> bool:
    """Whether a lot has something to give back; "settled" is only settled deposits' remainders."""
    if lot.remaining_minutes <= 0 or lot.refundable_cents <= 0:
        return False
    return scope == "all" or lot.closed_at is not None


def plan_refund(
    lots: Sequence[Lot], minutes: int | None = None, scope: Scope = "all"
) -> tuple[list[RefundPart], list[Lot]]:
    """Take `minutes` (all that is left when None) from the newest lots first; the parts and the lots after.

    A lot gives back at most what its charge can still refund: what was paid, less what was used and
    already refunded.
    """
    candidates = [lot for lot in reversed(fifo_order(lots)) if refundable(lot, scope)]
    available = sum(lot.remaining_minutes for lot in candidates)
    wanted = available if minutes is None else minutes
    if wanted <= 0 or available == 0:
        raise NothingToRefund("there is nothing left to refund")
    if wanted > available:
        raise NothingToRefund(f"only {available} minutes can be refunded, not {wanted}")
    parts: list[RefundPart] = []
    changed: dict[str, Lot] = {}
    left = wanted
    for lot in candidates:
        if not left:
            break
        take = min(left, lot.remaining_minutes)
        cents = lot.price_of_next(take)
        assert 0 <= cents <= lot.refundable_cents, f"lot {lot.lot_id} cannot refund {cents}"
        parts.append(RefundPart(lot.lot_id, lot.payment_intent, take, cents))
        changed[lot.lot_id] = replace(
            lot, refunded_minutes=lot.refunded_minutes + take, refunded_cents=lot.refunded_cents + cents
        )
        left -= take
    return parts, [changed.get(lot.lot_id, lot) for lot in lots]


def give_back(lot: Lot, part: RefundPart) -> Lot:
    """A refund that failed: its minutes and money return to the lot they came from."""
    return replace(
        lot, refunded_minutes=lot.refunded_minutes - part.minutes, refunded_cents=lot.refunded_cents - part.amount_cents
    )
