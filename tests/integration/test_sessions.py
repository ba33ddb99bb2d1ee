"""Technician sessions through the HTTP API of the local stack: billing, FIFO, retries, overage, deposits."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from blockhours import catalog, services
from blockhours.adapters.dynamo import DynamoLedger
from blockhours.adapters.stripe_keys import idempotency_key
from blockhours_dev.local import LocalStack
from blockhours_dev.standin import StripeStandIn

TERMS = "2026-12-06"
AUTH_REQUIRED, DECLINED = "4000002760003184", "4000000000000341"


def new_email() -> str:
    return f"client-{secrets.token_hex(4)}@example.com"


def buy(stack: LocalStack, email: str, sku: str = "block-60", card: str = "4242424242424242") -> None:
    body = {"sku": sku, "email": email, "terms_version": TERMS, "terms_accepted": True}
    url = requests.post(f"{stack.url}/api/checkout", json=body, timeout=10).json()["url"]
    paid = requests.post(url, data={"outcome": "paid", "card": card}, allow_redirects=False, timeout=30)
    assert paid.status_code == 303


def redeem(stack: LocalStack, email: str, used: int, **extra: Any) -> requests.Response:
    body = {
        "email": email,
        "minutes": used,
        "technician": "sam",
        "note": "printer driver",
        "session_id": secrets.token_hex(6),
        **extra,
    }
    return requests.post(f"{stack.url}/api/sessions", json=body, timeout=30)


def account(stack: LocalStack, email: str) -> dict[str, Any]:
    return requests.get(f"{stack.url}/api/customers/{email}", timeout=10).json()  # type: ignore[no-any-return]


def test_a_session_is_billed_in_increments_from_the_oldest_lot(stack: LocalStack) -> None:
    email = new_email()
    buy(stack, email, "block-30")
    # Stripe's timestamps are whole seconds: within one, the lot written first is the older
    buy(stack, email, "block-60")
    answer = redeem(stack, email, 44)
    assert answer.status_code == 200, answer.text
    session = answer.json()
    assert (session["requested_minutes"], session["billed_minutes"]) == (44, 45)
    assert [(d["minutes"], d["amount_cents"]) for d in session["draws"]] == [(30, 6900), (15, 3225)]
    assert (session["balance_minutes_after"], session["balance_cents_after"]) == (45, 9675)
    assert "Balance left: 45 min ($96.75)" in session["summary"]

    ledger = account(stack, email)
    assert (ledger["account"]["available_minutes"], ledger["account"]["available_cents"]) == (45, 9675)
    kinds = [(e["kind"], e["minutes"], e["actor"]) for e in ledger["entries"]]
    assert ("redemption", 45, "sam") in kinds


def test_a_short_session_is_billed_the_minimum(stack: LocalStack) -> None:
    email = new_email()
    buy(stack, email)
    assert redeem(stack, email, 3).json()["billed_minutes"] == catalog.load().billing.minimum_minutes


def test_a_retried_session_id_records_once(stack: LocalStack) -> None:
    email = new_email()
    buy(stack, email)
    first = redeem(stack, email, 20, session_id="visit-42")
    again = redeem(stack, email, 20, session_id="visit-42")
    assert first.status_code == again.status_code == 200
    said = ("summary", "recorded_now")  # the session is the first outcome; the words say it was recorded before
    assert {k: v for k, v in first.json().items() if k not in said} == {
        k: v for k, v in again.json().items() if k not in said
    }
    assert (first.json()["recorded_now"], again.json()["recorded_now"]) == (True, False)
    assert again.json()["summary"].startswith("session visit-42 was already recorded on ")
    assert again.json()["summary"].endswith(" by sam (20 min); nothing changed")
    assert account(stack, email)["account"]["available_minutes"] == 30
    conflict = redeem(stack, email, 25, session_id="visit-42")
    assert conflict.status_code == 409 and conflict.json()["error"] == "session_conflict"
    assert "already recorded with 20 minutes" in conflict.json()["message"]


def test_more_than_a_block_balance_is_refused_with_what_to_do(stack: LocalStack) -> None:
    email = new_email()
    buy(stack, email, "block-30")
    refused = redeem(stack, email, 45)
    assert refused.status_code == 409
    assert refused.json()["error"] == "insufficient_balance"
    assert "has 30 minutes; the session needs 45" in refused.json()["message"]
    assert "--charge-overage" in refused.json()["message"]
    assert account(stack, email)["account"]["available_minutes"] == 30


def test_a_block_overage_is_charged_when_the_technician_asks(stack: LocalStack, standin: StripeStandIn) -> None:
    email = new_email()
    buy(stack, email, "block-30")
    answer = redeem(stack, email, 45, charge_overage=True, session_id="over-1")
    session = answer.json()
    assert session["overage_minutes"] == 15 and session["overage_cents"] == 3225
    assert session["overage_status"] == "charged"
    charge = next(r for r in standin.requests if r.idempotency_key == idempotency_key("overage", email, "over-1"))
    assert (charge.method, charge.path) == ("POST", "/v1/payment_intents")
    assert charge.params["amount"] == "3225" and charge.params["off_session"] == "true"
    assert account(stack, email)["account"]["owed_cents"] == 0


def test_a_deposit_charges_overage_to_the_saved_card(stack: LocalStack, standin: StripeStandIn) -> None:
    email = new_email()
    buy(stack, email, "deposit")
    session = redeem(stack, email, 90, session_id="dep-1").json()
    assert session["covered_minutes"] == 60 and session["covered_cents"] == 12900
    assert session["overage_minutes"] == 30 and session["overage_status"] == "charged"
    key = idempotency_key("overage", email, "dep-1")
    charges = [r for r in standin.requests if r.path == "/v1/payment_intents" and r.idempotency_key == key]
    assert len(charges) == 1 and charges[0].params["amount"] == "6450"
    intent = standin.payment_intents[session["payment_intent"]]
    assert (
        intent["status"] == "succeeded" and intent["customer"] == account(stack, email)["account"]["stripe_customer_id"]
    )


@pytest.mark.parametrize("card", [AUTH_REQUIRED, DECLINED], ids=["authentication-required", "declined"])
def test_a_card_that_cannot_be_charged_leaves_a_debt_and_a_payment_link(
    stack: LocalStack, standin: StripeStandIn, card: str
) -> None:
    email = new_email()
    buy(stack, email, "deposit", card=card)
    session = redeem(stack, email, 75, session_id=f"owe-{card[-4:]}").json()
    assert session["overage_status"] == "owed" and session["overage_cents"] == 3225
    assert session["pay_url"].startswith(f"{stack.url}/pay/plink_")
    assert account(stack, email)["account"]["owed_cents"] == 3225
    kinds = [e["kind"] for e in account(stack, email)["entries"]]
    assert "overage" in kinds and "payment" not in kinds

    # The client pays the link: the webhook clears the debt, once.
    checkout = requests.get(session["pay_url"], allow_redirects=False, timeout=10)
    assert checkout.status_code == 303
    paid = requests.post(checkout.headers["Location"], data={"outcome": "paid"}, allow_redirects=False, timeout=30)
    assert paid.status_code == 303
    assert standin.deliveries[-1].status == 200
    after = account(stack, email)
    assert after["account"]["owed_cents"] == 0
    assert [e["kind"] for e in after["entries"]].count("payment") == 1
    assert requests.get(session["pay_url"], timeout=10).status_code == 410, "a paid link cannot be paid twice"


def test_settling_a_deposit_closes_it(stack: LocalStack) -> None:
    email = new_email()
    buy(stack, email, "deposit")
    redeem(stack, email, 30)
    settled = requests.post(f"{stack.url}/api/customers/{email}/settle", json={"technician": "sam"}, timeout=10)
    assert settled.status_code == 200, settled.text
    ledger = settled.json()
    assert ledger["account"]["available_minutes"] == 0
    assert ledger["entries"][-1]["kind"] == "settled" or "settled" in [e["kind"] for e in ledger["entries"]]
    assert all(lot["closed_at"] for lot in ledger["lots"])
    refused = redeem(stack, email, 15)
    assert refused.status_code == 409
    again = requests.post(f"{stack.url}/api/customers/{email}/settle", json={}, timeout=10)
    assert again.status_code == 409 and again.json()["error"] == "no_open_deposit"


def test_bad_session_requests_are_clear_400s(stack: LocalStack) -> None:
    for change in ({"minutes": 0}, {"minutes": -15}, {"minutes": 10**9}, {"minutes": "45"}, {"technician": ""}):
        answer = redeem(stack, new_email(), 45, **change)
        assert answer.status_code == 400, change
        assert answer.json()["error"] == "invalid_request"
    unknown = redeem(stack, new_email(), 45)
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_customer"


def test_fifty_concurrent_sessions_never_overdraw_five_hours(stack: LocalStack) -> None:
    """Eight technicians at once, 50 sessions of 15 minutes, 300 minutes to spend: exactly 20 fit."""
    email = new_email()
    buy(stack, email, "bundle-300")
    book = catalog.load()

    def one(i: int) -> str:
        request = services.SessionRequest(email, 15, f"tech-{i % 8}", "", f"rush-{i}")
        for _ in range(5):  # "busy" asks the caller to send the same session again, which is always safe
            try:
                services.redeem(book, DynamoLedger(stack.table), lambda: pytest.fail("no overage here"), request)
            except services.ShopError as refused:
                if refused.code != "busy":
                    return refused.code
            else:
                return "recorded"
        return "busy"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(one, range(50)))
    assert outcomes.count("recorded") == 20
    assert set(outcomes) <= {"recorded", "insufficient_balance"}
    ledger = account(stack, email)
    assert ledger["account"]["available_minutes"] == 0 and ledger["account"]["available_cents"] == 0
    assert all(lot["remaining_minutes"] >= 0 for lot in ledger["lots"])
    assert sum(e["amount_cents"] for e in ledger["entries"] if e["kind"] == "redemption") == 57900


def test_credit_holders_and_liability(stack: LocalStack) -> None:
    email = new_email()
    buy(stack, email, "block-60")
    holders = requests.get(f"{stack.url}/api/customers", timeout=10).json()["customers"]
    assert any(h["email"] == email and h["available_cents"] == 12900 for h in holders)
    report = requests.get(f"{stack.url}/api/reports/liability", timeout=10).json()
    assert report["total_cents"] == sum(h["available_cents"] for h in holders)
    assert report["by_age"][0]["label"] == "0-30 days" and report["by_age"][0]["cents"] >= 12900
