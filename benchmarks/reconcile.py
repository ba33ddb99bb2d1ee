"""Reconcile at a shop's size on the local stack: N clients with 3 lots each, every Stripe call slowed to the
latency given, `blockhours reconcile` run as the owner runs it, and each function's Timeout from template.yaml
enforced by the local runtime. Prints how long the job took, in how many steps (invocations of the jobs function),
how many Stripe calls it made, and whether any step ran past its Timeout.

Run with `make bench` (or `.venv/bin/python benchmarks/reconcile.py [--clients N --latency-ms MS]`). Exits
non-zero if reconcile did not finish with every account agreeing, or a step timed out.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import harness

harness.quiet()  # before any handler module is imported

from blockhours import wiring  # noqa: E402
from blockhours_dev.local import LocalStack  # noqa: E402
from stripe_events import clients_with_hours  # noqa: E402

LOTS = 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--latency-ms", type=int, default=300)
    args = parser.parse_args()

    stack = LocalStack(port=0, with_site=False).start()
    try:
        assert stack.standin is not None and stack.lambdas is not None
        started = time.monotonic()
        clients_with_hours(wiring.ledger(), stack.standin, args.clients, LOTS)
        seeded = time.monotonic() - started
        stack.standin.latency_ms = args.latency_ms
        stack.standin.requests.clear()
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "blockhours_dev.cli", "reconcile", "--api", stack.url, "--wait", "1800"],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
            check=False,
        )
        took = time.monotonic() - started
        jobs = stack.lambdas.functions["JobsFunction"]
        stripe_calls = sum(1 for r in stack.standin.requests if r.path.startswith("/v1/"))
        print(f"reconcile of {args.clients} clients x {LOTS} lots, Stripe at {args.latency_ms} ms a call")
        print(f"  seeding the ledger      {seeded:6.1f} s")
        print(f"  blockhours reconcile    {took:6.1f} s  (exit {done.returncode})")
        print(
            f"  jobs function           {jobs.invocations} invocations, {jobs.timeouts} past its Timeout "
            f"({jobs.spec.timeout_seconds} s)"
        )
        print(
            f"  Stripe calls            {stripe_calls}  ({args.latency_ms * stripe_calls / 1000:.0f} s if one "
            "after another)"
        )
        print(f"  outcome                 {done.stdout.strip().splitlines()[-1] if done.stdout.strip() else '-'}")
        agreed = f"{args.clients} accounts checked against their lots, journal and Stripe: all agree" in done.stdout
        return 0 if done.returncode == 0 and agreed and jobs.timeouts == 0 else 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
