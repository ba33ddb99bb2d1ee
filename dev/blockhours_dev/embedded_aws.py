"""moto's server for the local stack and the tests, made to apply one request at a time.

moto runs concurrent requests at once, so two TransactWriteItems on one item can interleave and lose
an update; DynamoDB never does. Serialising DynamoDB's requests gives the isolation it guarantees.

moto also copies the whole table (every item and its stream history) once per item of every
TransactWriteItems, to roll back a refused one: the local stack slowed as its table grew, and a
rollback swapped the table's stream for an old copy. A transaction here keeps only the items it
touches and the stream's length, and puts those back when it is refused.
"""

from __future__ import annotations

import copy
import io
import json
import threading
import types
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
Written = list[tuple[dict[str, Any], dict[str, Any] | None]]  # each key a write touched, and its item after it


class EmbeddedAWS:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        moto_app = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()
        self._kept: tuple[str, Callable[[Written], None]] | None = None

        def serialised(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            # The stream's reads too: a GetRecords in the middle of a refused transaction would see records that
            # its rollback then removes, and the committed retry reuses their sequence numbers, which the reader
            # has passed: its change would never reach the outbox.
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            if not target.startswith(("DynamoDB_", "DynamoDBStreams_")):
                answer: Iterable[bytes] = moto_app(environ, start_response)
                return answer  # SQS long polls must not hold up the table
            with lock:
                operation = target.partition(".")[2]
                if self._kept is None or operation not in WRITES:
                    return list(moto_app(environ, start_response))
                return self._kept_write(moto_app, environ, start_response, operation)

        self._server: BaseWSGIServer = make_server(
            host, port, serialised, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-aws", daemon=True)

    def keep(self, table: str, record: Callable[[Written], None]) -> None:
        """From now on, each write to `table` that DynamoDB accepts is handed to `record` (the items it left)
        before its answer goes back, in the order they were applied."""
        self._kept = (table, record)

    def _kept_write(
        self, moto_app: Any, environ: dict[str, Any], start_response: Callable[..., Any], operation: str
    ) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
        statuses: list[str] = []

        def answer(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info)

        sent = list(moto_app(environ, answer))
        if self._kept is not None and statuses[-1:] and statuses[-1].startswith("200"):
            table, record = self._kept
            written = written_items(table, operation, json.loads(body))
            if written:
                record(written)
        return sent

    @property
    def endpoint(self) -> str:
        return f"http://{self._server.host}:{self._server.server_port}"

    def start(self) -> EmbeddedAWS:
        """Serve, starting from nothing: moto keeps its state per process, not per server."""
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        lighter_rollback()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def written_items(table_name: str, operation: str, request: dict[str, Any]) -> Written:
    """Each item of `table_name` that an accepted write named, as it is now (None: not there)."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = next(
        (
            backend.tables[table_name]
            for regions in dynamodb_backends.values()
            for backend in regions.values()
            if table_name in backend.tables
        ),
        None,
    )
    if table is None:
        return []
    if operation == "TransactWriteItems":
        actions = request.get("TransactItems", [])
        ops = [op for action in actions for kind, op in action.items() if kind != "ConditionCheck"]
    elif operation == "BatchWriteItem":
        ops = [
            {"TableName": name, **one}
            for name, requests in request.get("RequestItems", {}).items()
            for each in requests
            for one in each.values()
        ]
    else:
        ops = [request]
    written: Written = []
    for op in ops:
        source = op.get("Key") or op.get("Item") or {}
        if op.get("TableName") != table_name or table.hash_key_attr not in source:
            continue
        names = [str(name) for name in (table.hash_key_attr, table.range_key_attr) if name and name in source]
        hash_key = DynamoType(source[table.hash_key_attr])
        range_key = DynamoType(source[table.range_key_attr]) if table.range_key_attr in source else None
        item: Any = table.items.get(hash_key, {}).get(range_key) if range_key else table.items.get(hash_key)
        image = item.to_json()["Attributes"] if item is not None else None
        written.append(({name: source[name] for name in names}, image))
    return written


def _touched(
    backend: Any, transact_items: list[dict[str, Any]]
) -> tuple[list[tuple[Any, Any, Any, Any]], dict[Any, int]]:
    """Each item a transaction may change, as it is now (a copy, or None), and each stream's length."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved: list[tuple[Any, Any, Any, Any]] = []
    streams: dict[Any, int] = {}
    for operation in transact_items:
        _, op = next(iter(operation.items()))
        table = backend.tables.get(op.get("TableName"))
        source = op.get("Key") or op.get("Item") or {}
        if table is None or table.hash_key_attr not in source:
            continue
        hash_key = DynamoType(source[table.hash_key_attr])
        range_key = DynamoType(source[table.range_key_attr]) if table.range_key_attr in source else None
        current = table.items.get(hash_key, {}).get(range_key) if range_key else table.items.get(hash_key)
        saved.append((table, hash_key, range_key, copy.deepcopy(current)))
        if table.stream_shard is not None:
            streams.setdefault(table.stream_shard, len(table.stream_shard.items))
    return saved, streams


def _put_back(saved: list[tuple[Any, Any, Any, Any]], streams: dict[Any, int]) -> None:
    for table, hash_key, range_key, item in reversed(saved):
        if range_key is None:
            if item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
        elif item is None:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items[hash_key][range_key] = item
    for shard, length in streams.items():
        del shard.items[length:]


def lighter_rollback() -> None:
    """Make moto's TransactWriteItems keep and restore only what it touches (this process, idempotent)."""
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    backend_class = models.DynamoDBBackend
    if getattr(backend_class.transact_write_items, "blockhours_light", False):
        return
    original = backend_class.transact_write_items

    def deepcopy_but_tables(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    models.copy = types.SimpleNamespace(deepcopy=deepcopy_but_tables)  # type: ignore[assignment,attr-defined]

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved, streams = _touched(self, transact_items)
        try:
            original(self, transact_items)
        except Exception:
            _put_back(saved, streams)
            raise

    transact_write_items.blockhours_light = True  # type: ignore[attr-defined]
    backend_class.transact_write_items = transact_write_items  # type: ignore[method-assign]
