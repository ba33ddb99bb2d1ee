"""What the daily runs up to a later day will do: the real runs (services.daily_run), day by day, on a copy of the
ledger in memory, with a gateway that makes nothing at Stripe. The ledger itself is never written.

`blockhours sweep --at` a day after today asks for it: a run dated ahead of the clock would leave warnings, notices
and bills dated in the future on the client's balance page and statement, and a debt opened tomorrow. Running the
same code as the SweepFunction, rather than a second copy of its rules, keeps the preview telling what will happen.
"""

from __future__ import annotations

import time as clock
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from blockhours import config, services, shop_time, wiring
from blockhours.adapters.store import TableStore
from blockhours.catalog import Catalog
from blockhours.domain.changes import Expect, debt_ref, session_ref
from blockhours.domain.refunds import RefundPart
from blockhours.ports import (
    CardCharge,
    CheckoutOrder,
    DebtLink,
    GatewayError,
    OverageCharge,
    PaidCheckout,
    StripeRefund,
)

from .memory_ledger import MemoryLedger
from .memory_table import MemoryTable

PAY_LINK = "(pay link made on the day)"


class NoStripe:
    """The PaymentGateway of a preview: a pay link is a placeholder, and every other call is Stripe out of reach,
    so a card charge is left pending as the run leaves it when Stripe cannot be asked. What was asked is kept."""

    def __init__(self) -> None:
        self.charges_asked: list[OverageCharge] = []

    def create_checkout(self, order: CheckoutOrder) -> str:
        raise GatewayError("a preview opens no checkout at Stripe")

    def charge_saved_card(self, charge: OverageCharge) -> CardCharge:
        self.charges_asked.append(charge)
        raise GatewayError("a preview charges no card: the run on the day asks Stripe")

    def create_debt_link(self, debt: DebtLink) -> str:
        return PAY_LINK

    def refund_part(self, refund_id: str, part: RefundPart, email: str) -> StripeRefund:
        raise GatewayError("a preview refunds nothing at Stripe")

    def paid_checkout(self, checkout_id: str) -> PaidCheckout | None:
        raise GatewayError("a preview asks Stripe nothing")

    def refunds_of(self, payment_intent: str) -> list[StripeRefund]:
        raise GatewayError("a preview asks Stripe nothing")

    def amount_received(self, payment_intent: str) -> int:
        raise GatewayError("a preview asks Stripe nothing")


def copy_of(ledger: TableStore) -> MemoryLedger:
    """Every item of the ledger's table (a Scan, page after page), held in memory as its store reads them."""
    rows, _ = ledger.rows.scan(Expect("pk", "exists"))
    table = MemoryTable()
    table.load(rows)
    return MemoryLedger(table)


def schedule_time(template: dict[str, Any]) -> time:
    """When the schedule runs the SweepFunction each day, in the shop's zone: template.yaml's cron(M H * * ? *)."""
    events = template["Resources"]["SweepFunction"]["Properties"]["Events"].values()
    [cron] = [e["Properties"]["ScheduleExpression"] for e in events if e.get("Type") == "ScheduleV2"]
    minute, hour, *_ = str(cron).removeprefix("cron(").split()
    return time(int(hour), int(minute))


def run_times(after: int, until: int, daily: time, zone: tzinfo) -> list[int]:
    """The schedule's runs after `after` and before `until`, then one at `until`: the runs the preview makes."""
    day, times = datetime.fromtimestamp(after, zone).date(), []
    while (at := int(datetime.combine(day, daily, zone).timestamp())) < until:
        if at > after:
            times.append(at)
        day += timedelta(days=1)
    return [*times, until]


def preview(catalog: Catalog, ledger: TableStore, site_url: str, times: list[int]) -> dict[str, Any]:
    """Each run's report, as the daily run returns it, and its steps in words: who is warned, refunded, billed,
    reminded (which reminder), moved back to prepaying or put into collections. `preview`: nothing was written."""
    copy, stripe = copy_of(ledger), NoStripe()
    runs, charged = [], set[tuple[str, str]]()
    for at in times:
        report = services.daily_run(catalog, copy, lambda: stripe, site_url, at)
        steps = _steps(report, copy)
        for charge in stripe.charges_asked:  # the run asks each day while Stripe is "out of reach": said once
            if (charge.email, charge.session_id) not in charged:
                charged.add((charge.email, charge.session_id))
                steps.append(("overage charge to the saved card, asked of Stripe on the day", _who(charge)))
        stripe.charges_asked.clear()
        runs.append({"at": at, "steps": [{"step": s, "who": w} for s, w in steps], "report": report.as_dict()})
    return {"preview": True, "at": times[-1], "runs": runs}


def on_this_stack(template: dict[str, Any], until: int) -> dict[str, Any]:
    """The preview the local stack's route answers: its ledger, catalog and site; the schedule's runs from now."""
    times = run_times(int(clock.time()), until, schedule_time(template), shop_time.zone())
    return preview(wiring.catalog(), wiring.ledger(), config.site().url, times)


def _who(charge: OverageCharge) -> str:
    return f"{charge.email} {charge.session_id}"


def _steps(report: services.DailyReport, copy: MemoryLedger) -> list[tuple[str, str]]:
    """What the run did, in its order, with what it left on the copy: a reminder's number, an overage's end."""
    steps = [("refund warning", email) for email in report.sweep.warned]
    steps += [("stale refund", email) for email in report.sweep.refunded]
    steps += [("bill", email) for email in report.billing.billed]
    for finished in report.overages_finished:
        email, session_id = finished.split(" ", 1)
        session = copy.find(session_ref(email, session_id))
        steps.append((f"overage {session.overage_status if session else 'finished'}", finished))
    for reminded in report.dunning.reminded:
        email, debt_id = reminded.split(" ", 1)
        debt = copy.find(debt_ref(email, debt_id))
        steps.append((f"reminder {len(debt.notices) - 1}" if debt else "reminder", reminded))
    steps += [("back to prepaying", who) for who in report.dunning.prepay]
    steps += [("collections", who) for who in report.dunning.collections]
    return steps
