"""Overage at Stripe, through the HTTP API of the local stack: keys that name their client, a charge found
again after Stripe forgets its key, the card that paid the lot, and an overage that cannot be charged always
ending as a debt with its pay link and its dunning schedule."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
import requests
import stripe

from blockhours.adapters.dynamo import DynamoLedger
from blockhours.adapters.stripe_keys import client_of, idempotency_key
from blockhours.domain.changes import Change, Outcome, Update
from blockhours_dev.local import LocalStack
from blockhours_dev.standin import StripeStandIn

TERMS = "2026-12-06"
CARD_A, CARD_B = "4242424242424242", "5555555555554444"


def new_email() -> str:
    return f"client-{secrets.token_hex(4)}@example.com"


def buy(stack: LocalStack, email: str, sku: str, card: str = CARD_A) -> None:
    body = {"sku": sku, "email": email, "terms_version": TERMS, "terms_accepted": True}
    url = requests.post(f"{stack.url}/api/checkout", json=body, timeout=10).json()["url"]
    paid = requests.post(url, data={"outcome": "paid", "card": card}, allow_redirects=False, timeout=30)
    assert paid.status_code == 303


def redeem(stack: LocalStack, email: str, minutes: int, session_id: str) -> requests.Response:
    body = {"email": email, "minutes": minutes, "technician": "sam", "note": "server move", "session_id": session_id}
    return requests.post(f"{stack.url}/api/sessions", json=body, timeout=30)


def redeem_in_this_process(email: str, minutes: int, session_id: str) -> dict[str, Any]:
    """The API function called here rather than in an instance of its own, so a test can break one of its parts."""
    from blockhours.handlers import api
    from blockhours_dev.local import STAFF_ARN, LocalContext

    body = {"email": email, "minutes": minutes, "technician": "sam", "note": "server move", "session_id": session_id}
    event = {
        "version": "2.0",
        "routeKey": "POST /api/sessions",
        "rawPath": "/api/sessions",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": "POST", "path": "/api/sessions", "sourceIp": "127.0.0.1"},
            "authorizer": {"iam": {"userArn": STAFF_ARN}},
            "stage": "$default",
            "requestId": "in-process",
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }
    return api.handler(event, LocalContext("ApiFunction"))  # type: ignore[no-any-return]


def ledger(stack: LocalStack, email: str) -> dict[str, Any]:
    return requests.get(f"{stack.url}/api/customers/{email}", timeout=10).json()  # type: ignore[no-any-return]


def overage_charges(standin: StripeStandIn, email: str, session_id: str) -> list[dict[str, Any]]:
    """The PaymentIntents Stripe holds for one client's session: our ids are in their metadata."""
    return [
        intent
        for intent in standin.payment_intents.values()
        if intent["metadata"].get("kind") == "overage"
        and (intent["metadata"].get("email"), intent["metadata"].get("session_id")) == (email, session_id)
    ]


def card_of_lot(standin: StripeStandIn, lot: dict[str, Any]) -> str:
    return str(standin.payment_intents[lot["payment_intent"]]["payment_method"])


def test_two_clients_with_the_same_session_id_are_both_charged(stack: LocalStack, standin: StripeStandIn) -> None:
    """Session ids are unique per client only: the key names the client, so T-1001 charges each of them."""
    ana, ben = new_email(), new_email()
    for email in (ana, ben):
        buy(stack, email, "deposit")
    answers = [redeem(stack, email, 90, "T-1001") for email in (ana, ben)]
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    sessions = [a.json() for a in answers]
    assert [s["overage_status"] for s in sessions] == ["charged", "charged"]

    [ana_charge], [ben_charge] = (overage_charges(standin, email, "T-1001") for email in (ana, ben))
    assert ana_charge["id"] != ben_charge["id"]
    assert [ana_charge["id"], ben_charge["id"]] == [s["payment_intent"] for s in sessions]
    assert all(c["status"] == "succeeded" and c["amount"] == 6450 for c in (ana_charge, ben_charge))
    keys = {
        r.params["metadata"]["email"]: r.idempotency_key
        for r in standin.requests
        if (r.method, r.path) == ("POST", "/v1/payment_intents")
        and r.params["metadata"].get("session_id") == "T-1001"
        and r.params["metadata"].get("email") in (ana, ben)  # the stand-in is shared by the whole session
    }
    assert keys == {email: idempotency_key("overage", email, "T-1001") for email in (ana, ben)}
    assert all(client_of(email) in key and key.endswith("/T-1001") for email, key in keys.items())
    assert [ledger(stack, email)["account"]["owed_cents"] for email in (ana, ben)] == [0, 0]


def test_a_charge_made_before_the_ledger_crashed_is_found_after_stripe_forgot_its_key(
    stack: LocalStack, standin: StripeStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = new_email()
    buy(stack, email, "deposit")
    real_commit = DynamoLedger.commit

    def crash(self: DynamoLedger, change: Change) -> Outcome:
        if any(isinstance(w, Update) and "overage_status" in w.set for w in change.writes):
            raise TimeoutError("the Lambda timed out right after Stripe charged the card")
        return real_commit(self, change)

    monkeypatch.setattr(DynamoLedger, "commit", crash)  # in this process: the handler is called here
    crashed = redeem_in_this_process(email, 90, "late-1")
    assert crashed["statusCode"] == 500, crashed
    assert len(overage_charges(standin, email, "late-1")) == 1, "Stripe charged; the ledger does not know yet"

    monkeypatch.setattr(DynamoLedger, "commit", real_commit)
    standin.forget_idempotency_keys()  # the retry comes after Stripe's 24-hour key window
    retried = redeem(stack, email, 90, "late-1")
    assert retried.status_code == 200, retried.text
    [charge] = overage_charges(standin, email, "late-1")
    assert retried.json()["overage_status"] == "charged" and retried.json()["payment_intent"] == charge["id"]
    after = ledger(stack, email)
    assert [e["kind"] for e in after["entries"]].count("payment") == 1
    assert after["account"]["owed_cents"] == 0
    assert retried.json()["recorded_now"] is False and "only its overage was finished now" in retried.json()["summary"]
    once_more = redeem(stack, email, 90, "late-1").json()
    said = ("summary", "recorded_now")
    assert {k: v for k, v in once_more.items() if k not in said} == {
        k: v for k, v in retried.json().items() if k not in said
    }, "sent once more: the same outcome"
    assert once_more["summary"].endswith("; nothing changed")


def test_the_overage_goes_to_the_card_that_paid_the_deposit_not_a_strangers_newer_card(
    stack: LocalStack, standin: StripeStandIn
) -> None:
    """Anyone may buy time for a client's email; a stranger's newer card still does not pay the client's overage."""
    email = new_email()
    buy(stack, email, "deposit", card=CARD_A)
    buy(stack, email, "block-30", card=CARD_B)  # a gift, or someone's attempt to steer the charge
    deposit, block = sorted(ledger(stack, email)["lots"], key=lambda lot: lot["kind"] != "deposit")
    card_a, card_b = card_of_lot(standin, deposit), card_of_lot(standin, block)
    saved = sorted(standin.payment_methods.values(), key=lambda pm: -int(pm["created"]))
    assert card_a != card_b and card_b in [pm["id"] for pm in saved if pm["customer"]], "card B is saved too"

    session = redeem(stack, email, 120, "whose-card-1").json()
    assert session["overage_status"] == "charged" and session["overage_minutes"] == 30
    [charge] = overage_charges(standin, email, "whose-card-1")
    assert charge["payment_method"] == card_a
    sent = next(r for r in standin.requests if r.idempotency_key == idempotency_key("overage", email, "whose-card-1"))
    assert sent.params["payment_method"] == card_a, "named explicitly, never left to Stripe"


def test_a_lot_whose_payment_stripe_no_longer_knows_leaves_a_debt_with_a_pay_link(
    stack: LocalStack, standin: StripeStandIn
) -> None:
    """No usable card (here: the deposit's payment is gone, as after switching keys): a debt, never 'charged'."""
    email = new_email()
    buy(stack, email, "deposit")
    [lot] = ledger(stack, email)["lots"]
    del standin.payment_intents[lot["payment_intent"]]
    session = redeem(stack, email, 75, "no-card-1").json()
    assert session["overage_status"] == "owed" and session["pay_url"].startswith(f"{stack.url}/pay/plink_")
    assert "No such payment_intent" in session["overage_problem"]
    assert_owed_with_dunning(stack, email, "no-card-1", 3225)


def test_a_key_stripe_refuses_still_ends_the_overage_as_a_debt(stack: LocalStack, standin: StripeStandIn) -> None:
    """Stripe answers idempotency_error (the key went out with other parameters): the session does not stay pending."""
    email = new_email()
    buy(stack, email, "deposit")
    key = idempotency_key("overage", email, "clash-1")
    other = stripe.StripeClient("sk_test_other", base_addresses={"api": stack.url})
    other.v1.payment_intents.create({"amount": 100, "currency": "usd"}, {"idempotency_key": key})
    session = redeem(stack, email, 75, "clash-1")
    assert session.status_code == 200, session.text
    assert (
        session.json()["overage_status"] == "owed"
        and "can only be used with the same parameters" in (session.json()["overage_problem"])
    )
    assert overage_charges(standin, email, "clash-1") == []
    assert_owed_with_dunning(stack, email, "clash-1", 3225)


def test_stripe_out_of_reach_leaves_the_session_for_a_retry_that_finishes_it(
    stack: LocalStack, standin: StripeStandIn
) -> None:
    email = new_email()
    buy(stack, email, "deposit")
    standin.outage = True
    try:
        down = redeem(stack, email, 90, "outage-1")
    finally:
        standin.outage = False
    assert down.status_code == 502 and down.json()["error"] == "overage_pending"
    assert "send the same session again, with session id outage-1" in down.json()["message"]
    assert ledger(stack, email)["account"]["available_minutes"] == 0, "the session itself is recorded"

    again = redeem(stack, email, 90, "outage-1")
    assert again.status_code == 200 and again.json()["overage_status"] == "charged", again.text
    assert len(overage_charges(standin, email, "outage-1")) == 1


def assert_owed_with_dunning(stack: LocalStack, email: str, session_id: str, cents: int) -> None:
    assert ledger(stack, email)["account"]["owed_cents"] == cents
    debts = requests.get(f"{stack.url}/api/debts", timeout=10).json()["debts"]
    [debt] = [d for d in debts if d["email"] == email]
    assert (debt["debt_id"], debt["amount_cents"], debt["status"]) == (f"overage-{session_id}", cents, "open")
    assert debt["pay_url"] and debt["notices"], "a notice now, reminders on the schedule"
    assert requests.get(debt["pay_url"], allow_redirects=False, timeout=10).status_code == 303, "the link opens"


def test_an_overage_stripe_could_not_be_asked_for_is_finished_by_the_daily_run(
    stack: LocalStack, standin: StripeStandIn
) -> None:
    """Nobody sends the session again: the next daily run charges it, so no overage stays pending for good."""
    email = new_email()
    buy(stack, email, "deposit")
    standin.outage = True
    try:
        assert redeem(stack, email, 90, "outage-2").json()["error"] == "overage_pending"
        still_down = requests.post(f"{stack.url}/_local/sweep", timeout=60)  # Stripe still out: kept for tomorrow
        assert still_down.status_code == 200, still_down.text
    finally:
        standin.outage = False
    assert [s for s in ledger(stack, email)["entries"] if s["kind"] == "payment"] == []

    assert requests.post(f"{stack.url}/_local/sweep", timeout=60).status_code == 200
    assert len(overage_charges(standin, email, "outage-2")) == 1
    again = redeem(stack, email, 90, "outage-2")  # the technician's resend, late, changes nothing
    assert again.status_code == 200 and again.json()["overage_status"] == "charged"
    assert len(overage_charges(standin, email, "outage-2")) == 1
