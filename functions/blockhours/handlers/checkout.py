"""POST /api/checkout: price a product from the catalog and send the client to Stripe's hosted checkout."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from .. import config, services, wiring
from .bodies import EmailField
from .http import json_response, resolver
from .telemetry import logger, metrics, tracer

app = resolver()
config.at_cold_start(config.store, config.site, secrets=("STRIPE_API_KEY",))


class CheckoutBody(BaseModel):
    # Unknown fields (a price, a quantity) are ignored: what is charged comes from catalog.yaml only.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    sku: str = Field(min_length=1, max_length=64)
    email: EmailField
    terms_version: str = Field(min_length=1, max_length=64)
    terms_accepted: bool
    order_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{8,64}$")


@app.post("/api/checkout")
def checkout(body: Annotated[CheckoutBody, Body()]) -> Response[str]:
    request = services.CheckoutRequest(
        sku=body.sku,
        email=str(body.email),
        terms_version=body.terms_version,
        terms_accepted=body.terms_accepted,
        order_id=body.order_id,
    )
    url = services.start_checkout(wiring.catalog(), wiring.ledger(), wiring.gateway(), request, config.site().url)
    metrics.add_metric(name="CheckoutStarted", unit=MetricUnit.Count, value=1)
    logger.info("checkout started", extra={"sku": body.sku})
    return json_response(200, {"url": url})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)  # answers carry clients' emails and links: not in X-Ray
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
