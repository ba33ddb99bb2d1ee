"""The ledger's store: a handful of reads and one commit, over DynamoDB or the in-memory table alike.

It knows keys and encoding (adapters/layout.py), never a business rule: every change it commits was decided,
with its conditions, by the domain.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, overload

from ..domain.changes import Expect, Outcome, account_ref
from ..domain.ledger import CustomerLedger
from ..ports import AccountPage
from .dynamo_items import (
    ACCOUNT_SK,
    CHORE_BILL,
    CHORE_CONNECTIONS,
    CHORE_DEBT,
    CHORE_INBOX,
    CHORE_OVERAGE,
    DUE_SHARD,
    QUOTES_PK,
    account_from,
    connections_from,
    cursor_from,
    customer_pk,
    debt_from,
    dispute_from,
    entry_from,
    inbox_from,
    job_from,
    lot_from,
    mapping_from,
    parked_from,
    quote_from,
    refund_from,
    session_from,
)
from .layout import key_of, resolve

if TYPE_CHECKING:
    from ..domain.changes import Change, Ref
    from ..domain.connection_changes import ConnectionLog
    from ..domain.debts import Debt
    from ..domain.inbox import ClientMapping, InboxItem
    from ..domain.ledger import Account, SessionRecord
    from ..domain.lots import Lot
    from ..domain.parked import ParkedEvent
    from ..domain.quotes import Quote

T = TypeVar("T")
Chore = Literal["debt", "bill", "overage", "connections"]
_CHORES = {"debt": CHORE_DEBT, "bill": CHORE_BILL, "overage": CHORE_OVERAGE, "connections": CHORE_CONNECTIONS}
_DECODE: dict[str, Any] = {
    "account": account_from,
    "lot": lot_from,
    "entry": entry_from,
    "session": session_from,
    "refund": refund_from,
    "debt": debt_from,
    "quote": quote_from,
    "dispute": dispute_from,
    "parked": parked_from,
    "job": job_from,
    "inbox": inbox_from,
    "mapping": mapping_from,
    "connections": connections_from,
    "cursor": cursor_from,
}


class Rows(Protocol):
    """What a store needs of a table: DynamoTable and MemoryTable."""

    def write(self, ops: list[Any]) -> tuple[list[str], dict[str, dict[str, Any]]]: ...
    def get(self, pk: str, sk: str) -> dict[str, Any] | None: ...
    def get_many(self, keys: list[tuple[str, str]]) -> list[dict[str, Any]]: ...
    def query(self, pk: str, prefix: str = "") -> list[dict[str, Any]]: ...
    def query_index(self, index: str, value: str, until: int | None = None) -> list[dict[str, Any]]: ...
    def scan(
        self, where: Expect, cursor: dict[str, str] | None = None, limit: int | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]: ...


def decode(kind: str, row: dict[str, Any]) -> Any:
    return _DECODE.get(kind, dict)(row)


class TableStore:
    """The port (ports.LedgerStore) over a table."""

    rows: Rows

    def commit(self, change: Change) -> Outcome:
        """Every write of the change, or none; the outcome names each write whose condition failed."""
        if not change.writes:
            return Outcome()
        refused, seen = self.rows.write([resolve(write) for write in change.writes])
        return Outcome(frozenset(refused), seen)

    def find(self, ref: Ref[T]) -> T | None:
        row = self.rows.get(*key_of(ref))
        return None if row is None else decode(ref.kind, row)

    def account(self, email: str) -> Account | None:
        return self.find(account_ref(email))

    def find_many(self, *refs: Ref[Any]) -> list[Any]:
        """Several records in one round trip, each decoded (None where absent), in the order asked."""
        keys = [key_of(ref) for ref in refs]
        found = {(row["pk"], row["sk"]): row for row in self.rows.get_many(keys)}
        return [decode(ref.kind, found[k]) if k in found else None for ref, k in zip(refs, keys, strict=True)]

    def lots(self, email: str) -> list[Lot]:
        return [lot_from(row) for row in self.rows.query(customer_pk(email), "LOT#")]

    def customer(self, email: str) -> CustomerLedger | None:
        """Everything the ledger holds for one client, in one query; None for a client it does not know."""
        rows = self.rows.query(customer_pk(email))
        account = next((row for row in rows if row["sk"] == ACCOUNT_SK), None)
        if account is None:
            return None
        kinds: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            kinds.setdefault(str(row["sk"]).split("#", 1)[0], []).append(row)
        return CustomerLedger(
            account=account_from(account),
            lots=[lot_from(row) for row in kinds.get("LOT", [])],
            entries=[entry_from(row) for row in kinds.get("ENTRY", [])],
            refunds=[refund_from(row) for row in kinds.get("REFUND", [])],
            debts=[debt_from(row) for row in kinds.get("DEBT", [])],
        )

    def due_accounts(self, until: int | None = None) -> list[Account]:
        """Accounts holding money whose refund falls due by `until` (None: every one), from the sparse index."""
        return [account_from(row) for row in self.rows.query_index("refund-due", DUE_SHARD, until)]

    @overload
    def chores(self, kind: Literal["debt"], until: int | None = None) -> list[Debt]: ...
    @overload
    def chores(self, kind: Literal["bill"], until: int | None = None) -> list[Account]: ...
    @overload
    def chores(self, kind: Literal["overage"], until: int | None = None) -> list[SessionRecord]: ...
    @overload
    def chores(self, kind: Literal["connections"], until: int | None = None) -> list[ConnectionLog]: ...
    def chores(self, kind: Chore, until: int | None = None) -> list[Any]:
        """What the daily run has to do by `until` (None: all of it): open debts at their next step, trusted
        accounts at their billing day, overages Stripe could not be asked for yet, pushed tools' connections
        waiting for their other half since `until`."""
        decoder = {"debt": debt_from, "bill": account_from, "overage": session_from, "connections": connections_from}[
            kind
        ]
        return [decoder(row) for row in self.rows.query_index("chores", _CHORES[kind], until)]

    def inbox(self) -> list[InboxItem]:
        """The tool sessions waiting for a person, oldest first, from the sparse index."""
        return [inbox_from(row) for row in self.rows.query_index("chores", CHORE_INBOX)]

    def mappings(self, source: str) -> list[ClientMapping]:
        return [mapping_from(row) for row in self.rows.query(f"MAP#{source}", "REF#")]

    def quotes(self) -> list[Quote]:
        return [quote_from(row) for row in self.rows.query(QUOTES_PK, "QUOTE#")]

    def parked_events(self, payment_intent: str) -> list[ParkedEvent]:
        return [parked_from(row) for row in self.rows.query(f"PI#{payment_intent}", "PARKED#")]

    def waiting_parked(self) -> list[ParkedEvent]:
        """Every parked event not applied yet: a scan, for reconcile only."""
        rows, _ = self.rows.scan(Expect("parked", "exists"))
        return sorted((parked_from(row) for row in rows), key=lambda event: (event.at, event.parked_id))

    def account_page(self, cursor: str | None, limit: int) -> AccountPage:
        """Accounts from `cursor` on (None: the first), reading at most `limit` items; for jobs over every account."""
        start = json.loads(cursor) if cursor is not None else None
        rows, last = self.rows.scan(Expect("sk", "=", ACCOUNT_SK), start, limit)
        pages = [(str(row["email"]), json.dumps({"pk": row["pk"], "sk": row["sk"]}, sort_keys=True)) for row in rows]
        return AccountPage(accounts=pages, next_cursor=json.dumps(last, sort_keys=True) if last else None)
