"""The shop's time zone (template parameter ShopTimeZone, BLOCKHOURS_TIME_ZONE): every date people read is in it.

Presentation only, and the few day boundaries the shop keeps by its own calendar (billing days): money rules
that count seconds (refund due, link expiry, dunning steps) do not depend on it.
"""

from __future__ import annotations

import os
from datetime import date, datetime, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .config import ConfigError

VARIABLE = "BLOCKHOURS_TIME_ZONE"
# Every API answer names the zone, so the staff CLI shows times as the shop keeps them, wherever it runs.
HEADER = "X-Shop-Time-Zone"


def named(name: str, where: str = VARIABLE) -> ZoneInfo:
    """The IANA zone `name`, or a ConfigError that names `where` it came from and what would do."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ConfigError(
            f"{where}: {name!r} is not an IANA time zone this machine knows (e.g. UTC, America/Chicago)"
        ) from exc


@cache
def zone() -> ZoneInfo:
    """The shop's zone, read and checked once per container; UTC when the variable is unset."""
    return named(os.environ.get(VARIABLE, "").strip() or "UTC", f"environment: {VARIABLE}")


def calendar_day(on: date) -> str:
    """A day as clients read it, the one way everywhere (emails, statements, and shop.js's `day` on the pages):
    5 Feb 2027, no leading zero."""
    return f"{on.day} {on:%b %Y}"


def day(epoch: int, in_zone: tzinfo | None = None) -> str:
    """The day of `epoch` in the shop's zone (or `in_zone`), as clients read it: 14 Jan 2027."""
    return calendar_day(datetime.fromtimestamp(epoch, in_zone or zone()))


def moment(epoch: int, in_zone: tzinfo | None = None) -> str:
    """A date and time as staff read it in tables, with the zone's abbreviation: 2027-01-14 21:00 CST."""
    return datetime.fromtimestamp(epoch, in_zone or zone()).strftime("%Y-%m-%d %H:%M %Z")
