"""docs/openapi.json: the HTTP API as the handlers declare it, with every answer a caller can get.

Powertools generates the paths, parameters and request bodies from the resolvers. This module adds what they
cannot see (the balance link in the query, the webhook's raw body and signature header, which routes are
IAM-authorized in template.yaml) and replaces Powertools' 422 with the answers our handlers give: each
route's success, and every 4xx with the `{"error", "message"}` body of handlers/http.py.

`python -m blockhours_dev.openapi` rewrites the file; tests/unit/test_openapi.py fails when it is out of date.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from . import template

DOCUMENT_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
JSON = "application/json"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Error",
    "description": "Every refusal: a stable code, and a message that tells the person what to do.",
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    "required": ["error", "message"],
    "additionalProperties": False,
}

# Only Powertools' own 422 refers to these; our handlers answer 400 instead.
_POWERTOOLS_ONLY = frozenset({"HTTPValidationError", "ValidationError", "ResponseValidationError"})


@dataclass(frozen=True)
class Answers:
    """What one route answers: its success, and each refusal with the error codes behind it."""

    success: int
    returns: str
    refusals: dict[int, str]


_BODY = {
    400: "`invalid_request`: the body does not match the schema, or is not valid JSON or UTF-8",
    413: "`too_large`: the body is over 1 MB",
    415: "`unsupported_media_type`: the body is not sent as `Content-Type: application/json`",
}
_STAFF = {403: "`forbidden`: the request is not signed with the shop's AWS credentials (SigV4)"}
_CUSTOMER = {
    404: "`unknown_customer`: no customer with this email has bought anything "
    "(`not_found` when the email holds a `/`, which no route matches)"
}
_IN_PATH = "`invalid_email`: the path does not hold an email address"
_IN_BODY = "`invalid_email`: `email` cannot be an address; the message says what is wrong"
_BUSY = "`busy`: the balance kept changing while this was recorded; send it again"

_INBOX_ANSWER = (
    "`outcome` (redeemed, inbox, free, dismissed, duplicate), `inbox_id`, `session_id` and `billed_minutes` when "
    "redeemed, the client's `balance_minutes` and `on_hold` (with `hold_reason`), and the inbox `item`"
)
_INBOX_ITEM = {404: "`unknown_inbox_item`: no inbox item by this id (`GET /api/inbox` lists them)"}
ANSWERS: dict[tuple[str, str], Answers] = {
    ("GET", "/api/health"): Answers(200, 'the API is up: `{"status": "ok"}`', {}),
    ("POST", "/api/integrations/{source}/sessions"): Answers(
        200,
        f"the tool's session, once however often it is sent: {_INBOX_ANSWER}",
        _BODY
        | {
            401: "`bad_secret`: no `Authorization: Bearer <secret>`, or not this source's secret",
            404: "`unknown_source`: the source is not in catalog.yaml's integrations",
            409: f"{_BUSY}",
        },
    ),
    ("POST", "/api/integrations/screenconnect/events/{secret}"): Answers(
        200,
        "a host's Connected or Disconnected, paired once however often and in whatever order it comes (`outcome`: "
        "noted, recorded; ignored for guests and other events): `summary` (one line for the trigger's log), the "
        f"client's `balance_minutes`, `on_hold` and `hold_reason`, and `sessions`, each {_INBOX_ANSWER}",
        _BODY
        | {
            400: f"{_BODY[400]}; `bad_event`: the event lacks a field, named (post the whole event: `{{*:json}}`)",
            404: "`not_found`: not ScreenConnect's secret (current or previous), answered as for no route at all",
            409: f"{_BUSY}",
            429: "`Too Many Requests`: over the route's throttle in template.yaml (API Gateway's own answer)",
        },
    ),
    ("GET", "/api/integrations/screenconnect/url"): Answers(
        200,
        "`url`: the URL to paste into ScreenConnect's trigger; it carries the current secret",
        _STAFF | {404: "`no_secret`: screenconnect has no secret of 32+ characters in the integration secrets"},
    ),
    ("POST", "/api/integrations/{source}/import"): Answers(
        200,
        "without `apply`, nothing written: `preview`, each session with its client's `email` (empty: not matched), "
        "`used_minutes`, `billable_minutes` and `recorded_before`; with `apply: true`, `answers`: each session "
        f"received once however often the file is imported: {_INBOX_ANSWER}",
        _BODY | _STAFF | {404: "`unknown_source`: the source is not in catalog.yaml's integrations", 409: _BUSY},
    ),
    ("GET", "/api/inbox"): Answers(
        200, "`items`: the tools' sessions waiting for a person (unmatched, to_confirm, refused), oldest first", _STAFF
    ),
    ("POST", "/api/inbox/{inbox_id}/assign"): Answers(
        200,
        f"the mapping is learnt and the item goes on by its source's policy: {_INBOX_ANSWER}; `also`: the other "
        "waiting sessions of that client, each answered the same way",
        _BODY
        | _STAFF
        | _INBOX_ITEM
        | {400: f"{_BODY[400]}; {_IN_BODY}", 409: "`already_assigned`: it was tried for another client"},
    ),
    ("POST", "/api/inbox/{inbox_id}/confirm"): Answers(
        200,
        f"the item is redeemed (or stays, refused, with the reason): {_INBOX_ANSWER}",
        _BODY | _STAFF | _INBOX_ITEM | {409: f"`unmatched`: assign it to a client first; {_BUSY}"},
    ),
    ("POST", "/api/inbox/{inbox_id}/dismiss"): Answers(
        200,
        f"the item leaves the inbox, recorded as dismissed: {_INBOX_ANSWER}",
        _BODY | _STAFF | _INBOX_ITEM | {409: "`redeeming`: a redemption is under way; confirm it instead"},
    ),
    ("POST", "/api/mappings"): Answers(
        200,
        "the source's name for the client now means this account: `applied` answers each waiting session it matched",
        _BODY | _STAFF | {400: f"{_BODY[400]}; {_IN_BODY}", 404: "`unknown_source`: the source is not in catalog.yaml"},
    ),
    ("POST", "/api/checkout"): Answers(
        200,
        "where to send the client: `url`, Stripe's hosted checkout for the product",
        _BODY | {400: f"{_BODY[400]}; {_IN_BODY}; `unknown_sku`, `terms_not_accepted`, `stale_terms`: what to change"},
    ),
    ("POST", "/api/stripe/webhook"): Answers(
        200,
        "the event is recorded exactly once: `received`, `outcome` (event types we do not use too)",
        {
            400: "`invalid_signature`: not signed by Stripe with our secret within 5 minutes of now, before or after; "
            "`invalid_payload`: the body is not UTF-8, or not a Stripe event (an id, type, created and data.object)",
            413: _BODY[413],
        },
    ),
    ("GET", "/api/balance"): Answers(
        200,
        "the client's balance: what is owed (each debt with its pay link), time on account, the prepaid balance and "
        "its refund date, the purchases, and the statement in plain words, oldest first; `Cache-Control: no-store`",
        {
            400: "`missing_link`: no `t` in the query",
            401: "`invalid_link`: forged, cut or for another purpose; `expired_link`: older than the link's age",
            404: "`unknown_customer`: the link names someone who has bought nothing",
        },
    ),
    ("POST", "/api/refunds"): Answers(
        202,
        "what is left is set aside and on its way back to the card: `refund_id`, `amount_cents`, `minutes`, `message`",
        _BODY
        | {
            401: "`invalid_link`, `expired_link`: the balance link in `t` cannot be honoured",
            404: "`unknown_customer`: the link names someone who has bought nothing",
            409: f"`nothing_to_refund`, `below_minimum` (it stays on the balance), `account_frozen`; {_BUSY}",
        },
    ),
    ("GET", "/api/checkouts/{checkout_id}"): Answers(
        200,
        "what the Checkout Session paid for, how much and whether it is paid; a purchase's email (and its balance "
        "link when the account holds nothing else), or what else a pay link's client still owes",
        {404: "`unknown_checkout`: Stripe has no Checkout Session of ours by this id"},
    ),
    ("GET", "/api/customers"): Answers(200, "every customer holding credit", _STAFF),
    ("GET", "/api/customers/{email}"): Answers(
        200,
        "the customer's account, lots (with what remains), journal entries, refunds and debts, and the statement "
        "the client reads (`statement`: one row per event, oldest first)",
        _STAFF | _CUSTOMER | {400: _IN_PATH},
    ),
    ("POST", "/api/customers/{email}/link"): Answers(
        200,
        "a fresh link to the client's balance page, signed with the shop's link key: `email`, `url`, `expires_at` "
        "(epoch seconds); `Cache-Control: no-store`",
        _STAFF | {400: _IN_PATH, 404: "`unknown_customer`: the ledger knows no client with this email"},
    ),
    ("GET", "/api/reports/liability"): Answers(200, "prepaid balance outstanding, by age", _STAFF),
    ("POST", "/api/sessions"): Answers(
        200,
        "the session with a one-line `summary` and `recorded_now`: true when this request recorded it, false when "
        "the same `session_id` was recorded before (its first outcome, and a summary that says when and by whom)",
        _BODY
        | _STAFF
        | {
            400: f"{_BODY[400]}; {_IN_BODY}",
            404: "`unknown_customer`: this email has not bought any time",
            409: f"`insufficient_balance`, `over_limit` (a trusted client's limit), `no_card` (the rest would go to "
            "a card and none is saved: nothing is recorded; the message says what fits and which quote to send), "
            f"`session_conflict`, `account_frozen`, `in_collections`; {_BUSY}",
        },
    ),
    ("POST", "/api/customers/{email}/settle"): Answers(
        200,
        "the customer's ledger after the deposit is closed (and its remainder sent back, per catalog.yaml)",
        _BODY | _STAFF | {400: f"{_BODY[400]}; {_IN_PATH}", 404: _CUSTOMER[404], 409: f"`no_open_deposit`; {_BUSY}"},
    ),
    ("POST", "/api/customers/{email}/release"): Answers(
        200,
        "the customer's ledger after the hold of a lost dispute is lifted (sessions and refunds may run again)",
        _BODY | _STAFF | {400: f"{_BODY[400]}; {_IN_PATH}", 404: _CUSTOMER[404], 409: "`not_on_hold`"},
    ),
    ("POST", "/api/customers/{email}/debts/{debt_id}/waive"): Answers(
        200,
        "the customer's ledger after what a lost dispute left owed is waived",
        _BODY | _STAFF | {400: f"{_BODY[400]}; {_IN_PATH}", 404: "`unknown_debt`", 409: "`debt_closed`"},
    ),
    ("POST", "/api/customers/{email}/refund"): Answers(
        202,
        "the refund is set aside and queued for the card(s): the refund, its parts, `amount_cents`, `minutes`",
        _BODY
        | _STAFF
        | _CUSTOMER
        | {400: f"{_BODY[400]}; {_IN_PATH}", 409: f"`nothing_to_refund`, `account_frozen`; {_BUSY}"},
    ),
    ("POST", "/api/reports/reconcile"): Answers(
        202,
        "the audit runs in the background: `job_id` (follow it at `/api/jobs/{job_id}`), `status` running; with "
        "`requeue`, `requeue_job_id` too",
        _BODY | _STAFF,
    ),
    ("POST", "/api/refunds/requeue"): Answers(
        202,
        "refunds still waiting for the worker are sent to it again, in the background: `job_id`, `status` running",
        _STAFF,
    ),
    ("GET", "/api/jobs/{job_id}"): Answers(
        200,
        "the job's `status` (running, done, failed), `accounts` checked so far, `discrepancy_count` and the first "
        "200 `discrepancies` with what to do, `requeued_count` and `requeued` refunds, `error`, and `stalled` (no "
        "step has run for 15 minutes: it stopped)",
        _STAFF | {404: "`unknown_job`: no job with this id"},
    ),
    ("POST", "/api/quotes"): Answers(
        201,
        "the quote priced at the hourly rate, with `pay_url` (Stripe's page for it; also emailed); the same "
        "`quote_id` again returns the same quote",
        _BODY
        | _STAFF
        | {
            400: f"{_BODY[400]}; {_IN_BODY}",
            409: "`quote_conflict`: that quote id was sent for another client or estimate; "
            "`quote_needs_confirmation`: the estimate is above `quotes.confirm_above_minutes` in catalog.yaml and "
            "`confirmed` is not true (nothing was emailed)",
        },
    ),
    ("GET", "/api/quotes"): Answers(200, "recent quotes, newest first: open, paid or expired", _STAFF),
    ("POST", "/api/customers/{email}/trust"): Answers(
        200,
        "the account with its limit on account (`limit_minutes` 0 ends it: back to prepaying)",
        _BODY | _STAFF | {400: f"{_BODY[400]}; {_IN_PATH}", 409: f"`not_trusted`: there is no limit to end; {_BUSY}"},
    ),
    ("GET", "/api/debts"): Answers(
        200, "every open debt, oldest first, with its notices, collections and pay link", _STAFF
    ),
}

# What the resolvers cannot see, because the handler reads the raw event.
_PARAMETERS: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("GET", "/api/balance"): [
        {
            "name": "t",
            "in": "query",
            "required": True,
            "description": "the signed token from the client's balance link",
            "schema": {"type": "string"},
        }
    ],
    ("POST", "/api/integrations/{source}/sessions"): [
        {
            "name": "Authorization",
            "in": "header",
            "required": True,
            "description": "`Bearer <secret>`: the source's own long secret (the shop's integration secrets)",
            "schema": {"type": "string"},
        }
    ],
    ("POST", "/api/stripe/webhook"): [
        {
            "name": "Stripe-Signature",
            "in": "header",
            "required": True,
            "description": "Stripe's signature over the raw body, checked with the webhook secret",
            "schema": {"type": "string"},
        }
    ],
}
_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/stripe/webhook"): {
        "required": True,
        "content": {JSON: {"schema": {"type": "object", "description": "a Stripe event, as Stripe signed it"}}},
    }
}


# API Gateway answers a throttled request itself, before any function runs: `{"message": "Too Many Requests"}`.
GATEWAY_MESSAGE_SCHEMA = {
    "title": "GatewayMessage",
    "type": "object",
    "properties": {"message": {"type": "string"}},
    "required": ["message"],
}
_SCHEMA_OF = {429: "GatewayMessage"}


def _answered(method: str, path: str, operation: dict[str, Any], staff: bool) -> dict[str, Any]:
    key = (method, path)
    if key not in ANSWERS:
        raise KeyError(f"{method} {path} has no documented answers: add it to ANSWERS in blockhours_dev/openapi.py")
    answers = ANSWERS[key]
    done = {name: value for name, value in operation.items() if name != "responses"}
    if key in _PARAMETERS:
        done["parameters"] = [*done.get("parameters", []), *_PARAMETERS[key]]
    if key in _BODIES:
        done["requestBody"] = _BODIES[key]
    if staff:
        done["security"] = [{"awsSigV4": []}]
    done["responses"] = {
        str(answers.success): {"description": answers.returns, "content": {JSON: {"schema": {"type": "object"}}}},
        **{
            str(status): {
                "description": what,
                "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{_SCHEMA_OF.get(status, 'Error')}"}}},
            }
            for status, what in sorted(answers.refusals.items())
        },
    }
    return done


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of every route, merged from the handlers' resolvers."""
    from blockhours.handlers import api, checkout, client, webhook  # importing a handler builds no client

    staff = {(route.method, route.path) for route in template.http_routes() if route.iam_auth}
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA, "GatewayMessage": GATEWAY_MESSAGE_SCHEMA}
    for module in (checkout, webhook, client, api):
        generated = json.loads(module.app.get_openapi_json_schema())
        for path, operations in generated["paths"].items():
            for method, operation in operations.items():
                key = (method.upper(), path)
                paths.setdefault(path, {})[method] = _answered(*key, operation, key in staff)
        for name, schema in generated.get("components", {}).get("schemas", {}).items():
            if name not in _POWERTOOLS_ONLY and schemas.setdefault(name, schema) != schema:
                raise ValueError(f"two different request bodies are named {name}: rename one")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Blockhours",
            "version": metadata.version("blockhours"),
            "description": "Prepaid remote-support time: the shop's checkout and Stripe webhook, the client's "
            "balance link, and the staff routes (IAM-authorized). Every refusal is a 4xx with "
            '`{"error", "message"}`.',
        },
        "paths": {path: dict(sorted(paths[path].items())) for path in sorted(paths)},
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "awsSigV4": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "AWS Signature Version 4 with the shop's IAM credentials (API Gateway's IAM "
                    "authorizer); the local stack accepts staff requests from loopback unsigned",
                }
            },
        },
    }


def rendered() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """`python -m blockhours_dev.openapi`: rewrite docs/openapi.json (`--check`: exit 1 if it is out of date)."""
    args = sys.argv[1:] if argv is None else argv
    text = rendered()
    if "--check" in args:
        current = DOCUMENT_PATH.read_text(encoding="utf-8") if DOCUMENT_PATH.exists() else ""
        if current != text:
            print(f"{DOCUMENT_PATH} is out of date: run python -m blockhours_dev.openapi", file=sys.stderr)
            return 1
        return 0
    DOCUMENT_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {DOCUMENT_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
