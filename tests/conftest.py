from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import run_order

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

# Never let a test reach a real AWS account or Stripe: fake credentials unless a live test asks otherwise.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_REGION", "us-east-1")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

# Fixtures every kind of test may use: the Stripe stand-in on loopback and the shop's catalog (no AWS needed).
pytest_plugins = ("served_standin", "in_memory")


RESETS_MOTO = run_order.RESETS_MOTO


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.path.name not in RESETS_MOTO)


@pytest.fixture(autouse=True)
def _no_moto_restart_under_the_shared_stack(request: pytest.FixtureRequest) -> None:
    """The order above, enforced: a module that restarts moto never runs after this process's shared stack began."""
    if request.node.path.name in RESETS_MOTO and run_order.shared_stack_started:
        name = request.node.path.name
        pytest.fail(f"{name} restarts moto in a process whose shared stack already started: it must run first")


@pytest.fixture(autouse=True)
def _fresh_wiring() -> Iterator[None]:
    from blockhours import wiring

    wiring.reset()
    yield
    wiring.reset()
