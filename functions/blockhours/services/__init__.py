"""Use cases: each reads what it needs, asks the domain what should happen, and commits one unit of work."""

from .disputes import dispute_changed
from .errors import ShopError
from .purchases import CheckoutRequest, customer_ledger, record_payment, start_checkout
from .reconcile import Discrepancy, reconcile, stuck_refunds
from .refunds import process_refund, request_refund, stripe_refund_changed
from .sessions import SessionRequest, record_debt_payment, redeem, settle
from .sweep import SweepReport, sweep

__all__ = [
    "CheckoutRequest",
    "Discrepancy",
    "SessionRequest",
    "ShopError",
    "SweepReport",
    "customer_ledger",
    "dispute_changed",
    "process_refund",
    "reconcile",
    "record_debt_payment",
    "record_payment",
    "redeem",
    "request_refund",
    "settle",
    "start_checkout",
    "stripe_refund_changed",
    "stuck_refunds",
    "sweep",
]
