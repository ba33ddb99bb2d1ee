"""The Stripe adapter through Stripe's own SDK, against the stand-in on a loopback port."""

from __future__ import annotations

import json
import time

import pytest
import stripe

from blockhours.adapters.stripe_gateway import StripeGateway, WebhookRejected, checkout_event
from blockhours.adapters.stripe_keys import idempotency_key
from blockhours.config import StripeSettings
from blockhours.ports import GatewayError
from blockhours_dev.standin.payments import paid_intent
from served_standin import ServedStandIn
from stripe_events import checkout_order as order
from stripe_events import checkout_session, event, signed

SECRET = "whsec_test_gateway_secret"


def gateway(served: ServedStandIn, retries: int = 0) -> StripeGateway:
    settings = StripeSettings(
        api_key="sk_test_gateway",
        webhook_secret=SECRET,
        api_base=served.url,
        max_network_retries=retries,
        webhook_tolerance_seconds=300,
    )
    return StripeGateway(settings)


def test_checkout_sends_the_catalog_price_and_saves_the_card(stripe_standin: ServedStandIn) -> None:
    url = gateway(stripe_standin).create_checkout(order())

    calls = stripe_standin.standin.requests
    assert [(c.method, c.path) for c in calls] == [
        ("GET", "/v1/customers"),
        ("POST", "/v1/customers"),
        ("POST", "/v1/checkout/sessions"),
    ]
    assert calls[0].params == {"email": "ana@example.com", "limit": "1"}
    assert calls[1].params["email"] == "ana@example.com" and calls[1].idempotency_key
    sent = calls[2].params
    assert calls[1].idempotency_key == idempotency_key("customer", "ana@example.com")
    assert calls[2].idempotency_key == idempotency_key("checkout", "ana@example.com", "order-0001", "block-60")
    assert sent["mode"] == "payment"
    assert sent["customer"] == next(iter(stripe_standin.standin.customers))
    assert sent["line_items"] == [
        {
            "quantity": "1",
            "price_data": {
                "currency": "usd",
                "unit_amount": "12900",
                "product_data": {
                    "name": "1-hour block",
                    "description": "One hour of remote support",
                    "metadata": {"sku": "block-60"},
                },
            },
        }
    ]
    assert sent["payment_intent_data"]["setup_future_usage"] == "off_session"
    assert sent["consent_collection"] == {"terms_of_service": "required"}
    assert "version 2026-12-06" in sent["custom_text"]["terms_of_service_acceptance"]["message"]
    assert sent["metadata"] == {
        "order_id": "order-0001",
        "email": "ana@example.com",
        "sku": "block-60",
        "kind": "block",
        "minutes": "60",
        "terms_version": "2026-12-06",
    }
    assert sent["success_url"].endswith("session_id={CHECKOUT_SESSION_ID}")
    assert sent["cancel_url"] == "https://shop.example/cancel/"
    session = next(iter(stripe_standin.standin.sessions.values()))
    assert url == session["url"] and session["amount_total"] == 12900


def test_one_stripe_customer_per_email(stripe_standin: ServedStandIn) -> None:
    gw = gateway(stripe_standin)
    gw.create_checkout(order(order_id="order-0001"))
    gw.create_checkout(order(order_id="order-0002"))
    assert len(stripe_standin.standin.customers) == 1
    assert len(stripe_standin.standin.sessions) == 2


def test_a_known_customer_is_not_looked_up_again(stripe_standin: ServedStandIn) -> None:
    gw = gateway(stripe_standin)
    customer = gw.customer_for("ana@example.com")
    stripe_standin.standin.requests.clear()
    gw.create_checkout(order(stripe_customer_id=customer))
    assert [c.path for c in stripe_standin.standin.requests] == ["/v1/checkout/sessions"]


def test_a_retried_order_opens_the_same_checkout(stripe_standin: ServedStandIn) -> None:
    gw = gateway(stripe_standin)
    first = gw.create_checkout(order())
    again = gw.create_checkout(order())
    assert first == again
    assert len(stripe_standin.standin.sessions) == 1


def test_stripe_out_of_reach_is_a_gateway_error() -> None:
    settings = StripeSettings(
        api_key="sk_test_x", webhook_secret=SECRET, api_base="http://127.0.0.1:9", max_network_retries=0
    )
    with pytest.raises(GatewayError, match="Stripe refused the checkout"):
        StripeGateway(settings).create_checkout(order())


def test_a_genuine_event_verifies_and_reads_as_a_payment(stripe_standin: ServedStandIn) -> None:
    session = checkout_session()
    body, header = signed(event("checkout.session.completed", session), SECRET)
    meaning = checkout_event(gateway(stripe_standin).verify_event(body, header))
    assert meaning.outcome == "paid" and meaning.payment is not None
    assert meaning.payment.checkout_id == session["id"]
    assert meaning.payment.payment_intent == session["payment_intent"]
    assert (meaning.payment.minutes, meaning.payment.amount_cents) == (60, 12900)
    assert meaning.payment.email == "ana@example.com"


@pytest.mark.parametrize(
    "forge",
    [
        lambda body, header: (body, header.replace("v1=", "v1=0")),
        lambda body, header: (body.replace(b"12900", b"99999"), header),
        lambda body, header: (body, signed(json.loads(body), "whsec_someone_else")[1]),
        lambda body, header: (body, signed(json.loads(body), SECRET, timestamp=int(time.time()) - 301)[1]),
        lambda body, header: (body, ""),
    ],
    ids=["bad-signature", "tampered-body", "wrong-secret", "stale-timestamp", "no-header"],
)
def test_a_forged_or_stale_event_is_rejected(stripe_standin: ServedStandIn, forge: object) -> None:
    body, header = signed(event("checkout.session.completed", checkout_session()), SECRET)
    bad_body, bad_header = forge(body, header)  # type: ignore[operator]
    with pytest.raises(WebhookRejected):
        gateway(stripe_standin).verify_event(bad_body, bad_header)


def test_a_signed_body_that_is_not_json_is_rejected(stripe_standin: ServedStandIn) -> None:
    body, header = signed("{not json", SECRET)
    with pytest.raises(WebhookRejected, match="not a JSON"):
        gateway(stripe_standin).verify_event(body, header)


@pytest.mark.parametrize(
    ("event_type", "changes", "outcome"),
    [
        ("checkout.session.completed", {"payment_status": "unpaid"}, "unpaid"),
        ("checkout.session.async_payment_succeeded", {}, "paid"),
        ("checkout.session.async_payment_failed", {"payment_status": "unpaid"}, "ignored"),
        ("checkout.session.expired", {"status": "expired", "payment_status": "unpaid"}, "ignored"),
        ("checkout.session.completed", {"metadata": {"sku": ""}}, "ignored"),
    ],
)
def test_what_each_checkout_event_means(event_type: str, changes: dict[str, object], outcome: str) -> None:
    verified = stripe.Event.construct_from(event(event_type, checkout_session(**changes)), "sk_test")
    assert checkout_event(verified).outcome == outcome


def test_a_customer_stripe_no_longer_knows_is_replaced(stripe_standin: ServedStandIn) -> None:
    """The account remembers cus_gone, deleted in the dashboard: the checkout still opens, for a live customer."""
    url = gateway(stripe_standin).create_checkout(order(stripe_customer_id="cus_gone"))
    session = next(iter(stripe_standin.standin.sessions.values()))
    assert url == session["url"] and session["customer"] in stripe_standin.standin.customers


def test_the_stand_in_treats_idempotency_keys_as_stripe_does(stripe_standin: ServedStandIn) -> None:
    """Same key, same parameters: the first answer again. Same key, other parameters: a 400 idempotency_error."""
    client = stripe.StripeClient("sk_test_keys", base_addresses={"api": stripe_standin.url})
    first = client.v1.payment_intents.create({"amount": 500, "currency": "usd"}, {"idempotency_key": "k-1"})
    again = client.v1.payment_intents.create({"amount": 500, "currency": "usd"}, {"idempotency_key": "k-1"})
    assert again.id == first.id and len(stripe_standin.standin.payment_intents) == 1
    with pytest.raises(stripe.IdempotencyError) as refused:
        client.v1.payment_intents.create({"amount": 900, "currency": "usd"}, {"idempotency_key": "k-1"})
    assert refused.value.http_status == 400
    stripe_standin.standin.forget_idempotency_keys()  # a day later
    later = client.v1.payment_intents.create({"amount": 900, "currency": "usd"}, {"idempotency_key": "k-1"})
    assert later.id != first.id and len(stripe_standin.standin.payment_intents) == 2


def test_a_customers_payments_are_listed_newest_first_page_by_page(stripe_standin: ServedStandIn) -> None:
    standin = stripe_standin.standin
    mine = [paid_intent(standin, 100 * n, customer="cus_mine", card="4242424242424242") for n in range(1, 6)]
    paid_intent(standin, 999, customer="cus_other")
    for n, pid in enumerate(mine):
        standin.payment_intents[pid]["created"] = 1_800_000_000 + n
    client = gateway(stripe_standin).client
    listed = client.v1.payment_intents.list({"customer": "cus_mine", "limit": 2})
    assert [i.id for i in listed.auto_paging_iter()] == mine[::-1]
    one = client.v1.payment_intents.retrieve(mine[0])
    assert one.payment_method in standin.payment_methods, "the card that paid, as Stripe shows it"
    assert standin.payment_methods[str(one.payment_method)]["customer"] == "cus_mine"


def test_a_customer_deleted_within_a_day_is_replaced_not_replayed(stripe_standin: ServedStandIn) -> None:
    """The key that made the lost customer would replay it: the replacement's key names the customer it replaces."""
    gw = gateway(stripe_standin)
    lost = gw.customer_for("ana@example.com")
    del stripe_standin.standin.customers[lost]  # deleted in the dashboard an hour later
    url = gw.create_checkout(order(stripe_customer_id=lost))
    session = next(iter(stripe_standin.standin.sessions.values()))
    assert url == session["url"] and session["customer"] in stripe_standin.standin.customers
    assert session["customer"] != lost
