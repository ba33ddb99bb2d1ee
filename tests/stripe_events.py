"""Stripe events for tests, built from Stripe's own example objects, signed with the real scheme."""

from __future__ import annotations

import copy
import json
import secrets
import time
from typing import Any

import stripe

from blockhours.ports import CheckoutOrder
from blockhours.services.purchases import record_order
from blockhours_dev.standin.server import _fixtures

FIXTURES = _fixtures()


def checkout_session(**overrides: Any) -> dict[str, Any]:
    """A paid Blockhours checkout session for the 1-hour block, as Stripe sends it."""
    session = copy.deepcopy(FIXTURES["checkout.session"])
    sid = f"cs_test_{secrets.token_hex(12)}"
    session.update(
        id=sid,
        amount_subtotal=12900,
        amount_total=12900,
        currency="usd",
        customer=f"cus_{secrets.token_hex(7)}",
        payment_intent=f"pi_{secrets.token_hex(12)}",
        payment_status="paid",
        status="complete",
        created=int(time.time()),
        metadata={
            "order_id": secrets.token_hex(8),
            "email": "ana@example.com",
            "sku": "block-60",
            "kind": "block",
            "minutes": "60",
            "terms_version": "2026-12-06",
        },
    )
    metadata = overrides.pop("metadata", {})
    session["metadata"].update(metadata)
    session.update(overrides)
    return session


def event(event_type: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    wrapped = copy.deepcopy(FIXTURES["event"])
    wrapped.update(
        id=event_id or f"evt_{secrets.token_hex(12)}",
        type=event_type,
        created=int(time.time()),
        api_version=stripe.api_version,
        data={"object": obj},
    )
    return wrapped


def signed(payload: dict[str, Any] | str, secret: str, timestamp: int | None = None) -> tuple[bytes, str]:
    """The body and the Stripe-Signature header Stripe would send for it."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    header = stripe.WebhookSignature.generate_signature_header(text, secret, timestamp=timestamp)
    return text.encode(), header


def checkout_order(**changes: object) -> CheckoutOrder:
    """What the shop asks Stripe to collect for the 1-hour block; `changes` override fields."""
    values: dict[str, object] = dict(
        order_id="order-0001",
        email="ana@example.com",
        stripe_customer_id=None,
        sku="block-60",
        kind="block",
        product_name="1-hour block",
        description="One hour of remote support",
        minutes=60,
        amount_cents=12900,
        currency="usd",
        terms_version="2026-12-06",
        success_url="https://shop.example/success/?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="https://shop.example/cancel/",
    )
    values.update(changes)
    return CheckoutOrder(**values)  # type: ignore[arg-type]


def order_of(session: dict[str, Any]) -> CheckoutOrder:
    """The order the shop would have opened for this checkout session (what start_checkout records)."""
    metadata = session["metadata"]
    return checkout_order(
        order_id=metadata["order_id"],
        email=metadata["email"],
        sku=metadata["sku"],
        kind=metadata["kind"],
        minutes=int(metadata["minutes"]),
        amount_cents=int(session["amount_total"]),
        currency=session["currency"],
        quote_id=metadata.get("quote_id", ""),
    )


def opened(store: Any, session: dict[str, Any]) -> dict[str, Any]:
    """Record the checkout as the shop opens it (as if through POST /api/checkout); the session back."""
    assert record_order(store, order_of(session), int(time.time()))
    return session


def stack_store(stack: Any) -> Any:
    """The ledger of a running local stack, to open orders in it as the shop does."""
    import boto3

    from blockhours.adapters.dynamo import DynamoLedger

    return DynamoLedger(stack.table, boto3.client("dynamodb", endpoint_url=stack.aws_endpoint))


def opened_payment(store: Any, payment: Any) -> Any:
    """A Payment whose checkout the shop opened (its order recorded first), as the webhook would read it."""
    from dataclasses import replace

    order_id = payment.order_id or f"order-{payment.checkout_id}"
    order = checkout_order(
        order_id=order_id,
        email=payment.email,
        sku=payment.sku,
        kind=payment.kind,
        minutes=payment.minutes,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        quote_id=payment.quote_id,
    )
    assert record_order(store, order, payment.paid_at)
    return replace(payment, order_id=order_id)


def hour_bought(store: Any, standin: Any, email: str, paid_at: int | None = None) -> str:
    """`email` bought the 1-hour block, paid at the stand-in and credited as the webhook credits a paid checkout
    whose order the shop opened: the PaymentIntent Stripe holds for it."""
    from blockhours import catalog, services
    from blockhours.domain.ledger import Payment
    from blockhours_dev.standin.payments import paid_intent

    pi = paid_intent(standin, 12900)
    at = int(time.time()) if paid_at is None else paid_at
    payment = Payment(
        f"cs_test_{secrets.token_hex(6)}", pi, None, email, "block-60", "block", 60, 12900, "usd", "v1", at
    )
    services.record_payment(catalog.load(), store, f"evt_{secrets.token_hex(5)}", opened_payment(store, payment))
    return pi


def clients_with_hours(store: Any, standin: Any, clients: int, lots: int) -> dict[str, list[str]]:
    """`clients` clients who each bought the 1-hour block `lots` times: email → their PaymentIntents."""
    bought: dict[str, list[str]] = {}
    for n in range(clients):
        email = f"client-{n:04d}-{secrets.token_hex(2)}@example.com"
        bought[email] = [hour_bought(store, standin, email, paid_at=1) for _ in range(lots)]
    return bought
