"""The shop's playbook through the local stack: quotes, trusted clients on account, and dunning on a clock.

The daily run is the stack's SweepFunction, invoked as EventBridge Scheduler invokes it, with the day set by the
test: the schedule's days are checked exactly, without waiting for them. (`/_local/sweep?now=` a later day only
previews: the CLI's route writes nothing dated ahead of the clock.)
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC
from typing import Any

import pytest
import requests

from blockhours import catalog, config, shop_time
from blockhours.adapters.stripe_keys import idempotency_key
from blockhours_dev.local import LocalStack
from blockhours_dev.local_streams import SentMail, sent_mail
from blockhours_dev.standin import StripeStandIn

DAY = 86_400
DECLINED = "4000000000000341"
TERMS = catalog.load().terms.version


def new_email() -> str:
    return f"client-{secrets.token_hex(4)}@example.com"


def staff(stack: LocalStack, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
    return requests.request(method, f"{stack.url}{path}", json=body, timeout=30)


def pay(url: str, card: str = "4242424242424242") -> None:
    """Pay a Stripe-hosted page (a checkout, or a payment link that opens one) as the client would."""
    if "/pay/" in url:
        opened = requests.get(url, allow_redirects=False, timeout=10)
        assert opened.status_code == 303, opened.text
        url = opened.headers["Location"]
    paid = requests.post(url, data={"outcome": "paid", "card": card}, allow_redirects=False, timeout=30)
    assert paid.status_code == 303, paid.text


def redeem(stack: LocalStack, email: str, minutes: int, **extra: Any) -> requests.Response:
    body = {
        "email": email,
        "minutes": minutes,
        "technician": "sam",
        "note": "server",
        "session_id": secrets.token_hex(6),
    }
    return staff(stack, "POST", "/api/sessions", body | extra)


def ledger(stack: LocalStack, email: str) -> dict[str, Any]:
    answer = staff(stack, "GET", f"/api/customers/{email}")
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def daily_run(stack: LocalStack, at: int) -> dict[str, Any]:
    assert stack.lambdas is not None
    outcome = stack.lambdas.invoke("SweepFunction", {"source": "local", "now": str(at)})
    assert not outcome.failed, outcome.error
    return outcome.payload  # type: ignore[no-any-return]


def mail_to(stack: LocalStack, email: str, count: int, timeout: float = 10, subject: str = "") -> list[SentMail]:
    """Wait for at least `count` emails to `email` (with `subject` in theirs), then for the stack to settle, so an
    extra email would show too."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len([m for m in sent_mail() if email in m.to and subject in m.subject]) >= count:
            stack.wait_until_settled()
            return [m for m in sent_mail() if email in m.to and subject in m.subject]
        time.sleep(0.1)
    pytest.fail(f"expected {count} emails to {email}, got {[m.subject for m in sent_mail() if email in m.to]}")


def quote(
    stack: LocalStack, email: str, minutes: int, note: str = "move the office to the new server"
) -> dict[str, Any]:
    sent = staff(stack, "POST", "/api/quotes", {"email": email, "minutes": minutes, "note": note, "technician": "sam"})
    assert sent.status_code == 201, sent.text
    return sent.json()  # type: ignore[no-any-return]


def quote_status(stack: LocalStack, quote_id: str) -> str:
    listed = staff(stack, "GET", "/api/quotes").json()["quotes"]
    return str(next(q for q in listed if q["quote_id"] == quote_id)["status"])


def quotes_for(stack: LocalStack, email: str) -> list[dict[str, Any]]:
    return [q for q in staff(stack, "GET", "/api/quotes").json()["quotes"] if q["email"] == email]


def refunds_for(standin: StripeStandIn, payment_intent: str, timeout: float = 10) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := [r for r in standin.refunds.values() if r["payment_intent"] == payment_intent]:
            return found
        time.sleep(0.1)
    return []


# --- quotes -----------------------------------------------------------------------------------


def test_a_quote_is_priced_at_the_hourly_rate_and_its_link_emailed(stack: LocalStack, standin: StripeStandIn) -> None:
    email = new_email()
    sent = quote(stack, email, 50)
    assert (sent["minutes"], sent["amount_cents"]) == (60, 12900), "rounded up to the increment, at $129 an hour"
    checkout_id = sent["pay_url"].rsplit("/", 1)[1]
    session = standin.sessions[checkout_id]
    assert (session["amount_total"], session["metadata"]["quote_id"]) == (12900, sent["quote_id"])
    assert session["metadata"]["terms_version"] == TERMS and session["metadata"]["kind"] == "deposit"
    assert session["expires_at"] == sent["expires_at"]
    created = next(
        r
        for r in standin.requests
        if r.path == "/v1/checkout/sessions" and r.params["metadata"].get("quote_id") == sent["quote_id"]
    )
    assert created.params["payment_intent_data"]["setup_future_usage"] == "off_session"
    assert created.params["consent_collection"]["terms_of_service"] == "required"
    assert created.idempotency_key
    [offer] = mail_to(stack, email, 1)
    assert sent["pay_url"] in offer.body and "$129.00" in offer.body and "move the office" in offer.body
    assert quote_status(stack, sent["quote_id"]) == "open"
    again = staff(stack, "POST", "/api/quotes", {"email": email, "minutes": 50, "quote_id": sent["quote_id"]})
    assert again.status_code == 201 and again.json()["pay_url"] == sent["pay_url"], (
        "a retried quote id is the same quote"
    )


def test_a_quote_above_the_shops_bound_is_sent_only_when_confirmed(stack: LocalStack, standin: StripeStandIn) -> None:
    email, bound = new_email(), catalog.load().quotes.confirm_above_minutes
    body = {"email": email, "minutes": bound + 1, "technician": "sam"}
    pages_before = len(standin.sessions)

    refused = staff(stack, "POST", "/api/quotes", body)

    assert refused.status_code == 409 and refused.json()["error"] == "quote_needs_confirmation"
    assert "above the shop's bound" in refused.json()["message"] and "--yes" in refused.json()["message"]
    assert len(standin.sessions) == pages_before and quotes_for(stack, email) == [], "no page, no quote kept"
    assert staff(stack, "POST", "/api/quotes", body | {"minutes": bound}).status_code == 201, "the bound itself is fine"
    confirmed = staff(stack, "POST", "/api/quotes", body | {"confirmed": True})
    assert confirmed.status_code == 201 and confirmed.json()["minutes"] == bound + 15


def test_a_paid_quote_is_settled_by_refunding_what_is_left(stack: LocalStack, standin: StripeStandIn) -> None:
    email = new_email()
    sent = quote(stack, email, 60)
    pay(sent["pay_url"])
    assert quote_status(stack, sent["quote_id"]) == "paid"
    [lot] = ledger(stack, email)["lots"]
    assert (lot["kind"], lot["minutes"], lot["amount_cents"]) == ("deposit", 60, 12900)
    assert redeem(stack, email, 25).json()["covered_cents"] == 6450  # 30 minutes billed
    settled = staff(stack, "POST", f"/api/customers/{email}/settle", {"technician": "sam"})
    assert settled.status_code == 200, settled.text
    [refund] = refunds_for(standin, lot["payment_intent"])
    assert refund["amount"] == 6450 and refund["status"] == "succeeded"


def test_a_paid_quote_charges_time_beyond_it_to_the_saved_card(stack: LocalStack, standin: StripeStandIn) -> None:
    email = new_email()
    sent = quote(stack, email, 30)
    pay(sent["pay_url"])
    session = redeem(stack, email, 45, session_id="quote-over-1").json()
    assert (session["covered_minutes"], session["overage_minutes"], session["overage_status"]) == (30, 15, "charged")
    charge = next(r for r in standin.requests if r.idempotency_key == idempotency_key("overage", email, "quote-over-1"))
    assert charge.params["amount"] == "3225" and charge.params["off_session"] == "true"
    settled = staff(stack, "POST", f"/api/customers/{email}/settle", {"technician": "sam"}).json()
    assert settled["account"]["available_cents"] == 0 and settled["account"]["owed_cents"] == 0
    assert refunds_for(standin, settled["lots"][0]["payment_intent"], timeout=1) == []


def test_an_expired_quote_credits_nothing_and_says_so(stack: LocalStack, standin: StripeStandIn) -> None:
    email = new_email()
    sent = quote(stack, email, 90)
    checkout_id = sent["pay_url"].rsplit("/", 1)[1]
    expired = standin.expire(checkout_id)
    assert standin.deliveries[-1].status == 200
    standin.send_event("checkout.session.expired", expired)  # delivered again: nothing more happens
    assert standin.deliveries[-1].status == 200
    assert quote_status(stack, sent["quote_id"]) == "expired"
    assert staff(stack, "GET", f"/api/customers/{email}").status_code == 404, "no account, no lot, no credit"
    with pytest.raises(ValueError, match="expired"):
        standin.complete(checkout_id, "paid")


# --- trusted clients --------------------------------------------------------------------------


def test_a_trusted_client_goes_below_zero_to_the_limit_and_no_further_then_pays_the_bill(
    stack: LocalStack, standin: StripeStandIn
) -> None:
    email = new_email()
    trusted = staff(stack, "POST", f"/api/customers/{email}/trust", {"limit_minutes": 60, "technician": "owner"})
    assert trusted.status_code == 200, trusted.text
    assert trusted.json()["credit_left_minutes"] == 60
    first = redeem(stack, email, 45)
    assert first.status_code == 200, first.text
    assert (first.json()["on_account_minutes"], first.json()["balance_minutes_after"]) == (45, -45)
    over = redeem(stack, email, 30)
    assert over.status_code == 409 and over.json()["error"] == "over_limit"
    assert "15 of their 60-minute limit" in over.json()["message"]
    assert redeem(stack, email, 15).status_code == 200
    assert redeem(stack, email, 15).json()["error"] == "over_limit"
    account = ledger(stack, email)["account"]
    assert (account["on_account_minutes"], account["on_account_cents"], account["credit_left_minutes"]) == (
        60,
        12900,
        0,
    )

    run = daily_run(stack, account["next_bill_at"] + 3600)
    assert email in run["billing"]["billed"]
    [bill] = [d for d in staff(stack, "GET", "/api/debts").json()["debts"] if d["email"] == email]
    assert (bill["kind"], bill["amount_cents"], bill["minutes"]) == ("bill", 12900, 60)
    link = next(
        r
        for r in standin.requests
        if r.path == "/v1/payment_links" and r.params["metadata"].get("debt_id") == bill["debt_id"]
    )
    assert link.params["line_items"][0]["price_data"]["unit_amount"] == "12900" and link.idempotency_key
    notice = mail_to(stack, email, 1)[-1]
    assert bill["pay_url"] in notice.body and "$129.00" in notice.body

    pay(bill["pay_url"])
    paid_event = standin.deliveries[-1].event["data"]["object"]
    standin.send_event("checkout.session.completed", paid_event)  # the same payment, told again
    account = ledger(stack, email)["account"]
    assert (account["on_account_minutes"], account["billed_cents"], account["credit_left_minutes"]) == (0, 0, 60)
    assert [e["kind"] for e in ledger(stack, email)["entries"]].count("payment") == 1
    assert redeem(stack, email, 60).status_code == 200, "back to zero: the whole limit is there again"


def test_an_unpaid_bill_after_the_grace_days_moves_the_client_back_to_prepay(stack: LocalStack) -> None:
    email, grace = new_email(), catalog.load().on_account.grace_days
    staff(stack, "POST", f"/api/customers/{email}/trust", {"limit_minutes": 120})
    assert redeem(stack, email, 30).status_code == 200
    billing_day = ledger(stack, email)["account"]["next_bill_at"] + 3600
    daily_run(stack, billing_day)
    early = daily_run(stack, billing_day + (grace - 1) * DAY)["dunning"]["prepay"]
    assert [m.split()[0] for m in early].count(email) == 0
    assert ledger(stack, email)["account"]["trust_limit_minutes"] == 120
    moved = daily_run(stack, billing_day + grace * DAY)["dunning"]["prepay"]
    assert [m.split()[0] for m in moved].count(email) == 1
    account = ledger(stack, email)["account"]
    assert (account["trust_limit_minutes"], account["credit_left_minutes"]) == (0, -30)
    assert redeem(stack, email, 15).json()["error"] == "insufficient_balance", "prepaying again: nothing on account"
    shop = mail_to(stack, config.owner().email, 1, subject=f"{email} moved back to prepaying")  # deployed: OwnerEmail
    assert len(shop) == 1 and "not paid the bill of $64.50 after 14 days" in shop[0].body
    told = mail_to(stack, email, 1, subject="sessions are prepaid again")
    assert len(told) == 1


# --- dunning ----------------------------------------------------------------------------------


def owe_overage(stack: LocalStack) -> tuple[str, dict[str, Any]]:
    """A deposit client whose card declines the overage: the debt, opened with its notice."""
    email = new_email()
    body = {"sku": "deposit", "email": email, "terms_version": TERMS, "terms_accepted": True}
    pay(requests.post(f"{stack.url}/api/checkout", json=body, timeout=10).json()["url"], card=DECLINED)
    session = redeem(stack, email, 75).json()
    assert session["overage_status"] == "owed"
    [debt] = [d for d in staff(stack, "GET", "/api/debts").json()["debts"] if d["email"] == email]
    return email, debt


def notices(stack: LocalStack, email: str, expected: int | None = None) -> list[SentMail]:
    """The notice, reminders and collections emails to `email`; with `expected`, once that many have arrived."""

    def found() -> list[SentMail]:
        return [m for m in sent_mail() if email in m.to and ("due" in m.subject or "on hold" in m.subject)]

    deadline = time.monotonic() + 10
    while expected is not None and len(found()) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
    if expected is not None:
        stack.wait_until_settled()  # so an email too many would show
    return found()


def test_the_dunning_schedule_sends_a_notice_two_reminders_then_marks_collections(stack: LocalStack) -> None:
    email, debt = owe_overage(stack)
    opened, fmt = debt["opened_at"], lambda at: shop_time.day(at, UTC)  # the stack's zone
    assert len(notices(stack, email, 1)) == 1 and "$32.25 due" in notices(stack, email)[0].subject
    assert f"on {fmt(opened + 7 * DAY)} we send a reminder" in notices(stack, email)[0].body
    for day, expected in [(6, 1), (7, 2), (8, 2), (13, 2), (14, 3), (20, 3), (21, 4), (22, 4), (40, 4)]:
        daily_run(stack, opened + day * DAY)
        daily_run(stack, opened + day * DAY)  # the run retried the same day changes nothing
        assert len(notices(stack, email, expected)) == expected, (
            f"day {day}: {[m.subject for m in notices(stack, email)]}"
        )
    first, second, last = notices(stack, email)[1], notices(stack, email)[2], notices(stack, email)[3]
    assert "reminder 1" in first.subject and f"we wrote to you about it on {fmt(opened)}." in first.body
    assert debt["pay_url"] in first.body and "$32.25" in first.body
    assert f"on {fmt(opened)}, {fmt(opened + 7 * DAY)}." in second.body
    assert f"on {fmt(opened + 21 * DAY)} your account goes to collections" in second.body
    assert "on hold" in last.subject and fmt(opened + 14 * DAY) in last.body
    entries = [e for e in ledger(stack, email)["entries"] if e["kind"] in ("notice", "collections")]
    assert [e["kind"] for e in entries] == ["notice", "notice", "notice", "collections"]
    assert [e["at"] for e in entries] == [opened, opened + 7 * DAY, opened + 14 * DAY, opened + 21 * DAY]
    [listed] = [d for d in staff(stack, "GET", "/api/debts").json()["debts"] if d["email"] == email]
    assert listed["collections_at"] == opened + 21 * DAY and len(listed["notices"]) == 3
    refused = redeem(stack, email, 15)
    assert refused.status_code == 409 and refused.json()["error"] == "in_collections"

    pay(debt["pay_url"])
    standin_event = stack.standin.deliveries[-1].event["data"]["object"]  # type: ignore[union-attr]
    stack.standin.send_event("checkout.session.completed", standin_event)  # type: ignore[union-attr]
    account = ledger(stack, email)["account"]
    assert (account["collections_debts"], account["owed_cents"]) == (0, 0), "cleared once, not twice"
    assert all(d["email"] != email for d in staff(stack, "GET", "/api/debts").json()["debts"])
    thanks = mail_to(stack, email, 1, subject="payment received")
    assert len(thanks) == 1, "one payment, one thank-you, however often Stripe tells us"


def test_a_payment_between_reminders_stops_the_schedule(stack: LocalStack) -> None:
    email, debt = owe_overage(stack)
    opened = debt["opened_at"]
    daily_run(stack, opened + 7 * DAY)
    assert len(notices(stack, email, 2)) == 2
    pay(debt["pay_url"])
    for day in (14, 21, 30):
        run = daily_run(stack, opened + day * DAY)
        assert all(email not in step for step in run["dunning"]["reminded"] + run["dunning"]["collections"])
    assert len(notices(stack, email, 2)) == 2
    account = ledger(stack, email)["account"]
    assert (account["collections_debts"], account["owed_cents"]) == (0, 0)
    assert redeem(stack, email, 15).status_code == 200, "never in collections: sessions go on"


def first_run_from(at: int) -> int:
    """The schedule's first run at or after `at`: 10:00 in the shop's zone (UTC on this stack)."""
    run = at - at % DAY + 10 * 3600
    return run if run >= at else run + DAY


def foretold_for(foretold: dict[str, Any], who: str) -> list[tuple[int, str]]:
    """(the run's time, the step) of every step the previewed runs took for `who`, in order."""
    return [(run["at"], step["step"]) for run in foretold["runs"] for step in run["steps"] if step["who"] == who]


def test_a_later_day_on_the_local_route_is_a_preview_that_writes_nothing(stack: LocalStack) -> None:
    """`blockhours sweep --at` a later day: the real runs of each day up to then, on a copy; no entry dated ahead of
    the clock (it would show on the client's page, and `debts` would count a negative age), no email, no Stripe."""
    email, debt = owe_overage(stack)
    trusted = new_email()
    staff(stack, "POST", f"/api/customers/{trusted}/trust", {"limit_minutes": 120})
    assert redeem(stack, trusted, 30).status_code == 200
    opened, billing_day = debt["opened_at"], ledger(stack, trusted)["account"]["next_bill_at"]
    at = first_run_from(max(opened + 22 * DAY, billing_day))
    stack.wait_until_settled()
    before = {who: ledger(stack, who) for who in (email, trusted)}
    stripe_calls = len(stack.standin.requests)  # type: ignore[union-attr]

    answer = requests.post(f"{stack.url}/_local/sweep?now={at}", timeout=60)

    assert answer.status_code == 200, answer.text
    foretold = answer.json()
    assert foretold["preview"] is True and foretold["at"] == at and foretold["runs"][-1]["at"] == at
    assert foretold_for(foretold, f"{email} {debt['debt_id']}") == [
        (first_run_from(opened + 7 * DAY), "reminder 1"),
        (first_run_from(opened + 14 * DAY), "reminder 2"),
        (first_run_from(opened + 21 * DAY), "collections"),
    ], "each letter on its day, as the daily runs will send them"
    assert foretold_for(foretold, trusted)[0] == (first_run_from(billing_day), "bill")
    stack.wait_until_settled()
    assert {who: ledger(stack, who) for who in (email, trusted)} == before, "nothing written"
    assert all(e["at"] <= time.time() for who in before.values() for e in who["entries"])
    assert len(notices(stack, email)) == 1, "no reminder emailed"
    assert len(stack.standin.requests) == stripe_calls, "no pay link made at Stripe"  # type: ignore[union-attr]


def test_a_stale_balance_in_the_preview_is_warned_then_refunded_on_its_days(stack: LocalStack) -> None:
    email = new_email()
    body = {"sku": "block-30", "email": email, "terms_version": TERMS, "terms_accepted": True}
    pay(requests.post(f"{stack.url}/api/checkout", json=body, timeout=10).json()["url"])
    stack.wait_until_settled()
    before = ledger(stack, email)
    due = before["account"]["refund_due_at"]

    foretold = requests.post(f"{stack.url}/_local/sweep?now={first_run_from(due)}", timeout=120).json()

    warning_days = catalog.load().refunds.warning_days
    assert foretold_for(foretold, email) == [
        (first_run_from(due - warning_days * DAY), "refund warning"),
        (first_run_from(due), "stale refund"),
    ]
    assert ledger(stack, email) == before, "nothing written: no warning entry, no refund requested"


def test_a_past_day_on_the_local_route_runs_for_real(stack: LocalStack) -> None:
    email, _ = owe_overage(stack)
    past = int(time.time()) - DAY

    ran = requests.post(f"{stack.url}/_local/sweep?now={past}", timeout=60).json()

    assert "preview" not in ran and "read" in ran and "dunning" in ran
    assert all(not step.startswith(email) for step in ran["dunning"]["reminded"]), "nothing was due a day ago"
