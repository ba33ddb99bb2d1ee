"""Optimistic writes that lost a race read again after a short, jittered wait."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

# Sixteen plans: enough for a handful of technicians and the worker racing on one account (the race tests run
# eight at once); the waits add up to about 3 s on average, 6.4 s at worst, well inside the API's 29 s.
REPLANS = 16


def backoff(attempt: int) -> None:
    """Another session moved the balance first: wait a little, with jitter, before reading it again."""
    if attempt:
        time.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 7)))  # noqa: S311 - jitter, not security


def replans() -> Iterator[int]:
    """Attempt numbers for a read-plan-write loop, waiting before each one after the first; the caller's loop
    ends on a committed write, and falls through (refusing as busy) after REPLANS attempts."""
    for attempt in range(REPLANS):
        backoff(attempt)
        yield attempt
