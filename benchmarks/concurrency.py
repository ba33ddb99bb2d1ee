"""Sixteen technicians at once against one client's balance: 1,000 sessions of 15 minutes, 100 hours to spend.

The balance is credited through the webhook handler (20 signed purchases of the 5-hour bundle), then 16 threads,
each with its own DynamoDB client, call `services.redeem` as the staff API does, against the embedded AWS. A
"busy" answer (the balance kept moving under a session) is sent again with the same session id, as the CLI does.
Exactly 400 sessions fit; every other must be refused and the ledger must still add up:
paid = consumed + left, in cents and in minutes, and no lot below zero.

Run with `make bench` (or `.venv/bin/python benchmarks/concurrency.py [--sessions N --threads N]`). It exits
non-zero if more sessions were recorded than the balance affords, the balance went below zero, or the ledger
does not add up.
"""

from __future__ import annotations

import argparse
import queue
import secrets
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass

import harness

harness.quiet()  # before any handler module is imported

BUNDLES, BUNDLE_MINUTES, BUNDLE_CENTS = 20, 300, 57900  # catalog.yaml's bundle-300, bought 20 times: 100 hours
SESSION_MINUTES = 15
BUSY_RESENDS = 50  # a technician's client sends a "busy" session again; past this, it counts as refused


@dataclass(frozen=True)
class Outcome:
    code: str  # "recorded", or the refusal's code
    resends: int
    seconds: float


def credit(stack: object, email: str, bundles: int) -> None:
    from blockhours.handlers import webhook

    secret = stack.standin.webhook_secret  # type: ignore[attr-defined]
    for _ in range(bundles):
        metadata = {"email": email, "sku": "bundle-300", "kind": "block", "minutes": str(BUNDLE_MINUTES)}
        session = harness.checkout_session(amount_total=BUNDLE_CENTS, amount_subtotal=BUNDLE_CENTS, metadata=metadata)
        delivery = harness.webhook_event(secret, "checkout.session.completed", session)
        answer = harness.call(webhook.handler, delivery, "webhook")
        assert answer["outcome"] == "credited", answer


def redeem_all(table: str, email: str, sessions: int, threads: int) -> tuple[list[Outcome], float]:
    from blockhours import catalog, services
    from blockhours.adapters.dynamo import DynamoLedger
    from blockhours.ports import PaymentGateway

    book = catalog.load()
    work: queue.SimpleQueue[int] = queue.SimpleQueue()
    for number in range(sessions):
        work.put(number)
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def no_card() -> PaymentGateway:
        raise AssertionError("a block account's session never charges a card")

    start = threading.Barrier(threads + 1)

    def technician(index: int, ledger: DynamoLedger) -> None:
        start.wait()
        while True:
            try:
                number = work.get_nowait()
            except queue.Empty:
                return
            request = services.SessionRequest(email, SESSION_MINUTES, f"tech-{index}", "", f"bench-{number}")
            began, resends, code = time.perf_counter(), 0, "busy"
            while resends <= BUSY_RESENDS:
                try:
                    services.redeem(book, ledger, no_card, request)
                    code = "recorded"
                    break
                except services.ShopError as refused:
                    code = refused.code
                    if code != "busy":
                        break
                    resends += 1
            with lock:
                outcomes.append(Outcome(code, resends, time.perf_counter() - began))

    ledgers = [DynamoLedger(table) for _ in range(threads)]  # botocore clients are built one at a time
    workers = [threading.Thread(target=technician, args=(i, ledgers[i])) for i in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    return outcomes, time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=1_000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--bundles", type=int, default=BUNDLES, help="5-hour bundles on the balance (default 20)")
    args = parser.parse_args()

    from blockhours.adapters.dynamo import DynamoLedger

    email = f"contended-{secrets.token_hex(3)}@example.com"
    paid_minutes, paid_cents = args.bundles * BUNDLE_MINUTES, args.bundles * BUNDLE_CENTS
    affordable = paid_minutes // SESSION_MINUTES
    print(
        f"Concurrency: {args.sessions:,} sessions of {SESSION_MINUTES} min from {args.threads} threads against "
        f"one client holding {paid_minutes // 60} h (${paid_cents / 100:,.2f}); {affordable} fit",
        flush=True,
    )
    with harness.local_stack() as stack:
        credit(stack, email, args.bundles)
        outcomes, wall = redeem_all(stack.table, email, args.sessions, args.threads)
        ledger = DynamoLedger(stack.table).customer(email)
    assert ledger is not None

    codes = Counter(o.code for o in outcomes)
    recorded = [o for o in outcomes if o.code == "recorded"]
    redemptions = [e for e in ledger.entries if e.kind == "redemption"]
    used_minutes, used_cents = sum(e.minutes for e in redemptions), sum(e.amount_cents for e in redemptions)
    left_minutes, left_cents = ledger.account.available_minutes, ledger.account.available_cents
    latencies = sorted(o.seconds for o in recorded) or [0.0]
    median, p95 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.95)]
    problems = []
    if len(recorded) > affordable:
        problems.append(f"{len(recorded)} sessions recorded, but the balance affords {affordable}")
    if left_minutes < 0 or left_cents < 0 or any(lot.remaining_minutes < 0 for lot in ledger.lots):
        problems.append(f"the balance went below zero: {left_minutes} min, {left_cents} cents")
    if (paid_cents, paid_minutes) != (used_cents + left_cents, used_minutes + left_minutes):
        problems.append("paid != consumed + left")
    if len(redemptions) != len(recorded):
        problems.append(f"{len(recorded)} sessions recorded, but the journal holds {len(redemptions)} redemptions")

    refused = ", ".join(f"{code} {n}" for code, n in sorted(codes.items()) if code != "recorded") or "none"
    print(f"  attempted               {len(outcomes):>10,}")
    print(f"  succeeded               {len(recorded):>10,}   (expected affordable: {affordable})")
    print(f"  refused                 {len(outcomes) - len(recorded):>10,}   ({refused})")
    print(f"  busy answers resent     {sum(o.resends for o in outcomes):>10,}   (same session id, recorded once)")
    print(f"  final balance           {left_minutes:>10,} min  {left_cents:>10,} cents")
    print(
        f"  conservation            paid {paid_cents:,} = consumed {used_cents:,} + left {left_cents:,} cents; "
        f"{paid_minutes:,} = {used_minutes:,} + {left_minutes:,} min: "
        f"{'holds' if 'paid != consumed + left' not in problems else 'BROKEN'}"
    )
    print(
        f"  wall time               {wall:>10.1f} s   ({len(outcomes) / wall:.1f} sessions/s; recorded ones took "
        f"median {median * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms)"
    )
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
