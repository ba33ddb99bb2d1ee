"""A change's operations as DynamoDB expressions: every name and value a placeholder, generated, never hand-written."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..domain.changes import AnyOf
from .dynamo_items import item

if TYPE_CHECKING:
    from ..domain.changes import Condition, Expect
    from .layout import Op

_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$")
_INDEX = re.compile(r"\[(\d+)\]")


def path_steps(field: str) -> list[str | int]:
    """A field path (`parts[2].status`) as the names and list positions it goes through; "" is the key."""
    steps: list[str | int] = []
    for segment in (field or "pk").split("."):
        found = _SEGMENT.match(segment)
        if not found:
            raise ValueError(f"not a field path: {field!r}")
        name, indexes = found.groups()
        steps += [name, *(int(index) for index in _INDEX.findall(indexes))]
    return steps


class Expressions:
    """Collects the placeholders of one operation's expressions."""

    def __init__(self) -> None:
        self.placeholders: dict[str, str] = {}  # field name -> its placeholder
        self.values: dict[str, Any] = {}

    def path(self, field: str) -> str:
        path = ""
        for step in path_steps(field):
            if isinstance(step, int):
                path += f"[{step}]"
            else:
                placeholder = self.placeholders.setdefault(step, f"#n{len(self.placeholders)}")
                path += f".{placeholder}" if path else placeholder
        return path

    @property
    def names(self) -> dict[str, str]:
        return {placeholder: name for name, placeholder in self.placeholders.items()}

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder

    def condition(self, conditions: tuple[Condition, ...]) -> str:
        return " AND ".join(self._one(condition) for condition in conditions)

    def _one(self, condition: Condition) -> str:
        if isinstance(condition, AnyOf):
            groups = [f"({self.condition(group)})" for group in condition.groups]
            return f"({' OR '.join(groups)})"
        return self._expect(condition)

    def _expect(self, expect: Expect) -> str:
        path = self.path(expect.field)
        if expect.op == "missing":
            return f"attribute_not_exists({path})"
        if expect.op == "exists":
            return f"attribute_exists({path})"
        compared = f"{path} {expect.op} {self.value(expect.value)}"
        if expect.absent_given and holds(expect.absent, expect.op, expect.value):
            return f"(attribute_not_exists({path}) OR {compared})"
        if expect.op == "<>":  # said outright: whether DynamoDB finds a missing attribute unequal is not relied on
            return f"(attribute_exists({path}) AND {compared})"
        return compared  # a missing attribute compares false

    def update(self, op: Op) -> str:
        sets = [f"{self.path(name)} = {self.value(value)}" for name, value in op.set.items()]
        sets += [
            f"{self.path(name)} = if_not_exists({self.path(name)}, {self.value(value)})"
            for name, value in op.set_if_absent.items()
        ]
        adds = [f"{self.path(name)} {self.value(delta)}" for name, delta in op.add.items()]
        removes = [self.path(name) for name in op.remove]
        clauses = [("SET", sets), ("ADD", adds), ("REMOVE", removes)]
        return " ".join(f"{verb} {', '.join(parts)}" for verb, parts in clauses if parts)


def holds(left: Any, op: str, right: Any) -> bool:
    """DynamoDB's comparison, for the in-memory table and for `absent` defaults."""
    if left is None:
        return False
    try:
        match op:
            case "=":
                return bool(left == right)
            case "<>":
                return bool(left != right)
            case "<":
                return bool(left < right)
            case "<=":
                return bool(left <= right)
            case ">":
                return bool(left > right)
            case ">=":
                return bool(left >= right)
    except TypeError:
        return False  # DynamoDB compares values of different types as false
    raise ValueError(f"no such comparison: {op}")


def request(table: str, op: Op) -> tuple[str, dict[str, Any]]:
    """The operation as a TransactWriteItems entry: (Put | Update | ConditionCheck, its request)."""
    expressions = Expressions()
    pk, sk = op.key
    body: dict[str, Any] = {"TableName": table}
    if op.action == "put":
        kind = "Put"
        body["Item"] = item({"pk": pk, "sk": sk, **op.item})
    else:
        body["Key"] = {"pk": {"S": pk}, "sk": {"S": sk}}
        update = expressions.update(op) if op.action == "update" else ""
        kind = "Update" if update else "ConditionCheck"
        if update:
            body["UpdateExpression"] = update
    condition = expressions.condition(op.expect)
    if condition:
        body["ConditionExpression"] = condition
    elif kind == "ConditionCheck":
        raise ValueError(f"{op.name}: a check without a condition")
    if expressions.names:
        body["ExpressionAttributeNames"] = expressions.names
    if expressions.values:
        body["ExpressionAttributeValues"] = item(expressions.values)
    if op.show_old:
        body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return kind, body
