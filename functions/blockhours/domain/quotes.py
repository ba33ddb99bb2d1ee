"""A quote: the technician's estimate, priced at the shop's hourly rate, paid before the real work starts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

QuoteStatus = Literal["open", "paid", "expired"]


@dataclass(frozen=True)
class Quote:
    quote_id: str
    email: str
    minutes: int
    amount_cents: int
    note: str
    created_at: int
    expires_at: int
    pay_url: str
    terms_version: str
    technician: str
    status: QuoteStatus = "open"
    checkout_id: str = ""
    closed_at: int | None = None  # paid or expired

    def __post_init__(self) -> None:
        if self.minutes <= 0 or self.amount_cents <= 0:
            raise ValueError(f"quote {self.quote_id}: minutes and amount must be positive")


def new_quote_id(now: int) -> str:
    """A quote id that sorts by when it was made and says nothing else."""
    return f"q-{now}-{uuid.uuid4().hex[:6]}"
