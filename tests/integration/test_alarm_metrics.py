"""The custom metrics the alarms read, as the webhook emits them (Powertools EMF on stdout) for signed deliveries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from blockhours.handlers.telemetry import metrics
from blockhours_dev.local import LambdaRoutes, LocalContext, LocalStack
from blockhours_dev.template import http_routes
from stripe_events import checkout_session, event, signed


def _metrics(out: str) -> list[dict[str, Any]]:
    """Every EMF document the functions printed: CloudWatch turns each into metric values."""
    documents = [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]
    return [
        {"namespace": metric_set["Namespace"], "dimensions": metric_set["Dimensions"], "name": m["Name"], **doc}
        for doc in documents
        for metric_set in doc["_aws"]["CloudWatchMetrics"]
        for m in metric_set["Metrics"]
    ]


def _rejected(out: str) -> list[dict[str, Any]]:
    return [m for m in _metrics(out) if m["name"] == "WebhookRejected"]


@dataclass(frozen=True)
class Answer:
    status_code: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def _post(stack: LocalStack, body: bytes, headers: dict[str, str]) -> Answer:
    """The webhook function called in this process (each local instance prints to its own stdout), with the
    event API Gateway builds for the request, on the stack's table and stand-in."""
    from blockhours.handlers import webhook

    [route] = [r for r in http_routes() if r.path == "/api/stripe/webhook"]
    headers = {"Content-Type": "application/json", **headers}
    request = Request(EnvironBuilder(path=route.path, method="POST", data=body, headers=headers).get_environ())
    answer = webhook.handler(LambdaRoutes.event(request, route, {}, None), LocalContext("WebhookFunction"))
    return Answer(int(answer["statusCode"]), str(answer["body"]))


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> pytest.CaptureFixture[str]:
    """Metrics on, as in Lambda (tests and the local stack switch them off); what the handlers print, captured."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics.clear_metrics()  # switched off, Powertools keeps what earlier tests added: it flushes only when on
    capsys.readouterr()
    return capsys


def test_a_delivery_signed_with_another_secret_counts_as_rejected(
    stack: LocalStack, emitted: pytest.CaptureFixture[str]
) -> None:
    body, header = signed(event("checkout.session.completed", checkout_session()), "whsec_not_the_endpoints_secret")

    answer = _post(stack, body, {"Stripe-Signature": header})

    assert answer.status_code == 400 and answer.json()["error"] == "invalid_signature"
    (metric,) = _rejected(emitted.readouterr().out)
    assert (metric["namespace"], metric["dimensions"], metric["WebhookRejected"]) == (
        "Blockhours",
        [["service"]],
        [1.0],
    )
    assert metric["service"] == "blockhours"  # the dimension WebhookRejectedAlarm names


def test_a_request_without_a_signature_is_refused_without_waking_the_owner(
    stack: LocalStack, emitted: pytest.CaptureFixture[str]
) -> None:
    answer = _post(stack, b'{"id": "evt_scan"}', {})

    assert answer.status_code == 400
    assert _rejected(emitted.readouterr().out) == []


def test_a_genuine_delivery_is_not_counted_as_rejected(stack: LocalStack, emitted: pytest.CaptureFixture[str]) -> None:
    assert stack.standin is not None
    unknown = event("customer.created", {"id": "cus_x", "object": "customer"})
    body, header = signed(unknown, stack.standin.webhook_secret)

    answer = _post(stack, body, {"Stripe-Signature": header})

    assert answer.status_code == 200, answer.text
    assert _rejected(emitted.readouterr().out) == []


def test_a_live_mode_event_reaching_a_test_mode_shop_counts_as_rejected(
    stack: LocalStack, emitted: pytest.CaptureFixture[str]
) -> None:
    assert stack.standin is not None
    live = event("checkout.session.completed", checkout_session()) | {"livemode": True}
    body, header = signed(live, stack.standin.webhook_secret)

    answer = _post(stack, body, {"Stripe-Signature": header})

    assert answer.status_code == 400 and answer.json()["error"] == "wrong_mode"
    assert len(_rejected(emitted.readouterr().out)) == 1
