"""What a handler's cold start loads (issue 17): each function imports what its own requests use, not the rest.

The figures are in benchmarks/coldstart.py; these tests hold the shape that makes them: a fresh interpreter imports
one handler, as Lambda's init does, and the modules it must not carry are absent.
"""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

from blockhours import services

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def test_every_use_case_is_reachable_by_name_and_none_is_hidden_by_a_module() -> None:
    modules = {info.name for info in pkgutil.iter_modules(services.__path__)}

    assert modules.isdisjoint(services.__all__)
    for name in services.__all__:
        assert getattr(services, name) is not None


def _loaded_at_start(module: str) -> set[str]:
    """The top modules a fresh interpreter holds after importing `module`, as Lambda's init does (tracing off)."""
    probe = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(FUNCTIONS), "AWS_REGION": "us-east-1"}
    answer = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    return set(answer.stdout.split())


# What each function must not load before its first request: pydantic only where a route validates a body model;
# Stripe's SDK and the catalog's models only when a request reads them; the event handler only where HTTP is served.
BACKGROUND = {"stripe", "pydantic", "blockhours.catalog", "aws_lambda_powertools.event_handler"}
NOT_AT_START = {
    "blockhours.handlers.checkout": {"stripe", "blockhours.catalog", "yaml"},
    "blockhours.handlers.webhook": {"stripe", "pydantic", "blockhours.catalog", "yaml"},
    "blockhours.handlers.api": {"stripe", "yaml"},
    "blockhours.handlers.client": {"stripe", "blockhours.catalog", "yaml"},
    "blockhours.handlers.outbox": BACKGROUND,
    "blockhours.handlers.refunds": BACKGROUND,
    "blockhours.handlers.sweep": BACKGROUND,
    "blockhours.handlers.pulls": BACKGROUND,
    "blockhours.handlers.jobs": BACKGROUND,
    "blockhours.handlers.missing_page": {
        "stripe",
        "pydantic",
        "blockhours.catalog",
        "aws_lambda_powertools.event_handler",
    },
}


@pytest.mark.parametrize("handler", sorted(NOT_AT_START))
def test_a_function_starts_without_what_only_some_requests_or_other_functions_use(handler: str) -> None:
    loaded = _loaded_at_start(handler)

    assert handler in loaded
    assert NOT_AT_START[handler] & loaded == set()
    assert "pydantic_settings" not in loaded and "aws_xray_sdk.core" not in loaded
