"""The DynamoDB round trips of credit, redeem, refunds and the sweep, counted as `make bench` counts them
(benchmarks/roundtrips.py, on a local stack of its own): a change that adds a call to one fails here first."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import roundtrips


def test_no_operation_makes_more_dynamodb_calls_than_its_target() -> None:
    trips = {trip.label: trip for trip in roundtrips.measure()}
    assert roundtrips.misses(list(trips.values())) == []
    targets = {label: trip.target for label, trip in trips.items()}
    assert targets["credit (webhook, new purchase)"] == 1
    assert targets["redeem (POST /api/sessions)"] == 2
    assert targets["sweep, nothing due"] == 1
    warned = trips[f"sweep, {roundtrips.IDLE_CLIENTS} clients to warn"]
    assert warned.target == 1 + warned.per, "one index query, then one write per client warned"
