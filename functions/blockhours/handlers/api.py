"""The small read routes: health for everyone, a customer's whole ledger for staff."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import services, wiring
from .http import json_response, logger, metrics, require_staff, resolver

app = resolver()


@app.get("/api/health")
def health() -> Response[str]:
    return json_response(200, {"status": "ok"})


@app.get("/api/customers/<email>")
def customer(email: str) -> Response[str]:
    require_staff(app)
    ledger = services.customer_ledger(wiring.ledger(), email)
    body = asdict(ledger)
    for lot, row in zip(ledger.lots, body["lots"], strict=True):
        row.update(remaining_minutes=lot.remaining_minutes, remaining_cents=lot.remaining_cents)
    return json_response(200, body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
