"""Deployed secrets: SSM Parameter Store SecureStrings read through Powertools, and rotated without a redeploy.

The embedded AWS holds the three parameters as the owner creates them (infra/README.md); the functions' environment
names them, as template.yaml does. Powertools dates each cached value with its own clock (datetime.now()): these
tests move that clock past the cache age instead of waiting five minutes.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import Any

import boto3
import pytest

from blockhours import config, wiring
from blockhours_dev.local import LocalContext
from served_standin import ServedStandIn
from stripe_events import FIXTURES, event, signed

FIRST_KEY, SECOND_KEY = "rk_test_first_restricted_key", "rk_test_second_restricted_key"
FIRST_SIGNING, SECOND_SIGNING = "whsec_first_signing_secret", "whsec_second_signing_secret"


class PowertoolsClock:
    """How far ahead of the real time Powertools' parameter cache believes it is."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def advance(self, seconds: int) -> None:
        self.ahead += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> PowertoolsClock:
    from aws_lambda_powertools.utilities.parameters import base

    moved = PowertoolsClock()

    class MovedNow(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            return datetime.now(tz) + moved.ahead

    monkeypatch.setattr(base, "datetime", MovedNow)
    return moved


def put(name: str, value: str) -> None:
    boto3.client("ssm").put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


@pytest.fixture
def parameters(aws_endpoint: str, stripe_standin: ServedStandIn, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The SecureStrings of infra/README.md under a fresh prefix; the environment names them and holds no value."""
    prefix = f"/blockhours-{secrets.token_hex(4)}"
    names = {
        "STRIPE_API_KEY": f"{prefix}/stripe-api-key",
        "STRIPE_WEBHOOK_SECRET": f"{prefix}/stripe-webhook-secret",
        "BLOCKHOURS_LINK_SECRET": f"{prefix}/link-secret",
    }
    for variable, name in names.items():
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.setenv(config.SECRET_PARAMETERS[variable], name)  # type: ignore[index]
    monkeypatch.setenv("BLOCKHOURS_STRIPE_API_BASE", stripe_standin.url)
    put(names["STRIPE_API_KEY"], FIRST_KEY)
    put(names["STRIPE_WEBHOOK_SECRET"], FIRST_SIGNING)
    put(names["BLOCKHOURS_LINK_SECRET"], "k" * 48)
    wiring.reset()
    return names


def keys_stripe_saw(standin: ServedStandIn) -> list[tuple[str, str]]:
    return [(r.params["email"], r.api_key) for r in standin.standin.requests if r.path == "/v1/customers"]


def test_a_rotated_stripe_key_reaches_stripe_once_the_cache_age_passes(
    parameters: dict[str, str], clock: PowertoolsClock, stripe_standin: ServedStandIn
) -> None:
    wiring.gateway().customer_for("first@example.com")
    put(parameters["STRIPE_API_KEY"], SECOND_KEY)
    clock.advance(config.SECRETS_MAX_AGE_SECONDS - 1)
    wiring.gateway().customer_for("second@example.com")
    clock.advance(2)
    wiring.gateway().customer_for("third@example.com")

    assert keys_stripe_saw(stripe_standin) == [
        ("first@example.com", FIRST_KEY),
        ("first@example.com", FIRST_KEY),  # the customer it made
        ("second@example.com", FIRST_KEY),
        ("second@example.com", FIRST_KEY),
        ("third@example.com", SECOND_KEY),
        ("third@example.com", SECOND_KEY),
    ]


def webhook_delivery(signing_secret: str) -> int:
    """A Stripe event signed with `signing_secret`, through the webhook's Lambda handler: the status it answers."""
    from blockhours.handlers import webhook

    body, signature = signed(event("customer.created", FIXTURES["customer"]), signing_secret)
    request: dict[str, Any] = {
        "version": "2.0",
        "rawPath": "/api/stripe/webhook",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "stripe-signature": signature},
        "requestContext": {"http": {"method": "POST", "path": "/api/stripe/webhook"}, "stage": "$default"},
        "body": body.decode(),
        "isBase64Encoded": False,
    }
    return int(webhook.handler(request, LocalContext("webhook"))["statusCode"])


def test_a_rolled_webhook_signing_secret_is_checked_once_the_cache_age_passes(
    parameters: dict[str, str], clock: PowertoolsClock
) -> None:
    assert webhook_delivery(FIRST_SIGNING) == 200
    put(parameters["STRIPE_WEBHOOK_SECRET"], SECOND_SIGNING)
    assert webhook_delivery(SECOND_SIGNING) == 400, "the function still holds the first secret"
    clock.advance(config.SECRETS_MAX_AGE_SECONDS + 1)

    assert (webhook_delivery(SECOND_SIGNING), webhook_delivery(FIRST_SIGNING)) == (200, 400)


def test_a_rotated_link_key_signs_new_links_once_the_cache_age_passes(
    parameters: dict[str, str], clock: PowertoolsClock
) -> None:
    secret_now: Callable[[], str] = lambda: config.links().secret  # noqa: E731
    before = secret_now()
    put(parameters["BLOCKHOURS_LINK_SECRET"], "n" * 48)
    still = secret_now()
    clock.advance(config.SECRETS_MAX_AGE_SECONDS + 1)

    assert (before, still, secret_now()) == ("k" * 48, "k" * 48, "n" * 48)


def test_a_missing_parameter_is_a_config_error_naming_it(parameters: dict[str, str]) -> None:
    boto3.client("ssm").delete_parameter(Name=parameters["STRIPE_WEBHOOK_SECRET"])

    named = f"STRIPE_WEBHOOK_SECRET: the SSM parameter {parameters['STRIPE_WEBHOOK_SECRET']} cannot be read"
    with pytest.raises(config.ConfigError, match=named):
        config.stripe(webhook=True)
    assert config.stripe().api_key == FIRST_KEY, "the other functions never read the webhook's secret"
