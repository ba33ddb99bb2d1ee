"""moto's server for the local stack and the tests, made to apply one request at a time.

moto runs concurrent requests at once, so two TransactWriteItems on one item can interleave and lose
an update; DynamoDB never does. Serialising DynamoDB's requests gives the isolation it guarantees.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


class EmbeddedAWS:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        moto_app = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def serialised(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
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
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
