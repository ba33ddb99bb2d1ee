"""What every HTTP handler shares: the resolver, JSON errors a person can act on, logs and metrics."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from ..catalog import CatalogError
from ..config import ConfigError
from ..services import ShopError

logger = Logger(service="blockhours")
metrics = Metrics(namespace="Blockhours", service="blockhours")


def error(status: int, code: str, message: str) -> Response[str]:
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps({"error": code, "message": message}),
    )


def json_response(status: int, body: Any) -> Response[str]:
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


def _describe(err: Any) -> str:
    where = ".".join(str(part) for part in err.get("loc", ()) if part != "body") or "body"
    if err.get("type") == "json_invalid":
        return "the body is not valid JSON"
    if err.get("type") == "missing":
        return f"{where} is required"
    return f"{where}: {err.get('msg', 'is invalid')}"


def resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)

    def _invalid(exc: RequestValidationError) -> Response[str]:
        content_type = app.current_event.headers.get("content-type", "")
        if app.current_event.body and not content_type.startswith("application/json"):
            return error(415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json")
        problems = "; ".join(_describe(err) for err in exc.errors())
        return error(400, "invalid_request", f"{problems}. Fix the request and send it again.")

    def _refused(exc: ShopError) -> Response[str]:
        return error(exc.status, exc.code, exc.message)

    def _misconfigured(exc: Exception) -> Response[str]:
        logger.exception("configuration problem")
        return error(500, "misconfigured", "the shop is not configured correctly; the owner has been told")

    @app.not_found
    def _not_found(exc: Exception) -> Response[str]:
        event = app.current_event
        return error(404, "not_found", f"no such route: {event.http_method} {event.path}")

    def _unexpected(exc: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return error(500, "internal", "something went wrong on our side; nothing was charged twice, try again")

    app.exception_handler(RequestValidationError)(_invalid)
    app.exception_handler(ShopError)(_refused)
    app.exception_handler([ConfigError, CatalogError])(_misconfigured)
    app.exception_handler(Exception)(_unexpected)
    return app


def require_staff(app: APIGatewayHttpResolver) -> None:
    """Staff routes are IAM-authorized by API Gateway; refuse if that authorization is not there."""
    authorizer = (app.current_event.raw_event.get("requestContext") or {}).get("authorizer") or {}
    if not authorizer.get("iam"):
        raise ShopError("forbidden", "this route is for shop staff: sign the request with AWS credentials", 403)
