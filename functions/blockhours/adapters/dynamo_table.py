"""One DynamoDB table, and the few ways the ledger writes to it: conditional puts and updates, in transactions."""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .dynamo_items import item, key, plain

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

_CONFLICT_RETRIES = 8
_NEW = "attribute_not_exists(pk)"


class StoreError(Exception):
    """DynamoDB refused a write for a reason other than a condition; nothing was written."""


class DynamoTable:
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self.table = table
        self._client = client

    @property
    def client(self) -> DynamoDBClient:
        if self._client is None:
            config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=5)
            self._client = boto3.client("dynamodb", config=config)
        return self._client

    # --- writes ---------------------------------------------------------------------------------

    def _put(self, pk: str, sk: str, values: dict[str, Any]) -> dict[str, Any]:
        return {
            "Put": {"TableName": self.table, "Item": item({"pk": pk, "sk": sk, **values}), "ConditionExpression": _NEW}
        }

    def _update(self, pk: str, sk: str, expression: str, values: dict[str, Any], condition: str = "") -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": key(pk, sk),
            "UpdateExpression": expression,
            "ExpressionAttributeValues": item(values),
        }
        if "#status" in expression or "#status" in condition:
            update["ExpressionAttributeNames"] = {"#status": "status"}
        if condition:
            update["ConditionExpression"] = condition
        return {"Update": update}

    def _transact(self, items: list[dict[str, Any]]) -> list[str]:
        """Run one transaction; the cancellation reasons when a condition failed, [] when it committed.

        One item alone is written with a plain conditional put or update: as atomic, at half the write cost.
        """
        if len(items) == 1:
            return self._write_one(items[0])
        return [code for code, _ in self._transact_seeing(items)]

    def _transact_seeing(self, items: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
        """A transaction; when a condition failed, each item's reason with what it held (for items that ask
        `ReturnValuesOnConditionCheckFailure`), in the same round trip."""
        for attempt in range(_CONFLICT_RETRIES):
            try:
                self.client.transact_write_items(TransactItems=cast("Any", items))
                return []
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = [
                    (r.get("Code", "None"), plain(r.get("Item") or {}))
                    for r in cast("list[dict[str, Any]]", exc.response.get("CancellationReasons", []))
                ]
                codes = [code for code, _ in reasons]
                if "ConditionalCheckFailed" in codes:
                    return reasons
                if "TransactionConflict" not in codes or attempt == _CONFLICT_RETRIES - 1:
                    raise StoreError(f"transaction cancelled: {', '.join(codes) or exc}") from exc
                time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - jitter, not security
        raise AssertionError("unreachable")

    def _write_one(self, operation: dict[str, Any]) -> list[str]:
        (kind, request), *_ = operation.items()
        try:
            if kind == "Put":
                self.client.put_item(**request)
            else:
                self.client.update_item(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return ["ConditionalCheckFailed"]
            raise
        return []

    def _query(self, **kwargs: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        kwargs = {"TableName": self.table, **kwargs}
        while True:
            page = self.client.query(**kwargs)
            rows.extend(plain(found) for found in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return rows
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
