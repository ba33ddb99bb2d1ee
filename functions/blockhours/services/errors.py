"""The one way a use case says no: a stable code, a message that tells the person what to do, and its kind.

The kind (the class) says why; the edge (handlers/http.py) maps each kind to an HTTP status in one table."""

from __future__ import annotations


class ShopError(Exception):
    """A request the shop cannot carry out as asked; `code` is stable, the message tells what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class NotFound(ShopError):
    """The customer, debt or job the request names is not in the ledger."""


class Conflict(ShopError):
    """The ledger's state refuses it now (frozen, too little balance, already recorded otherwise, kept changing)."""


class BadLink(ShopError):
    """A client's signed link is missing its signature, forged or expired."""


class BadSecret(ShopError):
    """A tool's request without its source's secret (missing, wrong, or the source has none)."""


class StaffOnly(ShopError):
    """A staff route reached without the shop's credentials."""


class StripeUnreachable(ShopError):
    """Part of the work is done and Stripe could not be reached for the rest: the same request finishes it."""


class TryLater(ShopError):
    """Not the caller's mistake: the background could not take the work now."""
