"""What the ports raise when Stripe or the store fails (ports.py re-exports them): a module of its own, so the HTTP
functions' error table loads them at start without the ports' Protocols and records."""

from __future__ import annotations


class StoreError(Exception):
    """The store refused a write for a reason other than a condition; nothing was written."""


class GatewayError(Exception):
    """Stripe refused or could not be reached; the message says which, for the log and the person."""


class PaymentUnknown(GatewayError):
    """Stripe has no such payment in this account (deleted, or made with the other mode's keys)."""
