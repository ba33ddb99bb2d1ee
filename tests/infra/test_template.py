"""template.yaml: the ledger table, the routes and their auth, handler files, IAM scope, references, cfn-lint setup."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from blockhours_dev.template import (
    DEFAULT_TEMPLATE_PATH,
    Route,
    function_statements,
    http_routes,
    load_template,
    table_definition,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template()

PUBLIC_ROUTES = {
    ("GET", "/api/health"),
    ("POST", "/api/checkout"),
    ("POST", "/api/stripe/webhook"),
    ("GET", "/api/balance"),
    ("POST", "/api/refunds"),
    ("GET", "/api/checkouts/{checkout_id}"),
}
STAFF_ROUTES = {
    ("GET", "/api/customers"),
    ("GET", "/api/customers/{email}"),
    ("POST", "/api/customers/{email}/settle"),
    ("POST", "/api/customers/{email}/release"),
    ("POST", "/api/customers/{email}/debts/{debt_id}/waive"),
    ("POST", "/api/customers/{email}/refund"),
    ("POST", "/api/sessions"),
    ("GET", "/api/reports/liability"),
    ("POST", "/api/reports/reconcile"),
    ("POST", "/api/refunds/requeue"),
    ("GET", "/api/jobs/{job_id}"),
}
STAFF_PREFIXES = ("/api/customers", "/api/sessions", "/api/reports", "/api/jobs")

PSEUDO_PARAMETERS = {
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
}


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _dynamodb_statements(template: dict[str, Any]) -> Iterator[tuple[str, list[str], list[Any]]]:
    for name in _functions(template):
        for statement in function_statements(name, template):
            actions = [str(a) for a in _as_list(statement.get("Action", []))]
            if any(a == "*" or a.lower().startswith("dynamodb:") for a in actions):
                yield name, actions, _as_list(statement.get("Resource", []))


def _wildcard_dynamodb_grants(template: dict[str, Any]) -> list[str]:
    return [
        f"{name}: {actions} on {resources}"
        for name, actions, resources in _dynamodb_statements(template)
        if "*" in resources
    ]


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                yield value
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".", 1)[0]
                yield str(target)
            elif key == "Fn::Sub":
                text, variables = (value[0], value[1]) if isinstance(value, list) else (value, {})
                for name in re.findall(r"\$\{([^!}][^}]*)\}", str(text)):
                    if name not in variables:
                        yield name.split(".", 1)[0] if "::" not in name else name
                yield from _references(variables)
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def _sam_generated(template: dict[str, Any]) -> set[str]:
    """Resources SAM adds and a template may name: a function's URL is `<function>Url`."""
    return {
        f"{name}Url"
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function" and "FunctionUrlConfig" in resource.get("Properties", {})
    }


def _undefined_references(template: dict[str, Any]) -> set[str]:
    known = set(template.get("Parameters", {})) | set(template["Resources"]) | PSEUDO_PARAMETERS
    known |= _sam_generated(template)
    sections = {key: template.get(key, {}) for key in ("Globals", "Resources", "Outputs")}
    return {name for name in _references(sections) if name not in known}


def test_table_definition_has_keys_and_refund_due_index() -> None:
    definition = table_definition(TEMPLATE)

    assert "TableName" not in definition
    assert definition["BillingMode"] == "PAY_PER_REQUEST"
    assert definition["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    indexes = {index["IndexName"]: index for index in definition["GlobalSecondaryIndexes"]}
    assert indexes["refund-due"]["KeySchema"] == [
        {"AttributeName": "due_shard", "KeyType": "HASH"},
        {"AttributeName": "refund_due_at", "KeyType": "RANGE"},
    ]
    assert indexes["refund-due"]["Projection"]["ProjectionType"] in {"INCLUDE", "KEYS_ONLY", "ALL"}
    assert indexes["chores"]["KeySchema"] == [
        {"AttributeName": "chore", "KeyType": "HASH"},
        {"AttributeName": "chore_at", "KeyType": "RANGE"},
    ]


def test_attribute_definitions_are_exactly_the_key_attributes() -> None:
    definition = table_definition(TEMPLATE)
    types = {a["AttributeName"]: a["AttributeType"] for a in definition["AttributeDefinitions"]}
    key_attributes = {k["AttributeName"] for k in definition["KeySchema"]} | {
        k["AttributeName"] for index in definition["GlobalSecondaryIndexes"] for k in index["KeySchema"]
    }

    assert set(types) == key_attributes
    assert types == {"pk": "S", "sk": "S", "due_shard": "S", "refund_due_at": "N", "chore": "S", "chore_at": "N"}


def test_table_definition_is_accepted_by_create_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="blockhours-test", **table_definition(TEMPLATE))
        table = client.describe_table(TableName="blockhours-test")["Table"]

    assert [i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])] == ["chores", "refund-due"]


def test_every_route_is_under_api() -> None:
    routes = http_routes(TEMPLATE)

    assert routes
    assert [r for r in routes if not r.path.startswith("/api/")] == []


def test_staff_routes_use_iam_and_public_routes_do_not() -> None:
    auth = {(r.method, r.path): r.iam_auth for r in http_routes(TEMPLATE)}

    assert set(auth) >= PUBLIC_ROUTES | STAFF_ROUTES
    assert {route: auth[route] for route in PUBLIC_ROUTES} == dict.fromkeys(PUBLIC_ROUTES, False)
    assert {route: auth[route] for route in STAFF_ROUTES} == dict.fromkeys(STAFF_ROUTES, True)
    assert [route for route, iam in auth.items() if route[1].startswith(STAFF_PREFIXES) and not iam] == []


def test_iam_routes_have_the_iam_authorizer_enabled_on_their_api() -> None:
    iam_routes = [r for r in http_routes(TEMPLATE) if r.iam_auth]
    api = TEMPLATE["Resources"]["HttpApi"]
    global_auth = TEMPLATE.get("Globals", {}).get("HttpApi", {}).get("Auth", {})
    api_auth = {**global_auth, **api.get("Properties", {}).get("Auth", {})}

    assert iam_routes
    assert api_auth.get("EnableIamAuthorizer") is True
    assert api_auth.get("DefaultAuthorizer") in (None, "NONE")


def _routes_in_code() -> set[tuple[str, str, str]]:
    """(method, path, handler) of every Powertools route the handler modules declare; routes a module without a
    handler registers belong to the handler module that imports it."""
    routes = set()
    modules = {
        path.stem: path.read_text() for path in (REPO_ROOT / "functions" / "blockhours" / "handlers").glob("*.py")
    }
    for stem, text in modules.items():
        owner = stem
        if "def handler(" not in text:
            importers = (name for name, other in modules.items() if f"from .{stem} import" in other)
            owner = next((name for name in importers if "def handler(" in modules[name]), stem)
        for method, route in re.findall(r'@app\.(get|post|put|patch|delete)\("([^"]+)"', text):
            template_path = re.sub(r"<([^>]+)>", r"{\1}", route)
            routes.add((method.upper(), template_path, f"blockhours.handlers.{owner}.handler"))
    return routes


def test_every_route_in_the_code_is_in_the_template_with_its_handler_and_back() -> None:
    in_template = {(r.method, r.path, r.handler) for r in http_routes(TEMPLATE)}

    assert _routes_in_code() - in_template == set(), "routes the code serves but template.yaml does not route"
    assert in_template - _routes_in_code() == set(), "routes template.yaml sends to a handler that has no such route"


def test_http_routes_read_auth_and_handler_from_the_template() -> None:
    template = copy.deepcopy(TEMPLATE)
    health = template["Resources"]["ApiFunction"]["Properties"]["Events"]["Health"]["Properties"]
    health["Auth"] = {"Authorizer": "AWS_IAM"}
    template["Resources"]["ApiFunction"]["Properties"]["Handler"] = "blockhours.handlers.other.handler"

    health_route = Route("GET", "/api/health", "blockhours.handlers.other.handler", True, "ApiFunction")
    assert health_route in http_routes(template)


@pytest.mark.parametrize("name", sorted(_functions(TEMPLATE)))
def test_function_handler_names_an_existing_module(name: str) -> None:
    properties = _functions(TEMPLATE)[name]["Properties"]
    function_globals = TEMPLATE.get("Globals", {}).get("Function", {})
    code_uri = REPO_ROOT / str(properties.get("CodeUri", function_globals.get("CodeUri")))
    module, _, attribute = str(properties.get("Handler", function_globals.get("Handler"))).rpartition(".")
    module_path = code_uri.joinpath(*module.split("."))

    assert module and attribute, f"{name}: handler must be module.function"
    assert module_path.with_suffix(".py").is_file() or (module_path / "__init__.py").is_file(), (
        f"{name}: no module file for {module} under {code_uri}"
    )


def test_no_function_grants_dynamodb_actions_on_every_resource() -> None:
    assert list(_dynamodb_statements(TEMPLATE)), "expected explicit DynamoDB statements to check"
    assert _wildcard_dynamodb_grants(TEMPLATE) == []


def test_wildcard_check_catches_a_star_resource() -> None:
    template = copy.deepcopy(TEMPLATE)
    template["Resources"]["ApiRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": "*"}
    )

    assert "ApiFunction: ['dynamodb:Scan'] on ['*']" in _wildcard_dynamodb_grants(template)


def test_every_reference_names_a_parameter_resource_or_pseudo_parameter() -> None:
    assert _undefined_references(TEMPLATE) == set()


def test_reference_check_catches_an_undefined_name() -> None:
    template = copy.deepcopy(TEMPLATE)
    template["Globals"]["Function"]["Environment"]["Variables"]["X"] = {"Ref": "NoSuchParameter"}
    template["Resources"]["ApiRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]["Resource"] = {
        "Fn::Sub": "${NoSuchTable.Arn}/index/*"
    }

    assert _undefined_references(template) >= {"NoSuchParameter", "NoSuchTable"}


def test_make_test_runs_cfn_lint_with_the_repository_settings() -> None:
    # cfn-lint itself runs once, in `make lint`, which `make test` depends on; running it here again cost 20 s.
    assert DEFAULT_TEMPLATE_PATH == REPO_ROOT / "template.yaml"
    settings = yaml.safe_load((REPO_ROOT / ".cfnlintrc.yaml").read_text())
    assert settings["templates"] == ["template.yaml"]
    assert "I" in settings["include_checks"], "informational findings must fail too"
    assert settings["configure_rules"]["E3012"]["strict"] is True
    makefile = (REPO_ROOT / "Makefile").read_text()
    lint = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert lint is not None, "the Makefile has a lint target"
    assert re.search(r"^\t\$\(BIN\)/cfn-lint$", lint.group(1), re.MULTILINE), "make lint runs cfn-lint"
    test = re.search(r"^test:(.*)$", makefile, re.MULTILINE)
    assert test is not None and "lint" in test.group(1).split(), "make test runs make lint first"
