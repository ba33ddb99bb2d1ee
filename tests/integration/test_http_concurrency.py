"""Concurrency through the HTTP handlers: many threads against one account, then every cent accounted for.

Twelve threads send redemptions (POST /api/sessions), refund requests (the client's POST /api/refunds with
their link, staff POST /api/customers/{email}/refund), credits (signed checkout.session.completed for new
payments) and balance reads to the local stack at once, interleaved, while its refund worker sends refunds to
the Stripe stand-in.

Like Lambda, the local server runs one request per function at a time (one "container" per function, see
LambdaRoutes in blockhours/local.py): two staff requests never overlap. The races at the DynamoDB level are
therefore between functions: staff sessions and refunds (the api function) against the client's refunds
(client) against credits (webhook) against the refund worker, which is what happens in AWS too, where every
request may land in its own container.
"""

from __future__ import annotations

import os
import random
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from threading import Barrier, Lock
from typing import Any

import requests

from blockhours import links, wiring
from blockhours.services.reconcile_checks import check_account
from blockhours_dev.local import LocalStack
from blockhours_dev.standin.payments import paid_intent
from stripe_events import checkout_session, event, opened, signed, stack_store

THREADS = 12


@dataclass
class Outcomes:
    """What the API said yes to, as the callers saw it; the ledger must hold exactly this."""

    credited: list[tuple[int, int]] = field(default_factory=list)  # (minutes, cents)
    sessions: list[tuple[int, int]] = field(default_factory=list)  # (billed minutes, covered cents)
    refunds: list[tuple[int, int]] = field(default_factory=list)  # (minutes, cents)
    refused: dict[str, int] = field(default_factory=dict)
    lock: Lock = field(default_factory=Lock)

    def add(self, kind: str, row: tuple[int, int]) -> None:
        with self.lock:
            getattr(self, kind).append(row)

    def refuse(self, code: str) -> None:
        with self.lock:
            self.refused[code] = self.refused.get(code, 0) + 1


def credit_event(stack: LocalStack, email: str, minutes: int, cents: int) -> tuple[bytes, str]:
    """A new payment, really received by the Stripe stand-in, as Stripe signs its event."""
    assert stack.standin is not None
    session = checkout_session(
        amount_total=cents,
        amount_subtotal=cents,
        payment_intent=paid_intent(stack.standin, cents),
        metadata={"email": email, "minutes": str(minutes)},
    )
    opened(stack_store(stack), session)
    return signed(event("checkout.session.completed", session), stack.standin.webhook_secret)


def customer(stack: LocalStack, email: str) -> dict[str, Any]:
    answer = requests.get(f"{stack.url}/api/customers/{email}", timeout=30)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def operations(stack: LocalStack, email: str, seen: Outcomes) -> list[Callable[[], None]]:
    """Redemptions, refunds, credits and reads, shuffled; each records what the API accepted."""
    api, rng = stack.url, random.Random(8)  # a fixed shuffle: a failure can be replayed
    link = links.make_balance_token(email, os.environ["BLOCKHOURS_LINK_SECRET"])

    def redeem(minutes: int) -> Callable[[], None]:
        def call() -> None:
            body = {"email": email, "minutes": minutes, "technician": "Sam", "session_id": secrets.token_hex(8)}
            answer = requests.post(f"{api}/api/sessions", json=body, timeout=60)
            if answer.status_code == 200:
                seen.add("sessions", (answer.json()["billed_minutes"], answer.json()["covered_cents"]))
            else:
                assert answer.status_code == 409, answer.text
                seen.refuse(answer.json()["error"])

        return call

    def refund(staff_minutes: int | None) -> Callable[[], None]:
        def call() -> None:
            if staff_minutes is None:
                answer = requests.post(f"{api}/api/refunds", json={"t": link}, timeout=60)
            else:
                body = {"minutes": staff_minutes, "technician": "owner"}
                answer = requests.post(f"{api}/api/customers/{email}/refund", json=body, timeout=60)
            if answer.status_code == 202:
                seen.add("refunds", (answer.json()["minutes"], answer.json()["amount_cents"]))
            else:
                assert answer.status_code == 409, answer.text
                seen.refuse(answer.json()["error"])

        return call

    def credit(minutes: int, cents: int) -> Callable[[], None]:
        body, header = credit_event(stack, email, minutes, cents)  # made here: the stand-in is not shared state

        def call() -> None:
            headers = {"Stripe-Signature": header, "Content-Type": "application/json"}
            answer = requests.post(f"{api}/api/stripe/webhook", data=body, headers=headers, timeout=60)
            assert answer.status_code == 200 and answer.json()["outcome"] == "credited", answer.text
            seen.add("credited", (minutes, cents))

        return call

    def read() -> None:
        answer = requests.get(f"{api}/api/balance", params={"t": link}, timeout=60)
        assert answer.status_code == 200, answer.text
        assert answer.json()["balance_minutes"] >= 0 and answer.json()["balance_cents"] >= 0

    calls = [redeem(rng.choice([15, 30, 45, 60, 90])) for _ in range(24)]
    calls += [refund(None) for _ in range(4)] + [refund(rng.choice([15, 30, 45])) for _ in range(8)]
    calls += [credit(*rng.choice([(30, 6900), (60, 12900), (300, 57900), (45, 10001)])) for _ in range(10)]
    calls += [read] * 6
    rng.shuffle(calls)
    return calls


def wait_for_refunds(stack: LocalStack, email: str, seconds: float = 15) -> dict[str, Any]:
    """The customer's ledger once the refund worker has sent every part to Stripe (or the time is up)."""
    deadline = time.monotonic() + seconds
    while True:
        ledger = customer(stack, email)
        waiting = [p for r in ledger["refunds"] for p in r["parts"] if p["status"] == "requested"]
        if not waiting or time.monotonic() > deadline:
            return ledger
        time.sleep(0.2)


def test_many_threads_against_one_account_lose_and_create_nothing(stack: LocalStack) -> None:
    email = f"crowd-{secrets.token_hex(3)}@example.com"
    seen = Outcomes()
    for minutes, cents in [(60, 12900), (300, 57900)]:  # something to start from
        body, header = credit_event(stack, email, minutes, cents)
        headers = {"Stripe-Signature": header, "Content-Type": "application/json"}
        assert requests.post(f"{stack.url}/api/stripe/webhook", data=body, headers=headers, timeout=30).ok
        seen.add("credited", (minutes, cents))
    calls = operations(stack, email, seen)
    start = Barrier(THREADS)

    def run(batch: list[Callable[[], None]]) -> None:
        start.wait()
        for call in batch:
            call()

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(run, [calls[i::THREADS] for i in range(THREADS)]))

    ledger = wait_for_refunds(stack, email)
    account, lots = ledger["account"], ledger["lots"]
    assert seen.sessions and seen.refunds, f"the storm should have both sessions and refunds: {seen.refused}"

    # no overdraft, and no lot gave more than it held
    assert account["available_minutes"] >= 0 and account["available_cents"] >= 0
    for lot in lots:
        assert lot["used_minutes"] + lot["refunded_minutes"] <= lot["minutes"], lot
        assert lot["consumed_cents"] + lot["refunded_cents"] <= lot["amount_cents"], lot
        assert lot["remaining_minutes"] >= 0 and lot["remaining_cents"] >= 0, lot
    open_lots = [lot for lot in lots if lot["closed_at"] is None]
    assert account["available_minutes"] == sum(lot["remaining_minutes"] for lot in open_lots)
    assert account["available_cents"] == sum(lot["remaining_cents"] for lot in open_lots)

    # every yes the callers got is in the ledger, and nothing else is
    assert account["paid_cents"] == sum(lot["amount_cents"] for lot in lots) == sum(c for _, c in seen.credited)
    assert sorted((lot["minutes"], lot["amount_cents"]) for lot in lots) == sorted(seen.credited)
    assert sum(lot["used_minutes"] for lot in lots) == sum(m for m, _ in seen.sessions)
    assert sum(lot["consumed_cents"] for lot in lots) == sum(c for _, c in seen.sessions)
    assert sum(lot["refunded_minutes"] for lot in lots) == sum(m for m, _ in seen.refunds)
    assert sum(lot["refunded_cents"] for lot in lots) == sum(c for _, c in seen.refunds)
    kinds = [entry["kind"] for entry in ledger["entries"]]
    assert (kinds.count("purchase"), kinds.count("redemption")) == (len(seen.credited), len(seen.sessions))
    assert kinds.count("refund-requested") == len(seen.refunds)

    # the worker has caught up: Stripe refunded exactly what the ledger says, once per part
    parts = [part for refund in ledger["refunds"] for part in refund["parts"]]
    assert {part["status"] for part in parts} == {"succeeded"}, parts
    assert (account["refunding_cents"], account["refunded_cents"]) == (0, sum(c for _, c in seen.refunds))
    assert stack.standin is not None
    ours = {lot["payment_intent"] for lot in lots}
    at_stripe = [r for r in list(stack.standin.refunds.values()) if r["payment_intent"] in ours]
    assert sorted(r["amount"] for r in at_stripe) == sorted(part["amount_cents"] for part in parts)

    checked = wiring.ledger().customer(email)  # reconcile's check of this account (the table is shared)
    assert checked is not None and check_account(checked, wiring.gateway()) == []
