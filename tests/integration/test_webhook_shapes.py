"""Every shape of event Stripe's API allows, signed and posted to the webhook: a 2xx or a 4xx, never a 5xx.

Stripe's OpenAPI marks many fields nullable (a refund's or dispute's `payment_intent`, a Checkout Session's
`customer`, `metadata`, `amount_total`, `customer_details`); another API version drops fields, adds some, or
expands `payment_intent` into an object. Whatever the ledger cannot use is acknowledged as not applicable.
"""

from __future__ import annotations

import copy
import json
import secrets
from typing import Any
from urllib.parse import quote

import hypothesis
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blockhours_dev.local import LocalStack
from blockhours_dev.standin.payments import paid_intent
from stripe_events import FIXTURES, checkout_session, event, opened, signed, stack_store

HANDLED = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.expired",
    "refund.created",
    "refund.updated",
    "refund.failed",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.closed",
]
TYPE_PREFIX = {
    "checkout.session": "checkout.",
    "charge": "charge.refunded",
    "refund": "refund.",
    "dispute": "charge.dispute",
}
UNKNOWN = ["checkout.session.async_payment_failed", "charge.dispute.updated", "customer.created", "plan.created", ""]
# The fields our readers look at, nested ones as paths; any other field of the fixture may change too.
READ = {
    "checkout.session": [
        "id",
        "payment_status",
        "mode",
        "customer",
        "customer_details",
        "customer_details.email",
        "amount_total",
        "currency",
        "created",
        "payment_intent",
        "metadata",
        *(f"metadata.{k}" for k in ("email", "sku", "kind", "minutes", "terms_version", "quote_id", "debt_id")),
    ],
    "charge": ["id", "payment_intent", "amount", "amount_refunded", "refunded", "metadata"],
    "refund": ["id", "payment_intent", "amount", "status", "failure_reason", "metadata", "metadata.refund_id"],
    "dispute": ["id", "payment_intent", "amount", "status", "charge", "is_charge_refundable"],
}


def assert_acknowledged_or_refused(answer: requests.Response) -> dict[str, Any]:
    assert answer.status_code < 500, answer.text
    body = answer.json()
    assert isinstance(body, dict), answer.text
    if answer.status_code >= 400:
        assert set(body) == {"error", "message"}, answer.text
    else:
        assert body["received"] is True and isinstance(body["outcome"], str), answer.text
    return body


def post(stack: LocalStack, payload: dict[str, Any] | str) -> requests.Response:
    assert stack.standin is not None
    body, header = signed(payload, stack.standin.webhook_secret)
    headers = {"Stripe-Signature": header, "Content-Type": "application/json"}
    return requests.post(f"{stack.url}/api/stripe/webhook", data=body, headers=headers, timeout=30)


def account(stack: LocalStack, email: str) -> dict[str, Any]:
    answer = requests.get(f"{stack.url}/api/customers/{quote(email, safe='@')}", timeout=10)
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["account"])


@pytest.fixture(scope="module")
def known(stack: LocalStack) -> dict[str, str]:
    """A client whose payment the ledger knows, so refunds and disputes for it reach the ledger's code."""
    assert stack.standin is not None
    email = f"shapes-{secrets.token_hex(3)}@example.com"
    pi = paid_intent(stack.standin, 12900)
    session = opened(stack_store(stack), checkout_session(payment_intent=pi, metadata={"email": email}))
    answer = post(stack, event("checkout.session.completed", session))
    assert answer.json()["outcome"] == "credited", answer.text
    return {"email": email, "payment_intent": pi}


def base_object(kind: str, pi: str, ours: bool) -> dict[str, Any]:
    """A well-formed object of `kind` as Stripe sends it, for our known payment or a stranger's."""
    pi = pi if ours else f"pi_{secrets.token_hex(12)}"
    if kind == "checkout.session":  # a new purchase: a stranger's payment is credited, ours is a duplicate
        return checkout_session(payment_intent=pi, metadata={"email": f"shape-{secrets.token_hex(4)}@example.com"})
    obj = copy.deepcopy(FIXTURES[kind])
    obj.update(id=f"{obj['id'][:3]}{secrets.token_hex(10)}", payment_intent=pi)
    if kind == "refund" and ours:
        obj.update(metadata={"refund_id": secrets.token_hex(6), "lot_id": secrets.token_hex(6)})
    return obj


WRONG = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.just("x" * 3000),
    st.sampled_from(
        ["paid", "deposit", "block", "block-60", "60", "-60", "1e3", "9" * 45, "debt", "succeeded", "lost"]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.just({"id": "pi_expanded0000", "object": "payment_intent", "amount": 12900}),
)


def mutate(obj: dict[str, Any], path: str, action: str, value: Any) -> None:
    """Delete, null or retype one field; a path through a field that is not an object replaces that field."""
    *parents, last = path.split(".")
    where = obj
    for name in parents:
        if not isinstance(where.get(name), dict):
            where[name] = {}
        where = where[name]
    if action == "delete":
        where.pop(last, None)
    else:
        # a copy: a drawn object placed twice (or its own field) would make the event circular, and st.just's one
        # object would carry one example's changes into the next
        where[last] = None if action == "null" else copy.deepcopy(value)


@st.composite
def shaped_events(draw: st.DrawFn, pi: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(READ)), label="object")
    obj = base_object(kind, pi, draw(st.booleans(), label="our payment"))
    if kind == "refund" and draw(st.booleans(), label="made in Stripe's dashboard"):
        obj["metadata"] = {}
    fields = st.sampled_from(READ[kind]) | st.sampled_from(sorted(obj))
    for _ in range(draw(st.sampled_from([0, 1, 1, 2, 3, 5]), label="changes")):
        path = draw(fields, label="field")
        mutate(obj, path, draw(st.sampled_from(["delete", "null", "retype"])), draw(WRONG, label="value"))
    if draw(st.booleans(), label="a field from another API version"):
        obj[f"new_{secrets.token_hex(2)}"] = draw(WRONG)
    fitting = [t for t in HANDLED if t.startswith(TYPE_PREFIX[kind])]
    event_type = draw(st.sampled_from(fitting) | st.sampled_from(HANDLED + UNKNOWN), label="event type")
    wrapped = event(event_type, obj)
    wrapped["api_version"] = draw(st.sampled_from([None, "2020-08-27", "2025-09-30.clover", wrapped["api_version"]]))
    if draw(st.integers(0, 9), label="the envelope too") == 0:  # then it may be no Stripe event: a 400 is fine
        envelope = st.sampled_from(["id", "type", "created", "data", "data.object", "object", "livemode"])
        mutate(wrapped, draw(envelope), draw(st.sampled_from(["delete", "null", "retype"])), draw(WRONG))
    return wrapped


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_event_shape_is_acknowledged_or_refused_never_a_5xx(
    stack: LocalStack, known: dict[str, str], data: st.DataObject
) -> None:
    wrapped = data.draw(shaped_events(known["payment_intent"]))
    answer = post(stack, wrapped)
    body = assert_acknowledged_or_refused(answer)
    hypothesis.event(f"{wrapped.get('type')}: {answer.status_code} {body.get('outcome') or body.get('error')}")


NULLABLE = [
    ("refund.created", "refund", {"payment_intent": None}, "not_applicable"),
    ("refund.failed", "refund", {"payment_intent": None, "failure_reason": None}, "not_applicable"),
    ("charge.refunded", "charge", {"payment_intent": None}, "not_applicable"),
    ("charge.dispute.created", "dispute", {"payment_intent": None}, "not_applicable"),
    ("charge.dispute.closed", "dispute", {"payment_intent": None, "status": "lost"}, "not_applicable"),
    ("checkout.session.completed", "checkout.session", {"amount_total": None}, "not_applicable"),
    ("checkout.session.completed", "checkout.session", {"payment_intent": None}, "not_applicable"),
    ("checkout.session.completed", "checkout.session", {"metadata": None}, "ignored"),
    ("checkout.session.expired", "checkout.session", {"metadata": None}, "ignored"),
    ("checkout.session.completed", "checkout.session", {"customer": None}, "credited"),
    ("checkout.session.completed", "checkout.session", {"customer_details": None}, "credited"),
]


@pytest.mark.parametrize(
    ("event_type", "kind", "nulls", "outcome"), NULLABLE, ids=[f"{t}-{sorted(n)[0]}" for t, _, n, _ in NULLABLE]
)
def test_a_field_stripe_may_leave_null_is_read_as_null(
    stack: LocalStack, known: dict[str, str], event_type: str, kind: str, nulls: dict[str, Any], outcome: str
) -> None:
    """Null where the ledger needs a value is not applicable; null where it does not changes nothing."""
    assert stack.standin is not None
    before = account(stack, known["email"])
    pi = paid_intent(stack.standin, 12900) if kind == "checkout.session" else known["payment_intent"]
    obj = base_object(kind, pi, ours=True) | nulls
    if outcome == "credited":  # the shop opened this checkout before Stripe reports it paid
        opened(stack_store(stack), obj)
    answer = post(stack, event(event_type, obj))
    assert answer.status_code == 200 and answer.json()["outcome"] == outcome, answer.text
    assert account(stack, known["email"]) == before
    if outcome == "credited":
        assert account(stack, obj["metadata"]["email"])["available_cents"] == 12900


@pytest.mark.parametrize("kind", ["refund", "dispute"])
@pytest.mark.parametrize("field", ["amount", "id", "status"])
def test_a_refund_or_dispute_missing_what_the_ledger_needs_is_not_applicable(
    stack: LocalStack, known: dict[str, str], kind: str, field: str
) -> None:
    before = account(stack, known["email"])
    for change in ("delete", "null", "retype"):
        obj = base_object(kind, known["payment_intent"], ours=True)
        mutate(obj, field, change, ["not", "a", "value"])
        answer = post(stack, event("refund.created" if kind == "refund" else "charge.dispute.created", obj))
        assert answer.status_code == 200 and answer.json()["outcome"] == "not_applicable", answer.text
    assert account(stack, known["email"]) == before


def test_a_payment_intent_expanded_into_an_object_is_read_as_its_id(stack: LocalStack) -> None:
    assert stack.standin is not None
    email = f"expanded-{secrets.token_hex(3)}@example.com"
    pi = paid_intent(stack.standin, 12900)
    expanded = {"id": pi, "object": "payment_intent", "amount": 12900, "status": "succeeded"}
    session = checkout_session(payment_intent=expanded, metadata={"email": email})
    opened(stack_store(stack), session)
    assert post(stack, event("checkout.session.completed", session)).json()["outcome"] == "credited"
    dispute = base_object("dispute", pi, ours=True) | {"payment_intent": expanded, "status": "needs_response"}
    assert post(stack, event("charge.dispute.created", dispute)).json()["outcome"] == "recorded"
    assert account(stack, email)["status"] == "frozen"


@pytest.mark.parametrize(
    "body",
    ["[]", '"an event"', "42", "null", '{"id": "evt_1"}', '{"object": "event", "type": 7, "data": {"object": {}}}'],
)
def test_a_signed_body_that_is_not_a_stripe_event_is_400(stack: LocalStack, body: str) -> None:
    answer = post(stack, body)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_payload", answer.text


def test_an_event_whose_own_id_is_an_object_is_400_not_a_crash(stack: LocalStack, known: dict[str, str]) -> None:
    """Found by the shapes test: an object in the event's id (as an expanded field would be) reached the ledger's
    keys and answered 500; only data.object's fields may be expanded."""
    wrapped = event("checkout.session.completed", base_object("checkout.session", known["payment_intent"], ours=True))
    wrapped["id"] = {"id": "evt_expanded0000", "object": "event"}
    answer = post(stack, json.dumps(wrapped))
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_payload", answer.text


def test_an_event_with_no_object_is_400(stack: LocalStack) -> None:
    wrapped = event("refund.created", {})
    wrapped["data"] = {"previous_attributes": {}}
    answer = post(stack, json.dumps(wrapped))
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_payload", answer.text
