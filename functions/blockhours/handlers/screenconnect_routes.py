"""ConnectWise ScreenConnect's session event trigger posts each event here. Its HTTP action cannot sign a request,
so the source's long secret is part of the URL (over HTTPS; API Gateway's access log keeps the route key, never
the path); a wrong secret is a plain 404, as for a route that does not exist. The answer tells the technician, in
the trigger's log, the client's balance left and whether the account is on hold. Staff get the URL to paste from
`GET /api/integrations/screenconnect/url` (IAM: it carries the secret)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from .. import config, wiring
from ..adapters.screenconnect import SOURCE, ScreenConnectPayloadError, ScreenConnectSettings, read_event
from ..services import NotFound, ShopError
from ..services.pushed_connections import EventAnswer, connection_event
from .http import json_response, require_staff
from .inbox_routes import accepted_secret, answer_body

EVENTS_PATH = "/api/integrations/screenconnect/events/"


def event_body(answer: EventAnswer | None) -> dict[str, Any]:
    """What the trigger's log shows: one line for the technician, then the details."""
    if answer is None:
        return {"outcome": "ignored", "summary": "not a host's Connected or Disconnected: nothing recorded"}
    if not answer.client:
        summary = "client not mapped yet: `blockhours map screenconnect NAME EMAIL`"
    else:
        held = f"; ON HOLD: {answer.hold_reason}" if answer.on_hold else ""
        summary = f"{answer.client} has {answer.balance_minutes} min left{held}"
    return {
        "outcome": "recorded" if answer.sessions else "noted",
        "summary": summary,
        "client": answer.client or None,
        "balance_minutes": answer.balance_minutes,
        "on_hold": answer.on_hold,
        "hold_reason": answer.hold_reason,
        "sessions": [answer_body(session) for session in answer.sessions],
    }


def _pushing_with(secret: str) -> None:
    """The secret must be the source's (current or previous); anything else looks like no route at all."""
    if wiring.catalog().integration(SOURCE) is None or not accepted_secret(SOURCE, secret):
        raise NotFound("not_found", "no such route")


def _settings() -> ScreenConnectSettings:
    """catalog.yaml's integrations.screenconnect (which field names the client); listed, as `_pushing_with` checked."""
    listed = wiring.catalog().integration(SOURCE)
    return listed if isinstance(listed, ScreenConnectSettings) else ScreenConnectSettings()


def register(app: APIGatewayHttpResolver) -> None:
    @app.post("/api/integrations/screenconnect/events/<secret>")
    def screenconnect_event(secret: str, body: Annotated[dict[str, Any], Body()]) -> Response[str]:
        """One session event from ScreenConnect's trigger (`{*:json}`): a host's Connected or Disconnected is paired,
        anything else is ignored; the answer names the client's balance left and hold."""
        _pushing_with(secret)
        try:
            event = read_event(body, _settings())
        except ScreenConnectPayloadError as bad:
            raise ShopError("bad_event", str(bad)) from None
        if event is None:
            return json_response(200, event_body(None))
        answer = connection_event(wiring.catalog(), wiring.ledger(), wiring.gateway, event, int(time.time()))
        return json_response(200, event_body(answer))

    @app.get("/api/integrations/screenconnect/url")
    def screenconnect_url() -> Response[str]:
        """The URL to paste into ScreenConnect's trigger (it carries the current secret: staff only)."""
        require_staff(app)
        secret = config.integration_secret(SOURCE)
        if wiring.catalog().integration(SOURCE) is None or secret is None:
            raise NotFound("no_secret", f"give {SOURCE} a secret of 32+ characters in the integration secrets")
        context = app.current_event.request_context
        proto = (app.current_event.headers or {}).get("x-forwarded-proto", "https")
        return json_response(200, {"url": f"{proto}://{context.domain_name}{EVENTS_PATH}{secret}"})
