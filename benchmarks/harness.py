"""What the benchmarks share: a quiet local stack, the events Lambda would receive, and DynamoDB call counting."""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer

    from blockhours_dev.local import LocalStack

ROOT = Path(__file__).resolve().parents[1]
STAFF = {"iam": {"userArn": "arn:aws:iam::000000000000:user/bench", "accountId": "000000000000", "userId": "bench"}}
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def quiet() -> None:
    """Handlers log warnings and errors only, metrics stay off, moto's request log is silenced.

    Set before any handler module is imported: Powertools reads these when the module builds its Logger.
    """
    sys.path.insert(0, str(ROOT / "tests"))  # stripe_events: events built from Stripe's fixtures, signed as Stripe does
    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="No application metrics to publish")


@contextmanager
def local_stack(pumps: bool = False) -> Iterator[LocalStack]:
    """`blockhours dev` without the site and (unless `pumps`) without its stream and queue pumps: each benchmark
    drives the handlers itself, so nothing else talks to the embedded AWS meanwhile."""
    from blockhours_dev.local import LocalStack

    stack = LocalStack(port=0, with_site=False).start()
    try:
        if not pumps:
            stack.stop_workers()
        _OPEN_STACKS.append(stack)
        yield stack
    finally:
        _OPEN_STACKS.remove(stack)
        stack.stop()


_OPEN_STACKS: list[LocalStack] = []


def api_server(stack: LocalStack) -> BaseWSGIServer:
    """The local stack's HTTP server (API Gateway's part), to time its app."""
    assert stack._server is not None
    return stack._server


def moto_server(stack: LocalStack) -> BaseWSGIServer:
    """The embedded AWS's WSGI server (each request runs on a thread of its own), to time or profile its app."""
    assert stack._moto is not None
    return stack._moto._server


def api_event(
    method: str,
    path: str,
    *,
    body: str | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    staff: bool = False,
) -> dict[str, Any]:
    """An API Gateway HTTP API (v2) event, as the local stack builds it; staff ones carry IAM authorization."""
    context: dict[str, Any] = {
        "http": {"method": method, "path": path, "sourceIp": "127.0.0.1", "protocol": "HTTP/1.1"},
        "requestId": str(uuid.uuid4()),
        "routeKey": f"{method} {path}",
        "stage": "$default",
    }
    if staff:
        context["authorizer"] = STAFF
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "queryStringParameters": query,
        "headers": {"content-type": "application/json", **(headers or {})},
        "requestContext": context,
        "body": body,
        "isBase64Encoded": False,
    }


def stripe_events() -> Any:
    """tests/stripe_events.py: Stripe's example objects, and Stripe's signing scheme."""
    return importlib.import_module("stripe_events")


def checkout_session(**overrides: Any) -> dict[str, Any]:
    """A paid checkout session for the 1-hour block, as Stripe sends it; `overrides` change its fields.

    The shop opened it first (as POST /api/checkout does), in the stack the benchmark runs: a payment for a
    checkout the shop never opened is not credited.
    """
    events = stripe_events()
    session = dict(events.checkout_session(**overrides))
    if _OPEN_STACKS:
        events.opened(events.stack_store(_OPEN_STACKS[-1]), session)
    return session


def webhook_event(secret: str, event_type: str, session: dict[str, Any]) -> dict[str, Any]:
    """Stripe's delivery of `event_type` for a checkout session, signed with the webhook secret."""
    events = stripe_events()
    body, header = events.signed(events.event(event_type, session), secret)
    return api_event("POST", "/api/stripe/webhook", body=body.decode(), headers={"stripe-signature": header})


def credit_event(secret: str, email: str) -> dict[str, Any]:
    """A signed checkout.session.completed for a new payment of the 5-hour bundle."""
    metadata = {"email": email, "sku": "bundle-300", "kind": "block", "minutes": "300"}
    session = checkout_session(amount_total=57900, amount_subtotal=57900, metadata=metadata)
    return webhook_event(secret, "checkout.session.completed", session)


def session_event(email: str, minutes: int, session_id: str) -> dict[str, Any]:
    """A technician's POST /api/sessions."""
    body = {"email": email, "minutes": minutes, "technician": "bench", "session_id": session_id}
    return api_event("POST", "/api/sessions", body=json.dumps(body), staff=True)


def refund_job_event(email: str, refund_id: str) -> dict[str, Any]:
    """The SQS batch the refund worker receives for one requested refund (as the local queue pump builds it)."""
    record = {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "bench",
        "body": json.dumps({"email": email, "refund_id": refund_id}),
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:blockhours-refunds",
        "awsRegion": "us-east-1",
    }
    return {"Records": [record]}


def call(handler: Handler, item: dict[str, Any], function: str, status: int = 200) -> dict[str, Any]:
    """Invoke a handler as Lambda would; any other answer than `status` stops the benchmark with it."""
    from blockhours_dev.local import LocalContext

    answer = handler(item, LocalContext(function))
    if "statusCode" in answer:
        assert answer["statusCode"] == status, answer
        return dict(json.loads(answer["body"] or "{}"))
    assert not answer.get("batchItemFailures"), answer
    return answer


@dataclass
class DynamoCalls:
    """The DynamoDB calls one boto3 client makes, through botocore's event hooks.

    before-call fires once per API call, before-send once per HTTP request (a retry sends again); after-call sees
    the parsed answer, where a Query's ScannedCount is the number of items DynamoDB read (and bills) for it.
    """

    client: Any
    calls: list[str] = field(default_factory=list)
    sends: int = 0
    read: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        events = self.client.meta.events
        events.register("before-call.dynamodb", self._called)
        events.register("before-send.dynamodb", self._sent)
        events.register("after-call.dynamodb", self._answered)

    def _called(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def _sent(self, **_: Any) -> None:
        self.sends += 1

    def _answered(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if "ScannedCount" in parsed:
            self.read.append((model.name, int(parsed["ScannedCount"])))
        elif model.name == "GetItem":
            self.read.append((model.name, 1 if "Item" in parsed else 0))  # found, even with none of the projection

    def clear(self) -> None:
        self.calls.clear()
        self.read.clear()
        self.sends = 0

    def summary(self) -> str:
        """`Query, TransactWriteItems`, with counts when an operation repeats (`GetItem x10`)."""
        names = list(dict.fromkeys(self.calls))
        return ", ".join(f"{n} x{self.calls.count(n)}" if self.calls.count(n) > 1 else n for n in names)
