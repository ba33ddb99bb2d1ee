"""Buying time: open a checkout priced from the catalog, credit what Stripe says was paid, read a ledger."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urljoin

from ..catalog import Catalog
from ..domain.client_email import client_email
from ..domain.ledger import CustomerLedger, Payment, purchase_entry, purchase_lot, refund_due_at
from ..ports import CheckoutOrder, LedgerStore, PaymentGateway, UnbookedPayment
from .errors import Conflict, NotFound, ShopError
from .parked import apply_parked


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
        stripe_customer_id=store.stripe_customer_id(email),
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
    if not store.open_order(order, int(time.time())):
        raise Conflict(
            "order_conflict",
            f"order {order.order_id} was already opened for another purchase; reload the page and buy again",
        )
    return gateway.create_checkout(order)


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
        store.report_unknown_payment(_unbooked(payment, foreign_currency(catalog, payment.currency)))
        return "not_ours"
    credit = store.credit_purchase(event_id, payment, lot, entry, refund_due_at(payment.paid_at, stale_days))
    if credit.outcome == "not_ours":
        store.report_unknown_payment(_unbooked(payment, _mismatch(payment, credit.order)))
        return "not_ours"
    if credit.parked_waiting:
        apply_parked(store, payment.payment_intent, payment.paid_at)
    return credit.outcome


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


def customer_ledger(store: LedgerStore, email: str) -> CustomerLedger:
    email = client_email(email)
    found = store.customer(email)
    if found is None:
        raise NotFound("unknown_customer", f"no customer with email {email} has bought anything")
    return found
