"""How the ledger's records are laid out as DynamoDB items: keys, attribute values, and back."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict, replace
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from ..domain.connection_changes import ConnectionLog
from ..domain.connection_pairing import from_record, oldest_waiting, to_record
from ..domain.debts import Debt
from ..domain.disputes import Dispute
from ..domain.inbox import ClientMapping, InboxItem
from ..domain.jobs import Discrepancy, Job
from ..domain.ledger import Account, JournalEntry, LotShare, RefundRecord, SessionRecord
from ..domain.lots import Lot
from ..domain.parked import ParkedEvent
from ..domain.pull_changes import PullCursor
from ..domain.quotes import Quote
from ..domain.refunds import RefundPart

ACCOUNT_SK = "ACCOUNT"
DUE_SHARD = "DUE"
QUOTES_PK = "QUOTES"  # every quote in one partition: a shop sends a few a day, and lists them newest first
CHORE_DEBT = "DEBT"  # in the `chores` index: an open debt, at its next dunning step
CHORE_BILL = "BILL"  # a trusted account, at its next billing day
CHORE_OVERAGE = "OVERAGE"  # a session whose overage Stripe could not be asked for yet: the daily run finishes it
CHORE_INBOX = "INBOX"  # a tool's session waiting in the inbox for a person (unmatched, to confirm, refused)
CHORE_CONNECTIONS = "CONNECTIONS"  # a pushed tool's session with a connection waiting for its other half, since then
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def customer_pk(email: str) -> str:
    return f"CUST#{email}"


def lot_sk(lot: Lot) -> str:
    return f"LOT#{lot.created_at:012d}#{lot.lot_id}"


def entry_sk(entry: JournalEntry) -> str:
    return f"ENTRY#{entry.at:012d}#{entry.entry_id}"


def session_sk(session_id: str) -> str:
    return f"SESSION#{session_id}"


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, list):
        return [_number(v) for v in value]
    if isinstance(value, dict):
        return {k: _number(v) for k, v in value.items()}
    return value


def plain(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _number(_deserializer.deserialize(v)) for k, v in attributes.items()}


def _fields(row: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: row[name] for name in names if name in row}


def _shares(rows: list[Mapping[str, Any]]) -> tuple[LotShare, ...]:
    return tuple(LotShare(str(r["lot_id"]), int(r["minutes"]), int(r["amount_cents"])) for r in rows)


def lot_values(lot: Lot) -> dict[str, Any]:
    """A new lot's item; `seq`, the time it is written in ns, orders lots bought in the same second."""
    return {"type": "lot", **asdict(lot), "seq": lot.seq or time.time_ns()}


def entry_values(entry: JournalEntry) -> dict[str, Any]:
    """A new entry's item; `seq`, the time it is written in ns, orders entries of the same second. Not in the key:
    an entry's key stays its id, whose put-if-new keeps a retried change from being recorded twice."""
    lots = [asdict(share) for share in entry.lots]
    return {"type": "entry", **asdict(entry), "lots": lots, "seq": entry.seq or time.time_ns()}


def refund_sk(refund_id: str) -> str:
    return f"REFUND#{refund_id}"


def refund_values(record: RefundRecord) -> dict[str, Any]:
    values = asdict(record)
    values["parts"] = [asdict(part) for part in record.parts]
    return {"type": "refund", **values, "amount_cents": record.amount_cents, "minutes": record.minutes}


def refund_from(row: Mapping[str, Any]) -> RefundRecord:
    return RefundRecord(
        refund_id=row["refund_id"],
        email=row["email"],
        reason=row["reason"],
        requested_at=row["requested_at"],
        parts=tuple(RefundPart(**part) for part in row.get("parts", [])),
        status=row.get("status", "requested"),
    )


def session_values(record: SessionRecord) -> dict[str, Any]:
    return {"type": "session", **asdict(record), "draws": [asdict(share) for share in record.draws]}


def account_from(row: Mapping[str, Any]) -> Account:
    return Account(
        email=row["email"],
        stripe_customer_id=row.get("stripe_customer_id") or None,
        available_minutes=row.get("available_minutes", 0),
        available_cents=row.get("available_cents", 0),
        paid_cents=row.get("paid_cents", 0),
        status=row.get("status", "active"),
        version=row.get("version", 0),
        owed_cents=row.get("owed_cents", 0),
        created_at=row.get("created_at", 0),
        last_activity_at=row.get("last_activity_at", 0),
        refund_due_at=row.get("refund_due_at"),
        refunding_cents=row.get("refunding_cents", 0),
        refunded_cents=row.get("refunded_cents", 0),
        awaiting_refund_cents=row.get("awaiting_refund_cents", 0),
        open_disputes=row.get("open_disputes", 0),
        dispute_holds=row.get("dispute_holds", 0),
        charged_back_cents=row.get("charged_back_cents", 0),
        trust_limit_minutes=row.get("trust_limit_minutes", 0),
        on_account_minutes=row.get("on_account_minutes", 0),
        on_account_cents=row.get("on_account_cents", 0),
        billed_minutes=row.get("billed_minutes", 0),
        billed_cents=row.get("billed_cents", 0),
        credit_left_minutes=row.get("credit_left_minutes", 0),
        collections_debts=row.get("collections_debts", 0),
        next_bill_at=row.get("chore_at") if row.get("chore") == CHORE_BILL else None,
        warned_for=row.get("warned_for"),
    )


_LOT_FIELDS = tuple(Lot.__dataclass_fields__)
_ENTRY_FIELDS = tuple(name for name in JournalEntry.__dataclass_fields__ if name != "lots")
_SESSION_FIELDS = tuple(name for name in SessionRecord.__dataclass_fields__ if name != "draws")


def lot_from(row: Mapping[str, Any]) -> Lot:
    return Lot(**_fields(row, _LOT_FIELDS))


def entry_from(row: Mapping[str, Any]) -> JournalEntry:
    return JournalEntry(**_fields(row, _ENTRY_FIELDS), lots=_shares(row.get("lots", [])))


def session_from(row: Mapping[str, Any]) -> SessionRecord:
    record = SessionRecord(**_fields(row, _SESSION_FIELDS), draws=_shares(row.get("draws", [])))
    # overage_finished stores "no payment, no link" as "": a retry reads back exactly the first outcome
    return replace(record, payment_intent=record.payment_intent or None, pay_url=record.pay_url or None)


def inbox_from(row: Mapping[str, Any]) -> InboxItem:
    return InboxItem(**_fields(row, tuple(InboxItem.__dataclass_fields__)))


def connections_values(log: ConnectionLog) -> dict[str, Any]:
    """The state as one JSON attribute (the tool's payloads are kept as sent); in the chores index while a
    connection waits, at its start: the daily run finds the ones waiting too long without a scan."""
    values: dict[str, Any] = {
        "type": "connections",
        "source": log.source,
        "session_id": log.session_id,
        "version": log.version,
        "state": json.dumps(to_record(log.state), sort_keys=True, default=str),
    }
    waiting_since = oldest_waiting(log.state)
    if waiting_since is not None:
        values |= {"chore": CHORE_CONNECTIONS, "chore_at": waiting_since}
    return values


def connections_from(row: Mapping[str, Any]) -> ConnectionLog:
    state = from_record(json.loads(str(row["state"])))
    return ConnectionLog(str(row["source"]), str(row["session_id"]), state, int(row["version"]))


def mapping_from(row: Mapping[str, Any]) -> ClientMapping:
    return ClientMapping(**_fields(row, tuple(ClientMapping.__dataclass_fields__)))


def cursor_from(row: Mapping[str, Any]) -> PullCursor:
    return PullCursor(str(row["source"]), int(row["since_ms"]), int(row["moved_at"]))


def debt_sk(debt_id: str) -> str:
    return f"DEBT#{debt_id}"


def debt_values(debt: Debt) -> dict[str, Any]:
    return {"type": "debt", **asdict(debt), "notices": list(debt.notices)}


def debt_from(row: Mapping[str, Any]) -> Debt:
    values = _fields(row, tuple(Debt.__dataclass_fields__))
    return Debt(**{**values, "notices": tuple(int(at) for at in row.get("notices", []))})


def quote_sk(quote_id: str) -> str:
    return f"QUOTE#{quote_id}"


def quote_values(quote: Quote) -> dict[str, Any]:
    return {"type": "quote", **asdict(quote)}


def quote_from(row: Mapping[str, Any]) -> Quote:
    return Quote(**_fields(row, tuple(Quote.__dataclass_fields__)))


def parked_from(row: dict[str, Any]) -> ParkedEvent:
    return ParkedEvent(
        payment_intent=str(row["payment_intent"]),
        parked_id=str(row["parked_id"]),
        kind=row["kind"],
        event_type=str(row["event_type"]),
        at=int(row["at"]),
        fields=json.loads(str(row.get("fields", "{}"))),
        applied_at=row.get("applied_at"),
    )


def dispute_from(row: dict[str, Any]) -> Dispute:
    return Dispute(
        dispute_id=str(row["dispute_id"]) if "dispute_id" in row else str(row["pk"]).removeprefix("DISPUTE#"),
        email=str(row["email"]),
        lot_id=str(row.get("lot_id", "")),
        payment_intent=str(row.get("payment_intent", "")),
        amount_cents=int(row.get("amount_cents", 0)),
        status=str(row.get("status", "")),
        opened_at=int(row.get("opened_at", 0)),
        version=int(row.get("version", 0)),
        # a dispute written before facts were kept counted open exactly while it had no closing
        counted_open=bool(row.get("counted_open", "version" not in row and "closed_at" not in row)),
        closed_at=row.get("closed_at"),
        withdrawn=bool(row.get("withdrawn", False)),
        reinstated=bool(row.get("reinstated", False)),
        taken_minutes=int(row.get("taken_minutes", 0)),
        taken_cents=int(row.get("taken_cents", 0)),
        owed_cents=int(row.get("owed_cents", 0)),
    )


def job_from(row: dict[str, Any]) -> Job:
    return Job(
        job_id=str(row["job_id"]),
        kind=row["kind"],
        status=row["status"],
        started_at=int(row["started_at"]),
        updated_at=int(row.get("updated_at", row["started_at"])),
        step=int(row.get("step", 0)),
        cursor=row.get("resume_key"),
        accounts=int(row.get("accounts", 0)),
        discrepancy_count=int(row.get("discrepancy_count", 0)),
        discrepancies=tuple(Discrepancy(**found) for found in row.get("discrepancies", [])),
        requeued_count=int(row.get("requeued_count", 0)),
        requeued=tuple(str(refund_id) for refund_id in row.get("requeued", [])),
        attempts=int(row.get("attempts", 0)),
        step_accounts=int(row.get("step_accounts", 0)),
        step_discrepancies=int(row.get("step_discrepancies", 0)),
        step_requeued=int(row.get("step_requeued", 0)),
        finished_at=row.get("finished_at"),
        error=str(row.get("failure", "")),
    )
