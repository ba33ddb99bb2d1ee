"""Lambda's event source mappings, for the local stack, as template.yaml sets them.

- A DynamoDB stream mapping drops the records its FilterCriteria does not admit, sends batches of BatchSize,
  honours ReportBatchItemFailures (the checkpoint goes to the first failed record), splits a failed batch in
  two (BisectBatchOnFunctionError), and after MaximumRetryAttempts hands the batch to its on-failure
  destination and moves on.
- An SQS mapping receives BatchSize messages, runs up to MaximumConcurrency batches at once, deletes what the
  function did not report as failed; the rest comes back after the queue's visibility timeout, and the
  queue's redrive policy moves a message received maxReceiveCount times to its dead-letter queue.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from moto.events.models import EventPattern

from . import failed_records, template
from .local_lambda import LocalLambda, Outcome

log = logging.getLogger("blockhours.local")

# What Lambda's filter syntax allows (its docs: "Filter rule syntax"); moto's matcher knows a few more.
_LAMBDA_OPERATORS = {"prefix", "suffix", "anything-but", "exists", "numeric", "equals-ignore-case"}


@dataclass(frozen=True)
class SentMail:
    to: list[str]
    subject: str
    body: str


def sent_mail() -> list[SentMail]:
    """Every email the embedded SES has accepted (it runs in this process), oldest first."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return [SentMail(m.destinations.get("ToAddresses", []), m.subject, m.body) for m in backend.sent_messages]


def _check_operators(node: Any, where: str) -> None:
    if isinstance(node, dict):
        for value in node.values():
            if isinstance(value, list):
                for rule in value:
                    if isinstance(rule, dict) and not set(rule) <= _LAMBDA_OPERATORS:
                        raise ValueError(f"{where}: Lambda's filters have no {sorted(set(rule) - _LAMBDA_OPERATORS)}")
            else:
                _check_operators(value, where)


class Filter:
    """A mapping's FilterCriteria: a record passes when any pattern matches; no patterns pass everything."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        for pattern in patterns:
            _check_operators(json.loads(pattern), pattern)
        self.patterns = [EventPattern.load(pattern) for pattern in patterns]

    def admits(self, record: Mapping[str, Any]) -> bool:
        event: Any = dict(record)  # moto types its argument as an EventBridge event; any JSON object matches
        return not self.patterns or any(pattern.matches_event(event) for pattern in self.patterns)


@dataclass
class Destinations:
    """The template's queues and buckets, locally: where Lambda puts what it gave up on."""

    queue_urls: Mapping[str, str]  # logical id → URL
    buckets: Mapping[str, str]  # logical id → bucket name
    kept: list[dict[str, Any]] = field(default_factory=list)  # every record sent, for the terminal and tests

    def dead_letter(self, destination: template.Destination | None, event: Any, outcome_error: dict[str, Any]) -> None:
        """A function's DeadLetterQueue: the event itself, with why it failed in the message's attributes."""
        if destination is not None:
            attributes: dict[str, Any] = {
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {"DataType": "String", "StringValue": str(outcome_error.get("errorMessage", ""))[:256]},
            }
            url = self.queue_urls[destination.resource]
            boto3.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(event), MessageAttributes=attributes)
        self.kept.append({"event": event, "error": outcome_error})  # once it is there: who waits on it may read it

    def send(self, destination: template.Destination | None, record: dict[str, Any], key: str = "") -> None:
        """A queue gets the description of what was given up (no records); a bucket, `record` whole at `key`."""
        if destination is None:
            log.error("Lambda gave up and has no destination for it: %s", json.dumps(record)[:2000])
        elif destination.kind == "S3":
            bucket = self.buckets[destination.resource]
            boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=json.dumps(record, indent=4).encode())
        else:
            url = self.queue_urls[destination.resource]
            body = {k: v for k, v in record.items() if k != "payload"}
            boto3.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(body))
        if destination is not None:
            log.error("Lambda gave up; what it gave up on went to %s", destination.resource)
        self.kept.append(record)  # once it is there: who waits on it may read it at once


@dataclass
class StreamPump:
    """One DynamoDB stream event source mapping."""

    runtime: LocalLambda
    trigger: template.StreamTrigger
    table: str
    destinations: Destinations
    interval_seconds: float = 0.2
    on_batch: Callable[[], None] | None = None
    dropped: list[dict[str, Any]] = field(default_factory=list)  # what the filter kept from the function
    caught_up_at: float = 0.0  # when the last poll that found nothing new began (time.monotonic())
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self.filter = Filter(self.trigger.patterns)
        self.mapping_uuid = str(uuid.uuid4())

    def start(self) -> StreamPump:
        self._thread = threading.Thread(target=self._run, name=f"stream-{self.trigger.function}", daemon=True)
        self._thread.start()
        return self

    def begin_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        arn = boto3.client("dynamodb").describe_table(TableName=self.table)["Table"]["LatestStreamArn"]
        streams = boto3.client("dynamodbstreams")
        done: dict[str, str] = {}  # the checkpoint: the last sequence number handled, per shard
        while not self._stop.wait(self.interval_seconds):
            try:
                self._poll(streams, arn, done)
            except Exception:  # Lambda's poller carries on whatever one poll met
                log.exception("the stream poller of %s failed; polling again", self.trigger.function)

    def _poll(self, streams: Any, arn: str, done: dict[str, str]) -> None:
        began, found = time.monotonic(), False
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            # A fresh iterator after the checkpoint, every time: moto swaps a table's stream object when it
            # rolls back a failed transaction, and an old iterator would wait on it forever.
            where: dict[str, str] = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": done[shard_id]}
                if shard_id in done
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, **where)
            page = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)
            records = [_as_lambda_sends(r, arn) for r in page.get("Records", [])]
            if records:
                admitted: list[dict[str, Any]] = []
                for record in records:
                    (admitted if self.filter.admits(record) else self.dropped).append(record)
                self._handle(shard_id, arn, admitted)
                done[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
                if self.on_batch:
                    self.on_batch()
                found = True
        if not found:
            self.caught_up_at = began

    def _handle(self, shard_id: str, arn: str, records: list[dict[str, Any]]) -> None:
        """Carry every admitted record through, in order, as Lambda's poller does for one shard."""
        size = self.trigger.batch_size
        retries = 0
        while records and not self._stop.is_set():
            batch = records[: min(size, self.trigger.batch_size)]
            outcome = self.runtime.invoke(self.trigger.function, {"Records": batch})
            failed_at = self._first_failure(batch, outcome)
            if failed_at is None:
                records, size, retries = records[len(batch) :], self.trigger.batch_size, 0
                continue
            records = records[failed_at:]  # the checkpoint moves to the first failed record
            retries += 1
            if self.trigger.bisect_on_error and len(batch) - failed_at > 1:
                size = max(1, (len(batch) - failed_at) // 2)
            if 0 <= self.trigger.maximum_retry_attempts < retries:
                given_up = records[: len(batch) - failed_at]
                self._give_up(shard_id, arn, given_up, outcome, retries)
                records, size, retries = records[len(given_up) :], self.trigger.batch_size, 0
            else:
                time.sleep(self.interval_seconds)

    def _first_failure(self, batch: list[dict[str, Any]], outcome: Outcome) -> int | None:
        """Where the batch failed: None if it did not, 0 for the whole batch."""
        if outcome.failed:
            return 0
        if not self.trigger.report_item_failures or not isinstance(outcome.payload, dict):
            return None
        failures = outcome.payload.get("batchItemFailures") or []
        if not failures:
            return None
        sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
        named = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
        if any(n not in sequence for n in named):  # an empty, null or unknown identifier fails the whole batch
            return 0
        return min(sequence.index(str(n)) for n in named)

    def _give_up(self, shard_id: str, arn: str, records: list[dict[str, Any]], outcome: Outcome, attempts: int) -> None:
        given_up = failed_records.GivenUp(
            mapping_uuid=self.mapping_uuid,
            function_arn=self.runtime.refs.get(f"{self.trigger.function}.Arn", self.trigger.function),
            stream_arn=arn,
            shard_id=shard_id,
            request_id=outcome.request_id,
            invoke_count=attempts,
            at=datetime.now(UTC),
            function_error="Unhandled" if outcome.failed else "",
        )
        kept = failed_records.kept_batch(given_up, records, str(uuid.uuid4()))
        self.destinations.send(self.trigger.on_failure, json.loads(kept.body), kept.key)


def _as_lambda_sends(record: dict[str, Any], arn: str) -> dict[str, Any]:
    """A stream record as JSON, as Lambda sends it: boto3 parses the creation time into a datetime."""
    change = dict(record["dynamodb"])
    at = change.get("ApproximateCreationDateTime")
    if isinstance(at, datetime):
        change["ApproximateCreationDateTime"] = int(at.timestamp())
    return {**record, "dynamodb": change, "eventSourceARN": arn}


@dataclass
class QueuePump:
    """One SQS event source mapping."""

    runtime: LocalLambda
    trigger: template.QueueTrigger
    queue_url: str
    wait_seconds: int = 1
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> QueuePump:
        # Each poller runs one batch at a time: MaximumConcurrency pollers, as many batches in flight.
        for n in range(self.trigger.maximum_concurrency or 5):
            thread = threading.Thread(target=self._run, name=f"queue-{self.trigger.function}-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def begin_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self) -> None:
        sqs = boto3.client("sqs")
        arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        while not self._stop.is_set():
            messages = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(self.trigger.batch_size, 10),
                WaitTimeSeconds=self.wait_seconds,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                continue
            records = [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": m.get("MessageAttributes", {}),
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": arn,
                    "awsRegion": "us-east-1",
                }
                for m in messages
            ]
            outcome = self.runtime.invoke(self.trigger.function, {"Records": records})
            for message in messages:
                if not self._failed(outcome, message["MessageId"]):
                    sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _failed(self, outcome: Outcome, message_id: str) -> bool:
        """A function error fails the batch; with ReportBatchItemFailures, the messages it names."""
        if outcome.failed:
            return True
        if not self.trigger.report_item_failures or not isinstance(outcome.payload, dict):
            return False
        failures = outcome.payload.get("batchItemFailures") or []
        named = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
        return message_id in named or any(not n for n in named)  # an empty or null identifier fails them all
