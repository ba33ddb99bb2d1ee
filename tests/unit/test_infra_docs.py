"""infra/: the owner's guide and the example samconfig match template.yaml; every scanner suppression says why."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from blockhours.template import load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
GUIDE = (REPO_ROOT / "infra" / "README.md").read_text(encoding="utf-8")
TEMPLATE = load_template()

# What the webhook handles; the guide must tell the owner to subscribe the endpoint to each.
STRIPE_EVENTS = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "charge.refunded",
    "refund.created",
    "refund.updated",
    "refund.failed",
    "charge.dispute.created",
    "charge.dispute.closed",
]


@pytest.mark.parametrize("name", sorted(TEMPLATE["Parameters"]))
def test_the_guide_explains_every_parameter(name: str) -> None:
    assert f"Parameter **{name}**" in GUIDE


@pytest.mark.parametrize("name", sorted(TEMPLATE["Outputs"]))
def test_the_guide_names_every_output(name: str) -> None:
    assert f"`{name}`" in GUIDE


def test_the_guide_subscribes_the_webhook_to_every_event_in_the_dashboard_and_the_api() -> None:
    assert [e for e in STRIPE_EVENTS if f"| `{e}` |" not in GUIDE] == []
    assert [e for e in STRIPE_EVENTS if f"enabled_events[]={e}" not in GUIDE] == []


def test_the_example_samconfig_sets_every_required_parameter_but_the_secret() -> None:
    config = tomllib.loads((REPO_ROOT / "infra" / "samconfig.toml.example").read_text(encoding="utf-8"))
    deploy = config["default"]["deploy"]["parameters"]
    overrides = dict(pair.split("=", 1) for pair in shlex.split(deploy["parameter_overrides"]))
    parameters: dict[str, Any] = TEMPLATE["Parameters"]
    required = {name for name, p in parameters.items() if "Default" not in p and not p.get("NoEcho")}

    assert set(overrides) <= set(parameters)
    assert required <= set(overrides)
    assert not any(parameters[name].get("NoEcho") for name in overrides)
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    for name, value in overrides.items():
        assert re.fullmatch(parameters[name].get("AllowedPattern", ".*"), value), f"{name}={value!r}"


def _template_suppressions() -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, skip)
        for name, resource in TEMPLATE["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]


def test_every_checkov_suppression_in_the_template_says_why() -> None:
    suppressions = _template_suppressions()

    assert suppressions
    assert [(name, s) for name, s in suppressions if not re.fullmatch(r"CKV2?_AWS_\d+", str(s.get("id")))] == []
    assert [(name, s["id"]) for name, s in suppressions if len(str(s.get("comment", "")).split()) < 8] == []


def test_every_check_skipped_for_the_whole_template_has_its_reason_above_it() -> None:
    text = (REPO_ROOT / ".checkov.yaml").read_text(encoding="utf-8")
    skipped = yaml.safe_load(text)["skip-check"]
    lines = text.splitlines()

    assert skipped
    for check in skipped:
        at = lines.index(f"  - {check}")
        reason = []
        while lines[at - 1].strip().startswith("#"):
            at -= 1
            reason.insert(0, lines[at])
        assert reason and reason[0].strip().startswith(f"# {check} "), f"{check} has no reason above it"
        assert len(" ".join(reason).split()) >= 20, f"{check}: say why in a sentence or two"
