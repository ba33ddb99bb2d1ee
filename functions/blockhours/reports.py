"""What staff read: who holds credit, the shop's prepaid liability by age, a session in one sentence, a job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from . import shop_time
from .domain.ledger import DAY_SECONDS
from .domain.money import format_cents, format_minutes

if TYPE_CHECKING:
    from .catalog import Catalog
    from .domain.jobs import Job
    from .domain.ledger import Account, SessionRecord

AGE_BUCKETS = ((30, "0-30 days"), (90, "31-90 days"), (180, "91-180 days"), (365, "181-365 days"))
OLDEST = "over 365 days"


def credit_holders(accounts: Sequence[Account]) -> list[dict[str, Any]]:
    holders = [
        {
            "email": account.email,
            "available_minutes": account.available_minutes,
            "available_cents": account.available_cents,
            "last_activity_at": account.last_activity_at,
            "refund_due_at": account.refund_due_at or 0,
        }
        for account in accounts
    ]
    return sorted(holders, key=lambda h: (-h["available_cents"], h["email"]))


def _bucket(age_days: int) -> str:
    return next((label for limit, label in AGE_BUCKETS if age_days <= limit), OLDEST)


# What each age group and the totals add up: held for clients (theirs until used or refunded), and owed by them.
HELD = ("available_cents", "awaiting_refund_cents", "refunding_cents")
OWED = ("owed_cents", "on_account_cents")


def _amounts(account: Account) -> dict[str, int]:
    amounts = {"minutes": account.available_minutes} | {name: getattr(account, name) for name in HELD + OWED}
    return amounts | {
        "held_cents": sum(amounts[name] for name in HELD),
        "clients_owe_cents": sum(amounts[name] for name in OWED),
    }


def liability(accounts: Sequence[Account], now: int, currency: str) -> dict[str, Any]:
    """Everything held for clients (available, set aside for a refund, being refunded) and everything they owe
    (overage owed, time on account not paid), grouped by days since each client's last activity."""
    labels = [label for _, label in AGE_BUCKETS] + [OLDEST]
    buckets: dict[str, dict[str, Any]] = {label: {"label": label, "accounts": 0} for label in labels}
    for account in accounts:
        bucket = buckets[_bucket(max(0, now - account.last_activity_at) // DAY_SECONDS)]
        bucket["accounts"] += 1
        for name, value in _amounts(account).items():
            bucket[name] = bucket.get(name, 0) + value
    groups = [group | {"cents": group.get("available_cents", 0)} for group in buckets.values()]
    names = ["minutes", "cents", *HELD, "held_cents", *OWED, "clients_owe_cents"]
    return {
        "currency": currency,
        "accounts": sum(g["accounts"] for g in groups),
        **{f"total_{name}": sum(g.get(name, 0) for g in groups) for name in names},
        "by_age": [
            {name: g.get(name, 0) for name in names} | {"label": g["label"], "accounts": g["accounts"]} for g in groups
        ],
    }


def session_summary(record: SessionRecord, catalog: Catalog) -> str:
    currency = catalog.shop.currency
    parts = [f"{format_minutes(record.covered_minutes)} from the balance"]
    if record.on_account_minutes:
        on_account = format_cents(record.on_account_cents, currency)
        parts.append(f"{format_minutes(record.on_account_minutes)} on account = {on_account}, billed later")
    if record.overage_minutes:
        over = f"{record.overage_minutes} min over = {format_cents(record.overage_cents, currency)}"
        owed_why = "no card to charge" if record.overage_no_card else "the card could not be charged"
        over += {
            "charged": " charged to the card that paid for the time",
            "owed": f" owed: {owed_why} ({record.overage_problem}); payment link {record.pay_url}",
            "paid": " paid",
            "pending": " being charged",
        }.get(record.overage_status, "")
        parts.append(over)
    used = f"{record.requested_minutes} min used, {record.billed_minutes} min billed"
    text = f"{record.email}: {used} ({', '.join(parts)})"
    if record.balance_minutes_after < 0:  # a trusted client below zero: no prepaid time, the rest on account
        return text + f". No prepaid time left; {format_minutes(-record.balance_minutes_after)} on account in all."
    left = f"{format_minutes(record.balance_minutes_after)} ({format_cents(record.balance_cents_after, currency)})"
    return text + f". Balance left: {left}."


def replayed_summary(record: SessionRecord, catalog: Catalog, overage_finished_now: bool = False) -> str:
    """A session id sent again: when and by whom it was recorded, never the words of a new record."""
    said = (
        f"session {record.session_id} was already recorded on {shop_time.moment(record.at)} by {record.technician}"
        f" ({format_minutes(record.requested_minutes)})"
    )
    if not overage_finished_now:
        return f"{said}; nothing changed"
    return f"{said}; only its overage was finished now: {session_summary(record, catalog)}"


def job_report(job: Job, now: int) -> dict[str, Any]:
    """A job as staff read it: its progress or outcome, and whether it has stalled."""
    hidden = ("cursor", "attempts", "step", "step_accounts", "step_discrepancies", "step_requeued")
    shown = {name: value for name, value in asdict(job).items() if name not in hidden}
    return shown | {
        "accounts": job.accounts + job.step_accounts,  # with what the step under way has checked, not yet saved
        "discrepancy_count": job.discrepancy_count + job.step_discrepancies,
        "requeued_count": job.requeued_count + job.step_requeued,
        "stalled": job.stalled(now),
    }
