"""The reference model: what the ledger should hold, written from DESIGN.md, the README's playbook and catalog.yaml.

Each rule here is written from that text, never copied from a service: where the text is silent, the model
says what a shop owner would expect and the docstring says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from blockhours import catalog
from blockhours.domain.ledger import DAY_SECONDS
from blockhours.domain.money import bill_minutes

CATALOG = catalog.load()
STALE = CATALOG.refunds.stale_after_days * DAY_SECONDS
WARNING = CATALOG.refunds.warning_days * DAY_SECONDS
MINIMUM = CATALOG.refunds.minimum_refund_cents
RATE = CATALOG.shop.hourly_rate_cents
CURRENCY = CATALOG.shop.currency
INCREMENT, SESSION_MINIMUM = CATALOG.billing.increment_minutes, CATALOG.billing.minimum_minutes
QUOTE_HOURS = CATALOG.quotes.expires_after_hours
BILL_EVERY, GRACE_DAYS = CATALOG.on_account.bill_every, CATALOG.on_account.grace_days
REMINDER_DAYS, COLLECTIONS_DAYS = tuple(CATALOG.dunning.reminder_days), CATALOG.dunning.collections_after_days
PRODUCTS = {p.sku: (p.kind, CATALOG.minutes_for(p), p.price_cents) for p in CATALOG.products}


def at_rate(minutes: int) -> int:
    """Minutes at the shop's hourly rate, to the nearest cent (sessions are billed in whole increments)."""
    return (minutes * RATE + 30) // 60


@dataclass
class MLot:
    lot_id: str
    payment_intent: str
    amount: int
    minutes: int
    kind: str
    created_at: int
    used_m: int = 0
    consumed_c: int = 0
    refunded_m: int = 0
    refunded_c: int = 0
    closed: bool = False
    back_m: int = 0  # taken back by the cardholder's bank (a lost dispute)
    back_c: int = 0

    @property
    def left_m(self) -> int:
        return self.minutes - self.used_m - self.refunded_m - self.back_m

    @property
    def left_c(self) -> int:
        return self.amount - self.consumed_c - self.refunded_c - self.back_c

    def worth(self, minutes: int) -> int:
        """DESIGN.md: m minutes after u cost amount*(u+m)//minutes - amount*u//minutes; the last ones, what is left."""
        if minutes == self.left_m:
            return self.left_c
        u = self.used_m + self.refunded_m + self.back_m
        return self.amount * (u + minutes) // self.minutes - self.amount * u // self.minutes


@dataclass
class MPart:
    lot_id: str
    minutes: int
    cents: int
    status: str = "requested"
    stripe_id: str = ""


@dataclass
class MDebt:
    """What a client owes (README, "a late payer"): an overage their card refused, or a bill for time on account.

    The notice goes out the day the debt arises; reminders on the catalog's reminder days; a bill unpaid after the
    grace days moves its client back to prepaying; on the collections day no new sessions run until it is paid.
    A daily run takes the steps whose day has come, dated the day it ran, each once. Issue 15 ("dunning that
    catches up tells the truth"): a run that missed days sends one letter, the latest reminder whose day has come
    (those it missed are passed over, never sent late, one after another); collections waits a full day after the
    last letter (so a run that sends a reminder never also sends collections); moving a client back to prepaying
    who already prepays (untrusted by hand) is recorded, not announced. Paying stops it, once.
    """

    kind: str  # overage | bill
    amount: int
    minutes: int
    opened_at: int
    notices: list[int] = field(default_factory=list)
    collections_at: int | None = None
    prepay_at: int | None = None
    already_prepaying: bool = False
    paid: bool = False
    paid_by: str = ""  # link | balance (set off before a refund) | bank (a dispute's debt, funds reinstated)

    def _last_letter(self) -> int:
        return self.notices[-1] if self.notices else self.opened_at

    def _reminder_days(self) -> list[int]:
        """The reminders' days not yet behind a letter."""
        last = self._last_letter()
        return [day for day in (self.opened_at + d * DAY_SECONDS for d in REMINDER_DAYS) if day > last]

    def _prepay_day(self) -> int | None:
        return self.opened_at + GRACE_DAYS * DAY_SECONDS if self.kind == "bill" and self.prepay_at is None else None

    def _collections_day(self) -> int | None:
        if self.collections_at is not None:
            return None
        return max(self.opened_at + COLLECTIONS_DAYS * DAY_SECONDS, self._last_letter() + DAY_SECONDS)

    def moments(self) -> list[int]:
        """The days the schedule acts on next (nothing for a paid debt, nor a lost dispute's: staff chase it)."""
        if self.paid or self.kind == "dispute":
            return []
        days = [*self._reminder_days(), self._prepay_day(), self._collections_day()]
        return [day for day in days if day is not None]

    def due_steps(self, at: int) -> list[str]:
        """The steps a run at `at` takes, in order: back to prepaying, then one letter (a reminder, else
        collections)."""
        if self.paid or self.kind == "dispute":
            return []
        prepay = self._prepay_day()
        due = ["prepay"] if prepay is not None and prepay <= at else []
        collections = self._collections_day()
        if any(day <= at for day in self._reminder_days()):
            due.append("remind")
        elif collections is not None and collections <= at:
            due.append("collections")
        return due

    @property
    def in_collections(self) -> bool:
        return not self.paid and self.collections_at is not None


@dataclass
class MQuote:
    """A quote (README, the playbook): the estimate rounded up to the increment, at the hourly rate, payable once
    before its page expires; paid, it is a deposit-style lot; expired, it credits nothing."""

    email: str
    minutes: int
    amount: int
    expires_at: int
    checkout_id: str
    status: str = "open"  # open | paid | expired, as the ledger has heard it


@dataclass
class MDispute:
    """DESIGN, flow 7, and the money-holes issue: a dispute holds the account while open; the bank takes the money
    when it opens for real (funds withdrawn) and gives it back when the shop wins (funds reinstated); lost, the
    lot's remaining balance leaves it (up to the disputed amount), the rest is owed, and the account stays on hold
    until staff release it. Facts arrive in any order; each counts once."""

    lot_id: str
    amount: int
    closed: bool = False
    status: str = ""
    withdrawn: bool = False
    reinstated: bool = False
    taken_m: int = 0
    taken_c: int = 0
    owed: int = 0


@dataclass
class MAccount:
    email: str
    lots: dict[str, MLot] = field(default_factory=dict)
    refunds: dict[str, list[MPart]] = field(default_factory=dict)
    outside: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # Stripe refund id → lot, minutes, cents
    outside_failed: set[str] = field(default_factory=set)
    sessions: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # id → minutes, overage cents, status
    disputes: dict[str, MDispute] = field(default_factory=dict)
    holds: int = 0  # lost disputes (or closes of a kind we do not know) the staff have not released
    due: int | None = None
    warned_for: int | None = None
    trust_limit: int = 0  # minutes a trusted client may go below zero
    on_account_m: int = 0  # used on account and not paid yet, billed or not
    on_account_c: int = 0
    billed_m: int = 0
    billed_c: int = 0
    next_bill: int | None = None
    debts: dict[tuple[str, str], MDebt] = field(default_factory=dict)  # (overage, session id) | (bill, opened at)
    trusted_ever: bool = False  # trusting a client opens their account, lots or none

    @property
    def opened(self) -> bool:
        return bool(self.lots) or self.trusted_ever

    def fifo(self) -> list[MLot]:
        return sorted(self.lots.values(), key=lambda lot: (lot.created_at, lot.lot_id))

    @property
    def available(self) -> tuple[int, int]:
        open_lots = [lot for lot in self.lots.values() if not lot.closed]
        return sum(lot.left_m for lot in open_lots), sum(lot.left_c for lot in open_lots)

    @property
    def awaiting(self) -> int:
        return sum(lot.left_c for lot in self.lots.values() if lot.closed)

    @property
    def paid(self) -> int:
        return sum(lot.amount for lot in self.lots.values())

    def parts(self, *states: str) -> int:
        return sum(p.cents for parts in self.refunds.values() for p in parts if p.status in states)

    @property
    def refunded(self) -> int:
        kept_outside = [cents for sid, (_, _, cents) in self.outside.items() if sid not in self.outside_failed]
        return self.parts("succeeded") + sum(kept_outside)

    @property
    def owed(self) -> int:
        overage = sum(cents for _, cents, status in self.sessions.values() if status in ("pending", "owed"))
        return overage + sum(d.amount for d in self.debts.values() if d.kind == "dispute" and not d.paid)

    @property
    def frozen(self) -> bool:
        return any(not d.closed for d in self.disputes.values()) or self.holds > 0

    @property
    def charged_back(self) -> int:
        return sum(lot.back_c for lot in self.lots.values())

    @property
    def credit_left(self) -> int:
        return self.trust_limit - self.on_account_m

    @property
    def collections(self) -> int:
        """Debts in collections: while there is one, no new session runs."""
        return sum(1 for debt in self.debts.values() if debt.in_collections)

    def lot_of(self, payment_intent: str) -> MLot | None:
        return next((lot for lot in self.lots.values() if lot.payment_intent == payment_intent), None)

    def open_debts(self) -> dict[tuple[str, str], MDebt]:
        return {key: debt for key, debt in self.debts.items() if not debt.paid}


class Refused(Exception):
    """A refusal the model predicts; `also` are codes as right when two reasons hold (which one wins is no rule)."""

    def __init__(self, code: str, also: tuple[str, ...] = ()) -> None:
        super().__init__(code)
        self.code = code
        self.codes = (code, *also)


# --- sessions ------------------------------------------------------------------------------------------


def plan_session(account: MAccount, minutes: int, charge_overage: bool) -> dict[str, object] | Refused:
    """DESIGN, flow 3, the README's playbook and issue 15 ("a trusted client's limit is used before the card").

    Billed in increments with a minimum, and paid in this order: the balance (the lots, oldest first), then what
    is left of a trusted client's limit (on account, never past it), then a card for the rest. The card pays only
    on a deposit account or when the technician asks; else the session is refused. A card is one that paid a lot
    (every purchase is paid by card at checkout): a client who never bought time has none, and a session that
    would need one is refused before anything is recorded. No session runs on a frozen account, nor while a debt
    is in collections.
    """
    if not account.opened:
        return Refused("unknown_customer")
    billed = bill_minutes(minutes, INCREMENT, SESSION_MINIMUM)
    covered = min(billed, account.available[0])
    on_account = min(billed - covered, max(account.credit_left, 0)) if account.trust_limit > 0 else 0
    overage = billed - covered - on_account
    open_deposit = any(lot.kind == "deposit" and not lot.closed for lot in account.lots.values())
    reasons = (("account_frozen", account.frozen), ("in_collections", account.collections > 0))
    holding = tuple(code for code, holds in reasons if holds)
    if overage and not (charge_overage or open_deposit):
        short = ("over_limit", "insufficient_balance") if account.trust_limit > 0 else ("insufficient_balance",)
        return Refused(short[0], short[1:] + holding)
    if overage and not account.lots:
        return Refused("no_card", holding)
    if holding:
        return Refused(holding[0], holding[1:])
    draws, left = [], covered
    for lot in account.fifo():
        take = min(left, 0 if lot.closed else lot.left_m)
        if take:
            draws.append((lot.lot_id, take, lot.worth(take)))
            left -= take
    return {
        "draws": draws,
        "covered_m": covered,
        "covered_c": sum(d[2] for d in draws),
        "overage_m": overage,
        "overage_c": at_rate(overage) if overage else 0,
        "on_account_m": on_account,
        "on_account_c": at_rate(on_account) if on_account else 0,
    }


# --- on account: trust, the billing day, dunning -----------------------------------------------------------


def next_billing_day(after: int) -> int:
    """catalog.yaml's bill_every: the 1st of the next month (monthly) or the next Monday (weekly), 00:00 UTC."""
    day = datetime.fromtimestamp(after, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if BILL_EVERY == "weekly":
        return int(day.timestamp()) + (7 - day.weekday()) * DAY_SECONDS
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp())


def set_trust(account: MAccount, limit: int, at: int) -> None:
    """`blockhours trust --limit`, or `untrust` (limit 0: back to prepaying; refused when already prepaying).

    A client who may pay afterwards, or still has time on account to be billed, has a billing day: the one already
    set, else the next one. A client with nothing to bill and no trust has none.
    """
    if limit == 0 and account.trust_limit == 0:
        raise Refused("not_trusted")
    account.trust_limit, account.trusted_ever = limit, True
    if limit > 0 or account.on_account_c > account.billed_c:
        account.next_bill = account.next_bill or next_billing_day(at)
    else:
        account.next_bill = None


def bill(account: MAccount, at: int) -> None:
    """The daily run on (or after) a client's billing day: what was used on account and is not on a bill yet goes
    on one bill, its notice sent that day; the next billing day follows only while the client is trusted."""
    if account.next_bill is None or account.next_bill > at:
        return
    minutes, cents = account.on_account_m - account.billed_m, account.on_account_c - account.billed_c
    if cents > 0:
        account.debts[("bill", str(at))] = MDebt("bill", cents, minutes, at, [at])
        account.billed_m += minutes
        account.billed_c += cents
    account.next_bill = next_billing_day(at) if account.trust_limit > 0 else None


def chase(account: MAccount, at: int) -> None:
    """The daily run's dunning: each open debt takes the steps whose day has come."""
    for debt in account.debts.values():
        for step in debt.due_steps(at):
            if step == "remind":
                debt.notices.append(at)
            elif step == "prepay":
                debt.prepay_at, debt.already_prepaying = at, account.trust_limit == 0
                account.trust_limit = 0
            else:
                debt.collections_at = at


def pay_debt(account: MAccount, key: tuple[str, str], by: str = "link") -> bool:
    """A pay link paid: the debt is cleared once; a bill's time on account is paid, an overage is no longer owed."""
    debt = account.debts[key]
    if debt.paid:
        return False
    debt.paid, debt.paid_by = True, by
    if debt.kind == "dispute":
        return True
    if debt.kind == "bill":
        account.on_account_m -= debt.minutes
        account.on_account_c -= debt.amount
        account.billed_m -= debt.minutes
        account.billed_c -= debt.amount
    else:
        minutes, cents, _ = account.sessions[key[1]]
        account.sessions[key[1]] = (minutes, cents, "paid")
    return True


# --- refunds ---------------------------------------------------------------------------------------------


def plan_refund(account: MAccount, minutes: int | None, scope: str, reason: str) -> list[MPart]:
    """Newest lot first, each lot to its own payment; the errors in the order the service checks them.

    Refunding everything takes, after the minutes, the cents a lot holds with no minute left to carry them (a
    failed dashboard refund's): they cannot be spent, so no minimum keeps them.
    """
    if not account.lots:
        raise Refused("unknown_customer")
    newest_first = list(reversed(account.fifo()))
    candidates = [lot for lot in newest_first if lot.left_m > 0 and lot.left_c > 0 and (scope == "all" or lot.closed)]
    stranded = [
        lot
        for lot in newest_first
        if minutes is None and lot.left_m == 0 and lot.left_c > 0 and (scope == "all" or lot.closed)
    ]
    available = sum(lot.left_m for lot in candidates)
    wanted = available if minutes is None else minutes
    if (wanted <= 0 or available == 0 or wanted > available) and not stranded:
        raise Refused("nothing_to_refund")
    parts, left = [], wanted if available else 0
    for lot in candidates:
        if not left:
            break
        take = min(left, lot.left_m)
        parts.append(MPart(lot.lot_id, take, lot.worth(take)))
        left -= take
    parts += [MPart(lot.lot_id, 0, lot.left_c) for lot in stranded]
    if reason != "staff" and sum(p.cents for p in parts) < MINIMUM and not stranded:
        raise Refused("below_minimum")
    if account.frozen:
        raise Refused("account_frozen")
    return parts


def apply_refund(account: MAccount, refund_id: str, parts: list[MPart]) -> None:
    for part in parts:
        lot = account.lots[part.lot_id]
        lot.refunded_m += part.minutes
        lot.refunded_c += part.cents
    account.refunds[refund_id] = parts
    if not any(lot.left_m > 0 or lot.left_c > 0 for lot in account.lots.values()):
        account.due = None


def give_back(account: MAccount, part: MPart, at: int) -> None:
    lot = account.lots[part.lot_id]
    lot.refunded_m -= part.minutes
    lot.refunded_c -= part.cents
    part.status = "failed"
    if account.due is None:
        account.due = at


def outside_minutes(lot: MLot, cents: int) -> int:
    """The fewest of the lot's minutes worth at least the refunded cents; all of them only if it takes all the cents."""
    fewest = next((m for m in range(lot.left_m + 1) if lot.worth(m) >= cents), lot.left_m)
    return fewest - 1 if fewest == lot.left_m > 0 and cents < lot.left_c else fewest


# --- disputes ------------------------------------------------------------------------------------------------

THAWING = ("won", "warning_closed", "prevented")


def dispute_fact(account: MAccount, lot: MLot, dispute_id: str, event: str, status: str, amount: int, at: int) -> None:
    """One dispute event (created, updated, funds_withdrawn, funds_reinstated, closed), by the rules in MDispute."""
    d = account.disputes.setdefault(dispute_id, MDispute(lot.lot_id, amount))
    if event == "charge.dispute.closed":
        if d.closed:
            return
        d.closed, d.status = True, status
        if status not in THAWING:
            account.holds += 1
        if status == "lost":
            withdraw(account, lot, dispute_id, d, at)
        elif status == "won":
            reinstate(account, lot, dispute_id, d, at)
    elif event == "charge.dispute.funds_withdrawn":
        withdraw(account, lot, dispute_id, d, at)
    elif event == "charge.dispute.funds_reinstated":
        reinstate(account, lot, dispute_id, d, at)


def withdraw(account: MAccount, lot: MLot, dispute_id: str, d: MDispute, at: int) -> None:
    """The bank took the disputed amount: refunds still waiting on the lot can never be sent (cancelled, their money
    back on it), then the lot's remaining balance leaves it up to the amount; what was used is owed."""
    if d.withdrawn:
        return
    d.withdrawn = True
    if d.reinstated:
        return
    for parts in account.refunds.values():
        for part in parts:
            if part.lot_id == lot.lot_id and part.status == "requested":
                part.status = "failed"
                lot.refunded_m -= part.minutes
                lot.refunded_c -= part.cents
    cents = min(lot.left_c, d.amount)
    minutes = lot.left_m if cents == lot.left_c else outside_minutes(lot, cents)
    lot.back_m += minutes
    lot.back_c += cents
    d.taken_m, d.taken_c, d.owed = minutes, cents, d.amount - cents
    if d.owed:
        account.debts[("dispute", dispute_id)] = MDebt("dispute", d.owed, 0, at)


def reinstate(account: MAccount, lot: MLot, dispute_id: str, d: MDispute, at: int) -> None:
    """The bank gave the money back (funds reinstated, or the shop won): what the withdrawal took returns."""
    if d.reinstated:
        return
    d.reinstated = True
    if not d.withdrawn:
        return
    lot.back_m -= d.taken_m
    lot.back_c -= d.taken_c
    debt = account.debts.get(("dispute", dispute_id))
    if debt is not None and not debt.paid:
        debt.paid, debt.paid_by = True, "bank"  # waived: the bank paid it back
    if account.due is None and ((not lot.closed and d.taken_m > 0) or (lot.closed and d.taken_c > 0)):
        account.due = at


# --- what is owed comes first --------------------------------------------------------------------------------


def set_off(account: MAccount) -> None:
    """Before any refund (DESIGN's money rules): each open debt, oldest first, is paid whole from what the lots hold,
    oldest lot first, in exact cents (the fewest minutes worth them); when the balance cannot pay the next one whole,
    nothing goes back to the card. Nothing is paid on an account on hold (its refund is refused anyway)."""
    if account.frozen:
        return
    owed = sorted(account.open_debts().items(), key=lambda item: (item[1].opened_at, f"{item[0][0]}-{item[0][1]}"))
    for key, debt in owed:
        if sum(max(lot.left_c, 0) for lot in account.lots.values()) < debt.amount:
            raise Refused("debt_exceeds_balance")
        need = debt.amount
        for lot in account.fifo():
            if need == 0:
                break
            if lot.left_c <= 0:
                continue
            cents = min(need, lot.left_c)
            minutes = lot.left_m if cents == lot.left_c else outside_minutes(lot, cents)
            lot.used_m += minutes
            lot.consumed_c += cents
            need -= cents
        pay_debt(account, key, "balance")


def tool_minutes(duration_seconds: int, free_under_minutes: int) -> int:
    """Issue 16: a tool's session is charged for the minutes it lasted, rounded up (61 s is 2 minutes of someone's
    time); one shorter than the source's free threshold is free (0). Billing then goes as for any session."""
    minutes = (duration_seconds + 59) // 60
    return 0 if minutes < free_under_minutes else minutes
