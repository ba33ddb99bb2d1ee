"""Client emails: the table's stream drives them, the embedded SES captures them."""

from __future__ import annotations

import re
import secrets
import time

import pytest
import requests

from blockhours_dev.local import LocalStack
from blockhours_dev.local_streams import SentMail, sent_mail

AUTH_REQUIRED = "4000002760003184"


def mail_to(email: str, count: int, timeout: float = 10) -> list[SentMail]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in sent_mail() if email in m.to]
        if len(found) >= count:
            return found
        time.sleep(0.1)
    pytest.fail(f"expected {count} emails to {email}, got {[m.subject for m in sent_mail() if email in m.to]}")


def buy(stack: LocalStack, email: str, sku: str, card: str = "4242424242424242") -> None:
    body = {"sku": sku, "email": email, "terms_version": "2026-12-06", "terms_accepted": True}
    url = requests.post(f"{stack.url}/api/checkout", json=body, timeout=10).json()["url"]
    requests.post(url, data={"outcome": "paid", "card": card}, allow_redirects=False, timeout=30)


def redeem(stack: LocalStack, email: str, minutes: int, note: str = "new laptop setup") -> dict[str, object]:
    body = {"email": email, "minutes": minutes, "technician": "Sam", "note": note, "session_id": secrets.token_hex(5)}
    answer = requests.post(f"{stack.url}/api/sessions", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_a_purchase_emails_a_receipt_with_the_balance_link(stack: LocalStack) -> None:
    email = f"receipt-{secrets.token_hex(3)}@example.com"
    buy(stack, email, "block-60")
    [receipt] = mail_to(email, 1)
    assert "1 h added to your balance" in receipt.subject
    assert "1-hour block: 1 h for $129.00" in receipt.body
    link = re.search(r"(http://\S+/balance/\?t=\S+)", receipt.body)
    assert link, receipt.body
    token = link.group(1).split("t=", 1)[1]
    balance = requests.get(f"{stack.url}/api/balance", params={"t": token}, timeout=10)
    assert balance.status_code == 200 and email in balance.text


def test_every_session_emails_a_statement_and_a_low_balance_a_top_up_link(stack: LocalStack) -> None:
    email = f"statement-{secrets.token_hex(3)}@example.com"
    buy(stack, email, "block-60")
    redeem(stack, email, 20)
    statement = mail_to(email, 2)[1]
    assert "session of 30 min" in statement.subject
    assert "Technician:   Sam" in statement.body and "new laptop setup" in statement.body
    assert "Balance left: 30 min ($64.50)" in statement.body
    assert "running low" not in statement.body

    redeem(stack, email, 15, note="printer")
    low = mail_to(email, 3)[2]
    assert "Balance left: 15 min ($32.25)" in low.body
    assert f"Top it up here: {stack.url}/" in low.body


def test_an_overage_the_card_cannot_pay_is_emailed_with_its_payment_link(stack: LocalStack) -> None:
    email = f"owed-{secrets.token_hex(3)}@example.com"
    buy(stack, email, "deposit", card=AUTH_REQUIRED)
    session = redeem(stack, email, 75)
    assert session["overage_status"] == "owed"
    statement = mail_to(email, 2)[1]
    assert "We could not charge your card for the $32.25" in statement.body
    assert str(session["pay_url"]) in statement.body


def test_the_sweep_warning_is_an_entry_the_outbox_emails(stack: LocalStack) -> None:
    """The daily run writes the warning as a journal entry; the table's stream (through the template's filter) and
    the outbox email it. Last in this module: its clock is 340 days ahead, inside every client's warning period."""
    email = f"idle-{secrets.token_hex(3)}@example.com"
    buy(stack, email, "block-60")
    mail_to(email, 1)  # the receipt
    ahead = int(time.time()) + 340 * 86_400
    assert stack.lambdas is not None
    for _ in range(2):  # a second run the same day finds the client warned
        run = stack.lambdas.invoke("SweepFunction", {"source": "local", "now": str(ahead)})  # as the schedule does
        assert not run.failed, run.error
    warning = mail_to(email, 2)[1]
    assert "your unused balance will be refunded on" in warning.subject
    assert "You have $129.00 of prepaid support time" in warning.body
    statement = requests.get(f"{stack.url}/api/customers/{email}", timeout=10).json()["entries"]
    assert [e["kind"] for e in statement].count("refund-warning") == 1
