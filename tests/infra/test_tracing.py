"""X-Ray: every function in template.yaml is traced, runs a handler wrapped by Powertools' Tracer, may write traces."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools import Tracer

from blockhours_dev.template import load_template

TEMPLATE = load_template()
FUNCTIONS = {n: r for n, r in TEMPLATE["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
XRAY_WRITE = {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"}


def _wrappers(function: Callable[..., Any]) -> list[str]:
    """The code each layer of decoration runs (functools.wraps copies names, not code objects)."""
    found, layer = [], function
    while layer is not None:
        found.append(layer.__code__.co_qualname)
        layer = getattr(layer, "__wrapped__", None)
    return found


def test_the_template_turns_tracing_on_for_every_function() -> None:
    assert TEMPLATE["Globals"]["Function"]["Tracing"] == "Active"
    assert {n: f["Properties"].get("Tracing", "Active") for n, f in FUNCTIONS.items()} == dict.fromkeys(
        FUNCTIONS, "Active"
    )


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_the_function_runs_a_traced_handler_and_may_send_its_traces(name: str) -> None:
    module_name, handler_name = FUNCTIONS[name]["Properties"]["Handler"].rsplit(".", 1)
    module = importlib.import_module(module_name)
    role = TEMPLATE["Resources"][FUNCTIONS[name]["Properties"]["Role"]["Fn::GetAtt"][0]]

    assert any(isinstance(value, Tracer) for value in vars(module).values()), f"{module_name} has no Tracer"
    assert "Tracer.capture_lambda_handler.<locals>.decorate" in _wrappers(getattr(module, handler_name))
    assert XRAY_WRITE in role["Properties"].get("ManagedPolicyArns", [])


def test_the_wrapper_check_tells_a_bare_handler_apart() -> None:
    def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
        return event

    assert "Tracer.capture_lambda_handler.<locals>.decorate" not in _wrappers(handler)


def test_tests_and_the_local_stack_send_no_traces() -> None:
    # No X-Ray daemon listens here; the local stack sets the same (local.py) for every function it runs.
    assert os.environ["POWERTOOLS_TRACE_DISABLED"] == "true"
