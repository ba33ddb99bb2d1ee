"""A shop in Chicago: its client's receipt, balance page data and the technician's statement carry Chicago's date.

A purchase paid at 03:00 UTC on 15 January 2026 was made at 21:00 on the 14th in Chicago (UTC-6).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from blockhours import links, wiring
from blockhours_dev.local import LocalStack
from blockhours_dev.local_streams import SentMail, sent_mail
from blockhours_dev.standin.payments import paid_intent
from stripe_events import checkout_session, event, opened, signed, stack_store

PAID_AT = int(datetime(2026, 1, 15, 3, 0, tzinfo=UTC).timestamp())


@pytest.fixture
def in_chicago(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    assert stack.lambdas is not None
    monkeypatch.setenv("BLOCKHOURS_TIME_ZONE", "America/Chicago")  # what the template's ShopTimeZone sets
    wiring.reset()
    stack.lambdas.redeploy()  # as `sam deploy` with a new ShopTimeZone: the functions start again in it
    yield
    stack.lambdas.redeploy()


def _paid_late_in_the_evening(stack: LocalStack, email: str) -> None:
    assert stack.standin is not None
    session = checkout_session(
        created=PAID_AT, payment_intent=paid_intent(stack.standin, 12900), metadata={"email": email}
    )
    body, header = signed(
        event("checkout.session.completed", opened(stack_store(stack), session)), stack.standin.webhook_secret
    )
    answer = requests.post(
        f"{stack.url}/api/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200 and answer.json()["outcome"] == "credited", answer.text


def _receipt(email: str, timeout: float = 30) -> SentMail:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # the outbox sends it from the table's stream, on its own thread
        found = [m for m in sent_mail() if email in m.to]
        if found:
            return found[0]
        time.sleep(0.1)
    pytest.fail(f"no receipt reached {email}")


@pytest.mark.usefixtures("in_chicago")
def test_a_chicago_shop_dates_the_receipt_the_balance_and_the_statement_in_chicago(stack: LocalStack) -> None:
    email = f"night-owl-{secrets.token_hex(3)}@example.com"
    _paid_late_in_the_evening(stack, email)

    receipt = _receipt(email)
    assert "14 Jan 2026" in receipt.body and "15 Jan 2026" not in receipt.body

    token = links.make_balance_token(email, os.environ["BLOCKHOURS_LINK_SECRET"])
    balance = requests.get(f"{stack.url}/api/balance", params={"t": token}, timeout=10)
    assert balance.status_code == 200
    assert balance.json()["time_zone"] == "America/Chicago"  # the page writes its epoch seconds in this zone
    assert balance.json()["lots"][0]["created_at"] == PAID_AT
    assert balance.headers["X-Shop-Time-Zone"] == "America/Chicago"

    # The technician's machine knows nothing of Chicago: the CLI learns the zone from the API's answer.
    env = {k: v for k, v in os.environ.items() if k != "BLOCKHOURS_TIME_ZONE"} | {"BLOCKHOURS_API": stack.url}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "blockhours_dev.cli", *args],
            capture_output=True,
            text=True,
            env={**env, "COLUMNS": "200", "TZ": "UTC"},
            timeout=60,
        )

    statement = cli("statement", email)
    assert statement.returncode == 0, statement.stderr
    assert "2026-01-14 21:00 CST" in statement.stdout and "2026-01-15" not in statement.stdout

    lots = cli("balance", email)
    assert lots.returncode == 0 and "2026-01-14 21:00 CST" in lots.stdout, lots.stdout + lots.stderr
