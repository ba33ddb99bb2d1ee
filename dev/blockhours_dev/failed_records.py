"""What Lambda writes to FailedRecordsBucket when it gives up on a stream batch, so the local stack writes the same.

The shape is AWS's (Lambda developer guide, "Retain discarded records for a DynamoDB event source", example
Amazon S3 invocation record): the record an SQS or SNS destination gets, plus `payload`, the whole invocation
event as an escaped JSON string, stored under aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID>.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

# Why Lambda gave up: retries used up, or the records outlived MaximumRecordAgeInSeconds.
Condition = Literal["RetryAttemptsExhausted", "RecordAgeExceeded"]


@dataclass(frozen=True)
class KeptBatch:
    """One S3 object: its key in the bucket and its JSON text."""

    key: str
    body: str


@dataclass(frozen=True)
class GivenUp:
    """The invocation Lambda gave up on: which mapping and function, how often it tried, and how it failed."""

    mapping_uuid: str
    function_arn: str
    stream_arn: str
    shard_id: str
    request_id: str
    invoke_count: int
    at: datetime
    condition: Condition = "RetryAttemptsExhausted"
    function_error: str = "Unhandled"
    status_code: int = 200
    executed_version: str = "$LATEST"


def kept_batch(given_up: GivenUp, records: Sequence[Mapping[str, Any]], object_id: str) -> KeptBatch:
    """The object for a batch of stream records (as the function received them); `object_id` is a fresh UUID."""
    if not records:
        raise ValueError("Lambda keeps only batches that hold records")
    at = given_up.at.astimezone(UTC)
    first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
    record = invocation_record(
        given_up.request_id,
        given_up.function_arn,
        given_up.condition,
        given_up.invoke_count,
        at,
        given_up.function_error,
        given_up.status_code,
        given_up.executed_version,
    )
    record |= {
        "DDBStreamBatchInfo": {
            "shardId": given_up.shard_id,
            "startSequenceNumber": str(first["SequenceNumber"]),
            "endSequenceNumber": str(last["SequenceNumber"]),
            "approximateArrivalOfFirstRecord": _arrival(first["ApproximateCreationDateTime"]),
            "approximateArrivalOfLastRecord": _arrival(last["ApproximateCreationDateTime"]),
            "batchSize": len(records),
            "streamArn": given_up.stream_arn,
        },
        "payload": json.dumps({"Records": list(records)}, default=_as_in_lambda_events),
    }
    day, moment = at.strftime("%Y/%m/%d"), at.strftime("%Y-%m-%dT%H.%M.%S")
    key = f"aws/lambda/{given_up.mapping_uuid}/{given_up.shard_id}/{day}/{moment}-{object_id}"
    return KeptBatch(key, json.dumps(record, indent=4))


def invocation_record(
    request_id: str,
    function_arn: str,
    condition: str,
    invoke_count: int,
    at: datetime,
    function_error: str = "Unhandled",
    status_code: int = 200,
    executed_version: str = "$LATEST",
) -> dict[str, Any]:
    """What every on-failure destination record starts with: which invocation, how often tried, how it ended."""
    at = at.astimezone(UTC)
    return {
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": {
            "statusCode": status_code,
            "executedVersion": executed_version,
            "functionError": function_error,
        },
        "version": "1.0",
        "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
    }


def batch_event(body: str) -> dict[str, Any]:
    """The invocation event a kept object holds: what to hand the outbox again to replay the batch."""
    event: dict[str, Any] = json.loads(json.loads(body)["payload"])
    return event


def _arrival(created: float | int | datetime) -> str:
    when = created if isinstance(created, datetime) else datetime.fromtimestamp(created, UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_in_lambda_events(value: object) -> object:
    """A stream record read with boto3 holds datetimes and bytes; Lambda's event has epoch seconds and base64."""
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not in a stream record")
