"""A change to the ledger as a value: the records it writes, the fields it moves, the conditions that must hold.

The domain decides each change; a store commits it whole or not at all and says which condition failed. A store
knows where each record lives and how it is encoded, never why a field moves: that is written here and in the
use cases' planners (domain/moves.py), once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

if TYPE_CHECKING:
    from .connection_changes import ConnectionLog
    from .debts import Debt
    from .disputes import Dispute
    from .inbox import ClientMapping, InboxItem
    from .jobs import Job
    from .ledger import Account, JournalEntry, RefundRecord, SessionRecord
    from .lots import Lot
    from .pull_changes import PullCursor
    from .quotes import Quote

RecordKind = Literal[
    "account",  # owner: the client's email; one per client, the balance and every running total
    "lot",  # owner: email; id: the Checkout Session; `at`: its purchase time (oldest first)
    "entry",  # owner: email; the append-only journal, in the order written
    "session",  # owner: email; id: the technician's session id (unique per client)
    "refund",  # owner: email; a refund's saga, part by part
    "debt",  # owner: email; an overage or a bill the client owes, chased on a schedule
    "quote",  # id: the quote; every quote in one place, newest first
    "dispute",  # id: Stripe's dispute id
    "event",  # id: Stripe's event id, once credited (a marker: a duplicate event changes nothing)
    "payment",  # owner: the PaymentIntent; which client and lot it paid for, and events parked under it
    "parked",  # owner: the PaymentIntent; an event that came before the payment it refers to
    "order",  # id: the shop's order; the checkout as the shop opened it (what a credit must match)
    "alert",  # id: what the shop must look at (a payment not credited, a job's finding)
    "outside-refund",  # id: Stripe's refund id, for refunds made in the Stripe dashboard
    "job",  # id: a background job (reconcile, requeue)
    "inbox",  # id: the ledger's session id for a tool's session (`<source>-<external id>`); one per tool session
    "mapping",  # owner: the source; id: its normalised name for a client; which account that is
    "connections",  # owner: a pushing tool; id: its session id; connections waiting for their other half
    "cursor",  # id: a pulled source; how far the scheduled run has read its report
]


T = TypeVar("T")


@dataclass(frozen=True)
class Ref(Generic[T]):
    """Which record: its kind, whose it is and its id; `at` orders records of one kind and owner in time.

    `Ref[Lot]` reads back as a Lot: the store decodes a record by its kind.
    """

    kind: RecordKind
    owner: str = ""
    id: str = ""
    at: int = 0


Op = Literal["=", "<>", "<", "<=", ">", ">=", "exists", "missing"]
_UNSET: Any = object()


@dataclass(frozen=True)
class Expect:
    """One condition on a record's field (`a.b[2].c` reaches inside); `absent`: compare a missing field as this."""

    field: str
    op: Op
    value: Any = None
    absent: Any = _UNSET

    @property
    def absent_given(self) -> bool:
        return self.absent is not _UNSET


@dataclass(frozen=True)
class AnyOf:
    """At least one of these groups of conditions holds (each group: all of its conditions)."""

    groups: tuple[tuple[Expect, ...], ...]


Condition = Expect | AnyOf
NEW = Expect("", "missing")  # the record does not exist yet ("": the record itself)
EXISTS = Expect("", "exists")


@dataclass(frozen=True)
class Put:
    """A record written whole: by default only if it is new (a second write of the same record is refused)."""

    ref: Ref[Any]
    record: Any  # a domain dataclass or a mapping of fields
    fields: Mapping[str, Any] = field(default_factory=dict)  # more fields the record does not carry (its next step)
    expect: tuple[Condition, ...] = (NEW,)
    role: str = ""  # the name the outcome uses when this write's condition failed
    show_old: bool = False  # refused: the outcome carries what the record held


@dataclass(frozen=True)
class Update:
    """Fields of one record moved: set, set when absent, added to (integers), removed; under conditions."""

    ref: Ref[Any]
    set: Mapping[str, Any] = field(default_factory=dict)
    set_if_absent: Mapping[str, Any] = field(default_factory=dict)
    add: Mapping[str, int] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    expect: tuple[Condition, ...] = ()
    role: str = ""
    show_old: bool = False

    def __post_init__(self) -> None:
        names = [*self.set, *self.set_if_absent, *self.add, *self.remove]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.ref}: a field is moved twice in one update: {names}")


@dataclass(frozen=True)
class Check:
    """Conditions on a record nothing writes (the shop's order a credit must match)."""

    ref: Ref[Any]
    expect: tuple[Condition, ...]
    role: str = ""
    show_old: bool = False


Write = Put | Update | Check


@dataclass(frozen=True)
class Change:
    """Writes committed together or not at all."""

    writes: tuple[Write, ...]

    def __post_init__(self) -> None:
        refs = [write.ref for write in self.writes]
        if len(refs) != len(set(refs)):
            raise ValueError("a change writes each record at most once")

    def __add__(self, other: Change) -> Change:
        return Change(self.writes + other.writes)

    @staticmethod
    def of(*writes: Write | None) -> Change:
        return Change(tuple(write for write in writes if write is not None))


@dataclass(frozen=True)
class Outcome:
    """What committing a change did: every write, or none; `refused` names the writes whose condition failed."""

    refused: frozenset[str] = frozenset()
    seen: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # refused writes that asked: what they held

    @property
    def committed(self) -> bool:
        return not self.refused

    def __bool__(self) -> bool:
        return self.committed


COMMITTED = Outcome()


# --- which record: typed references ---------------------------------------------------------------


def account_ref(email: str) -> Ref[Account]:
    return Ref("account", email)


def lot_ref(email: str, lot: Lot) -> Ref[Lot]:
    return Ref("lot", email, lot.lot_id, lot.created_at)


def entry_ref(email: str, entry: JournalEntry) -> Ref[JournalEntry]:
    return Ref("entry", email, entry.entry_id, entry.at)


def session_ref(email: str, session_id: str) -> Ref[SessionRecord]:
    return Ref("session", email, session_id)


def refund_ref(email: str, refund_id: str) -> Ref[RefundRecord]:
    return Ref("refund", email, refund_id)


def debt_ref(email: str, debt_id: str) -> Ref[Debt]:
    return Ref("debt", email, debt_id)


def quote_ref(quote_id: str) -> Ref[Quote]:
    return Ref("quote", id=quote_id)


def dispute_ref(dispute_id: str) -> Ref[Dispute]:
    return Ref("dispute", id=dispute_id)


def payment_ref(payment_intent: str) -> Ref[dict[str, Any]]:
    return Ref("payment", payment_intent)


def job_ref(job_id: str) -> Ref[Job]:
    return Ref("job", id=job_id)


def inbox_ref(inbox_id: str) -> Ref[InboxItem]:
    return Ref("inbox", id=inbox_id)


def mapping_ref(source: str, client_ref: str) -> Ref[ClientMapping]:
    return Ref("mapping", source, client_ref)


def connections_ref(source: str, session_id: str) -> Ref[ConnectionLog]:
    return Ref("connections", source, session_id)


def cursor_ref(source: str) -> Ref[PullCursor]:
    return Ref("cursor", id=source)


def journal(email: str, *entries: JournalEntry) -> tuple[Put, ...]:
    """Journal entries are written once each: a retried change writes none twice."""
    return tuple(Put(entry_ref(email, entry), entry) for entry in entries)
