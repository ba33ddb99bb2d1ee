"""Quotes: an estimate priced at the hourly rate, paid on a Stripe page before the work, settled at the end."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urljoin

from ..domain.changes import quote_ref
from ..domain.client_email import client_email
from ..domain.money import bill_minutes, format_minutes
from ..domain.playbook_changes import quote_closed, quote_saved
from ..domain.quotes import Quote, new_quote_id
from ..domain.sessions import overage_cents
from ..ports import CheckoutOrder
from .errors import Conflict
from .purchases import open_checkout, stripe_customer_of

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..ports import LedgerStore, PaymentGateway


@dataclass(frozen=True)
class QuoteRequest:
    email: str
    minutes: int
    technician: str
    note: str = ""
    quote_id: str = ""  # the caller's id makes a retry return the same quote
    confirmed: bool = False  # the caller means an estimate above the catalog's confirm_above_minutes


def send_quote(
    catalog: Catalog,
    store: LedgerStore,
    gateway: PaymentGateway,
    request: QuoteRequest,
    site_url: str,
    now: int | None = None,
) -> Quote:
    """Price the estimate, open a Stripe-hosted payment page for exactly that client and amount, keep the quote.

    The quote's email (with the link) follows from the table's stream, like every other email.
    """
    at = now if now is not None else int(time.time())
    email = client_email(request.email)
    quote_id = request.quote_id or new_quote_id(at)
    minutes = bill_minutes(request.minutes, catalog.billing.increment_minutes, catalog.billing.minimum_minutes)
    bound = catalog.quotes.confirm_above_minutes
    if minutes > bound and not request.confirmed:
        raise Conflict(
            "quote_needs_confirmation",
            f"the estimate of {format_minutes(minutes)} is above the shop's bound for a quote "
            f"({format_minutes(bound)}, quotes.confirm_above_minutes in catalog.yaml); nothing was emailed. "
            'If it is meant, send it again with --yes ("confirmed": true)',
        )
    if (earlier := store.find(quote_ref(quote_id))) is not None:
        if (earlier.email, earlier.minutes) != (email, minutes):
            raise Conflict(
                "quote_conflict",
                f"quote {quote_id} was already sent to {earlier.email} for {format_minutes(earlier.minutes)}; "
                "leave out the quote id to send a new quote",
            )
        return earlier
    amount = overage_cents(minutes, catalog.shop.hourly_rate_cents)
    expires_at = at + catalog.quotes.expires_after_hours * 3600
    base = site_url.rstrip("/") + "/"
    name = f"Quote {quote_id}: {format_minutes(minutes)} of remote support"
    order = CheckoutOrder(
        order_id=quote_id,
        email=email,
        stripe_customer_id=stripe_customer_of(store, email),
        sku="quote",
        kind="deposit",
        product_name=name,
        description=request.note or name,
        minutes=minutes,
        amount_cents=amount,
        currency=catalog.shop.currency,
        terms_version=catalog.terms.version,
        success_url=urljoin(base, "success/?session_id={CHECKOUT_SESSION_ID}"),
        cancel_url=urljoin(base, "cancel/"),
        quote_id=quote_id,
        expires_at=expires_at,
        note=request.note,
    )
    url = open_checkout(store, gateway, order)
    quote = Quote(
        quote_id=quote_id,
        email=email,
        minutes=minutes,
        amount_cents=amount,
        note=request.note,
        created_at=at,
        expires_at=expires_at,
        pay_url=url,
        terms_version=catalog.terms.version,
        technician=request.technician,
    )
    if not store.commit(quote_saved(quote)):  # the same id, sent twice at once: the first one counts
        saved = store.find(quote_ref(quote_id))
        assert saved is not None
        return saved
    return quote


def quote_expired(store: LedgerStore, quote_id: str, checkout_id: str, at: int) -> Literal["expired", "duplicate"]:
    """Stripe closed an unpaid quote's page: it credits nothing, and `blockhours quotes` says it expired."""
    return "expired" if store.commit(quote_closed(quote_id, "expired", at, checkout_id)) else "duplicate"


def recent_quotes(store: LedgerStore, limit: int = 50) -> list[Quote]:
    return sorted(store.quotes(), key=lambda q: (-q.created_at, q.quote_id))[:limit]
