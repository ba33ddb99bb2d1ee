"""The shop's playbook in the table: quotes, trusted clients on account, and debts chased on a schedule.

Open debts and trusted accounts carry `chore` and `chore_at`, so the daily run reads them from the
sparse `chores` index (what is due, nothing else) and `blockhours debts` lists every open debt from it.
"""

from __future__ import annotations

from typing import Any, Literal

from ..domain.debts import Debt, SetOff
from ..domain.ledger import Account, JournalEntry
from ..domain.lots import Lot
from ..domain.quotes import Quote
from .dynamo_items import (
    ACCOUNT_SK,
    CHORE_BILL,
    CHORE_DEBT,
    QUOTES_PK,
    customer_pk,
    debt_sk,
    debt_values,
    entry_sk,
    entry_values,
    lot_sk,
    quote_sk,
    quote_values,
    session_sk,
)
from .dynamo_table import DynamoTable

# A debt in collections has no step left; it stays in the index (so it is listed) at a day that never comes.
NEVER = 9_999_999_999


class PlaybookWrites(DynamoTable):
    # --- quotes -----------------------------------------------------------------------------

    def save_quote(self, quote: Quote) -> bool:
        return not self._transact([self._put(QUOTES_PK, quote_sk(quote.quote_id), quote_values(quote))])

    def close_quote(self, quote_id: str, status: Literal["paid", "expired"], at: int, checkout_id: str) -> bool:
        """An open quote becomes paid or expired, once; False if it was not open any more (or is unknown)."""
        return not self._transact([self._close_quote(quote_id, status, at, checkout_id)])

    def _close_quote(
        self, quote_id: str, status: str, at: int, checkout_id: str, condition: str = "#status = :open"
    ) -> dict[str, Any]:
        return self._update(
            QUOTES_PK,
            quote_sk(quote_id),
            "SET #status = :status, closed_at = :at, checkout_id = :checkout",
            {":status": status, ":at": at, ":checkout": checkout_id, ":open": "open"},
            condition,
        )

    # --- trusted clients --------------------------------------------------------------------

    def set_trust(
        self, email: str, limit_minutes: int, seen: Account | None, entry: JournalEntry, next_bill_at: int
    ) -> bool:
        """Set (or end, with 0) a client's limit on account; False if their usage moved since it was read."""
        on_account = seen.on_account_minutes if seen else 0
        unbilled = seen is not None and seen.on_account_cents > seen.billed_cents
        billing = limit_minutes > 0 or unbilled  # still billed once for what was used before the end
        account = self._update(
            customer_pk(email),
            ACCOUNT_SK,
            "SET email = :email, #status = if_not_exists(#status, :active), "
            "created_at = if_not_exists(created_at, :now), last_activity_at = if_not_exists(last_activity_at, :now), "
            "available_minutes = if_not_exists(available_minutes, :zero), "
            "available_cents = if_not_exists(available_cents, :zero), "
            "on_account_minutes = if_not_exists(on_account_minutes, :zero), "
            "on_account_cents = if_not_exists(on_account_cents, :zero), "
            "billed_minutes = if_not_exists(billed_minutes, :zero), billed_cents = if_not_exists(billed_cents, :zero), "
            "trust_limit_minutes = :limit, credit_left_minutes = :left"
            + (", chore = :bill, chore_at = if_not_exists(chore_at, :next)" if billing else " REMOVE chore, chore_at"),
            {
                ":email": email,
                ":active": "active",
                ":now": entry.at,
                ":limit": limit_minutes,
                ":zero": 0,
                ":left": limit_minutes - on_account,
                ":bill": CHORE_BILL if billing else None,
                ":next": next_bill_at if billing else None,
                ":seen": on_account,
            },
            "attribute_not_exists(on_account_minutes) OR on_account_minutes = :seen",
        )
        return not self._transact([account, self._put(customer_pk(email), entry_sk(entry), entry_values(entry))])

    def open_bill(
        self, debt: Debt, seen: Account, entries: list[JournalEntry], debt_next_at: int, next_bill_at: int | None
    ) -> bool:
        """Put the unbilled usage on a bill (a debt with its pay link) and move the billing day on, at once."""
        pk = customer_pk(debt.email)
        moved = "SET chore_at = :next" if next_bill_at else "REMOVE chore, chore_at"
        return not self._transact(
            [
                self.debt_item(debt, debt_next_at),
                *(self._put(pk, entry_sk(entry), entry_values(entry)) for entry in entries),
                self._update(
                    pk,
                    ACCOUNT_SK,
                    f"{moved} ADD billed_minutes :minutes, billed_cents :cents",
                    {
                        ":next": next_bill_at,
                        ":minutes": debt.minutes,
                        ":cents": debt.amount_cents,
                        ":seen_on": seen.on_account_cents,
                        ":seen_billed": seen.billed_cents,
                    },
                    "on_account_cents = :seen_on AND billed_cents = :seen_billed",
                ),
            ]
        )

    def move_billing_day(self, email: str, seen_at: int | None, next_bill_at: int | None) -> bool:
        """Nothing to bill: the next billing day, or out of the index when the client is no longer trusted."""
        moved = "SET chore_at = :next" if next_bill_at else "REMOVE chore, chore_at"
        return not self._transact(
            [
                self._update(
                    customer_pk(email), ACCOUNT_SK, moved, {":next": next_bill_at, ":seen": seen_at}, "chore_at = :seen"
                )
            ]
        )

    # --- debts ------------------------------------------------------------------------------

    def debt_item(self, debt: Debt, next_at: int) -> dict[str, Any]:
        """The put that opens a debt; it joins the write that makes the debt (a refused overage, a bill)."""
        values = {**debt_values(debt), "chore": CHORE_DEBT, "chore_at": next_at}
        return self._put(customer_pk(debt.email), debt_sk(debt.debt_id), values)

    def record_notice(self, debt: Debt, entry: JournalEntry, next_at: int | None) -> bool:
        """A reminder sent (the paper trail): once per reminder, however often the daily run is retried."""
        pk = customer_pk(debt.email)
        return not self._transact(
            [
                self._update(
                    pk,
                    debt_sk(debt.debt_id),
                    "SET notices = list_append(notices, :at), chore_at = :next",
                    {":at": [entry.at], ":next": next_at or NEVER, ":open": "open", ":count": len(debt.notices)},
                    "#status = :open AND size(notices) = :count",
                ),
                self._put(pk, entry_sk(entry), entry_values(entry)),
            ]
        )

    def mark_collections(self, debt: Debt, entry: JournalEntry, next_at: int | None) -> bool:
        """The last reminder went unanswered: the debt is in collections and the account takes no sessions."""
        pk = customer_pk(debt.email)
        return not self._transact(
            [
                self._update(
                    pk,
                    debt_sk(debt.debt_id),
                    "SET collections_at = :at, chore_at = :next",
                    {":at": entry.at, ":next": next_at or NEVER, ":open": "open"},
                    "#status = :open AND attribute_not_exists(collections_at)",
                ),
                self._update(pk, ACCOUNT_SK, "ADD collections_debts :one", {":one": 1}),
                self._put(pk, entry_sk(entry), entry_values(entry)),
            ]
        )

    def switch_to_prepay(self, debt: Debt, seen: Account, entry: JournalEntry, next_at: int | None) -> bool:
        """A bill unpaid past its grace days: the client pays ahead again (their limit ends), once."""
        pk = customer_pk(debt.email)
        items = [
            self._update(
                pk,
                debt_sk(debt.debt_id),
                "SET prepay_at = :at, chore_at = :next",
                {":at": entry.at, ":next": next_at or NEVER, ":open": "open"},
                "#status = :open AND attribute_not_exists(prepay_at)",
            ),
            self._put(pk, entry_sk(entry), entry_values(entry)),
        ]
        if seen.trust_limit_minutes > 0:
            items.append(
                self._update(
                    pk,
                    ACCOUNT_SK,
                    "SET trust_limit_minutes = :zero, credit_left_minutes = :left",
                    {
                        ":zero": 0,
                        ":left": -seen.on_account_minutes,
                        ":limit": seen.trust_limit_minutes,
                        ":seen": seen.on_account_minutes,
                    },
                    "trust_limit_minutes = :limit AND on_account_minutes = :seen",
                )
            )
        return not self._transact(items)

    def pay_debt(self, debt: Debt, entry: JournalEntry, settled_by: str = "") -> bool:
        """A debt paid: the schedule stops, the collections mark goes, the account is square. Once."""
        return not self._transact(self._debt_paid_items(debt, entry, settled_by=settled_by))

    def pay_debt_from_balance(self, set_off: SetOff, lots_before: list[Lot], entry: JournalEntry) -> bool:
        """A debt paid from the client's balance: the lots it drew on, the debt and the account, at once.

        False when a lot moved since it was read or the debt is no longer open: read again.
        """
        pk = customer_pk(set_off.debt.email)
        before = {lot.lot_id: lot for lot in lots_before}
        drawn = {lot_id for lot_id, _, _ in set_off.draws}
        lot_items = [
            self._update(
                pk,
                lot_sk(lot),
                "SET used_minutes = :used, consumed_cents = :consumed",
                {
                    ":used": lot.used_minutes,
                    ":consumed": lot.consumed_cents,
                    ":was_used": before[lot.lot_id].used_minutes,
                    ":was_refunded": before[lot.lot_id].refunded_minutes,
                    ":was_refunded_cents": before[lot.lot_id].refunded_cents,
                    ":was_back": before[lot.lot_id].charged_back_cents,
                },
                "used_minutes = :was_used AND refunded_minutes = :was_refunded "
                "AND refunded_cents = :was_refunded_cents "
                "AND (attribute_not_exists(charged_back_cents) OR charged_back_cents = :was_back)",
            )
            for lot in set_off.lots_after
            if lot.lot_id in drawn
        ]
        spend = {
            "available_minutes": -set_off.spendable_minutes,
            "available_cents": -set_off.spendable_cents,
            "awaiting_refund_cents": -set_off.awaiting_cents,
        }
        paid = self._debt_paid_items(set_off.debt, entry, spend, "#status = :active", "balance")  # never when frozen
        return not self._transact([*lot_items, *paid])

    def _debt_paid_items(
        self,
        debt: Debt,
        entry: JournalEntry,
        also_add: dict[str, int] | None = None,
        account_condition: str = "",
        settled_by: str = "",
    ) -> list[dict[str, Any]]:
        pk = customer_pk(debt.email)
        was_collections = debt.collections_at is not None
        items = [
            self._update(
                pk,
                debt_sk(debt.debt_id),
                "SET #status = :paid, paid_at = :at, settled_by = :by REMOVE chore, chore_at",
                {":paid": "paid", ":at": entry.at, ":open": "open", ":by": settled_by},
                "#status = :open AND "
                + ("attribute_exists" if was_collections else "attribute_not_exists")
                + "(collections_at)",
            ),
            self._put(pk, entry_sk(entry), entry_values(entry)),
        ]
        adds: dict[str, int | str] = {":collections": -1 if was_collections else 0}
        if debt.kind == "bill":
            expression = (
                "ADD on_account_minutes :minus_minutes, on_account_cents :minus_cents, billed_minutes :minus_minutes, "
                "billed_cents :minus_cents, credit_left_minutes :minutes, collections_debts :collections"
            )
            adds |= {":minus_minutes": -debt.minutes, ":minus_cents": -debt.amount_cents, ":minutes": debt.minutes}
        else:
            expression = "ADD owed_cents :minus_cents, collections_debts :collections"
            adds |= {":minus_cents": -debt.amount_cents}
        for name, delta in (also_add or {}).items():
            expression += f", {name} :{name}"
            adds[f":{name}"] = delta
        if debt.kind == "overage":
            session_id = debt.debt_id.removeprefix("overage-")
            items.append(
                self._update(
                    pk,
                    session_sk(session_id),
                    "SET overage_status = :paid",
                    {":paid": "paid", ":owed": "owed"},
                    "overage_status = :owed",
                )
            )
        if account_condition:
            adds[":active"] = "active"
        items.append(self._update(pk, ACCOUNT_SK, expression, adds, account_condition))
        return items
