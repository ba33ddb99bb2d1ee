"""DynamoDB round trips per operation, through the Lambda handlers, against the local stack.

Each count has a target; `misses` names those above it, and run.py (and this file run alone) exits 1 on any, so a
change that adds a round trip fails `make bench`. tests/integration/test_round_trips.py runs the same counting.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness import (
    DynamoCalls,
    api_event,
    call,
    checkout_session,
    local_stack,
    refund_job_event,
    session_event,
    webhook_event,
)

from blockhours.domain.changes import refund_ref

DAY = 86_400
IDLE_CLIENTS = 10


@dataclass(frozen=True)
class Trip:
    label: str
    calls: int
    sends: int  # HTTP requests: more than `calls` when botocore retried
    detail: str
    items: int  # items DynamoDB read: each Query's ScannedCount, each GetItem's item
    target: int
    why: str
    per: int = 1  # the figure covers this many lots or accounts

    @property
    def missed(self) -> bool:
        return self.calls > self.target


def measure() -> list[Trip]:
    from blockhours import links, services, wiring
    from blockhours.handlers import api, client, refunds, webhook
    from blockhours_dev.standin.payments import paid_intent

    trips: list[Trip] = []
    with local_stack() as stack:
        assert stack.standin is not None
        counter = DynamoCalls(wiring.ledger().client)

        def count(label: str, target: int, why: str, action: Callable[[], Any], per: int = 1) -> Any:
            counter.clear()
            result = action()
            items = sum(n for _, n in counter.read)
            trips.append(Trip(label, len(counter.calls), counter.sends, counter.summary(), items, target, why, per))
            return result

        secret, email = os.environ["STRIPE_WEBHOOK_SECRET"], "bench@example.com"
        # Three real payments at the Stripe stand-in: three lots, so the refund worker refunds three times.
        paid = [
            checkout_session(payment_intent=paid_intent(stack.standin, 12900), metadata={"email": email})
            for _ in range(3)
        ]
        first = webhook_event(secret, "checkout.session.completed", paid[0])
        answer = count(
            "credit (webhook, new purchase)", 1, "one transaction", lambda: call(webhook.handler, first, "webhook")
        )
        assert answer["outcome"] == "credited", answer
        answer = count(
            "credit, the same event again",
            1,
            "that transaction, refused by its condition",
            lambda: call(webhook.handler, first, "webhook"),
        )
        assert answer["outcome"] == "duplicate", answer
        other = webhook_event(secret, "checkout.session.async_payment_succeeded", paid[0])
        answer = count(
            "credit, same payment in another event",
            1,
            "refused by the lot's condition",
            lambda: call(webhook.handler, other, "webhook"),
        )
        assert answer["outcome"] == "duplicate", answer
        for session in paid[1:]:
            call(webhook.handler, webhook_event(secret, "checkout.session.completed", session), "webhook")

        redeem = session_event(email, 30, "bench-1")
        count(
            "redeem (POST /api/sessions)", 2, "read the lots, one transaction", lambda: call(api.handler, redeem, "api")
        )
        count(
            "redeem retried, same session id",
            3,
            "read, refused transaction, read the first outcome",
            lambda: call(api.handler, redeem, "api"),
        )
        token = links.make_balance_token(email, os.environ["BLOCKHOURS_LINK_SECRET"])
        balance = api_event("GET", "/api/balance", query={"t": token})
        count("balance read (GET /api/balance, link)", 1, "one query", lambda: call(client.handler, balance, "client"))
        staff = api_event("GET", f"/api/customers/{email}", staff=True)
        count("staff customer read (GET /api/customers)", 1, "one query", lambda: call(api.handler, staff, "api"))
        ask = api_event("POST", "/api/refunds", body=json.dumps({"t": token}))
        refund = count(
            "refund request (POST /api/refunds)",
            2,
            "read the lots, one transaction",
            lambda: call(client.handler, ask, "client", status=202),
        )
        job = refund_job_event(email, refund["refund_id"])
        count(
            "refund worker (one SQS message)",
            1 + len(paid),
            "read the refund, one transaction per lot",
            lambda: call(refunds.handler, job, "refunds"),
            per=len(paid),
        )
        done = wiring.ledger().find(refund_ref(email, refund["refund_id"]))
        assert done is not None and done.status == "succeeded" and len(done.parts) == len(paid), done

        # The sweep: idle clients who bought long ago, first inside the warning period, then past their refund date.
        catalog, store = wiring.catalog(), wiring.ledger()
        policy = catalog.refunds
        now = int(time.time())
        bought = now - (policy.stale_after_days - policy.warning_days // 2) * DAY
        for n in range(IDLE_CLIENTS):
            idle = checkout_session(created=bought, metadata={"email": f"idle-{n}@example.com"})
            call(webhook.handler, webhook_event(secret, "checkout.session.completed", idle), "webhook")
        count(
            "sweep, nothing due",
            1,
            "one index query",
            lambda: services.sweep(catalog, store, bought),
        )
        report = count(
            f"sweep, {IDLE_CLIENTS} clients to warn",
            1 + IDLE_CLIENTS,
            "index query, then each warning written (its entry with warned_for)",
            lambda: services.sweep(catalog, store, now),
            per=IDLE_CLIENTS,
        )
        assert len(report.warned) == IDLE_CLIENTS, report
        later = now + policy.warning_days * DAY
        report = count(
            f"sweep, {IDLE_CLIENTS} idle balances refunded",
            1 + 2 * IDLE_CLIENTS,
            "index query, then per account: read the lots, one transaction",
            lambda: services.sweep(catalog, store, later),
            per=IDLE_CLIENTS,
        )
        assert len(report.refunded) == IDLE_CLIENTS, report
    return trips


def show(trips: list[Trip]) -> None:
    print("DynamoDB round trips per operation (botocore before-call hooks on the handlers' DynamoDB client;")
    print("read: items DynamoDB read for it, from each answer's ScannedCount or Item)")
    print(f"  {'operation':<42} {'calls':>5} {'target':>6} {'read':>5}   calls made / what the target allows")
    for trip in trips:
        mark = "   <-- ABOVE TARGET" if trip.missed else ""
        retried = f"  ({trip.sends - trip.calls} retried)" if trip.sends > trip.calls else ""
        print(f"  {trip.label:<42} {trip.calls:>5} {trip.target:>6} {trip.items:>5}   {trip.detail}{retried}{mark}")
        why = f"target: {trip.why}"
        if trip.per > 1:
            unit = "lot" if "worker" in trip.label else "due account"
            extra, goal = (trip.calls - 1) / trip.per, (trip.target - 1) / trip.per
            why += f"; per {unit}: {extra:.1f} calls after the first (target {goal:.1f})"
        print(f"  {'':<63}{why}")


def misses(trips: list[Trip]) -> list[str]:
    """Each operation whose round trips rose above its target, with both counts."""
    return [f"{trip.label}: {trip.calls} calls, target {trip.target}" for trip in trips if trip.missed]


def report_misses(missed: list[str]) -> int:
    """Says loudly which targets were missed; the exit status for them."""
    for line in missed:
        print(f"ROUND-TRIP TARGET MISSED: {line}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    import harness

    harness.quiet()
    found = measure()
    show(found)
    sys.exit(report_misses(misses(found)))
