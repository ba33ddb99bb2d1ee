"""Minutes as a technician types them: 45, 45m, 90min, 1h30, 1h 30m, 1:30, 2h, 1.5h."""

from __future__ import annotations

import re
from typing import Any

import typer

_FORMS = (
    re.compile(r"(?P<m>\d+)\s*(?:m|min|mins|minutes?)?", re.I),
    re.compile(r"(?P<h>\d+)\s*(?:h|hr|hrs|hours?)(?:\s*(?P<m>\d+)\s*(?:m|min|mins|minutes?)?)?", re.I),
    re.compile(r"(?P<h>\d+):(?P<m>[0-5]\d)"),
    re.compile(r"(?P<h>\d*\.\d+)\s*(?:h|hr|hrs|hours?)", re.I),
)


def parse_minutes(text: str) -> int:
    """Whole minutes from what was typed; ValueError, saying what is understood, for anything else."""
    typed = text.strip()
    for form in _FORMS:
        if (found := form.fullmatch(typed)) is None:
            continue
        parts = found.groupdict()
        hours = parts.get("h") or "0"
        if "." in hours:
            minutes = float(hours) * 60
            if not minutes.is_integer():
                break
            return int(minutes)
        return int(hours) * 60 + int(parts.get("m") or 0)
    raise ValueError(f"{text!r} is not a duration: write minutes (45, 45m, 90min) or hours (1h30, 1:30, 2h)")


def _parsed(value: str | int) -> int:
    """typer's `parser`: a mistyped duration is a usage error naming the option, not a traceback."""
    if isinstance(value, int):
        return value
    try:
        minutes = parse_minutes(value)
    except ValueError as bad:
        raise typer.BadParameter(str(bad)) from None
    if minutes < 1:
        raise typer.BadParameter(f"{value!r} is no time at all: give at least 1 minute")
    return minutes


def minutes_argument(help: str) -> Any:
    return typer.Argument(parser=_parsed, metavar="MINUTES", help=help)


def minutes_option(*names: str, help: str) -> Any:
    return typer.Option(*names, parser=_parsed, metavar="MINUTES", help=help)
