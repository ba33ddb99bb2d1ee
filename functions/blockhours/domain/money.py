"""Money and minutes: integers with the unit in the name, and the rules that turn one into the other."""

from __future__ import annotations


def bill_minutes(used_minutes: int, increment_minutes: int, minimum_minutes: int) -> int:
    """The minutes a session is billed: rounded up to the increment, never below the minimum."""
    if used_minutes <= 0:
        raise ValueError(f"a session lasts at least one minute, not {used_minutes}")
    rounded = -(-used_minutes // increment_minutes) * increment_minutes
    return max(rounded, minimum_minutes)


def cents_for_minutes(amount_cents: int, total_minutes: int, used_before: int, minutes: int) -> int:
    """What `minutes` of a lot cost when `used_before` minutes are already used.

    Floor of the cumulative cost, so a lot used to its last minute has consumed exactly its amount.
    """
    return amount_cents * (used_before + minutes) // total_minutes - amount_cents * used_before // total_minutes


def deposit_minutes(amount_cents: int, hourly_rate_cents: int) -> int:
    """A deposit buys its amount's worth of minutes at the shop's hourly rate."""
    return amount_cents * 60 // hourly_rate_cents


def format_cents(amount_cents: int, currency: str = "usd") -> str:
    sign = "-" if amount_cents < 0 else ""
    whole, cents = divmod(abs(amount_cents), 100)
    symbol = {"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$"}.get(currency.lower(), "")
    text = f"{sign}{symbol}{whole:,}.{cents:02d}"
    return text if symbol else f"{text} {currency.upper()}"


def format_minutes(minutes: int) -> str:
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    if hours and rest:
        return f"{sign}{hours} h {rest} min"
    return f"{sign}{hours} h" if hours else f"{sign}{rest} min"
