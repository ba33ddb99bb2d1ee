"""The Stripe stand-in on a real loopback port, for the real SDK to talk to: no AWS needed, so service tests on the
in-memory store use it as the integration tests do."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from werkzeug.serving import make_server

from blockhours.adapters.stripe_gateway import StripeGateway
from blockhours.config import StripeSettings
from blockhours_dev.standin import StripeStandIn


@dataclass
class ServedStandIn:
    standin: StripeStandIn
    url: str
    _server: Any = field(repr=False, default=None)

    def gateway(self) -> StripeGateway:
        """The gateway the functions build, pointed at this stand-in."""
        return StripeGateway(StripeSettings(api_key="sk_test_x", webhook_secret="whsec_unused", api_base=self.url))


@pytest.fixture
def stripe_standin() -> Iterator[ServedStandIn]:
    """The Stripe stand-in on a real loopback port, for the real SDK to talk to."""
    standin = StripeStandIn()
    server = make_server("127.0.0.1", 0, standin, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    standin.public_base = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield ServedStandIn(standin, url, server)
    server.shutdown()
    server.server_close()


def paid_lot(store: Any, served: ServedStandIn, email: str, cents: int, minutes: int, at: int) -> str:
    """A lot paid through the stand-in and credited as the webhook credits it (its order opened first); returns
    its PaymentIntent. `store`: either store."""
    import secrets

    from blockhours import catalog, services
    from blockhours.domain.ledger import Payment
    from blockhours_dev.standin.payments import paid_intent
    from stripe_events import opened_payment

    pi = paid_intent(served.standin, cents)
    payment = Payment(
        f"cs_test_{secrets.token_hex(8)}", pi, None, email, "block", "block", minutes, cents, "usd", "v1", at
    )
    credited = services.record_payment(
        catalog.load(), store, f"evt_{secrets.token_hex(6)}", opened_payment(store, payment)
    )
    assert credited == "credited"
    return pi


def used(store: Any, email: str, minutes: int) -> None:
    """A session of `minutes` recorded against the client's balance (no overage expected)."""
    import secrets

    from blockhours import catalog, services

    request = services.SessionRequest(email, minutes, "Sam", "", secrets.token_hex(4))
    services.redeem(catalog.load(), store, lambda: pytest.fail("no overage"), request)
