"""The in-memory store for service tests: a writer that races the next commit, and a client's purchase."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from blockhours import catalog as catalog_module
from blockhours import services
from blockhours.domain.changes import Change, Outcome
from blockhours.domain.ledger import Payment, SessionRecord
from blockhours.services import record_payment
from blockhours_dev.memory_ledger import MemoryLedger
from served_standin import ServedStandIn
from stripe_events import opened_payment

CATALOG_FILE = Path(__file__).parents[1] / "catalog.yaml"  # the shop's catalog, as the functions load it


class RacingLedger(MemoryLedger):
    """Lets another writer in just before its next commit, once: the commit then meets what that writer did."""

    def __init__(self) -> None:
        super().__init__()
        self.racer: Callable[[], object] | None = None
        self.commits = 0
        self.refused = 0

    def commit(self, change: Change) -> Outcome:
        racer, self.racer = self.racer, None
        if racer is not None:
            racer()
        self.commits += 1
        outcome = super().commit(change)
        self.refused += not outcome.committed
        return outcome


def bought(
    catalog: catalog_module.Catalog, store: MemoryLedger, email: str, minutes: int, cents: int, at: int, lot: str
) -> Payment:
    """`email` paid `cents` for `minutes` through a checkout the shop opened, credited as the webhook credits it."""
    payment = opened_payment(
        store, Payment(lot, f"pi_{lot}", "cus_1", email, "block-60", "block", minutes, cents, "usd", "v1", at)
    )
    assert record_payment(catalog, store, f"evt_{lot}", payment) == "credited"
    return payment


@pytest.fixture
def catalog() -> catalog_module.Catalog:
    """The shop's catalog.yaml, as the functions load it."""
    return catalog_module.load(CATALOG_FILE)


def paid_checkout(
    catalog: catalog_module.Catalog,
    store: MemoryLedger,
    email: str,
    minutes: int,
    cents: int,
    at: int,
    sku: str = "block-60",
    kind: str = "block",
    pi: str = "",
    note: str = "",
) -> str:
    """A checkout paid for `sku` and credited as the webhook credits it (a quote's work in `note`); its lot id."""
    lot = f"cs_test_{secrets.token_hex(6)}"
    payment = Payment(
        lot,
        pi or f"pi_{lot}",
        "cus_1",
        email,
        sku,
        kind,
        minutes,
        cents,
        "usd",
        "v1",
        at,
        note=note,  # type: ignore[arg-type]
    )
    assert services.record_payment(catalog, store, f"evt_{lot}", opened_payment(store, payment)) == "credited"
    return lot


def session_at(
    catalog: catalog_module.Catalog,
    store: MemoryLedger,
    served: ServedStandIn | None,
    email: str,
    minutes: int,
    at: int,
) -> SessionRecord:
    """Sam's session of `minutes`, time beyond the balance charged to the card (through `served`) or owed."""
    request = services.SessionRequest(email, minutes, "Sam", "Outlook profile rebuilt", secrets.token_hex(4), True)
    gateway = served.gateway if served else no_gateway
    return services.redeem(catalog, store, gateway, request, now=at)  # type: ignore[arg-type]


def no_gateway() -> object:
    """For use cases that must not reach Stripe: a session within the balance charges no card."""
    raise AssertionError("no card is charged here")
