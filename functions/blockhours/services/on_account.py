"""Trusted clients on account: sessions below zero down to a limit, billed on the shop's schedule."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .. import shop_time
from ..domain.client_email import client_email
from ..domain.debts import Debt, bill_id, next_bill_at, next_step_at
from ..domain.ledger import JournalEntry
from ..domain.money import format_cents, format_minutes
from ..domain.playbook_changes import bill_opened, billing_day_moved, trust_set
from ..emails import format_day
from ..links import paid_url
from ..ports import DebtLink
from .debts import notice_entry
from .errors import Conflict, ShopError
from .retry import replans

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..domain.ledger import Account
    from ..ports import LedgerStore, PaymentGateway


def set_trust(
    catalog: Catalog, store: LedgerStore, email: str, limit_minutes: int, technician: str, now: int | None = None
) -> Account:
    """Let the client's sessions run below zero down to `limit_minutes` (0 ends it: back to prepaying)."""
    email = client_email(email)
    at = now if now is not None else int(time.time())
    if limit_minutes < 0:
        raise ShopError("invalid_limit", "the limit is a number of minutes, 0 or more")
    for _ in replans():
        seen = store.account(email)
        if limit_minutes == 0 and (seen is None or seen.trust_limit_minutes == 0):
            raise Conflict("not_trusted", f"{email} already prepays: there is no limit on account to end")
        if seen is not None and 0 < limit_minutes == seen.trust_limit_minutes:
            return seen  # already so: this request retried after its write, or the same limit given again
        note = (
            f"may pay afterwards, down to {format_minutes(-limit_minutes)}; billed {catalog.on_account.bill_every}"
            if limit_minutes
            else "back to prepaying: no more sessions on account"
        )
        entry = JournalEntry(f"trust-{at}-{limit_minutes}", "trust", at, technician, limit_minutes, 0, note)
        first_bill = next_bill_at(at, catalog.on_account.bill_every, shop_time.zone())
        if store.commit(trust_set(email, limit_minutes, seen, entry, first_bill)):
            account = store.account(email)
            assert account is not None
            return account
    raise Conflict("busy", f"{email}'s account kept changing; send it again")


@dataclass
class BillingReport:
    billed: list[str] = field(default_factory=list)
    nothing_to_bill: list[str] = field(default_factory=list)


def bill_on_account(
    catalog: Catalog, store: LedgerStore, gateway: PaymentGateway, site_url: str, now: int | None = None
) -> BillingReport:
    """On each client's billing day, put what they used on account on one bill, with a Stripe pay link."""
    at = now if now is not None else int(time.time())
    report = BillingReport()
    for due in store.chores("bill", at):
        account: Account | None = due
        for _ in replans():
            if account is None or account.next_bill_at is None or account.next_bill_at > at:
                break
            if _bill(catalog, store, gateway, site_url, account, at, report):
                break
            account = store.account(account.email)
    return report


def _bill(
    catalog: Catalog,
    store: LedgerStore,
    gateway: PaymentGateway,
    site_url: str,
    account: Account,
    at: int,
    report: BillingReport,
) -> bool:
    email, currency = account.email, catalog.shop.currency
    zone = shop_time.zone()
    following = next_bill_at(at, catalog.on_account.bill_every, zone) if account.trust_limit_minutes > 0 else None
    cents = account.on_account_cents - account.billed_cents
    minutes = account.on_account_minutes - account.billed_minutes
    if cents <= 0:
        report.nothing_to_bill.append(email)
        assert account.next_bill_at is not None
        return store.commit(billing_day_moved(email, account.next_bill_at, following)).committed
    assert account.next_bill_at is not None
    debt_id = bill_id(account.next_bill_at, zone)
    description = f"{format_minutes(minutes)} of remote support on account, to {format_day(account.next_bill_at)}"
    link = gateway.create_debt_link(DebtLink(debt_id, email, cents, currency, description, paid_url(site_url)))
    debt = Debt(debt_id, email, "bill", cents, minutes, description, at, link, notices=(at,))
    bill = JournalEntry(
        debt_id, "bill", at, "billing", minutes, cents, f"{description}: {format_cents(cents, currency)}"
    )
    entries = [bill, notice_entry(debt, at, 1, currency)]
    debt_next_at = next_step_at(debt, catalog.dunning_schedule()) or at
    if store.commit(bill_opened(debt, account, entries, debt_next_at, following)):
        report.billed.append(email)
        return True
    return False
