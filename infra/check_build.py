"""After `sam build`: the size of every artifact, no dev module in any function, and each handler importing.

Run by `make sam-build` with a Python 3.12 virtualenv that holds only functions/requirements.txt and boto3
(the Lambda runtime's own), so an import of a development-only package (moto, typer, ...) fails here.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

BUILD = Path(".aws-sam/build")
DEVELOPMENT_ONLY = ("blockhours_dev", "moto", "werkzeug", "typer", "rich", "mkdocs", "pytest", "hypothesis")
# What lives in dev/blockhours_dev and must never be copied into a function (a folder, or a module's file name).
DEV_FOLDERS = ("blockhours_dev", "standin")
DEV_FILES = ("local.py", "local_*.py", "cli.py", "cli_*.py", "embedded_aws.py", "openapi.py")  # not client.py

IMPORT_CHECK = f"""
import importlib, sys
module, _, name = sys.argv[1].rpartition(".")
assert callable(getattr(importlib.import_module(module), name)), sys.argv[1] + " is not a function"
from blockhours import catalog
catalog.load()
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set({DEVELOPMENT_ONLY!r}))
assert not loaded, "imports development-only packages: " + ", ".join(loaded)
"""


def sizes(folder: Path) -> tuple[int, int]:
    """Bytes unpacked and zipped, as Lambda counts them against its 250 MB and 50 MB limits."""
    unpacked, buffer = 0, io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            unpacked += path.stat().st_size
            archive.write(path, path.relative_to(folder))
    return unpacked, buffer.tell()


def dev_modules_in(folder: Path) -> list[str]:
    """Each dev folder or module the built function holds, relative to it; the tests plant one to see it named."""
    found: list[str] = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part in DEV_FOLDERS for part in relative.parts[:-1]):
            continue  # inside a dev folder already named
        if (path.is_dir() and path.name in DEV_FOLDERS) or (
            path.is_file() and any(path.match(pattern) for pattern in DEV_FILES)
        ):
            found.append(relative.as_posix())
    return found


def handlers() -> dict[str, str]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dev"))  # the template reader ships in no function
    from blockhours_dev.template import load_template

    resources = load_template(BUILD / "template.yaml")["Resources"]
    return {
        name: str(resource["Properties"]["Handler"])
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def main() -> int:
    failures = 0
    print(f"{'artifact':<24} {'unpacked':>10} {'zipped':>10}")
    for folder in sorted(p for p in BUILD.iterdir() if p.is_dir()):
        unpacked, zipped = sizes(folder)
        print(f"{folder.name:<24} {unpacked / 1e6:>8.1f} MB {zipped / 1e6:>7.2f} MB")
    for name, handler in handlers().items():
        code = BUILD / name
        if shipped_dev := dev_modules_in(code):
            failures += 1
            print(f"{name}: ships development-only code: {', '.join(shipped_dev)}")
        env = {**os.environ, "PYTHONPATH": str(code), "LAMBDA_TASK_ROOT": str(code)}
        result = subprocess.run(  # noqa: S603 - this interpreter, and handler names from our template
            [sys.executable, "-c", IMPORT_CHECK, handler], env=env, capture_output=True, text=True, check=False
        )
        failures += result.returncode != 0
        print(f"{name}: {handler} " + ("imports" if result.returncode == 0 else "FAILS\n" + result.stderr))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
