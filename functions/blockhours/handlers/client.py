"""GET /api/balance: the client's own balance, lots and statement, opened with their signed link."""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from .. import config, links, services, shop_time, wiring
from ..domain.ledger import CustomerLedger, journal_order
from ..domain.lots import fifo_order
from ..domain.money import format_cents
from .http import logger, metrics, resolver, tracer

app = resolver()
config.at_cold_start(config.store, secrets=("BLOCKHOURS_LINK_SECRET",))

# A balance is one person's money: no browser, proxy or CDN may keep a copy.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def balance_view(ledger: CustomerLedger, currency: str) -> dict[str, Any]:
    """What the balance page shows: the balance, each lot, and every journal entry, newest first; its dates
    are epoch seconds, which the page writes in `time_zone`, the shop's."""
    account = ledger.account
    return {
        "email": account.email,
        "status": account.status,
        "currency": currency,
        "time_zone": shop_time.zone().key,
        "balance_minutes": account.available_minutes,
        "balance_cents": account.available_cents,
        "lots": [
            {
                "minutes": lot.minutes,
                "amount_cents": lot.amount_cents,
                "remaining_minutes": lot.remaining_minutes,
                "remaining_cents": lot.remaining_cents,
                "created_at": lot.created_at,
                "expires_at": lot.expires_at,
            }
            for lot in fifo_order(ledger.lots)
        ],
        "statement": [
            {
                "at": entry.at,
                "kind": entry.kind,
                "minutes": entry.minutes,
                "amount_cents": entry.amount_cents,
                "actor": entry.actor,
                "note": entry.note,
            }
            for entry in reversed(journal_order(ledger.entries))
        ],
    }


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
    return Response(
        status_code=200,
        content_type="application/json",
        body=json.dumps(balance_view(ledger, wiring.catalog().shop.currency)),
        headers=PRIVATE_HEADERS,
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)  # answers carry clients' emails and links: not in X-Ray
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
