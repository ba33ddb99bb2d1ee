"""Lambda's DynamoDB stream trigger, for the local stack: read the table's stream, call the handler."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

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
        from .local import LocalContext

        arn = boto3.client("dynamodb").describe_table(TableName=self.table)["Table"]["LatestStreamArn"]
        streams = boto3.client("dynamodbstreams")
        iterators: dict[str, str | None] = {}
        while not self._stop.wait(self.interval_seconds):
            for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
                if shard["ShardId"] not in iterators:
                    iterators[shard["ShardId"]] = streams.get_shard_iterator(
                        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                    )["ShardIterator"]
            for shard_id, iterator in list(iterators.items()):
                if iterator is None:
                    continue
                page = streams.get_records(ShardIterator=iterator, Limit=100)
                iterators[shard_id] = page.get("NextShardIterator")
                records = [{**r, "eventSourceARN": arn} for r in page.get("Records", [])]
                if records:
                    handler({"Records": records}, LocalContext("mail"))
                    if self.on_batch:
                        self.on_batch()
