"""Use cases: each reads what it needs, asks the domain what should happen, and commits one unit of work."""

from .errors import ShopError
from .purchases import CheckoutRequest, customer_ledger, record_payment, start_checkout
from .sessions import SessionRequest, record_debt_payment, redeem, settle

__all__ = [
    "CheckoutRequest",
    "SessionRequest",
    "ShopError",
    "customer_ledger",
    "record_debt_payment",
    "record_payment",
    "redeem",
    "settle",
    "start_checkout",
]
