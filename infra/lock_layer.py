"""Print functions/requirements.lock from the wheels `make lock` fetched for Lambda: each name==version and its sha256.

`make lock` downloads, for Lambda's platform (arm64, CPython 3.12), functions/requirements.txt at the versions the
tests run; `sam build` then installs exactly these files (pip --require-hashes), so the layer is what was tested.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

HEADER = """\
# The Lambda layer, exactly: every package `sam build` installs (functions/Makefile, pip --require-hashes),
# at the version the tests run, with the sha256 of its wheel for Lambda (arm64, CPython 3.12).
# Written by `make lock` from functions/requirements.txt; tests/infra/test_packaging.py keeps the two in step.
"""
# Lambda's Python runtime has boto3 and these under it: a second botocore in the layer would shadow the one that
# runtime's boto3 was built with (aws-xray-sdk, for the Tracer, asks for botocore).
RUNTIME_PROVIDES = frozenset({"botocore", "python-dateutil", "six"})


def lock_lines(folder: Path) -> list[str]:
    files = sorted(folder.iterdir())
    if not files or any(f.suffix != ".whl" for f in files):
        raise SystemExit(f"{folder}: expected only wheels, found {[f.name for f in files if f.suffix != '.whl']}")
    lines = []
    for wheel in files:
        name, version = wheel.name.split("-")[:2]
        if re.sub(r"[-_.]+", "-", name).lower() in RUNTIME_PROVIDES:
            continue
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        lines.append(f"{re.sub(r'[-_.]+', '-', name).lower()}=={version} --hash=sha256:{digest}")
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: lock_layer.py WHEEL_FOLDER > functions/requirements.lock", file=sys.stderr)
        return 2
    print(HEADER + "\n".join(lock_lines(Path(argv[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
