"""What the services need from the outside world; adapters/ implements these, tests may fake them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, overload

# Raised through the ports; kept apart so that the HTTP error table imports them without the Protocols and records.
from .port_errors import GatewayError as GatewayError
from .port_errors import PaymentUnknown as PaymentUnknown
from .port_errors import StoreError as StoreError

if TYPE_CHECKING:
    from .domain.changes import Change, Outcome, Ref
    from .domain.connection_changes import ConnectionLog
    from .domain.debts import Debt
    from .domain.inbox import ClientMapping, InboxItem
    from .domain.ledger import Account, CustomerLedger, SessionRecord
    from .domain.lots import Lot
    from .domain.parked import ParkedEvent
    from .domain.quotes import Quote
    from .domain.refunds import RefundPart
    from .domain.remote_sessions import RemoteSession

T = TypeVar("T")


class LedgerStore(Protocol):
    """The ledger's store: one commit for every change the domain decides, and the reads the use cases need."""

    def commit(self, change: Change) -> Outcome:
        """Every write of the change, or none; the outcome names each write whose condition failed."""
        ...

    def find(self, ref: Ref[T]) -> T | None: ...

    def find_many(self, *refs: Ref[Any]) -> list[Any]:
        """Several records in one round trip, each decoded (None where absent), in the order asked."""
        ...

    def lots(self, email: str) -> list[Lot]: ...

    def customer(self, email: str) -> CustomerLedger | None:
        """Everything the ledger holds for one client, in one query; None for a client it does not know."""
        ...

    def due_accounts(self, until: int | None = None) -> list[Account]:
        """Accounts holding money whose refund falls due by `until` (None: every one)."""
        ...

    @overload
    def chores(self, kind: Literal["debt"], until: int | None = None) -> list[Debt]: ...
    @overload
    def chores(self, kind: Literal["bill"], until: int | None = None) -> list[Account]: ...
    @overload
    def chores(self, kind: Literal["overage"], until: int | None = None) -> list[SessionRecord]: ...
    @overload
    def chores(self, kind: Literal["connections"], until: int | None = None) -> list[ConnectionLog]: ...
    def chores(self, kind: Literal["debt", "bill", "overage", "connections"], until: int | None = None) -> list[Any]:
        """What the daily run has to do by `until` (None: all of it)."""
        ...

    def quotes(self) -> list[Quote]: ...

    def inbox(self) -> list[InboxItem]:
        """Tool sessions waiting for a person (unmatched, to confirm, refused), oldest first; never a scan."""
        ...

    def mappings(self, source: str) -> list[ClientMapping]:
        """What staff taught of one source's names for clients."""
        ...

    def parked_events(self, payment_intent: str) -> list[ParkedEvent]: ...

    def waiting_parked(self) -> list[ParkedEvent]: ...

    def account_page(self, cursor: str | None, limit: int) -> AccountPage:
        """Accounts from `cursor` on (None: the first), reading at most `limit` items; for jobs over every account."""
        ...

    def account(self, email: str) -> Account | None: ...


@dataclass(frozen=True)
class AccountPage:
    """One page of accounts: each email with the cursor just past it, and where the next page starts (None: the
    last page). A cursor is opaque to the services: the store's own resume point."""

    accounts: list[tuple[str, str]]
    next_cursor: str | None


class JobStarter(Protocol):
    def start(self, job_id: str, step: int) -> None:
        """Run this step of the job in the background; JobNotStarted if it cannot be handed over."""
        ...


class JobNotStarted(Exception):
    """The background job could not be handed to its function; the message says why."""


@dataclass(frozen=True)
class ReportPage:
    """A pulled source's sessions since the cursor, and where the next run asks from."""

    sessions: tuple[RemoteSession, ...]
    cursor_ms: int
    in_progress: int = 0  # sessions not ended yet: a later run reads them again


class SessionReport(Protocol):
    """A remote-support tool's session report: every session from `since_ms` (None: the first run) to `now_ms`."""

    def __call__(self, since_ms: int | None, now_ms: int) -> ReportPage: ...


class ReportUnavailable(Exception):
    """The tool did not give its report (a refused token, an outage); the message says what to do."""


class RefundQueue(Protocol):
    def send(self, email: str, refund_id: str) -> None: ...


@dataclass(frozen=True)
class Credit:
    """What crediting a payment did; `parked_waiting`: events that came before it wait to be applied."""

    outcome: Literal["credited", "duplicate", "not_ours"]
    parked_waiting: bool = False
    order: dict[str, Any] = field(default_factory=dict)  # not ours: the shop's record of that checkout, if any


@dataclass(frozen=True)
class DebtPayment:
    """A payment link for a debt (an overage, a bill), paid."""

    checkout_id: str
    payment_intent: str
    email: str
    debt_id: str
    amount_cents: int
    currency: str
    at: int


@dataclass(frozen=True)
class UnbookedPayment:
    """Money Stripe received that the ledger will not book as the shop's (why says what is wrong): the shop
    is told, and decides (usually: refund it in the Stripe dashboard)."""

    checkout_id: str
    email: str
    payment_intent: str
    amount_cents: int
    currency: str
    at: int
    why: str


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
    quote_id: str = ""  # a quote's payment page: paying it marks the quote paid
    expires_at: int | None = None  # when Stripe closes the page unpaid (a quote's validity)
    note: str = ""  # a quote's work in the technician's words: its purchase shows it on the statement


@dataclass(frozen=True)
class OverageCharge:
    """A session's time beyond the balance, to be charged to the card that paid one of the client's lots.

    Session ids are unique per client only: the gateway names the client in the idempotency key and puts
    the session id and email in the charge's metadata, so a retry finds the charge instead of repeating it.
    """

    email: str
    session_id: str
    paid_with: str  # the lot's PaymentIntent: its card is charged again, named, never simply the newest card
    amount_cents: int
    currency: str
    description: str


@dataclass(frozen=True)
class CardCharge:
    """The answer to charging a saved card: paid, needs the client (authentication), declined, or no card saved
    that could be tried (nothing was asked of any card)."""

    status: Literal["succeeded", "requires_action", "declined", "no_card"]
    payment_intent: str | None
    message: str


@dataclass(frozen=True)
class DebtLink:
    debt_id: str
    email: str
    amount_cents: int
    currency: str
    description: str
    thanks_url: str = ""  # where the payer lands; "" for the shop's thank-you page (links.paid_url)


@dataclass(frozen=True)
class PaidCheckout:
    """A Checkout Session of ours, as the page a payment ends on reads it: for what, how much, whether it is paid."""

    checkout_id: str
    status: Literal["paid", "processing", "unpaid"]  # processing: a bank debit Stripe has not confirmed yet
    email: str
    amount_cents: int
    currency: str
    created_at: int
    sku: str = ""  # a purchase
    minutes: int = 0
    note: str = ""  # a quote's work
    debt_id: str = ""  # a pay link's debt


@dataclass(frozen=True)
class StripeRefund:
    """A refund as Stripe holds it; refund_id and lot_id are ours, from its metadata (empty if made elsewhere)."""

    id: str
    payment_intent: str
    amount_cents: int
    status: str
    failure: str = ""
    refund_id: str = ""
    lot_id: str = ""


class PaymentGateway(Protocol):
    def create_checkout(self, order: CheckoutOrder) -> str:
        """Create a hosted checkout for the order; return the URL to send the client to."""
        ...

    def charge_saved_card(self, charge: OverageCharge) -> CardCharge:
        """Charge the card that paid `charge.paid_with`, once; a charge made for the session before is found.

        A decline, or a charge Stripe cannot make (no such card, payment or customer), is an answer;
        GatewayError means Stripe could not be asked and the same charge may be tried again.
        """
        ...

    def create_debt_link(self, debt: DebtLink) -> str: ...

    def paid_checkout(self, checkout_id: str) -> PaidCheckout | None:
        """The Checkout Session a payment page redirected from; None when Stripe has none of ours by that id."""
        ...

    def refund_part(self, refund_id: str, part: RefundPart, email: str) -> StripeRefund: ...

    def refunds_of(self, payment_intent: str) -> list[StripeRefund]: ...

    def amount_received(self, payment_intent: str) -> int:
        """What Stripe received on a payment; PaymentUnknown if Stripe has no such payment."""
        ...
