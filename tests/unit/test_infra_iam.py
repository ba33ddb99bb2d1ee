"""template.yaml's IAM: a role per function, every grant names its resource, staff get exactly their routes."""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blockhours.template import function_statements, http_routes, load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
HANDLERS = REPO_ROOT / "functions" / "blockhours" / "handlers"
TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = {name: r for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}
SECRET_ARN = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${StripeSecretName}-*"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _handler_modules_in_code() -> set[str]:
    """Modules under handlers/ that define a top-level `handler`: each is a Lambda entry point."""
    modules = set()
    for path in HANDLERS.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(node, ast.FunctionDef) and node.name == "handler" for node in tree.body):
            modules.add(f"blockhours.handlers.{path.stem}")
    return modules


def _policy_documents(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every identity-based policy document in the template, named by the resource that holds it."""
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                yield name, policy["PolicyDocument"]
        elif resource["Type"] == "AWS::IAM::ManagedPolicy":
            yield name, properties["PolicyDocument"]
        elif resource["Type"] == "AWS::Serverless::Function":
            for policy in properties.get("Policies", []):
                yield name, policy if isinstance(policy, dict) else {"Statement": [{"SAM policy": policy}]}


def _broad_grants(template: dict[str, Any]) -> list[str]:
    problems = []
    for holder, document in _policy_documents(template):
        for statement in _as_list(document.get("Statement", [])):
            if statement.get("Effect") != "Allow":
                continue
            actions = [str(a) for a in _as_list(statement.get("Action", []))]
            resources = _as_list(statement.get("Resource", []))
            if "*" in resources:
                problems.append(f"{holder}: {actions} on *")
            problems += [f"{holder}: action {a}" for a in actions if a == "*" or a.endswith(":*")]
    return problems


@pytest.mark.parametrize("module", sorted(_handler_modules_in_code()))
def test_every_handler_in_the_code_has_a_function(module: str) -> None:
    handlers = {str(f["Properties"]["Handler"]) for f in FUNCTIONS.values()}

    assert f"{module}.handler" in handlers, f"{module} defines handler() but no function in template.yaml runs it"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_runs_a_handler_function_that_exists(name: str) -> None:
    module, _, attribute = str(FUNCTIONS[name]["Properties"]["Handler"]).rpartition(".")
    path = REPO_ROOT / "functions" / Path(*module.split(".")).with_suffix(".py")

    assert path.is_file(), f"{name}: no file {path.relative_to(REPO_ROOT)} yet"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert attribute in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}, (
        f"{name}: {module} has no {attribute}"
    )


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_has_its_own_role_and_no_sam_policies(name: str) -> None:
    # With `Policies`, SAM adds AWS managed policies that grant logs, SQS and stream actions on "*".
    properties = FUNCTIONS[name]["Properties"]
    role = properties.get("Role", {}).get("Fn::GetAtt", [""])[0]
    others = [n for n, f in FUNCTIONS.items() if n != name and f["Properties"].get("Role") == properties.get("Role")]

    assert "Policies" not in properties
    assert RESOURCES.get(role, {}).get("Type") == "AWS::IAM::Role", f"{name}: Role must be a role in this template"
    assert others == []


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_logs_to_its_own_group_and_may_write_only_there(name: str) -> None:
    log_group = FUNCTIONS[name]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    log_grants = [s for s in function_statements(name, TEMPLATE) if any("logs:" in a for a in _as_list(s["Action"]))]

    assert RESOURCES[log_group]["Type"] == "AWS::Logs::LogGroup"
    assert [s["Resource"] for s in log_grants] == [{"Fn::GetAtt": [log_group, "Arn"]}]


def test_no_policy_allows_every_resource_or_every_action() -> None:
    assert _broad_grants(TEMPLATE) == []


def test_the_broad_grant_check_catches_a_star() -> None:
    template = copy.deepcopy(TEMPLATE)
    statements = template["Resources"]["SweepRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    statements.append({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"})

    assert _broad_grants(template) == ["SweepRole: ['sqs:*'] on *", "SweepRole: action sqs:*"]


def test_only_the_functions_that_need_a_secret_may_read_it() -> None:
    readers = {
        name
        for name in FUNCTIONS
        for s in function_statements(name, TEMPLATE)
        if "secretsmanager:GetSecretValue" in _as_list(s["Action"])
    }
    resources = [
        (name, s["Resource"])
        for name in FUNCTIONS
        for s in function_statements(name, TEMPLATE)
        if any(a.startswith("secretsmanager:") for a in _as_list(s["Action"]))
    ]
    stripe = {name for name, resource in resources if resource == {"Fn::Sub": SECRET_ARN}}
    link = {name for name, resource in resources if resource == {"Ref": "BalanceLinkSecret"}}

    assert readers == {
        "CheckoutFunction",
        "WebhookFunction",
        "ApiFunction",
        "RefundWorkerFunction",
        "SweepFunction",
        "ClientFunction",
        "OutboxFunction",
        "JobsFunction",
    }
    assert stripe == {
        "CheckoutFunction",
        "WebhookFunction",
        "ApiFunction",
        "RefundWorkerFunction",
        "SweepFunction",
        "JobsFunction",
    }
    assert link == {"ClientFunction", "OutboxFunction"}, "only what makes or checks balance links reads their secret"
    assert len(resources) == len(stripe) + len(link), "no other secret, and none by wildcard"


def test_mail_may_be_sent_only_from_the_mail_from_address() -> None:
    grants = [
        (name, s)
        for name in FUNCTIONS
        for s in function_statements(name, TEMPLATE)
        if any(a.startswith("ses:") for a in _as_list(s["Action"]))
    ]

    assert {name for name, _ in grants} == {"OutboxFunction", "SweepFunction"}
    for _, statement in grants:
        assert _as_list(statement["Action"]) == ["ses:SendEmail"]
        assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "MailFrom"}}}
        assert all("identity/*" not in str(resource) for resource in statement["Resource"])


def test_refund_queue_senders_and_consumer() -> None:
    def grants(action: str) -> set[str]:
        return {
            name
            for name in FUNCTIONS
            for s in function_statements(name, TEMPLATE)
            if action in _as_list(s["Action"]) and s["Resource"] == {"Fn::GetAtt": ["RefundQueue", "Arn"]}
        }

    assert grants("sqs:SendMessage") == {"OutboxFunction", "SweepFunction", "JobsFunction"}
    assert grants("sqs:ReceiveMessage") == grants("sqs:DeleteMessage") == {"RefundWorkerFunction"}


def _route_arn_suffix(method: str, path: str) -> str:
    wildcarded = "/".join("*" if part.startswith("{") else part for part in path.split("/"))
    return f"/*/{method}{wildcarded}"


def test_the_staff_policy_grants_exactly_the_iam_routes() -> None:
    statements = RESOURCES["StaffPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    prefix = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}"
    granted = {str(r["Fn::Sub"]).removeprefix(prefix) for s in statements for r in s["Resource"]}
    staff = {_route_arn_suffix(r.method, r.path) for r in http_routes(TEMPLATE) if r.iam_auth}

    assert [s["Action"] for s in statements] == [["execute-api:Invoke"]]
    assert granted == staff


def test_only_the_api_and_the_jobs_themselves_may_start_a_job_and_nothing_else_is_invoked() -> None:
    jobs_arn = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${AWS::StackName}-jobs"
    invokers = {
        name: [s["Resource"] for s in function_statements(name, TEMPLATE) if "lambda:InvokeFunction" in s["Action"]]
        for name in FUNCTIONS
    }

    assert {name: found for name, found in invokers.items() if found} == {
        "ApiFunction": [{"Fn::Sub": jobs_arn}],
        "JobsFunction": [{"Fn::Sub": jobs_arn}],  # each step starts the next
    }
    assert FUNCTIONS["JobsFunction"]["Properties"]["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-jobs"}


def test_the_api_no_longer_scans_the_table_or_queues_refunds() -> None:
    """Reconcile and requeue moved to the jobs function: the API keeps no grant they needed."""
    actions = {a for s in function_statements("ApiFunction", TEMPLATE) for a in _as_list(s["Action"])}

    assert "dynamodb:Scan" not in actions and "sqs:SendMessage" not in actions
