"""The outbox's FilterCriteria in template.yaml, with the semantics Lambda gives a filter: every ledger change
the outbox acts on passes it (one record per kind of change it handles); what it ignores stays out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from blockhours import catalog, outbox
from blockhours.adapters.dynamo_items import debt_values, item, quote_values, session_values
from blockhours.domain.debts import Debt
from blockhours.domain.jobs import RECONCILE_ALERT
from blockhours.domain.ledger import SessionRecord
from blockhours.domain.quotes import Quote
from blockhours_dev import template
from blockhours_dev.local_streams import Filter

CONTEXT = outbox.MailContext(catalog.load(), "https://shop.example", "s" * 40, "owner@example.com")
AT = 1_900_000_000
CUSTOMER = "CUST#ana@example.com"
[OUTBOX] = [t for t in template.stream_triggers() if t.function == "OutboxFunction"]


def record(event_name: str, new: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    images = {"Keys": item({"pk": new["pk"], "sk": new["sk"]}), "NewImage": item(new)}
    return {"eventName": event_name, "eventSource": "aws:dynamodb", "dynamodb": images | _old(old)}


def _old(old: dict[str, Any] | None) -> dict[str, Any]:
    return {"OldImage": item(old)} if old else {}


def debt(**changes: Any) -> dict[str, Any]:
    owed = Debt("bill-2026-11", "ana@example.com", "bill", 6450, 30, "November on account", AT, "https://pay/1")
    return {"pk": CUSTOMER, "sk": "DEBT#bill-2026-11", **debt_values(owed)} | changes


def session(**changes: Any) -> dict[str, Any]:
    done = SessionRecord("T-1", "ana@example.com", AT, "sam", "printer", 30, 30, 30, 6450, 0, 0, (), 30, 6450)
    return {"pk": CUSTOMER, "sk": "SESSION#T-1", **session_values(done)} | changes


def quote() -> dict[str, Any]:
    offer = Quote("q1", "ana@example.com", 120, 25800, "new server", AT, AT + 86_400, "https://pay/q1", "v1", "sam")
    return {"pk": CUSTOMER, "sk": "QUOTE#q1", **quote_values(offer)}


def entry(kind: str) -> dict[str, Any]:
    fields = {"minutes": 60, "amount_cents": 12900, "at": AT, "note": "block-60", "actor": "stripe"}
    return {"pk": CUSTOMER, "sk": f"ENTRY#{AT}#{kind}", "type": "entry", "kind": kind, **fields}


def refund(**changes: Any) -> dict[str, Any]:
    fields = {"email": "ana@example.com", "refund_id": "r1", "amount_cents": 6450, "minutes": 30, "reason": "asked"}
    return {"pk": CUSTOMER, "sk": "REFUND#r1", "type": "refund", **fields} | changes


ALERT = {"pk": "ALERT#cs_1", "sk": "ALERT", "type": "alert", "why": "never opened", "email": "eve@example.com"}
ALERT |= {"checkout_id": "cs_1", "payment_intent": "pi_1", "amount_cents": 12900, "currency": "usd", "at": AT}

FOUND = {"pk": "ALERT#job-1", "sk": "ALERT", "type": "alert", "what": RECONCILE_ALERT, "job_id": "reconcile-1"}
FOUND |= {"accounts": 3, "discrepancy_count": 1, "discrepancies": [{"email": "a@b.c", "what": "x", "todo": "y"}]}

# One record for each kind of change effects_for turns into an email or a queued refund.
ACTED_ON = {
    "a purchase (receipt)": record("INSERT", entry("purchase")),
    "a failed refund (alert)": record("INSERT", entry("refund-failed")),
    "a refund warning (reminder)": record("INSERT", entry("refund-warning") | {"entry_id": f"refund-warning-{AT}"}),
    "a session (statement)": record("INSERT", session()),
    "an overage settled (statement)": record(
        "MODIFY", session(overage_status="charged"), session(overage_status="pending")
    ),
    "a refund requested (queue and confirmation)": record("INSERT", refund()),
    "a refund a dispute held, resumed (queue)": record("MODIFY", refund(resumed_at=AT), refund()),
    "a quote (offer)": record("INSERT", quote()),
    "a debt opened (notice)": record("INSERT", debt()),
    "a reminder": record("MODIFY", debt(notices=[AT, AT + 7 * 86_400]), debt(notices=[AT])),
    "collections": record("MODIFY", debt(collections_at=AT), debt()),
    "back to prepaying": record("MODIFY", debt(prepay_at=AT), debt()),
    "a debt paid (thanks)": record("MODIFY", debt(status="paid", paid_at=AT), debt()),
    "a payment not credited (alert to the shop)": record("INSERT", ALERT),
    "what reconcile found (alert to the shop)": record("INSERT", FOUND),
}


@pytest.mark.parametrize("what", sorted(ACTED_ON))
def test_every_change_the_outbox_acts_on_passes_its_filter(what: str) -> None:
    change = ACTED_ON[what]
    assert outbox.effects_for(outbox.Change.from_record(change), CONTEXT), f"{what}: the outbox does nothing with it"
    assert Filter(OUTBOX.patterns).admits(change), f"{what}: Lambda would never deliver it"


def test_what_the_outbox_ignores_never_invokes_it() -> None:
    account = {"pk": CUSTOMER, "sk": "ACCOUNT", "type": "account", "available_cents": 6450}
    lot = {"pk": CUSTOMER, "sk": "LOT#1", "type": "lot", "remaining_cents": 6450}
    for ignored in (record("MODIFY", account, account), record("INSERT", lot), record("INSERT", entry("redemption"))):
        assert not outbox.effects_for(outbox.Change.from_record(ignored), CONTEXT)
        assert not Filter(OUTBOX.patterns).admits(ignored)


def test_the_outbox_mapping_stays_within_lambdas_five_patterns() -> None:
    assert 1 <= len(OUTBOX.patterns) <= 5


RECORD = {"dynamodb": {"NewImage": {"type": {"S": "session"}, "kind": {"S": "refund-failed"}}, "SizeBytes": 120}}


@pytest.mark.parametrize(
    ("pattern", "admitted"),
    [
        ({"dynamodb": {"NewImage": {"type": {"S": ["session", "quote"]}}}}, True),
        ({"dynamodb": {"NewImage": {"type": {"S": ["debt"]}}}}, False),
        ({"dynamodb": {"NewImage": {"kind": {"S": [{"prefix": "refund-"}]}}}}, True),
        ({"dynamodb": {"NewImage": {"kind": {"S": [{"prefix": "purchase"}]}}}}, False),
        ({"dynamodb": {"NewImage": {"type": {"S": [{"anything-but": ["lot", "account"]}]}}}}, True),
        ({"dynamodb": {"NewImage": {"type": {"S": [{"anything-but": ["session"]}]}}}}, False),
        ({"dynamodb": {"NewImage": {"resumed_at": [{"exists": True}]}}}, False),
        ({"dynamodb": {"NewImage": {"resumed_at": [{"exists": False}]}}}, True),
        ({"dynamodb": {"SizeBytes": [{"numeric": [">", 100, "<=", 400]}]}}, True),
        ({"dynamodb": {"SizeBytes": [{"numeric": [">", 400]}]}}, False),
        ({"dynamodb": {"NewImage": {"type": {"S": ["session"]}, "kind": {"S": ["purchase"]}}}}, False),  # AND
    ],
)
def test_lambdas_filter_rules(pattern: dict[str, Any], admitted: bool) -> None:
    assert Filter((json.dumps(pattern),)).admits(RECORD) is admitted


def test_patterns_are_alternatives_and_no_pattern_admits_everything() -> None:
    debt_only = json.dumps({"dynamodb": {"NewImage": {"type": {"S": ["debt"]}}}})
    session_only = json.dumps({"dynamodb": {"NewImage": {"type": {"S": ["session"]}}}})
    assert Filter((debt_only, session_only)).admits(RECORD) and not Filter((debt_only,)).admits(RECORD)
    assert Filter(()).admits(RECORD)


def test_a_rule_lambda_does_not_know_is_refused_not_taken_as_a_match() -> None:
    with pytest.raises(ValueError, match="wildcard"):
        Filter((json.dumps({"dynamodb": {"NewImage": {"type": {"S": [{"wildcard": "s*"}]}}}}),))
