"""Buying time: open a checkout priced from the catalog, credit what Stripe says was paid, read a ledger."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urljoin

from ..domain.client_email import client_email
from ..domain.ledger import purchase_entry, purchase_lot, refund_due_at
from ..domain.payment_changes import EVENT, LOT, ORDER, POINTER, QUOTE, credited, order_opened
from ..ports import CheckoutOrder, Credit, StoreError, UnbookedPayment
from .alerts import report_unbooked
from .errors import Conflict, NotFound, ShopError
from .parked import apply_parked

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..domain.ledger import CustomerLedger, JournalEntry, Payment
    from ..domain.lots import Lot
    from ..ports import LedgerStore, PaymentGateway


@dataclass(frozen=True)
class CheckoutRequest:
    sku: str
    email: str
    terms_version: str
    terms_accepted: bool
    order_id: str | None = None


def start_checkout(
    catalog: Catalog, store: LedgerStore, gateway: PaymentGateway, request: CheckoutRequest, site_url: str
) -> str:
    """Price the sku from the catalog and open a hosted checkout for it; return its URL."""
    product = catalog.product(request.sku)
    if product is None:
        known = ", ".join(p.sku for p in catalog.products)
        raise ShopError("unknown_sku", f"there is no product '{request.sku}'; choose one of: {known}")
    if not request.terms_accepted:
        raise ShopError(
            "terms_not_accepted",
            f"tick 'I agree to the client agreement (version {catalog.terms.version})' before buying",
        )
    if request.terms_version != catalog.terms.version:
        raise ShopError(
            "stale_terms",
            f"the client agreement has changed to version {catalog.terms.version}; "
            "reload the page, read it, and agree again",
        )
    email = client_email(request.email)
    base = site_url.rstrip("/") + "/"
    order = CheckoutOrder(
        order_id=request.order_id or uuid.uuid4().hex,
        email=email,
        stripe_customer_id=stripe_customer_of(store, email),
        sku=product.sku,
        kind=product.kind,
        product_name=product.name,
        description=product.description,
        minutes=catalog.minutes_for(product),
        amount_cents=product.price_cents,
        currency=catalog.shop.currency,
        terms_version=catalog.terms.version,
        success_url=urljoin(base, "success/?session_id={CHECKOUT_SESSION_ID}"),
        cancel_url=urljoin(base, "cancel/"),
    )
    return open_checkout(store, gateway, order)


def open_checkout(store: LedgerStore, gateway: PaymentGateway, order: CheckoutOrder) -> str:
    """Remember the checkout as the shop opens it (its credit must match), then ask Stripe for the page."""
    if not record_order(store, order, int(time.time())):
        raise Conflict(
            "order_conflict",
            f"order {order.order_id} was already opened for another purchase; reload the page and buy again",
        )
    return gateway.create_checkout(order)


def record_order(store: LedgerStore, order: CheckoutOrder, at: int) -> bool:
    """The shop's record of a checkout it opens; False if another order holds its id."""
    names = ("order_id", "email", "sku", "kind", "minutes", "amount_cents", "currency", "quote_id")
    values: dict[str, object] = {name: getattr(order, name) for name in names} | {"opened_at": at}
    return store.commit(order_opened(values)).committed


def record_payment(
    catalog: Catalog, store: LedgerStore, event_id: str, payment: Payment
) -> Literal["credited", "duplicate", "not_ours"]:
    """Credit a paid checkout exactly once, however often and in whatever order Stripe reports it.

    The minutes and the amount must be those of the checkout the shop opened, in the shop's currency;
    anything else is "not_ours": nothing is credited and the shop is told. Refund and dispute events that
    arrived before the payment are applied right after it, once.
    """
    stale_days = catalog.refunds.stale_after_days
    lot = purchase_lot(payment, stale_days)
    entry = purchase_entry(payment, lot)
    if payment.currency.lower() != catalog.shop.currency.lower():
        report_unbooked(store, _unbooked(payment, foreign_currency(catalog, payment.currency)))
        return "not_ours"
    credit = _credit(store, event_id, payment, lot, entry, refund_due_at(payment.paid_at, stale_days))
    if credit.outcome == "not_ours":
        report_unbooked(store, _unbooked(payment, _mismatch(payment, credit.order)))
        return "not_ours"
    if credit.parked_waiting:
        apply_parked(store, payment.payment_intent, payment.paid_at)
    return credit.outcome


def _credit(store: LedgerStore, event_id: str, payment: Payment, lot: Lot, entry: JournalEntry, due_at: int) -> Credit:
    """Credit once; what a refusal means is read from the writes it names, in the same round trip."""
    taken_over, with_quote = False, True
    for _ in range(3):
        outcome = store.commit(
            credited(event_id, payment, lot, entry, due_at, pointer_taken_over=taken_over, with_quote=with_quote)
        )
        pointer = dict(outcome.seen.get(POINTER, {}))
        waiting = int(pointer.get("parked_events", 0)) > int(pointer.get("applied_events", 0))
        if outcome.committed:
            return Credit("credited", taken_over)
        if outcome.refused & {EVENT, LOT}:
            return Credit("duplicate", waiting)
        if ORDER in outcome.refused:
            return Credit("not_ours", order=dict(outcome.seen.get(ORDER, {})))
        if outcome.refused == {QUOTE}:  # the quote is unknown here (deleted by hand): credit the payment all the same
            with_quote = False
        elif outcome.refused <= {POINTER, QUOTE} and "lot_id" not in pointer:
            taken_over = True  # events for this payment arrived first and wait under its pointer: take it over
        else:
            break
    raise StoreError(f"payment {payment.payment_intent} could not be credited: {sorted(outcome.refused)} {pointer}")


def foreign_currency(catalog: Catalog, currency: str) -> str:
    """Why a payment in another currency is not booked as the shop's cents."""
    return f"it was paid in {currency.upper() or 'no currency'}, not the shop's {catalog.shop.currency.upper()}"


def _unbooked(payment: Payment, why: str) -> UnbookedPayment:
    return UnbookedPayment(
        payment.checkout_id,
        payment.email,
        payment.payment_intent,
        payment.amount_cents,
        payment.currency,
        payment.paid_at,
        why,
    )


def _mismatch(payment: Payment, order: dict[str, object]) -> str:
    if not order:
        return "the shop never opened this checkout"
    return (
        f"the shop opened it for {order.get('email')}: {order.get('sku')}, {order.get('minutes')} minutes, "
        f"{order.get('amount_cents')} {str(order.get('currency', '')).upper()}; Stripe reports {payment.email}: "
        f"{payment.sku}, {payment.minutes} minutes, {payment.amount_cents} {payment.currency.upper()}"
    )


def stripe_customer_of(store: LedgerStore, email: str) -> str | None:
    account = store.account(email)
    return account.stripe_customer_id if account is not None else None


def customer_ledger(store: LedgerStore, email: str) -> CustomerLedger:
    email = client_email(email)
    found = store.customer(email)
    if found is None:
        raise NotFound("unknown_customer", f"no customer with email {email} has bought anything")
    return found
