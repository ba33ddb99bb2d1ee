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
    def charge_for(self, intent: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

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
        return self.card(card_number, customer) if customer else None

    def card(self, card_number: str, customer: str | None) -> dict[str, Any]:
        """The card a payment was made with; attached to `customer` when the payment saved it for later."""
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

    def _list_payment_intents(self, params: dict[str, Any]) -> Response:
        """Newest first, as Stripe lists them; `customer`, `created[...]` and cursor pagination."""
        created = params.get("created")
        bounds: dict[str, Any] = created if isinstance(created, dict) else {}
        tests = {"gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__}
        found = [
            intent
            for intent in sorted(self.payment_intents.values(), key=lambda i: -int(i["created"]))
            if params.get("customer") in (None, intent.get("customer"))
            and all(tests[op](int(intent["created"]), int(value)) for op, value in bounds.items() if op in tests)
        ]
        if params.get("starting_after"):
            ids = [intent["id"] for intent in found]
            found = found[ids.index(params["starting_after"]) + 1 :] if params["starting_after"] in ids else []
        limit = int(params.get("limit", 10))
        body = {"object": "list", "url": "/v1/payment_intents", "has_more": len(found) > limit, "data": found[:limit]}
        return _json(body)

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
            missing = {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "message": f"No such PaymentMethod: '{params.get('payment_method')}' on this customer",
                "param": "payment_method",
            }
            return _json({"error": missing}, 400)
        behaviour = pm["_behaviour"]
        if behaviour == "succeeds":
            intent.update(status="succeeded", amount_received=intent["amount"])
            self.charge_for(intent)
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


class RefundsMixin(PaymentsMixin):
    """Refunds against a PaymentIntent's charge, and what the Stripe dashboard and banks do to them."""

    refunds: dict[str, dict[str, Any]]
    charges: dict[str, dict[str, Any]]
    refund_outcome: str  # what the next refunds do: "succeeded", "pending" or "failed"

    def send_event(self, event_type: str, obj: dict[str, Any]) -> Any:
        raise NotImplementedError

    def charge_for(self, intent: dict[str, Any]) -> dict[str, Any]:
        """The charge behind a succeeded PaymentIntent (one per intent, as with cards)."""
        for charge in self.charges.values():
            if charge["payment_intent"] == intent["id"]:
                return charge
        charge = self._object(
            "charge",
            id=_id("ch"),
            amount=intent["amount"],
            amount_captured=intent["amount"],
            amount_refunded=0,
            currency=intent["currency"],
            customer=intent.get("customer"),
            payment_intent=intent["id"],
            paid=True,
            captured=True,
            refunded=False,
            disputed=False,
            status="succeeded",
            metadata=intent.get("metadata", {}),
            created=int(time.time()),
            livemode=False,
        )
        charge.pop("refunds", None)
        self.charges[charge["id"]] = charge
        intent["latest_charge"] = charge["id"]
        return charge

    def _new_refund(self, intent: dict[str, Any], amount: int, metadata: dict[str, Any], reason: str | None) -> Any:
        charge = self.charge_for(intent)
        refund = self._object(
            "refund",
            id=_id("re"),
            amount=amount,
            charge=charge["id"],
            payment_intent=intent["id"],
            currency=intent["currency"],
            metadata=metadata,
            reason=reason,
            status="succeeded",
            created=int(time.time()),
        )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        self.refunds[refund["id"]] = refund
        return refund

    def _create_refund(self, params: dict[str, Any]) -> Response:
        intent = self.payment_intents.get(params.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            missing = {"type": "invalid_request_error", "message": "No such payment_intent", "param": "payment_intent"}
            return _json({"error": missing}, 400)
        charge = self.charge_for(intent)
        left = charge["amount"] - charge["amount_refunded"]
        amount = int(params.get("amount", left))
        if amount <= 0 or amount > left:
            message = (
                f"Refund amount ({amount / 100:.2f}) is greater than unrefunded amount on charge ({left / 100:.2f})"
            )
            return _json({"error": {"type": "invalid_request_error", "message": message, "param": "amount"}}, 400)
        refund = self._new_refund(intent, amount, params.get("metadata", {}), params.get("reason"))
        if self.refund_outcome != "succeeded":
            refund["status"] = "pending"
        return _json(refund)

    def _list_refunds(self, params: dict[str, Any]) -> Response:
        found = [
            r
            for r in self.refunds.values()
            if r["payment_intent"] == params.get("payment_intent", r["payment_intent"])
            and r["charge"] == params.get("charge", r["charge"])
        ]
        limit = int(params.get("limit", 10))
        return _json({"object": "list", "url": "/v1/refunds", "has_more": len(found) > limit, "data": found[:limit]})

    def _get_payment_intent(self, params: dict[str, Any], pid: str) -> Response:
        if pid not in self.payment_intents:
            missing = {"type": "invalid_request_error", "code": "resource_missing", "param": "intent"}
            return _json({"error": {**missing, "message": f"No such payment_intent: '{pid}'"}}, 404)
        return _json(self.payment_intents[pid])

    def fail_refund(self, refund_id: str, reason: str = "expired_or_canceled_card") -> None:
        """The bank sends the refund back, as happens days later: refund.failed reaches the webhook."""
        refund = self.refunds[refund_id]
        refund.update(status="failed", failure_reason=reason)
        charge = self.charges[refund["charge"]]
        charge["amount_refunded"] -= refund["amount"]
        charge["refunded"] = False
        self.send_event("refund.failed", dict(refund))

    def dashboard_refund(self, payment_intent: str, amount: int, announce: bool = True) -> dict[str, Any]:
        """Someone refunds from the Stripe dashboard: no metadata of ours; charge.refunded reaches the webhook
        (unless `announce` is False: a test then delivers the refund's events itself, in the order it wants)."""
        refund = self._new_refund(self.payment_intents[payment_intent], amount, {}, "requested_by_customer")
        if announce:
            self.send_event("charge.refunded", dict(self.charges[refund["charge"]]))
        return dict(refund)

    def dispute(self, payment_intent: str, status: str = "needs_response", event_type: str = "") -> dict[str, Any]:
        """The cardholder disputes the charge (charge.dispute.created); call again with a final status to close,
        or name the event (`charge.dispute.funds_withdrawn`, `.funds_reinstated`) Stripe sends meanwhile."""
        charge = self.charge_for(self.payment_intents[payment_intent])
        dispute = self._object(
            "dispute",
            id=f"dp_{charge['id'][3:]}",
            amount=charge["amount"],
            charge=charge["id"],
            payment_intent=payment_intent,
            currency=charge["currency"],
            status=status,
            reason="fraudulent",
            created=int(time.time()),
            livemode=False,
        )
        closed = status in ("won", "lost", "warning_closed")
        self.send_event(event_type or ("charge.dispute.closed" if closed else "charge.dispute.created"), dispute)
        return dispute


def paid_intent(
    standin: RefundsMixin, amount_cents: int, currency: str = "usd", customer: str | None = None, card: str = ""
) -> str:
    """A PaymentIntent paid by card, as a finished checkout leaves it; for tests that start from a payment.

    With a card number and a customer, the card is saved on the customer, as setup_future_usage does.
    """
    intent = standin._object(
        "payment_intent",
        id=_id("pi"),
        amount=amount_cents,
        amount_received=amount_cents,
        currency=currency,
        customer=customer,
        status="succeeded",
        metadata={},
        created=int(time.time()),
        livemode=False,
        payment_method=standin.card(card, customer)["id"] if card else None,
    )
    standin.payment_intents[intent["id"]] = intent
    standin.charge_for(intent)
    return str(intent["id"])
