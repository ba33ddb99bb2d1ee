"""infra/: the owner's guide and the example samconfig match template.yaml; every scanner suppression says why."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from blockhours_dev.template import load_template

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


# What the owner pays for, by resource type: the row of the guide's cost table that prices it (None: no charge).
COST_ROWS: dict[str, str | None] = {
    "AWS::Serverless::Function": "Lambda (9 functions, arm64)",
    "AWS::Serverless::LayerVersion": None,
    "AWS::Serverless::HttpApi": "API Gateway HTTP API",
    "AWS::DynamoDB::Table": "DynamoDB on demand",
    "AWS::SQS::Queue": "SQS",
    "AWS::S3::Bucket": "S3",
    "AWS::S3::BucketPolicy": None,
    "AWS::CloudFront::Distribution": "CloudFront",
    "AWS::CloudFront::Function": "CloudFront",
    "AWS::CloudFront::OriginAccessControl": None,
    "AWS::CloudFront::ResponseHeadersPolicy": None,
    "AWS::CloudWatch::Alarm": "CloudWatch alarms",
    "AWS::Logs::LogGroup": "CloudWatch metrics and logs",
    "AWS::SNS::Topic": "SNS (alarm emails)",
    "AWS::SNS::TopicPolicy": None,
    "AWS::Lambda::Permission": None,
    "AWS::Budgets::Budget": "AWS Budgets",
    "AWS::Backup::BackupVault": "AWS Backup",
    "AWS::Backup::BackupPlan": "AWS Backup",
    "AWS::Backup::BackupSelection": None,
    "AWS::IAM::Role": None,
    "AWS::IAM::ManagedPolicy": None,
}


def _section(title: str) -> str:
    return GUIDE.split(title, 1)[1].split("\n## ", 1)[0]


def _table_rows(text: str, header: str) -> list[list[str]]:
    lines = text.split(header, 1)[1].split("\n\n", 1)[0].splitlines()
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in lines
        if line.startswith("| ") and "---" not in line[:6]
    ]


def test_the_cost_table_prices_every_resource_type_the_template_creates() -> None:
    idle = {
        row[0] for row in _table_rows(_section("## What it costs, line by line"), "| resource | in an idle month |")
    }
    types = {r["Type"] for r in TEMPLATE["Resources"].values()}

    assert types - set(COST_ROWS) == set(), "a new resource type: price it in the guide's cost table, then here"
    assert {COST_ROWS[t] for t in types} - {None} <= idle
    assert {"SSM Parameter Store", "EventBridge Scheduler", "SES", "DynamoDB Streams"} <= idle
    assert all(row[-1] in ("$0.00", "≈ $0.01") for row in _table_rows(GUIDE, "| resource | in an idle month |"))


@pytest.mark.parametrize("header", ["**Per 1,000 sessions", "**Per 1,000 purchases"])
def test_each_per_1000_total_is_the_sum_of_its_lines(header: str) -> None:
    rows = _table_rows(GUIDE.split(header, 1)[1], "| what | arithmetic | cost |")
    costs = [float(row[-1].strip("*$")) for row in rows]

    assert rows[-1][0] == "**total**"
    assert sum(costs[:-1]) == pytest.approx(costs[-1], abs=0.0006)
    assert "us-east-1" in GUIDE and "as of December 2026" in GUIDE


def test_the_guide_creates_exactly_the_parameters_the_roles_may_read() -> None:
    created = re.findall(r"aws ssm put-parameter --type SecureString --tier Standard --name (\S+)", GUIDE)
    granted = {
        s["Resource"]["Fn::Sub"].rsplit("${SecretsPath}", 1)[1]
        for r in TEMPLATE["Resources"].values()
        if r["Type"] == "AWS::IAM::Role"
        for p in r["Properties"].get("Policies", [])
        for s in p["PolicyDocument"]["Statement"]
        if "ssm:GetParameter" in s["Action"]
    }

    assert sorted(created) == sorted(TEMPLATE["Parameters"]["SecretsPath"]["Default"] + g for g in granted)
    assert "secretsmanager" not in GUIDE


# Each Stripe API resource the adapters call, by the name Stripe's restricted-key form gives it.
RESTRICTED_KEY_RESOURCES = {
    "customers": "Customers",
    "checkout.sessions": "Checkout Sessions",
    "payment_links": "Payment Links",
    "payment_intents": "PaymentIntents",
    "refunds": "Refunds",
}


def test_the_restricted_key_grants_write_on_exactly_the_resources_the_code_calls() -> None:
    adapters = (REPO_ROOT / "functions" / "blockhours" / "adapters").glob("stripe*.py")
    called = {m for path in adapters for m in re.findall(r"client\.v1\.([a-z_.]+)\.\w+\(", path.read_text())}
    rows = _table_rows(GUIDE, "| resource | permission | why |")

    assert called == set(RESTRICTED_KEY_RESOURCES), "a new Stripe resource: give the restricted key its permission"
    assert {(row[0], row[1]) for row in rows} == {(name, "Write") for name in RESTRICTED_KEY_RESOURCES.values()}


def test_the_webhook_step_uses_the_api_version_the_pinned_stripe_speaks() -> None:
    import stripe

    step = _section("## 7. Point Stripe at the webhook")

    assert f"`{stripe.api_version}`" in step and f"api_version={stripe.api_version}" in step
    assert f"Stripe API version of the layer: {stripe.api_version}" in GUIDE  # what `make sam-build` prints
