"""Two packages: `blockhours` (functions/, what every Lambda function ships) and `blockhours_dev` (dev/, laptop only).

The import graph is read from the source with `ast`, so a cycle or a dev import fails here without running anything.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = REPO_ROOT / "functions"
DEV = REPO_ROOT / "dev"
# What only a laptop has: our dev package and the libraries the local stack, the CLI and the site need.
DEV_ONLY = ("blockhours_dev", "moto", "werkzeug", "typer", "rich", "mkdocs", "playwright")


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources(*roots: Path) -> dict[str, Path]:
    return {_module_name(p, root): p for root in roots for p in sorted(root.rglob("*.py"))}


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imports(tree: ast.AST, lazy: bool = False) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import the module runs, at the top or inside a function; not those under `if TYPE_CHECKING:`, unless the
    module is `lazy`: a package whose `__getattr__` imports each of them when its name is first asked for."""
    for node in ast.iter_child_nodes(tree):
        if _type_checking_only(node) and not lazy:
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _imports(node, lazy)


def imported(name: str, path: Path, modules: Mapping[str, Path]) -> set[str]:
    """The modules `name` imports: the submodule when `from package import submodule`, else the module named."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lazy = any(isinstance(node, ast.FunctionDef) and node.name == "__getattr__" for node in tree.body)
    for node in _imports(tree, lazy):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            source = ".".join([*base, node.module] if node.module else base)
        else:
            source = node.module or ""
        for alias in node.names:
            found.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source)
    return found


def import_graph() -> dict[str, set[str]]:
    """Our modules (both packages) and which of our modules each imports."""
    modules = _sources(FUNCTIONS, DEV)
    return {name: (imported(name, path, modules) & modules.keys()) - {name} for name, path in modules.items()}


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Each group of modules that import one another, as one cycle through it (Tarjan's components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = stack[stack.index(node) :]
            del stack[stack.index(node) :]
            if len(group) > 1:
                found.append(_cycle_through(sorted(group), graph))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _cycle_through(group: list[str], graph: Mapping[str, set[str]]) -> list[str]:
    """A path from the group's first module back to itself, staying inside the group (breadth first: shortest)."""
    start, members = group[0], set(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    return [*group, start]  # unreachable for a strongly connected group


def test_our_modules_import_one_another_in_one_direction_only() -> None:
    found = [" -> ".join(cycle) for cycle in cycles(import_graph())]

    assert found == [], "import cycles: " + "; ".join(found)


def test_the_cycle_check_names_a_cycle_it_is_shown() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}

    assert cycles(graph) == [["a", "b", "c", "a"]]


def test_the_graph_sees_relative_absolute_and_function_level_imports() -> None:
    graph = import_graph()

    assert "blockhours.wiring" in graph["blockhours_dev.local"]  # absolute, into the shipped package
    assert "blockhours_dev.local_iam" in graph["blockhours_dev.local_lambda"]  # inside a function
    assert "blockhours.services" in graph["blockhours.handlers.api"]  # `from .. import services`
    assert "blockhours_dev.cli_app" in graph["blockhours_dev.cli_jobs"]  # `from .cli_app import ...`


def test_nothing_lambda_runs_imports_a_development_package() -> None:
    offending = []
    for name, path in _sources(FUNCTIONS).items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            offending += [f"{name}:{node.lineno} imports {n}" for n in names if n.split(".")[0] in DEV_ONLY]

    assert offending == []


def _handlers() -> list[str]:
    return re.findall(r"^\s+Handler:\s*(\S+)\s*$", (REPO_ROOT / "template.yaml").read_text(encoding="utf-8"), re.M)


def test_every_module_under_functions_is_one_a_handler_imports() -> None:
    """Whatever sits under functions/ ships in every function: a module no handler reaches belongs in dev/."""
    graph = import_graph()
    reached: set[str] = set()
    waiting = ["blockhours", *(h.rpartition(".")[0] for h in _handlers())]
    while waiting:
        name = waiting.pop()
        if name not in reached:
            reached.add(name)
            waiting += graph[name]
            waiting += [name.rpartition(".")[0]] if "." in name else []  # importing a module runs its package
    shipped = set(_sources(FUNCTIONS))

    assert sorted(shipped - reached) == []
    assert len(_handlers()) >= 9


HANDLER_IMPORT = """
import importlib, json, sys
module, _, name = sys.argv[1].rpartition(".")
assert callable(getattr(importlib.import_module(module), name)), sys.argv[1] + " is not a function"
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[2:]))))
"""


def test_each_handler_imports_nothing_of_the_dev_package_in_a_fresh_interpreter() -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(FUNCTIONS),  # only what `sam build` copies
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    started = {
        handler: subprocess.Popen(
            [sys.executable, "-c", HANDLER_IMPORT, handler, *DEV_ONLY],
            env=env,
            cwd=FUNCTIONS,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for handler in _handlers()
    }
    answers = {handler: process.communicate(timeout=120) for handler, process in started.items()}
    broken = {h: err[-600:] for h, (_, err) in answers.items() if started[h].returncode != 0}
    loaded = {h: json.loads(out) for h, (out, _) in answers.items() if started[h].returncode == 0}

    assert broken == {}
    assert {h: dev for h, dev in loaded.items() if dev} == {}
    assert len(loaded) >= 9


def _check_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_build", REPO_ROOT / "infra" / "check_build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build_function(target: Path, source: Path = FUNCTIONS) -> Path:
    """What `sam build` makes of a function: functions/Makefile's own recipe (in `source`), into `target`."""
    subprocess.run(
        ["make", "-s", "-C", str(source), "build-ApiFunction", f"ARTIFACTS_DIR={target}"],
        check=True,
        capture_output=True,
    )
    return target


def test_a_built_function_leaves_a_tools_cache_and_the_laptops_bytecode_behind(tmp_path: Path) -> None:
    """A developer's tree holds what git ignores (.mypy_cache was 3.6 MB of a 0.2 MB function); none of it ships."""
    source = tmp_path / "functions"
    shutil.copytree(FUNCTIONS, source, ignore=shutil.ignore_patterns("*.egg-info", ".*", "__pycache__"))
    for planted in (".mypy_cache/3.11/cache.db", "__pycache__/wiring.cpython-311.pyc", "domain/.hidden"):
        (source / "blockhours" / planted).parent.mkdir(parents=True, exist_ok=True)
        (source / "blockhours" / planted).write_text("x", encoding="utf-8")
    target = _build_function(tmp_path / "ApiFunction", source)
    shipped = {path.relative_to(target).as_posix() for path in target.rglob("*")}

    assert "blockhours/wiring.py" in shipped
    assert [name for name in shipped if "/." in f"/{name}" or "cpython-311" in name] == []


def test_a_built_function_holds_no_dev_module(tmp_path: Path) -> None:
    built = _build_function(tmp_path / "ApiFunction")

    assert (built / "blockhours" / "handlers" / "api.py").is_file()
    assert _check_build().dev_modules_in(built) == []


def test_a_built_function_ships_bytecode_lambdas_python_loads_without_compiling(tmp_path: Path) -> None:
    """Lambda cannot write __pycache__ (its task root is read-only): without bytecode in the zip, every cold start
    compiles every module again. Each module gets a hash-based .pyc for the CPython that template.yaml's Runtime
    names (bytecode of another version would be ignored there, silently), naming /var/task."""
    from blockhours_dev.template import load_template

    runtime = str(load_template()["Globals"]["Function"]["Runtime"])  # python3.12
    assert runtime == "python3.12", "functions/Makefile compiles for 3.12: change its COMPILE with the Runtime"
    lambda_python = shutil.which("python3.12")
    if lambda_python is None:
        pytest.skip("no python3.12 here: the build ships sources only, and says so")
    built = _build_function(tmp_path / "ApiFunction")
    sources = sorted(built.glob("blockhours/**/*.py"))
    compiled = {
        path.parent.parent / path.name.replace(".cpython-312.pyc", ".py"): path for path in built.rglob("*.pyc")
    }

    assert sources and sorted(compiled) == sources
    assert {p.read_bytes()[4:8] for p in compiled.values()} == {(1).to_bytes(4, "little")}  # hash-based, unchecked
    header = subprocess.run(
        [
            lambda_python,
            "-c",
            "import marshal,sys; print(marshal.loads(open(sys.argv[1],'rb').read()[16:]).co_filename)",
            str(compiled[built / "blockhours" / "wiring.py"]),
        ],
        env={**os.environ, "PYENV_VERSION": os.environ.get("PYENV_VERSION", "3.12.1")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert header.stdout.strip() == "/var/task/blockhours/wiring.py"


@pytest.mark.parametrize(
    "planted",
    [
        "blockhours_dev/__init__.py",
        "blockhours/standin/__init__.py",
        "blockhours/local.py",
        "blockhours/local_streams.py",
        "blockhours/cli.py",
        "blockhours/cli_jobs.py",
        "blockhours/embedded_aws.py",
        "blockhours/openapi.py",
    ],
)
def test_the_build_check_names_a_dev_module_put_back(tmp_path: Path, planted: str) -> None:
    built = _build_function(tmp_path / "ApiFunction")
    (built / planted).parent.mkdir(parents=True, exist_ok=True)
    (built / planted).write_text("", encoding="utf-8")

    assert _check_build().dev_modules_in(built) == [planted.split("/__init__.py")[0]]
