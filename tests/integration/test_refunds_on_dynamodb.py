"""Refunds on DynamoDB itself: racing sessions never pay out more than was paid, and the sweep reads only what is
due (tests/unit/services/test_refunds.py has the rest, on the in-memory store)."""

from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

from blockhours import catalog, services
from blockhours.adapters.dynamo import DynamoLedger
from served_standin import ServedStandIn, paid_lot, used

CATALOG = catalog.load()


def test_a_refund_racing_sessions_never_pays_out_more_than_was_paid(table: str, stripe_standin: ServedStandIn) -> None:
    email = f"race-{secrets.token_hex(3)}@example.com"
    paid_lot(DynamoLedger(table), stripe_standin, email, 57900, 300, int(time.time()))

    def act(i: int) -> str:
        ledger = DynamoLedger(table)
        try:
            if i % 5 == 0:
                services.request_refund(CATALOG, ledger, email, "client", email)
            else:
                used(ledger, email, 15)
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
