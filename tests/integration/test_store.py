"""The ledger's DynamoDB store against the embedded AWS, with the table shaped by template.yaml."""

from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor

from blockhours.adapters.dynamo import DynamoLedger
from blockhours.catalog import load
from blockhours.domain.ledger import Payment
from blockhours.services import record_payment
from conftest import CallCounter, scan_all
from stripe_events import opened_payment

CATALOG = load()


def payment(email: str = "ana@example.com", minutes: int = 60, cents: int = 12900, cs: str | None = None) -> Payment:
    return Payment(
        checkout_id=cs or f"cs_test_{secrets.token_hex(8)}",
        payment_intent=f"pi_{secrets.token_hex(8)}",
        stripe_customer_id="cus_123",
        email=email,
        sku="block-60",
        kind="block",
        minutes=minutes,
        amount_cents=cents,
        currency="usd",
        terms_version="2026-12-06",
        paid_at=int(time.time()),
    )


def test_a_purchase_is_credited_in_one_transaction(ledger: DynamoLedger, dynamodb_calls: CallCounter) -> None:
    paid = opened_payment(ledger, payment())
    dynamodb_calls.calls.clear()  # opening the checkout is the shop's earlier request
    assert record_payment(CATALOG, ledger, "evt_1", paid) == "credited"
    assert dynamodb_calls.calls == ["TransactWriteItems"]

    found = ledger.customer("ana@example.com")
    assert found is not None
    assert (found.account.available_minutes, found.account.available_cents) == (60, 12900)
    assert found.account.stripe_customer_id == "cus_123" and found.account.status == "active"
    assert found.account.refund_due_at == paid.paid_at + 365 * 86_400
    assert [lot.lot_id for lot in found.lots] == [paid.checkout_id]
    assert found.lots[0].payment_intent == paid.payment_intent
    assert [(e.kind, e.minutes, e.amount_cents) for e in found.entries] == [("purchase", 60, 12900)]


def test_a_duplicate_event_is_reported_and_changes_nothing(ledger: DynamoLedger, table: str) -> None:
    paid = opened_payment(ledger, payment())
    assert record_payment(CATALOG, ledger, "evt_1", paid) == "credited"
    before = scan_all(table)
    assert record_payment(CATALOG, ledger, "evt_1", paid) == "duplicate"
    assert scan_all(table) == before


def test_a_second_event_for_the_same_payment_credits_nothing(ledger: DynamoLedger, table: str) -> None:
    """checkout.session.completed and async_payment_succeeded for one session: one lot."""
    paid = opened_payment(ledger, payment())
    assert record_payment(CATALOG, ledger, "evt_completed", paid) == "credited"
    before = scan_all(table)
    assert record_payment(CATALOG, ledger, "evt_async_succeeded", paid) == "duplicate"
    assert scan_all(table) == before


def test_purchases_add_up_across_lots(ledger: DynamoLedger) -> None:
    record_payment(CATALOG, ledger, "evt_a", opened_payment(ledger, payment(minutes=30, cents=6900)))
    record_payment(CATALOG, ledger, "evt_b", opened_payment(ledger, payment(minutes=300, cents=57900)))
    found = ledger.customer("ana@example.com")
    assert found is not None
    assert (found.account.available_minutes, found.account.paid_cents) == (330, 64800)
    assert len(found.lots) == 2 and len(found.entries) == 2
    assert found.account.version == 2


def test_twenty_payments_from_eight_threads_are_all_credited(table: str) -> None:
    payments = [
        opened_payment(DynamoLedger(table), payment(email="busy@example.com", minutes=15 + i, cents=1000 + i))
        for i in range(20)
    ]

    def credit(i: int) -> str:
        return record_payment(CATALOG, DynamoLedger(table), f"evt_{i}", payments[i])

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(credit, range(20)))
    assert outcomes == ["credited"] * 20
    found = DynamoLedger(table).customer("busy@example.com")
    assert found is not None
    assert found.account.available_minutes == sum(p.minutes for p in payments)
    assert found.account.available_cents == sum(p.amount_cents for p in payments)
    assert found.account.version == 20 and len(found.lots) == 20


def test_an_unknown_customer_is_none(ledger: DynamoLedger) -> None:
    assert ledger.customer("nobody@example.com") is None
    assert ledger.account("nobody@example.com") is None


def test_a_refused_transaction_leaves_items_and_stream_as_they_were(table: str) -> None:
    """The embedded AWS rolls back only what a transaction touched: items, new items and stream records."""
    import boto3

    client = boto3.client("dynamodb")
    key = {"pk": {"S": "ROLLBACK"}, "sk": {"S": "A"}}
    client.put_item(TableName=table, Item={**key, "n": {"N": "1"}})
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams")

    def stream_records() -> list[dict[str, object]]:
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        return streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]  # type: ignore[return-value]

    before = stream_records()
    refused = [
        {
            "Update": {
                "TableName": table,
                "Key": key,
                "UpdateExpression": "SET n = :two",
                "ExpressionAttributeValues": {":two": {"N": "2"}},
            }
        },
        {"Put": {"TableName": table, "Item": {"pk": {"S": "ROLLBACK"}, "sk": {"S": "B"}}}},
        {"Put": {"TableName": table, "Item": {**key, "n": {"N": "9"}} | {"sk": {"S": "C"}}}},
        {
            "ConditionCheck": {
                "TableName": table,
                "Key": {"pk": {"S": "ROLLBACK"}, "sk": {"S": "Z"}},
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
    ]
    try:
        client.transact_write_items(TransactItems=refused)  # type: ignore[arg-type]
        raise AssertionError("the condition must refuse the transaction")
    except client.exceptions.TransactionCanceledException:
        pass
    rows = scan_all(table)
    assert [(r["sk"]["S"], r.get("n", {}).get("N")) for r in rows if r["pk"]["S"] == "ROLLBACK"] == [("A", "1")]
    assert stream_records() == before, "no stream record for writes that were rolled back"

    client.transact_write_items(TransactItems=refused[:3])  # type: ignore[arg-type]
    after = stream_records()
    assert [r["eventName"] for r in after[len(before) :]] == ["MODIFY", "INSERT", "INSERT"]
    assert int(after[-1]["dynamodb"]["SequenceNumber"]) > int(before[-1]["dynamodb"]["SequenceNumber"])  # type: ignore[index]
