"""The ledger in one DynamoDB table: every balance change is one conditional TransactWriteItems."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import asdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, cast

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from ..domain.ledger import Account, CustomerLedger, JournalEntry, LotShare, Payment
from ..domain.lots import Lot

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

ACCOUNT_SK = "ACCOUNT"
DUE_SHARD = "DUE"
_CONFLICT_RETRIES = 8
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class StoreError(Exception):
    """DynamoDB refused a write for a reason other than a duplicate; nothing was written."""


def customer_pk(email: str) -> str:
    return f"CUST#{email}"


def lot_sk(lot: Lot) -> str:
    return f"LOT#{lot.created_at:012d}#{lot.lot_id}"


def entry_sk(entry: JournalEntry) -> str:
    return f"ENTRY#{entry.at:012d}#{entry.entry_id}"


def _item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    values = {k: _deserializer.deserialize(v) for k, v in item.items()}
    return {k: int(v) if isinstance(v, Decimal) else v for k, v in values.items()}


class DynamoLedger:
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> DynamoDBClient:
        if self._client is None:
            config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=5)
            self._client = boto3.client("dynamodb", config=config)
        return self._client

    def credit_purchase(
        self, event_id: str, payment: Payment, lot: Lot, entry: JournalEntry, refund_due_at: int
    ) -> Literal["credited", "duplicate"]:
        pk = customer_pk(payment.email)
        new = "attribute_not_exists(pk)"
        customer_clause = "stripe_customer_id = :customer, " if payment.stripe_customer_id else ""
        account_update: dict[str, Any] = {
            "Update": {
                "TableName": self.table,
                "Key": _item({"pk": pk, "sk": ACCOUNT_SK}),
                "UpdateExpression": (
                    f"SET email = :email, {customer_clause}#status = if_not_exists(#status, :active), "
                    "created_at = if_not_exists(created_at, :now), last_activity_at = :now, "
                    "refund_due_at = :due, due_shard = :shard "
                    "ADD available_minutes :minutes, available_cents :cents, paid_cents :cents, version :one"
                ),
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": _item(
                    {
                        ":email": payment.email,
                        ":customer": payment.stripe_customer_id,
                        ":active": "active",
                        ":now": payment.paid_at,
                        ":due": refund_due_at,
                        ":shard": DUE_SHARD,
                        ":minutes": lot.minutes,
                        ":cents": lot.amount_cents,
                        ":one": 1,
                    }
                ),
            }
        }
        items: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": _item({"pk": f"EVT#{event_id}", "sk": "EVT", "effect": lot.lot_id, "at": payment.paid_at}),
                    "ConditionExpression": new,
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": _item({"pk": pk, "sk": lot_sk(lot), **self._lot_values(lot)}),
                    "ConditionExpression": new,
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": _item({"pk": pk, "sk": entry_sk(entry), **self._entry_values(entry)}),
                    "ConditionExpression": new,
                }
            },
            cast("TransactWriteItemTypeDef", account_update),
        ]
        return "credited" if self._transact(items) else "duplicate"

    def _transact(self, items: list[TransactWriteItemTypeDef]) -> bool:
        """Run one transaction; False when a condition says it already happened. Conflicts are retried."""
        for attempt in range(_CONFLICT_RETRIES):
            try:
                self.client.transact_write_items(TransactItems=items)
                return True
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" in reasons:
                    return False
                if "TransactionConflict" not in reasons or attempt == _CONFLICT_RETRIES - 1:
                    raise StoreError(f"transaction cancelled: {', '.join(reasons) or exc}") from exc
                time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - jitter, not security
        raise AssertionError("unreachable")

    @staticmethod
    def _lot_values(lot: Lot) -> dict[str, Any]:
        values = asdict(lot)
        values["type"] = "lot"
        return values

    @staticmethod
    def _entry_values(entry: JournalEntry) -> dict[str, Any]:
        values = asdict(entry)
        values["type"] = "entry"
        values["lots"] = [asdict(share) for share in entry.lots]
        return values

    def customer(self, email: str) -> CustomerLedger | None:
        rows: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": customer_pk(email)}},
            "ConsistentRead": True,
        }
        while True:
            page = self.client.query(**kwargs)
            rows.extend(_plain(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        account = next((row for row in rows if row["sk"] == ACCOUNT_SK), None)
        if account is None:
            return None
        return CustomerLedger(
            account=_account(account),
            lots=[_lot(row) for row in rows if row["sk"].startswith("LOT#")],
            entries=[_entry(row) for row in rows if row["sk"].startswith("ENTRY#")],
        )

    def stripe_customer_id(self, email: str) -> str | None:
        found = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": customer_pk(email)}, "sk": {"S": ACCOUNT_SK}},
            ProjectionExpression="stripe_customer_id",
        ).get("Item")
        value = _plain(found).get("stripe_customer_id") if found else None
        return str(value) if value else None


def _fields(row: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: row[name] for name in names if name in row}


def _account(row: Mapping[str, Any]) -> Account:
    return Account(
        email=row["email"],
        stripe_customer_id=row.get("stripe_customer_id") or None,
        available_minutes=row.get("available_minutes", 0),
        available_cents=row.get("available_cents", 0),
        paid_cents=row.get("paid_cents", 0),
        status=row.get("status", "active"),
        version=row.get("version", 0),
        created_at=row.get("created_at", 0),
        last_activity_at=row.get("last_activity_at", 0),
        refund_due_at=row.get("refund_due_at"),
    )


_LOT_FIELDS = tuple(Lot.__dataclass_fields__)
_ENTRY_FIELDS = tuple(name for name in JournalEntry.__dataclass_fields__ if name != "lots")


def _lot(row: Mapping[str, Any]) -> Lot:
    return Lot(**_fields(row, _LOT_FIELDS))


def _entry(row: Mapping[str, Any]) -> JournalEntry:
    shares = tuple(
        LotShare(str(share["lot_id"]), int(share["minutes"]), int(share["amount_cents"]))
        for share in row.get("lots", [])
    )
    return JournalEntry(**_fields(row, _ENTRY_FIELDS), lots=shares)
