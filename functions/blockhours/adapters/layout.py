"""Where each record lives in the one table and how it is encoded: keys, attributes, and the index attributes.

This is all a store knows of the ledger: a change's writes become operations on keys here, for DynamoDB and
for the in-memory table alike. docs/ARCHITECTURE.md lists every item type and index.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from ..domain.changes import AnyOf, Check, Put
from ..domain.connection_changes import ConnectionLog
from ..domain.debts import Debt
from ..domain.disputes import Dispute
from ..domain.inbox import InboxItem
from ..domain.ledger import JournalEntry, RefundRecord, SessionRecord
from ..domain.lots import Lot
from ..domain.parked import ParkedEvent
from ..domain.quotes import Quote
from .dynamo_items import (
    ACCOUNT_SK,
    CHORE_BILL,
    CHORE_DEBT,
    CHORE_INBOX,
    CHORE_OVERAGE,
    DUE_SHARD,
    QUOTES_PK,
    connections_values,
    customer_pk,
    debt_values,
    entry_values,
    lot_values,
    quote_values,
    refund_values,
    session_values,
)

if TYPE_CHECKING:
    from ..domain.changes import Condition, Expect, Ref, Update, Write


@dataclass(frozen=True)
class Index:
    """One of template.yaml's GlobalSecondaryIndexes: its keys, and what else it keeps of an item (None: all)."""

    hash: str
    range: str
    keeps: tuple[str, ...] | None = None


# The table's two sparse indexes, as template.yaml declares them (a contract test holds the two alike).
INDEXES: dict[str, Index] = {
    # accounts holding money, by the day their refund falls due; with what the sweep needs to warn them, unread
    "refund-due": Index(
        "due_shard",
        "refund_due_at",
        ("email", "available_cents", "available_minutes", "last_activity_at", "warned_for"),
    ),
    # open debts, trusted accounts' billing days, overages to finish, the inbox's open items
    "chores": Index("chore", "chore_at"),
}
NEVER = 9_999_999_999  # a debt in collections has no step left; it stays listed at a day that never comes


def key_of(ref: Ref[Any]) -> tuple[str, str]:
    owner, ident = ref.owner, ref.id
    match ref.kind:
        case "account":
            return customer_pk(owner), ACCOUNT_SK
        case "lot":
            return customer_pk(owner), f"LOT#{ref.at:012d}#{ident}"
        case "entry":
            return customer_pk(owner), f"ENTRY#{ref.at:012d}#{ident}"
        case "session" | "refund" | "debt":
            return customer_pk(owner), f"{ref.kind.upper()}#{ident}"
        case "quote":
            return QUOTES_PK, f"QUOTE#{ident}"
        case "payment":
            return f"PI#{owner}", "PI"
        case "parked":
            return f"PI#{owner}", f"PARKED#{ref.at:012d}#{ident}"
        case "outside-refund":
            return f"EXTREFUND#{ident}", "EXTREFUND"
        case "inbox":
            return f"INBOX#{ident}", "INBOX"
        case "mapping":
            return f"MAP#{owner}", f"REF#{ident}"
        case "connections":
            return f"CONN#{owner}#{ident}", "CONN"
        case "cursor":
            return f"CURSOR#{ident}", "CURSOR"
        case "event" | "dispute" | "order" | "alert" | "job":
            tag = {"event": "EVT"}.get(ref.kind, ref.kind.upper())
            return f"{tag}#{ident}", tag
    raise ValueError(f"no place for a {ref.kind}")


def parked_values(event: ParkedEvent) -> dict[str, Any]:
    values = {**asdict(event), "type": "parked", "fields": json.dumps(event.fields, sort_keys=True)}
    if event.applied_at is None:
        values["parked"] = "WAITING"  # in the sparse `parked` attribute until applied: reconcile finds what waits
    return values


def encode(record: Any) -> dict[str, Any]:
    """A record's attributes: the domain's fields, named as they are, with its type."""
    if isinstance(record, Lot):
        return lot_values(record)
    if isinstance(record, JournalEntry):
        return entry_values(record)
    if isinstance(record, SessionRecord):
        values = session_values(record)
        if record.overage_status == "pending":  # in the chores index until charged or owed: it cannot stay pending
            values |= {"chore": CHORE_OVERAGE, "chore_at": record.at}
        return values
    if isinstance(record, RefundRecord):
        return refund_values(record)
    if isinstance(record, Debt):
        return debt_values(record)
    if isinstance(record, Quote):
        return quote_values(record)
    if isinstance(record, InboxItem):
        values = {"type": "inbox", **asdict(record)}
        if record.is_open:  # in the chores index while it waits for a person: the inbox is read, not scanned
            values |= {"chore": CHORE_INBOX, "chore_at": record.received_at}
        return values
    if isinstance(record, ConnectionLog):
        return connections_values(record)
    if isinstance(record, Dispute):
        return {"type": "dispute", **asdict(record)}
    if isinstance(record, ParkedEvent):
        return parked_values(record)
    if is_dataclass(record) and not isinstance(record, type):
        return asdict(record)
    if isinstance(record, Mapping):
        return {name: plain_value(value) for name, value in record.items()}
    raise TypeError(f"cannot store a {type(record).__name__}")


def plain_value(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, tuple):
        return [plain_value(v) for v in value]
    return value


@dataclass(frozen=True)
class Op:
    """One write on one key, as a table carries it out."""

    action: Literal["put", "update", "check"]
    key: tuple[str, str]
    name: str
    expect: tuple[Condition, ...] = ()
    item: Mapping[str, Any] = field(default_factory=dict)  # put: the whole item
    set: Mapping[str, Any] = field(default_factory=dict)
    set_if_absent: Mapping[str, Any] = field(default_factory=dict)
    add: Mapping[str, int] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    show_old: bool = False


def _index_moves(kind: str, update: Update) -> tuple[dict[str, Any], dict[str, Any], tuple[str, ...]]:
    """The index attributes that follow a domain field: (set, set if absent, remove)."""
    sets: dict[str, Any] = {}
    if_absent: dict[str, Any] = {}
    removes: list[str] = []
    if kind == "account":
        if update.set.get("refund_due_at") is not None or "refund_due_at" in update.set_if_absent:
            sets["due_shard"] = DUE_SHARD
        if "refund_due_at" in update.remove or ("refund_due_at" in update.set and update.set["refund_due_at"] is None):
            removes.append("due_shard")
        if update.set.get("next_bill_at") is not None:
            sets |= {"chore": CHORE_BILL, "chore_at": update.set["next_bill_at"]}
        elif "next_bill_at" in update.set:
            removes += ["chore", "chore_at"]
        if "next_bill_at" in update.set_if_absent:
            sets["chore"] = CHORE_BILL
            if_absent["chore_at"] = update.set_if_absent["next_bill_at"]
        if "next_bill_at" in update.remove:
            removes += ["chore", "chore_at"]
    elif kind == "debt":
        if "next_at" in update.set:
            sets["chore_at"] = update.set["next_at"] or NEVER
        if "next_at" in update.remove:
            removes += ["chore", "chore_at"]
    elif _leaves_chores(kind, update):
        removes += ["chore", "chore_at"]
    elif kind == "parked" and "applied_at" in update.set:
        removes.append("parked")
    return sets, if_absent, tuple(removes)


def _leaves_chores(kind: str, update: Update) -> bool:
    """A session's overage is no longer pending; an inbox item is closed (redeemed, dismissed, free)."""
    if kind == "session":
        return bool(update.set.get("overage_status", "pending") != "pending")
    return kind == "inbox" and bool(update.set.get("outcome"))


_DOMAIN_ONLY = {"account": ("next_bill_at",), "debt": ("next_at",)}  # kept as index attributes, not as themselves
_KEPT_AS = {"account": {"next_bill_at": "chore_at"}}  # a condition on such a field is judged on its attribute


def _judged_on(kind: str, conditions: tuple[Condition, ...]) -> tuple[Condition, ...]:
    names = _KEPT_AS[kind]

    def judged(expect: Expect) -> Expect:
        return replace(expect, field=names.get(expect.field, expect.field))

    return tuple(
        AnyOf(tuple(tuple(judged(e) for e in group) for group in c.groups)) if isinstance(c, AnyOf) else judged(c)
        for c in conditions
    )


def resolve(write: Write) -> Op:
    ref = write.ref
    name = write.role or ref.kind
    if ref.kind in _KEPT_AS:
        write = replace(write, expect=_judged_on(ref.kind, write.expect))
    if isinstance(write, Put):
        item = {**encode(write.record), **{k: plain_value(v) for k, v in write.fields.items()}}
        if ref.kind == "debt" and "next_at" in item:
            item |= {"chore": CHORE_DEBT, "chore_at": item.pop("next_at") or NEVER}
        item = {name: value for name, value in item.items() if value is not None}  # DynamoDB keeps no None
        return Op("put", key_of(ref), name, write.expect, item=item, show_old=write.show_old)
    if isinstance(write, Check):
        return Op("check", key_of(ref), name, write.expect, show_old=write.show_old)
    sets, if_absent, removes = _index_moves(ref.kind, write)
    hidden = _DOMAIN_ONLY.get(ref.kind, ())
    removes += tuple(name for name, value in write.set.items() if value is None)  # set to None: gone
    return Op(
        "update",
        key_of(ref),
        name,
        write.expect,
        set={**{k: plain_value(v) for k, v in write.set.items() if k not in hidden and v is not None}, **sets},
        set_if_absent={**{k: v for k, v in write.set_if_absent.items() if k not in hidden}, **if_absent},
        add=dict(write.add),
        remove=tuple(dict.fromkeys(f for f in (*write.remove, *removes) if f not in hidden)),
        show_old=write.show_old,
    )
