"""template.yaml's wiring: settings, queues, the schedule, alarms, and the storefront in front of the API."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from blockhours import config
from blockhours.template import http_routes, load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = {name: r for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}
GLOBAL_ENV: dict[str, Any] = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
ALARMS = {name: r["Properties"] for name, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}

# CloudFront's managed cache and origin request policies.
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def _timeout(name: str) -> int:
    return int(FUNCTIONS[name]["Properties"].get("Timeout", TEMPLATE["Globals"]["Function"]["Timeout"]))


def _event(name: str, kind: str) -> dict[str, Any]:
    (event,) = [e["Properties"] for e in FUNCTIONS[name]["Properties"]["Events"].values() if e["Type"] == kind]
    return event


def test_every_required_setting_is_in_the_functions_environment() -> None:
    required = {
        str(field.validation_alias)
        for settings in config._Env.__subclasses__()
        # the secrets come from the SSM parameters that the *_PARAMETER variables name
        if settings not in (config.StripeSettings, config.LinkSettings)
        for field in settings.model_fields.values()
        if field.is_required()
    }

    assert required - set(GLOBAL_ENV) == set()
    assert GLOBAL_ENV["BLOCKHOURS_REFUND_QUEUE_URL"] == {"Ref": "RefundQueue"}
    assert GLOBAL_ENV["BLOCKHOURS_OWNER_EMAIL"] == {"Ref": "OwnerEmail"}, "shop alerts go to the owner"
    assert GLOBAL_ENV["BLOCKHOURS_STRIPE_API_KEY_PARAMETER"] == {"Fn::Sub": "${SecretsPath}/stripe-api-key"}
    assert GLOBAL_ENV["BLOCKHOURS_LINK_SECRET_PARAMETER"] == {"Fn::Sub": "${SecretsPath}/link-secret"}


def test_no_function_environment_holds_a_secret() -> None:
    environments = [GLOBAL_ENV] + [
        f["Properties"].get("Environment", {}).get("Variables", {}) for f in FUNCTIONS.values()
    ]

    assert [v for env in environments for v in env if v in config.SECRET_PARAMETERS] == []
    assert not any(p.get("NoEcho") for p in TEMPLATE["Parameters"].values()), "no secret passes through the template"


def test_a_monthly_budget_tells_the_owner_at_80_percent_spent_and_at_100_percent_forecast() -> None:
    (budget,) = [r["Properties"] for r in RESOURCES.values() if r["Type"] == "AWS::Budgets::Budget"]
    alerts = {
        (n["Notification"]["NotificationType"], n["Notification"]["ComparisonOperator"], n["Notification"]["Threshold"])
        for n in budget["NotificationsWithSubscribers"]
    }
    parameter = TEMPLATE["Parameters"]["MonthlyBudgetUsd"]

    assert (budget["Budget"]["BudgetType"], budget["Budget"]["TimeUnit"]) == ("COST", "MONTHLY")
    assert budget["Budget"]["BudgetLimit"] == {"Amount": {"Ref": "MonthlyBudgetUsd"}, "Unit": "USD"}
    assert (parameter["Type"], parameter["Default"]) == ("Number", 5)
    assert alerts == {("ACTUAL", "GREATER_THAN", 80), ("FORECASTED", "GREATER_THAN", 100)}
    assert all(
        n["Subscribers"] == [{"SubscriptionType": "EMAIL", "Address": {"Ref": "OwnerEmail"}}]
        for n in budget["NotificationsWithSubscribers"]
    )


def test_the_ledger_is_backed_up_monthly_and_each_copy_kept_a_year() -> None:
    (rule,) = RESOURCES["LedgerBackupPlan"]["Properties"]["BackupPlan"]["BackupPlanRule"]
    selection = RESOURCES["LedgerBackupSelection"]["Properties"]["BackupSelection"]

    assert rule["ScheduleExpression"] == "cron(0 5 1 * ? *)"
    assert rule["Lifecycle"] == {"DeleteAfterDays": 365}
    assert rule["TargetBackupVault"] == {"Ref": "LedgerBackupVault"}
    assert selection["Resources"] == [{"Fn::GetAtt": ["LedgerTable", "Arn"]}]
    assert RESOURCES["LedgerBackupVault"]["DeletionPolicy"] == "Retain"


def test_the_refund_queue_outlasts_the_worker_and_gives_up_into_its_dead_letter_queue() -> None:
    queue = RESOURCES["RefundQueue"]["Properties"]
    dead_letters = RESOURCES["RefundDeadLetterQueue"]["Properties"]
    event = _event("RefundWorkerFunction", "SQS")

    assert queue["VisibilityTimeout"] >= 6 * _timeout("RefundWorkerFunction")
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["RefundDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }
    # A standard queue's dead letter keeps its first enqueue time: the DLQ must keep messages longer.
    assert dead_letters["MessageRetentionPeriod"] == 14 * 86_400 > queue["MessageRetentionPeriod"]
    assert event["Queue"] == {"Fn::GetAtt": ["RefundQueue", "Arn"]}
    assert (event["BatchSize"], event["FunctionResponseTypes"]) == (5, ["ReportBatchItemFailures"])
    assert all(
        q["Properties"].get("SqsManagedSseEnabled") for q in RESOURCES.values() if q["Type"] == "AWS::SQS::Queue"
    )


def test_the_sweep_runs_daily_on_eventbridge_scheduler() -> None:
    schedule = _event("SweepFunction", "ScheduleV2")

    assert FUNCTIONS["SweepFunction"]["Properties"]["Handler"] == "blockhours.handlers.sweep.handler"
    assert _timeout("SweepFunction") == 300
    assert schedule["ScheduleExpression"].startswith("cron(0 10 * * ? *")
    assert schedule["ScheduleExpressionTimezone"] == {"Ref": "ShopTimeZone"}
    assert schedule["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}}


def test_the_outbox_sees_refunds_and_keeps_what_it_gives_up_on() -> None:
    stream = _event("OutboxFunction", "DynamoDB")
    patterns = [json.loads(f["Pattern"]) for f in stream["FilterCriteria"]["Filters"]]

    assert len(patterns) <= 5  # Lambda's default limit of filters per event source mapping
    admitted = [
        {"type": "session"},
        {"type": "refund"},
        {"type": "debt"},  # notices, reminders, collections, back to prepay, paid
        {"type": "quote"},
        {"type": "alert"},  # a payment not credited
        {"type": "entry", "kind": "purchase"},
        {"type": "entry", "kind": "refund-failed"},
    ]
    for image in admitted:  # exact-value patterns, as these are: every field named must hold a listed value
        assert any(
            all(image.get(name) in values["S"] for name, values in p["dynamodb"]["NewImage"].items()) for p in patterns
        ), f"the outbox never sees {image}"
    assert stream["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}


def _alarmed_metrics(alarm: dict[str, Any]) -> list[tuple[str, str, Any]]:
    stats = [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m] or [alarm]
    return [(s["Namespace"], s["MetricName"], s.get("Dimensions", [])) for s in stats]


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_error_and_throttle_alarms(metric: str) -> None:
    watched = {
        dimensions[0]["Value"]["Ref"]
        for alarm in ALARMS.values()
        for namespace, name, dimensions in _alarmed_metrics(alarm)
        if (namespace, name) == ("AWS/Lambda", metric)
    }

    assert watched == set(FUNCTIONS)


def test_every_dead_letter_queue_the_api_5xx_and_failed_refunds_are_alarmed() -> None:
    watched = {
        (ns, name, json.dumps(dims, sort_keys=True)) for a in ALARMS.values() for ns, name, dims in _alarmed_metrics(a)
    }
    queues = {"RefundDeadLetterQueue", "FailedEventsQueue"}
    queue_alarms = {
        (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            json.dumps([{"Name": "QueueName", "Value": {"Fn::GetAtt": [q, "QueueName"]}}], sort_keys=True),
        )
        for q in queues
    }
    refunds_code = (REPO_ROOT / "functions" / "blockhours" / "handlers" / "refunds.py").read_text(encoding="utf-8")

    assert queue_alarms <= watched
    assert ("AWS/ApiGateway", "5xx", json.dumps([{"Name": "ApiId", "Value": {"Ref": "HttpApi"}}])) in watched
    assert ("Blockhours", "RefundFailed", json.dumps([{"Name": "service", "Value": "blockhours"}])) in watched
    assert '"RefundFailed"' in refunds_code


def test_every_alarm_tells_the_owner() -> None:
    topic = RESOURCES["AlarmTopic"]["Properties"]

    assert topic["Subscription"] == [{"Protocol": "email", "Endpoint": {"Ref": "OwnerEmail"}}]
    assert [name for name, alarm in ALARMS.items() if alarm["AlarmActions"] != [{"Ref": "AlarmTopic"}]] == []


def test_the_site_bucket_is_private_and_read_only_by_its_distribution() -> None:
    bucket = RESOURCES["SiteBucket"]["Properties"]
    statements = RESOURCES["SiteBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]

    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert [(s["Principal"], s["Action"]) for s in allows] == [
        ({"Service": "cloudfront.amazonaws.com"}, "s3:GetObject")
    ]
    assert "${SiteDistribution}" in allows[0]["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]


def test_cloudfront_serves_the_site_and_sends_api_to_the_http_api_uncached() -> None:
    distribution = RESOURCES["SiteDistribution"]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in distribution["Origins"]}
    (api,) = [b for b in distribution["CacheBehaviors"] if b["PathPattern"] == "/api/*"]
    default = distribution["DefaultCacheBehavior"]

    assert origins[default["TargetOriginId"]]["OriginAccessControlId"] == {
        "Fn::GetAtt": ["SiteOriginAccessControl", "Id"]
    }
    assert "${HttpApi}.execute-api." in origins[api["TargetOriginId"]]["DomainName"]["Fn::Sub"]
    assert (api["CachePolicyId"], api["OriginRequestPolicyId"]) == (CACHING_DISABLED, ALL_VIEWER_EXCEPT_HOST_HEADER)
    assert {"GET", "POST"} <= set(api["AllowedMethods"])
    assert {default["ViewerProtocolPolicy"], api["ViewerProtocolPolicy"]} <= {"redirect-to-https", "https-only"}
    # Custom error pages would replace the API's JSON errors too: the distribution has none.
    assert "CustomErrorResponses" not in distribution


def test_the_outputs_give_the_owner_the_urls_to_use() -> None:
    outputs = TEMPLATE["Outputs"]
    routes = {(r.method, r.path): r for r in http_routes(TEMPLATE)}

    urls = {"SiteUrl", "ApiUrl", "WebhookUrl", "SiteBucketName", "DistributionId"}
    assert urls | {"TechnicianPolicyArn", "OwnerPolicyArn"} <= set(outputs)
    assert outputs["WebhookUrl"]["Value"]["Fn::Sub"].endswith("/api/stripe/webhook")
    assert routes[("POST", "/api/stripe/webhook")].iam_auth is False


def _run_site_paths(*events: dict[str, Any]) -> list[dict[str, Any]]:
    code = RESOURCES["SitePathFunction"]["Properties"]["FunctionCode"]
    script = code + "\nconsole.log(JSON.stringify(JSON.parse(process.argv[1]).map(handler)));"
    node = shutil.which("node")
    assert node
    result = subprocess.run(
        [node, "-e", script, json.dumps(events)], capture_output=True, text=True, timeout=30, check=True
    )
    answers: list[dict[str, Any]] = json.loads(result.stdout)
    return answers


@pytest.mark.skipif(shutil.which("node") is None, reason="node runs the CloudFront function's JavaScript")
def test_the_cloudfront_function_maps_directory_urls_to_mkdocs_pages() -> None:
    def request(uri: str, query: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"request": {"uri": uri, "querystring": query or {}}}

    root, page, asset, bare, bare_with_query = _run_site_paths(
        request("/"),
        request("/terms/"),
        request("/assets/shop.js"),
        request("/terms"),
        request(
            "/balance", {"t": {"value": "abc.def"}, "x": {"value": "1", "multiValue": [{"value": "1"}, {"value": "2"}]}}
        ),
    )

    assert (root["uri"], page["uri"], asset["uri"]) == ("/index.html", "/terms/index.html", "/assets/shop.js")
    assert bare["statusCode"] == 301 and bare["headers"]["location"]["value"] == "/terms/"
    assert bare_with_query["headers"]["location"]["value"] == "/balance/?t=abc.def&x=1&x=2"
