"""One DynamoDB table: a change's operations in one conditional write, and the reads the store makes."""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ..ports import StoreError
from .dynamo_items import item, key, plain
from .expressions import Expressions, request
from .layout import INDEXES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from ..domain.changes import Expect
    from .layout import Op

_CONFLICT_RETRIES = 8


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

    # --- the generic write: a change's operations, at once or not at all -----------------------

    def write(self, ops: list[Op]) -> tuple[list[str], dict[str, dict[str, Any]]]:
        """Carry out the operations in one conditional write; the names of those whose condition failed (none:
        it committed), and what the failed ones that asked held. One operation alone is a plain conditional
        put or update: as atomic, at half a transaction's write cost."""
        if len(ops) > 100:
            raise StoreError(f"a change of {len(ops)} writes is more than one DynamoDB transaction takes (100)")
        requests = [request(self.table, op) for op in ops]
        if len(ops) == 1 and requests[0][0] != "ConditionCheck":
            return self._write_alone(ops[0], *requests[0])
        reasons = self._transact_seeing([{kind: body} for kind, body in requests])
        if not reasons:
            return [], {}
        failed = [(op, seen) for op, (code, seen) in zip(ops, reasons, strict=True) if code == "ConditionalCheckFailed"]
        return [op.name for op, _ in failed], {op.name: seen for op, seen in failed if op.show_old}

    def _write_alone(self, op: Op, kind: str, body: dict[str, Any]) -> tuple[list[str], dict[str, dict[str, Any]]]:
        try:
            if kind == "Put":
                self.client.put_item(**body)
            else:
                self.client.update_item(**body)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            seen = plain(cast("dict[str, Any]", exc.response).get("Item") or {})
            return [op.name], ({op.name: seen} if op.show_old else {})
        return [], {}

    # --- the generic reads ----------------------------------------------------------------------

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        found = self.client.get_item(TableName=self.table, Key=key(pk, sk), ConsistentRead=True)
        return plain(found["Item"]) if "Item" in found else None

    def get_many(self, keys: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """The items under these keys (absent ones left out), in one round trip unless DynamoDB throttles."""
        rows: list[dict[str, Any]] = []
        wanted: dict[str, Any] = {self.table: {"Keys": [key(*k) for k in keys], "ConsistentRead": True}}
        while wanted:
            found = self.client.batch_get_item(RequestItems=wanted)
            rows += [plain(row) for row in found.get("Responses", {}).get(self.table, [])]
            wanted = cast("dict[str, Any]", found.get("UnprocessedKeys") or {})
        return rows

    def query(self, pk: str, prefix: str = "") -> list[dict[str, Any]]:
        """The items of one partition (whose sort key starts with `prefix`), in sort-key order."""
        if prefix:
            return self._query(
                KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues={":pk": {"S": pk}, ":prefix": {"S": prefix}},
                ConsistentRead=True,
            )
        return self._query(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": pk}}, ConsistentRead=True
        )

    def query_index(self, index: str, value: str, until: int | None = None) -> list[dict[str, Any]]:
        """A sparse index's items under `value`, up to `until` of its range attribute, oldest first."""
        hash_name, range_name = INDEXES[index].hash, INDEXES[index].range
        names = {"#h": hash_name, "#r": range_name}
        if until is None:
            return self._query(
                IndexName=index,
                KeyConditionExpression="#h = :h",
                ExpressionAttributeNames={"#h": hash_name},
                ExpressionAttributeValues={":h": {"S": value}},
            )
        return self._query(
            IndexName=index,
            KeyConditionExpression="#h = :h AND #r <= :until",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":h": {"S": value}, ":until": {"N": str(until)}},
        )

    def scan(
        self, where: Expect, cursor: dict[str, str] | None = None, limit: int | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """Items meeting `where`: one page from `cursor` (reading at most `limit` items), or, without a limit,
        all of them. An audit's path, never a request's."""
        expressions = Expressions()
        kwargs: dict[str, Any] = {"TableName": self.table, "FilterExpression": expressions.condition((where,))}
        kwargs["ExpressionAttributeNames"] = expressions.names
        if expressions.values:
            kwargs["ExpressionAttributeValues"] = item(expressions.values)
        rows: list[dict[str, Any]] = []
        while True:
            if limit is not None:
                kwargs["Limit"] = limit
            if cursor is not None:
                kwargs["ExclusiveStartKey"] = key(cursor["pk"], cursor["sk"])
            page = self.client.scan(**kwargs)
            rows += [plain(found) for found in page.get("Items", [])]
            last = page.get("LastEvaluatedKey")
            cursor = {"pk": str(plain(last)["pk"]), "sk": str(plain(last)["sk"])} if last else None
            if limit is not None or cursor is None:
                return rows, cursor

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

    def _query(self, **kwargs: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        kwargs = {"TableName": self.table, **kwargs}
        while True:
            page = self.client.query(**kwargs)
            rows.extend(plain(found) for found in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return rows
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
