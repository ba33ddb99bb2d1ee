"""The one table in memory: the same operations and conditions as DynamoDB, for service tests, the model and the
daily run's preview (which loads a copy of the real table into it).

Every write is all-or-nothing under one lock, and a condition reads the item as it is at that moment, so two
racing changes meet here exactly as they meet in DynamoDB: one commits, the other is refused.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from typing import Any

from blockhours.adapters.expressions import holds, path_steps
from blockhours.adapters.layout import INDEXES, Op
from blockhours.domain.changes import AnyOf, Condition, Expect

_MISSING = object()


def _get(item: dict[str, Any], path: str) -> Any:
    value: Any = item
    for step in path_steps(path):
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return value


def _set(item: dict[str, Any], path: str, value: Any) -> None:
    *head, last = path_steps(path)
    target: Any = item
    for step in head:
        target = target[step]
    target[last] = value


def _remove(item: dict[str, Any], path: str) -> None:
    *head, last = path_steps(path)
    target: Any = item
    for step in head:
        target = target[step]
    if isinstance(last, int):
        if last < len(target):
            del target[last]
    else:
        target.pop(last, None)


def meets(item: dict[str, Any] | None, conditions: tuple[Condition, ...]) -> bool:
    return all(_meets(item, condition) for condition in conditions)


def _meets(item: dict[str, Any] | None, condition: Condition) -> bool:
    if isinstance(condition, AnyOf):
        return any(meets(item, group) for group in condition.groups)
    return _expect(item, condition)


def _expect(item: dict[str, Any] | None, expect: Expect) -> bool:
    value = _MISSING if item is None else (_get(item, expect.field) if expect.field else item)
    if expect.op == "missing":
        return value is _MISSING
    if expect.op == "exists":
        return value is not _MISSING
    if value is _MISSING:
        return expect.absent_given and holds(expect.absent, expect.op, expect.value)
    return holds(value, expect.op, expect.value)


class MemoryTable:
    """Items by (pk, sk); the sparse indexes are the items holding their attributes, as in DynamoDB."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.writes = 0  # round trips, as DynamoDB would count them
        self.reads = 0

    def load(self, items: Iterable[dict[str, Any]]) -> None:
        """Hold these items (each with its pk and sk) as they are: another table's, read back decoded."""
        with self._lock:
            for found in items:
                self.items[(str(found["pk"]), str(found["sk"]))] = copy.deepcopy(found)

    def write(self, ops: list[Op]) -> tuple[list[str], dict[str, dict[str, Any]]]:
        with self._lock:
            self.writes += 1
            failed = [op for op in ops if not meets(self.items.get(op.key), op.expect)]
            if failed:
                seen = {op.name: copy.deepcopy(self.items.get(op.key) or {}) for op in failed if op.show_old}
                return [op.name for op in failed], seen
            for op in ops:
                self._apply(op)
            return [], {}

    def _apply(self, op: Op) -> None:
        pk, sk = op.key
        if op.action == "put":
            kept = {name: value for name, value in op.item.items() if value is not None}  # as DynamoDB stores it
            self.items[op.key] = copy.deepcopy({"pk": pk, "sk": sk, **kept})
            return
        if op.action == "check":
            return
        item = self.items.setdefault(op.key, {"pk": pk, "sk": sk})
        for name, value in op.set.items():
            _set(item, name, copy.deepcopy(value))
        for name, value in op.set_if_absent.items():
            if _get(item, name) is _MISSING:
                _set(item, name, copy.deepcopy(value))
        for name, delta in op.add.items():
            was = _get(item, name)
            _set(item, name, (0 if was is _MISSING else was) + delta)
        for name in op.remove:
            _remove(item, name)

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        with self._lock:
            self.reads += 1
            found = self.items.get((pk, sk))
            return copy.deepcopy(found) if found is not None else None

    def get_many(self, keys: list[tuple[str, str]]) -> list[dict[str, Any]]:
        with self._lock:
            self.reads += 1
            return [copy.deepcopy(self.items[k]) for k in keys if k in self.items]

    def query(self, pk: str, prefix: str = "") -> list[dict[str, Any]]:
        with self._lock:
            self.reads += 1
            found = [v for (p, s), v in self.items.items() if p == pk and s.startswith(prefix)]
            return copy.deepcopy(sorted(found, key=lambda row: str(row["sk"])))

    def query_index(self, index: str, value: str, until: int | None = None) -> list[dict[str, Any]]:
        declared = INDEXES[index]
        hash_name, range_name = declared.hash, declared.range
        with self._lock:
            self.reads += 1
            found = [
                row
                for row in self.items.values()
                if row.get(hash_name) == value and range_name in row and (until is None or row[range_name] <= until)
            ]
            ordered = sorted(found, key=lambda row: (row[range_name], row["pk"], row["sk"]))
            if declared.keeps is not None:  # what DynamoDB's index projects: its keys, the table's, and these
                kept = {"pk", "sk", hash_name, range_name, *declared.keeps}
                ordered = [{name: v for name, v in row.items() if name in kept} for row in ordered]
            return copy.deepcopy(ordered)

    def scan(
        self, where: Expect, cursor: dict[str, str] | None = None, limit: int | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        with self._lock:
            self.reads += 1
            keys = sorted(self.items)
            if cursor is not None:
                keys = [k for k in keys if k > (cursor["pk"], cursor["sk"])]
            page = keys if limit is None else keys[:limit]
            rows = [copy.deepcopy(self.items[k]) for k in page if meets(self.items[k], (where,))]
            more = limit is not None and len(keys) > limit
            return rows, ({"pk": page[-1][0], "sk": page[-1][1]} if more else None)
