"""The daily run's dunning on the in-memory store, after it missed days (issue 15): one reminder, collections a day
after it, nothing sent twice when the run is retried, and a move back to prepaying already made by hand recorded
without being announced again (the outbox sends nothing for it)."""

from __future__ import annotations

import pytest

from blockhours import emails, outbox
from blockhours.adapters.dynamo_items import debt_values, item
from blockhours.catalog import Catalog
from blockhours.domain.debts import Debt
from blockhours.services import DunningReport, SessionRequest, bill_on_account, chase_debts, redeem, set_trust
from blockhours_dev.memory_ledger import MemoryLedger
from in_memory import no_gateway
from served_standin import ServedStandIn

EMAIL = "carla@example.com"
AT = 1_800_000_000
DAY = 86_400


@pytest.fixture
def ledger() -> MemoryLedger:
    return MemoryLedger()


def billed(catalog: Catalog, ledger: MemoryLedger, served: ServedStandIn, untrust: bool) -> Debt:
    """Carla, trusted, uses 45 minutes on account (and is untrusted by hand, or not); her billing day bills them."""
    set_trust(catalog, ledger, EMAIL, 300, "owner", AT)
    redeem(catalog, ledger, no_gateway, SessionRequest(EMAIL, 45, "Sam", "printer", "T-1"), AT + 60)  # type: ignore[arg-type]
    if untrust:
        set_trust(catalog, ledger, EMAIL, 0, "owner", AT + 120)
    account = ledger.account(EMAIL)
    assert account is not None and account.next_bill_at is not None
    assert bill_on_account(catalog, ledger, served.gateway(), "https://shop.example", account.next_bill_at).billed
    (bill,) = ledger.chores("debt")
    return bill


def debt_now(ledger: MemoryLedger) -> Debt:
    customer = ledger.customer(EMAIL)
    assert customer is not None
    (debt,) = customer.debts
    return debt


def told(new: Debt, old: Debt, catalog: Catalog) -> list[str]:
    """The subjects of what the outbox sends for this change of the debt."""
    context = outbox.MailContext(catalog, "https://shop.example", "s" * 40, "owner@shop.example")
    images = [{"pk": f"CUST#{EMAIL}", "sk": f"DEBT#{d.debt_id}", **debt_values(d)} for d in (new, old)]
    change = outbox.Change.from_record(
        {"eventName": "MODIFY", "dynamodb": {"NewImage": item(images[0]), "OldImage": item(images[1])}}
    )
    return [effect.subject for effect in outbox.effects_for(change, context) if isinstance(effect, emails.Email)]


def test_three_weeks_without_a_run_send_one_reminder_then_collections_a_day_later(
    catalog: Catalog, ledger: MemoryLedger, stripe_standin: ServedStandIn
) -> None:
    bill = billed(catalog, ledger, stripe_standin, untrust=False)
    late = bill.opened_at + 22 * DAY
    report = chase_debts(catalog, ledger, late)
    assert (len(report.reminded), len(report.prepay), report.collections) == (1, 1, [])
    after = debt_now(ledger)
    assert after.notices == (bill.opened_at, late) and after.collections_at is None
    assert ledger.chores("debt", late) == [], "the debt moved on in the index: a retried run finds nothing due"
    assert chase_debts(catalog, ledger, late) == DunningReport(), "retried: nothing sent twice"
    reminder = emails.debt_notice(catalog, after, catalog.dunning_schedule())
    assert f"on {emails.format_day(late + DAY)} your account goes to collections" in reminder.text
    assert emails.format_day(bill.opened_at + 21 * DAY) not in reminder.text, "no day already gone"

    assert chase_debts(catalog, ledger, late + DAY - 60).collections == [], "a full day after the reminder"
    assert len(chase_debts(catalog, ledger, late + DAY).collections) == 1
    assert debt_now(ledger).collections_at == late + DAY


def test_back_to_prepaying_by_hand_is_not_announced_again_at_the_grace_date(
    catalog: Catalog, ledger: MemoryLedger, stripe_standin: ServedStandIn
) -> None:
    bill = billed(catalog, ledger, stripe_standin, untrust=True)
    chase_debts(catalog, ledger, bill.opened_at + 7 * DAY)
    before = debt_now(ledger)
    grace = bill.opened_at + catalog.on_account.grace_days * DAY
    report = chase_debts(catalog, ledger, grace)
    assert report.prepay == [] and len(report.reminded) == 1, "the reminder due that day, and no announcement"
    after = debt_now(ledger)
    assert (after.prepay_at, after.already_prepaying) == (grace, True)
    customer = ledger.customer(EMAIL)
    assert customer is not None
    assert not [e for e in customer.entries if e.entry_id.startswith("prepay-")], "no statement line for it"
    account = ledger.account(EMAIL)
    assert account is not None and account.trust_limit_minutes == 0
    subjects = told(after, before, catalog)
    assert len(subjects) == 1 and "reminder 2" in subjects[0], subjects  # the reminder only, no "prepaid again"
    assert chase_debts(catalog, ledger, grace) == DunningReport()


def test_a_client_still_trusted_at_the_grace_date_is_moved_back_and_told(
    catalog: Catalog, ledger: MemoryLedger, stripe_standin: ServedStandIn
) -> None:
    bill = billed(catalog, ledger, stripe_standin, untrust=False)
    chase_debts(catalog, ledger, bill.opened_at + 7 * DAY)
    before = debt_now(ledger)
    report = chase_debts(catalog, ledger, bill.opened_at + catalog.on_account.grace_days * DAY)
    assert len(report.prepay) == 1
    after = debt_now(ledger)
    assert after.prepay_at is not None and not after.already_prepaying
    assert any("prepaid again" in subject for subject in told(after, before, catalog))
