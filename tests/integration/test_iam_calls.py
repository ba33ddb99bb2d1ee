"""The DynamoDB calls a function's code really makes are granted to that function's role in template.yaml.

moto does not check IAM, so a call no role allows passes every local test and fails only in AWS; here the
calls are recorded through botocore's hooks and checked against the template's grants on the table.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from blockhours import catalog, services
from blockhours.adapters.dynamo import DynamoLedger
from blockhours.adapters.stripe_gateway import StripeGateway
from blockhours.config import StripeSettings
from blockhours.domain.changes import job_ref
from blockhours_dev.template import function_statements, load_template
from conftest import CallCounter
from served_standin import ServedStandIn
from stripe_events import hour_bought

CATALOG = catalog.load()
TEMPLATE = load_template()
# A transaction is authorised item by item: each Put, Update or ConditionCheck needs its own action.
TRANSACTION = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"}


def granted_on_table(function: str) -> set[str]:
    return {
        action
        for statement in function_statements(function, TEMPLATE)
        if statement.get("Resource") == {"Fn::GetAtt": ["LedgerTable", "Arn"]}
        for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    }


def needed(calls: list[str], transacted: list[str] | None = None) -> set[str]:
    """The actions the calls need; a transaction needs those of the writes it held (when known), else all three."""
    actions = {f"dynamodb:{call}" for call in calls if call != "TransactWriteItems"}
    if "TransactWriteItems" in calls:
        actions |= TRANSACTION if transacted is None else {f"dynamodb:{kind}Item" for kind in transacted}
    return actions


def gateway(served: ServedStandIn) -> StripeGateway:
    return StripeGateway(StripeSettings(api_key="sk_test_iam", webhook_secret="whsec_iam", api_base=served.url))


def test_opening_a_checkout_may_record_its_order(
    ledger: DynamoLedger, dynamodb_calls: CallCounter, stripe_standin: ServedStandIn
) -> None:
    request = services.CheckoutRequest("block-60", "iam@example.com", CATALOG.terms.version, True, "order-iam-1")
    services.start_checkout(CATALOG, ledger, gateway(stripe_standin), request, "https://shop.example")
    assert needed(dynamodb_calls.calls) <= granted_on_table("CheckoutFunction"), dynamodb_calls.calls


def test_the_refund_worker_may_read_a_refund_and_its_account_at_once(
    ledger: DynamoLedger, dynamodb_calls: CallCounter, stripe_standin: ServedStandIn
) -> None:
    email = f"iam-{secrets.token_hex(3)}@example.com"
    hour_bought(ledger, stripe_standin.standin, email)
    record = services.request_refund(CATALOG, ledger, email, "client", "client")
    dynamodb_calls.calls.clear()
    done: Any = services.process_refund(ledger, gateway(stripe_standin), email, record.refund_id)
    assert done is not None and done.status == "succeeded"
    assert needed(dynamodb_calls.calls) <= granted_on_table("RefundWorkerFunction"), dynamodb_calls.calls


class Queue:
    def send(self, email: str, refund_id: str) -> None:
        """The refund queue's SendMessage: granted to the jobs function in test_infra_iam."""


def test_the_api_may_start_and_read_a_job_and_the_jobs_function_may_run_it(
    ledger: DynamoLedger, dynamodb_calls: CallCounter, stripe_standin: ServedStandIn
) -> None:
    email = f"iam-{secrets.token_hex(3)}@example.com"
    hour_bought(ledger, stripe_standin.standin, email)
    services.request_refund(CATALOG, ledger, email, "client", "client")
    tools = services.JobTools(lambda: gateway(stripe_standin), Queue)
    for kind in ("reconcile", "requeue"):
        dynamodb_calls.calls.clear()
        steps = services.jobs.StepsHere()
        job = services.start_job(ledger, steps, kind, int(time.time()))
        ledger.find(job_ref(job.job_id))
        assert needed(dynamodb_calls.calls) <= granted_on_table("ApiFunction"), dynamodb_calls.calls

        dynamodb_calls.calls.clear()
        dynamodb_calls.transacted.clear()
        while steps.waiting:
            services.run_step(ledger, steps, tools, *steps.waiting.pop(0), lambda: 60_000, lambda: int(time.time()))
        assert "Scan" in dynamodb_calls.calls
        used = needed(dynamodb_calls.calls, dynamodb_calls.transacted)
        assert used <= granted_on_table("JobsFunction"), dynamodb_calls.calls
