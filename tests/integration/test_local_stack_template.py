"""`blockhours dev` applies template.yaml as AWS does: each route's function with its Timeout, concurrent
instances, Lambda's Invoke API, and a Stripe that can be slow."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
import requests

from blockhours import catalog
from blockhours_dev.local import REPO_ROOT, LocalStack
from blockhours_dev.template import load_template

TERMS = catalog.load().terms.version


def checkout(stack: LocalStack) -> requests.Response:
    body = {"sku": "block-60", "email": f"c-{secrets.token_hex(4)}@example.com", "terms_version": TERMS}
    return requests.post(f"{stack.url}/api/checkout", json={**body, "terms_accepted": True}, timeout=60)


@pytest.fixture
def slow_stripe() -> Iterator[LocalStack]:
    running = LocalStack(port=0, with_site=False, stripe_latency_ms=300).start()
    yield running
    running.stop()


def test_checkouts_at_the_same_time_each_get_an_instance_while_stripe_is_slow(slow_stripe: LocalStack) -> None:
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: checkout(slow_stripe), range(4)))

    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert slow_stripe.lambdas is not None
    assert slow_stripe.lambdas.functions["CheckoutFunction"].instances_started >= 2, "not one behind the other"


@pytest.fixture
def short_timeout(tmp_path: Path) -> Iterator[LocalStack]:
    """The repository's template with the functions' Timeout set to 2 seconds, and a Stripe that takes 3."""
    timeout = load_template()["Globals"]["Function"]["Timeout"]
    assert timeout != 2
    text = (REPO_ROOT / "template.yaml").read_text()
    before = f"    Timeout: {timeout}\n"
    assert text.count(before) == 1
    (tmp_path / "template.yaml").write_text(text.replace(before, "    Timeout: 2\n"))
    shutil.copy(REPO_ROOT / "catalog.yaml", tmp_path / "catalog.yaml")
    running = LocalStack(port=0, with_site=False, root=tmp_path, stripe_latency_ms=3000).start()
    yield running
    running.stop()


def test_a_function_past_the_timeout_its_template_gives_fails_as_api_gateway_answers(
    short_timeout: LocalStack,
) -> None:
    answer = checkout(short_timeout)

    assert answer.status_code == 500 and answer.json() == {"message": "Internal Server Error"}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    running = LocalStack(port=0, with_site=False).start()
    yield running
    running.stop()


def test_lambdas_invoke_api_runs_the_templates_function(stack: LocalStack) -> None:
    """What a function calling another gets: boto3's Lambda client reaches the local stack's functions."""
    lam = boto3.client("lambda")

    answer = lam.invoke(FunctionName="SweepFunction", Payload=json.dumps({"source": "local", "now": ""}))

    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    report = json.loads(answer["Payload"].read())
    assert isinstance(report, dict)
    queued = lam.invoke(FunctionName="SweepFunction", InvocationType="Event", Payload=b"{}")
    assert queued["StatusCode"] == 202
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="NoSuchFunction", Payload=b"{}")


def test_every_call_a_function_makes_is_checked_against_its_role(stack: LocalStack) -> None:
    """What IAM does in AWS: the sweep's index query is recorded and allowed; a grant it lacks would be named."""
    boto3.client("lambda").invoke(FunctionName="SweepFunction", Payload=json.dumps({"source": "local", "now": ""}))

    made = {(c.function, c.action, c.resource.rsplit("/", 1)[-1]) for c in stack.aws_calls()}

    assert ("SweepFunction", "dynamodb:Query", "refund-due") in made
    assert stack.iam_denied() == []
