"""The world the model runs in: moto in process, the Stripe stand-in on loopback, and crashes between I/O calls."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import stripe
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from werkzeug.serving import make_server

from blockhours.adapters.dynamo import DynamoLedger
from blockhours.adapters.dynamo_items import plain
from blockhours.adapters.store import TableStore
from blockhours_dev import template
from blockhours_dev.embedded_aws import lighter_rollback
from blockhours_dev.memory_table import MemoryTable
from blockhours_dev.standin import StripeStandIn

# The table as template.yaml shapes it, less its stream: nothing here reads the stream, and every write would add a
# record to it.
TABLE = {k: v for k, v in template.table_definition().items() if k != "StreamSpecification"}
REGION = "eu-north-1"  # moto keeps a store per region: this one holds only this test's tables


class Crash(Exception):
    """The process died (a Lambda timeout, an out-of-memory kill) between two I/O steps."""


class Crasher:
    """Counts I/O calls (DynamoDB and Stripe alike); when armed, the chosen call crashes before or after it runs.

    A plan is (call, "before" | "after"), where call is the call's number, or words its description holds (the
    first such call); a third element, "late", asks for the retry to come after Stripe has forgotten the
    idempotency keys (it keeps them 24 hours at least, no longer promised). `crashed_at` names the call.
    """

    def __init__(self) -> None:
        self.plan: tuple[Any, ...] | None = None
        self.calls = 0
        self.crashed_at = ""

    def arm(self, plan: tuple[Any, ...] | None) -> None:
        self.plan, self.calls, self.crashed_at = (plan[:2] if plan else None), 0, ""

    def _chosen(self, what: str, when: str) -> bool:
        if self.plan is None or self.plan[1] != when:
            return False
        call = self.plan[0]
        return call == self.calls if isinstance(call, int) else call in what

    def before(self, what: str) -> None:
        if self.plan is None:
            return
        self.calls += 1
        if self._chosen(what, "before"):
            self.plan, self.crashed_at = None, what
            raise Crash(f"crashed before I/O call {self.calls} ({what})")

    def after(self, what: str) -> None:
        if self._chosen(what, "after"):
            self.plan, self.crashed_at = None, what
            raise Crash(f"crashed after I/O call {self.calls} ({what}) had done its work")


class CrashingHTTP(stripe.RequestsClient):
    """The SDK's own HTTP client, with the crasher between the SDK and the network."""

    def __init__(self, crasher: Crasher) -> None:
        super().__init__()
        self.crasher = crasher

    def request(self, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
        self.crasher.before(f"Stripe {method.upper()} {url.split('/v1/')[-1]}")
        answer = super().request(method, url, headers, post_data)
        self.crasher.after(f"Stripe {method.upper()} {url.split('/v1/')[-1]}")
        return answer


def dynamodb() -> Any:
    return boto3.client("dynamodb", region_name=REGION)


class StoredLedger(DynamoLedger):
    """The ledger, with its reads of one customer's items served from moto's store without the wire (moto's
    serialiser made them the slowest calls of the test). A crasher, if given, still sees them as I/O calls."""

    def __init__(self, table: str, client: Any, crasher: Crasher | None = None) -> None:
        super().__init__(table, client)
        self.crasher = crasher

    def query(self, pk: str, prefix: str = "") -> list[dict[str, Any]]:
        if self.crasher:
            self.crasher.before("DynamoDB Query")
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(self.table)
        rows = [
            plain(item.to_json()["Attributes"])
            for hash_key, by_sort_key in table.items.items()
            if hash_key.value == pk
            for item in by_sort_key.values()
        ]
        if self.crasher:
            self.crasher.after("DynamoDB Query")
        return sorted((row for row in rows if row["sk"].startswith(prefix)), key=lambda row: str(row["sk"]))


class CrashingRows:
    """The in-memory table, with a crash possible before and after each call, named as DynamoDB's would be."""

    def __init__(self, table: MemoryTable, crasher: Crasher | None) -> None:
        self.table, self.crasher = table, crasher

    def _call(self, name: str, call: Callable[[], Any]) -> Any:
        if self.crasher:
            self.crasher.before(f"DynamoDB {name}")
        answer = call()
        if self.crasher:
            self.crasher.after(f"DynamoDB {name}")
        return answer

    def write(self, ops: list[Any]) -> Any:
        name = "TransactWriteItems" if len(ops) > 1 else {"put": "PutItem"}.get(ops[0].action, "UpdateItem")
        return self._call(name, lambda: self.table.write(ops))

    def get(self, pk: str, sk: str) -> Any:
        return self._call("GetItem", lambda: self.table.get(pk, sk))

    def get_many(self, keys: list[tuple[str, str]]) -> Any:
        return self._call("BatchGetItem", lambda: self.table.get_many(keys))

    def query(self, pk: str, prefix: str = "") -> Any:
        return self._call("Query", lambda: self.table.query(pk, prefix))

    def query_index(self, index: str, value: str, until: int | None = None) -> Any:
        return self._call("Query", lambda: self.table.query_index(index, value, until))

    def scan(self, where: Any, cursor: dict[str, str] | None = None, limit: int | None = None) -> Any:
        return self._call("Scan", lambda: self.table.scan(where, cursor, limit))


class MemoryStore(TableStore):
    """The ledger on the in-memory table (BLOCKHOURS_MODEL_STORE=memory): tens of thousands of steps a minute."""

    def __init__(self, table: MemoryTable, crasher: Crasher | None = None) -> None:
        self.rows = CrashingRows(table, crasher)


def in_memory() -> bool:
    return os.environ.get("BLOCKHOURS_MODEL_STORE", "dynamodb") == "memory"


def crashing_ledger(table: str, crasher: Crasher) -> DynamoLedger:
    client = dynamodb()
    client.meta.events.register("before-call.dynamodb", lambda model, **_: crasher.before(f"DynamoDB {model.name}"))
    client.meta.events.register("after-call.dynamodb", lambda model, **_: crasher.after(f"DynamoDB {model.name}"))
    return StoredLedger(table, client, crasher)


class Switch:
    """One loopback server for the whole run; each example gets a fresh stand-in behind it."""

    def __init__(self) -> None:
        self.app: StripeStandIn | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None
        return self.app(environ, start_response)


@dataclass
class World:
    stripe_url: str
    switch: Switch


@contextlib.contextmanager
def open_world() -> Iterator[World]:
    """moto in process (four times faster than through its server, and the same DynamoDB), the stand-in on loopback.

    moto keeps one store per process: started without a reset and stopped without removing data, this leaves
    the embedded AWS that other tests share as it was.
    """
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    endpoint = os.environ.pop("AWS_ENDPOINT_URL", None)
    aws = mock_aws()
    aws.start(reset=False)
    lighter_rollback()  # as the embedded AWS has it: a refused transaction puts back only what it touched
    switch = Switch()
    server = make_server("127.0.0.1", 0, switch, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield World(f"http://127.0.0.1:{server.server_port}", switch)
    finally:
        server.shutdown()
        server.server_close()
        aws.stop(remove_data=False)
        if endpoint is not None:
            os.environ["AWS_ENDPOINT_URL"] = endpoint
