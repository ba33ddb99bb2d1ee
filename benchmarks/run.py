"""Blockhours figures: DynamoDB round trips per operation, a session's latency end to end by step, the handlers'
cold imports, the sweep against table size, and credits and redemptions per second, with where that time goes.

Run with `make bench` (or `.venv/bin/python benchmarks/run.py`; `--quick` stops the sweep at 10,000 accounts and
times fewer imports). Everything runs on this machine against the embedded AWS (moto). After printing every figure
it exits 1 if a DynamoDB round-trip count rose above its target. docs/performance.md keeps the figures' meaning.
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
import firstrequest  # noqa: E402
import latency  # noqa: E402
import roundtrips  # noqa: E402
import sweepsize  # noqa: E402
import throughput  # noqa: E402

SIZES = (1_000, 10_000, 100_000)
SEED_BUDGET_SECONDS = 120.0  # moto takes ~1 ms an item: stop growing the table past this, and say so
IMPORT_RUNS = 5
LATENCY_RUNS = 7
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
    missed: list[str] = []

    def round_trips() -> None:
        trips = roundtrips.measure()
        roundtrips.show(trips)
        missed.extend(roundtrips.misses(trips))

    def sweep_at_size() -> None:
        found = sweepsize.measure(sizes, SEED_BUDGET_SECONDS)
        sweepsize.show(found)
        missed.extend(sweepsize.misses(found))

    section("round trips", round_trips)
    section("latency", lambda: latency.show(latency.measure(LATENCY_RUNS)))
    runs = 3 if quick else IMPORT_RUNS
    python, caveat = coldstart.lambda_python()
    if caveat:
        print(f"  ({caveat})")
    section("cold start", lambda: coldstart.show(coldstart.measure_all(runs, python), runs, python))
    section("first request", lambda: firstrequest.show(firstrequest.measure(runs, python), runs))
    section("bytecode", lambda: coldstart.show_bytecode(coldstart.bytecode(runs, python), runs))
    sizes = SIZES[:2] if quick else SIZES
    section("sweep", sweep_at_size)
    section(
        "throughput",
        lambda: throughput.show(throughput.timed(OPERATIONS, BATCH), throughput.profiled(PROFILED), BATCH),
    )
    print(f"benchmarks/run.py took {time.perf_counter() - started:.0f} s")
    if roundtrips.report_misses(missed):  # every figure printed first, then the run fails
        sys.exit(1)


if __name__ == "__main__":
    main()
