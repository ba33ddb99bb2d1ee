"""Stripe's objects as the ledger reads them, from any API version: a field that is null, missing or of another
type than the ledger needs reads as absent, so an odd event is acknowledged as not applicable, never a crash.

Stripe's OpenAPI marks many fields nullable (a refund's or dispute's `payment_intent`, a Checkout Session's
`customer`, `metadata`, `amount_total`, `customer_details`); newer versions add fields, older ones lack some, and an
expanded reference (`payment_intent` as an object) carries its id inside.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import stripe

from ..domain.client_email import InvalidEmail, client_email
from ..ports import PaidCheckout, StripeRefund

# Stripe's ids are a prefix and letters and digits; anything else could not be one (nor a DynamoDB key part).
_STRIPE_ID = re.compile(r"[A-Za-z0-9_]{1,255}")
# More than any charge Stripe accepts (eight digits of a currency's units); keeps sums far from DynamoDB's limits.
MAX_AMOUNT = 10**12
# Stripe's limit for a metadata value; longer text cannot have come from a field we wrote.
MAX_TEXT = 500
LATEST_TIMESTAMP = 10**11  # the year 5138: an epoch second past this is not one


@dataclass(frozen=True)
class StripeDispute:
    """A dispute of one of our payments, as the ledger needs it."""

    id: str
    payment_intent: str
    amount_cents: int
    status: str


def fields(value: Any) -> dict[str, Any]:
    """An object's fields as a plain dict; anything that is not an object has none."""
    if isinstance(value, stripe.StripeObject):
        return value.to_dict()
    return dict(value) if isinstance(value, dict) else {}


def stripe_id(value: Any) -> str:
    """The id a field holds, whether Stripe sent the id or expanded the object; "" when there is none."""
    if isinstance(value, dict | stripe.StripeObject):
        value = fields(value).get("id")
    return value if isinstance(value, str) and _STRIPE_ID.fullmatch(value) else ""


def text(value: Any, limit: int = MAX_TEXT) -> str:
    return value if isinstance(value, str) and len(value) <= limit else ""


def client(value: Any) -> str:
    """A client's email address as the ledger keys it; "" when the field holds none."""
    try:
        return client_email(value) if isinstance(value, str) and value else ""
    except InvalidEmail:
        return ""


def amount(value: Any) -> int | None:
    """A non-negative integer amount (cents, minutes); JSON's true and false are not numbers here."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AMOUNT:
        return None
    return value


def amount_in_text(value: Any) -> int | None:
    """An amount we wrote into metadata, where every value is a string: "60"."""
    found = text(value, 13)
    return amount(int(found)) if found.isascii() and found.isdigit() else None


def timestamp(value: Any) -> int | None:
    found = amount(value)
    return found if found is not None and found <= LATEST_TIMESTAMP else None


def of_kind(value: Any, kind: str) -> dict[str, Any] | None:
    """The object's fields if it is a `kind` ("refund", "dispute"...); an event may carry another object."""
    found = fields(value)
    return found if found.get("object") == kind else None


def read_refund(value: Any) -> StripeRefund | None:
    """A refund, with our refund and lot ids from its metadata (empty if it was made elsewhere)."""
    refund = of_kind(value, "refund")
    if refund is None:
        return None
    refund_id, payment_intent = stripe_id(refund.get("id")), stripe_id(refund.get("payment_intent"))
    cents, status = amount(refund.get("amount")), text(refund.get("status"), 40)
    if not (refund_id and payment_intent and status) or cents is None:
        return None
    metadata = fields(refund.get("metadata"))
    return StripeRefund(
        id=refund_id,
        payment_intent=payment_intent,
        amount_cents=cents,
        status=status,
        failure=text(refund.get("failure_reason")),
        refund_id=text(metadata.get("refund_id")),
        lot_id=text(metadata.get("lot_id")),
    )


def read_dispute(value: Any) -> StripeDispute | None:
    dispute = of_kind(value, "dispute")
    if dispute is None:
        return None
    dispute_id, payment_intent = stripe_id(dispute.get("id")), stripe_id(dispute.get("payment_intent"))
    cents, status = amount(dispute.get("amount")), text(dispute.get("status"), 40)
    if not (dispute_id and payment_intent and status) or cents is None:
        return None
    return StripeDispute(dispute_id, payment_intent, cents, status)


def charge_payment_intent(value: Any) -> str:
    """The PaymentIntent a charge belongs to; "" for a charge made without one (or not a charge)."""
    charge = of_kind(value, "charge")
    return stripe_id(charge.get("payment_intent")) if charge is not None else ""


def event_problem(event: stripe.Event) -> str:
    """Why a verified body is not a Stripe event we can read ("" when it is one)."""
    values = fields(event)
    if not isinstance(values.get("id"), str) or not stripe_id(values["id"]):  # an event's own id is never expanded
        return "it has no event id"
    if not isinstance(values.get("type"), str):
        return "it has no event type"
    if timestamp(values.get("created")) is None:
        return "it has no creation time"
    if not isinstance(fields(values.get("data")).get("object"), dict):
        return "it carries no object in data.object"
    return ""


def paid_checkout(value: Any) -> PaidCheckout | None:
    """A Checkout Session of ours (a purchase, a quote or a pay link's debt) for the page a payment ends on."""
    session = of_kind(value, "checkout.session")
    if session is None:
        return None
    metadata = {name: text(item) for name, item in fields(session.get("metadata")).items()}
    email = client(metadata.get("email") or fields(session.get("customer_details")).get("email"))
    cents, checkout_id = amount(session.get("amount_total")), stripe_id(session.get("id"))
    debt_id = metadata.get("debt_id", "") if metadata.get("kind") == "debt" else ""
    if not (email and cents and checkout_id and (debt_id or metadata.get("sku"))):
        return None
    paid = session.get("payment_status") in ("paid", "no_payment_required")
    return PaidCheckout(
        checkout_id=checkout_id,
        status="paid" if paid else "processing" if session.get("status") == "complete" else "unpaid",
        email=email,
        amount_cents=cents,
        currency=text(session.get("currency"), 3),
        created_at=timestamp(session.get("created")) or 0,
        sku="" if debt_id else metadata.get("sku", ""),
        minutes=0 if debt_id else amount_in_text(metadata.get("minutes")) or 0,
        note=metadata.get("note", "") if metadata.get("quote_id") else "",
        debt_id=debt_id,
    )
