"""The stand-in's hosted checkout page, and the signed events it sends when a person pays."""

from __future__ import annotations

import html
import json
import time
from typing import Any

import stripe

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1a1a2e}}
.card{{border:1px solid #d0d4e0;border-radius:.75rem;padding:1.5rem;box-shadow:0 2px 8px #0001}}
.note{{background:#fff6d6;border-radius:.5rem;padding:.6rem .8rem;font-size:.9rem}}
button{{font-size:1rem;padding:.6rem 1.2rem;border-radius:.5rem;border:1px solid #635bff;
  margin:.3rem .3rem 0 0;cursor:pointer}}
.pay{{background:#635bff;color:#fff}} .amount{{font-size:2rem;font-weight:600}}
</style></head>
<body><main class="card">
<p class="note">Local stand-in for Stripe Checkout: no card is needed and no money moves.</p>
<h1>{product}</h1>
<p class="amount">{amount}</p>
<p>{email}</p>
<p>{consent}</p>
{body}
</main></body></html>"""


_CARDS = (
    "<fieldset><legend>Test card (Stripe's test numbers)</legend>"
    '<label><input type="radio" name="card" value="4242424242424242" checked> '
    "4242 4242 4242 4242: later charges succeed</label><br>"
    '<label><input type="radio" name="card" value="4000002760003184"> '
    "4000 0027 6000 3184: later charges need the client's authentication</label><br>"
    '<label><input type="radio" name="card" value="4000000000000341"> '
    "4000 0000 0000 0341: later charges are declined</label></fieldset>"
)


def _amount(session: dict[str, Any]) -> str:
    whole, cents = divmod(int(session.get("amount_total") or 0), 100)
    return f"{whole:,}.{cents:02d} {str(session.get('currency') or '').upper()}"


def page(session: dict[str, Any], customer_email: str | None) -> str:
    items = session.get("_line_items") or [{}]
    product = items[0].get("price_data", {}).get("product_data", {}).get("name", "Your purchase")
    # A payment link's session asks no consent: Stripe sends consent_collection as null there.
    tos = (session.get("consent_collection") or {}).get("terms_of_service") == "required"
    if session["status"] == "open":
        body = (
            '<form method="post">'
            f"{_CARDS}"
            '<button class="pay" name="outcome" value="paid">Pay</button>'
            '<button name="outcome" value="failed">Simulate a declined payment</button>'
            '<button name="outcome" value="canceled">Cancel and go back</button>'
            "</form>"
        )
    else:
        body = f"<p>This checkout is {html.escape(session['status'])} ({html.escape(session['payment_status'])}).</p>"
    return _PAGE.format(
        title=html.escape(f"Pay {product}"),
        product=html.escape(product),
        amount=html.escape(_amount(session)),
        email=html.escape(customer_email or ""),
        consent="You agree to the shop's terms of service by paying." if tos else "",
        body=body,
    )


def signed_event(
    fixture: dict[str, Any], event_id: str, event_type: str, obj: dict[str, Any], secret: str
) -> tuple[dict[str, Any], bytes, str]:
    """An event shaped as Stripe sends it, its exact bytes, and the Stripe-Signature header for them."""
    event = json.loads(json.dumps(fixture))
    event.update(
        id=event_id,
        type=event_type,
        created=int(time.time()),
        api_version=stripe.api_version,
        data={"object": obj},
        livemode=False,
        pending_webhooks=1,
        request={"id": None, "idempotency_key": None},
    )
    payload = json.dumps(event, indent=2)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret)
    return event, payload.encode("utf-8"), header
