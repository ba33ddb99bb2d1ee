"""Cold start: what importing each handler costs a fresh interpreter, against a bare `import boto3`."""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass

HANDLERS = ("api", "checkout", "client", "outbox", "refunds", "sweep", "webhook")
NEEDS_STRIPE = {"checkout", "refunds", "webhook"}  # the handlers that call Stripe at all
PROBE = (
    "import sys, time\n"
    "t = time.perf_counter()\n"
    "import {module}\n"
    "print((time.perf_counter() - t) * 1000, 'stripe' in sys.modules)\n"
)
IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s+(\S+)")


@dataclass(frozen=True)
class ColdImport:
    module: str
    ms: float  # median
    spread: tuple[float, float]  # fastest, slowest run
    stripe: bool
    heaviest: list[tuple[str, float]]  # top-level packages by the time their own modules took to run, ms


def _once(module: str) -> tuple[float, bool, dict[str, float]]:
    """One fresh interpreter: the import's wall time, whether Stripe's SDK came with it, and (from
    `-X importtime`, which costs the import a few ms) each top-level package's own share of it."""
    probe = [sys.executable, "-X", "importtime", "-c", PROBE.format(module=module)]
    answer = subprocess.run(probe, capture_output=True, text=True, check=True)
    ms, stripe = answer.stdout.split()
    own: dict[str, float] = defaultdict(float)
    for line in answer.stderr.splitlines():
        if found := IMPORTTIME.match(line):
            own[found[2].split(".")[0]] += int(found[1]) / 1000
    return float(ms), stripe == "True", own


def _summary(module: str, samples: list[tuple[float, bool, dict[str, float]]]) -> ColdImport:
    times = [ms for ms, _, _ in samples]
    packages = {name for _, _, own in samples for name in own}
    typical = {name: statistics.median(own.get(name, 0.0) for _, _, own in samples) for name in packages}
    heaviest = sorted(typical.items(), key=lambda kv: -kv[1])[:4]
    return ColdImport(module, statistics.median(times), (min(times), max(times)), samples[-1][1], heaviest)


def measure_all(runs: int) -> list[ColdImport]:
    """boto3 and every handler, taken in turns (one of each per round), so a busy moment slows them all alike."""
    modules = ["boto3"] + [f"blockhours.handlers.{name}" for name in HANDLERS]
    samples: dict[str, list[tuple[float, bool, dict[str, float]]]] = {module: [] for module in modules}
    for _ in range(runs):
        for module in modules:
            samples[module].append(_once(module))
    return [_summary(module, found) for module, found in samples.items()]


def show(found: list[ColdImport], runs: int) -> None:
    baseline = found[0].ms
    print(
        f"Cold start: import time in a fresh interpreter, median of {runs} runs each (python {sys.version.split()[0]})"
    )
    print(f"  {'module':<30} {'median':>8} {'range':>13} {'x boto3':>8}   stripe?  heaviest packages (own time)")
    for item in found:
        name = item.module.rsplit(".", 1)[-1]
        if item.module == "boto3":
            stripe = "-"
        elif item.stripe:
            stripe = "yes" if name in NEEDS_STRIPE else "YES, not needed"
        else:
            stripe = "no" if name not in NEEDS_STRIPE else "no (lazy)"
        spread = f"{item.spread[0]:.0f}-{item.spread[1]:.0f} ms"
        heavy = ", ".join(f"{package} {ms:.0f}" for package, ms in item.heaviest)
        print(f"  {item.module:<30} {item.ms:>5.0f} ms {spread:>13} {item.ms / baseline:>7.2f}x   {stripe:<7}  {heavy}")
    needless = [i.module for i in found[1:] if i.stripe and i.module.rsplit(".", 1)[-1] not in NEEDS_STRIPE]
    print(
        "  stripe?: is `stripe` in sys.modules after the import (only checkout, refunds and webhook call Stripe)."
        f" Handlers importing it without needing it: {', '.join(needless) or 'none'}"
    )
