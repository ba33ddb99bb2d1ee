"""What a handler's cold start loads (issue 17): each function imports what its own requests use, not the rest.

The figures are in benchmarks/coldstart.py; these tests hold the shape that makes them: a fresh interpreter imports
one handler, as Lambda's init does, and the modules it must not carry are absent.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path

from blockhours import services

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def test_every_use_case_is_reachable_by_name_and_none_is_hidden_by_a_module() -> None:
    modules = {info.name for info in pkgutil.iter_modules(services.__path__)}

    assert modules.isdisjoint(services.__all__)
    for name in services.__all__:
        assert getattr(services, name) is not None
