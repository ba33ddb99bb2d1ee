"""What the shop's playbook changes, as values for one commit: quotes, trusted clients' limits and bills, debts.

A debt's `next_at` is its next dunning step (None: none left, listed but never dunned); an account's
`next_bill_at` its next billing day (removed: not billed any more). The store keeps both where the daily run
finds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from .changes import (
    Change,
    Check,
    Expect,
    Put,
    Update,
    account_ref,
    debt_ref,
    journal,
    quote_ref,
    session_ref,
)
from .moves import ACTIVE, account_move, lot_moves

if TYPE_CHECKING:
    from .changes import (
        Condition,
    )
    from .debts import Debt, SetOff
    from .ledger import Account, JournalEntry
    from .lots import Lot
    from .quotes import Quote

OPEN = Expect("status", "=", "open")  # a debt (or a quote) still open: each step on it is taken once


def quote_saved(quote: Quote) -> Change:
    """A quote, kept once: the same id sent twice at once is refused (role "quote"), the first one counts."""
    return Change.of(Put(quote_ref(quote.quote_id), quote))


def quote_closed(
    quote_id: str,
    status: Literal["paid", "expired"],
    at: int,
    checkout_id: str,
    expect: tuple[Condition, ...] = (OPEN,),
) -> Change:
    """A quote becomes paid or expired, once while open; a payment's credit passes `(EXISTS,)`: paid even if
    it expired meanwhile. Refused as "quote" when the condition fails (or the quote is unknown)."""
    return Change.of(
        Update(quote_ref(quote_id), set={"status": status, "closed_at": at, "checkout_id": checkout_id}, expect=expect)
    )


# --- trusted clients --------------------------------------------------------------------------------


def trust_set(email: str, limit_minutes: int, seen: Account | None, entry: JournalEntry, next_bill_at: int) -> Change:
    """A client's limit on account set (or ended, with 0), the account opened if new; refused as "account" when
    their usage on account moved since `seen` was read, as "entry" when this very entry is written already."""
    on_account = seen.on_account_minutes if seen else 0
    unbilled = seen is not None and seen.on_account_cents > seen.billed_cents
    billing = limit_minutes > 0 or unbilled  # still billed once for what was used before the end
    totals = ("available_minutes", "available_cents", "on_account_minutes", "on_account_cents")
    zero = dict.fromkeys((*totals, "billed_minutes", "billed_cents"), 0)
    account = account_move(
        email,
        set={"email": email, "trust_limit_minutes": limit_minutes, "credit_left_minutes": limit_minutes - on_account},
        set_if_absent={
            "status": "active",
            "created_at": entry.at,
            "last_activity_at": entry.at,
            **zero,
            **({"next_bill_at": next_bill_at} if billing else {}),
        },
        remove=() if billing else ("next_bill_at",),
        expect=(Expect("on_account_minutes", "=", on_account, absent=0),),
        money=False,
    )
    return Change.of(account, *journal(email, entry))


def bill_opened(
    debt: Debt, seen: Account, entries: Sequence[JournalEntry], debt_next_at: int, next_bill_at: int | None
) -> Change:
    """The unbilled usage on a bill (a debt with its pay link), and the billing day moved on (or ended), at once;
    refused as "account" when usage or billing moved since `seen`, as "debt" when this bill is open already."""
    day, no_day = _billing_day(next_bill_at)
    account = account_move(
        debt.email,
        add={"billed_minutes": debt.minutes, "billed_cents": debt.amount_cents},
        set=day,
        remove=no_day,
        expect=(
            Expect("on_account_cents", "=", seen.on_account_cents),
            Expect("billed_cents", "=", seen.billed_cents),
        ),
        money=False,
    )
    return Change.of(debt_opened(debt, debt_next_at), *journal(debt.email, *entries), account)


def billing_day_moved(email: str, seen_at: int, next_bill_at: int | None) -> Change:
    """Nothing to bill: the next billing day, or none when the client is no longer trusted; once per day seen."""
    day, no_day = _billing_day(next_bill_at)
    return Change.of(
        account_move(email, set=day, remove=no_day, expect=(Expect("next_bill_at", "=", seen_at),), money=False)
    )


def _billing_day(next_bill_at: int | None) -> tuple[dict[str, int], tuple[str, ...]]:
    """(set, remove): the next billing day, or none (out of the daily run's list)."""
    return ({"next_bill_at": next_bill_at}, ()) if next_bill_at else ({}, ("next_bill_at",))


# --- debts ------------------------------------------------------------------------------------------


def debt_opened(debt: Debt, next_at: int | None) -> Put:
    """The write that opens a debt; it joins the change that makes the debt (a refused overage, a bill, a loss)."""
    return Put(debt_ref(debt.email, debt.debt_id), debt, fields={"next_at": next_at})


def notice_recorded(debt: Debt, entry: JournalEntry, next_at: int | None) -> Change:
    """A reminder sent (the paper trail): once per reminder, however often the daily run is retried."""
    step = Update(
        debt_ref(debt.email, debt.debt_id),
        set={"notices": [*debt.notices, entry.at], "next_at": next_at},
        expect=(OPEN, Expect("notices", "=", list(debt.notices))),  # notices only grow: as read means none since
    )
    return Change.of(step, *journal(debt.email, entry))


def collections_marked(debt: Debt, entry: JournalEntry, next_at: int | None) -> Change:
    """The last reminder went unanswered: the debt is in collections and the account takes no sessions."""
    step = Update(
        debt_ref(debt.email, debt.debt_id),
        set={"collections_at": entry.at, "next_at": next_at},
        expect=(OPEN, Expect("collections_at", "missing")),
    )
    counted = account_move(debt.email, add={"collections_debts": 1}, money=False)
    return Change.of(step, counted, *journal(debt.email, entry))


def prepay_switched(debt: Debt, seen: Account, at: int, entry: JournalEntry | None, next_at: int | None) -> Change:
    """A bill unpaid past its grace days: the client pays ahead again (their limit ends), once.

    A client already prepaying (untrusted by hand: limit 0) is only recorded so (`already_prepaying`, no entry),
    as long as their limit is still 0 at the write; the outbox then announces nothing.
    """
    already = seen.trust_limit_minutes <= 0
    step = Update(
        debt_ref(debt.email, debt.debt_id),
        set={"prepay_at": at, "already_prepaying": already, "next_at": next_at},
        expect=(OPEN, Expect("prepay_at", "missing")),
    )
    limit = (
        Check(account_ref(debt.email), expect=(Expect("trust_limit_minutes", "=", 0, absent=0),), role="account")
        if already
        else account_move(
            debt.email,
            set={"trust_limit_minutes": 0, "credit_left_minutes": -seen.on_account_minutes},
            expect=(
                Expect("trust_limit_minutes", "=", seen.trust_limit_minutes),
                Expect("on_account_minutes", "=", seen.on_account_minutes),
            ),
            money=False,
        )
    )
    return Change.of(step, *journal(debt.email, *([entry] if entry else [])), limit)


def debt_paid(debt: Debt, entry: JournalEntry, settled_by: str = "") -> Change:
    """A debt paid by its link: the schedule stops, the collections mark goes, the account is square. Once
    (refused as "debt" when it is no longer open, or went to collections since it was read)."""
    return _paid(debt, entry, settled_by)


def debt_set_off(set_off: SetOff, lots_before: Sequence[Lot], entry: JournalEntry) -> Change:
    """A debt paid from the client's balance: the lots it drew on, the debt and the account, at once.

    Refused when a lot moved since it was read, the debt is no longer open, or the account is frozen.
    """
    spend = {
        "available_minutes": -set_off.spendable_minutes,
        "available_cents": -set_off.spendable_cents,
        "awaiting_refund_cents": -set_off.awaiting_cents,
    }
    drawn = lot_moves(set_off.debt.email, lots_before, set_off.lots_after)
    return Change.of(*drawn) + _paid(set_off.debt, entry, "balance", spend, (ACTIVE,))


def _paid(
    debt: Debt,
    entry: JournalEntry,
    settled_by: str,
    spend: dict[str, int] | None = None,
    account_expect: tuple[Condition, ...] = (),
) -> Change:
    email = debt.email
    was_collections = debt.collections_at is not None
    closed = Update(
        debt_ref(email, debt.debt_id),
        set={"status": "paid", "paid_at": entry.at, "settled_by": settled_by},
        remove=("next_at",),
        expect=(OPEN, Expect("collections_at", "exists" if was_collections else "missing")),
    )
    adds = {"collections_debts": -1 if was_collections else 0}
    if debt.kind == "bill":
        adds |= {
            "on_account_minutes": -debt.minutes,
            "on_account_cents": -debt.amount_cents,
            "billed_minutes": -debt.minutes,
            "billed_cents": -debt.amount_cents,
            "credit_left_minutes": debt.minutes,
        }
    else:
        adds["owed_cents"] = -debt.amount_cents
    session = (
        Update(
            session_ref(email, debt.debt_id.removeprefix("overage-")),
            set={"overage_status": "paid"},
            expect=(Expect("overage_status", "=", "owed"),),
        )
        if debt.kind == "overage"
        else None
    )
    account = account_move(email, add=adds | (spend or {}), expect=account_expect, money=spend is not None)
    return Change.of(closed, *journal(email, entry), session, account)
