"""Accepted and refused DynamoDB writes, run in a fresh interpreter against stock moto or the patched embedded AWS.

`python dynamo_scenarios.py stock` runs them on moto's in-process mock (no patch of ours ever loaded);
`python dynamo_scenarios.py embedded` on dev/blockhours_dev/embedded_aws.py's server. Either prints one JSON object:
each scenario's answers (what each call returned or why it was refused), the items it left and its stream records.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import uuid
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import ClientError

Client = Any  # boto3's DynamoDB client; the stubs are not needed to read these calls


def _table(ddb: Client) -> str:
    name = f"scenario-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return name


def _put(table: str, pk: str, **extra: Any) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": {"pk": {"S": pk}, **extra}}}


def _answer(call: Callable[[], Any]) -> dict[str, Any]:
    """What a call came back with: accepted (and any attributes returned), or refused with DynamoDB's reasons."""
    try:
        answer = call()
    except ClientError as refused:
        error = refused.response
        return {
            "refused": error["Error"]["Code"],
            "reasons": [r.get("Code", "None") for r in error.get("CancellationReasons", [])],
            "old_items": [r["Item"] for r in error.get("CancellationReasons", []) if "Item" in r],
            "old_item": error.get("Item"),
        }
    return {"accepted": True, "attributes": answer.get("Attributes")}


class Scenarios:
    def __init__(self, ddb: Client, streams: Client) -> None:
        self.ddb, self.streams = ddb, streams

    def _items(self, table: str) -> list[dict[str, Any]]:
        return sorted(self.ddb.scan(TableName=table, ConsistentRead=True)["Items"], key=lambda i: i["pk"]["S"])

    def _iterator(self, table: str) -> str:
        arn = self.ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shard = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        return str(iterator["ShardIterator"])

    def _records(self, iterator: str) -> list[str]:
        records = self.streams.get_records(ShardIterator=iterator)["Records"]
        return [f"{r['eventName']} {r['dynamodb']['Keys']['pk']['S']}" for r in records]

    def run(self, name: str) -> dict[str, Any]:
        """One scenario on a table of its own: the answers, the items left, the stream as a fresh reader sees it."""
        table = _table(self.ddb)
        answers = getattr(self, name)(table)
        return {"answers": answers, "items": self._items(table), "stream": self._records(self._iterator(table))}

    def put_if_absent(self, table: str) -> list[dict[str, Any]]:
        put = {"TableName": table, "Item": {"pk": {"S": "a"}, "n": {"N": "1"}}}
        absent = {"ConditionExpression": "attribute_not_exists(pk)"}
        return [
            _answer(lambda: self.ddb.put_item(**put, **absent)),
            _answer(lambda: self.ddb.put_item(**put, **absent)),
        ]

    def refused_put_returns_the_old_item(self, table: str) -> list[dict[str, Any]]:
        self.ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
        return [
            _answer(
                lambda: self.ddb.put_item(
                    TableName=table,
                    Item={"pk": {"S": "a"}, "v": {"N": "2"}},
                    ConditionExpression="v = :two",
                    ExpressionAttributeValues={":two": {"N": "2"}},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            )
        ]

    def add_to_a_missing_attribute(self, table: str) -> list[dict[str, Any]]:
        self.ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
        add = {
            "TableName": table,
            "UpdateExpression": "ADD n :five",
            "ExpressionAttributeValues": {":five": {"N": "5"}},
            "ReturnValues": "ALL_NEW",
        }
        return [
            _answer(lambda: self.ddb.update_item(Key={"pk": {"S": "a"}}, **add)),  # the attribute is missing
            _answer(lambda: self.ddb.update_item(Key={"pk": {"S": "b"}}, **add)),  # the whole item is
        ]

    def transaction_of_one(self, table: str) -> list[dict[str, Any]]:
        return [_answer(lambda: self.ddb.transact_write_items(TransactItems=[_put(table, "a")]))]

    def transaction_of_many(self, table: str) -> list[dict[str, Any]]:
        hundred = [_put(table, f"i{n:03}") for n in range(100)]
        too_many = [_put(table, f"j{n:03}") for n in range(101)]
        return [
            _answer(lambda: self.ddb.transact_write_items(TransactItems=hundred)),
            _answer(lambda: self.ddb.transact_write_items(TransactItems=too_many)),
        ]

    def condition_fails_on_one_item(self, table: str) -> list[dict[str, Any]]:
        """An update and a put before the refused check, a put after it: none of the three may stay."""
        self.ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
        self.ddb.put_item(TableName=table, Item={"pk": {"S": "held"}, "v": {"N": "1"}})
        items = [
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": "a"}},
                    "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
            _put(table, "b"),
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": {"pk": {"S": "held"}},
                    "ConditionExpression": "v = :two",
                    "ExpressionAttributeValues": {":two": {"N": "2"}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            _put(table, "c"),
        ]
        return [_answer(lambda: self.ddb.transact_write_items(TransactItems=items))]

    def two_items_touch_one_key(self, table: str) -> list[dict[str, Any]]:
        items = [_put(table, "a"), _put(table, "b"), _put(table, "a", n={"N": "2"})]
        return [_answer(lambda: self.ddb.transact_write_items(TransactItems=items))]

    def a_reader_keeps_reading_after_a_cancelled_transaction(self, table: str) -> list[dict[str, Any]]:
        """A stream reader opened before a refused transaction sees what is written after it."""
        self.ddb.put_item(TableName=table, Item={"pk": {"S": "before"}})
        iterator = self._iterator(table)
        missing = {"TableName": table, "Key": {"pk": {"S": "x"}}, "ConditionExpression": "attribute_exists(pk)"}
        refused = [_put(table, "never"), {"ConditionCheck": missing}]
        answer = _answer(lambda: self.ddb.transact_write_items(TransactItems=refused))
        self.ddb.put_item(TableName=table, Item={"pk": {"S": "after"}})
        return [answer, {"reader_saw": self._records(iterator)}]

    def concurrent_increments_lose_nothing(self, table: str) -> list[dict[str, Any]]:
        """Eight writers, each reading the version and moving it on by one in a conditional transaction."""
        self.ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "version": {"N": "0"}, "n": {"N": "0"}})
        accepted = [0] * 8

        def writer(slot: int) -> None:
            for _ in range(15):
                item = self.ddb.get_item(TableName=table, Key={"pk": {"S": "a"}}, ConsistentRead=True)["Item"]
                version = item["version"]["N"]
                bump = {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "a"}},
                        "UpdateExpression": "SET version = :next ADD n :one",
                        "ConditionExpression": "version = :seen",
                        "ExpressionAttributeValues": {
                            ":seen": {"N": version},
                            ":next": {"N": str(int(version) + 1)},
                            ":one": {"N": "1"},
                        },
                    }
                }
                if "accepted" in _answer(lambda bump=bump: self.ddb.transact_write_items(TransactItems=[bump])):
                    accepted[slot] += 1

        threads = [threading.Thread(target=writer, args=(slot,)) for slot in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return [{"accepted": sum(accepted)}]


ALL = [
    "put_if_absent",
    "refused_put_returns_the_old_item",
    "add_to_a_missing_attribute",
    "transaction_of_one",
    "transaction_of_many",
    "condition_fails_on_one_item",
    "two_items_touch_one_key",
    "a_reader_keeps_reading_after_a_cancelled_transaction",
]
EMBEDDED_ONLY = ["concurrent_increments_lose_nothing"]  # stock moto's in-process mock has no server to serialise


def main(mode: str) -> None:
    if mode == "stock":
        from moto import mock_aws

        with mock_aws():
            ddb, streams = boto3.client("dynamodb"), boto3.client("dynamodbstreams")
            print(json.dumps({name: Scenarios(ddb, streams).run(name) for name in ALL}))
        return
    from blockhours_dev.embedded_aws import EmbeddedAWS

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
    server = EmbeddedAWS().start()
    try:
        ddb = boto3.client("dynamodb", endpoint_url=server.endpoint)
        streams = boto3.client("dynamodbstreams", endpoint_url=server.endpoint)
        print(json.dumps({name: Scenarios(ddb, streams).run(name) for name in ALL + EMBEDDED_ONLY}))
    finally:
        server.stop()


if __name__ == "__main__":
    main(sys.argv[1])
