"""Read the SAM template: the ledger table's definition, the HTTP routes and IAM grants, for local use and tests."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "template.yaml"

_TABLE_RESOURCE = "LedgerTable"
_TABLE_KEYS = ("KeySchema", "AttributeDefinitions", "BillingMode", "GlobalSecondaryIndexes")
_FUNCTION_TYPE = "AWS::Serverless::Function"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: str
    iam_auth: bool


class _CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short-form tags (`!Ref`, `!Sub`, ...) as their long form."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.constructor.ConstructorError(None, None, f"unexpected node for !{suffix}", node.start_mark)

    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    return {f"Fn::{suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path | None = None) -> dict[str, Any]:
    """Parse the SAM template (the repository's template.yaml unless `path` is given)."""
    text = (path or DEFAULT_TEMPLATE_PATH).read_text(encoding="utf-8")
    loaded = yaml.load(text, Loader=_CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(loaded, dict):
        raise ValueError(f"{path or DEFAULT_TEMPLATE_PATH} is not a CloudFormation template")
    return loaded


def table_definition(template: dict[str, Any] | None = None) -> dict[str, Any]:
    """Keyword arguments for DynamoDB `create_table`, from the LedgerTable resource, without TableName."""
    tpl = template if template is not None else load_template()
    properties: dict[str, Any] = tpl["Resources"][_TABLE_RESOURCE]["Properties"]
    definition = {key: copy.deepcopy(properties[key]) for key in _TABLE_KEYS if key in properties}
    if "StreamSpecification" in properties:  # CloudFormation names the view only; the API also wants it enabled
        view = properties["StreamSpecification"]["StreamViewType"]
        definition["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
    return definition


def http_routes(template: dict[str, Any] | None = None) -> list[Route]:
    """Every HttpApi event of every serverless function, in template order."""
    tpl = template if template is not None else load_template()
    global_handler = tpl.get("Globals", {}).get("Function", {}).get("Handler")
    routes: list[Route] = []
    for resource in tpl.get("Resources", {}).values():
        if resource.get("Type") != _FUNCTION_TYPE:
            continue
        properties: dict[str, Any] = resource.get("Properties", {})
        handler = properties.get("Handler", global_handler)
        for event in properties.get("Events", {}).values():
            if event.get("Type") != "HttpApi":
                continue
            event_properties: dict[str, Any] = event.get("Properties", {})
            routes.append(
                Route(
                    method=str(event_properties["Method"]).upper(),
                    path=str(event_properties["Path"]),
                    handler=str(handler),
                    iam_auth=event_properties.get("Auth", {}).get("Authorizer") == "AWS_IAM",
                )
            )
    return routes


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def function_statements(name: str, template: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The IAM statements of function `name`: its role's inline policies (and any SAM `Policies` documents)."""
    tpl = template if template is not None else load_template()
    resources: dict[str, Any] = tpl["Resources"]
    properties: dict[str, Any] = resources[name].get("Properties", {})
    documents = [policy for policy in properties.get("Policies", []) if isinstance(policy, dict)]
    role = properties.get("Role")
    if isinstance(role, dict) and "Fn::GetAtt" in role:
        role_properties = resources[role["Fn::GetAtt"][0]].get("Properties", {})
        documents += [policy["PolicyDocument"] for policy in role_properties.get("Policies", [])]
    return [statement for document in documents for statement in _as_list(document.get("Statement", []))]
