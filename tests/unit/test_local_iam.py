"""The local stack's IAM check: a call is allowed only when a statement of the calling function's role in
template.yaml names both its action and the resource it acts on."""

from __future__ import annotations

import json
from pathlib import Path

from blockhours_dev import local_iam, template

TEMPLATE = template.load_template()
TABLE = "arn:aws:dynamodb:us-east-1:000000000000:table/ledger"
REFS = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "000000000000",
    "AWS::StackName": "blockhours-local",
    "LedgerTable": "ledger",
    "LedgerTable.Arn": TABLE,
    "RefundQueue": "http://sqs/refunds",
    "RefundQueue.Arn": "arn:aws:sqs:us-east-1:000000000000:refunds",
    "MailFrom": "help@shop.example",
}


def recorded(tmp_path: Path, *entries: dict[str, object]) -> list[local_iam.Call]:
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    return local_iam.calls(path, REFS)


def call(function: str, service: str, operation: str, **params: object) -> dict[str, object]:
    return {"function": function, "service": service, "operation": operation, "params": params}


def test_a_call_the_role_grants_passes_and_one_it_does_not_is_named(tmp_path: Path) -> None:
    calls = recorded(
        tmp_path,
        call("SweepFunction", "dynamodb", "Query", TableName="ledger", IndexName="chores"),
        call("CheckoutFunction", "dynamodb", "Query", TableName="ledger", IndexName="chores"),
        call("OutboxFunction", "sqs", "SendMessage", QueueUrl="http://sqs/refunds"),
        call("CheckoutFunction", "sqs", "SendMessage", QueueUrl="http://sqs/refunds"),
    )

    assert local_iam.denied(calls, TEMPLATE, REFS) == [
        local_iam.Call("CheckoutFunction", "dynamodb:Query", f"{TABLE}/index/chores"),
        local_iam.Call("CheckoutFunction", "sqs:SendMessage", REFS["RefundQueue.Arn"]),
    ]


def test_each_write_of_a_transaction_needs_its_own_action(tmp_path: Path) -> None:
    calls = recorded(
        tmp_path,
        call("CheckoutFunction", "dynamodb", "TransactWriteItems", items=[["Put", "ledger"], ["Update", "ledger"]]),
    )

    assert local_iam.denied(calls, TEMPLATE, REFS) == [local_iam.Call("CheckoutFunction", "dynamodb:UpdateItem", TABLE)]


def test_mail_may_leave_only_from_the_shops_address(tmp_path: Path) -> None:
    calls = recorded(
        tmp_path,
        call("OutboxFunction", "ses", "SendEmail", FromEmailAddress="help@shop.example"),
        call("OutboxFunction", "ses", "SendEmail", FromEmailAddress="someone@else.example"),
    )

    assert [c.resource for c in local_iam.denied(calls, TEMPLATE, REFS)] == [
        "arn:aws:ses:us-east-1:000000000000:identity/someone@else.example"
    ]


def test_a_batch_read_is_authorised_on_each_table_it_reads(tmp_path: Path) -> None:
    calls = recorded(tmp_path, call("RefundWorkerFunction", "dynamodb", "BatchGetItem", tables=["ledger"]))
    assert calls == [local_iam.Call("RefundWorkerFunction", "dynamodb:BatchGetItem", TABLE)]
    assert local_iam.denied(calls, TEMPLATE, REFS) == []
