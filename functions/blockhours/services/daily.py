"""The daily run: every chore of one day, in order. The SweepFunction runs it on the schedule, and the local stack's
preview of later days runs the same on a copy of the ledger, so the two cannot tell different stories."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .debts import chase_debts
from .on_account import bill_on_account
from .overage import finish_pending_overages
from .pushed_connections import lost_connections
from .stale_sweep import sweep

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..ports import LedgerStore, PaymentGateway
    from .debts import DunningReport
    from .on_account import BillingReport
    from .stale_sweep import SweepReport


@dataclass
class DailyReport:
    sweep: SweepReport
    billing: BillingReport
    overages_finished: list[str]
    dunning: DunningReport
    connections_lost: list[str] = field(default_factory=list)  # inbox ids of tools' connections with no end

    def as_dict(self) -> dict[str, Any]:
        """As the SweepFunction answers: the sweep's lists at the top, then billing, overages and dunning."""
        return asdict(self.sweep) | {
            "billing": asdict(self.billing),
            "overages finished": self.overages_finished,
            "dunning": asdict(self.dunning),
            "connections lost": self.connections_lost,
        }


def daily_run(
    catalog: Catalog,
    store: LedgerStore,
    gateway: Callable[[], PaymentGateway],
    site_url: str,
    now: int | None = None,
) -> DailyReport:
    """Stale-balance warnings and refunds, bills on account, overages Stripe could not be asked for yet, dunning,
    tools' connections whose end never came: all dated `now` (default: the clock, read once), so one run is one
    day however long it takes."""
    at = now if now is not None else int(time.time())
    return DailyReport(
        sweep=sweep(catalog, store, now=at),
        billing=bill_on_account(catalog, store, gateway(), site_url, now=at),
        overages_finished=finish_pending_overages(catalog, store, gateway, at),
        dunning=chase_debts(catalog, store, now=at),
        connections_lost=lost_connections(catalog, store, gateway, at),
    )
