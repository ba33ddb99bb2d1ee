"""template.yaml's IAM: a role per function, every grant names its resource, staff get exactly their routes."""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blockhours.catalog import PULLED
from blockhours_dev.template import function_statements, http_routes, load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
HANDLERS = REPO_ROOT / "functions" / "blockhours" / "handlers"
TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = {name: r for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}
SSM_PARAMETER_ARN = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SecretsPath}"
# Each secret's parameter under SecretsPath (infra/README.md, step 3).
SECRET_PARAMETERS = {
    "STRIPE_API_KEY": "/stripe-api-key",
    "STRIPE_WEBHOOK_SECRET": "/stripe-webhook-secret",
    "BLOCKHOURS_LINK_SECRET": "/link-secret",
    "BLOCKHOURS_INTEGRATION_SECRETS": "/integration-secrets",
}


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


def test_no_secret_lives_in_secrets_manager() -> None:
    # $0.40 a secret each month; SSM standard parameters cost nothing.
    actions = [
        str(a) for _, d in _policy_documents(TEMPLATE) for s in _as_list(d["Statement"]) for a in _as_list(s["Action"])
    ]

    assert [n for n, r in RESOURCES.items() if r["Type"].startswith("AWS::SecretsManager::")] == []
    assert [a for a in actions if a.startswith(("secretsmanager:", "kms:"))] == []  # aws/ssm decrypts for any reader


def _cold_start_secrets(handler_module: str) -> set[str]:
    """The secrets a handler module declares at cold start: config.at_cold_start(..., secrets=(...))."""
    path = REPO_ROOT / "functions" / Path(*handler_module.split(".")).with_suffix(".py")
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "at_cold_start":
            declared = next((k.value for k in node.keywords if k.arg == "secrets"), None)
            return set(ast.literal_eval(declared)) if declared is not None else set()
    raise AssertionError(f"{handler_module} validates no settings at cold start")


def _parameter_grants(name: str) -> set[str]:
    """The SSM parameters function `name` may read, as the path after ${SecretsPath}; fails on any other ssm grant."""
    granted = set()
    for statement in function_statements(name, TEMPLATE):
        actions = _as_list(statement["Action"])
        if not any(str(a).startswith("ssm:") for a in actions):
            continue
        assert actions == ["ssm:GetParameter"], f"{name}: {actions}"
        resource = statement["Resource"]["Fn::Sub"]
        assert resource.startswith(SSM_PARAMETER_ARN) and "*" not in resource, f"{name}: {resource}"
        granted.add(resource.removeprefix(SSM_PARAMETER_ARN))
    return granted


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_each_function_may_read_exactly_the_secrets_its_handler_needs(name: str) -> None:
    module = str(FUNCTIONS[name]["Properties"]["Handler"]).rpartition(".")[0]

    # The scheduled pull reads each pulled source's token at the run (config.pull_token), no other function.
    tokens = {f"/{source}-token" for source in PULLED} if module == "blockhours.handlers.pulls" else set()
    assert _parameter_grants(name) == {SECRET_PARAMETERS[s] for s in _cold_start_secrets(module)} | tokens


def test_the_webhook_signing_secret_is_readable_by_the_webhook_alone() -> None:
    readers = {name for name in FUNCTIONS if "/stripe-webhook-secret" in _parameter_grants(name)}
    environments = {
        name for name, f in FUNCTIONS.items() if "BLOCKHOURS_STRIPE_WEBHOOK_SECRET_PARAMETER" in _environment(f)
    }
    globals_env = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]

    assert readers == environments == {"WebhookFunction"}
    assert "BLOCKHOURS_STRIPE_WEBHOOK_SECRET_PARAMETER" not in globals_env


def _environment(function: dict[str, Any]) -> dict[str, Any]:
    variables: dict[str, Any] = function["Properties"].get("Environment", {}).get("Variables", {})
    return variables


def test_mail_may_be_sent_only_from_the_mail_from_address() -> None:
    grants = [
        (name, s)
        for name in FUNCTIONS
        for s in function_statements(name, TEMPLATE)
        if any(a.startswith("ses:") for a in _as_list(s["Action"]))
    ]

    assert {name for name, _ in grants} == {"OutboxFunction"}  # every email goes through the stream outbox
    for _, statement in grants:
        assert _as_list(statement["Action"]) == ["ses:SendEmail"]
        assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "MailFrom"}}}
        assert all("identity/*" not in str(resource) for resource in statement["Resource"])


def _grants(action: str, resource: dict[str, Any]) -> set[str]:
    return {
        name
        for name in FUNCTIONS
        for s in function_statements(name, TEMPLATE)
        if action in _as_list(s["Action"]) and s["Resource"] == resource
    }


def test_only_the_functions_whose_code_queues_refunds_may_send_to_the_refund_queue() -> None:
    queue = {"Fn::GetAtt": ["RefundQueue", "Arn"]}
    queuing = {
        name
        for name, f in FUNCTIONS.items()
        if "refund_queue" in (HANDLERS / f"{str(f['Properties']['Handler']).split('.')[-2]}.py").read_text()
    }

    assert _grants("sqs:SendMessage", queue) == queuing == {"OutboxFunction", "JobsFunction"}


def test_the_refund_worker_may_do_what_lambdas_sqs_poller_does_and_no_more() -> None:
    (consume,) = [s for s in function_statements("RefundWorkerFunction", TEMPLATE) if s["Sid"] == "ConsumeRefundQueue"]
    code = "\n".join(p.read_text(encoding="utf-8") for p in (REPO_ROOT / "functions").rglob("*.py"))

    assert sorted(consume["Action"]) == ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
    assert "change_message_visibility" not in code, "a visibility change in the code needs its grant back"


def _route_arn_suffix(method: str, path: str) -> str:
    wildcarded = "/".join("*" if part.startswith("{") else part for part in path.split("/"))
    return f"/*/{method}{wildcarded}"


def _policy_routes(policy: str) -> set[str]:
    statements = RESOURCES[policy]["Properties"]["PolicyDocument"]["Statement"]
    prefix = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}"
    assert [s["Action"] for s in statements] == [["execute-api:Invoke"]]
    return {str(r["Fn::Sub"]).removeprefix(prefix) for s in statements for r in s["Resource"]}


def test_the_technician_and_owner_policies_split_exactly_the_iam_routes() -> None:
    technician, owner = _policy_routes("TechnicianPolicy"), _policy_routes("OwnerPolicy")
    staff = {_route_arn_suffix(r.method, r.path) for r in http_routes(TEMPLATE) if r.iam_auth}

    assert technician | owner == staff
    assert technician & owner == set()


def test_a_technician_looks_up_records_quotes_and_sees_debts_but_moves_no_money_back() -> None:
    technician = _policy_routes("TechnicianPolicy")

    assert technician == {
        "/*/GET/api/customers",
        "/*/GET/api/customers/*",
        "/*/POST/api/customers/*/link",  # a balance link to what the technician already sees
        "/*/POST/api/sessions",
        "/*/POST/api/quotes",
        "/*/GET/api/quotes",
        "/*/GET/api/debts",
        "/*/GET/api/inbox",  # the tools' sessions waiting: matched, confirmed (a session, as redeem) or dismissed
        "/*/POST/api/inbox/*/assign",
        "/*/POST/api/inbox/*/confirm",
        "/*/POST/api/inbox/*/dismiss",
        "/*/POST/api/mappings",
        "/*/GET/api/integrations/screenconnect/url",  # the trigger URL carries the secret: staff only
        "/*/POST/api/integrations/*/import",  # `blockhours import`: a tool's export, received as the tool would send it
    }
    assert not any(word in route for route in technician for word in ("refund", "trust", "settle", "reconcile"))
    assert {"TechnicianPolicyArn", "OwnerPolicyArn"} <= set(TEMPLATE["Outputs"])


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
