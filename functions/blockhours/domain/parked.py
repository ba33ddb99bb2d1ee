"""Stripe events that arrive before what they refer to: kept, then applied once when it lands.

Stripe does not promise order, and a `checkout.session.completed` that failed is retried for up to three
days, while a refund or a dispute made meanwhile arrives first. Such an event is parked, keyed by its
PaymentIntent and its own id, and applied exactly once when the credit lands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ParkedKind = Literal["refund", "dispute"]
PARKED_TOO_LONG_SECONDS = 3600  # reconcile lists what has waited longer than this


@dataclass(frozen=True)
class ParkedEvent:
    """One event waiting for its payment: what it said, enough to apply it later as if it came now."""

    payment_intent: str
    parked_id: str  # the event's id (and, for a charge's refunds, the refund's)
    kind: ParkedKind
    event_type: str
    at: int  # when Stripe made the event: parked events are applied in this order
    fields: dict[str, Any] = field(default_factory=dict)
    applied_at: int | None = None
