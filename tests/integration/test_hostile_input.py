"""Hostile input: every route fuzzed from docs/openapi.json, then the attacks a shop's API actually meets.

Whatever arrives, the answer is one docs/openapi.json documents: a 2xx, or a 4xx with {"error", "message"};
never a 5xx, never a stack trace, and a refused request changes nothing.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
import schemathesis
import schemathesis.transport.requests
import schemathesis.transport.wsgi  # imported lazily inside a Hypothesis test, CPython 3.11 can fail
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer
from schemathesis import APIOperation, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from blockhours import links
from blockhours_dev import openapi
from blockhours_dev.local import MAX_BODY_BYTES, LocalStack
from blockhours_dev.standin.payments import paid_intent
from stripe_events import checkout_session, event, opened, signed, stack_store

SCHEMA = schemathesis.openapi.from_path(
    openapi.DOCUMENT_PATH,
    config=schemathesis.Config.from_dict({"generation": {"mode": "all"}, "phases": {"coverage": {"enabled": False}}}),
)
DESCRIBED = json.loads(openapi.DOCUMENT_PATH.read_text(encoding="utf-8"))
BODY_ROUTES = [
    path.replace("{email}", "someone@example.com")
    for path, operations in DESCRIBED["paths"].items()
    if "requestBody" in operations.get("post", {})
]
MODEL_ROUTES = [path for path in BODY_ROUTES if path != "/api/stripe/webhook"]


@pytest.fixture(scope="module")
def stack(own_stack: LocalStack) -> LocalStack:
    return own_stack  # the fuzzer lists customers and starts reconciles: on a shared table they read everyone's


def assert_ours(answer: requests.Response) -> None:
    """A documented kind of answer: below 500, no stack trace, and a refusal is {"error", "message"} (a throttled
    request API Gateway's own {"message"})."""
    assert answer.status_code < 500, answer.text
    assert "Traceback" not in answer.text and 'File "' not in answer.text, answer.text
    if answer.status_code == 429:  # the route's throttle, answered by API Gateway (and the local API) itself
        assert answer.json() == {"message": "Too Many Requests"}, answer.text
    elif answer.status_code >= 400:
        assert set(answer.json()) == {"error", "message"}, answer.text


# One pytest item per route (not `SCHEMA.parametrize()`, whose items share one id: pytest-xdist kept only the first).
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_route_answers_fuzzed_requests_as_documented(
    operation: APIOperation, stack: LocalStack, data: st.DataObject
) -> None:
    mode = data.draw(st.sampled_from(list(GenerationMode)), label="mode")  # valid requests and invalid ones
    case = data.draw(operation.as_strategy(generation_mode=mode), label="case")
    answer = case.call(base_url=stack.url, timeout=30)
    case.validate_response(
        answer,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
    assert_ours(answer)


# --- a client with money on the balance, and the ways to look at it


def credit(stack: LocalStack, email: str, minutes: int = 60, cents: int = 12900) -> None:
    assert stack.standin is not None
    session = checkout_session(
        amount_total=cents,
        amount_subtotal=cents,
        payment_intent=paid_intent(stack.standin, cents),
        metadata={"email": email, "minutes": str(minutes)},
    )
    answer = post_event(stack, event("checkout.session.completed", opened(stack_store(stack), session)))
    assert answer.json()["outcome"] == "credited", answer.text


def post_event(stack: LocalStack, payload: dict[str, Any], secret: str | None = None) -> requests.Response:
    assert stack.standin is not None
    body, header = signed(payload, secret or stack.standin.webhook_secret)
    return post_signed(stack, body, header)


def post_signed(stack: LocalStack, body: bytes, header: str) -> requests.Response:
    headers = {"Stripe-Signature": header, "Content-Type": "application/json"}
    answer = requests.post(f"{stack.url}/api/stripe/webhook", data=body, headers=headers, timeout=10)
    assert_ours(answer)
    return answer


def ledger(stack: LocalStack, email: str) -> dict[str, Any]:
    answer = requests.get(f"{stack.url}/api/customers/{quote(email, safe='@')}", timeout=10)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def token(email: str) -> str:
    return links.make_balance_token(email, os.environ["BLOCKHOURS_LINK_SECRET"])


def new_email(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}@example.com"


@pytest.fixture
def funded(stack: LocalStack) -> Iterator[str]:
    """A client with an hour on the balance; afterwards, whatever the test sent, it is not below zero."""
    email = new_email("funded")
    credit(stack, email)
    yield email
    account = ledger(stack, email)["account"]
    assert account["available_minutes"] >= 0 and account["available_cents"] >= 0


def session_body(email: str, **changes: Any) -> dict[str, Any]:
    return {"email": email, "minutes": 15, "technician": "Sam", "session_id": secrets.token_hex(6), **changes}


# --- size, content type, bytes that are not JSON


@pytest.mark.parametrize("path", BODY_ROUTES)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_a_megabyte_is_413(stack: LocalStack, path: str, chunked: bool) -> None:
    body = b'{"note": "' + b"x" * MAX_BODY_BYTES + b'"}'
    data: Any = iter([body[i : i + 65536] for i in range(0, len(body), 65536)]) if chunked else body
    answer = requests.post(f"{stack.url}{path}", data=data, headers={"Content-Type": "application/json"}, timeout=30)
    assert answer.status_code == 413 and answer.json()["error"] == "too_large", answer.text


def valid_body(path: str, email: str) -> dict[str, Any]:
    """A body each route would accept as JSON for this client."""
    buyer = new_email("buyer")  # the funded client's Stripe customer is made up: only Stripe's events know it
    fields: dict[str, Any] = {"sku": "block-60", "email": buyer, "terms_version": "2026-12-06", "terms_accepted": True}
    record = {"external_id": "hostile-1", "technician": "Sam", "client_ref": "Hostile Co", "started_at": 1}
    record["duration_seconds"] = 600
    bodies = {
        "/api/sessions": session_body(email),
        "/api/mappings": {"source": "screenconnect", "client_ref": "Hostile Co", "email": email},
        "/api/inbox/{inbox_id}/assign": {"email": email},
        "/api/integrations/{source}/sessions": record,
        "/api/integrations/{source}/import": {"sessions": [record]},
        "/api/refunds": {"t": token(email)},
        "/api/checkout": fields,
        "/api/quotes": {"email": email, "minutes": 30},
    }
    if path.endswith("/trust"):
        return {"limit_minutes": 0}  # ends a limit the client does not have: refused, and nothing changes
    return bodies.get(path, {"minutes": 15} if path.endswith("/refund") else {})


@pytest.mark.filterwarnings("ignore:Received multipart/form-data without base64 encoding")
@pytest.mark.parametrize("route", MODEL_ROUTES)
def test_a_body_that_is_not_sent_as_json_is_415(stack: LocalStack, funded: str, route: str) -> None:
    path = route.replace("someone@example.com", funded)
    body = valid_body(path, funded)
    form = {name: str(value).lower() if isinstance(value, bool) else str(value) for name, value in body.items()}
    before = ledger(stack, funded)
    sent = [
        requests.post(f"{stack.url}{path}", data=json.dumps(body), headers={"Content-Type": "text/plain"}, timeout=10),
        requests.post(f"{stack.url}{path}", data="<t/>", headers={"Content-Type": "application/xml"}, timeout=10),
        requests.post(f"{stack.url}{path}", data=form or {"x": "1"}, timeout=10),
        requests.post(f"{stack.url}{path}", files={k: (None, v) for k, v in (form or {"x": "1"}).items()}, timeout=10),
        requests.post(f"{stack.url}{path}", data="--x", headers={"Content-Type": "multipart/form-data"}, timeout=10),
        requests.post(f"{stack.url}{path}", data=json.dumps(body), headers={"Content-Type": "TEXT/JSON"}, timeout=10),
    ]
    for answer in sent:
        assert answer.status_code == 415 and answer.json()["error"] == "unsupported_media_type", answer.text
    assert ledger(stack, funded) == before
    as_json = requests.post(f"{stack.url}{path}", json=body, timeout=10)  # the same body, sent as documented
    assert 200 <= as_json.status_code < 300 or as_json.json()["error"] in (
        "no_open_deposit",
        "not_trusted",
        "not_on_hold",
        "unknown_debt",  # the waive route: this client has no lost dispute's debt
        "unknown_inbox_item",  # the inbox routes: no item has the id `{inbox_id}`
        "bad_secret",  # a tool's endpoint: no source is named `{source}`, so none has a secret
        "unknown_source",  # the import route: no source is named `{source}`
        "not_found",  # ScreenConnect's endpoint: `{secret}` is not its secret, answered as no route at all
    ), as_json.text


@pytest.mark.parametrize(
    "body",
    [
        b'{"email": "\xff\xfe@example.com"}',  # not UTF-8
        b"[" * 100_000 + b"]" * 100_000,  # nested past Python's recursion limit
        b'{"minutes": ' + b"9" * 5000 + b"}",  # an integer past Python's 4300-digit limit
        b'{"minutes": 1e999999, "t": "\\ud800"}',  # infinity, a lone surrogate
        b"",
        b"null",
        b'"just a string"',
    ],
    ids=["not-utf8", "deep", "huge-integer", "inf-and-surrogate", "empty", "null", "string"],
)
@pytest.mark.parametrize("path", MODEL_ROUTES)
def test_unreadable_json_is_a_400(stack: LocalStack, path: str, body: bytes) -> None:
    answer = requests.post(f"{stack.url}{path}", data=body, headers={"Content-Type": "application/json"}, timeout=10)
    if path.endswith("/events/{secret}") and answer.status_code == 404:  # without its secret, as if no route
        assert answer.json()["error"] == "not_found", answer.text
        return
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", answer.text


# --- what people type: unicode, NUL bytes, right-to-left text, minutes that are no session


def test_unicode_notes_and_emails_are_kept_exactly(stack: LocalStack) -> None:
    email = f"zoë.名前-{secrets.token_hex(2)}@example.com"
    credit(stack, email)
    note = "Zoë's 名前 🙂🛠️ שלום עולם \u202eevil\u202c a\x00b \t tab"
    answer = requests.post(
        f"{stack.url}/api/sessions", json=session_body(email, note=note, technician="Zoë 🙂 \u05e9"), timeout=10
    )
    assert answer.status_code == 200, answer.text

    entries = ledger(stack, email)["entries"]
    assert [(e["kind"], e["note"]) for e in entries if e["kind"] == "redemption"] == [("redemption", note)]
    view = requests.get(f"{stack.url}/api/balance", params={"t": token(email)}, timeout=10).json()
    assert view["email"] == email and view["balance_minutes"] == 45
    assert note in [entry["note"] for entry in view["statement"]]
    assert (
        requests.post(f"{stack.url}/api/sessions", json=session_body(email, note="🙂" * 501), timeout=10).status_code
        == 400
    )


@pytest.mark.parametrize(
    "email",
    ["a\x00@example.com", "\u202eevil@example.com", "zoë@exa mple.com", "名前@", "@example.com", "a@b@c.com", "", " "],
)
def test_an_email_that_is_no_email_is_a_400(stack: LocalStack, email: str) -> None:
    for path, body in [
        ("/api/sessions", session_body(email)),
        ("/api/checkout", {"sku": "block-60", "email": email, "terms_version": "2026-12-06", "terms_accepted": True}),
    ]:
        answer = requests.post(f"{stack.url}{path}", json=body, timeout=10)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_email", answer.text
        assert "is not an email address" in answer.json()["message"], answer.text


MINUTES_THAT_ARE_NO_SESSION = [0, -15, 24 * 60 + 1, 10**12, 2**63, 2**64, 1e308, 1.5, 15.0, "15", "fifteen", None]
MINUTES_THAT_ARE_NO_SESSION += [True, [15], {"minutes": 15}]


@pytest.mark.parametrize("minutes", MINUTES_THAT_ARE_NO_SESSION, ids=repr)
def test_minutes_that_are_no_session_are_400_and_change_nothing(stack: LocalStack, funded: str, minutes: Any) -> None:
    before = ledger(stack, funded)
    answer = requests.post(f"{stack.url}/api/sessions", json=session_body(funded, minutes=minutes), timeout=10)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", answer.text
    if minutes is not None:  # a staff refund without minutes is a refund of everything
        refund = {"minutes": minutes, "technician": "Sam"}
        answer = requests.post(f"{stack.url}/api/customers/{funded}/refund", json=refund, timeout=10)
        if minutes == 24 * 60 + 1:  # a refund may ask for that much; this client has an hour
            assert answer.status_code == 409 and answer.json()["error"] == "nothing_to_refund", answer.text
        else:
            assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", answer.text
    assert ledger(stack, funded) == before


# --- Stripe's webhook: forged, tampered, replayed


def test_forged_and_tampered_webhooks_are_400_and_credit_nothing(stack: LocalStack) -> None:
    email = new_email("forged")
    paid = event("checkout.session.completed", checkout_session(metadata={"email": email}))
    other = event("checkout.session.completed", checkout_session(metadata={"email": email}))
    assert stack.standin is not None
    body, header = signed(paid, stack.standin.webhook_secret)
    other_body, _ = signed(other, stack.standin.webhook_secret)
    stale_body, stale_header = signed(paid, stack.standin.webhook_secret, timestamp=int(time.time()) - 301)
    attacks = [
        post_event(stack, paid, secret="whsec_" + secrets.token_hex(16)),  # an attacker's guess at the secret
        post_signed(stack, body.replace(b'"minutes": "60"', b'"minutes": "6000"'), header),  # tampered after signing
        post_signed(stack, other_body, header),  # a real signature, for another event
        post_signed(stack, stale_body, stale_header),  # captured and replayed after Stripe's tolerance
        post_signed(stack, body, header.replace("v1=", "v0=")),
        post_signed(stack, body, "t=0,v1=" + "0" * 64),
        post_signed(stack, body, ""),
    ]
    for answer in attacks:
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_signature", answer.text
    assert requests.get(f"{stack.url}/api/customers/{email}", timeout=10).status_code == 404


def test_a_replayed_webhook_changes_nothing(stack: LocalStack) -> None:
    assert stack.standin is not None
    email = new_email("replayed")
    session = checkout_session(metadata={"email": email}, payment_intent=paid_intent(stack.standin, 12900))
    paid = event("checkout.session.completed", opened(stack_store(stack), session))
    body, header = signed(paid, stack.standin.webhook_secret)
    assert post_signed(stack, body, header).json()["outcome"] == "credited"
    once = ledger(stack, email)

    replays = [post_signed(stack, body, header) for _ in range(5)]  # the same bytes and signature
    replays.append(post_event(stack, paid))  # signed again, as Stripe's retries are
    replays.append(post_event(stack, event("checkout.session.completed", session)))  # a new event id, same payment
    replays.append(post_event(stack, event("checkout.session.async_payment_succeeded", session)))
    assert [answer.json()["outcome"] for answer in replays] == ["duplicate"] * len(replays)
    assert ledger(stack, email) == once
    assert (once["account"]["available_minutes"], len(once["lots"])) == (60, 1)


# --- the client's balance link: another customer's, forged, malformed


def test_a_link_opens_its_own_customer_and_refunds_only_them(stack: LocalStack) -> None:
    ana, bob = new_email("ana"), new_email("bob")
    credit(stack, ana, 60, 12900)
    credit(stack, bob, 120, 24900)
    bob_before = ledger(stack, bob)

    view = requests.get(f"{stack.url}/api/balance", params={"t": token(ana)}, timeout=10)
    assert view.status_code == 200 and view.json()["email"] == ana and bob not in view.text

    smuggled = {"t": token(ana), "email": bob, "customer": bob, "minutes": 120}
    answer = requests.post(f"{stack.url}/api/refunds?t={token(bob)}&email={bob}", json=smuggled, timeout=10)
    assert answer.status_code == 202, answer.text
    assert (answer.json()["minutes"], answer.json()["amount_cents"]) == (60, 12900)
    assert ledger(stack, ana)["account"]["available_minutes"] == 0
    again = requests.post(f"{stack.url}/api/refunds", json={"t": token(ana)}, timeout=10)
    assert again.status_code == 409 and again.json()["error"] == "nothing_to_refund"

    bob_after = ledger(stack, bob)
    assert bob_after["account"] == bob_before["account"] and bob_after["lots"] == bob_before["lots"]


def forgeries(email: str, victim: str) -> list[str]:
    """Tokens an attacker can make from their own valid link, or without one."""
    mine = token(email)
    payload, _, signature = mine.partition(".")
    victim_payload = base64.urlsafe_b64encode(json.dumps(victim).encode()).decode().rstrip("=")
    other_salt = URLSafeTimedSerializer(os.environ["BLOCKHOURS_LINK_SECRET"], salt="another-purpose").dumps(victim)
    return [
        f"{victim_payload}.{signature}",  # someone else's email under my signature
        other_salt,  # our secret, signed for another purpose
        links.make_balance_token(victim, "x" * 40),  # a guessed secret
        mine[:-1],
        # One character changed inside the signature (not the last: base64's last character carries spare bits).
        mine[:-10] + ("A" if mine[-10] != "A" else "B") + mine[-9:],
        mine.upper(),
        mine + "x",
        payload,
        f"{mine}\x00",
        mine.replace(".", "..", 1),
    ]


MALFORMED = ["", " ", ".", "..", "a.b.c", "x" * 1000, "名前.🙂.שלום", "\x00", "%00", "../../etc/passwd"]


def test_forged_and_malformed_links_open_and_refund_nothing(stack: LocalStack) -> None:
    attacker, victim = new_email("attacker"), new_email("victim")
    credit(stack, attacker)
    credit(stack, victim)
    before = {email: ledger(stack, email) for email in (attacker, victim)}

    for t in forgeries(attacker, victim) + MALFORMED + ["x" * 5000]:
        view = requests.get(f"{stack.url}/api/balance", params={"t": t}, timeout=10)
        refund = requests.post(f"{stack.url}/api/refunds", json={"t": t}, timeout=10)
        for answer in (view, refund):
            assert_ours(answer)
            assert answer.status_code in (400, 401), (t, answer.text)
            assert victim not in answer.text and "balance_minutes" not in answer.text
    for t in [123, None, [token(victim)], {"$ne": ""}, True]:
        answer = requests.post(f"{stack.url}/api/refunds", json={"t": t}, timeout=10)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", answer.text
    assert {email: ledger(stack, email) for email in (attacker, victim)} == before


# --- staff routes: what is in the path is an email, never a way elsewhere


TRAVERSALS = [
    "..%2F{victim}",
    "{victim}%2F..",
    "%2e%2e%2f%2e%2e%2f{victim}",
    "..%5C{victim}",
    "%2e%2e",
    "{victim}%00",
    "{victim}%2Frefund",
    "%252e%252e%252f{victim}",
    "{victim}%3Fminutes%3D1",
    "*",
    "%25",
    "%ff%fe",
    "a" * 3000 + "@example.com",
]


def test_path_traversal_emails_reach_no_other_customer(stack: LocalStack) -> None:
    victim = new_email("victim")
    credit(stack, victim)
    before = ledger(stack, victim)
    for template in TRAVERSALS:
        email = template.format(victim=victim)
        for method, suffix, body in [("GET", "", None), ("POST", "/refund", {}), ("POST", "/settle", {})]:
            answer = requests.request(method, f"{stack.url}/api/customers/{email}{suffix}", json=body, timeout=10)
            assert_ours(answer)
            assert answer.status_code in (400, 404, 405, 409), (email, suffix, answer.text)
    assert ledger(stack, victim) == before


@pytest.mark.parametrize("email", ["a" * 250 + "@example.com", "no-at-sign", "tab\there@example.com"], ids=repr)
@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("POST", "/settle", {}),
        ("POST", "/refund", {}),
        ("POST", "/trust", {"limit_minutes": 60}),
    ],
)
def test_a_staff_path_that_holds_no_email_is_a_400(
    stack: LocalStack, email: str, method: str, suffix: str, body: dict[str, Any] | None
) -> None:
    """In AWS a key over DynamoDB's 2 KB limit would be a 500: the path is checked before any read."""
    answer = requests.request(method, f"{stack.url}/api/customers/{quote(email)}{suffix}", json=body, timeout=10)
    assert_ours(answer)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_email", answer.text
