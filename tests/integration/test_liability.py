"""The liability report counts every cent held for clients and every cent they owe, on accounts the services made."""

from __future__ import annotations

import secrets
import time

import pytest

from blockhours import catalog, reports, services
from blockhours.adapters.dynamo import DynamoLedger
from served_standin import ServedStandIn
from stripe_events import hour_bought

CATALOG = catalog.load()


def _session(ledger: DynamoLedger, email: str, minutes: int) -> None:
    request = services.SessionRequest(email, minutes, "Sam", "", f"s-{secrets.token_hex(3)}")
    services.redeem(CATALOG, ledger, lambda: pytest.fail("no card is charged here"), request)


def test_liability_shows_what_is_held_and_what_is_owed(ledger: DynamoLedger, stripe_standin: ServedStandIn) -> None:
    prepaid, trusted = "prepaid@example.com", "trusted@example.com"
    hour_bought(ledger, stripe_standin.standin, prepaid)  # an hour: $129.00
    _session(ledger, prepaid, 15)  # $32.25 used
    services.request_refund(CATALOG, ledger, prepaid, "staff", "owner", minutes=15)  # $32.25 set aside, not sent
    services.set_trust(CATALOG, ledger, trusted, 120, "owner")
    _session(ledger, trusted, 30)  # on account at the hourly rate: $64.50, not paid

    report = reports.liability(services.accounts_holding_or_owing(ledger), int(time.time()), "usd")

    assert report["accounts"] == 2
    totals = {name: report[f"total_{name}"] for name in ("cents", "refunding_cents", "held_cents")}
    assert totals == {"cents": 6450, "refunding_cents": 3225, "held_cents": 9675}
    assert (report["total_on_account_cents"], report["total_clients_owe_cents"]) == (6450, 6450)
    recent = report["by_age"][0]
    assert (recent["label"], recent["accounts"], recent["held_cents"], recent["clients_owe_cents"]) == (
        "0-30 days",
        2,
        9675,
        6450,
    )
