"""A tool's secret can be rotated: while the JSON value is a list, the current (first) and the previous are both
accepted; a short one is never accepted, and the URL shows the current one."""

from __future__ import annotations

import json

import pytest

from blockhours import config
from blockhours.handlers.inbox_routes import accepted_secret

NEW, OLD = "n" * 40, "o" * 40


@pytest.fixture(autouse=True)
def _fresh_settings() -> None:
    config.clear()


def test_current_and_previous_secrets_are_accepted_during_a_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLOCKHOURS_INTEGRATION_SECRETS", json.dumps({"screenconnect": [NEW, OLD, "short"]}))
    assert config.integration_secrets("screenconnect") == [NEW, OLD]
    assert config.integration_secret("screenconnect") == NEW
    assert accepted_secret("screenconnect", OLD) and accepted_secret("screenconnect", NEW)
    assert not accepted_secret("screenconnect", "short") and not accepted_secret("teamviewer", NEW)
    monkeypatch.setenv("BLOCKHOURS_INTEGRATION_SECRETS", json.dumps({"screenconnect": NEW}))
    config.clear()
    assert not accepted_secret("screenconnect", OLD), "the old URL stops working once the list is gone"
