"""What every HTTP handler shares: the resolver and JSON errors a person can act on (logs and metrics: telemetry)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from .. import shop_time
from ..config import CatalogError, ConfigError
from ..domain.client_email import InvalidEmail
from ..port_errors import GatewayError
from ..services import BadLink, BadSecret, Conflict, NotFound, ShopError, StaffOnly, StripeUnreachable, TryLater
from .telemetry import logger

# Each kind of refusal and its HTTP status: the services say why, only the edge speaks HTTP.
STATUS_OF_REFUSAL: dict[type[ShopError], int] = {
    ShopError: 400,
    BadLink: 401,
    BadSecret: 401,
    StaffOnly: 403,
    NotFound: 404,
    Conflict: 409,
    StripeUnreachable: 502,
    TryLater: 503,
}


def refusal_status(exc: ShopError) -> int:
    """The status of the nearest kind in the table (a new subclass answers as its parent does)."""
    return next(STATUS_OF_REFUSAL[kind] for kind in type(exc).__mro__ if kind in STATUS_OF_REFUSAL)


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


def _json_body(text: str) -> Any:
    """json.loads; what it cannot read (nesting past the recursion limit, integers over 4300 digits) is bad JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as exc:  # Powertools turns only JSONDecodeError into a validation error
        raise json.JSONDecodeError(f"unreadable JSON ({type(exc).__name__})", text, 0) from exc


def resolver(*, validation: bool = True) -> APIGatewayHttpResolver:
    """The resolver with our errors; `validation` (Powertools' OpenAPI validation, pydantic) where a route takes a
    body model or typed parameters: a function whose routes take neither does not load pydantic at its start."""
    app = APIGatewayHttpResolver(enable_validation=validation, json_body_deserializer=_json_body)

    def _content_type() -> str:
        return str(app.current_event.headers.get("content-type", "")).lower()

    def _sent_json() -> bool:
        return _content_type().startswith("application/json")

    def _not_json() -> Response[str]:
        return error(415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json")

    def _shop_time_zone(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        """Every answer names the shop's zone: the staff CLI shows dates in it, wherever it runs."""
        response = next_middleware(app)
        response.headers[shop_time.HEADER] = shop_time.zone().key
        return response

    def _json_only(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        """Powertools also reads form and multipart bodies into the models; ours are JSON, as documented."""
        route = app.context.get("_route")
        with_model = route is not None and bool(route.dependant.body_params)
        if with_model and app.current_event.body and _content_type() and not _sent_json():
            return _not_json()
        return next_middleware(app)

    def _invalid(exc: RequestValidationError) -> Response[str]:
        if app.current_event.body and not _sent_json():
            return _not_json()
        problems = "; ".join(_describe(err) for err in exc.errors())
        return error(400, "invalid_request", f"{problems}. Fix the request and send it again.")

    def _unsupported(exc: RequestUnsupportedContentType) -> Response[str]:
        return _not_json()

    def _unreadable(exc: ValueError) -> Response[str]:
        """Powertools reads a body that is not UTF-8, or multipart without a boundary, with a bare ValueError."""
        if _content_type() and not _sent_json():
            return _not_json()
        if isinstance(exc, UnicodeError):
            return error(400, "invalid_request", "the body is not UTF-8 text; send it as UTF-8 JSON")
        return _unexpected(exc)

    def _provider(exc: GatewayError) -> Response[str]:
        logger.warning("payment provider refused or unreachable", extra={"problem": str(exc)})
        return error(502, "payment_provider_unavailable", f"{exc} Nothing was charged; try again in a minute.")

    def _refused(exc: ShopError) -> Response[str]:
        status = refusal_status(exc)
        if status >= 500:  # not the caller's mistake (Stripe out of reach mid-way): the log says what is left
            logger.warning("refused for a fault of ours or Stripe's", extra={"code": exc.code, "problem": exc.message})
        return error(status, exc.code, exc.message)

    def _not_an_email(exc: InvalidEmail) -> Response[str]:
        return error(400, exc.code, exc.message)

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

    app.use([_shop_time_zone, _json_only])
    app.exception_handler(RequestValidationError)(_invalid)
    app.exception_handler(RequestUnsupportedContentType)(_unsupported)  # text/plain, XML, ...: not a bug of ours
    app.exception_handler(ValueError)(_unreadable)
    app.exception_handler(ShopError)(_refused)
    app.exception_handler(InvalidEmail)(_not_an_email)  # a ValueError: more specific than _unreadable
    app.exception_handler(GatewayError)(_provider)
    app.exception_handler([ConfigError, CatalogError])(_misconfigured)
    app.exception_handler(Exception)(_unexpected)
    return app


def require_staff(app: APIGatewayHttpResolver) -> None:
    """Staff routes are IAM-authorized by API Gateway; refuse if that authorization is not there."""
    authorizer = (app.current_event.raw_event.get("requestContext") or {}).get("authorizer") or {}
    if not authorizer.get("iam"):
        raise StaffOnly("forbidden", "this route is for shop staff: sign the request with AWS credentials")
