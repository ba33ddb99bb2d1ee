"""The ledger's records: accounts, purchases and the append-only journal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .lots import Lot

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .debts import Debt
    from .refunds import RefundPart

DAY_SECONDS = 86_400

EntryKind = Literal[
    "purchase",
    "redemption",
    "overage",  # minutes beyond the balance, owed until the saved card or a payment link pays them
    "payment",  # an overage paid
    "settled",  # a deposit closed: what is left waits for its refund
    "refund-requested",
    "refunded",
    "refund-failed",
    "dispute",  # a dispute opened or closed: the account's hold, no money moves
    "chargeback",  # the bank returned a disputed payment to the cardholder: what its lot held leaves it
    "reinstated",  # ...and gave it back: the lot holds it again
    "on-account",  # minutes beyond the balance of a trusted client, billed later
    "bill",  # time on account billed, with its pay link
    "notice",  # a notice or reminder about money owed (the paper trail)
    "collections",  # the last reminder went unanswered: no new sessions until paid
    "trust",  # the client may (or may no longer) pay afterwards
    "quote",  # an estimate sent to the client to pay before the work
    "set-off",  # a debt paid from the client's balance before a refund
    "refund-warning",  # the client was told what is left goes back to the card on a date (id: refund-warning-<date>)
]
OverageStatus = Literal["none", "pending", "charged", "owed", "paid"]


@dataclass(frozen=True)
class Payment:
    """A paid Checkout Session, in the shop's words: who paid what, for which product."""

    checkout_id: str
    payment_intent: str
    stripe_customer_id: str | None
    email: str
    sku: str
    kind: Literal["block", "deposit"]
    minutes: int
    amount_cents: int
    currency: str
    terms_version: str
    paid_at: int
    quote_id: str = ""  # paid for a quote: the quote is marked paid in the same write
    order_id: str = ""  # the shop's record of the checkout it opened: the credit must match it
    note: str = ""  # a quote's work in the technician's words, for the client's statement

    def __post_init__(self) -> None:
        if self.minutes <= 0 or self.amount_cents <= 0:
            raise ValueError(f"payment {self.checkout_id}: minutes and amount must be positive")


@dataclass(frozen=True)
class LotShare:
    lot_id: str
    minutes: int
    amount_cents: int


@dataclass(frozen=True)
class JournalEntry:
    entry_id: str
    kind: EntryKind
    at: int
    actor: str
    minutes: int
    amount_cents: int
    note: str = ""
    lots: tuple[LotShare, ...] = ()
    # Orders entries of the same second `at`: when it was first written, in ns (the store sets it; 0 before).
    seq: int = field(default=0, compare=False)
    source: str = ""  # a session reported by a remote-support tool: which (catalog.yaml's integrations)


@dataclass(frozen=True)
class Account:
    email: str
    stripe_customer_id: str | None
    available_minutes: int
    available_cents: int
    paid_cents: int
    status: Literal["active", "frozen"]
    version: int
    owed_cents: int
    created_at: int
    last_activity_at: int
    refund_due_at: int | None
    refunding_cents: int = 0  # set aside for refunds that Stripe has not confirmed yet
    refunded_cents: int = 0
    awaiting_refund_cents: int = 0  # a settled deposit's remainder, not yet asked of Stripe
    open_disputes: int = 0
    dispute_holds: int = 0  # lost disputes the shop has not released yet: on hold until it does
    charged_back_cents: int = 0  # taken back by cardholders' banks (lost disputes)
    trust_limit_minutes: int = 0  # above zero: a trusted client whose sessions may go this far below zero
    on_account_minutes: int = 0  # used on account and not paid yet (billed or not)
    on_account_cents: int = 0
    billed_minutes: int = 0  # the part of it already on a bill
    billed_cents: int = 0
    credit_left_minutes: int = 0  # trust_limit_minutes - on_account_minutes, kept for the write condition
    collections_debts: int = 0  # debts past their last reminder: above zero, no new sessions
    next_bill_at: int | None = None
    warned_for: int | None = None  # the refund date the client was last warned about

    @property
    def balance_minutes(self) -> int:
        """What the client has, below zero when a trusted client owes time on account."""
        return self.available_minutes - self.on_account_minutes


@dataclass(frozen=True)
class CustomerLedger:
    """Everything the ledger holds for one customer, as read in one query."""

    account: Account
    lots: list[Lot] = field(default_factory=list)
    entries: list[JournalEntry] = field(default_factory=list)
    refunds: list[RefundRecord] = field(default_factory=list)
    debts: list[Debt] = field(default_factory=list)


@dataclass(frozen=True)
class SessionRecord:
    """A recorded remote session and its outcome; a retry with the same session id gets this back."""

    session_id: str
    email: str
    at: int
    technician: str
    note: str
    requested_minutes: int
    billed_minutes: int
    covered_minutes: int
    covered_cents: int
    overage_minutes: int
    overage_cents: int
    draws: tuple[LotShare, ...]
    balance_minutes_after: int
    balance_cents_after: int
    overage_status: OverageStatus = "none"
    payment_intent: str | None = None
    pay_url: str | None = None
    overage_problem: str = ""
    overage_no_card: bool = False  # owed with no card tried (none saved could pay it): the link is the way to pay
    on_account_minutes: int = 0  # a trusted client's minutes beyond the balance, billed later
    on_account_cents: int = 0
    source: str = ""  # reported by a remote-support tool (catalog.yaml's integrations); "": typed by a technician


RefundReason = Literal["client", "settle", "stale", "staff"]
RefundStatus = Literal["requested", "succeeded", "partial", "failed"]


@dataclass(frozen=True)
class RefundRecord:
    """A refund's saga: requested (money set aside) → each part sent to Stripe → its outcome."""

    refund_id: str
    email: str
    reason: RefundReason
    requested_at: int
    parts: tuple[RefundPart, ...]
    status: RefundStatus = "requested"

    @property
    def amount_cents(self) -> int:
        return sum(part.amount_cents for part in self.parts)

    @property
    def minutes(self) -> int:
        return sum(part.minutes for part in self.parts)

    def settled_status(self) -> RefundStatus:
        states = {part.status for part in self.parts}
        if states <= {"succeeded"}:
            return "succeeded"
        if "requested" in states or "pending" in states:
            return "requested"
        return "failed" if states == {"failed"} else "partial"


def journal_order(entries: Sequence[JournalEntry]) -> list[JournalEntry]:
    """Oldest first: by the second each happened, then by when it was written; one order however they are read."""
    return sorted(entries, key=lambda entry: (entry.at, entry.seq, entry.entry_id))


def purchase_lot(payment: Payment, stale_after_days: int) -> Lot:
    """The lot a payment creates; its id is the Checkout Session's, so one payment makes one lot."""
    return Lot(
        lot_id=payment.checkout_id,
        amount_cents=payment.amount_cents,
        minutes=payment.minutes,
        payment_intent=payment.payment_intent,
        terms_version=payment.terms_version,
        created_at=payment.paid_at,
        expires_at=payment.paid_at + stale_after_days * DAY_SECONDS,
        kind=payment.kind,
    )


def purchase_entry(payment: Payment, lot: Lot) -> JournalEntry:
    return JournalEntry(
        entry_id=f"purchase-{lot.lot_id}",
        kind="purchase",
        at=payment.paid_at,
        actor="stripe",
        minutes=lot.minutes,
        amount_cents=lot.amount_cents,
        note=f"{payment.sku}: {payment.note}" if payment.note else payment.sku,  # the sku first: receipts name it
        lots=(LotShare(lot.lot_id, lot.minutes, lot.amount_cents),),
    )


_WARNING = "refund-warning-"


def refund_warning_entry(due_at: int, at: int, minutes: int, cents: int, note: str) -> JournalEntry:
    """The client is told that `cents` go back to the card on `due_at`; the id carries that date (epoch seconds),
    for the email the outbox sends from the entry, and makes a second warning about the same date a duplicate."""
    return JournalEntry(f"{_WARNING}{due_at}", "refund-warning", at, "sweep", minutes, cents, note)


def warned_due_at(entry_id: str) -> int:
    """The refund date a refund-warning entry told the client about."""
    return int(entry_id.removeprefix(_WARNING))


def refund_due_at(last_activity_at: int, stale_after_days: int) -> int:
    return last_activity_at + stale_after_days * DAY_SECONDS
