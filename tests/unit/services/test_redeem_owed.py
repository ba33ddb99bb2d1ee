"""A trusted client's session on the in-memory store: the balance, then the limit, then a card for the rest; a
client with no card is refused before anything is written, in words that offer no card; a session id sent again
says it was recorded before."""

from __future__ import annotations

import pytest

from blockhours import emails
from blockhours.catalog import Catalog
from blockhours.domain.changes import session_ref
from blockhours.domain.ledger import Payment
from blockhours.services import Conflict, SessionRequest, record_payment, record_session, redeem, set_trust
from blockhours_dev.memory_ledger import MemoryLedger
from blockhours_dev.standin.payments import paid_intent
from in_memory import bought, no_gateway
from served_standin import ServedStandIn
from stripe_events import opened_payment

EMAIL = "ana@example.com"
AT = 1_800_000_000


@pytest.fixture
def ledger() -> MemoryLedger:
    return MemoryLedger()


def trusted_without_card(catalog: Catalog, store: MemoryLedger, limit: int, used: int) -> None:
    """Trusted by the owner, never paid by card, `used` minutes already on account."""
    set_trust(catalog, store, EMAIL, limit, "owner", AT)
    if used:
        redeem(catalog, store, no_gateway, SessionRequest(EMAIL, used, "Sam", "first", "T-1"), AT + 60)  # type: ignore[arg-type]


def snapshot(store: MemoryLedger) -> tuple[object, ...]:
    ledger = store.customer(EMAIL)
    assert ledger is not None
    return ledger.account, tuple(ledger.entries), tuple(ledger.debts), tuple(ledger.lots)


def test_no_card_on_file_is_refused_before_anything_is_written_and_says_what_fits(
    catalog: Catalog, ledger: MemoryLedger
) -> None:
    """The issue's client: 255 of a 300-minute limit left, no card; `redeem … 300 --charge-overage`."""
    trusted_without_card(catalog, ledger, 300, 45)
    before = snapshot(ledger)
    request = SessionRequest(EMAIL, 300, "Sam", "server rebuild", "T-2", charge_overage=True)
    with pytest.raises(Conflict) as refused:
        redeem(catalog, ledger, no_gateway, request, AT + 120)  # type: ignore[arg-type]
    assert refused.value.code == "no_card"
    message = refused.value.message
    assert "no card is saved for them" in message and "nothing was recorded" in message
    assert "255 of their 300-minute limit" in message and "the session needs 300" in message
    assert "record the 255 minutes that fit" in message and f"`blockhours quote {EMAIL} 45`" in message
    assert "saved card" not in message and "charge the saved" not in message
    assert snapshot(ledger) == before, "refused before any write: no session, entry, debt or change of balance"
    assert ledger.find(session_ref(EMAIL, "T-2")) is None

    fits = redeem(catalog, ledger, no_gateway, SessionRequest(EMAIL, 255, "Sam", "part one", "T-3"), AT + 180)  # type: ignore[arg-type]
    assert (fits.on_account_minutes, fits.overage_minutes, fits.overage_status) == (255, 0, "none")
    assert not snapshot(ledger)[2], "no debt: no notice, no reminder, never collections"
    statement = emails.session_statement(catalog, fits, "https://shop.example")  # the one email this path sends
    assert "card" not in statement.text.lower(), statement.text


@pytest.mark.parametrize("charge_overage", [False, True])
def test_no_refusal_offers_a_card_the_client_has_not_got(
    catalog: Catalog, ledger: MemoryLedger, charge_overage: bool
) -> None:
    trusted_without_card(catalog, ledger, 60, 60)  # the whole limit used: nothing fits
    request = SessionRequest(EMAIL, 30, "Sam", "", "T-2", charge_overage=charge_overage)
    with pytest.raises(Conflict) as refused:
        redeem(catalog, ledger, no_gateway, request, AT + 120)  # type: ignore[arg-type]
    assert refused.value.code == ("no_card" if charge_overage else "over_limit")
    assert "saved card" not in refused.value.message and "--charge-overage" not in refused.value.message
    assert f"`blockhours quote {EMAIL} 30`" in refused.value.message

    set_trust(catalog, ledger, EMAIL, 0, "owner", AT + 200)  # back to prepaying, still never paid by card
    with pytest.raises(Conflict) as prepaying:
        redeem(catalog, ledger, no_gateway, request, AT + 300)  # type: ignore[arg-type]
    assert prepaying.value.code == ("no_card" if charge_overage else "insufficient_balance")
    assert "saved card" not in prepaying.value.message and "no card is saved" in prepaying.value.message


def test_a_client_with_a_card_is_offered_it_for_the_rest_only(catalog: Catalog, ledger: MemoryLedger) -> None:
    bought(catalog, ledger, EMAIL, 30, 6450, AT, "cs_a")
    set_trust(catalog, ledger, EMAIL, 60, "owner", AT + 10)
    with pytest.raises(Conflict) as refused:
        redeem(catalog, ledger, no_gateway, SessionRequest(EMAIL, 120, "Sam", "", "T-1"), AT + 60)  # type: ignore[arg-type]
    assert refused.value.code == "over_limit"
    assert "pass --charge-overage to use all of it and charge the other 30 to the saved card" in refused.value.message


def test_with_a_card_the_limit_is_used_before_it(
    catalog: Catalog, ledger: MemoryLedger, stripe_standin: ServedStandIn
) -> None:
    """30 minutes of balance, 255 of the limit, a 300-minute session: 15 minutes go to the card, not 300."""
    standin = stripe_standin.standin
    standin.customers["cus_ana"] = standin._object("customer", id="cus_ana", email=EMAIL, metadata={})
    pi = paid_intent(standin, 6450, customer="cus_ana", card="4242424242424242")  # the card saved at checkout
    payment = Payment("cs_card", pi, "cus_ana", EMAIL, "block-60", "block", 30, 6450, "usd", "v1", AT)
    assert record_payment(catalog, ledger, "evt_card", opened_payment(ledger, payment)) == "credited"
    set_trust(catalog, ledger, EMAIL, 300, "owner", AT + 10)
    redeem(catalog, ledger, no_gateway, SessionRequest(EMAIL, 75, "Sam", "", "T-1"), AT + 60)  # type: ignore[arg-type]
    request = SessionRequest(EMAIL, 300, "Sam", "rebuild", "T-2", charge_overage=True)
    record = redeem(catalog, ledger, stripe_standin.gateway, request, AT + 120)
    assert (record.covered_minutes, record.on_account_minutes, record.overage_minutes) == (0, 255, 45)
    assert (record.overage_cents, record.overage_status) == (9675, "charged")
    account = ledger.account(EMAIL)
    assert account is not None and (account.on_account_minutes, account.credit_left_minutes) == (300, 0)


def test_a_session_id_sent_again_is_a_replay_not_a_new_record(catalog: Catalog, ledger: MemoryLedger) -> None:
    bought(catalog, ledger, EMAIL, 60, 12900, AT, "cs_a")
    request = SessionRequest(EMAIL, 30, "Sam", "printer", "T-1001")
    first = record_session(catalog, ledger, no_gateway, request, AT + 60)  # type: ignore[arg-type]
    again = record_session(catalog, ledger, no_gateway, request, AT + 3600)  # type: ignore[arg-type]
    assert (first.recorded_now, again.recorded_now) == (True, False)
    assert again.record == first.record and again.record.at == AT + 60, "the first outcome, as it was recorded"
    account = ledger.account(EMAIL)
    assert account is not None and account.available_minutes == 30, "recorded once"
