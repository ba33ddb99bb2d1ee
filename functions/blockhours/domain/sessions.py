"""A remote session against a balance: billed minutes, the lots that pay for it, and any overage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .lots import InsufficientBalance, consume
from .money import bill_minutes

if TYPE_CHECKING:
    from .lots import Draw, Lot


@dataclass(frozen=True)
class BillingRules:
    increment_minutes: int
    minimum_minutes: int
    hourly_rate_cents: int


@dataclass(frozen=True)
class SessionPlan:
    """What recording a session changes: the draws from lots, the time on account, and what a card must pay beyond."""

    billed_minutes: int
    draws: tuple[Draw, ...]
    lots_after: tuple[Lot, ...]
    overage_minutes: int
    overage_cents: int
    on_account_minutes: int = 0
    on_account_cents: int = 0

    @property
    def covered_minutes(self) -> int:
        return sum(d.minutes for d in self.draws)

    @property
    def covered_cents(self) -> int:
        return sum(d.amount_cents for d in self.draws)

    @property
    def balance_minutes_after(self) -> int:
        return sum(lot.spendable_minutes for lot in self.lots_after)

    @property
    def balance_cents_after(self) -> int:
        return sum(lot.remaining_cents for lot in self.lots_after if lot.closed_at is None)


def overage_cents(minutes: int, hourly_rate_cents: int) -> int:
    """Minutes beyond the balance at the shop's hourly rate, to the nearest cent (half up)."""
    return (minutes * hourly_rate_cents + 30) // 60


def has_open_deposit(lots: Sequence[Lot]) -> bool:
    return any(lot.kind == "deposit" and lot.closed_at is None for lot in lots)


class NoCardOnFile(Exception):
    """Part of a session would go to a card, and no card has ever paid for time on this account."""

    def __init__(self, fits_minutes: int, needed_minutes: int) -> None:
        super().__init__(f"no card on file: {fits_minutes} of {needed_minutes} minutes fit the balance and limit")
        self.fits_minutes = fits_minutes
        self.needed_minutes = needed_minutes


def billed_beyond_balance(lots: Sequence[Lot], used_minutes: int, rules: BillingRules) -> int:
    """The billed minutes the lots cannot cover: what the limit, then a card, would have to take."""
    billed = bill_minutes(used_minutes, rules.increment_minutes, rules.minimum_minutes)
    return max(0, billed - sum(lot.spendable_minutes for lot in lots))


def minutes_that_fit(room_minutes: int, rules: BillingRules) -> int:
    """The longest session billed within `room_minutes` (whole increments, at least the minimum), else 0."""
    fits = max(room_minutes, 0) // rules.increment_minutes * rules.increment_minutes
    return fits if fits >= rules.minimum_minutes else 0


def plan_session(
    lots: Sequence[Lot], used_minutes: int, rules: BillingRules, charge_overage: bool, credit_minutes: int = 0
) -> SessionPlan:
    """Bill a session and pay for it: the balance first (the lots, oldest first), then what is left of a trusted
    client's limit (`credit_minutes`, billed later), then a card for the rest.

    A deposit account's card always pays the rest; a block account's only when the technician asks
    (`charge_overage`), else the session is refused (InsufficientBalance). A rest no card can pay (none has
    paid for time here) is refused too (NoCardOnFile): nothing is planned that would have to be chased.
    """
    billed = bill_minutes(used_minutes, rules.increment_minutes, rules.minimum_minutes)
    available = sum(lot.spendable_minutes for lot in lots)
    covered = min(billed, available)
    on_account = min(billed - covered, max(credit_minutes, 0))
    overage = billed - covered - on_account
    if overage and not (charge_overage or has_open_deposit(lots)):
        raise InsufficientBalance(available, billed)
    if covered:
        draws, after = consume(lots, covered)
    else:
        draws, after = [], list(lots)
    if overage and lot_to_charge(lots, [draw.lot_id for draw in draws]) is None:
        raise NoCardOnFile(minutes_that_fit(available + max(credit_minutes, 0), rules), billed)
    return SessionPlan(
        billed_minutes=billed,
        draws=tuple(draws),
        lots_after=tuple(after),
        overage_minutes=overage,
        overage_cents=overage_cents(overage, rules.hourly_rate_cents) if overage else 0,
        on_account_minutes=on_account,
        on_account_cents=overage_cents(on_account, rules.hourly_rate_cents) if on_account else 0,
    )


def lot_to_charge(lots: Sequence[Lot], drawn_lot_ids: Sequence[str]) -> Lot | None:
    """The lot whose card pays a session's overage: one the session drew from, else the client's newest.

    Anyone may buy time for a client's email, so only what the session used names a card, never simply the
    newest card. A deposit comes first (the terms charge time beyond a deposit to the card that paid it),
    then the newer lot. A session that drew from none takes the same rule over all the client's lots.
    """
    drawn = [lot for lot in lots if lot.lot_id in set(drawn_lot_ids)]
    return max(drawn or lots, key=lambda lot: (lot.kind == "deposit", lot.created_at, lot.lot_id), default=None)
