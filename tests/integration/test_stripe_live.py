"""Stripe's real test mode, only when STRIPE_API_KEY=sk_test_... is set (never with a live key)."""

from __future__ import annotations

import os
import secrets

import pytest
import stripe

from blockhours.adapters.stripe_gateway import StripeGateway
from blockhours.config import StripeSettings
from stripe_events import checkout_order

KEY = os.environ.get("STRIPE_API_KEY", "")
pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not KEY.startswith("sk_test_"), reason="set STRIPE_API_KEY=sk_test_... to run against Stripe"),
]


def test_a_real_checkout_session_carries_the_catalog_price() -> None:
    gateway = StripeGateway(StripeSettings(api_key=KEY, webhook_secret="whsec_unused_here", max_network_retries=2))
    order_id = secrets.token_hex(8)
    url = gateway.create_checkout(
        checkout_order(
            order_id=order_id,
            email=f"blockhours-live-{order_id}@example.com",
            success_url="https://example.com/success/?session_id={CHECKOUT_SESSION_ID}",
            cancel_url="https://example.com/cancel/",
        )
    )
    assert url.startswith("https://checkout.stripe.com/")
    client = stripe.StripeClient(KEY)
    found = client.v1.checkout.sessions.list({"limit": 5})
    session = next(
        s for s in found.data if s.metadata and "order_id" in s.metadata and s.metadata["order_id"] == order_id
    )
    assert session.amount_total == 12900 and session.mode == "payment"
    assert session.metadata is not None and session.metadata["sku"] == "block-60"
