"""Blockhours figures: DynamoDB round trips per operation and the cold import cost of each handler.

Run with `make bench`. Prints a table; nothing here is a pass/fail test.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
HANDLERS = [
    "blockhours.handlers.api",
    "blockhours.handlers.checkout",
    "blockhours.handlers.webhook",
    "blockhours.handlers.client",
    "blockhours.handlers.outbox",
]
RUNS = 7


def import_ms(module: str) -> float:
    """Median wall time to import `module` in a fresh interpreter (no bytecode compile: caches are warm)."""
    code = f"import time; t = time.perf_counter(); import {module}; print((time.perf_counter() - t) * 1000)"
    samples = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(RUNS)
    ]
    return statistics.median(samples)


def round_trips() -> dict[str, int]:
    from blockhours import wiring
    from blockhours.local import LocalContext, LocalStack
    from stripe_events import checkout_session, event, signed

    stack = LocalStack(port=0, with_site=False).start()
    calls: list[str] = []
    try:
        wiring.ledger().client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
        from blockhours.handlers import webhook

        secret = os.environ["STRIPE_WEBHOOK_SECRET"]
        from blockhours.standin.payments import paid_intent

        assert stack.standin is not None
        intent = paid_intent(stack.standin, 12900)  # a real payment at the stand-in, so the refund can succeed
        session = checkout_session(payment_intent=intent, metadata={"email": "bench@example.com"})
        paid = event("checkout.session.completed", session)
        body, header = signed(paid, secret)
        request_event: dict[str, Any] = {
            "version": "2.0",
            "rawPath": "/api/stripe/webhook",
            "rawQueryString": "",
            "headers": {"stripe-signature": header, "content-type": "application/json"},
            "requestContext": {"http": {"method": "POST", "path": "/api/stripe/webhook"}, "stage": "$default"},
            "body": body.decode(),
            "isBase64Encoded": False,
        }
        figures = {}
        for label in ("webhook credit (new purchase)", "webhook credit (duplicate delivery)"):
            calls.clear()
            answer = webhook.handler(request_event, LocalContext("webhook"))  # type: ignore[arg-type]
            assert answer["statusCode"] == 200, answer
            figures[label] = len(calls)
        from blockhours import services

        calls.clear()
        request = services.SessionRequest("bench@example.com", 30, "bench", "", "bench-1")
        services.redeem(wiring.catalog(), wiring.ledger(), wiring.gateway, request)
        figures["session (redeem, within the balance)"] = len(calls)
        calls.clear()
        services.redeem(wiring.catalog(), wiring.ledger(), wiring.gateway, request)
        figures["session retried with the same id"] = len(calls)
        calls.clear()
        services.customer_ledger(wiring.ledger(), "bench@example.com")
        figures["staff customer read"] = len(calls)
        stack.stop_workers()  # so the refund is left for the worker step measured here
        calls.clear()
        refund = services.request_refund(wiring.catalog(), wiring.ledger(), "bench@example.com", "staff", "bench")
        figures["refund request"] = len(calls)
        calls.clear()
        services.process_refund(wiring.ledger(), wiring.gateway(), "bench@example.com", refund.refund_id)
        figures["refund worker (one lot)"] = len(calls)
        return figures
    finally:
        stack.stop()


def main() -> None:
    print("DynamoDB round trips per operation (botocore before-call hooks)")
    targets = {
        "webhook credit (new purchase)": 1,
        "webhook credit (duplicate delivery)": 1,
        "session (redeem, within the balance)": 2,
        "session retried with the same id": 3,
        "staff customer read": 1,
        "refund request": 2,
        "refund worker (one lot)": 2,
    }
    for label, count in round_trips().items():
        print(f"  {label:<40} {count:>3}   target {targets[label]}")
    print(f"\nCold import, median of {RUNS} fresh interpreters (python {sys.version.split()[0]})")
    baseline = import_ms("boto3")
    print(f"  {'import boto3':<40} {baseline:7.0f} ms   1.00x")
    for module in HANDLERS:
        ms = import_ms(module)
        print(f"  {module:<40} {ms:7.0f} ms   {ms / baseline:.2f}x")
    probe = "import sys, blockhours.handlers.api; print('stripe' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    print(f"\n  the api handler imports stripe: {loaded}")


if __name__ == "__main__":
    main()
