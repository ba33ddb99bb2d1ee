"""Stripe's side of refunds and disputes, through signed webhooks into the local stack."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from blockhours_dev.local import LocalStack
from blockhours_dev.standin import StripeStandIn
from stripe_events import signed


def ledger(stack: LocalStack, email: str) -> dict[str, Any]:
    return requests.get(f"{stack.url}/api/customers/{email}", timeout=10).json()  # type: ignore[no-any-return]


def wait_for(check: Callable[[], bool], what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"waited {seconds} s for {what}")


def buy_hour(stack: LocalStack, standin: StripeStandIn) -> tuple[str, str]:
    email = f"events-{secrets.token_hex(3)}@example.com"
    body = {"sku": "block-60", "email": email, "terms_version": "2026-12-06", "terms_accepted": True}
    url = requests.post(f"{stack.url}/api/checkout", json=body, timeout=10).json()["url"]
    requests.post(url, data={"outcome": "paid"}, allow_redirects=False, timeout=30)
    sid = url.rsplit("/", 1)[1]
    return email, str(standin.sessions[sid]["payment_intent"])


def staff_refund(stack: LocalStack, email: str, **body: Any) -> requests.Response:
    return requests.post(f"{stack.url}/api/customers/{email}/refund", json=body, timeout=10)


def test_a_refund_request_reaches_stripe_through_the_queue(stack: LocalStack, standin: StripeStandIn) -> None:
    email, pi = buy_hour(stack, standin)
    answer = staff_refund(stack, email, minutes=15)
    assert answer.status_code == 202 and answer.json()["amount_cents"] == 3225
    wait_for(lambda: any(r["payment_intent"] == pi for r in standin.refunds.values()), "the worker's refund")
    wait_for(lambda: ledger(stack, email)["account"]["refunded_cents"] == 3225, "the ledger to record it")
    assert [r["amount"] for r in standin.refunds.values() if r["payment_intent"] == pi] == [3225]


def test_a_failed_refund_puts_the_money_back_and_alerts_the_shop(stack: LocalStack, standin: StripeStandIn) -> None:
    from blockhours_dev.local_streams import sent_mail

    email, pi = buy_hour(stack, standin)
    staff_refund(stack, email)
    wait_for(lambda: ledger(stack, email)["account"]["refunded_cents"] == 12900, "the refund")
    assert ledger(stack, email)["account"]["available_minutes"] == 0
    [refund] = [r for r in standin.refunds.values() if r["payment_intent"] == pi]

    standin.fail_refund(refund["id"], "expired_or_canceled_card")
    again = ledger(stack, email)
    assert (again["account"]["available_minutes"], again["account"]["available_cents"]) == (60, 12900)
    assert again["account"]["refunded_cents"] == 0
    failed = [e for e in again["entries"] if e["kind"] == "refund-failed"]
    assert len(failed) == 1 and "expired_or_canceled_card" in failed[0]["note"]
    wait_for(lambda: any("a refund to " + email in m.subject for m in sent_mail()), "the shop's alert email")

    standin.send_event("refund.failed", dict(refund))  # told twice: returned once
    assert ledger(stack, email)["account"]["available_cents"] == 12900


def test_a_dashboard_refund_told_twice_is_recorded_once(stack: LocalStack, standin: StripeStandIn) -> None:
    email, pi = buy_hour(stack, standin)
    standin.dashboard_refund(pi, 2150)  # charge.refunded, delivered
    delivery = standin.deliveries[-1]
    assert delivery.event["type"] == "charge.refunded" and delivery.status == 200
    payload = json.dumps(delivery.event)
    body, header = signed(payload, standin.webhook_secret)
    for _ in range(2):  # Stripe retries the same event, and charge.refunded may come again for it
        repeat = requests.post(
            f"{stack.url}/api/stripe/webhook", data=body, headers={"Stripe-Signature": header}, timeout=10
        )
        assert repeat.status_code == 200 and repeat.json()["outcome"] == "duplicate"
    standin.send_event("charge.refunded", dict(standin.charges[delivery.event["data"]["object"]["id"]]))
    after = ledger(stack, email)
    outside = [e for e in after["entries"] if e["kind"] == "refunded"]
    assert len(outside) == 1 and outside[0]["amount_cents"] == 2150 and outside[0]["actor"] == "stripe dashboard"
    assert after["lots"][0]["refunded_cents"] == 2150
    assert after["account"]["available_cents"] == 12900 - 2150
    assert after["account"]["available_minutes"] == 60 - after["lots"][0]["refunded_minutes"]


def test_a_dispute_freezes_sessions_and_refunds_until_it_closes(stack: LocalStack, standin: StripeStandIn) -> None:
    email, pi = buy_hour(stack, standin)
    standin.dispute(pi)
    assert ledger(stack, email)["account"]["status"] == "frozen"
    session = {"email": email, "minutes": 15, "technician": "Sam", "session_id": secrets.token_hex(4)}
    refused = requests.post(f"{stack.url}/api/sessions", json=session, timeout=10)
    assert refused.status_code == 409 and refused.json()["error"] == "account_frozen"
    assert "dispute" in refused.json()["message"] or "frozen" in refused.json()["message"]
    no_refund = staff_refund(stack, email)
    assert no_refund.status_code == 409 and no_refund.json()["error"] == "account_frozen"

    standin.dispute(pi, "won")
    assert ledger(stack, email)["account"]["status"] == "active"
    assert requests.post(f"{stack.url}/api/sessions", json=session, timeout=10).status_code == 200


def test_settling_a_deposit_refunds_what_is_left(stack: LocalStack, standin: StripeStandIn) -> None:
    email = f"deposit-{secrets.token_hex(3)}@example.com"
    body = {"sku": "deposit", "email": email, "terms_version": "2026-12-06", "terms_accepted": True}
    url = requests.post(f"{stack.url}/api/checkout", json=body, timeout=10).json()["url"]
    requests.post(url, data={"outcome": "paid"}, allow_redirects=False, timeout=30)
    pi = standin.sessions[url.rsplit("/", 1)[1]]["payment_intent"]
    session = {"email": email, "minutes": 20, "technician": "Sam", "session_id": secrets.token_hex(4)}
    assert requests.post(f"{stack.url}/api/sessions", json=session, timeout=10).status_code == 200
    settled = requests.post(f"{stack.url}/api/customers/{email}/settle", json={"technician": "Sam"}, timeout=10)
    assert settled.status_code == 200
    wait_for(lambda: any(r["payment_intent"] == pi for r in standin.refunds.values()), "the deposit's refund")
    assert [r["amount"] for r in standin.refunds.values() if r["payment_intent"] == pi] == [12900 - 6450]
