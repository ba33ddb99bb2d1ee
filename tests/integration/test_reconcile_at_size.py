"""Reconcile at a shop's size, as the owner runs it: 100 clients with 3 lots each, a Stripe slowed on every call,
`blockhours reconcile` in a terminal, and the local stack enforcing every function's Timeout from template.yaml.

Stripe answers in 30 ms here, so the 300 reads overlap yet the test stays short; benchmarks/reconcile.py runs the same
shop at live mode's 300 ms and reports the time and steps. Both run in `make bench`, not `make test` (40 s here):
there, tests/integration/test_jobs.py walks accounts over several invocations whose time runs out, and
test_reconcile.py runs `blockhours reconcile` against the staff route and its background job."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator

import pytest

from blockhours import wiring
from blockhours_dev.local import LocalStack
from stripe_events import clients_with_hours

pytestmark = pytest.mark.at_size

CLIENTS, LOTS = 100, 3
STRIPE_LATENCY_MS = 30  # slow enough that the job overlaps its Stripe reads; the benchmark uses 300


@pytest.fixture(scope="module")
def shop() -> Iterator[tuple[LocalStack, dict[str, list[str]]]]:
    """The stack with 100 clients who each bought three hours, one at a time: client → PaymentIntents."""
    stack = LocalStack(port=0, with_site=False).start()
    assert stack.standin is not None
    bought = clients_with_hours(wiring.ledger(), stack.standin, CLIENTS, LOTS)
    yield stack, bought
    refused = stack.iam_denied()
    stack.stop()
    assert refused == [], "calls the functions made that their roles in template.yaml do not allow"


def test_reconcile_of_a_hundred_clients_finishes_in_the_background_with_stripe_slow(
    shop: tuple[LocalStack, dict[str, list[str]]],
) -> None:
    stack, bought = shop
    assert stack.standin is not None and stack.lambdas is not None
    stack.standin.latency_ms = STRIPE_LATENCY_MS
    stack.standin.requests.clear()

    done = subprocess.run(
        [sys.executable, "-m", "blockhours_dev.cli", "reconcile", "--api", stack.url, "--wait", "600"],
        capture_output=True,
        text=True,
        timeout=660,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{CLIENTS} accounts checked against their lots, journal and Stripe: all agree" in done.stdout
    assert "reconcile started: job reconcile-" in done.stderr and "accounts checked" in done.stderr
    jobs = stack.lambdas.functions["JobsFunction"]
    assert jobs.invocations >= 1 and jobs.timeouts == 0, "every step ended inside the function's Timeout"
    asked = Counter(
        r.path.removeprefix("/v1/payment_intents/")
        for r in stack.standin.requests
        if r.path.startswith("/v1/payment_intents/")
    )
    assert set(asked) == {pi for pis in bought.values() for pi in pis}, "every lot's payment was checked at Stripe"
    assert stack.lambdas.functions["ApiFunction"].timeouts == 0
