"""The stand-in's WSGI app: /v1/... for the SDK, /checkout/<id> for the person paying."""

from __future__ import annotations

import hashlib
import html
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import hosted
from .forms import decode
from .payments import RefundsMixin

Handler = Callable[..., Response]
BROWSER_PATHS = ("/checkout/", "/pay/")  # pages for the person paying; the rest is the API under /v1/
KEPT = ("customers", "sessions", "payment_intents", "payment_methods", "payment_links", "refunds", "charges")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    api_key: str


@dataclass
class Delivery:
    event: dict[str, Any]
    status: int | None = None
    error: str = ""
    attempts: int = 0


def _fixtures() -> dict[str, Any]:
    text = resources.files("blockhours_dev.standin").joinpath("fixtures.json").read_text(encoding="utf-8")
    resources_by_name: dict[str, Any] = json.loads(text)["resources"]
    return resources_by_name


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _stripe_error(status: int, message: str, kind: str = "invalid_request_error", **extra: Any) -> Response:
    body = {"error": {"type": kind, "message": message, **extra}}
    return Response(json.dumps(body), status=status, content_type="application/json")


@dataclass
class StripeStandIn(RefundsMixin):
    """Stripe's API and hosted checkout in memory. `public_base` is where the browser reaches it."""

    public_base: str = "http://127.0.0.1"
    webhook_url: str | None = None
    webhook_secret: str = "whsec_local_standin"  # noqa: S105 - a test secret, never Stripe's
    requests: list[RecordedRequest] = field(default_factory=list)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_links: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    refund_outcome: str = "succeeded"
    deliveries: list[Delivery] = field(default_factory=list)
    outage: bool = False  # every API call fails with a 500, as when Stripe has an incident
    latency_ms: int = 0  # how long each API call takes to answer, so slow paths show locally

    def __post_init__(self) -> None:
        self.fixtures = _fixtures()
        self._lock = threading.RLock()
        self._replays: dict[str, tuple[str, Response]] = {}
        self._routes = Map(
            [
                Rule("/v1/customers", methods=["POST"], endpoint=self._create_customer),
                Rule("/v1/customers", methods=["GET"], endpoint=self._list_customers),
                Rule("/v1/customers/<cid>", methods=["GET"], endpoint=self._get_customer),
                Rule("/v1/checkout/sessions", methods=["POST"], endpoint=self._create_session),
                Rule("/v1/checkout/sessions/<sid>", methods=["GET"], endpoint=self._get_session),
                Rule("/v1/checkout/sessions/<sid>/expire", methods=["POST"], endpoint=self._expire_session),
                Rule("/v1/payment_methods", methods=["GET"], endpoint=self._list_payment_methods),
                Rule("/v1/payment_intents", methods=["POST"], endpoint=self._create_payment_intent),
                Rule("/v1/payment_intents", methods=["GET"], endpoint=self._list_payment_intents),
                Rule("/v1/payment_intents/<pid>", methods=["GET"], endpoint=self._get_payment_intent),
                Rule("/v1/refunds", methods=["POST"], endpoint=self._create_refund),
                Rule("/v1/refunds", methods=["GET"], endpoint=self._list_refunds),
                Rule("/v1/payment_links", methods=["POST"], endpoint=self._create_payment_link),
                Rule("/pay/<link_id>", methods=["GET"], endpoint=self._pay_link),
                Rule("/checkout/<sid>", methods=["GET"], endpoint=self._checkout_page),
                Rule("/checkout/<sid>", methods=["POST"], endpoint=self._complete_checkout),
            ]
        )

    @staticmethod
    def serves(path: str) -> bool:
        return path.startswith(("/v1/", *BROWSER_PATHS))

    # --- WSGI -------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, args = self._routes.bind_to_environ(environ).match()
            response = (
                endpoint(request, **args)
                if request.path.startswith(BROWSER_PATHS)
                else self._api(request, endpoint, args)
            )
        except NotFound:
            response = _stripe_error(404, f"Unrecognized request URL ({request.method}: {request.path})")
        except HTTPException as exc:
            response = _stripe_error(exc.code or 400, exc.description or "bad request")
        return response(environ, start_response)

    def _api(self, request: Request, endpoint: Handler, args: Mapping[str, Any]) -> Response:
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)  # outside the lock: Stripe answers calls in parallel
        auth = request.headers.get("Authorization", "")
        if not auth.startswith(("Bearer sk_", "Bearer rk_")):  # a secret or a restricted key, as Stripe takes
            return _stripe_error(401, "Invalid API Key provided", "invalid_request_error")
        params = (
            decode(request.get_data(as_text=True))
            if request.method == "POST"
            else decode(request.query_string.decode())
        )
        key = request.headers.get("Idempotency-Key")
        with self._lock:
            self.requests.append(RecordedRequest(request.method, request.path, params, key, auth[7:]))
            if self.outage:
                down = _stripe_error(500, "An unknown error occurred (the stand-in's outage)", "api_error")
                down.headers["Stripe-Should-Retry"] = "false"
                return down
            if request.method != "POST" or not key:
                return endpoint(params, **args)
            fingerprint = hashlib.sha256(f"{request.path}?{json.dumps(params, sort_keys=True)}".encode()).hexdigest()
            if key in self._replays:
                seen, response = self._replays[key]
                if seen != fingerprint:
                    return _stripe_error(
                        400,
                        f"Keys for idempotent requests can only be used with the same parameters they were first "
                        f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
                        "idempotency_error",
                    )
                replay = Response(response.get_data(), status=response.status_code, content_type="application/json")
                replay.headers["Idempotent-Replayed"] = "true"
                return replay
            response = endpoint(params, **args)
            self._replays[key] = (fingerprint, response)
            return response

    def kept(self) -> dict[str, Any]:
        """What a restart must not forget (`blockhours dev --data`): the objects and the keys still honoured."""
        with self._lock:
            state: dict[str, Any] = {name: getattr(self, name) for name in KEPT}
            state["idempotency"] = {
                key: [seen, response.status_code, response.get_data(as_text=True)]
                for key, (seen, response) in self._replays.items()
            }
            copied: dict[str, Any] = json.loads(json.dumps(state))  # taken under the lock
            return copied

    def restore(self, state: dict[str, Any]) -> None:
        with self._lock:
            for name in KEPT:
                getattr(self, name).update(state.get(name, {}))
            for key, (seen, status, body) in state.get("idempotency", {}).items():
                self._replays[key] = (seen, Response(body, status=status, content_type="application/json"))

    def forget_idempotency_keys(self) -> None:
        """What Stripe may do once a key is 24 hours old: the same key makes a new request again."""
        with self._lock:
            self._replays.clear()

    @staticmethod
    def _json(obj: dict[str, Any], status: int = 200) -> Response:
        return Response(json.dumps(obj), status=status, content_type="application/json")

    # --- customers ----------------------------------------------------------------------------

    def _create_customer(self, params: dict[str, Any]) -> Response:
        customer = self._object(
            "customer",
            id=_id("cus"),
            email=params.get("email"),
            name=params.get("name"),
            metadata=params.get("metadata", {}),
            created=int(time.time()),
            discount=None,
        )
        self.customers[customer["id"]] = customer
        return self._json(customer)

    def _list_customers(self, params: dict[str, Any]) -> Response:
        found = [c for c in self.customers.values() if "email" not in params or c["email"] == params["email"]]
        limit = int(params.get("limit", 10))
        body = {"object": "list", "url": "/v1/customers", "has_more": len(found) > limit, "data": found[:limit]}
        return self._json(body)

    def _get_customer(self, params: dict[str, Any], cid: str) -> Response:
        if cid not in self.customers:
            return _stripe_error(404, f"No such customer: '{cid}'", code="resource_missing", param="id")
        return self._json(self.customers[cid])

    # --- checkout sessions -----------------------------------------------------------------------

    def _create_session(self, params: dict[str, Any]) -> Response:
        for required in ("mode", "line_items", "success_url"):
            if not params.get(required):
                return _stripe_error(400, f"Missing required param: {required}.", param=required)
        customer = params.get("customer")
        if customer and customer not in self.customers:
            return _stripe_error(400, f"No such customer: '{customer}'", code="resource_missing", param="customer")
        try:
            amount = sum(
                int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1)) for item in params["line_items"]
            )
            currency = params["line_items"][0]["price_data"]["currency"]
        except (KeyError, TypeError, ValueError):
            return _stripe_error(400, "line_items need price_data with currency and unit_amount", param="line_items")
        sid = _id("cs_test")
        now = int(time.time())
        session = self._object(
            "checkout.session",
            id=sid,
            url=f"{self.public_base.rstrip('/')}/checkout/{sid}",
            mode=params["mode"],
            amount_subtotal=amount,
            amount_total=amount,
            currency=currency,
            customer=customer,
            customer_email=params.get("customer_email"),
            customer_details=None,
            client_reference_id=params.get("client_reference_id"),
            metadata=params.get("metadata", {}),
            success_url=params["success_url"],
            cancel_url=params.get("cancel_url"),
            payment_intent=None,
            payment_status="unpaid",
            status="open",
            created=now,
            expires_at=int(params.get("expires_at") or now + 86_400),
            consent=None,
            consent_collection={
                "payment_method_reuse_agreement": None,
                "promotions": None,
                "terms_of_service": params.get("consent_collection", {}).get("terms_of_service"),
            },
            shipping_address_collection=None,
            shipping_cost=None,
            total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            currency_conversion=None,
            livemode=False,
        )
        session["_line_items"] = params["line_items"]
        session["_payment_intent_data"] = params.get("payment_intent_data", {})
        self.sessions[sid] = session
        return self._json(self.public(session))

    def _get_session(self, params: dict[str, Any], sid: str) -> Response:
        if sid not in self.sessions:
            return _stripe_error(404, f"No such checkout.session: '{sid}'", code="resource_missing", param="session")
        return self._json(self.public(self.sessions[sid]))

    def _expire_session(self, params: dict[str, Any], sid: str) -> Response:
        if sid not in self.sessions:
            return _stripe_error(404, f"No such checkout.session: '{sid}'", code="resource_missing", param="session")
        try:
            return self._json(self.expire(sid))
        except ValueError as exc:
            return _stripe_error(400, str(exc))

    def expire(self, sid: str) -> dict[str, Any]:
        """Close an open checkout unpaid, as Stripe does at its expires_at (or when asked): one expired event."""
        with self._lock:
            session = self._session_or_404(sid)
            if session["status"] != "open":
                raise ValueError(
                    f"Only Checkout Sessions with a status of open can be expired; {sid} is {session['status']}"
                )
            session.update(status="expired")
            snapshot = self.public(session)
        self.send_event("checkout.session.expired", snapshot)
        return snapshot

    # --- the hosted page and what paying does -------------------------------------------------

    def _session_or_404(self, sid: str) -> dict[str, Any]:
        if sid not in self.sessions:
            raise NotFound(f"no checkout session {sid}")
        return self.sessions[sid]

    def _checkout_page(self, request: Request, sid: str) -> Response:
        try:
            session = self._session_or_404(sid)
        except NotFound:
            return Response("<h1>This checkout does not exist</h1>", status=404, content_type="text/html")
        email = (self.customers.get(session.get("customer") or "") or {}).get("email")
        return Response(hosted.page(session, email), content_type="text/html; charset=utf-8")

    def _pay_link(self, request: Request, link_id: str) -> Response:
        """Opening a payment link starts a Checkout Session carrying the link's metadata, as Stripe does."""
        link = self.payment_links.get(link_id)
        limit = int(((link or {}).get("restrictions") or {}).get("completed_sessions", {}).get("limit", 0) or 0)
        if link is None or not link["active"] or (limit and link["_completed"] >= limit):
            return Response("<h1>This payment link is no longer active</h1>", status=410, content_type="text/html")
        items = link["_line_items"]
        amount = sum(int(i["price_data"]["unit_amount"]) * int(i.get("quantity", 1)) for i in items)
        sid = _id("cs_test")
        redirect = (link.get("after_completion") or {}).get("redirect") or {}
        session = self._object(
            "checkout.session",
            id=sid,
            url=f"{self.public_base.rstrip('/')}/checkout/{sid}",
            mode="payment",
            amount_subtotal=amount,
            amount_total=amount,
            currency=items[0]["price_data"]["currency"],
            customer=None,
            customer_details=None,
            metadata=dict(link["metadata"]),
            payment_link=link_id,
            success_url=redirect.get("url") or f"{self.public_base.rstrip('/')}/",
            cancel_url=None,
            payment_intent=None,
            payment_status="unpaid",
            status="open",
            created=int(time.time()),
            expires_at=int(time.time()) + 86_400,
            consent=None,
            consent_collection=None,
            shipping_address_collection=None,
            shipping_cost=None,
            total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            currency_conversion=None,
            livemode=False,
        )
        session["_line_items"] = items
        session["_payment_intent_data"] = link["_payment_intent_data"]
        self.sessions[sid] = session
        return Response(status=303, headers={"Location": session["url"]})

    def _complete_checkout(self, request: Request, sid: str) -> Response:
        outcome = request.form.get("outcome", "")
        card = request.form.get("card", "4242424242424242")
        if outcome not in ("paid", "failed", "canceled"):
            return Response("outcome must be paid, failed or canceled", status=400, content_type="text/plain")
        try:
            target = self.complete(sid, outcome, card)
        except NotFound:
            return Response("<h1>This checkout does not exist</h1>", status=404, content_type="text/html")
        except ValueError as exc:
            return Response(html.escape(str(exc)), status=409, content_type="text/html")
        return Response(status=303, headers={"Location": target})

    def complete(self, sid: str, outcome: str, card: str = "4242424242424242") -> str:
        """Finish a checkout as the person at the page would; return where their browser goes next."""
        with self._lock:
            session = self._session_or_404(sid)
            if outcome == "canceled":
                return str(session.get("cancel_url") or session["success_url"])
            if session["status"] != "open":
                raise ValueError(f"checkout {sid} is already {session['status']}")
            customer = self.customers.get(session.get("customer") or "") or {}
            pi = self._payment_intent(session, succeeded=outcome == "paid")
            if outcome == "paid":  # the card that paid; saved on the customer only if the payment said so
                saving = pi.get("setup_future_usage") == "off_session"
                pi["payment_method"] = self.card(card, session.get("customer") if saving else None)["id"]
            if outcome == "paid" and session.get("payment_link") in self.payment_links:
                self.payment_links[session["payment_link"]]["_completed"] += 1
            session.update(
                status="complete",
                payment_status="paid" if outcome == "paid" else "unpaid",
                payment_intent=pi["id"],
                customer_details={
                    "address": None,
                    "email": customer.get("email") or session.get("customer_email"),
                    "name": None,
                    "phone": None,
                    "tax_exempt": "none",
                    "tax_ids": [],
                },
                consent={"promotions": None, "terms_of_service": "accepted"},
            )
            events = ["checkout.session.completed"]
            if outcome == "failed":
                events.append("checkout.session.async_payment_failed")
            snapshot = self.public(session)
        for event_type in events:
            self.send_event(event_type, snapshot)
        target = session["success_url"] if outcome == "paid" else session.get("cancel_url") or session["success_url"]
        return str(target).replace("{CHECKOUT_SESSION_ID}", sid)

    def _payment_intent(self, session: dict[str, Any], succeeded: bool) -> dict[str, Any]:
        data = session.get("_payment_intent_data") or {}
        pi = self._object(
            "payment_intent",
            id=_id("pi"),
            amount=session["amount_total"],
            amount_received=session["amount_total"] if succeeded else 0,
            currency=session["currency"],
            customer=session.get("customer"),
            metadata=data.get("metadata", {}),
            setup_future_usage=data.get("setup_future_usage"),
            status="succeeded" if succeeded else "requires_payment_method",
            created=int(time.time()),
            livemode=False,
        )
        self.payment_intents[pi["id"]] = pi
        if succeeded:
            self.charge_for(pi)
        return pi

    def send_event(self, event_type: str, obj: dict[str, Any]) -> Delivery:
        """Sign an event with the webhook secret and POST it to the webhook, as Stripe does."""
        event, payload, header = hosted.signed_event(
            self.fixtures["event"], _id("evt"), event_type, obj, self.webhook_secret
        )
        delivery = Delivery(event)
        with self._lock:
            self.deliveries.append(delivery)
        self.deliver(delivery, payload, header)
        return delivery

    def deliver(self, delivery: Delivery, payload: bytes, header: str) -> None:
        if not self.webhook_url:
            return
        request = urllib.request.Request(  # noqa: S310 - the webhook URL is ours, on loopback
            self.webhook_url,
            data=payload,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": header},
        )
        delivery.attempts += 1
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                delivery.status = answer.status
        except urllib.error.HTTPError as exc:
            delivery.status, delivery.error = exc.code, exc.read().decode(errors="replace")[:500]
        except OSError as exc:
            delivery.status, delivery.error = None, str(exc)
