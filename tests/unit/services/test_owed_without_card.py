"""An overage no card was tried for (issue 15 follow-up), on the in-memory store: the card that paid the lot was not
saved for later, or (sessions left pending before the no-card refusal) no card ever paid. The client's emails, the
statement and the staff's summary say to pay by the link, never that a card could not be charged."""

from __future__ import annotations

from dataclasses import replace

import pytest

from blockhours import emails, outbox, shop_time
from blockhours.adapters.dynamo_items import debt_values, item, session_values
from blockhours.catalog import Catalog
from blockhours.domain.changes import session_ref
from blockhours.domain.ledger import JournalEntry, SessionRecord
from blockhours.domain.session_changes import session_recorded
from blockhours.reports import session_summary
from blockhours.services import SessionRequest, finish_pending_overages, redeem, set_trust
from blockhours.statement import statement_rows
from blockhours_dev.memory_ledger import MemoryLedger
from served_standin import ServedStandIn, paid_lot

EMAIL = "ben@example.com"
AT = 1_800_000_000
CLAIMS = ("could not charge", "could not take", "card was declined", "card could not")


@pytest.fixture
def ledger() -> MemoryLedger:
    return MemoryLedger()


def sent(catalog: Catalog, new: dict[str, object], old: dict[str, object] | None = None) -> list[emails.Email]:
    """What the outbox emails for this item written (or changed from `old`), read back as the stream carries it."""
    context = outbox.MailContext(catalog, "https://shop.example", "s" * 40, "owner@shop.example")
    record = {"eventName": "MODIFY" if old else "INSERT", "dynamodb": {"NewImage": item(new)}}
    if old:
        record["dynamodb"]["OldImage"] = item(old)
    effects = outbox.effects_for(outbox.Change.from_record(record), context)
    return [effect for effect in effects if isinstance(effect, emails.Email)]


def assert_says_pay_by_the_link(catalog: Catalog, ledger: MemoryLedger, record: SessionRecord) -> None:
    assert record.overage_status == "owed" and record.overage_no_card and record.pay_url
    customer = ledger.customer(EMAIL)
    assert customer is not None
    (debt,) = customer.debts
    assert debt.no_card

    pending = replace(record, overage_status="pending", pay_url=None, overage_no_card=False)
    [statement] = sent(catalog, session_values(record) | {"pk": f"CUST#{EMAIL}"}, session_values(pending))
    [notice] = sent(catalog, {"pk": f"CUST#{EMAIL}", "sk": f"DEBT#{debt.debt_id}", **debt_values(debt)})
    reminded = replace(debt, notices=(*debt.notices, debt.opened_at + 7 * 86_400))
    reminder = emails.debt_notice(catalog, reminded, catalog.dunning_schedule())
    for letter in (statement, notice, reminder):
        assert "pay it by the link" in letter.text and record.pay_url in letter.text, letter.text
        assert not any(claim in letter.text.lower() for claim in CLAIMS), letter.text
        assert "No card is saved on your account" in letter.text
    rows = " | ".join(row.words for row in statement_rows(customer, catalog, shop_time.zone()))
    assert "Payment link sent" in rows and not any(claim in rows.lower() for claim in CLAIMS), rows
    assert "owed: no card to charge" in session_summary(record, catalog)


def test_a_card_not_saved_for_later_is_never_said_to_have_failed(
    catalog: Catalog, ledger: MemoryLedger, stripe_standin: ServedStandIn
) -> None:
    """The lot's payment saved no card (no customer at Stripe): nothing can be charged, so nothing is tried."""
    paid_lot(ledger, stripe_standin, EMAIL, 12900, 60, AT)
    request = SessionRequest(EMAIL, 90, "Sam", "server move", "T-1", charge_overage=True)
    record = redeem(catalog, ledger, stripe_standin.gateway, request, AT + 60)
    assert not [i for i in stripe_standin.standin.payment_intents.values() if i["metadata"].get("kind") == "overage"]
    assert_says_pay_by_the_link(catalog, ledger, record)


def test_a_session_left_pending_with_no_card_on_file_is_owed_in_true_words(
    catalog: Catalog, ledger: MemoryLedger, stripe_standin: ServedStandIn
) -> None:
    """What reaches the defensive path: a session recorded (before the no-card refusal) for a client no card ever
    paid for, its overage left pending while Stripe was out of reach; the daily run finishes it."""
    set_trust(catalog, ledger, EMAIL, 60, "owner", AT)
    record = SessionRecord(
        session_id="T-old",
        email=EMAIL,
        at=AT + 60,
        technician="Sam",
        note="rebuild",
        requested_minutes=30,
        billed_minutes=30,
        covered_minutes=0,
        covered_cents=0,
        overage_minutes=30,
        overage_cents=6450,
        draws=(),
        balance_minutes_after=0,
        balance_cents_after=0,
        overage_status="pending",
    )
    beyond = JournalEntry("overage-T-old", "overage", record.at, "Sam", 30, 6450, "30 minutes beyond the balance")
    assert ledger.commit(session_recorded(record, [], [], [beyond], AT + 365 * 86_400))
    assert finish_pending_overages(catalog, ledger, stripe_standin.gateway, AT + 86_400) == [f"{EMAIL} T-old"]
    done = ledger.find(session_ref(EMAIL, "T-old"))
    assert done is not None
    assert_says_pay_by_the_link(catalog, ledger, done)
