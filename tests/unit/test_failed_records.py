"""The object Lambda keeps in FailedRecordsBucket for a given-up stream batch, checked against AWS's own example."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aws_lambda_powertools.utilities.parser.models.dynamodb import DynamoDBStreamLambdaOnFailureDestinationModel

from blockhours_dev.failed_records import GivenUp, batch_event, kept_batch

# Lambda developer guide, "Retain discarded records for a DynamoDB event source", example Amazon S3 invocation
# record; its "payload" is "<Whole Event>" there: the invocation event as an escaped JSON string.
DOCUMENTED: dict[str, Any] = {
    "requestContext": {
        "requestId": "316aa6d0-8154-xmpl-9af7-85d5f4a6bc81",
        "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 1,
    },
    "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
    "version": "1.0",
    "timestamp": "2019-11-14T00:13:49.717Z",
    "DDBStreamBatchInfo": {
        "shardId": "shardId-00000001573689847184-864758bb",
        "startSequenceNumber": "800000000003126276362",
        "endSequenceNumber": "800000000003126276362",
        "approximateArrivalOfFirstRecord": "2019-11-14T00:13:19Z",
        "approximateArrivalOfLastRecord": "2019-11-14T00:13:19Z",
        "batchSize": 1,
        "streamArn": "arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388",
    },
    "payload": "<Whole Event>",
}
STREAM = DOCUMENTED["DDBStreamBatchInfo"]["streamArn"]
# One record of that stream, as Lambda hands it to the function (and to the payload).
RECORD: dict[str, Any] = {
    "eventID": "1",
    "eventName": "INSERT",
    "eventVersion": "1.1",
    "eventSource": "aws:dynamodb",
    "awsRegion": "us-east-2",
    "dynamodb": {
        "ApproximateCreationDateTime": 1573690399,
        "Keys": {"pk": {"S": "CUST#ana@example.com"}, "sk": {"S": "ENTRY#1573690399#e1"}},
        "NewImage": {"type": {"S": "entry"}, "kind": {"S": "purchase"}},
        "SequenceNumber": "800000000003126276362",
        "SizeBytes": 26,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    },
    "eventSourceARN": STREAM,
}
GIVEN_UP = GivenUp(
    mapping_uuid="f89f8514-cdd9-4602-9e1f-01a5b77d449b",
    function_arn=DOCUMENTED["requestContext"]["functionArn"],
    stream_arn=STREAM,
    shard_id=DOCUMENTED["DDBStreamBatchInfo"]["shardId"],
    request_id=DOCUMENTED["requestContext"]["requestId"],
    invoke_count=1,
    at=datetime(2019, 11, 14, 0, 13, 49, 717_000, tzinfo=UTC),
)
OBJECT_ID = "2f5b0d61-4f8e-4f3b-9d0c-6f1a2b3c4d5e"


def test_the_object_is_awss_documented_example_with_the_whole_batch_as_payload() -> None:
    kept = kept_batch(GIVEN_UP, [RECORD], OBJECT_ID)
    body = json.loads(kept.body)

    assert list(body) == list(DOCUMENTED)
    assert {name: value for name, value in body.items() if name != "payload"} == {
        name: value for name, value in DOCUMENTED.items() if name != "payload"
    }
    assert isinstance(body["payload"], str)
    assert json.loads(body["payload"]) == {"Records": [RECORD]}
    assert batch_event(kept.body) == {"Records": [RECORD]}  # what the runbook hands the outbox to replay it


def test_the_key_follows_lambdas_naming_in_utc() -> None:
    in_chicago = datetime(2019, 11, 13, 18, 13, 49, 717_000, tzinfo=ZoneInfo("America/Chicago"))  # 00:13 UTC
    given_up = dataclasses.replace(GIVEN_UP, at=in_chicago)

    kept = kept_batch(given_up, [RECORD], OBJECT_ID)

    assert kept.key == (
        "aws/lambda/f89f8514-cdd9-4602-9e1f-01a5b77d449b/shardId-00000001573689847184-864758bb/"
        f"2019/11/14/2019-11-14T00.13.49-{OBJECT_ID}"
    )
    assert json.loads(kept.body)["timestamp"] == "2019-11-14T00:13:49.717Z"


def test_powertools_reads_it_as_a_dynamodb_on_failure_record() -> None:
    parsed = DynamoDBStreamLambdaOnFailureDestinationModel.model_validate_json(
        kept_batch(GIVEN_UP, [RECORD], OBJECT_ID).body
    )

    assert parsed.ddb_stream_batch_info.batch_size == 1
    assert parsed.ddb_stream_batch_info.approximate_arrival_of_first_record == datetime(
        2019, 11, 14, 0, 13, 19, tzinfo=UTC
    )
    assert parsed.request_context.condition == "RetryAttemptsExhausted"


def test_a_batch_names_its_first_and_last_record() -> None:
    later = copy.deepcopy(RECORD)
    later["dynamodb"].update(SequenceNumber="800000000003126276999", ApproximateCreationDateTime=1573690459)

    info = json.loads(kept_batch(GIVEN_UP, [RECORD, later], OBJECT_ID).body)["DDBStreamBatchInfo"]

    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        "800000000003126276362",
        "800000000003126276999",
        2,
    )
    assert (info["approximateArrivalOfFirstRecord"], info["approximateArrivalOfLastRecord"]) == (
        "2019-11-14T00:13:19Z",
        "2019-11-14T00:14:19Z",
    )


def test_records_read_with_boto3_are_kept_as_lambda_would_have_sent_them() -> None:
    """The local stack reads the stream with boto3: datetimes and bytes where Lambda's event has numbers and base64."""
    read = copy.deepcopy(RECORD)
    read["dynamodb"]["ApproximateCreationDateTime"] = datetime(2019, 11, 14, 0, 13, 19, tzinfo=UTC)
    read["dynamodb"]["NewImage"]["blob"] = {"B": b"\x00\x01"}

    kept = kept_batch(GIVEN_UP, [read], OBJECT_ID)

    (record,) = batch_event(kept.body)["Records"]
    assert record["dynamodb"]["ApproximateCreationDateTime"] == 1573690399
    assert record["dynamodb"]["NewImage"]["blob"] == {"B": "AAE="}
    assert json.loads(kept.body)["DDBStreamBatchInfo"]["approximateArrivalOfFirstRecord"] == "2019-11-14T00:13:19Z"


def test_an_age_limit_gives_up_with_its_own_condition() -> None:
    aged = dataclasses.replace(GIVEN_UP, condition="RecordAgeExceeded", invoke_count=0)

    context = json.loads(kept_batch(aged, [RECORD], OBJECT_ID).body)["requestContext"]

    assert (context["condition"], context["approximateInvokeCount"]) == ("RecordAgeExceeded", 0)


def test_an_empty_batch_is_never_kept() -> None:
    with pytest.raises(ValueError, match="hold records"):
        kept_batch(GIVEN_UP, [], OBJECT_ID)
