import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_lambda_requirements_are_the_runtime_dependencies_less_boto3() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = (ROOT / "functions" / "requirements.txt").read_text().splitlines()
    packaged = [line for line in lines if line and not line.startswith("#")]
    assert sorted(packaged) == sorted(d for d in declared if not d.startswith("boto3"))


def test_the_catalog_ships_inside_the_function_code() -> None:
    shipped = ROOT / "functions" / "catalog.yaml"
    assert shipped.is_symlink() and shipped.resolve() == (ROOT / "catalog.yaml").resolve()
