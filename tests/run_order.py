"""Whether this process has started the shared integration stack: after that, a module that restarts moto in the
same process would wipe the stack under the tests that use it (tests/conftest.py RESETS_MOTO)."""

from __future__ import annotations

shared_stack_started = False
