"""Health for everyone, and the staff routes (IAM-authorized): sessions, settling, customers, liability,
quotes, trusted clients, debts, and the background jobs (reconcile, requeue) they start and follow; the tools'
session endpoint and the inbox (inbox_routes.py), ScreenConnect's pushed events (screenconnect_routes.py)."""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from .. import config, reports, services, shop_time, wiring
from ..domain.changes import job_ref
from ..domain.client_email import client_email
from ..domain.ledger import CustomerLedger, journal_order
from ..domain.lots import fifo_order
from ..statement import statement_rows
from .bodies import EmailField
from .http import json_response, require_staff, resolver
from .inbox_routes import register as register_inbox_routes
from .screenconnect_routes import register as register_screenconnect_routes
from .telemetry import logger, metrics, tracer

app = resolver()
register_inbox_routes(app)
register_screenconnect_routes(app)
# The link-signing key too: `blockhours link` asks this function to sign a balance link, so the key stays in AWS.
config.at_cold_start(
    config.store,
    config.site,
    config.queues,
    config.jobs,
    secrets=("STRIPE_API_KEY", "BLOCKHOURS_LINK_SECRET", "BLOCKHOURS_INTEGRATION_SECRETS"),
)


class SessionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: EmailField
    minutes: int = Field(gt=0, le=24 * 60, strict=True)
    technician: str = Field(min_length=1, max_length=80)
    note: str = Field(default="", max_length=500)
    session_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,80}$")
    charge_overage: bool = False


class SettleBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    technician: str = Field(default="staff", min_length=1, max_length=80)


def _path_email(raw: str) -> str:
    """The email in a staff route's path, refused in words (invalid_email) when it cannot be one."""
    return client_email(unquote(raw))


def _ledger_body(ledger: CustomerLedger) -> dict[str, Any]:
    ledger = replace(ledger, lots=fifo_order(ledger.lots), entries=journal_order(ledger.entries))
    body = asdict(ledger)
    for lot, row in zip(ledger.lots, body["lots"], strict=True):
        row.update(remaining_minutes=lot.remaining_minutes, remaining_cents=lot.remaining_cents)
    # What the client reads on the balance page, in the same words, for `blockhours statement`.
    body["statement"] = [asdict(row) for row in statement_rows(ledger, wiring.catalog(), shop_time.zone())]
    return body


@app.get("/api/health")
def health() -> Response[str]:
    return json_response(200, {"status": "ok"})


@app.get("/api/customers/<email>")
def customer(email: str) -> Response[str]:
    require_staff(app)
    return json_response(200, _ledger_body(services.customer_ledger(wiring.ledger(), _path_email(email))))


@app.post("/api/customers/<email>/link")
def balance_link(email: str) -> Response[str]:
    """A fresh link to the client's balance page, signed with the link-signing key, and when it expires."""
    require_staff(app)
    settings = config.links()
    link = services.balance_link(
        wiring.ledger(), _path_email(email), settings.secret, settings.max_age_seconds, config.site().url
    )
    answer = json_response(200, asdict(link))
    answer.headers["Cache-Control"] = "no-store"  # it opens the client's page: no proxy keeps a copy
    return answer


@app.get("/api/customers")
def customers() -> Response[str]:
    require_staff(app)
    return json_response(200, {"customers": reports.credit_holders(wiring.ledger().due_accounts())})


@app.get("/api/reports/liability")
def liability() -> Response[str]:
    require_staff(app)
    accounts = services.accounts_holding_or_owing(wiring.ledger())
    return json_response(200, reports.liability(accounts, int(time.time()), wiring.catalog().shop.currency))


@app.post("/api/sessions")
def record_session(body: Annotated[SessionBody, Body()]) -> Response[str]:
    require_staff(app)
    request = services.SessionRequest(
        email=str(body.email),
        minutes=body.minutes,
        technician=body.technician,
        note=body.note,
        session_id=body.session_id,
        charge_overage=body.charge_overage,
    )
    catalog = wiring.catalog()
    redeemed = services.record_session(catalog, wiring.ledger(), wiring.gateway, request)
    record = redeemed.record
    if redeemed.recorded_now:
        metrics.add_metric(name="SessionRecorded", unit=MetricUnit.Count, value=1)
        summary = reports.session_summary(record, catalog)
    else:
        summary = reports.replayed_summary(record, catalog, redeemed.overage_finished_now)
    if record.overage_status == "owed" and (redeemed.recorded_now or redeemed.overage_finished_now):
        metrics.add_metric(name="OverageOwed", unit=MetricUnit.Count, value=1)
    logger.info(
        "session recorded" if redeemed.recorded_now else "session already recorded",
        extra={"session_id": record.session_id, "billed": record.billed_minutes},
    )
    return json_response(200, {**asdict(record), "summary": summary, "recorded_now": redeemed.recorded_now})


@app.post("/api/customers/<email>/settle")
def settle(email: str, body: Annotated[SettleBody, Body()]) -> Response[str]:
    require_staff(app)
    catalog, store = wiring.catalog(), wiring.ledger()
    ledger = services.settle(store, _path_email(email), body.technician)
    if catalog.refunds.deposits_refund_at_settle and ledger.account.awaiting_refund_cents > 0:
        try:
            services.request_refund(catalog, store, ledger.account.email, "settle", body.technician, scope="settled")
        except services.ShopError as kept:  # below the minimum: it stays on the balance, never forfeited
            logger.warning("settled deposit kept on the balance", extra={"reason": kept.message})
        ledger = services.customer_ledger(store, ledger.account.email)
    return json_response(200, _ledger_body(ledger))


@app.post("/api/customers/<email>/release")
def release(email: str, body: Annotated[SettleBody, Body()]) -> Response[str]:
    """The shop lets an account held after a lost dispute run sessions and refunds again."""
    require_staff(app)
    ledger = services.release(wiring.ledger(), _path_email(email), body.technician, int(time.time()))
    return json_response(200, _ledger_body(ledger))


@app.post("/api/customers/<email>/debts/<debt_id>/waive")
def waive(email: str, debt_id: str, body: Annotated[SettleBody, Body()]) -> Response[str]:
    """The shop gives up what a lost dispute left owed."""
    require_staff(app)
    ledger = services.waive(wiring.ledger(), _path_email(email), unquote(debt_id), body.technician, int(time.time()))
    return json_response(200, _ledger_body(ledger))


class StaffRefundBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    minutes: int | None = Field(default=None, gt=0, le=1_000_000, strict=True)
    technician: str = Field(default="staff", min_length=1, max_length=80)


@app.post("/api/customers/<email>/refund")
def staff_refund(email: str, body: Annotated[StaffRefundBody, Body()]) -> Response[str]:
    require_staff(app)
    record = services.request_refund(
        wiring.catalog(), wiring.ledger(), _path_email(email), "staff", body.technician, minutes=body.minutes
    )
    metrics.add_metric(name="RefundRequested", unit=MetricUnit.Count, value=1)
    return json_response(202, asdict(record) | {"amount_cents": record.amount_cents, "minutes": record.minutes})


class ReconcileBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requeue: bool = False


@app.post("/api/reports/reconcile")
def reconcile(body: Annotated[ReconcileBody, Body()]) -> Response[str]:
    """Start the audit in the background (the ledger against itself and Stripe); with requeue, the requeue too."""
    require_staff(app)
    store, now = wiring.ledger(), int(time.time())
    started: dict[str, Any] = {}
    if body.requeue:
        started["requeue_job_id"] = services.start_job(store, wiring.jobs(), "requeue", now).job_id
    job = services.start_job(store, wiring.jobs(), "reconcile", now)
    return json_response(202, {"job_id": job.job_id, "status": job.status, **started})


@app.post("/api/refunds/requeue")
def requeue() -> Response[str]:
    """Send every refund still waiting for the worker to it again, in the background (no Stripe call)."""
    require_staff(app)
    job = services.start_job(wiring.ledger(), wiring.jobs(), "requeue", int(time.time()))
    return json_response(202, {"job_id": job.job_id, "status": job.status})


@app.get("/api/jobs/<job_id>")
def job_progress(job_id: str) -> Response[str]:
    """How far a reconcile or requeue has got, and what it found."""
    require_staff(app)
    found = wiring.ledger().find(job_ref(unquote(job_id))) if len(job_id) <= 200 else None
    if found is None:
        raise services.NotFound(
            "unknown_job", f"there is no job {unquote(job_id)[:200]}: start one with `blockhours reconcile`"
        )
    return json_response(200, reports.job_report(found, int(time.time())))


class QuoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: EmailField
    minutes: int = Field(gt=0, le=100 * 60, strict=True)
    note: str = Field(default="", max_length=500)
    technician: str = Field(default="staff", min_length=1, max_length=80)
    quote_id: str = Field(default="", pattern=r"^[A-Za-z0-9_.:-]{0,80}$")
    confirmed: bool = False  # required above the catalog's quotes.confirm_above_minutes


@app.post("/api/quotes")
def send_quote(body: Annotated[QuoteBody, Body()]) -> Response[str]:
    """Price an estimate, open its Stripe payment page, email the link (from the stream) and return it."""
    require_staff(app)
    request = services.QuoteRequest(
        str(body.email), body.minutes, body.technician, body.note, body.quote_id, body.confirmed
    )
    quote = services.send_quote(wiring.catalog(), wiring.ledger(), wiring.gateway(), request, config.site().url)
    return json_response(201, asdict(quote))


@app.get("/api/quotes")
def quotes() -> Response[str]:
    require_staff(app)
    return json_response(200, {"quotes": [asdict(q) for q in services.recent_quotes(wiring.ledger())]})


class TrustBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    limit_minutes: int = Field(ge=0, le=100 * 60, strict=True)
    technician: str = Field(default="staff", min_length=1, max_length=80)


@app.post("/api/customers/<email>/trust")
def trust(email: str, body: Annotated[TrustBody, Body()]) -> Response[str]:
    """Let a client's sessions run below zero down to the limit, billed later; a limit of 0 ends it."""
    require_staff(app)
    catalog, store = wiring.catalog(), wiring.ledger()
    account = services.set_trust(catalog, store, _path_email(email), body.limit_minutes, body.technician)
    return json_response(200, asdict(account) | {"balance_minutes": account.balance_minutes})


@app.get("/api/debts")
def debts() -> Response[str]:
    """Every open debt, oldest first, with its notices and whether it is in collections."""
    require_staff(app)
    found = sorted(wiring.ledger().chores("debt"), key=lambda d: (d.opened_at, d.email))
    return json_response(200, {"now": int(time.time()), "debts": [asdict(d) for d in found]})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)  # answers carry clients' emails and links: not in X-Ray
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
