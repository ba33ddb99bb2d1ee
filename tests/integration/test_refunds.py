"""Refunds on DynamoDB itself: racing sessions never pay out more than was paid, and the sweep reads only what is
due (tests/unit/services/test_refunds.py has the rest, on the in-memory store)."""

from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from blockhours import catalog, outbox, services
from blockhours.adapters.dynamo import DynamoLedger
from blockhours.adapters.dynamo_items import entry_sk, item
from blockhours.adapters.stripe_gateway import StripeGateway
from blockhours.config import StripeSettings
from blockhours.domain.ledger import JournalEntry, Payment
from blockhours_dev.standin.payments import paid_intent
from served_standin import ServedStandIn
from stripe_events import opened_payment

CATALOG = catalog.load()
MAIL = outbox.MailContext(CATALOG, "https://shop.example", "s" * 40, "owner@example.com")


@pytest.fixture
def gateway(stripe_standin: ServedStandIn) -> StripeGateway:
    settings = StripeSettings(
        api_key="sk_test_refunds", webhook_secret="whsec_unused_here", api_base=stripe_standin.url
    )
    return StripeGateway(settings)


def buy(ledger: DynamoLedger, served: ServedStandIn, email: str, cents: int, minutes: int, at: int) -> str:
    """A lot paid through the stand-in; returns its PaymentIntent."""
    pi = paid_intent(served.standin, cents)
    payment = Payment(
        f"cs_test_{secrets.token_hex(8)}", pi, None, email, "block", "block", minutes, cents, "usd", "v1", at
    )
    assert (
        services.record_payment(CATALOG, ledger, f"evt_{secrets.token_hex(6)}", opened_payment(ledger, payment))
        == "credited"
    )
    return pi


def stream_insert(ledger: DynamoLedger, email: str, entry: JournalEntry) -> outbox.Change:
    """The table stream's INSERT record for a journal entry, from the item as the table holds it."""
    key = item({"pk": f"CUST#{email}", "sk": entry_sk(entry)})
    stored = ledger.client.get_item(TableName=ledger.table, Key=key)["Item"]
    return outbox.Change.from_record({"eventName": "INSERT", "dynamodb": {"Keys": key, "NewImage": stored}})


def session(ledger: DynamoLedger, email: str, minutes: int) -> None:
    services.redeem(
        CATALOG,
        ledger,
        lambda: pytest.fail("no overage"),
        services.SessionRequest(email, minutes, "Sam", "", secrets.token_hex(4)),
    )


@pytest.fixture
def two_lots(ledger: DynamoLedger, stripe_standin: ServedStandIn) -> tuple[str, str, str]:
    """ana bought an hour, then half an hour, and used 15 minutes (of the hour: oldest first)."""
    email = f"ana-{secrets.token_hex(3)}@example.com"
    now = int(time.time())
    hour = buy(ledger, stripe_standin, email, 12900, 60, now - 100)
    half = buy(ledger, stripe_standin, email, 6900, 30, now - 50)
    session(ledger, email, 15)
    return email, hour, half


def stripe_refunds(served: ServedStandIn) -> list[tuple[str, int]]:
    return sorted((r["payment_intent"], r["amount"]) for r in served.standin.refunds.values())


def test_a_refund_racing_sessions_never_pays_out_more_than_was_paid(table: str, stripe_standin: ServedStandIn) -> None:
    email = f"race-{secrets.token_hex(3)}@example.com"
    buy(DynamoLedger(table), stripe_standin, email, 57900, 300, int(time.time()))

    def act(i: int) -> str:
        ledger = DynamoLedger(table)
        try:
            if i % 5 == 0:
                services.request_refund(CATALOG, ledger, email, "client", email)
            else:
                session(ledger, email, 15)
        except services.ShopError as refused:
            return refused.code
        return "done"

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(act, range(30)))
    customer = DynamoLedger(table).customer(email)
    assert customer is not None
    [lot] = customer.lots
    assert lot.used_minutes + lot.refunded_minutes <= lot.minutes
    assert lot.consumed_cents + lot.refunded_cents <= lot.amount_cents
    assert customer.account.available_minutes == lot.remaining_minutes >= 0
    assert customer.account.available_cents == lot.remaining_cents >= 0
    spent = sum(e.amount_cents for e in customer.entries if e.kind == "redemption")
    set_aside = sum(e.amount_cents for e in customer.entries if e.kind == "refund-requested")
    assert spent + set_aside + lot.remaining_cents == 57900


def test_the_sweep_reads_only_what_is_due(table: str) -> None:
    """2,000 accounts hold credit, 10 are past due: the sweep reads 10 items, not 2,000 (`benchmarks/sweepsize.py`
    times it at shop sizes)."""
    client = boto3.client("dynamodb")
    now = int(time.time())
    rows = []
    for i in range(2_000):
        due = now - 60 if i % 200 == 0 else now + 200 * 86_400
        item = {
            "pk": {"S": f"CUST#idle-{i}@example.com"},
            "sk": {"S": "ACCOUNT"},
            "email": {"S": f"idle-{i}@example.com"},
            "due_shard": {"S": "DUE"},
            "refund_due_at": {"N": str(due)},
            "available_cents": {"N": "500"},
            "available_minutes": {"N": "5"},
        }
        rows.append({"PutRequest": {"Item": item}})
    for start in range(0, len(rows), 25):
        client.batch_write_item(RequestItems={table: rows[start : start + 25]})

    ledger = DynamoLedger(table)
    index_reads: list[int] = []

    def count(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if parsed.get("ScannedCount") is not None:
            index_reads.append(int(parsed["ScannedCount"]))

    ledger.client.meta.events.register("after-call.dynamodb.Query", count)
    report = services.sweep(CATALOG, ledger, now=now)
    assert report.read == 10
    assert index_reads[0] == 10, f"the index query read {index_reads[0]} items"
    assert len(report.kept) == 10  # these made-up accounts have no lots to refund: kept, tried again tomorrow
