"""Blockhours figures: DynamoDB round trips per operation, the handlers' cold imports, the sweep against table size,
and credits and redemptions per second through the handlers, with where that time goes.

Run with `make bench` (or `.venv/bin/python benchmarks/run.py`; `--quick` stops the sweep at 10,000 accounts and
times fewer imports). Everything runs on this machine against the embedded AWS (moto); nothing here is a pass/fail
test. docs/performance.md keeps the latest figures and what they mean for the shop.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable

import harness

harness.quiet()  # before any handler module is imported

import coldstart  # noqa: E402
import roundtrips  # noqa: E402
import sweepsize  # noqa: E402
import throughput  # noqa: E402

SIZES = (1_000, 10_000, 100_000)
SEED_BUDGET_SECONDS = 120.0  # moto takes ~1 ms an item: stop growing the table past this, and say so
IMPORT_RUNS = 5
OPERATIONS, BATCH, PROFILED = 20, 10, 10


def machine() -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=harness.ROOT)
    dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, cwd=harness.ROOT)
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    return (
        f"{platform.node()}: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), python"
        f" {platform.python_version()}, {platform.system()} {platform.release()}; load average {load};"
        f" commit {commit.stdout.strip()}{' + uncommitted changes' if dirty.stdout.strip() else ''}"
    )


def section(title: str, work: Callable[[], None]) -> None:
    started = time.perf_counter()
    work()
    print(f"  [{title}: {time.perf_counter() - started:.0f} s]\n", flush=True)


def main() -> None:
    quick = "--quick" in sys.argv
    started = time.perf_counter()
    print(f"Blockhours benchmarks, {time.strftime('%Y-%m-%d %H:%M %Z')}\n{machine()}\n", flush=True)
    section("round trips", lambda: roundtrips.show(roundtrips.measure()))
    runs = 3 if quick else IMPORT_RUNS
    section("cold start", lambda: coldstart.show(coldstart.measure_all(runs), runs))
    sizes = SIZES[:2] if quick else SIZES
    section("sweep", lambda: sweepsize.show(sweepsize.measure(sizes, SEED_BUDGET_SECONDS)))
    section(
        "throughput",
        lambda: throughput.show(throughput.timed(OPERATIONS, BATCH), throughput.profiled(PROFILED), BATCH),
    )
    print(f"benchmarks/run.py took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
