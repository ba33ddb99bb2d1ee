"""The client's own pages: GET /api/balance (with their signed link) and POST /api/refunds; GET
/api/checkouts/{id}, what the page a payment ends on shows, named by the Checkout Session Stripe redirected from."""

from __future__ import annotations

import json
import re
import time
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from .. import config, links, services, shop_time, wiring
from ..balance_page import balance_view, may_open_balance, paid_view
from ..domain.money import format_cents
from ..ports import GatewayError
from .http import resolver
from .telemetry import logger, metrics, tracer

app = resolver()
config.at_cold_start(config.store, config.site, secrets=("BLOCKHOURS_LINK_SECRET", "STRIPE_API_KEY"))

# A balance is one person's money: no browser, proxy or CDN may keep a copy.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
_CHECKOUT_ID = re.compile(r"cs_[A-Za-z0-9_]{1,250}")


class RefundBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    t: str = Field(min_length=1, max_length=1000)


def _client_email(token: str) -> str:
    """The customer a balance link names, or a 4xx the client can act on."""
    if not token:
        raise services.ShopError(
            "missing_link", "open this page from the link in your email; the address must end in ?t=..."
        )
    settings = config.links()
    try:
        return links.read_balance_token(token, settings.secret, settings.max_age_seconds)
    except links.LinkError as exc:
        logger.info("balance link rejected", extra={"reason": exc.code})
        raise services.BadLink(exc.code, exc.message) from exc


@app.post("/api/refunds")
def refund(body: Annotated[RefundBody, Body()]) -> Response[str]:
    email = _client_email(body.t)
    record = services.request_refund(wiring.catalog(), wiring.ledger(), email, "client", email)
    metrics.add_metric(name="RefundRequested", unit=MetricUnit.Count, value=1)
    currency = wiring.catalog().shop.currency
    message = (
        f"{format_cents(record.amount_cents, currency)} is on its way back to your card; "
        "we have emailed you a confirmation"
    )
    body_out = {"refund_id": record.refund_id, "amount_cents": record.amount_cents, "minutes": record.minutes}
    return Response(
        status_code=202,
        content_type="application/json",
        body=json.dumps({**body_out, "message": message}),
        headers=PRIVATE_HEADERS,
    )


@app.get("/api/balance")
def balance() -> Response[str]:
    email = _client_email(app.current_event.get_query_string_value("t", "") or "")
    ledger = services.customer_ledger(wiring.ledger(), email)
    view = balance_view(ledger, wiring.catalog(), shop_time.zone(), int(time.time()))
    return Response(status_code=200, content_type="application/json", body=json.dumps(view), headers=PRIVATE_HEADERS)


@app.get("/api/checkouts/<checkout_id>")
def paid(checkout_id: str) -> Response[str]:
    """What a payment paid for (and, for a pay link, what is still owed): the success and thank-you pages."""
    try:
        found = wiring.gateway().paid_checkout(checkout_id) if _CHECKOUT_ID.fullmatch(checkout_id) else None
    except GatewayError as exc:
        logger.warning("checkout not readable", extra={"problem": str(exc)})
        raise services.StripeUnreachable(
            "stripe_unavailable", "Stripe could not tell us about this payment just now; reload this page in a minute"
        ) from exc
    if found is None:
        raise services.NotFound(
            "unknown_checkout",
            "this page does not name a payment of ours; the receipt in your email says what was paid",
        )
    ledger = wiring.ledger().customer(found.email)
    url = ""
    if may_open_balance(found, ledger):
        url = links.balance_url(config.site().url, links.make_balance_token(found.email, config.links().secret))
    view = paid_view(found, ledger, wiring.catalog(), shop_time.zone(), int(time.time()), url)
    return Response(status_code=200, content_type="application/json", body=json.dumps(view), headers=PRIVATE_HEADERS)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)  # answers carry clients' emails and links: not in X-Ray
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
