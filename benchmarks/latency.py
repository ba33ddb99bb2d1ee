"""A session recorded end to end on the local stack, timed by step: `blockhours redeem` in a process of its own,
the local API Gateway and the api function's instance, the redeem service's DynamoDB calls, then the table's stream,
the outbox function and the session email at SES.

Times come from two WSGI timers in this process: one on the local API (request in, answer out), one on the
embedded AWS (each request's start and end, by what it asks: DynamoDB's X-Amz-Target, SES's send path). The CLI's
share is its process's wall time less the API's; the API's is its time less the DynamoDB calls made meanwhile (as
the embedded AWS spent answering them: botocore's side of those calls counts as the function's). The email's is from
the end of the session's write to the SES request that sends its email. Each run waits until the stack is settled.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from harness import api_server, credit_event, local_stack, moto_server

WSGI = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
SES_SEND = "/v2/email/outbound-emails"


@dataclass(frozen=True)
class Step:
    name: str
    budget_ms: float
    why: str


# What each step may take on the local stack (this VM's 2 CPUs, moto): a technician waits for the first three, the
# client's email follows. The CLI is a fresh Python process; the stream pump polls every 200 ms, as Lambda's does.
STEPS = (
    Step("CLI process start + HTTP", 1500, "python start, typer, boto3's signer, one request, the answer printed"),
    Step("API Gateway local + Lambda invoke", 250, "route, event, forked instance, handler code, botocore"),
    Step("redeem's DynamoDB calls (2)", 100, "the lots' query and one transaction, as the embedded AWS answers"),
    Step("stream -> outbox -> email", 1000, "the stream pump's poll, the outbox instance, the SES send"),
)
TOTAL_BUDGET_MS = sum(step.budget_ms for step in STEPS)


@dataclass(frozen=True)
class Request:
    kind: str  # "dynamodb:<Operation>", "ses", or what else the embedded AWS served
    started: float
    ended: float


@dataclass
class Timers:
    api: list[tuple[float, float]] = field(default_factory=list)
    aws: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.api.clear()
            self.aws.clear()


def _timed(app: WSGI, record: Callable[[dict[str, Any], float, float], None]) -> WSGI:
    def answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        try:
            return list(app(environ, start_response))
        finally:
            record(environ, started, time.perf_counter())

    return answer


def _kind(environ: dict[str, Any]) -> str:
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    if target.startswith("DynamoDB_20120810."):
        return "dynamodb:" + target.partition(".")[2]
    if str(environ.get("PATH_INFO", "")).startswith(SES_SEND):
        return "ses"
    return target or str(environ.get("PATH_INFO", ""))


@contextmanager
def timed(stack: Any) -> Iterator[Timers]:
    timers = Timers()

    def on_api(_: dict[str, Any], started: float, ended: float) -> None:
        with timers.lock:
            timers.api.append((started, ended))

    def on_aws(environ: dict[str, Any], started: float, ended: float) -> None:
        with timers.lock:
            timers.aws.append(Request(_kind(environ), started, ended))

    servers = [(api_server(stack), on_api), (moto_server(stack), on_aws)]
    apps = [server.app for server, _ in servers]
    for server, record in servers:
        server.app = _timed(server.app, record)
    try:
        yield timers
    finally:
        for (server, _), app in zip(servers, apps, strict=True):
            server.app = app


@dataclass(frozen=True)
class Run:
    steps_ms: tuple[float, ...]  # in STEPS' order
    dynamodb_calls: int


def _one_session(stack: Any, timers: Timers, email: str, number: int) -> Run:
    stack.wait_until_settled()  # the purchase's email and the last run's are sent: nothing else is moving
    timers.clear()
    env = {**os.environ, "BLOCKHOURS_API": stack.url, "COLUMNS": "200"}
    command = [sys.executable, "-m", "blockhours_dev.cli", "redeem", email, "15", "--tech", "Bench"]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "--session-id", f"latency-{number}"], capture_output=True, text=True, env=env, timeout=60
    )
    ended = time.perf_counter()
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 30
    while True:
        with timers.lock:
            [(api_in, api_out)] = timers.api
            dynamo = [r for r in timers.aws if r.kind.startswith("dynamodb:") and api_in <= r.started <= api_out]
            written = max(r.ended for r in dynamo if r.kind.endswith("TransactWriteItems"))
            mail = [r for r in timers.aws if r.kind == "ses" and r.started >= written]
        if mail:
            break
        assert time.monotonic() < deadline, "no email for the session within 30 s"
        time.sleep(0.01)  # waiting for the outbox's SES request to reach the embedded AWS
    api_s, dynamo_s = api_out - api_in, sum(r.ended - r.started for r in dynamo)
    seconds = (ended - started - api_s, api_s - dynamo_s, dynamo_s, min(r.ended for r in mail) - written)
    return Run(tuple(s * 1000 for s in seconds), len(dynamo))


def measure(runs: int) -> list[Run]:
    with local_stack(pumps=True) as stack:
        email = "latency@example.com"
        credit = credit_event(os.environ["STRIPE_WEBHOOK_SECRET"], email)  # 5 hours: more than the runs use
        headers = {"stripe-signature": credit["headers"]["stripe-signature"], "content-type": "application/json"}
        answer = requests.post(f"{stack.url}/api/stripe/webhook", data=credit["body"], headers=headers, timeout=30)
        assert answer.status_code == 200, answer.text
        with timed(stack) as timers:
            _one_session(stack, timers, email, 0)  # the api and outbox functions' first instances: a cold start
            return [_one_session(stack, timers, email, n) for n in range(1, runs + 1)]


def show(runs: list[Run]) -> None:
    print(
        f"Latency of a session, end to end on the local stack (blockhours redeem -> API -> ledger -> outbox email),"
        f" median of {len(runs)} warm runs"
    )
    print(f"  {'step':<36} {'budget ms':>9} {'median ms':>9} {'max ms':>7}   what it covers")
    for index, step in enumerate(STEPS):
        times = [run.steps_ms[index] for run in runs]
        mark = "   <-- over budget" if statistics.median(times) > step.budget_ms else ""
        print(
            f"  {step.name:<36} {step.budget_ms:>9.0f} {statistics.median(times):>9.0f} {max(times):>7.0f}"
            f"   {step.why}{mark}"
        )
    totals = [sum(run.steps_ms) for run in runs]
    print(f"  {'total':<36} {TOTAL_BUDGET_MS:>9.0f} {statistics.median(totals):>9.0f} {max(totals):>7.0f}")
    calls = sorted({run.dynamodb_calls for run in runs})
    print(f"  DynamoDB calls during each request: {', '.join(map(str, calls))} (target 2)")


if __name__ == "__main__":
    import harness

    harness.quiet()
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    show(measure(count))
