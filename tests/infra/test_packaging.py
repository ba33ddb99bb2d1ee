"""What `sam build` ships: pyproject's runtime dependencies, pinned with hashes at the versions the tests run."""

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK_LINE = re.compile(r"^(?P<name>[a-z0-9-]+)==(?P<version>\S+) --hash=sha256:[0-9a-f]{64}$")


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


def _locked() -> dict[str, str]:
    lines = _lines(ROOT / "functions" / "requirements.lock")
    assert [line for line in lines if not LOCK_LINE.match(line)] == [], "name==version --hash=sha256:..., one a line"
    return {m["name"]: m["version"] for m in (LOCK_LINE.match(line) for line in lines) if m}


def test_the_lambda_requirements_are_the_runtime_dependencies_less_boto3() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    packaged = _lines(ROOT / "functions" / "requirements.txt")
    assert sorted(packaged) == sorted(d for d in declared if not d.startswith("boto3"))


def test_the_lock_pins_every_requirement_within_its_range() -> None:
    locked = _locked()
    for line in _lines(ROOT / "functions" / "requirements.txt"):
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in functions/requirements.lock: run `make lock`"
        assert requirement.specifier.contains(locked[name]), f"{name}=={locked[name]} is outside {requirement}"


def test_the_tests_run_the_versions_the_layer_ships() -> None:
    # `make install` takes the lock's versions as constraints; a mismatch means the lock or the virtualenv moved.
    locked = _locked()
    running = {name: metadata.version(name) for name in locked}
    assert running == locked, "run `make lock` after upgrading, or `make install` after pulling a new lock"


def test_sam_build_installs_the_layer_from_the_lock_and_nothing_else() -> None:
    makefile = (ROOT / "functions" / "Makefile").read_text()
    recipe = makefile.split("build-DependenciesLayer:", 1)[1].split("\n\n", 1)[0]
    assert "--require-hashes" in recipe and "-r requirements.lock" in recipe
    assert "requirements.txt" not in recipe


def test_the_catalog_ships_inside_the_function_code() -> None:
    shipped = ROOT / "functions" / "catalog.yaml"
    assert shipped.is_symlink() and shipped.resolve() == (ROOT / "catalog.yaml").resolve()
