"""The ledger's refund writes: set money aside, record what Stripe did, give back what failed."""

from __future__ import annotations

from typing import Any

from ..domain.lots import Lot
from .dynamo_items import (
    customer_pk,
    key,
    lot_sk,
    plain,
)
from .dynamo_table import DynamoTable

# Cents too: a dashboard refund of part of a lot's last minute changes its cents and none of its minutes.
_LOT_UNCHANGED = (
    "used_minutes = :was_used AND refunded_minutes = :was_refunded AND refunded_cents = :was_refunded_cents"
)


def _lot_values(lot: Lot, old: Lot) -> dict[str, Any]:
    return {
        ":refunded_minutes": lot.refunded_minutes,
        ":refunded_cents": lot.refunded_cents,
        ":was_used": old.used_minutes,
        ":was_refunded": old.refunded_minutes,
        ":was_refunded_cents": old.refunded_cents,
    }


class RefundWrites(DynamoTable):
    def _lot_refund(self, email: str, lot: Lot, old: Lot) -> dict[str, Any]:
        return self._update(
            customer_pk(email),
            lot_sk(lot),
            "SET refunded_minutes = :refunded_minutes, refunded_cents = :refunded_cents",
            _lot_values(lot, old),
            _LOT_UNCHANGED,
        )

    def payment_owner(self, payment_intent: str) -> tuple[str, str] | None:
        """The customer and lot a PaymentIntent paid for, from the pointer written with the credit."""
        found = self.client.get_item(TableName=self.table, Key=key(f"PI#{payment_intent}", "PI"), ConsistentRead=True)
        row = plain(found.get("Item") or {})
        if "lot_id" not in row:  # unknown, or only events parked under it so far
            return None
        return str(row["email"]), str(row["lot_id"])
