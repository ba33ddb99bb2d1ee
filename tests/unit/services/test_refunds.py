"""Refunds on the in-memory store, against the Stripe stand-in through the real SDK: per lot, once, whatever crashes
in between."""

from __future__ import annotations

import secrets
import time

import pytest

from blockhours import catalog, outbox, services
from blockhours.adapters.layout import key_of
from blockhours.adapters.stripe_gateway import StripeGateway
from blockhours.adapters.stripe_keys import idempotency_key
from blockhours.config import StripeSettings
from blockhours.domain.changes import Change, Outcome, Update, entry_ref
from blockhours.domain.ledger import Account, JournalEntry
from blockhours.emails import Email, format_day
from blockhours.ports import GatewayError
from blockhours_dev.memory_ledger import MemoryLedger
from served_standin import ServedStandIn, paid_lot, used

CATALOG = catalog.load()
MAIL = outbox.MailContext(CATALOG, "https://shop.example", "s" * 40, "owner@example.com")


@pytest.fixture
def gateway(stripe_standin: ServedStandIn) -> StripeGateway:
    settings = StripeSettings(
        api_key="sk_test_refunds", webhook_secret="whsec_unused_here", api_base=stripe_standin.url
    )
    return StripeGateway(settings)


def stream_insert(ledger: MemoryLedger, email: str, entry: JournalEntry) -> outbox.Change:
    """The table stream's INSERT record for a journal entry, from the item as the table holds it."""
    stored = ledger.rows.get(*key_of(entry_ref(email, entry)))
    assert stored is not None
    return outbox.Change("INSERT", stored, {})


@pytest.fixture
def ledger() -> MemoryLedger:
    return MemoryLedger()


@pytest.fixture
def two_lots(ledger: MemoryLedger, stripe_standin: ServedStandIn) -> tuple[str, str, str]:
    """ana bought an hour, then half an hour, and used 15 minutes (of the hour: oldest first)."""
    email = f"ana-{secrets.token_hex(3)}@example.com"
    now = int(time.time())
    hour = paid_lot(ledger, stripe_standin, email, 12900, 60, now - 100)
    half = paid_lot(ledger, stripe_standin, email, 6900, 30, now - 50)
    used(ledger, email, 15)
    return email, hour, half


def stripe_refunds(served: ServedStandIn) -> list[tuple[str, int]]:
    return sorted((r["payment_intent"], r["amount"]) for r in served.standin.refunds.values())


def test_each_lot_is_refunded_to_its_own_payment_newest_first(
    ledger: MemoryLedger, gateway: StripeGateway, stripe_standin: ServedStandIn, two_lots: tuple[str, str, str]
) -> None:
    email, hour, half = two_lots
    requested = services.request_refund(CATALOG, ledger, email, "client", email)
    assert [(p.payment_intent, p.minutes, p.amount_cents) for p in requested.parts] == [
        (half, 30, 6900),
        (hour, 45, 9675),
    ]
    assert ledger.account(email).available_minutes == 0  # type: ignore[union-attr]

    done = services.process_refund(ledger, gateway, email, requested.refund_id)
    assert done is not None and done.status == "succeeded"
    assert stripe_refunds(stripe_standin) == sorted([(half, 6900), (hour, 9675)])
    creates = [r for r in stripe_standin.standin.requests if r.method == "POST" and r.path == "/v1/refunds"]
    lots = {p.payment_intent: p.lot_id for p in requested.parts}
    assert sorted(r.idempotency_key or "" for r in creates) == sorted(
        idempotency_key("refund", email, requested.refund_id, lots[pi]) for pi in (half, hour)
    )
    assert all(r.params["metadata"]["refund_id"] == requested.refund_id for r in creates)
    account = ledger.account(email)
    assert account is not None and (account.refunded_cents, account.refunding_cents) == (16575, 0)


def test_a_crash_after_stripe_refunds_and_before_the_ledger_write(
    ledger: MemoryLedger,
    gateway: StripeGateway,
    stripe_standin: ServedStandIn,
    two_lots: tuple[str, str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    email, _, _ = two_lots
    requested = services.request_refund(CATALOG, ledger, email, "client", email)
    real = ledger.commit

    def crash(change: Change) -> Outcome:
        if any(isinstance(write, Update) and write.ref.kind == "refund" for write in change.writes):
            raise TimeoutError("Lambda timed out right after Stripe answered")
        return real(change)

    monkeypatch.setattr(ledger, "commit", crash)
    with pytest.raises(TimeoutError):
        services.process_refund(ledger, gateway, email, requested.refund_id)
    assert len(stripe_standin.standin.refunds) == 1, "Stripe refunded the first lot; the ledger does not know yet"

    monkeypatch.setattr(ledger, "commit", real)
    stripe_standin.standin._replays.clear()  # a retry days later: Stripe has forgotten the idempotency key
    done = services.process_refund(ledger, gateway, email, requested.refund_id)
    assert done is not None and done.status == "succeeded"
    assert len(stripe_standin.standin.refunds) == 2, "one refund per lot, none twice"
    assert ledger.account(email).refunded_cents == 16575  # type: ignore[union-attr]


def test_a_crash_before_the_stripe_call(
    ledger: MemoryLedger,
    gateway: StripeGateway,
    stripe_standin: ServedStandIn,
    two_lots: tuple[str, str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    email, _, _ = two_lots
    requested = services.request_refund(CATALOG, ledger, email, "client", email)
    real = gateway.refund_part
    monkeypatch.setattr(gateway, "refund_part", lambda *a: (_ for _ in ()).throw(GatewayError("Stripe unreachable")))
    with pytest.raises(GatewayError):
        services.process_refund(ledger, gateway, email, requested.refund_id)
    assert stripe_refunds(stripe_standin) == []
    assert ledger.account(email).refunding_cents == 16575  # type: ignore[union-attr]

    monkeypatch.setattr(gateway, "refund_part", real)
    services.process_refund(ledger, gateway, email, requested.refund_id)
    services.process_refund(ledger, gateway, email, requested.refund_id)  # a duplicate message: nothing more
    assert len(stripe_standin.standin.refunds) == 2
    customer = ledger.customer(email)
    assert customer is not None
    assert [e.kind for e in customer.entries].count("refunded") == 2


def test_a_partial_refund_and_what_is_left(
    ledger: MemoryLedger, gateway: StripeGateway, stripe_standin: ServedStandIn, two_lots: tuple[str, str, str]
) -> None:
    email, _, half = two_lots
    requested = services.request_refund(CATALOG, ledger, email, "staff", "owner", minutes=20)
    assert [(p.payment_intent, p.minutes, p.amount_cents) for p in requested.parts] == [(half, 20, 4600)]
    services.process_refund(ledger, gateway, email, requested.refund_id)
    account = ledger.account(email)
    assert account is not None and (account.available_minutes, account.available_cents) == (55, 11975)


def test_nothing_left_and_below_the_minimum_are_refused_clearly(
    ledger: MemoryLedger, stripe_standin: ServedStandIn
) -> None:
    email = f"small-{secrets.token_hex(3)}@example.com"
    paid_lot(ledger, stripe_standin, email, 1500, 16, int(time.time()))
    used(ledger, email, 15)  # 1 minute left, worth 94 cents: below the $1.00 minimum
    with pytest.raises(services.ShopError) as small:
        services.request_refund(CATALOG, ledger, email, "client", email)
    assert small.value.code == "below_minimum" and "never forfeited" in small.value.message
    assert ledger.account(email).available_cents == 94  # type: ignore[union-attr]
    staff = services.request_refund(CATALOG, ledger, email, "staff", "owner")  # the shop may still pay it out
    assert staff.amount_cents == 94
    with pytest.raises(services.ShopError) as nothing:
        services.request_refund(CATALOG, ledger, email, "client", email)
    assert nothing.value.code == "nothing_to_refund"


class LaggingIndex(MemoryLedger):
    """The refund-due index as DynamoDB may serve it for a moment: as it was before the last writes."""

    def __init__(self, before: MemoryLedger, stale: list[Account]) -> None:
        super().__init__(before.table)
        self.stale = stale

    def due_accounts(self, until: int | None = None) -> list[Account]:
        return self.stale


def test_a_lagging_index_cannot_warn_twice(ledger: MemoryLedger, stripe_standin: ServedStandIn) -> None:
    email = f"idle-{secrets.token_hex(3)}@example.com"
    bought = int(time.time()) - 340 * 86_400
    paid_lot(ledger, stripe_standin, email, 12900, 60, bought)
    lagging = LaggingIndex(ledger, ledger.due_accounts())  # read before the warning: warned_for not there yet
    assert services.sweep(CATALOG, ledger).warned == [email]
    assert services.sweep(CATALOG, lagging).warned == [], "the warning's condition on warned_for refuses it"
    entries = ledger.customer(email).entries  # type: ignore[union-attr]
    assert [e.kind for e in entries].count("refund-warning") == 1


def test_the_sweep_warns_once_before_it_refunds(ledger: MemoryLedger, stripe_standin: ServedStandIn) -> None:
    email = f"idle-{secrets.token_hex(3)}@example.com"
    bought = int(time.time()) - 340 * 86_400  # a year's refund period, 25 days to go: inside the 30-day warning
    paid_lot(ledger, stripe_standin, email, 12900, 60, bought)
    ledger.table.reads = ledger.table.writes = 0
    first = services.sweep(CATALOG, ledger)
    assert (ledger.table.reads, ledger.table.writes) == (1, 1), "the index query, then the warning: no account read"
    again = services.sweep(CATALOG, ledger)
    assert (ledger.table.reads, ledger.table.writes) == (2, 1), "warned_for in the index: nothing written again"
    assert (first.warned, again.warned, first.refunded) == ([email], [], [])
    due_at = bought + 365 * 86_400
    [entry] = [e for e in ledger.customer(email).entries if e.kind == "refund-warning"]  # type: ignore[union-attr]
    assert (entry.entry_id, entry.amount_cents, entry.minutes) == (f"refund-warning-{due_at}", 12900, 60)
    assert f"will be refunded to your card on {format_day(due_at)}" in entry.note
    assert ledger.account(email).warned_for == due_at  # type: ignore[union-attr]

    [warning] = outbox.effects_for(stream_insert(ledger, email, entry), MAIL)  # what the outbox sends for it
    assert isinstance(warning, Email) and warning.to == email
    assert "$129.00" in warning.text and "refund it to the card" in warning.text
    assert format_day(due_at) in warning.subject

    later = services.sweep(CATALOG, ledger, now=bought + 366 * 86_400)
    assert later.refunded == [email]
    assert ledger.account(email).available_cents == 0  # type: ignore[union-attr]
    assert ledger.account(email).refunding_cents == 12900  # type: ignore[union-attr]
