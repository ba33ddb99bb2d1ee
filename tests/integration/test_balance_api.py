"""GET /api/balance: the client's signed link opens their balance, and nothing else does."""

from __future__ import annotations

import os
import time

import pytest
import requests

from blockhours import links, wiring
from blockhours_dev.local import LocalStack
from blockhours_dev.template import http_routes, load_template

TERMS = "2026-12-06"
DAY = 86_400


def buy(api: str, email: str, sku: str) -> None:
    body: dict[str, str | bool] = {"sku": sku, "email": email, "terms_version": TERMS, "terms_accepted": True}
    url = requests.post(f"{api}/api/checkout", json=body, timeout=10).json()["url"]
    paid = requests.post(url, data={"outcome": "paid"}, allow_redirects=False, timeout=30)
    assert paid.status_code == 303, paid.text


def token(email: str, **kwargs: int) -> str:
    return links.make_balance_token(email, os.environ["BLOCKHOURS_LINK_SECRET"], **kwargs)


def balance(api: str, t: str | None) -> requests.Response:
    return requests.get(f"{api}/api/balance", params={"t": t} if t is not None else None, timeout=10)


def test_a_signed_link_shows_balance_lots_and_statement_in_the_order_it_happened(stack: LocalStack) -> None:
    buy(stack.url, "Lots.Owner@Example.com", "block-60")
    # often in the same second: the ledger orders within a second by when each was written
    buy(stack.url, "lots.owner@example.com", "block-30")

    answer = balance(stack.url, token("lots.owner@example.com"))

    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    view = answer.json()
    assert view["email"] == "lots.owner@example.com"
    assert (view["balance_minutes"], view["balance_cents"], view["currency"]) == (90, 19800, "usd")
    assert [(lot["minutes"], lot["remaining_minutes"], lot["amount_cents"]) for lot in view["lots"]] == [
        (60, 60, 12900),
        (30, 30, 6900),
    ]
    assert view["lots"][0]["remaining_cents"] == 12900
    assert [(row["words"], row["minutes"], row["amount_cents"]) for row in view["statement"]] == [
        ("Bought 1-hour block", 60, 12900),
        ("Bought 30-minute block", 30, 6900),
    ]
    assert set(view["statement"][0]) == {"at", "words", "minutes", "amount_cents", "note"}
    assert view["statement"][0]["at"] <= view["statement"][1]["at"]
    assert (view["owed_cents"], view["owed"], view["on_account"]) == (0, [], None)


def test_reading_a_balance_is_one_dynamodb_query(stack: LocalStack) -> None:
    buy(stack.url, "one.query@example.com", "block-60")
    calls: list[str] = []
    wiring.ledger().client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))

    from blockhours.handlers import client
    from blockhours_dev.local import LocalContext

    event = {
        "version": "2.0",
        "rawPath": "/api/balance",
        "rawQueryString": f"t={token('one.query@example.com')}",
        "queryStringParameters": {"t": token("one.query@example.com")},
        "headers": {},
        "requestContext": {"http": {"method": "GET", "path": "/api/balance"}, "stage": "$default"},
        "isBase64Encoded": False,
    }
    answer = client.handler(event, LocalContext("client"))

    assert answer["statusCode"] == 200, answer
    assert calls == ["Query"]


def test_a_forged_link_is_refused_with_a_reason(stack: LocalStack) -> None:
    buy(stack.url, "forged@example.com", "block-60")
    forged = links.make_balance_token("forged@example.com", "f" * 40)

    answer = balance(stack.url, forged)

    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_link"
    assert "forged@example.com" not in answer.text and "minutes" not in answer.json()


def test_an_expired_link_tells_the_client_to_ask_for_a_new_one(stack: LocalStack) -> None:
    buy(stack.url, "expired@example.com", "block-60")
    old = token("expired@example.com", issued_at=int(time.time()) - 31 * DAY)

    answer = balance(stack.url, old)

    assert answer.status_code == 401
    body = answer.json()
    assert body["error"] == "expired_link" and "ask the shop for a new link" in body["message"]


@pytest.mark.parametrize("t", [None, ""])
def test_no_token_is_a_bad_request(stack: LocalStack, t: str | None) -> None:
    answer = balance(stack.url, t)

    assert answer.status_code == 400
    assert answer.json()["error"] == "missing_link"


def test_a_valid_link_for_someone_who_never_bought_is_not_found(stack: LocalStack) -> None:
    answer = balance(stack.url, token("never.bought@example.com"))

    assert answer.status_code == 404
    assert answer.json()["error"] == "unknown_customer"


def test_the_client_routes_are_public_and_served_by_the_client_function() -> None:
    """Least privilege for the function is tests/infra/test_template.py's; here: who may call these routes."""
    routes = {(r.method, r.path): r for r in http_routes(load_template())}
    for route in (("GET", "/api/balance"), ("POST", "/api/refunds")):
        assert routes[route].handler == "blockhours.handlers.client.handler"
        assert routes[route].iam_auth is False


def test_staff_get_a_fresh_link_signed_by_the_api_and_none_for_a_stranger(stack: LocalStack) -> None:
    buy(stack.url, "asked.again@example.com", "block-60")
    before = int(time.time())

    made = requests.post(f"{stack.url}/api/customers/Asked.Again@Example.com/link", timeout=10)

    assert made.status_code == 200, made.text
    assert made.headers["Cache-Control"] == "no-store"
    link = made.json()
    assert link["email"] == "asked.again@example.com"
    assert before + 30 * DAY <= link["expires_at"] <= int(time.time()) + 30 * DAY
    t = link["url"].removeprefix(f"{stack.url}/balance/?t=")
    assert balance(stack.url, t).json()["balance_minutes"] == 60
    stranger = requests.post(f"{stack.url}/api/customers/stranger@example.com/link", timeout=10)
    assert (stranger.status_code, stranger.json()["error"]) == (404, "unknown_customer")
    not_an_email = requests.post(f"{stack.url}/api/customers/stranger/link", timeout=10)
    assert (not_an_email.status_code, not_an_email.json()["error"]) == (400, "invalid_email")


def test_the_link_route_is_for_staff_and_served_by_the_api_function() -> None:
    route = {(r.method, r.path): r for r in http_routes(load_template())}[("POST", "/api/customers/{email}/link")]
    assert route.handler == "blockhours.handlers.api.handler" and route.iam_auth is True
