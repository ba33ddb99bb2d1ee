"""An overage left pending while Stripe was out of reach, finished days later (issue 15 follow-up) on the in-memory
store: the debt, its notice entry and its reminders count from the day the notice is written, by the daily run or
the technician's retry; its words still name the session's day; a second finisher opens no second debt."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from blockhours import emails, shop_time
from blockhours.catalog import Catalog
from blockhours.domain.debts import Debt
from blockhours.domain.ledger import Payment
from blockhours.services import SessionRequest, ShopError, finish_pending_overages, record_payment, redeem
from blockhours.statement import statement_rows
from blockhours_dev.standin.payments import paid_intent
from in_memory import RacingLedger
from served_standin import ServedStandIn
from stripe_events import opened_payment

EMAIL = "ana@example.com"
AT = 1_800_000_000  # the session: 15 Jan 2027
DAY = 86_400
LATE = AT + 4 * DAY + 3_600  # Stripe is back; the notice goes out now
REQUEST = SessionRequest(EMAIL, 90, "Sam", "server move", "T-1", charge_overage=True)


@pytest.fixture
def ledger() -> RacingLedger:
    return RacingLedger()


def left_pending(catalog: Catalog, ledger: RacingLedger, served: ServedStandIn, card: str = "4000000000000341") -> None:
    """Ana's 60 minutes, paid by a card (by default one later charges decline); a 90-minute session while Stripe is
    down."""
    standin = served.standin
    standin.customers["cus_ana"] = standin._object("customer", id="cus_ana", email=EMAIL, metadata={})
    pi = paid_intent(standin, 12900, customer="cus_ana", card=card)
    payment = Payment("cs_ana", pi, "cus_ana", EMAIL, "block-60", "block", 60, 12900, "usd", "v1", AT - DAY)
    assert record_payment(catalog, ledger, "evt_ana", opened_payment(ledger, payment)) == "credited"
    standin.outage = True
    try:
        with pytest.raises(ShopError) as down:
            redeem(catalog, ledger, served.gateway, REQUEST, AT)
    finally:
        standin.outage = False
    assert down.value.code == "overage_pending"


def the_debt(ledger: RacingLedger) -> Debt:
    customer = ledger.customer(EMAIL)
    assert customer is not None
    (debt,) = customer.debts
    return debt


def notices(ledger: RacingLedger) -> list[int]:
    customer = ledger.customer(EMAIL)
    assert customer is not None
    return [entry.at for entry in customer.entries if entry.kind == "notice"]


def by_the_daily_run(catalog: Catalog, ledger: RacingLedger, served: ServedStandIn, at: int) -> None:
    assert finish_pending_overages(catalog, ledger, served.gateway, at) == [f"{EMAIL} T-1"]


def by_the_technician(catalog: Catalog, ledger: RacingLedger, served: ServedStandIn, at: int) -> None:
    assert redeem(catalog, ledger, served.gateway, REQUEST, at).overage_status == "owed"


Finisher = Callable[[Catalog, RacingLedger, ServedStandIn, int], None]


@pytest.mark.parametrize("finish", [by_the_daily_run, by_the_technician])
def test_a_late_notice_starts_the_debt_and_its_reminders_when_it_is_sent(
    catalog: Catalog, ledger: RacingLedger, stripe_standin: ServedStandIn, finish: Finisher
) -> None:
    left_pending(catalog, ledger, stripe_standin)
    assert ledger.chores("overage", LATE) and not notices(ledger)

    finish(catalog, ledger, stripe_standin, LATE)
    debt = the_debt(ledger)
    assert (debt.opened_at, debt.notices, debt.arose) == (LATE, (LATE,), AT)
    assert debt.description == f"30 minutes beyond your balance on {emails.format_day(AT)}", "the session's day"
    assert notices(ledger) == [LATE], "the journal dates the notice when it was written"

    first_reminder = LATE + catalog.dunning.reminder_days[0] * DAY
    assert not ledger.chores("debt", first_reminder - 1) and ledger.chores("debt", first_reminder)
    letter = emails.debt_notice(catalog, debt, catalog.dunning_schedule())
    assert f"on {emails.format_day(first_reminder)} we send a reminder" in letter.text
    assert emails.format_day(AT + catalog.dunning.reminder_days[0] * DAY) not in letter.text, "no day counted early"

    customer = ledger.customer(EMAIL)
    assert customer is not None
    [row] = [row for row in statement_rows(customer, catalog, shop_time.zone()) if row.words.startswith("Payment")]
    assert row.at == LATE and row.words.endswith(f"for the time beyond your balance on {emails.format_day(AT)}")


def test_a_second_finisher_opens_no_second_debt(
    catalog: Catalog, ledger: RacingLedger, stripe_standin: ServedStandIn
) -> None:
    """The technician resends the session while the daily run finishes it: the first commit counts, once."""
    left_pending(catalog, ledger, stripe_standin)
    run = lambda: by_the_daily_run(catalog, ledger, stripe_standin, LATE)  # noqa: E731
    ledger.racer = lambda: setattr(ledger, "racer", run)  # past the session's commit, at the overage's
    again = redeem(catalog, ledger, stripe_standin.gateway, REQUEST, LATE + 600)
    assert ledger.refused == 2, "the session was recorded before; the overage's commit met the daily run's"
    assert again.overage_status == "owed" and the_debt(ledger).opened_at == LATE
    assert finish_pending_overages(catalog, ledger, stripe_standin.gateway, LATE + DAY) == []
    by_the_technician(catalog, ledger, stripe_standin, LATE + 2 * DAY)
    assert (the_debt(ledger).notices, notices(ledger)) == ((LATE,), [LATE]), "one debt, one notice"


def test_a_late_charge_is_dated_when_the_card_was_charged(
    catalog: Catalog, ledger: RacingLedger, stripe_standin: ServedStandIn
) -> None:
    left_pending(catalog, ledger, stripe_standin, card="4242424242424242")
    by_the_daily_run(catalog, ledger, stripe_standin, LATE)
    customer = ledger.customer(EMAIL)
    assert customer is not None and not customer.debts
    [paid] = [entry for entry in customer.entries if entry.kind == "payment"]
    assert (paid.at, paid.amount_cents) == (LATE, 6450)
