"""Use cases: each reads what it needs, asks the domain what should happen, and commits one unit of work."""

from ..domain.jobs import Discrepancy
from .balance_links import BalanceLink, balance_link
from .daily_run import DailyReport, daily_run
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
from .sweep import SweepReport, sweep

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
