"""Whether this process has started the shared integration stack: after that, a module that restarts moto in the
same process would wipe the stack under the tests that use it (tests/conftest.py RESETS_MOTO)."""

from __future__ import annotations

shared_stack_started = False

# Modules that start moto in this process (an embedded AWS, a stack of their own, `mock_aws`). Starting one resets
# moto's state, which is one per process, so they run before the shared integration stack starts. Under
# pytest-xdist (`make test`) every worker takes tests from the front of this order, so each runs its share of
# these before any test that uses its shared stack.
RESETS_MOTO = frozenset(
    {
        "test_model.py",
        "test_reconcile.py",
        "test_reconcile_at_size.py",
        "test_local_stack_template.py",
        "test_hostile_input.py",
        "test_screenconnect_throttle.py",
        "test_browser.py",
        "test_template.py",
        "test_links.py",
        "test_missing_page.py",
        "test_round_trips.py",
    }
)
