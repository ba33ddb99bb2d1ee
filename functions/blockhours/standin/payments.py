"""The stand-in's saved cards, off-session charges and payment links, with Stripe's test-card behaviours."""

from __future__ import annotations

import copy
import json
import secrets
import time
from typing import Any

from werkzeug.wrappers import Response

# Stripe's test cards, by what they do when charged later, off-session.
TEST_CARDS = {
    "4242424242424242": "succeeds",
    "4000002760003184": "authentication_required",
    "4000000000000341": "declined",
}


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _json(obj: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(obj), status=status, content_type="application/json")


def card_error(code: str, message: str, intent: dict[str, Any], payment_method: dict[str, Any]) -> Response:
    body = {
        "error": {
            "type": "card_error",
            "code": code,
            "decline_code": code if code != "authentication_required" else "authentication_required",
            "message": message,
            "payment_intent": intent,
            "payment_method": payment_method,
        }
    }
    return Response(json.dumps(body), status=402, content_type="application/json")


class PaymentsMixin:
    fixtures: dict[str, Any]
    public_base: str
    customers: dict[str, dict[str, Any]]
    sessions: dict[str, dict[str, Any]]
    payment_intents: dict[str, dict[str, Any]]
    payment_methods: dict[str, dict[str, Any]]
    payment_links: dict[str, dict[str, Any]]

    def _object(self, kind: str, **overrides: Any) -> dict[str, Any]:
        obj: dict[str, Any] = copy.deepcopy(self.fixtures[kind])
        obj.update(overrides)
        return obj

    def save_card(self, customer: str | None, card_number: str) -> dict[str, Any] | None:
        """What setup_future_usage=off_session does: the card used at checkout stays on the customer."""
        if not customer:
            return None
        behaviour = TEST_CARDS.get(card_number, "succeeds")
        pm = self._object(
            "payment_method",
            id=_id("pm"),
            customer=customer,
            type="card",
            created=int(time.time()),
            metadata={},
            livemode=False,
        )
        pm["card"] = {"brand": "visa", "last4": card_number[-4:], "exp_month": 12, "exp_year": 2034, "country": "US"}
        pm["_behaviour"] = behaviour
        self.payment_methods[pm["id"]] = pm
        return pm

    @staticmethod
    def public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def _list_payment_methods(self, params: dict[str, Any]) -> Response:
        found = [
            self.public(pm)
            for pm in reversed(list(self.payment_methods.values()))
            if pm["customer"] == params.get("customer") and pm["type"] == params.get("type", "card")
        ]
        limit = int(params.get("limit", 10))
        return _json({"object": "list", "url": "/v1/payment_methods", "has_more": False, "data": found[:limit]})

    def _create_payment_intent(self, params: dict[str, Any]) -> Response:
        pm = self.payment_methods.get(params.get("payment_method", ""))
        intent = self._object(
            "payment_intent",
            id=_id("pi"),
            amount=int(params["amount"]),
            currency=params["currency"],
            customer=params.get("customer"),
            payment_method=params.get("payment_method"),
            description=params.get("description"),
            metadata=params.get("metadata", {}),
            created=int(time.time()),
            livemode=False,
            status="requires_confirmation",
            amount_received=0,
        )
        self.payment_intents[intent["id"]] = intent
        if params.get("confirm") != "true":
            return _json(intent)
        if pm is None or pm["customer"] != params.get("customer"):
            missing = {"type": "invalid_request_error", "message": "No such PaymentMethod", "param": "payment_method"}
            return _json({"error": missing}, 400)
        behaviour = pm["_behaviour"]
        if behaviour == "succeeds":
            intent.update(status="succeeded", amount_received=intent["amount"])
            return _json(intent)
        intent["status"] = "requires_payment_method"
        if behaviour == "authentication_required":
            message = "This payment requires authentication by the customer."
            return card_error("authentication_required", message, intent, self.public(pm))
        return card_error("card_declined", "Your card was declined.", intent, self.public(pm))

    def _create_payment_link(self, params: dict[str, Any]) -> Response:
        link_id = _id("plink")
        link = self._object(
            "payment_link",
            id=link_id,
            url=f"{self.public_base.rstrip('/')}/pay/{link_id}",
            metadata=params.get("metadata", {}),
            active=True,
            livemode=False,
            restrictions=params.get("restrictions"),
            after_completion=params.get("after_completion") or {"type": "hosted_confirmation"},
        )
        link["_line_items"] = params.get("line_items", [])
        link["_payment_intent_data"] = params.get("payment_intent_data", {})
        link["_completed"] = 0
        self.payment_links[link_id] = link
        return _json(self.public(link))
