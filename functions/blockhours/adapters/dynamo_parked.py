"""Parked Stripe events in the table: under their PaymentIntent, beside the pointer the credit writes."""

from __future__ import annotations

import json
from typing import Any, Literal

from ..domain.parked import ParkedEvent
from .dynamo_table import DynamoTable


def pi_pk(payment_intent: str) -> str:
    return f"PI#{payment_intent}"


def parked_sk(event: ParkedEvent) -> str:
    return f"PARKED#{event.at:012d}#{event.parked_id}"


def parked_from(row: dict[str, Any]) -> ParkedEvent:
    return ParkedEvent(
        payment_intent=str(row["payment_intent"]),
        parked_id=str(row["parked_id"]),
        kind=row["kind"],
        event_type=str(row["event_type"]),
        at=int(row["at"]),
        fields=json.loads(str(row.get("fields", "{}"))),
        applied_at=row.get("applied_at"),
    )


class ParkedWrites(DynamoTable):
    def park_event(self, event: ParkedEvent) -> Literal["parked", "duplicate", "known"]:
        """Keep an event whose payment the ledger does not know, in one conditional write.

        "known": the credit landed meanwhile (the pointer has its lot now): apply the event instead.
        """
        values = {
            "type": "parked",
            "payment_intent": event.payment_intent,
            "parked_id": event.parked_id,
            "kind": event.kind,
            "event_type": event.event_type,
            "at": event.at,
            "fields": json.dumps(event.fields, sort_keys=True),
            "parked": "WAITING",  # in the `parked` sparse attribute until applied: reconcile finds what waits
        }
        reasons = self._transact(
            [
                self._put(pi_pk(event.payment_intent), parked_sk(event), values),
                self._update(
                    pi_pk(event.payment_intent),
                    "PI",
                    "ADD parked_events :one",
                    {":one": 1},
                    "attribute_not_exists(lot_id)",
                ),
            ]
        )
        if not reasons:
            return "parked"
        return "duplicate" if reasons[0] == "ConditionalCheckFailed" else "known"

    def mark_parked_applied(self, event: ParkedEvent, at: int) -> bool:
        return not self._transact(
            [
                self._update(
                    pi_pk(event.payment_intent),
                    parked_sk(event),
                    "SET applied_at = :at REMOVE parked",
                    {":at": at},
                    "attribute_not_exists(applied_at)",
                ),
                self._update(pi_pk(event.payment_intent), "PI", "ADD applied_events :one", {":one": 1}),
            ]
        )
