"""The first request after a cold start: what a client waits for, not only what the import costs.

coldstart.py times each handler's import; a module left to the first request is not saved by that, only moved. Here
a fresh interpreter (Lambda's Python) imports the handler and answers one real request against the embedded AWS and
the Stripe stand-in, and reports its own CPU. Beside it, boto3's own first call: a fresh interpreter that imports
boto3 and reads one item of the same table (a function cannot answer with less).

Alone: `python benchmarks/firstrequest.py [--runs 7] [--python /path/to/python3.12] [--functions DIR] [--sources]`
(--sources: from source alone, as Lambda ran it before `sam build` compiled bytecode; DIR: another
checkout's functions/, to compare before and after); it prints and exits 0 (issue 17's target is on the import).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import coldstart
import harness

# A fresh interpreter: boto3, the handler, one request; then its own CPU. A context with what Powertools reads.
CHILD = """
import importlib, json, resource, sys, time
spec = json.loads(sys.stdin.read())

class Context:
    function_name = spec["function"]
    memory_limit_in_mb = 512
    aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:" + spec["function"]
    def get_remaining_time_in_millis(self):
        return 15000

import boto3
if spec["module"]:
    answer = importlib.import_module(spec["module"]).handler(spec["event"], Context())
    status = answer.get("statusCode", 200)
else:
    key = {"pk": {"S": "BENCH#nobody"}, "sk": {"S": "ACCOUNT"}}
    boto3.client("dynamodb").get_item(TableName=spec["table"], Key=key)
    status = 200
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"cpu_ms": (usage.ru_utime + usage.ru_stime) * 1000, "status": status}))
"""
EMAIL = "first.request@example.com"
# The same figures before issue 17's changes: this script with --functions on a checkout of 95f2cce, with bytecode
# (2026-12-06, median of 7 interleaved with the changed code). As Lambda ran it then, from source alone (--sources):
# webhook 4.61x, checkout 4.76x, client 3.69x, api 4.23x (1,375 / 1,538 / 1,217 / 1,268 ms of CPU).
BEFORE = {"WebhookFunction": 2.65, "CheckoutFunction": 2.53, "ClientFunction": 2.31, "ApiFunction": 2.41}


@dataclass(frozen=True)
class Probe:
    name: str  # the client's step it answers
    function: str  # template.yaml's function
    module: str
    event: Callable[[dict[str, str]], dict[str, Any]]  # a fresh event from the function's environment
    status: int


def _checkout(env: dict[str, str]) -> dict[str, Any]:
    from blockhours import catalog

    terms = catalog.load().terms.version
    body = {"sku": "block-60", "email": EMAIL, "terms_version": terms, "terms_accepted": True}
    return harness.api_event("POST", "/api/checkout", body=json.dumps(body))


def _balance(env: dict[str, str]) -> dict[str, Any]:
    from blockhours.links import make_balance_token

    token = make_balance_token(EMAIL, env["BLOCKHOURS_LINK_SECRET"])
    return harness.api_event("GET", "/api/balance", query={"t": token})


PROBES = [
    Probe("Stripe's webhook credits a payment", "WebhookFunction", "blockhours.handlers.webhook",
          lambda env: harness.credit_event(env["STRIPE_WEBHOOK_SECRET"], EMAIL), 200),
    Probe("the client presses Buy", "CheckoutFunction", "blockhours.handlers.checkout", _checkout, 200),
    Probe("the client opens their balance", "ClientFunction", "blockhours.handlers.client", _balance, 200),
    Probe("the technician records a session", "ApiFunction", "blockhours.handlers.api",
          lambda env: harness.session_event(EMAIL, 30, f"bench-{uuid.uuid4().hex[:12]}"), 200),
]  # fmt: skip


def _run(python: str, env: dict[str, str], spec: dict[str, Any], path: str, sources: bool) -> tuple[float, int]:
    child_env = env | {"PYTHONPATH": path, "POWERTOOLS_METRICS_DISABLED": "true"}
    if sources:
        child_env["PYTHONDONTWRITEBYTECODE"] = "1"
    child_env.pop("PYTHONHOME", None)
    answer = subprocess.run(
        [python, "-c", CHILD], input=json.dumps(spec), env=child_env, capture_output=True, text=True, check=False
    )
    if answer.returncode != 0:
        raise RuntimeError(f"{spec['function']}: {answer.stderr[-1500:]}")
    found = json.loads(answer.stdout.strip().splitlines()[-1])
    return float(found["cpu_ms"]), int(found["status"])


@dataclass(frozen=True)
class FirstRequest:
    probe: Probe
    ms: float
    boto3_ms: float
    ratio: float


def measure(
    runs: int, python: str, functions: str = str(harness.ROOT / "functions"), sources: bool = False
) -> list[FirstRequest]:
    """Each run: per probe, boto3's own first call, then the handler's cold start and first request; with `sources`,
    from our package and the layer's as source alone (as `sam build` shipped them before it compiled bytecode)."""
    samples: dict[str, list[tuple[float, float]]] = {p.name: [] for p in PROBES}
    with harness.local_stack() as stack, tempfile.TemporaryDirectory() as scratch:
        path = coldstart.as_sources(python, Path(scratch), functions) if sources else functions
        assert stack.lambdas is not None
        for _ in range(runs):
            for probe in PROBES:
                env = stack.lambdas.functions[probe.function]._environment()
                table = env["BLOCKHOURS_TABLE"]
                base, _ = _run(python, env, {"module": "", "function": probe.function, "table": table}, path, sources)
                event = probe.event(env)
                spent, status = _run(
                    python, env, {"module": probe.module, "function": probe.function, "event": event}, path, sources
                )
                if status != probe.status:
                    raise RuntimeError(f"{probe.function} answered {status}, not {probe.status}")
                samples[probe.name].append((base, spent))
    return [
        FirstRequest(
            probe,
            statistics.median(s for _, s in samples[probe.name]),
            statistics.median(b for b, _ in samples[probe.name]),
            statistics.median(s / b for b, s in samples[probe.name]),
        )
        for probe in PROBES
    ]


def show(found: list[FirstRequest], runs: int) -> None:
    print(
        f"First request after a cold start: CPU of a fresh interpreter importing the handler and answering one request"
        f" (embedded AWS, Stripe stand-in), median of {runs}, against boto3's own first call (import + one GetItem)"
    )
    print(f"  {'what the client does':<36} {'function':<16} {'CPU':>7} {'boto3':>7} {'ratio':>6} {'before':>7}")
    for item in found:
        print(
            f"  {item.probe.name:<36} {item.probe.function:<16} {item.ms:>4.0f} ms {item.boto3_ms:>4.0f} ms"
            f" {item.ratio:>5.2f}x {BEFORE.get(item.probe.function, 0):>6.2f}x"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--python", default=os.environ.get("BLOCKHOURS_BENCH_PYTHON", sys.executable))
    parser.add_argument("--functions", default=str(harness.ROOT / "functions"), help="another checkout's, to compare")
    parser.add_argument("--sources", action="store_true", help="without bytecode, as `sam build` shipped before")
    args = parser.parse_args()
    harness.quiet()
    show(measure(args.runs, args.python, args.functions, args.sources), args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
