"""One client is one account, whichever way in and however the address is spelt (case, full width, punycode)."""

from __future__ import annotations

import os
import secrets
from typing import Any
from urllib.parse import quote

import requests

from blockhours import links
from blockhours_dev.local import LocalStack
from blockhours_dev.standin import StripeStandIn


def buy_and_pay(stack: LocalStack, email: str) -> str:
    """The shop page's checkout as the client typed the address, paid on the stand-in's hosted page."""
    body = {"sku": "block-60", "email": email, "terms_version": "2026-12-06", "terms_accepted": True}
    started = requests.post(f"{stack.url}/api/checkout", json=body, timeout=10)
    assert started.status_code == 200, started.text
    url = started.json()["url"]
    assert requests.post(url, data={"outcome": "paid"}, allow_redirects=False, timeout=30).status_code < 400
    return str(url.rsplit("/", 1)[1])


def staff_view(stack: LocalStack, email: str) -> requests.Response:
    return requests.get(f"{stack.url}/api/customers/{quote(email, safe='@')}", timeout=10)


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and c != "@" else c for c in text)


def session(stack: LocalStack, email: str, minutes: int = 15) -> requests.Response:
    body: dict[str, Any] = {"email": email, "minutes": minutes, "technician": "Sam", "session_id": secrets.token_hex(6)}
    return requests.post(f"{stack.url}/api/sessions", json=body, timeout=10)


def test_every_way_in_reaches_the_one_account(stack: LocalStack, standin: StripeStandIn) -> None:
    name = f"ana{secrets.token_hex(3)}"
    checkout_id = buy_and_pay(stack, f"{name.title()}@Example.com")
    assert standin.sessions[checkout_id]["metadata"]["email"] == f"{name}@example.com"

    seen = staff_view(stack, f"{name}@example.com")
    assert seen.status_code == 200, seen.text
    assert seen.json()["account"]["email"] == f"{name}@example.com"
    assert [lot["lot_id"] for lot in seen.json()["lots"]] == [checkout_id]

    recorded = session(stack, fullwidth(f"{name.upper()}@EXAMPLE.com"))
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["email"] == f"{name}@example.com"

    token = links.make_balance_token(f"  {name.upper()}@example.COM ", os.environ["BLOCKHOURS_LINK_SECRET"])
    page = requests.get(f"{stack.url}/api/balance", params={"t": token}, timeout=10)
    assert page.status_code == 200, page.text
    assert page.json()["email"] == f"{name}@example.com" and page.json()["balance_minutes"] == 45

    after = staff_view(stack, fullwidth(name) + "@Example.com").json()
    assert after["account"]["available_minutes"] == 45 and len(after["lots"]) == 1
    assert [e["kind"] for e in after["entries"]].count("redemption") == 1


def test_an_internationalised_domain_and_its_punycode_are_one_client(stack: LocalStack) -> None:
    name = f"ana{secrets.token_hex(3)}"
    buy_and_pay(stack, f"{name}@Bücher.example")
    buy_and_pay(stack, f"{name}@xn--bcher-kva.example")  # the same client buying again, from another device
    assert session(stack, f"{name.upper()}@BÜCHER.EXAMPLE", 30).status_code == 200
    seen = staff_view(stack, f"{name}@bücher.example")
    assert seen.status_code == 200, seen.text
    assert seen.json()["account"]["email"] == f"{name}@xn--bcher-kva.example"
    assert seen.json()["account"]["available_minutes"] == 120 - 30 and len(seen.json()["lots"]) == 2


def test_a_dot_or_a_tag_in_the_local_part_is_another_client(stack: LocalStack) -> None:
    name = f"ana{secrets.token_hex(3)}"
    buy_and_pay(stack, f"{name}@example.com")
    for other in (f"{name[:2]}.{name[2:]}@example.com", f"{name}+shop@example.com"):
        assert staff_view(stack, other).status_code == 404
        refused = session(stack, other)
        assert refused.status_code == 404 and refused.json()["error"] == "unknown_customer", refused.text


def test_an_address_that_cannot_be_one_is_400_invalid_email_everywhere(stack: LocalStack) -> None:
    bad = "ana@localhost"
    checkout = {"sku": "block-60", "email": bad, "terms_version": "2026-12-06", "terms_accepted": True}
    quote_body = {"email": bad, "minutes": 60}
    for answer in (
        requests.post(f"{stack.url}/api/checkout", json=checkout, timeout=10),
        session(stack, bad),
        requests.post(f"{stack.url}/api/quotes", json=quote_body, timeout=10),
        staff_view(stack, bad),
    ):
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == "invalid_email", answer.text
        assert "'ana@localhost' is not an email address" in answer.json()["message"], answer.text
        assert "should have a period" in answer.json()["message"], answer.text
