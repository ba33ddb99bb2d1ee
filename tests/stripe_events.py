"""Stripe events for tests, built from Stripe's own example objects, signed with the real scheme."""

from __future__ import annotations

import copy
import json
import secrets
import time
from typing import Any

import stripe

from blockhours.ports import CheckoutOrder
from blockhours.standin.server import _fixtures

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
            "terms_version": "2026-11-01",
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
        terms_version="2026-11-01",
        success_url="https://shop.example/success/?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="https://shop.example/cancel/",
    )
    values.update(changes)
    return CheckoutOrder(**values)  # type: ignore[arg-type]
