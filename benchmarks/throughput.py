"""Credits and redemptions per second through the handlers against the embedded AWS, and where the time goes.

Two passes, each on a fresh local stack. The timed pass runs the operations bare; the embedded AWS's WSGI app is
wrapped to add up the time it spends answering, so its share of the wall time needs no profiler. The profiled pass
runs the same operations under cProfile (the handlers' thread, and every request thread of the embedded AWS) to
split the handlers' side by component: our code, botocore, and the rest.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from harness import DynamoCalls, Handler, call, credit_event, local_stack, moto_server, session_event

WSGI = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
OURS, SDK, AWS = "Blockhours (functions/blockhours)", "botocore / boto3 / urllib3", "embedded AWS (moto)"
COMPONENTS = (
    ("/functions/blockhours/", OURS),
    ("/dev/blockhours_dev/embedded_aws.py", AWS),  # our patch of moto's transactions
    ("/dev/blockhours_dev/", "the local stack (dev/blockhours_dev)"),
    ("/site-packages/moto/", AWS),
    ("/site-packages/werkzeug/", AWS),  # moto's HTTP server
    ("/site-packages/flask/", AWS),
    ("/site-packages/botocore/", SDK),
    ("/site-packages/boto3/", SDK),
    ("/site-packages/urllib3/", SDK),
    ("/site-packages/aws_lambda_powertools/", "Powertools (routing, logger)"),
    ("/site-packages/pydantic", "pydantic (request bodies)"),
    ("/site-packages/stripe/", "stripe (signature check)"),
)
WAITS = ("recv_into", "'acquire' of '_thread.lock'", "'poll' of", "'select'", "time.sleep")


@dataclass(frozen=True)
class Rate:
    label: str
    count: int
    seconds: float
    aws_seconds: float  # the embedded AWS's app, answering
    batches: list[float]  # operations per second, batch by batch: the embedded AWS slows as its table grows
    calls: int  # DynamoDB API calls
    retries: int


@dataclass(frozen=True)
class Profile:
    count: int
    handlers: dict[str, float]  # component: cProfile self time in the handlers' thread (blocked time left out)
    aws: dict[str, float]  # the same in the embedded AWS's request threads
    deepcopy: float  # of `aws`: moto's copies of the table, one per item of each TransactWriteItems


class Operations:
    """`count` new clients' credits (signed webhook deliveries), then one 15-minute session for each."""

    def __init__(self, count: int, tag: str) -> None:
        secret = os.environ["STRIPE_WEBHOOK_SECRET"]
        emails = [f"{tag}-{n}@example.com" for n in range(count)]
        self.credits = [credit_event(secret, email) for email in emails]  # signed now: good for five minutes
        self.sessions = [session_event(email, 15, f"{tag}-{n}") for n, email in enumerate(emails)]


def handlers() -> tuple[Handler, Handler]:
    from blockhours.handlers import api, webhook

    return webhook.handler, api.handler


def warm_up() -> None:
    """The first call of a container pays for Stripe's SDK, the clients and the routes: not part of a rate."""
    webhook, api = handlers()
    warm = Operations(2, "warm")
    for credit, session in zip(warm.credits, warm.sessions, strict=True):
        call(webhook, credit, "webhook")
        call(api, session, "api")


@contextmanager
def wrapped_aws(stack: Any, wrap: Callable[[WSGI], WSGI]) -> Iterator[None]:
    server = moto_server(stack)
    app = server.app
    server.app = wrap(app)
    try:
        yield
    finally:
        server.app = app


def timed(count: int, batch: int) -> list[Rate]:
    from blockhours import wiring

    rates: list[Rate] = []
    busy = [0.0]
    lock = threading.Lock()

    def timing(app: WSGI) -> WSGI:
        def answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            started = time.perf_counter()
            try:
                return list(app(environ, start_response))
            finally:
                with lock:
                    busy[0] += time.perf_counter() - started

        return answer

    with local_stack() as stack:
        warm_up()
        counter = DynamoCalls(wiring.ledger().client)
        ops, (webhook, api) = Operations(count, "timed"), handlers()
        with wrapped_aws(stack, timing):
            for label, handler, function, events in (
                ("webhook credits (new purchases)", webhook, "webhook", ops.credits),
                ("staff sessions (POST /api/sessions)", api, "api", ops.sessions),
            ):
                counter.clear()
                busy[0], batches, started = 0.0, [], time.perf_counter()
                for first in range(0, len(events), batch):
                    begun = time.perf_counter()
                    for item in events[first : first + batch]:
                        call(handler, item, function)
                    batches.append(len(events[first : first + batch]) / (time.perf_counter() - begun))
                took = time.perf_counter() - started
                retries = counter.sends - len(counter.calls)
                rates.append(Rate(label, len(events), took, busy[0], batches, len(counter.calls), retries))
    return rates


def _component(key: tuple[str, int, str]) -> str | None:
    """Which part of the stack a profiled function belongs to; None for time spent blocked, not running."""
    filename, _, name = key
    if filename == "~":
        return None if any(wait in name for wait in WAITS) else "Python builtins (json, hashing, sockets)"
    if filename.endswith("/copy.py"):
        return "copy.deepcopy"
    for marker, label in COMPONENTS:
        if marker in filename:
            return label
    return "Python standard library" if "/site-packages/" not in filename else "other libraries"


def _by_component(profiles: list[cProfile.Profile]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    if profiles:
        stats = pstats.Stats(profiles[0])
        for extra in profiles[1:]:
            stats.add(extra)
        table: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
        for key, (_, _, own, _, _) in table.items():
            if (part := _component(key)) is not None:
                totals[part] += own
    return totals


def profiled(count: int) -> Profile:
    served: list[cProfile.Profile] = []
    lock = threading.Lock()

    def profiling(app: WSGI) -> WSGI:
        def answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            profile = cProfile.Profile()
            profile.enable()
            try:
                return list(app(environ, start_response))
            finally:
                profile.disable()
                with lock:
                    served.append(profile)

        return answer

    with local_stack() as stack:
        warm_up()
        ops, (webhook, api) = Operations(count, "profiled"), handlers()
        mine = cProfile.Profile()
        with wrapped_aws(stack, profiling):
            mine.enable()
            for item in ops.credits:
                call(webhook, item, "webhook")
            for item in ops.sessions:
                call(api, item, "api")
            mine.disable()
    aws = _by_component(served)
    deepcopy = aws.pop("copy.deepcopy", 0.0)
    aws[AWS] = aws.get(AWS, 0.0) + deepcopy
    ours = _by_component([mine])
    ours["Python standard library"] = ours.get("Python standard library", 0.0) + ours.pop("copy.deepcopy", 0.0)
    ours["other libraries"] = ours.get("other libraries", 0.0) + ours.pop(AWS, 0.0)  # werkzeug, in our thread
    return Profile(count, ours, aws, deepcopy)


def show(rates: list[Rate], profile: Profile, batch: int) -> None:
    print("Throughput through the handlers against the embedded AWS (one thread, one request at a time)")
    for rate in rates:
        per_op = (rate.seconds - rate.aws_seconds) / rate.count * 1000
        steps = " ".join(f"{r:.1f}" for r in rate.batches)
        print(
            f"  {rate.label:<36} {rate.count / rate.seconds:6.1f}/s  ({rate.count} in {rate.seconds:.1f} s;"
            f" per batch of {batch}: {steps})"
        )
        print(
            f"  {'':<36} embedded AWS answering {rate.aws_seconds / rate.seconds:.0%} of the time; the handler side"
            f" {per_op:.0f} ms per operation; {rate.calls} DynamoDB calls, {rate.retries} retried"
        )
    mine = profile.handlers
    handler_total = sum(mine.values())
    wall = sum(r.seconds for r in rates)
    aws_share = sum(r.aws_seconds for r in rates) / wall
    print(
        "  Where the time goes: the embedded AWS's share from its own timer (timed pass); the handler side split by"
        f" cProfile self time ({profile.count} credits + {profile.count} sessions, time blocked on sockets left out)"
    )
    print(f"    {'':<44} {'of all':>7} {'of the handler side':>20}")
    print(f"    {AWS:<44} {aws_share:7.1%}")
    for part, seconds in sorted(mine.items(), key=lambda kv: -kv[1]):
        share = seconds / handler_total
        print(f"    {part:<44} {(1 - aws_share) * share:7.1%} {share:20.1%}")
    moto = sum(profile.aws.values())
    print(
        f"    (of the embedded AWS's profiled time, {profile.deepcopy / moto:.0%} is copy.deepcopy: moto copies the"
        " whole table, stream records included, for every item of every TransactWriteItems)"
    )
