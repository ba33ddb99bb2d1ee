"""Lambda's Invoke API, locally: `RequestResponse` answers at once; `Event` is queued, tried, retried as the
function's EventInvokeConfig says (twice by default), then kept at its on-failure destination. Lambda waits a
minute, then two, between the tries; the local stack waits one second, then two."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from . import failed_records, template
from .local_api import json_error
from .local_lambda import LocalLambda
from .local_streams import Destinations

ASYNC_RETRY_DELAYS = (1.0, 2.0)


@dataclass
class AsyncInvocations:
    """Lambda's queue of asynchronous invocations: each is tried, retried, then kept where the template says."""

    runtime: LocalLambda
    destinations: Destinations
    delays: tuple[float, ...] = ASYNC_RETRY_DELAYS
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(8, thread_name_prefix="async"))
    _stop: threading.Event = field(default_factory=threading.Event)

    def submit(self, name: str, payload: Any) -> None:
        function = self.runtime.function(name)
        if function is None:
            raise KeyError(name)
        self._pool.submit(self._run, function.spec, payload)

    def _run(self, spec: template.FunctionSpec, payload: Any) -> None:
        attempts = 0
        while not self._stop.is_set():
            attempts += 1
            outcome = self.runtime.invoke(spec.name, payload)
            if not outcome.failed:
                return
            if attempts > spec.async_retry_attempts:
                break
            self._stop.wait(self.delays[min(attempts - 1, len(self.delays) - 1)])
        else:
            return
        if spec.dead_letter:
            self.destinations.dead_letter(spec.async_on_failure, payload, outcome.error or {})
            return
        function_arn = self.runtime.refs.get(f"{spec.name}.Arn", spec.name)
        record = failed_records.invocation_record(
            outcome.request_id, function_arn, "RetriesExhausted", attempts, datetime.now(UTC)
        )
        record["requestPayload"] = payload
        record["responsePayload"] = outcome.error
        self.destinations.send(spec.async_on_failure, record)

    def stop(self) -> None:
        """No new tries; those running end when the runtime stops their instances."""
        self._stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)


def invoke_api(request: Request, lambdas: LocalLambda | None, invocations: AsyncInvocations | None) -> Response:
    """Lambda's Invoke API: `Event` is queued and retried as Lambda does, `RequestResponse` answers now."""
    assert lambdas is not None and invocations is not None, "start the stack first"
    parts = request.path.split("/")
    if len(parts) != 5 or parts[4] != "invocations":
        return json_error(404, "ResourceNotFoundException", f"no such path {request.path}")
    name = unquote(parts[3])
    if lambdas.function(name) is None:
        return Response(
            json.dumps({"Type": "User", "message": f"Function not found: {name}"}),
            status=404,
            headers={"x-amzn-ErrorType": "ResourceNotFoundException"},
            content_type="application/json",
        )
    raw = request.get_data()
    try:
        payload = json.loads(raw) if raw else {}
    except ValueError:
        return json_error(400, "InvalidRequestContentException", "the payload is not JSON")
    if request.headers.get("X-Amz-Invocation-Type") == "Event":
        invocations.submit(name, payload)
        return Response(b"", status=202)
    outcome = lambdas.invoke(name, payload)
    response = Response(json.dumps(outcome.error if outcome.failed else outcome.payload), status=200)
    response.headers["Content-Type"] = "application/json"
    if outcome.failed:
        response.headers["X-Amz-Function-Error"] = "Unhandled"
    return response
