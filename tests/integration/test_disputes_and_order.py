"""Stripe's outcomes and orders, through signed webhooks into the local stack: disputes with every outcome,
events that arrive before the payment they refer to, and refunds that pay what is owed first."""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any

import pytest
import requests
from test_refund_events import ledger, wait_for

from blockhours_dev.local import LocalStack
from blockhours_dev.standin import StripeStandIn
from conftest import finished_job
from stripe_events import FIXTURES, event, signed

DECLINED = "4000000000000341"


def open_checkout(stack: LocalStack, sku: str = "block-60", email: str = "") -> tuple[str, str]:
    email = email or f"money-{secrets.token_hex(4)}@example.com"
    body = {"sku": sku, "email": email, "terms_version": "2026-12-06", "terms_accepted": True}
    answer = requests.post(f"{stack.url}/api/checkout", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return email, answer.json()["url"]


def buy(stack: LocalStack, standin: StripeStandIn, sku: str = "block-60", card: str = "") -> tuple[str, str]:
    """A client buys through the shop page and pays on the (stand-in) hosted checkout: (email, PaymentIntent)."""
    email, url = open_checkout(stack, sku)
    form = {"outcome": "paid"} | ({"card": card} if card else {})
    requests.post(url, data=form, allow_redirects=False, timeout=30)
    return email, str(standin.sessions[url.rsplit("/", 1)[1]]["payment_intent"])


def session(stack: LocalStack, email: str, minutes: int, **extra: Any) -> requests.Response:
    body = {"email": email, "minutes": minutes, "technician": "Sam", "session_id": secrets.token_hex(4)} | extra
    return requests.post(f"{stack.url}/api/sessions", json=body, timeout=30)


def post(stack: LocalStack, evt: dict[str, Any]) -> requests.Response:
    assert stack.standin is not None
    body, header = signed(evt, stack.standin.webhook_secret)
    headers = {"Stripe-Signature": header, "Content-Type": "application/json"}
    return requests.post(f"{stack.url}/api/stripe/webhook", data=body, headers=headers, timeout=30)


def dispute_event(event_type: str, pi: str, status: str, amount: int = 12900, dispute_id: str = "") -> dict[str, Any]:
    dispute = copy.deepcopy(FIXTURES["dispute"])
    dispute.update(id=dispute_id or f"dp_{pi[3:]}", payment_intent=pi, amount=amount, status=status, currency="usd")
    return event(event_type, dispute)


def entries(stack: LocalStack, email: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in ledger(stack, email)["entries"] if e["kind"] == kind]


# --- 1. a lost dispute takes the money back out --------------------------------------------------------


@pytest.mark.parametrize("order", ["as Stripe sends them", "closed first", "withdrawn first"])
def test_a_lost_dispute_takes_what_is_left_and_owes_what_was_used(
    stack: LocalStack, standin: StripeStandIn, order: str
) -> None:
    email, pi = buy(stack, standin)
    assert session(stack, email, 15).status_code == 200  # 15 of 60 minutes used: $32.25 of $129.00
    events = {
        "created": dispute_event("charge.dispute.created", pi, "needs_response"),
        "withdrawn": dispute_event("charge.dispute.funds_withdrawn", pi, "needs_response"),
        "closed": dispute_event("charge.dispute.closed", pi, "lost"),
    }
    sequence = {
        "as Stripe sends them": ["created", "withdrawn", "closed"],
        "closed first": ["closed", "withdrawn", "created"],
        "withdrawn first": ["withdrawn", "closed", "created"],
    }[order]
    for name in sequence + sequence:  # each delivered twice: the second time changes nothing
        assert post(stack, events[name]).status_code == 200

    after = ledger(stack, email)
    account, (lot,) = after["account"], after["lots"]
    assert (account["available_minutes"], account["available_cents"]) == (0, 0)
    assert (lot["charged_back_minutes"], lot["charged_back_cents"]) == (45, 9675)
    assert account["charged_back_cents"] == 9675 and account["owed_cents"] == 3225
    assert account["status"] == "frozen" and account["dispute_holds"] == 1
    (debt,) = after["debts"]
    assert (debt["kind"], debt["amount_cents"], debt["status"]) == ("dispute", 3225, "open")
    (chargeback,) = entries(stack, email, "chargeback")
    assert chargeback["amount_cents"] == 9675 and "$32.25 for time already used is owed" in chargeback["note"]
    listed = requests.get(f"{stack.url}/api/debts", timeout=10).json()["debts"]
    assert any(d["debt_id"] == debt["debt_id"] for d in listed)  # staff see it with the other debts

    refused = session(stack, email, 15)
    assert refused.status_code == 409 and refused.json()["error"] == "account_frozen"
    if order == "as Stripe sends them":  # the shop decides not to chase the $32.25: waived, owed no more
        path = f"{stack.url}/api/customers/{email}/debts/{debt['debt_id']}/waive"
        waived = requests.post(path, json={"technician": "Kim"}, timeout=10)
        assert waived.status_code == 200 and waived.json()["account"]["owed_cents"] == 0
        assert [d["status"] for d in waived.json()["debts"]] == ["waived"]
        assert requests.post(path, json={}, timeout=10).json()["error"] == "debt_closed"
    released = requests.post(f"{stack.url}/api/customers/{email}/release", json={"technician": "Kim"}, timeout=10)
    assert released.status_code == 200 and released.json()["account"]["status"] == "active"
    again = requests.post(f"{stack.url}/api/customers/{email}/release", json={}, timeout=10)
    assert again.status_code == 409 and again.json()["error"] == "not_on_hold"
    assert not any(r["payment_intent"] == pi for r in standin.refunds.values())  # nothing ever went back


def test_a_dispute_the_shop_wins_gives_back_what_was_withdrawn(stack: LocalStack, standin: StripeStandIn) -> None:
    email, pi = buy(stack, standin)
    for name, status in (("created", "needs_response"), ("funds_withdrawn", "needs_response")):
        assert post(stack, dispute_event(f"charge.dispute.{name}", pi, status)).status_code == 200
    assert ledger(stack, email)["account"]["available_cents"] == 0
    for name, status in (("closed", "won"), ("funds_reinstated", "won"), ("closed", "won")):
        assert post(stack, dispute_event(f"charge.dispute.{name}", pi, status)).status_code == 200
    account = ledger(stack, email)["account"]
    assert (account["available_minutes"], account["available_cents"], account["status"]) == (60, 12900, "active")
    assert account["charged_back_cents"] == 0 and account["owed_cents"] == 0
    assert session(stack, email, 15).status_code == 200


def test_no_refund_reaches_stripe_while_a_dispute_is_open(stack: LocalStack, standin: StripeStandIn) -> None:
    """The refund set aside before the dispute waits; won, it goes on; the other client's, lost, is cancelled."""
    email, pi = buy(stack, standin)
    lost_email, lost_pi = buy(stack, standin)
    standin.outage = True  # the worker cannot reach Stripe for now: the refunds stay set aside
    try:
        for who, paid in ((email, pi), (lost_email, lost_pi)):
            queued = requests.post(f"{stack.url}/api/customers/{who}/refund", json={"minutes": 30}, timeout=10)
            assert queued.status_code == 202, queued.text
            assert post(stack, dispute_event("charge.dispute.created", paid, "needs_response")).status_code == 200
    finally:
        standin.outage = False
    time.sleep(2)  # the worker may try again now: the accounts are on hold
    assert not any(r["payment_intent"] in (pi, lost_pi) for r in standin.refunds.values())

    post(stack, dispute_event("charge.dispute.closed", pi, "won"))
    wait_for(lambda: any(r["payment_intent"] == pi for r in standin.refunds.values()), "the refund to go on")
    wait_for(lambda: ledger(stack, email)["account"]["refunded_cents"] == 6450, "the refund to be recorded")

    post(stack, dispute_event("charge.dispute.closed", lost_pi, "lost"))
    after = ledger(stack, lost_email)
    assert [p["status"] for r in after["refunds"] for p in r["parts"]] == ["failed"]
    assert after["account"]["refunding_cents"] == 0 and after["account"]["charged_back_cents"] == 12900
    assert not any(r["payment_intent"] == lost_pi for r in standin.refunds.values())


# --- 2. events that arrive before what they refer to ---------------------------------------------------


def paid_session_event(standin: StripeStandIn, url: str) -> dict[str, Any]:
    """Pay on the hosted page with webhooks held back (as when the first delivery failed): the event Stripe owes."""
    sid = url.rsplit("/", 1)[1]
    held, standin.webhook_url = standin.webhook_url, ""
    try:
        requests.post(url, data={"outcome": "paid"}, allow_redirects=False, timeout=30)
    finally:
        standin.webhook_url = held
    return next(d.event for d in reversed(standin.deliveries) if d.event["data"]["object"].get("id") == sid)


def test_a_refund_and_a_dispute_before_the_credit_are_applied_once_it_lands(
    stack: LocalStack, standin: StripeStandIn
) -> None:
    email, url = open_checkout(stack)
    paid = paid_session_event(standin, url)
    pi = paid["data"]["object"]["payment_intent"]
    refund = standin.dashboard_refund(pi, 6450, announce=False)  # refunded from the dashboard while the credit waited
    refunded = event("refund.created", refund)
    for early in (refunded, refunded):
        answer = post(stack, early)
        assert answer.status_code == 200
    assert answer.json()["outcome"] == "duplicate"  # parked once
    assert requests.get(f"{stack.url}/api/customers/{email}", timeout=10).status_code == 404

    assert post(stack, paid).json()["outcome"] == "credited"
    after = ledger(stack, email)
    assert after["account"]["available_minutes"] == 30 and after["account"]["available_cents"] == 6450
    assert post(stack, refunded).json()["outcome"] == "duplicate"  # Stripe's retry of it: already applied
    assert post(stack, paid).json()["outcome"] == "duplicate"
    assert ledger(stack, email)["account"]["available_cents"] == 6450

    # a dispute opened before a credit freezes the account the moment the credit lands
    email, url = open_checkout(stack)
    paid = paid_session_event(standin, url)
    pi = paid["data"]["object"]["payment_intent"]
    assert post(stack, dispute_event("charge.dispute.created", pi, "needs_response")).json()["outcome"] == "parked"
    assert post(stack, paid).json()["outcome"] == "credited"
    assert ledger(stack, email)["account"]["status"] == "frozen"


def test_a_failure_before_its_dashboard_refund_takes_nothing(stack: LocalStack, standin: StripeStandIn) -> None:
    email, pi = buy(stack, standin)
    refund = standin.dashboard_refund(pi, 6450, announce=False)
    failed = dict(refund, status="failed", failure_reason="expired_or_canceled_card")
    assert post(stack, event("refund.failed", failed)).json()["outcome"] == "recorded"
    assert post(stack, event("refund.created", refund)).json()["outcome"] == "duplicate"
    account = ledger(stack, email)["account"]
    assert (account["available_minutes"], account["available_cents"], account["refunded_cents"]) == (60, 12900, 0)


def test_reconcile_lists_events_parked_for_over_an_hour(stack: LocalStack) -> None:
    stranger = f"pi_{secrets.token_hex(12)}"
    old = dispute_event("charge.dispute.created", stranger, "needs_response")
    old["created"] = int(time.time()) - 2 * 3600
    assert post(stack, old).json()["outcome"] == "parked"
    started = requests.post(f"{stack.url}/api/reports/reconcile", json={}, timeout=10)
    assert started.status_code == 202, started.text
    found = finished_job(stack.url, started.json()["job_id"])["discrepancies"]
    assert any(stranger in d["what"] and "parked" in d["what"] for d in found), found


# --- 3. credit is what the shop sold, in the shop's currency ------------------------------------------


def test_a_checkout_the_shop_never_opened_is_reported_not_credited(stack: LocalStack) -> None:
    from blockhours_dev.local_streams import sent_mail
    from stripe_events import checkout_session

    email = f"stranger-{secrets.token_hex(3)}@example.com"
    forged = checkout_session(metadata={"email": email, "minutes": "6000"})
    answer = post(stack, event("checkout.session.completed", forged))
    assert answer.status_code == 200 and answer.json()["outcome"] == "not_ours"
    assert requests.get(f"{stack.url}/api/customers/{email}", timeout=10).status_code == 404
    wait_for(lambda: any(email in m.body and "did not credit" in m.body for m in sent_mail()), "the shop's alert")


@pytest.mark.parametrize(
    "change", [{"currency": "eur"}, {"amount_total": 100}, {"metadata": {"minutes": "600"}}], ids=str
)
def test_a_payment_other_than_the_checkout_the_shop_opened_is_not_credited(
    stack: LocalStack, standin: StripeStandIn, change: dict[str, Any]
) -> None:
    email, url = open_checkout(stack)
    paid = paid_session_event(standin, url)
    session_ = paid["data"]["object"]
    session_["metadata"] = session_["metadata"] | change.pop("metadata", {})
    session_.update(change)
    assert post(stack, paid).json()["outcome"] == "not_ours"
    assert requests.get(f"{stack.url}/api/customers/{email}", timeout=10).status_code == 404


def test_an_event_from_the_other_mode_is_refused(stack: LocalStack, standin: StripeStandIn) -> None:
    email, url = open_checkout(stack)
    paid = paid_session_event(standin, url)
    paid["livemode"] = True
    answer = post(stack, paid)
    assert answer.status_code == 400 and answer.json()["error"] == "wrong_mode"
    assert requests.get(f"{stack.url}/api/customers/{email}", timeout=10).status_code == 404


# --- 6. refunds settle debts first ----------------------------------------------------------------------


def owing_client(stack: LocalStack, standin: StripeStandIn) -> str:
    """A deposit paid with a card that declines later charges, and a session 30 minutes past it: $64.50 owed."""
    email, _ = buy(stack, standin, "deposit", card=DECLINED)
    deposit_minutes = ledger(stack, email)["account"]["available_minutes"]
    assert session(stack, email, deposit_minutes + 30).status_code == 200
    (debt,) = ledger(stack, email)["debts"]
    assert debt["status"] == "open" and debt["amount_cents"] == 6450
    return email


def test_a_refund_pays_what_is_owed_first_then_returns_the_rest(stack: LocalStack, standin: StripeStandIn) -> None:
    email = owing_client(stack, standin)
    _, url = open_checkout(stack, "block-60", email)
    requests.post(url, data={"outcome": "paid"}, allow_redirects=False, timeout=30)
    pi = standin.sessions[url.rsplit("/", 1)[1]]["payment_intent"]
    queued = requests.post(f"{stack.url}/api/customers/{email}/refund", json={}, timeout=10)
    assert queued.status_code == 202, queued.text
    assert queued.json()["amount_cents"] == 12900 - 6450
    after = ledger(stack, email)
    assert [d["status"] for d in after["debts"]] == ["paid"] and after["account"]["owed_cents"] == 0
    (set_off,) = entries(stack, email, "set-off")
    assert set_off["amount_cents"] == 6450 and "paid from the balance" in set_off["note"]
    wait_for(lambda: [r["amount"] for r in standin.refunds.values() if r["payment_intent"] == pi] == [6450], "refund")


def test_a_balance_smaller_than_the_debt_goes_nowhere(stack: LocalStack, standin: StripeStandIn) -> None:
    email = owing_client(stack, standin)
    _, url = open_checkout(stack, "block-30", email)  # $69.00 against $64.50 owed... and a second debt
    requests.post(url, data={"outcome": "paid"}, allow_redirects=False, timeout=30)
    assert session(stack, email, 15).status_code == 200  # leaves $34.50, less than what is owed
    refused = requests.post(f"{stack.url}/api/customers/{email}/refund", json={}, timeout=10)
    assert refused.status_code == 409 and refused.json()["error"] == "debt_exceeds_balance"
    assert "nothing goes back to the card" in refused.json()["message"]
    after = ledger(stack, email)
    assert after["account"]["available_cents"] == 6900 - 3450 and after["refunds"] == []


def test_a_debt_waived_before_the_bank_gives_the_money_back_is_not_taken_off_twice(
    stack: LocalStack, standin: StripeStandIn
) -> None:
    email, pi = buy(stack, standin)
    assert session(stack, email, 15).status_code == 200
    post(stack, dispute_event("charge.dispute.funds_withdrawn", pi, "needs_response"))
    (debt,) = ledger(stack, email)["debts"]
    path = f"{stack.url}/api/customers/{email}/debts/{debt['debt_id']}/waive"
    assert requests.post(path, json={}, timeout=10).status_code == 200
    post(stack, dispute_event("charge.dispute.closed", pi, "won"))
    account = ledger(stack, email)["account"]
    assert (account["owed_cents"], account["available_cents"], account["status"]) == (0, 9675, "active")
