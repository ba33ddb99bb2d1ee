"""The composition root: builds each adapter once per container, at first use, never at import."""

from __future__ import annotations

from functools import cache, lru_cache
from typing import TYPE_CHECKING

from . import config, shop_time

if TYPE_CHECKING:
    from .adapters.dynamo import DynamoLedger
    from .adapters.jobs import LambdaJobs
    from .adapters.mailer import SesMailer
    from .adapters.queue import SqsRefundQueue
    from .adapters.stripe_gateway import StripeGateway
    from .catalog import Catalog
    from .ports import SessionReport

# Each adapter's module is imported by the function that builds it, at first use: a function's cold start loads the
# adapters its own requests use (the outbox has no Stripe, the refund worker no mail), never the others'.


def catalog() -> Catalog:
    from .catalog import load

    return load()


@cache
def ledger() -> DynamoLedger:
    from .adapters.dynamo import DynamoLedger

    return DynamoLedger(config.store().table)


@cache
def mailer() -> SesMailer:
    from .adapters.mailer import SesMailer

    return SesMailer(config.mail().sender)


@cache
def refund_queue() -> SqsRefundQueue:
    from .adapters.queue import SqsRefundQueue

    return SqsRefundQueue(config.queues().refund_queue_url)


@cache
def jobs() -> LambdaJobs:
    from .adapters.jobs import LambdaJobs

    return LambdaJobs(config.jobs().function_name)


def gateway(*, webhook: bool = False) -> StripeGateway:
    """The gateway for the current key (and, for the webhook, signing secret): a rotated one gets a new client."""
    return _gateway_for(config.stripe(webhook=webhook), _site_url())


def _site_url() -> str:
    try:
        return config.site().url
    except config.ConfigError:  # a tool without the shop's pages: a pay link ends on Stripe's own confirmation
        return ""


@lru_cache(maxsize=2)
def _gateway_for(settings: config.StripeSettings, site_url: str) -> StripeGateway:
    from .adapters.stripe_gateway import StripeGateway  # Stripe's SDK costs ~250 ms; only its users pay

    return StripeGateway(settings, site_url=site_url)


def session_reports(shop: Catalog) -> dict[str, SessionReport]:
    """The report of every pulled source catalog.yaml lists; each reads its token when the run asks it."""
    from .adapters.pulled_reports import report_of
    from .catalog import TeamViewerSettings, ZohoAssistSettings

    pulled = TeamViewerSettings | ZohoAssistSettings
    return {name: report_of(name, s) for name, s in shop.integrations.items() if isinstance(s, pulled)}


def reset() -> None:
    """Forget every adapter and setting, so the next use reads the environment again."""
    ledger.cache_clear()
    mailer.cache_clear()
    refund_queue.cache_clear()
    jobs.cache_clear()
    _gateway_for.cache_clear()
    from .catalog import load

    load.cache_clear()
    config.clear()
    shop_time.zone.cache_clear()
