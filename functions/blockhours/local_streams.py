"""Lambda's DynamoDB stream trigger, for the local stack: read the table's stream, call the handler."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

log = logging.getLogger("blockhours.local")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


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


@dataclass
class StreamPump:
    table: str
    handler_path: str = "blockhours.handlers.outbox.handler"
    interval_seconds: float = 0.2
    on_batch: Callable[[], None] | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _failures: int = 0

    def _handler(self) -> Handler:
        module, _, name = self.handler_path.rpartition(".")
        function: Handler = getattr(importlib.import_module(module), name)
        return function

    def start(self) -> StreamPump:
        handler = self._handler()  # imported here: a first import inside the thread can race the main one
        self._thread = threading.Thread(target=self._run, args=(handler,), name="stream-pump", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self, handler: Handler) -> None:

        arn = boto3.client("dynamodb").describe_table(TableName=self.table)["Table"]["LatestStreamArn"]
        streams = boto3.client("dynamodbstreams")
        done: dict[str, str] = {}  # the last sequence number handled, per shard
        while not self._stop.wait(self.interval_seconds):
            for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
                shard_id = shard["ShardId"]
                # A fresh iterator after what was handled, every time: moto swaps a table's stream object
                # when it rolls back a failed transaction, and an old iterator would wait on it forever.
                where: dict[str, str] = (
                    {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": done[shard_id]}
                    if shard_id in done
                    else {"ShardIteratorType": "TRIM_HORIZON"}
                )
                iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, **where)
                page = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=100)
                records = [{**r, "eventSourceARN": arn} for r in page.get("Records", [])]
                if not records or not self._deliver(handler, records):
                    continue  # like Lambda: the same batch again on the next poll
                done[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
                if self.on_batch:
                    self.on_batch()

    def _deliver(self, handler: Handler, records: list[dict[str, Any]]) -> bool:
        """Call the handler; after three failed tries of one batch, log it and move on (Lambda's retry limit)."""
        from .local import LocalContext

        try:
            answer = handler({"Records": records}, LocalContext("outbox"))
        except Exception:
            answer = {"batchItemFailures": [{"itemIdentifier": "all"}]}
            log.exception("the outbox handler failed")
        if not answer.get("batchItemFailures"):
            self._failures = 0
            return True
        self._failures += 1
        if self._failures >= 3:
            log.error("giving up on a stream batch after 3 tries: %s", answer)
            self._failures = 0
            return True
        return False


@dataclass
class QueuePump:
    """Lambda's SQS trigger, locally: receive, call the handler, delete what it did not report as failed."""

    queue_url: str
    handler_path: str = "blockhours.handlers.refunds.handler"
    wait_seconds: int = 1
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> QueuePump:
        module, _, name = self.handler_path.rpartition(".")
        handler: Handler = getattr(importlib.import_module(module), name)
        self._thread = threading.Thread(target=self._run, args=(handler,), name="queue-pump", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self, handler: Handler) -> None:
        from .local import LocalContext

        sqs = boto3.client("sqs")
        arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        while not self._stop.is_set():
            messages = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=5,
                WaitTimeSeconds=self.wait_seconds,
                AttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                continue
            records = [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": arn,
                    "awsRegion": "us-east-1",
                }
                for m in messages
            ]
            try:
                answer = handler({"Records": records}, LocalContext("refunds"))
                failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
            except Exception:  # the whole batch failed: every message comes back after its visibility timeout
                log.exception("the refund worker failed")
                failed = {m["MessageId"] for m in messages}
            for message in messages:
                if message["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
