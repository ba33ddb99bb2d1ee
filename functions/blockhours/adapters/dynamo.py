"""The ledger in one DynamoDB table: every balance change is one conditional TransactWriteItems."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Literal

from ..ports import UnbookedPayment
from .dynamo_disputes import DisputeWrites
from .dynamo_items import (
    ACCOUNT_SK,
    DUE_SHARD,
    customer_pk,
    key,
    plain,
)
from .dynamo_jobs import JobWrites
from .dynamo_refunds import RefundWrites
from .store import TableStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


Outcome = Literal["recorded", "duplicate", "changed"]
_FAILED = "ConditionalCheckFailed"


def order_key(order_id: str) -> tuple[str, str]:
    return f"ORDER#{order_id}", "ORDER"


class DynamoLedger(TableStore, RefundWrites, DisputeWrites, JobWrites):
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        super().__init__(table, client)
        self.rows = self

    def report_unknown_payment(self, payment: UnbookedPayment) -> bool:
        """A payment the ledger will not book, kept once for the shop (emailed from the stream, listed by
        reconcile); False if it was already reported."""
        values = {"type": "alert", "what": "payment not credited", **asdict(payment)}
        return not self._transact([self._put(f"ALERT#{payment.checkout_id}", "ALERT", values)])

    # --- reads ----------------------------------------------------------------------------------

    def stripe_customer_id(self, email: str) -> str | None:
        found = self.client.get_item(
            TableName=self.table, Key=key(customer_pk(email), ACCOUNT_SK), ProjectionExpression="stripe_customer_id"
        ).get("Item")
        value = plain(found).get("stripe_customer_id") if found else None
        return str(value) if value else None

    def accounts_with_balance(self) -> list[dict[str, Any]]:
        """Every account holding credit, from the sparse index (accounts at zero are not in it)."""
        return self._query(
            IndexName="refund-due",
            KeyConditionExpression="due_shard = :shard",
            ExpressionAttributeValues={":shard": {"S": DUE_SHARD}},
        )

    def warned_for(self, email: str) -> int | None:
        found = self.client.get_item(
            TableName=self.table,
            Key=key(customer_pk(email), ACCOUNT_SK),
            ProjectionExpression="warned_for",
            ConsistentRead=True,
        ).get("Item")
        value = plain(found).get("warned_for") if found else None
        return int(value) if value is not None else None

    def mark_warned(self, email: str, refund_due_at: int) -> bool:
        """Remember that the client was warned about this refund date; False if they already were."""
        return not self._transact(
            [
                self._update(
                    customer_pk(email),
                    ACCOUNT_SK,
                    "SET warned_for = :due",
                    {":due": refund_due_at},
                    "attribute_exists(pk) AND (attribute_not_exists(warned_for) OR warned_for <> :due)",
                )
            ]
        )
