"""Handlers for the local runtime's parity tests: each reports what its instance saw, in a file named by the env."""

from __future__ import annotations

import json
import os
import time
from typing import Any

_CALLS = 0  # module state: one count per instance, as each Lambda execution environment has its own


def _log(entry: dict[str, Any]) -> None:
    with open(os.environ["PARITY_LOG"], "a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")


def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _CALLS
    _CALLS += 1
    remaining, started_at = context.get_remaining_time_in_millis(), time.time()
    time.sleep(float(event.get("seconds", 0)))
    answer = {
        "pid": os.getpid(),
        "calls": _CALLS,
        "remaining_ms_at_start": remaining,
        "started_at": started_at,
        "ended_at": time.time(),
    }
    _log(answer)
    return answer


def failing(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _log({"event": event})
    raise RuntimeError("this function always fails")


def stream(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fails the records whose item is marked `poison`; with `fail_all`, the whole invocation."""
    records = event["Records"]
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]
    _log({"batch": keys})
    images = [r["dynamodb"].get("NewImage", {}) for r in records]
    if any("fail_all" in image for image in images):
        raise RuntimeError("a record this function cannot take")
    failed = [r["dynamodb"]["SequenceNumber"] for r, image in zip(records, images, strict=True) if "poison" in image]
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}
