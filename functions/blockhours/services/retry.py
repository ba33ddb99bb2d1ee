"""Optimistic writes that lost a race read again after a short, jittered wait."""

from __future__ import annotations

import random
import time


def backoff(attempt: int) -> None:
    """Another session moved the balance first: wait a little, with jitter, before reading it again."""
    if attempt:
        time.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 7)))  # noqa: S311 - jitter, not security
