"""Lots of prepaid time and how sessions consume them: FIFO, to the exact cent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from .money import cents_for_minutes


class InsufficientBalance(Exception):
    def __init__(self, available_minutes: int, needed_minutes: int) -> None:
        super().__init__(f"{available_minutes} minutes available, {needed_minutes} needed")
        self.available_minutes = available_minutes
        self.needed_minutes = needed_minutes


@dataclass(frozen=True)
class Lot:
    """One purchase: what was paid, for how many minutes, and how much of it is gone."""

    lot_id: str
    amount_cents: int
    minutes: int
    payment_intent: str
    terms_version: str
    created_at: int
    expires_at: int | None = None
    used_minutes: int = 0
    consumed_cents: int = 0
    refunded_minutes: int = 0
    refunded_cents: int = 0
    kind: Literal["block", "deposit"] = "block"
    closed_at: int | None = None  # a settled deposit: what is left waits for its refund, not for sessions
    charged_back_minutes: int = 0  # taken back by the cardholder's bank (a dispute's funds withdrawn)
    charged_back_cents: int = 0
    # Orders lots of the same second `created_at`: when it was first written, in ns (the store sets it; 0 before).
    seq: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.amount_cents < 0 or self.minutes <= 0:
            raise ValueError(f"lot {self.lot_id}: amount and minutes must be positive")
        if not 0 <= self.position <= self.minutes:
            raise ValueError(f"lot {self.lot_id}: used, refunded and charged-back minutes exceed its {self.minutes}")

    @property
    def position(self) -> int:
        """Minutes already taken, by sessions, refunds or the bank; the next minute is priced from here."""
        return self.used_minutes + self.refunded_minutes + self.charged_back_minutes

    @property
    def remaining_minutes(self) -> int:
        return self.minutes - self.position

    def price_of_next(self, minutes: int) -> int:
        """What the next `minutes` of this lot are worth; the last of them take exactly what is left."""
        if minutes == self.remaining_minutes:
            return self.remaining_cents
        return cents_for_minutes(self.amount_cents, self.minutes, self.position, minutes)

    @property
    def spendable_minutes(self) -> int:
        return 0 if self.closed_at is not None else self.remaining_minutes

    @property
    def remaining_cents(self) -> int:
        return self.amount_cents - self.consumed_cents - self.refunded_cents - self.charged_back_cents

    @property
    def refundable_cents(self) -> int:
        """What may still go back to this lot's payment: never more than was paid and not yet used."""
        return max(self.remaining_cents, 0)


def minutes_worth(lot: Lot, cents: int) -> int:
    """The fewest of the lot's remaining minutes worth at least `cents`.

    All of them only when `cents` takes all the lot holds: cents left on a lot keep at least a minute to be
    spent or refunded with (its last minute is worth exactly what is left), so none are stranded.
    """
    for minutes in range(lot.remaining_minutes):
        if lot.price_of_next(minutes) >= cents:
            return minutes
    if lot.remaining_minutes == 0 or cents >= lot.remaining_cents:
        return lot.remaining_minutes
    return lot.remaining_minutes - 1


@dataclass(frozen=True)
class Draw:
    """The part of one session taken from one lot."""

    lot_id: str
    minutes: int
    amount_cents: int


@dataclass(frozen=True)
class Balance:
    minutes: int
    amount_cents: int


def balance(lots: Sequence[Lot]) -> Balance:
    return Balance(
        minutes=sum(lot.remaining_minutes for lot in lots),
        amount_cents=sum(lot.remaining_cents for lot in lots),
    )


def fifo_order(lots: Sequence[Lot]) -> list[Lot]:
    return sorted(lots, key=lambda lot: (lot.created_at, lot.seq, lot.lot_id))


def consume(lots: Sequence[Lot], minutes: int) -> tuple[list[Draw], list[Lot]]:
    """Take `minutes` from the oldest lots first; return the draws and the lots after.

    Raises InsufficientBalance, changing nothing, when the lots hold fewer minutes.
    """
    if minutes <= 0:
        raise ValueError(f"minutes to consume must be positive, not {minutes}")
    ordered = fifo_order(lots)
    available = sum(lot.spendable_minutes for lot in ordered)
    if available < minutes:
        raise InsufficientBalance(available, minutes)
    draws: list[Draw] = []
    after: list[Lot] = []
    left = minutes
    for lot in ordered:
        take = min(left, lot.spendable_minutes)
        if take:
            cost = lot.price_of_next(take)
            draws.append(Draw(lot.lot_id, take, cost))
            lot = replace(lot, used_minutes=lot.used_minutes + take, consumed_cents=lot.consumed_cents + cost)
            left -= take
        after.append(lot)
    return draws, after
