"""Settings checked when Lambda loads a handler: a missing or wrong one stops the start and names the variable.

Each case imports a handler in a fresh interpreter, as Lambda's runtime does, with the environment template.yaml gives
that function (its references filled with sample values) and AWS_LAMBDA_FUNCTION_NAME set, as Lambda sets it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from blockhours_dev.template import load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template()
FUNCTIONS = {n: r for n, r in TEMPLATE["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
# What CloudFormation would put where the template refers to a resource or a parameter without a default.
SAMPLES = {
    "LedgerTable": "blockhours-LedgerTable-1ABC",
    "RefundQueue": "https://sqs.us-east-1.amazonaws.com/123456789012/blockhours-RefundQueue-1ABC",
    "SiteUrl": "https://shop.example.com",
    "MailFrom": "support@shop.example.com",
    "OwnerEmail": "owner@shop.example.com",
}


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if "Fn::Sub" in value:
        return re.sub(r"\$\{([^}]+)\}", lambda m: _value({"Ref": m.group(1)}), value["Fn::Sub"])
    name = value["Ref"] if "Ref" in value else ".".join(value["Fn::GetAtt"])
    if name in SAMPLES:
        return SAMPLES[name]
    if name in TEMPLATE["Parameters"]:
        return str(TEMPLATE["Parameters"][name]["Default"])
    return f"blockhours-{name.replace('.', '-')}-1ABC"  # another resource's name or attribute


def deployed_environment(function: str) -> dict[str, str]:
    """The variables Lambda gives `function`: Globals, then its own, as SAM merges them."""
    variables = dict(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"])
    variables |= FUNCTIONS[function]["Properties"].get("Environment", {}).get("Variables", {})
    return {name: _value(value) for name, value in variables.items()}


def start(function: str, environment: dict[str, str]) -> subprocess.Popen[str]:
    """Lambda's init phase for `function`: import its handler module in a fresh interpreter."""
    module = str(FUNCTIONS[function]["Properties"]["Handler"]).rpartition(".")[0]
    env = environment | {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO_ROOT / "functions"),
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    return subprocess.Popen(
        [sys.executable, "-c", f"import {module}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_every_function_starts_with_the_environment_the_template_gives_it() -> None:
    started = {name: start(name, deployed_environment(name)) for name in FUNCTIONS}
    failures = {name: p.communicate(timeout=120)[1][-600:] for name, p in started.items()}

    assert {name: err for name, err in failures.items() if started[name].returncode != 0} == {}


@pytest.mark.parametrize(
    ("function", "change", "named"),
    [
        ("CheckoutFunction", {"BLOCKHOURS_TABLE": None}, "BLOCKHOURS_TABLE"),
        ("CheckoutFunction", {"BLOCKHOURS_SITE_URL": "shop.example.com"}, "BLOCKHOURS_SITE_URL"),
        ("WebhookFunction", {"BLOCKHOURS_STRIPE_WEBHOOK_SECRET_PARAMETER": None}, "STRIPE_WEBHOOK_SECRET"),
        ("OutboxFunction", {"BLOCKHOURS_OWNER_EMAIL": None}, "BLOCKHOURS_OWNER_EMAIL"),
        ("RefundWorkerFunction", {"BLOCKHOURS_STRIPE_API_KEY_PARAMETER": None}, "STRIPE_API_KEY"),
    ],
)
def test_a_missing_or_wrong_setting_stops_the_start_and_names_the_variable(
    function: str, change: dict[str, str | None], named: str
) -> None:
    environment = deployed_environment(function) | {k: v for k, v in change.items() if v is not None}
    for name in (k for k, v in change.items() if v is None):
        environment.pop(name)

    process = start(function, environment)
    _, stderr = process.communicate(timeout=120)

    assert process.returncode != 0
    assert "blockhours.config.ConfigError" in stderr and named in stderr.splitlines()[-1], stderr[-600:]
