from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests

import run_order
from blockhours import catalog, outbox
from blockhours.adapters.dynamo import DynamoLedger
from blockhours_dev import template
from blockhours_dev.embedded_aws import EmbeddedAWS
from blockhours_dev.local import LocalStack
from blockhours_dev.standin import StripeStandIn


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    server = EmbeddedAWS().start()
    endpoint = server.endpoint
    previous = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    yield endpoint
    server.stop()
    if previous is None:
        os.environ.pop("AWS_ENDPOINT_URL", None)
    else:
        os.environ["AWS_ENDPOINT_URL"] = previous


@pytest.fixture
def table(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh table shaped exactly as template.yaml declares it."""
    name = f"ledger-{secrets.token_hex(4)}"
    client = boto3.client("dynamodb")
    client.create_table(TableName=name, **template.table_definition())
    monkeypatch.setenv("BLOCKHOURS_TABLE", name)
    return name


@pytest.fixture
def ledger(table: str) -> DynamoLedger:
    return DynamoLedger(table)


def scan_all(table: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class CallCounter:
    """Counts the DynamoDB API calls made by every boto3 client, through botocore's event hooks."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.transacted: list[str] = []  # what each TransactWriteItems held: Put, Update, ConditionCheck, Delete
        self._lock = threading.Lock()

    def __call__(self, model: Any, params: Any = None, **_: Any) -> None:
        with self._lock:
            self.calls.append(model.name)
            if model.name == "TransactWriteItems":
                self.transacted += [kind for write in params.get("TransactItems", []) for kind in write]


@pytest.fixture
def dynamodb_calls(ledger: DynamoLedger) -> CallCounter:
    counter = CallCounter()
    ledger.client.meta.events.register("before-call.dynamodb", counter)
    return counter


@pytest.fixture(scope="session")
def stack(aws_endpoint: str) -> Iterator[LocalStack]:
    """The local stack (embedded AWS, handlers, stand-in, stream and queue pumps), one for the whole session:
    tests keep apart by fresh client emails and ids. After `aws_endpoint`, whose start would wipe it."""
    run_order.shared_stack_started = True
    yield from _checked_stack()


@pytest.fixture(scope="module")
def own_stack(request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    """A stack of its own for a module that reads the whole table, or spends a throttle. Its start resets moto, so
    the module must be listed in tests/run_order.py RESETS_MOTO, to run before this process's shared stack."""
    if request.node.path.name not in run_order.RESETS_MOTO:
        pytest.fail(f"{request.node.path.name} starts a stack of its own: list it in tests/run_order.py RESETS_MOTO")
    yield from _checked_stack()


def _checked_stack() -> Iterator[LocalStack]:
    """A running stack; once stopped, nothing the outbox needed was filtered out and IAM refused no call."""
    running = LocalStack(port=0, with_site=False).start()
    yield running
    dropped, refused = running.dropped_records(), running.iam_denied()
    running.stop()
    assert_nothing_needed_was_filtered_out(dropped)
    assert refused == [], "calls the functions made that their roles in template.yaml do not allow"


def assert_nothing_needed_was_filtered_out(dropped: list[dict[str, Any]]) -> None:
    """Every record template.yaml's FilterCriteria kept from the outbox is one the outbox has nothing to do for."""
    context = outbox.MailContext(catalog.load(), "https://shop.example", "s" * 32, "owner@example.com")
    needed = [
        (r["dynamodb"].get("NewImage", {}).get("type"), outbox.effects_for(outbox.Change.from_record(r), context))
        for r in dropped
    ]
    assert [n for n in needed if n[1]] == [], "the outbox's filter dropped records it acts on"


@pytest.fixture
def standin(stack: LocalStack) -> StripeStandIn:
    assert stack.standin is not None
    return stack.standin


def finished_job(url: str, job_id: str, seconds: float = 60) -> dict[str, Any]:
    """A background job (reconcile, requeue) read through `GET /api/jobs/{job_id}` once it is done or failed."""
    deadline = time.monotonic() + seconds
    while True:
        answer = requests.get(f"{url}/api/jobs/{job_id}", timeout=10)
        assert answer.status_code == 200, answer.text
        job: dict[str, Any] = answer.json()
        if job["status"] != "running":
            return job
        assert time.monotonic() < deadline, f"the job is still running after {seconds} s: {job}"
        time.sleep(0.1)  # polling the job record, as `blockhours reconcile` does
