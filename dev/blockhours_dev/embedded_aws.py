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
import threading
import types
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


class EmbeddedAWS:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        moto_app = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def serialised(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            # The stream's reads too: a GetRecords in the middle of a refused transaction would see records that
            # its rollback then removes, and the committed retry reuses their sequence numbers, which the reader
            # has passed: its change would never reach the outbox.
            if not environ.get("HTTP_X_AMZ_TARGET", "").startswith(("DynamoDB_", "DynamoDBStreams_")):
                answer: Iterable[bytes] = moto_app(environ, start_response)
                return answer  # SQS long polls must not hold up the table
            with lock:
                return list(moto_app(environ, start_response))

        self._server: BaseWSGIServer = make_server(
            host, port, serialised, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-aws", daemon=True)

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
