"""What the services need from the outside world; adapters/ implements these, tests may fake them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from .domain.ledger import CustomerLedger, JournalEntry, Payment
from .domain.lots import Lot


class LedgerStore(Protocol):
    def credit_purchase(
        self, event_id: str, payment: Payment, lot: Lot, entry: JournalEntry, refund_due_at: int
    ) -> Literal["credited", "duplicate"]:
        """Write the event marker, lot, journal entry and account change at once, or nothing."""
        ...

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


class PaymentGateway(Protocol):
    def create_checkout(self, order: CheckoutOrder) -> str:
        """Create a hosted checkout for the order; return the URL to send the client to."""
        ...
