"""`make proof`: the ledger's state machine for 10,000 steps and more, over fixed seeds, with what it did.

Prints the steps run (each rule, by kind), the crashes injected (and how many of their retries came after Stripe
had forgotten the idempotency keys), the invariant breaks and the wall time; exits 1 on any break, or if fewer
steps ran than asked. A break is shrunk to its shortest history and printed (BLOCKHOURS_MODEL_SHRINK=0: at once).

    BLOCKHOURS_PROOF_STEPS=10000    steps in all, at least
    BLOCKHOURS_PROOF_SEEDS=1,2,3,4,5  the seeds, run in turn (more follow if the steps fall short)
    BLOCKHOURS_MODEL_STEPS=50       steps per history
"""

from __future__ import annotations

import math
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, as conftest.py has it
for name, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}.items():
    os.environ.setdefault(name, value)  # never a real AWS account nor Stripe

from hypothesis import HealthCheck, Phase, seed, settings  # noqa: E402
from hypothesis.stateful import run_state_machine_as_test  # noqa: E402

from model.machine import TALLY, LedgerMachine  # noqa: E402
from model.world import open_world  # noqa: E402

TARGET = int(os.environ.get("BLOCKHOURS_PROOF_STEPS", "10000"))
SEEDS = [int(s) for s in os.environ.get("BLOCKHOURS_PROOF_SEEDS", "1,2,3,4,5").split(",")]
STEPS = int(os.environ.get("BLOCKHOURS_MODEL_STEPS", "50"))
SHRINK = os.environ.get("BLOCKHOURS_MODEL_SHRINK", "1") == "1"


def run_seed(number: int, examples: int) -> int:
    """One seed's histories; the number of distinct invariant breaks it found."""
    try:
        run_state_machine_as_test(
            seed(number)(LedgerMachine),
            settings=settings(
                max_examples=examples,
                stateful_step_count=STEPS,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.generate, *([Phase.shrink] if SHRINK else [])],
            ),
        )
    except Exception as broken:
        traceback.print_exception(broken)
        return len(broken.exceptions) if isinstance(broken, BaseExceptionGroup) else 1
    return 0


def main() -> int:
    started = time.monotonic()
    breaks = 0
    queue = list(SEEDS)
    with open_world() as world:
        LedgerMachine.world = world
        while queue:
            number = queue.pop(0)
            examples = max(1, math.ceil(max(TARGET - TALLY.steps, 0) / (len(queue) + 1) / STEPS) + 1)
            before, clock = TALLY.steps, time.monotonic()
            found = run_seed(number, examples)
            breaks += found
            print(
                f"seed {number}: {examples} histories, {TALLY.steps - before} steps, {found} breaks, "
                f"{time.monotonic() - clock:.0f} s",
                flush=True,
            )
            if not queue and TALLY.steps < TARGET and not breaks:  # histories cut short: one seed more
                queue.append(number + 1)
    wall = time.monotonic() - started
    print(f"\nsteps run: {TALLY.steps} (asked for {TARGET} at least)")
    for rule, count in sorted(TALLY.rules.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {rule:<24} {count}")
    print("what the histories reached (summed at their ends):")
    for what, count in TALLY.reached.items():
        print(f"  {what:<32} {count}")
    print(f"crashes injected: {TALLY.crashes} (retried after Stripe forgot its keys: {TALLY.late_retries})")
    print(f"invariant breaks: {breaks}")
    print(f"wall time: {wall:.0f} s")
    return 1 if breaks or TALLY.steps < TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
