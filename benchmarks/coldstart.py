"""Cold start: the CPU a fresh interpreter spends importing each handler, against a bare `import boto3` in the same run.

Alone: `python benchmarks/coldstart.py [--runs 7] [--python /path/to/python3.12]` exits 1 when a handler misses TARGET.
The interpreter needs the functions' requirements (functions/requirements.txt and boto3); Lambda runs Python 3.12.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = 1.3  # issue 17: every handler's import within 1.3x a bare `import boto3`
# The same figure before issue 17's changes to the imports: this script with --functions on a checkout of 95f2cce,
# Python 3.12.1, median of 7, on the machine docs/performance.md describes (2026-12-06).
BEFORE = {
    "checkout": 2.37,
    "webhook": 2.76,
    "api": 2.33,
    "client": 2.36,
    "outbox": 2.08,
    "refunds": 2.46,
    "sweep": 2.25,
    "pulls": 2.19,
    "jobs": 2.20,
    "missing_page": 1.77,
}
NEEDS_STRIPE = {"checkout", "refunds", "webhook"}  # the handlers that call Stripe at all
IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)")
# boto3 first, always: every function's first event reads or writes AWS, so a handler that leaves boto3 to its first
# call has not saved it, only moved it. What is measured is the handler's cost on top of boto3's.
PROBE = "import sys\nimport boto3\nimport {module}\nprint('stripe' in sys.modules)\n"


def lambda_python() -> tuple[str, str]:
    """Lambda's Python for the import figures, and what to say when it is not: BLOCKHOURS_BENCH_PYTHON, else the
    Python 3.12 virtualenv `make bench` makes (.build/lambda-host), else this interpreter."""
    chosen = os.environ.get("BLOCKHOURS_BENCH_PYTHON") or str(REPO / ".build" / "lambda-host" / "bin" / "python")
    if Path(chosen).exists():
        return chosen, ""
    return sys.executable, f"no Python 3.12 virtualenv at {chosen}: measured with {sys.executable} instead"


def handlers() -> list[str]:
    """Every function's handler module in template.yaml, in order."""
    text = (REPO / "template.yaml").read_text(encoding="utf-8")
    found = re.findall(r"^\s+Handler:\s*(\S+)\.\w+\s*$", text, re.M)
    return list(dict.fromkeys(found))


FUNCTIONS = str(REPO / "functions")  # --functions: another checkout's, to compare before and after


def _environment() -> dict[str, str]:
    """Only what `sam build` ships on the path; no LAMBDA_TASK_ROOT, so Powertools' Tracer is off (see show())."""
    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": FUNCTIONS, "AWS_REGION": "us-east-1"}


def _cpu_ms(python: str, module: str, sources: str = "") -> tuple[float, bool]:
    """User + system CPU of one fresh interpreter importing `module`, and whether Stripe's SDK came with it; with
    `sources`, from that PYTHONPATH of sources alone, writing no bytecode."""
    env = _environment() | ({"PYTHONPATH": sources, "PYTHONDONTWRITEBYTECODE": "1"} if sources else {})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    answer = subprocess.run(
        [python, "-c", PROBE.format(module=module)], env=env, capture_output=True, text=True, check=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return spent * 1000, answer.stdout.strip() == "True"


def _self_times(python: str, module: str) -> dict[str, float]:
    """Each module's own import time in ms (`-X importtime`, which slows the import: not used for the ratio)."""
    answer = subprocess.run(
        [python, "-X", "importtime", "-c", f"import {module}"],
        env=_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return {found[2]: int(found[1]) / 1000 for line in answer.stderr.splitlines() if (found := IMPORTTIME.match(line))}


# What the Lambda runtime itself provides (with its bytecode): boto3 and what it needs. The rest ships in our zips.
RUNTIME_PROVIDES = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"}


def as_sources(python: str, into: Path, functions: str | None = None) -> str:
    """A PYTHONPATH that holds our package and the layer's packages as source alone, as `sam build` shipped them
    before it compiled bytecode; PYTHONDONTWRITEBYTECODE keeps it so, as Lambda's read-only task root does."""
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    layer = into / "layer"
    layer.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for entry in Path(purelib).iterdir():
        top = entry.name.split(".")[0].split("-")[0]
        if entry.suffix in (".dist-info", ".pth") or top in RUNTIME_PROVIDES or top.startswith(("_", "pip")):
            continue
        if entry.is_dir():
            shutil.copytree(entry, layer / entry.name, ignore=ignore)
        elif entry.suffix in (".py", ".so"):
            shutil.copy2(entry, layer / entry.name)
    shutil.copytree(Path(functions or FUNCTIONS) / "blockhours", into / "task" / "blockhours", ignore=ignore)
    return f"{into / 'task'}:{layer}"


def bytecode(runs: int, python: str) -> list[tuple[str, float, float]]:
    """Each handler's cold import with bytecode (as `sam build` ships now) and from source alone (as it did)."""
    compiled: dict[str, list[float]] = defaultdict(list)
    source: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as scratch:
        sources_path = as_sources(python, Path(scratch))
        for _ in range(runs):
            for module in handlers():
                compiled[module].append(_cpu_ms(python, module)[0])
                source[module].append(_cpu_ms(python, module, sources_path)[0])
    return [(m, statistics.median(compiled[m]), statistics.median(source[m])) for m in handlers()]


def show_bytecode(found: list[tuple[str, float, float]], runs: int) -> None:
    print(f"Bytecode in the zip: each handler's cold import (CPU, median of {runs}), compiled vs source alone")
    print(f"  {'handler':<36} {'bytecode':>9} {'source':>8} {'saved':>7}")
    for module, compiled, source in found:
        print(f"  {module:<36} {compiled:>6.0f} ms {source:>5.0f} ms {source - compiled:>4.0f} ms")


@dataclass(frozen=True)
class ColdImport:
    module: str
    ms: float  # median CPU of the handler's interpreter
    boto3_ms: float  # median CPU of the bare `import boto3` interpreters paired with it
    ratio: float  # median of the per-run ratios
    stripe: bool
    heaviest: list[tuple[str, float]]  # the five modules with the most own import time that boto3 does not load


def measure_all(runs: int, python: str | None = None, profiles: int = 3) -> list[ColdImport]:
    """Each run: per handler, a bare `import boto3` and then the handler, so a busy moment slows both alike."""
    python = python or sys.executable
    modules = handlers()
    pairs: dict[str, list[tuple[float, float, bool]]] = defaultdict(list)
    for _ in range(runs):
        for module in modules:
            baseline, _ = _cpu_ms(python, "boto3")
            spent, stripe = _cpu_ms(python, module)
            pairs[module].append((baseline, spent, stripe))
    boto3_own = set(_self_times(python, "boto3"))
    found = []
    for module in modules:
        samples = [_self_times(python, module) for _ in range(profiles)]
        extra = {name for sample in samples for name in sample} - boto3_own
        typical = {name: statistics.median(s.get(name, 0.0) for s in samples) for name in extra}
        heaviest = sorted(typical.items(), key=lambda kv: -kv[1])[:5]
        runs_of = pairs[module]
        found.append(
            ColdImport(
                module,
                statistics.median(spent for _, spent, _ in runs_of),
                statistics.median(base for base, _, _ in runs_of),
                statistics.median(spent / base for base, spent, _ in runs_of),
                runs_of[-1][2],
                heaviest,
            )
        )
    return found


def show(found: list[ColdImport], runs: int, python: str | None = None) -> list[str]:
    """Print each handler's ratio beside the target and its five heaviest imports; return the handlers that miss."""
    version = subprocess.run(
        [python or sys.executable, "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(
        f"Cold start: CPU (user+sys) of a fresh interpreter importing each handler, median of {runs} runs, each paired"
        f" with a bare `import boto3` (python {version}; tracing off as outside Lambda: no X-Ray SDK)"
    )
    heading = f"  {'handler':<36} {'CPU':>7} {'boto3':>7} {'ratio':>6} {'before':>7} {'target':>7}"
    print(f"{heading}        stripe?  top 5 imports beyond boto3's (own ms)")
    misses = []
    for item in found:
        name = item.module.rsplit(".", 1)[-1]
        needless = item.stripe and name not in NEEDS_STRIPE
        stripe = ("YES, not needed" if needless else "yes") if item.stripe else "no"
        verdict = "ok" if item.ratio <= TARGET else "MISS"
        if item.ratio > TARGET:
            misses.append(item.module)
        heavy = ", ".join(f"{module} {ms:.0f}" for module, ms in item.heaviest)
        print(
            f"  {item.module:<36} {item.ms:>4.0f} ms {item.boto3_ms:>4.0f} ms {item.ratio:>5.2f}x"
            f" {BEFORE.get(name, 0):>6.2f}x {'<= ' + str(TARGET):>7} {verdict:<4} {stripe:<7}  {heavy}"
        )
    print(f"  Handlers above {TARGET}x boto3: {', '.join(misses) or 'none'}")
    return misses


def main() -> int:
    global FUNCTIONS  # one setting for every probe of this run
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--python", default=os.environ.get("BLOCKHOURS_BENCH_PYTHON", sys.executable))
    parser.add_argument("--functions", default=FUNCTIONS, help="another checkout's functions/, to compare")
    parser.add_argument("--bytecode", action="store_true", help="also: each import with bytecode vs source alone")
    args = parser.parse_args()
    FUNCTIONS = args.functions
    if args.bytecode:
        show_bytecode(bytecode(args.runs, args.python), args.runs)
    misses = show(measure_all(args.runs, args.python), args.runs, args.python)
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
