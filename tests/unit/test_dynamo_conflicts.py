"""DynamoDB's answers that moto never gives: a transaction conflict is retried, other failures are not hidden."""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.stub import ANY, Stubber

from blockhours.adapters.dynamo import DynamoLedger
from blockhours.domain.changes import Outcome
from blockhours.domain.ledger import Payment, purchase_entry, purchase_lot
from blockhours.domain.payment_changes import credited
from blockhours.ports import StoreError

PAYMENT = Payment(
    "cs_1", "pi_1", "cus_1", "ana@example.com", "block-60", "block", 60, 12900, "usd", "v1", int(time.time())
)


def cancelled(*first: str) -> dict[str, object]:
    codes = [*first, *["None"] * (6 - len(first))]  # a credit writes six items
    return {
        "service_error_code": "TransactionCanceledException",
        "service_message": "Transaction cancelled",
        "http_status_code": 400,
        "response_meta": {},
        "modeled_fields": {"CancellationReasons": [{"Code": code} for code in codes]},
    }


def credit(ledger: DynamoLedger) -> Outcome:
    lot = purchase_lot(PAYMENT, 365)
    return ledger.commit(credited("evt_1", PAYMENT, lot, purchase_entry(PAYMENT, lot), 0))


@pytest.fixture
def stubbed() -> tuple[DynamoLedger, Stubber]:
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
    return DynamoLedger("t", client), Stubber(client)


def test_a_conflicting_transaction_is_retried(stubbed: tuple[DynamoLedger, Stubber]) -> None:
    ledger, stub = stubbed
    stub.add_client_error("transact_write_items", **cancelled("None", "None", "None", "TransactionConflict"))
    stub.add_response("transact_write_items", {}, {"TransactItems": ANY})
    with stub:
        assert credit(ledger).committed
    stub.assert_no_pending_responses()


def test_a_failed_condition_means_already_done(stubbed: tuple[DynamoLedger, Stubber]) -> None:
    ledger, stub = stubbed
    stub.add_client_error("transact_write_items", **cancelled("ConditionalCheckFailed"))
    with stub:
        assert credit(ledger).refused == {"event"}


def test_endless_conflicts_and_other_cancellations_are_errors(stubbed: tuple[DynamoLedger, Stubber]) -> None:
    ledger, stub = stubbed
    for _ in range(8):
        stub.add_client_error("transact_write_items", **cancelled("TransactionConflict"))
    stub.add_client_error("transact_write_items", **cancelled("ValidationError"))
    with stub:
        with pytest.raises(StoreError, match="TransactionConflict"):
            credit(ledger)
        with pytest.raises(StoreError, match="ValidationError"):
            credit(ledger)
