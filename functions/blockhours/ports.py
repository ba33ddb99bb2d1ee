"""What the services need from the outside world; adapters/ implements these, tests may fake them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from .domain.ledger import Account, CustomerLedger, JournalEntry, Payment, SessionRecord
from .domain.lots import Lot


class LedgerStore(Protocol):
    def credit_purchase(
        self, event_id: str, payment: Payment, lot: Lot, entry: JournalEntry, refund_due_at: int
    ) -> Literal["credited", "duplicate"]:
        """Write the event marker, lot, journal entry and account change at once, or nothing."""
        ...

    def record_session(
        self,
        record: SessionRecord,
        lots_before: Sequence[Lot],
        lots_after: Sequence[Lot],
        entries: Sequence[JournalEntry],
        refund_due_at: int,
    ) -> Literal["recorded", "duplicate", "changed"]:
        """Write the session, its entries, the lots and the account at once, or nothing."""
        ...

    def finish_overage(self, record: SessionRecord, entry: JournalEntry | None, paid_cents: int) -> bool: ...

    def mark_event(self, event_id: str, at: int) -> bool: ...

    def settle_deposits(self, email: str, lots_before: Sequence[Lot], entry: JournalEntry) -> bool: ...

    def lots(self, email: str) -> list[Lot]: ...

    def account(self, email: str) -> Account | None: ...

    def session(self, email: str, session_id: str) -> SessionRecord | None: ...

    def customer(self, email: str) -> CustomerLedger | None: ...

    def stripe_customer_id(self, email: str) -> str | None: ...


@dataclass(frozen=True)
class CheckoutOrder:
    """What the shop asks Stripe to collect: priced from the catalog, never from the browser."""

    order_id: str
    email: str
    stripe_customer_id: str | None
    sku: str
    kind: Literal["block", "deposit"]
    product_name: str
    description: str
    minutes: int
    amount_cents: int
    currency: str
    terms_version: str
    success_url: str
    cancel_url: str


@dataclass(frozen=True)
class CardCharge:
    """The answer to charging a saved card: paid, needs the client (authentication), or declined."""

    status: Literal["succeeded", "requires_action", "declined"]
    payment_intent: str | None
    message: str


@dataclass(frozen=True)
class DebtLink:
    session_id: str
    email: str
    amount_cents: int
    currency: str
    description: str
    thanks_url: str


class PaymentGateway(Protocol):
    def create_checkout(self, order: CheckoutOrder) -> str:
        """Create a hosted checkout for the order; return the URL to send the client to."""
        ...

    def charge_saved_card(
        self, customer: str, amount_cents: int, currency: str, description: str, metadata: dict[str, str], key: str
    ) -> CardCharge: ...

    def create_debt_link(self, debt: DebtLink) -> str: ...
