"""README.md and docs/ travel with the repository: nothing they link or name may lie outside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").rglob("*.md"))]
# A markdown link or image `](target)`, or an HTML href/src.
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)|\b(?:href|src)\s*=\s*[\"']([^\"']+)")
# A path that climbs out (`../`), or a file path on someone's machine.
LEAVING = re.compile(r"(?<![\w.])\.\./|file://|(?<![\w.:/-])/(?:work|home|Users|tmp|root|mnt|opt|var)/|[A-Z]:\\")


def _outside(page: Path, target: str) -> bool:
    if re.match(r"^[a-z][a-z0-9+.-]*:", target) and not target.startswith("file:"):
        return False  # https:, mailto: - the web, not a file
    if target.startswith("#"):
        return False
    path = target.split("#")[0].split("?")[0]
    if path.startswith("/") or target.startswith("file:"):
        return True
    return not (page.parent / path).resolve().is_relative_to(REPO_ROOT)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_no_link_or_path_leaves_the_repository(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    links = [next(g for g in m.groups() if g) for m in LINK.finditer(text)]
    leaving = [f"link {target}" for target in links if _outside(page, target)]
    for number, line in enumerate(text.splitlines(), 1):
        leaving += [f"line {number}: {m.group(0)!r}" for m in LEAVING.finditer(line)]

    assert leaving == []


def test_every_link_to_a_file_of_the_repository_finds_it() -> None:
    missing = [
        f"{page.relative_to(REPO_ROOT)}: {target}"
        for page in PAGES
        for m in LINK.finditer(page.read_text(encoding="utf-8"))
        if not re.match(r"^([a-z][a-z0-9+.-]*:|#)", target := next(g for g in m.groups() if g))
        and not _outside(page, target)
        and not (page.parent / target.split("#")[0]).exists()
    ]

    assert missing == []


@pytest.mark.parametrize(
    "line",
    ["Read [the design](../shared/DESIGN.md).", "See /work/shared/STACK.md", '<img src="/home/me/shot.png">'],
)
def test_the_check_sees_a_path_that_leaves(line: str) -> None:
    page = REPO_ROOT / "README.md"
    links = [next(g for g in m.groups() if g) for m in LINK.finditer(line)]

    assert any(_outside(page, t) for t in links) or LEAVING.search(line)


def test_the_readme_names_every_module() -> None:
    """README's map covers every module of both packages: a module added without a line there fails here."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    modules = [
        path.relative_to(REPO_ROOT).as_posix()
        for folder in ("functions/blockhours", "dev/blockhours_dev")
        for path in sorted((REPO_ROOT / folder).rglob("*.py"))
        if path.name != "__init__.py" and "__pycache__" not in path.parts
    ]
    assert len(modules) > 50
    assert [module for module in modules if f"`{module}`" not in readme] == []
