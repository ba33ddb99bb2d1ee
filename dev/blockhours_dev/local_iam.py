"""What IAM would say, locally: every AWS call a function instance makes, checked against its role in template.yaml.

The embedded AWS does not check IAM, so a call that no statement of the function's role allows passes every local
test and fails only in AWS (the checkout function once could not record its order). Each instance writes the
calls it makes (service, operation, the resource it names) to a file; `denied` reads them against the role's
statements, resources resolved with the same names the local stack gave them. Conditions are not evaluated.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from . import template

CALLS_FILE = "BLOCKHOURS_LOCAL_AWS_CALLS"  # where each instance appends the calls it makes
_TRANSACTION_KINDS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "ConditionCheck": "ConditionCheckItem",
    "Delete": "DeleteItem",
}
_NAMING = {"TableName", "IndexName", "QueueUrl", "FunctionName", "Name", "Names", "Bucket", "Key", "FromEmailAddress"}


@dataclass(frozen=True)
class Call:
    function: str  # logical id
    action: str  # as IAM names it: dynamodb:Query
    resource: str  # the ARN it acts on, as the local stack named it


def record_calls(function: str) -> None:
    """In an instance: append every call its botocore clients make to the file CALLS_FILE names (if set)."""
    path = os.environ.get(CALLS_FILE)
    if not path:
        return
    from botocore.client import BaseClient

    make_call = BaseClient._make_api_call  # type: ignore[attr-defined]  # botocore's own, untyped

    def recorded(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        naming: dict[str, Any] = {k: v for k, v in params.items() if k in _NAMING}
        if operation in ("TransactWriteItems", "TransactGetItems"):  # authorised item by item
            naming["items"] = [
                (kind, item["TableName"]) for part in params["TransactItems"] for kind, item in part.items()
            ]
        if "RequestItems" in params:  # BatchGetItem, BatchWriteItem: authorised table by table
            naming["tables"] = sorted(params["RequestItems"])
        service = client.meta.service_model.signing_name
        entry = {"function": function, "service": service, "operation": operation, "params": naming}
        with open(path, "a", encoding="utf-8") as out:
            fcntl.flock(out, fcntl.LOCK_EX)
            out.write(json.dumps(entry) + "\n")
        return make_call(client, operation, params)

    BaseClient._make_api_call = recorded  # type: ignore[attr-defined]


def calls(path: Path, refs: Mapping[str, str]) -> list[Call]:
    """The calls recorded in `path`, each as the action IAM checks and the ARN of what it acts on."""
    if not path.exists():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        for action, resource in _authorised(entry, refs):
            found.append(Call(entry["function"], action, resource))
    return found


def _authorised(entry: dict[str, Any], refs: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    service, operation, params = entry["service"], entry["operation"], entry["params"]
    region, account = refs["AWS::Region"], refs["AWS::AccountId"]
    if service == "dynamodb":
        if operation in ("TransactWriteItems", "TransactGetItems"):
            for kind, table in params["items"]:
                yield f"dynamodb:{_TRANSACTION_KINDS[kind]}", _table_arn(table, region, account)
            return
        for table in params.get("tables", []):
            yield f"dynamodb:{operation}", _table_arn(table, region, account)
        if "tables" in params:
            return
        table = _table_arn(params.get("TableName", ""), region, account)
        yield f"dynamodb:{operation}", f"{table}/index/{params['IndexName']}" if "IndexName" in params else table
    elif service == "sqs":
        by_url = {url: refs[f"{name}.Arn"] for name, url in refs.items() if f"{name}.Arn" in refs}
        yield f"sqs:{operation}", by_url.get(params.get("QueueUrl", ""), params.get("QueueUrl", ""))
    elif service == "lambda":
        name = str(params.get("FunctionName", "")).rsplit(":function:", 1)[-1]
        yield (
            f"lambda:{'InvokeFunction' if operation == 'Invoke' else operation}",
            (f"arn:aws:lambda:{region}:{account}:function:{name}"),
        )
    elif service == "ses":
        sender = str(params.get("FromEmailAddress", ""))
        yield f"ses:{operation}", f"arn:aws:ses:{region}:{account}:identity/{sender}"
    elif service == "s3":
        yield f"s3:{operation}", f"arn:aws:s3:::{params.get('Bucket', '')}/{params.get('Key', '')}".rstrip("/")
    elif service == "ssm":
        for name in params.get("Names") or [params.get("Name", "")]:
            yield f"ssm:{operation}", f"arn:aws:ssm:{region}:{account}:parameter{name}"
    else:
        yield f"{service}:{operation}", "*"


def _table_arn(name: str, region: str, account: str) -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def denied(found: Iterable[Call], tpl: dict[str, Any], refs: Mapping[str, str]) -> list[Call]:
    """The calls no statement of the calling function's role allows (actions and resources as IAM matches them)."""
    grants: dict[str, list[tuple[list[str], list[str]]]] = {}
    refused = []
    for call in found:
        if call.function not in grants:
            grants[call.function] = [_grant(s, refs) for s in template.function_statements(call.function, tpl)]
        allowed = any(
            any(fnmatchcase(call.action, a) for a in actions) and any(fnmatchcase(call.resource, r) for r in resources)
            for actions, resources in grants[call.function]
        )
        if not allowed and call not in refused:
            refused.append(call)
    return refused


def _grant(statement: dict[str, Any], refs: Mapping[str, str]) -> tuple[list[str], list[str]]:
    if statement.get("Effect") != "Allow":
        return [], []
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    written = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    resources = [r for r in (template.resolve(item, refs) for item in written) if r is not None]
    return [str(a) for a in actions], resources
