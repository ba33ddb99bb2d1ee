"""Read the SAM template: the table, the functions, their routes, triggers and IAM grants, for local use and tests."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
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
    function: str = ""  # the function's logical id
    throttle: Throttle | None = None  # the route's own RouteSettings (None: only the API-wide default applies)


@dataclass(frozen=True)
class Throttle:
    """API Gateway's token bucket for a route: `burst` requests at once, refilled at `rate` a second."""

    burst: int
    rate: float


def _throttle(settings: Mapping[str, Any] | None) -> Throttle | None:
    if not settings or "ThrottlingBurstLimit" not in settings or "ThrottlingRateLimit" not in settings:
        return None
    return Throttle(int(settings["ThrottlingBurstLimit"]), float(settings["ThrottlingRateLimit"]))


@dataclass(frozen=True)
class Destination:
    """Where Lambda sends what it gave up on: a resource of the template, by logical id, and its kind."""

    kind: str  # "SQS", "SNS" or "S3"
    resource: str


@dataclass(frozen=True)
class StreamTrigger:
    """A DynamoDB stream event source mapping, with the defaults Lambda applies when a property is absent."""

    function: str
    batch_size: int = 100
    maximum_retry_attempts: int = -1  # -1: until the record leaves the stream
    bisect_on_error: bool = False
    report_item_failures: bool = False
    patterns: tuple[str, ...] = ()
    on_failure: Destination | None = None


@dataclass(frozen=True)
class QueueTrigger:
    """An SQS event source mapping."""

    function: str
    queue: str  # the queue's logical id
    batch_size: int = 10
    report_item_failures: bool = False
    maximum_concurrency: int | None = None


@dataclass(frozen=True)
class FunctionSpec:
    """One serverless function: what Lambda runs, how long it may take, and where its failures go."""

    name: str  # logical id
    handler: str
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, Any]  # as written, intrinsic functions unresolved
    reserved_concurrency: int | None = None
    async_retry_attempts: int = 2
    async_on_failure: Destination | None = None
    dead_letter: bool = False  # the older DeadLetterQueue: it gets the event itself, not Lambda's record of it


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
    for name, resource in tpl.get("Resources", {}).items():
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
                    function=name,
                    throttle=_throttle(event_properties.get("RouteSettings")),
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


_FUNCTION_DEFAULTS = {"Timeout": 3, "MemorySize": 128}  # Lambda's own, when neither Globals nor the function says


_DESTINATION_KINDS = {"AWS::SQS::Queue": "SQS", "AWS::SNS::Topic": "SNS", "AWS::S3::Bucket": "S3"}


def _destination(tpl: dict[str, Any], target: Any) -> Destination | None:
    """A destination written as `!GetAtt Resource.Arn`, `!Ref Topic` or `{Type, Destination}`; its kind is what
    the named resource is."""
    if isinstance(target, dict) and "Destination" in target:
        return _destination(tpl, target["Destination"])
    if isinstance(target, dict) and ("Fn::GetAtt" in target or "Ref" in target):
        name = str(target["Fn::GetAtt"][0] if "Fn::GetAtt" in target else target["Ref"])
        kind = _DESTINATION_KINDS.get(tpl.get("Resources", {}).get(name, {}).get("Type", ""))
        return Destination(kind, name) if kind else None
    return None


def functions(template: dict[str, Any] | None = None) -> dict[str, FunctionSpec]:
    """Every serverless function, its Globals merged in, by logical id."""
    tpl = template if template is not None else load_template()
    globals_ = tpl.get("Globals", {}).get("Function", {})
    specs: dict[str, FunctionSpec] = {}
    for name, resource in tpl.get("Resources", {}).items():
        if resource.get("Type") != _FUNCTION_TYPE:
            continue
        properties: dict[str, Any] = {**globals_, **resource.get("Properties", {})}
        environment = {
            **globals_.get("Environment", {}).get("Variables", {}),
            **resource.get("Properties", {}).get("Environment", {}).get("Variables", {}),
        }
        invoke = properties.get("EventInvokeConfig", {})
        on_failure = _destination(tpl, invoke.get("DestinationConfig", {}).get("OnFailure"))
        dead_letter = on_failure is None and "DeadLetterQueue" in properties
        if dead_letter:
            on_failure = _destination(tpl, properties["DeadLetterQueue"].get("TargetArn"))
        specs[name] = FunctionSpec(
            name=name,
            handler=str(properties["Handler"]),
            timeout_seconds=int(properties.get("Timeout", _FUNCTION_DEFAULTS["Timeout"])),
            memory_mb=int(properties.get("MemorySize", _FUNCTION_DEFAULTS["MemorySize"])),
            environment=environment,
            reserved_concurrency=properties.get("ReservedConcurrentExecutions"),
            async_retry_attempts=int(invoke.get("MaximumRetryAttempts", 2)),
            async_on_failure=on_failure,
            dead_letter=dead_letter,
        )
    return specs


def _events(tpl: dict[str, Any], kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, event.get("Properties", {}))
        for name, resource in tpl.get("Resources", {}).items()
        if resource.get("Type") == _FUNCTION_TYPE
        for event in resource.get("Properties", {}).get("Events", {}).values()
        if event.get("Type") == kind
    ]


def stream_triggers(template: dict[str, Any] | None = None) -> list[StreamTrigger]:
    """Every DynamoDB stream event of every function, as Lambda's event source mapping reads it."""
    tpl = template if template is not None else load_template()
    return [
        StreamTrigger(
            function=name,
            batch_size=int(p.get("BatchSize", 100)),
            maximum_retry_attempts=int(p.get("MaximumRetryAttempts", -1)),
            bisect_on_error=bool(p.get("BisectBatchOnFunctionError", False)),
            report_item_failures="ReportBatchItemFailures" in p.get("FunctionResponseTypes", []),
            patterns=tuple(str(f["Pattern"]) for f in p.get("FilterCriteria", {}).get("Filters", [])),
            on_failure=_destination(tpl, p.get("DestinationConfig", {}).get("OnFailure")),
        )
        for name, p in _events(tpl, "DynamoDB")
    ]


def queue_triggers(template: dict[str, Any] | None = None) -> list[QueueTrigger]:
    """Every SQS event of every function."""
    tpl = template if template is not None else load_template()
    triggers = []
    for name, p in _events(tpl, "SQS"):
        queue = _destination(tpl, p["Queue"])
        assert queue is not None, f"{name}: an SQS event names its queue with !GetAtt Queue.Arn"
        triggers.append(
            QueueTrigger(
                function=name,
                queue=queue.resource,
                batch_size=int(p.get("BatchSize", 10)),
                report_item_failures="ReportBatchItemFailures" in p.get("FunctionResponseTypes", []),
                maximum_concurrency=p.get("ScalingConfig", {}).get("MaximumConcurrency"),
            )
        )
    return triggers


def resources_of_type(kind: str, template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Logical id → properties of every resource of one CloudFormation type."""
    tpl = template if template is not None else load_template()
    return {
        name: resource.get("Properties", {})
        for name, resource in tpl.get("Resources", {}).items()
        if resource.get("Type") == kind
    }


_SUB = re.compile(r"\$\{([^}!]+)\}")


def resolve(value: Any, refs: Mapping[str, str]) -> str | None:
    """An environment value of the template, with `Ref`, `GetAtt` and `Sub` resolved from `refs`; None if unknown."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    if not isinstance(value, dict) or len(value) != 1:
        return None
    [(function, argument)] = value.items()
    if function == "Ref":
        return refs.get(str(argument))
    if function == "Fn::GetAtt":
        return refs.get(".".join(argument))
    if function == "Fn::Sub":
        text, local = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        names = {**refs, **{k: v for k, v in ((k, resolve(v, refs)) for k, v in local.items()) if v is not None}}
        missing = [m for m in _SUB.findall(text) if m not in names]
        return None if missing else _SUB.sub(lambda m: names[m.group(1)], text)
    return None
