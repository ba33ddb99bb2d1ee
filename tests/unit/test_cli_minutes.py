"""Durations as a tired technician types them."""

from __future__ import annotations

import pytest

from blockhours_dev.cli_minutes import parse_minutes


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [
        ("45", 45),
        ("45m", 45),
        ("45 min", 45),
        ("90min", 90),
        ("90 minutes", 90),
        ("1h30", 90),
        ("1h 30m", 90),
        ("1:30", 90),
        ("0:05", 5),
        ("5h", 300),
        ("2 hours", 120),
        ("1.5h", 90),
        (" 45 ", 45),
    ],
)
def test_every_way_of_writing_a_duration_is_read_as_minutes(typed: str, minutes: int) -> None:
    assert parse_minutes(typed) == minutes


@pytest.mark.parametrize("typed", ["", "abc", "1:75", "1.33h", "-5", "1h-3", "45s", "1,5h", "1h30h"])
def test_anything_else_is_refused_saying_what_is_understood(typed: str) -> None:
    with pytest.raises(ValueError, match="is not a duration: write minutes"):
        parse_minutes(typed)
