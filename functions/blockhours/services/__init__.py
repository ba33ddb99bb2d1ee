"""Use cases: each reads what it needs, asks the domain what should happen, and commits one unit of work.

Imported by name as a handler first asks for one (PEP 562): a function loads the use cases it runs, not all twenty.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..domain.jobs import Discrepancy
    from .balance_links import BalanceLink, balance_link
    from .daily import DailyReport, daily_run
    from .debts import DunningReport, chase_debts, record_debt_payment
    from .disputes import dispute_changed, release, waive
    from .errors import BadLink, BadSecret, Conflict, NotFound, ShopError, StaffOnly, StripeUnreachable, TryLater
    from .jobs import JobTools, reconcile, run_here, run_step, start_job
    from .liability import accounts_holding_or_owing
    from .on_account import BillingReport, bill_on_account, set_trust
    from .overage import finish_pending_overages
    from .parked import apply_parked, payment_event
    from .pulls import PullReport, pull_sources
    from .purchases import CheckoutRequest, customer_ledger, record_payment, start_checkout
    from .quotes import QuoteRequest, quote_expired, recent_quotes, send_quote
    from .refunds import process_refund, request_refund, stripe_refund_changed
    from .sessions import Redeemed, SessionRequest, record_session, redeem, settle
    from .stale_sweep import SweepReport, sweep

# Where each name lives, relative to this package. No module here shares a name it exports: importing a module binds
# its name on the package, and a function of that name would be hidden behind it (tests/unit/test_cold_imports.py).
_MODULE_OF = {
    "BadLink": ".errors",
    "BadSecret": ".errors",
    "BalanceLink": ".balance_links",
    "BillingReport": ".on_account",
    "CheckoutRequest": ".purchases",
    "Conflict": ".errors",
    "DailyReport": ".daily",
    "Discrepancy": "..domain.jobs",
    "DunningReport": ".debts",
    "JobTools": ".jobs",
    "NotFound": ".errors",
    "PullReport": ".pulls",
    "QuoteRequest": ".quotes",
    "Redeemed": ".sessions",
    "SessionRequest": ".sessions",
    "ShopError": ".errors",
    "StaffOnly": ".errors",
    "StripeUnreachable": ".errors",
    "SweepReport": ".stale_sweep",
    "TryLater": ".errors",
    "accounts_holding_or_owing": ".liability",
    "apply_parked": ".parked",
    "balance_link": ".balance_links",
    "bill_on_account": ".on_account",
    "chase_debts": ".debts",
    "customer_ledger": ".purchases",
    "daily_run": ".daily",
    "dispute_changed": ".disputes",
    "finish_pending_overages": ".overage",
    "payment_event": ".parked",
    "process_refund": ".refunds",
    "pull_sources": ".pulls",
    "quote_expired": ".quotes",
    "recent_quotes": ".quotes",
    "reconcile": ".jobs",
    "record_debt_payment": ".debts",
    "record_payment": ".purchases",
    "record_session": ".sessions",
    "redeem": ".sessions",
    "release": ".disputes",
    "request_refund": ".refunds",
    "run_here": ".jobs",
    "run_step": ".jobs",
    "send_quote": ".quotes",
    "set_trust": ".on_account",
    "settle": ".sessions",
    "start_checkout": ".purchases",
    "start_job": ".jobs",
    "stripe_refund_changed": ".refunds",
    "sweep": ".stale_sweep",
    "waive": ".disputes",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value  # the next lookup finds it without coming here
    return value


__all__ = [
    "BadLink",
    "BadSecret",
    "BalanceLink",
    "BillingReport",
    "CheckoutRequest",
    "Conflict",
    "DailyReport",
    "Discrepancy",
    "DunningReport",
    "JobTools",
    "NotFound",
    "PullReport",
    "QuoteRequest",
    "Redeemed",
    "SessionRequest",
    "ShopError",
    "StaffOnly",
    "StripeUnreachable",
    "SweepReport",
    "TryLater",
    "accounts_holding_or_owing",
    "apply_parked",
    "balance_link",
    "bill_on_account",
    "chase_debts",
    "customer_ledger",
    "daily_run",
    "dispute_changed",
    "finish_pending_overages",
    "payment_event",
    "process_refund",
    "pull_sources",
    "quote_expired",
    "recent_quotes",
    "reconcile",
    "record_debt_payment",
    "record_payment",
    "record_session",
    "redeem",
    "release",
    "request_refund",
    "run_here",
    "run_step",
    "send_quote",
    "set_trust",
    "settle",
    "start_checkout",
    "start_job",
    "stripe_refund_changed",
    "sweep",
    "waive",
]
