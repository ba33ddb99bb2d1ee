"""The HTTP API as a browser, Stripe and staff reach it: the local stack's server, handlers and stand-in."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
import requests

from blockhours_dev.local import LocalStack
from stripe_events import checkout_session, event, opened, signed, stack_store

TERMS = "2026-12-06"


@pytest.fixture
def api(stack: LocalStack) -> str:
    return stack.url


def scan_count(stack: LocalStack) -> int:
    return boto3.client("dynamodb", endpoint_url=stack.aws_endpoint).scan(TableName=stack.table, Select="COUNT")[
        "Count"
    ]


def buy(api: str, email: str, sku: str = "block-60", **extra: Any) -> requests.Response:
    body = {"sku": sku, "email": email, "terms_version": TERMS, "terms_accepted": True, **extra}
    return requests.post(f"{api}/api/checkout", json=body, timeout=10)


def customer(api: str, email: str) -> requests.Response:
    return requests.get(f"{api}/api/customers/{email}", timeout=10)


def post_event(api: str, payload: dict[str, Any] | str, secret: str, timestamp: int | None = None) -> requests.Response:
    body, header = signed(payload, secret, timestamp)
    headers = {"Stripe-Signature": header, "Content-Type": "application/json"}
    return requests.post(f"{api}/api/stripe/webhook", data=body, headers=headers, timeout=10)


@pytest.fixture
def shop(stack: LocalStack) -> Any:
    """The stack's ledger, where the shop records each checkout it opens."""
    return stack_store(stack)


@pytest.fixture
def secret(stack: LocalStack) -> str:
    assert stack.standin is not None
    return stack.standin.webhook_secret


def test_health(api: str) -> None:
    answer = requests.get(f"{api}/api/health", timeout=5)
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_buying_an_hour_leaves_sixty_minutes_on_the_balance(api: str) -> None:
    started = buy(api, "Hour.Buyer@Example.com")
    assert started.status_code == 200, started.text
    url = started.json()["url"]
    assert url.startswith(f"{api}/checkout/cs_test_")
    page = requests.get(url, timeout=5)
    assert "1-hour block" in page.text and "129.00 USD" in page.text

    paid = requests.post(url, data={"outcome": "paid"}, allow_redirects=False, timeout=30)
    assert paid.status_code == 303
    assert paid.headers["Location"].startswith(f"{api}/success/?session_id=cs_test_")

    found = customer(api, "hour.buyer@example.com")
    assert found.status_code == 200
    ledger = found.json()
    assert ledger["account"]["available_minutes"] == 60
    assert ledger["account"]["available_cents"] == 12900
    assert [lot["minutes"] for lot in ledger["lots"]] == [60]
    assert [(e["kind"], e["minutes"]) for e in ledger["entries"]] == [("purchase", 60)]


def test_a_price_tampered_in_the_browser_changes_nothing(api: str, stack: LocalStack) -> None:
    assert stack.standin is not None
    started = buy(api, "tamper@example.com", price_cents=1, amount_total=1, unit_amount=1, minutes=6000)
    assert started.status_code == 200
    sid = started.json()["url"].rsplit("/", 1)[1]
    session = stack.standin.sessions[sid]
    assert session["amount_total"] == 12900
    assert session["_line_items"][0]["price_data"]["unit_amount"] == "12900"
    assert session["metadata"]["minutes"] == "60"


def test_cancelling_or_a_declined_card_credits_nothing(api: str, stack: LocalStack) -> None:
    assert stack.standin is not None
    for outcome in ("canceled", "failed"):
        url = buy(api, f"{outcome}@example.com").json()["url"]
        answer = requests.post(url, data={"outcome": outcome}, allow_redirects=False, timeout=30)
        assert answer.status_code == 303 and answer.headers["Location"] == f"{api}/cancel/"
        assert customer(api, f"{outcome}@example.com").status_code == 404
    delivered = [(d.event["type"], d.status) for d in stack.standin.deliveries[-2:]]
    assert delivered == [("checkout.session.completed", 200), ("checkout.session.async_payment_failed", 200)]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"sku": "block-999"}, "unknown_sku"),
        ({"terms_accepted": False}, "terms_not_accepted"),
        ({"terms_version": "2020-01-01"}, "stale_terms"),
        ({"email": "not-an-email"}, "invalid_email"),
        ({"email": ""}, "invalid_email"),
        ({"email": 42}, "invalid_request"),
        ({"sku": None}, "invalid_request"),
        ({"terms_accepted": "maybe"}, "invalid_request"),
    ],
)
def test_a_bad_checkout_is_a_clear_400(api: str, change: dict[str, Any], code: str) -> None:
    body = {"sku": "block-60", "email": "ana@example.com", "terms_version": TERMS, "terms_accepted": True, **change}
    answer = requests.post(f"{api}/api/checkout", json=body, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"] == code
    assert len(answer.json()["message"]) > 20


def test_a_body_that_is_not_json_is_refused(api: str) -> None:
    broken = requests.post(
        f"{api}/api/checkout", data="{sku:", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["message"]
    form = requests.post(f"{api}/api/checkout", data={"sku": "block-60"}, timeout=10)
    assert form.status_code == 415 and form.json()["error"] == "unsupported_media_type"


def test_the_same_event_twenty_times_credits_once(api: str, secret: str, shop: Any) -> None:
    paid = event("checkout.session.completed", opened(shop, checkout_session(metadata={"email": "twenty@example.com"})))
    outcomes = [post_event(api, paid, secret).json()["outcome"] for _ in range(20)]
    assert outcomes == ["credited"] + ["duplicate"] * 19
    assert customer(api, "twenty@example.com").json()["account"]["available_minutes"] == 60


def test_async_success_after_completion_credits_once(api: str, secret: str, shop: Any) -> None:
    session = opened(shop, checkout_session(metadata={"email": "async@example.com"}))
    assert post_event(api, event("checkout.session.completed", session), secret).json()["outcome"] == "credited"
    later = post_event(api, event("checkout.session.async_payment_succeeded", session), secret)
    assert later.status_code == 200 and later.json()["outcome"] == "duplicate"
    assert len(customer(api, "async@example.com").json()["lots"]) == 1


def test_twenty_events_for_one_customer_from_eight_threads(api: str, secret: str, shop: Any) -> None:
    sessions = [
        opened(
            shop,
            checkout_session(amount_total=1000 + i, metadata={"email": "crowd@example.com", "minutes": str(10 + i)}),
        )
        for i in range(20)
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda s: post_event(api, event("checkout.session.completed", s), secret), sessions))
    assert [a.json()["outcome"] for a in answers] == ["credited"] * 20
    account = customer(api, "crowd@example.com").json()["account"]
    assert account["available_minutes"] == sum(10 + i for i in range(20))
    assert account["available_cents"] == sum(1000 + i for i in range(20))


@pytest.mark.parametrize("attack", ["forged", "stale", "malformed", "unsigned"])
def test_a_bad_webhook_is_400_and_writes_nothing(api: str, stack: LocalStack, secret: str, attack: str) -> None:
    paid = event("checkout.session.completed", checkout_session(metadata={"email": "attack@example.com"}))
    before = scan_count(stack)
    if attack == "forged":
        answer = post_event(api, paid, "whsec_an_attacker_guess")
    elif attack == "stale":
        answer = post_event(api, paid, secret, timestamp=int(time.time()) - 301)
    elif attack == "malformed":
        answer = post_event(api, '{"id": "evt_1", "type": ', secret)
    else:
        answer = requests.post(f"{api}/api/stripe/webhook", json=paid, timeout=10)
    assert answer.status_code == 400
    assert set(answer.json()) == {"error", "message"}
    assert scan_count(stack) == before
    assert customer(api, "attack@example.com").status_code == 404


def test_a_webhook_stamped_beyond_the_tolerance_ahead_is_400_and_writes_nothing(
    api: str, stack: LocalStack, secret: str
) -> None:
    """Stripe's SDK checks only the past; a signature dated ahead could be replayed until that time comes."""
    from blockhours import config

    tolerance = config.stripe().webhook_tolerance_seconds
    paid = event("checkout.session.completed", checkout_session(metadata={"email": "ahead@example.com"}))
    before = scan_count(stack)
    answer = post_event(api, paid, secret, timestamp=int(time.time()) + tolerance + 60)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_signature" and "future" in answer.json()["message"]
    assert scan_count(stack) == before
    assert customer(api, "ahead@example.com").status_code == 404


def test_a_webhook_stamped_a_little_ahead_is_accepted(api: str, secret: str, shop: Any) -> None:
    """A clock a few seconds ahead of ours (Stripe's, or ours behind) is within the tolerance."""
    paid = event(
        "checkout.session.completed", opened(shop, checkout_session(metadata={"email": "clock-skew@example.com"}))
    )
    answer = post_event(api, paid, secret, timestamp=int(time.time()) + 10)
    assert answer.status_code == 200 and answer.json()["outcome"] == "credited", answer.text
    assert customer(api, "clock-skew@example.com").json()["account"]["available_minutes"] == 60


def test_unpaid_and_foreign_events_are_acknowledged_and_credit_nothing(api: str, secret: str) -> None:
    unpaid = checkout_session(payment_status="unpaid", metadata={"email": "unpaid@example.com"})
    answer = post_event(api, event("checkout.session.completed", unpaid), secret)
    assert answer.status_code == 200 and answer.json()["outcome"] == "unpaid"
    other = post_event(api, event("customer.created", {"id": "cus_1", "object": "customer"}), secret)
    assert other.status_code == 200 and other.json()["outcome"] == "ignored"
    assert customer(api, "unpaid@example.com").status_code == 404


def test_errors_are_json_a_person_can_read(api: str) -> None:
    missing = customer(api, "nobody@example.com")
    assert missing.status_code == 404 and missing.json()["error"] == "unknown_customer"
    nowhere = requests.get(f"{api}/api/nowhere", timeout=5)
    assert nowhere.status_code == 404 and nowhere.json()["error"] == "not_found"


def test_the_staff_route_needs_iam_authorization(stack: LocalStack) -> None:
    """Behind API Gateway the route is IAM-authorized; the function refuses an event without that."""
    from blockhours.handlers import api as api_handler
    from blockhours_dev.local import LocalContext

    event = {
        "version": "2.0",
        "routeKey": "GET /api/customers/{email}",
        "rawPath": "/api/customers/ana@example.com",
        "rawQueryString": "",
        "headers": {},
        "pathParameters": {"email": "ana@example.com"},
        "requestContext": {
            "http": {"method": "GET", "path": "/api/customers/ana@example.com", "sourceIp": "203.0.113.9"},
            "stage": "$default",
            "requestId": "r1",
        },
        "isBase64Encoded": False,
    }
    answer = api_handler.handler(event, LocalContext("api"))  # type: ignore[arg-type]
    assert answer["statusCode"] == 403
    assert "staff" in answer["body"]
