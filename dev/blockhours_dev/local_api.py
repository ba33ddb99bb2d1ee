"""The HTTP API of template.yaml, locally: API Gateway's v2 event to the function each route names."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import template
from .local_lambda import LocalLambda

LOOPBACK = ("127.", "::1", "localhost")
MAX_BODY_BYTES = 1_000_000
STAFF_ARN = "arn:aws:iam::000000000000:user/local-staff"
log = logging.getLogger("blockhours.local")


def json_error(status: int, code: str, message: str) -> Response:
    return Response(json.dumps({"error": code, "message": message}), status=status, content_type="application/json")


class TokenBucket:
    """API Gateway's throttle for one route: `burst` tokens, refilled at `rate` a second; none left answers 429."""

    def __init__(self, throttle: template.Throttle, clock: Callable[[], float] = time.monotonic) -> None:
        self.throttle, self.clock = throttle, clock
        self.tokens, self.at = float(throttle.burst), clock()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = self.clock()
            self.tokens = min(float(self.throttle.burst), self.tokens + (now - self.at) * self.throttle.rate)
            self.at = now
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True


def too_many_requests() -> Response:
    return Response('{"message":"Too Many Requests"}', status=429, content_type="application/json")


class LambdaRoutes:
    """The HTTP API of template.yaml: each route invokes its function, with API Gateway's v2 event."""

    def __init__(self, routes: list[template.Route], runtime: LocalLambda | None = None) -> None:
        self.routes = {f"{r.method} {r.path}": r for r in routes}
        self.runtime = runtime
        # Routes with their own RouteSettings; the API-wide default is left out: tests' bursts are not an attack.
        self.buckets = {key: TokenBucket(r.throttle) for key, r in self.routes.items() if r.throttle is not None}
        self.map = Map(
            [
                Rule(r.path.replace("{", "<").replace("}", ">"), methods=[r.method], endpoint=f"{r.method} {r.path}")
                for r in routes
            ]
        )

    def __call__(self, request: Request) -> Response:
        try:
            key, params = self.map.bind_to_environ(request.environ).match()
        except NotFound:
            return json_error(404, "not_found", f"no such route: {request.method} {request.path}")
        except Exception:  # MethodNotAllowed and friends
            return json_error(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}")
        route = self.routes[key]
        bucket = self.buckets.get(key)
        if bucket is not None and not bucket.take():
            return too_many_requests()
        too_large = json_error(413, "too_large", f"the body is over {MAX_BODY_BYTES} bytes")
        if request.content_length and request.content_length > MAX_BODY_BYTES:
            return too_large
        request.max_content_length = MAX_BODY_BYTES + 1  # a chunked body declares no length: read one byte past
        if len(request.get_data()) > MAX_BODY_BYTES:
            return too_large
        authorizer = None
        if route.iam_auth:
            if not (request.remote_addr or "").startswith(LOOPBACK):
                return json_error(403, "forbidden", "staff routes of the local stack answer on loopback only")
            authorizer = {"iam": {"userArn": STAFF_ARN, "accountId": "000000000000", "userId": "local-staff"}}
        assert self.runtime is not None, "routes without a runtime only match paths"
        outcome = self.runtime.invoke(route.function, self.event(request, route, params, authorizer))
        if outcome.failed or not isinstance(outcome.payload, dict):  # API Gateway's answer to a failed function
            log.error("%s failed: %s", route.function, outcome.error)
            return Response('{"message":"Internal Server Error"}', status=500, content_type="application/json")
        result = outcome.payload
        body = result.get("body") or ""
        data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        response = Response(data, status=int(result.get("statusCode", 200)))
        for name, value in (result.get("headers") or {}).items():
            response.headers[name] = value
        for cookie in result.get("cookies") or []:
            response.headers.add("Set-Cookie", cookie)
        return response

    @staticmethod
    def event(
        request: Request, route: template.Route, params: Mapping[str, Any], authorizer: dict[str, Any] | None
    ) -> dict[str, Any]:
        raw = request.get_data(cache=False)
        try:
            body, encoded = raw.decode("utf-8"), False
        except UnicodeDecodeError:
            body, encoded = base64.b64encode(raw).decode(), True
        now = time.time()
        raw_path = quote(request.path, safe="/@:+!$&'()*,;=-._~")
        context: dict[str, Any] = {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": request.host,
            "domainPrefix": "local",
            "http": {
                "method": request.method,
                "path": raw_path,
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "sourceIp": request.remote_addr or "",
                "userAgent": request.user_agent.string,
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{route.method} {route.path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        }
        if authorizer:
            context["authorizer"] = authorizer
        return {
            "version": "2.0",
            "routeKey": context["routeKey"],
            "rawPath": raw_path,
            "rawQueryString": request.query_string.decode(),
            "cookies": [f"{k}={v}" for k, v in request.cookies.items()],
            "headers": {"x-forwarded-proto": request.scheme} | {k.lower(): v for k, v in request.headers.items()},
            "queryStringParameters": dict(request.args) or None,
            "pathParameters": dict(params) or None,
            "requestContext": context,
            "body": body or None,
            "isBase64Encoded": encoded,
        }
