"""What a client owes and how the shop asks for it: a notice, at most two reminders, then collections."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Literal

from .ledger import DAY_SECONDS
from .lots import fifo_order, minutes_worth

if TYPE_CHECKING:
    from .lots import Lot

DebtKind = Literal["overage", "bill", "dispute"]  # a lost dispute's debt is chased by staff, not the schedule
Step = Literal["remind", "prepay", "collections"]


@dataclass(frozen=True)
class DunningSchedule:
    reminder_days: tuple[int, ...]  # after the notice, at most two
    collections_after_days: int
    grace_days: int  # a bill: days before its client goes back to prepaying


@dataclass(frozen=True)
class Debt:
    """Money a client owes: a session's overage their card refused, a bill for time on account, or the part of a
    lost dispute beyond what its lot still held."""

    debt_id: str
    email: str
    kind: DebtKind
    amount_cents: int
    minutes: int
    description: str
    opened_at: int  # the day of the notice: every later step counts from it
    pay_url: str
    status: Literal["open", "paid", "waived"] = "open"
    notices: tuple[int, ...] = ()  # when each was sent: the notice, then the reminders
    collections_at: int | None = None
    prepay_at: int | None = None  # a bill: when its client was moved back to prepaying
    already_prepaying: bool = False  # ...or found already prepaying (untrusted by hand): recorded, not announced
    paid_at: int | None = None
    settled_by: str = ""  # the PaymentIntent that paid it, or "balance" (set off), "waived", "bank" (reinstated)
    no_card: bool = False  # an overage no card was tried for (none saved could pay it): only the link pays it
    arose_at: int | None = None  # the session's day, when its notice went out later (Stripe was out of reach)

    @property
    def arose(self) -> int:
        """The day the client knows the debt by: its session's, else its notice's."""
        return self.arose_at if self.arose_at is not None else self.opened_at

    def __post_init__(self) -> None:
        if self.amount_cents <= 0:
            raise ValueError(f"debt {self.debt_id}: the amount owed must be positive")

    @property
    def in_collections(self) -> bool:
        return self.status == "open" and self.collections_at is not None


def planned_steps(debt: Debt, schedule: DunningSchedule) -> list[tuple[int, Step]]:
    """Every step the schedule holds for a debt, with its date, in order."""
    start = debt.opened_at
    steps: list[tuple[int, Step]] = [(start + days * DAY_SECONDS, "remind") for days in schedule.reminder_days]
    if debt.kind == "bill":
        steps.append((start + schedule.grace_days * DAY_SECONDS, "prepay"))
    steps.append((start + schedule.collections_after_days * DAY_SECONDS, "collections"))
    return sorted(steps, key=lambda step: (step[0], step[1] != "remind"))


def last_letter_at(debt: Debt) -> int:
    """When the client was last written to about the debt: the notice, or the latest reminder."""
    return debt.notices[-1] if debt.notices else debt.opened_at


def pending_steps(debt: Debt, schedule: DunningSchedule) -> list[tuple[int, Step]]:
    """The steps still ahead of an open debt, each at the time it will be taken, in order; none once it is paid.

    A reminder whose day came before the last letter is behind it: a run that missed days sends only the latest
    reminder due, never one after another. Collections waits for its day and for a full day after the last
    letter, so no letter ever names a day already past, and the client has a day to act on the last one.
    """
    if debt.status != "open":
        return []
    last = last_letter_at(debt)
    pending: list[tuple[int, Step]] = []
    for at, step in planned_steps(debt, schedule):
        if step == "remind" and at <= last:
            continue
        if step == "prepay" and debt.prepay_at is not None:
            continue
        if step == "collections":
            if debt.collections_at is not None:
                continue
            at = max(at, last + DAY_SECONDS)
        pending.append((at, step))
    return sorted(pending, key=lambda step: (step[0], step[1] != "remind"))


def next_step_at(debt: Debt, schedule: DunningSchedule) -> int | None:
    pending = pending_steps(debt, schedule)
    return pending[0][0] if pending else None


def due_step(debt: Debt, schedule: DunningSchedule, now: int) -> Step | None:
    """The step a daily run at `now` takes next, if any: a bill's move back to prepaying first (it changes what the
    reminder says comes next), then a reminder, else collections; a step taken is never due again."""
    due = {step for at, step in pending_steps(debt, schedule) if at <= now}
    order: tuple[Step, ...] = ("prepay", "remind", "collections")
    return next((step for step in order if step in due), None)


def next_bill_at(after: int, every: Literal["weekly", "monthly"], zone: tzinfo = UTC) -> int:
    """The next billing day strictly after `after`: the 1st of the next month, or the next Monday, at midnight
    in the shop's `zone` (the shop's calendar, not Greenwich's, says which day a bill covers)."""
    day = datetime.fromtimestamp(after, zone).replace(hour=0, minute=0, second=0, microsecond=0)
    if every == "weekly":
        nxt = day + timedelta(days=7 - day.weekday())
    else:
        nxt = (
            day.replace(year=day.year + 1, month=1, day=1)
            if day.month == 12
            else day.replace(month=day.month + 1, day=1)
        )
    return int(nxt.timestamp())


def bill_id(period_end: int, zone: tzinfo = UTC) -> str:
    """One bill per client per billing day: its id is the day, so a retried billing run makes no second bill."""
    return "bill-" + datetime.fromtimestamp(period_end, zone).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class SetOff:
    """A debt paid from the client's own balance before any of it goes back to the card."""

    debt: Debt
    lots_after: list[Lot]
    draws: tuple[tuple[str, int, int], ...]  # lot id, minutes, cents
    spendable_minutes: int  # taken from open lots (the rest came from settled deposits awaiting their refund)
    spendable_cents: int

    @property
    def awaiting_cents(self) -> int:
        return self.debt.amount_cents - self.spendable_cents


def set_off(debt: Debt, lots: list[Lot]) -> SetOff | None:
    """Pay the whole debt from what the lots hold, oldest lot first; None when they hold less than it.

    Exact in cents: the lot gives the debt's cents and the fewest of its minutes worth at least that, so the
    minutes left never carry more money than the lot still holds.
    """
    by_id = {lot.lot_id: lot for lot in lots}
    need, draws = debt.amount_cents, []
    for lot in fifo_order(lots):
        if need == 0:
            break
        if lot.remaining_cents <= 0:
            continue
        cents = min(need, lot.remaining_cents)
        minutes = lot.remaining_minutes if cents == lot.remaining_cents else minutes_worth(lot, cents)
        by_id[lot.lot_id] = replace(
            lot, used_minutes=lot.used_minutes + minutes, consumed_cents=lot.consumed_cents + cents
        )
        draws.append((lot.lot_id, minutes, cents))
        need -= cents
    if need:
        return None
    spendable = [d for d in draws if by_id[d[0]].closed_at is None]
    return SetOff(
        debt,
        [by_id[lot.lot_id] for lot in lots],
        tuple(draws),
        sum(d[1] for d in spendable),
        sum(d[2] for d in spendable),
    )
