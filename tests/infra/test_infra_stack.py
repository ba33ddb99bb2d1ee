"""template.yaml's wiring: settings, queues, the schedule, alarms, and the storefront in front of the API."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from blockhours import config
from blockhours_dev.template import function_statements, http_routes, load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = {name: r for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}
GLOBAL_ENV: dict[str, Any] = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
ALARMS = {name: r["Properties"] for name, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}

# CloudFront's managed cache and origin request policies.
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"  # its cache key takes Accept-Encoding: gzip and br
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def _timeout(name: str) -> int:
    return int(FUNCTIONS[name]["Properties"].get("Timeout", TEMPLATE["Globals"]["Function"]["Timeout"]))


def _event(name: str, kind: str) -> dict[str, Any]:
    (event,) = [e["Properties"] for e in FUNCTIONS[name]["Properties"]["Events"].values() if e["Type"] == kind]
    return event


def test_every_required_setting_is_in_the_functions_environment() -> None:
    required = {
        variable
        for settings in config.ALL_SETTINGS
        # the secrets come from the SSM parameters that the *_PARAMETER variables name; the jobs function's name is
        # given to the two functions that start jobs (test_the_api_and_the_jobs_name_the_jobs_function), the site
        # bucket to the missing-page function alone (tests/unit/test_config.py starts each with its own environment)
        if settings not in (config.StripeSettings, config.LinkSettings, config.JobSettings, config.SiteBucketSettings)
        for variable in config.required_variables(settings)
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


def test_every_function_knows_the_shops_time_zone() -> None:
    """ShopTimeZone times the daily run; the functions date emails, pages and bills in the same zone."""
    overridden = [n for n, f in FUNCTIONS.items() if "BLOCKHOURS_TIME_ZONE" in _own_environment(f)]

    assert GLOBAL_ENV["BLOCKHOURS_TIME_ZONE"] == {"Ref": "ShopTimeZone"}
    assert overridden == []
    assert _event("SweepFunction", "ScheduleV2")["ScheduleExpressionTimezone"] == {"Ref": "ShopTimeZone"}


def _own_environment(function: dict[str, Any]) -> dict[str, Any]:
    variables: dict[str, Any] = function["Properties"].get("Environment", {}).get("Variables", {})
    return variables


def test_the_api_and_the_jobs_name_the_jobs_function() -> None:
    """Set per function, not globally: only the API and the jobs themselves start a job."""
    jobs = {"Fn::Sub": "${AWS::StackName}-jobs"}
    named = {
        name
        for name, function in FUNCTIONS.items()
        if "BLOCKHOURS_JOBS_FUNCTION" in function["Properties"].get("Environment", {}).get("Variables", {})
    }

    assert named == {"ApiFunction", "JobsFunction"}
    for name in named:
        assert FUNCTIONS[name]["Properties"]["Environment"]["Variables"]["BLOCKHOURS_JOBS_FUNCTION"] == jobs
    assert FUNCTIONS["JobsFunction"]["Properties"]["FunctionName"] == jobs


def test_the_jobs_are_invoked_asynchronously_retried_twice_and_kept_when_they_fail() -> None:
    """No queue to poll (an idle SQS event source makes ~650k requests a month); Lambda's own retries instead."""
    from blockhours.domain.jobs import STALLED_AFTER_SECONDS
    from blockhours.services import jobs

    properties = FUNCTIONS["JobsFunction"]["Properties"]
    invoke = properties["EventInvokeConfig"]

    assert properties["Handler"] == "blockhours.handlers.jobs.handler"
    assert "Events" not in properties
    assert invoke["MaximumRetryAttempts"] == jobs.MAX_ATTEMPTS - 1 == 2
    assert invoke["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]},
    }
    # every try of a step starts before the event's age runs out; a job seen idle past that has stopped
    assert invoke["MaximumEventAgeInSeconds"] + _timeout("JobsFunction") < STALLED_AFTER_SECONDS
    assert _timeout("JobsFunction") * 1000 > 4 * jobs.SAFETY_MS


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
    assert stream["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["FailedRecordsBucket", "Arn"]}


def _alarmed_metrics(alarm: dict[str, Any]) -> list[tuple[str, str, Any]]:
    stats = [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m] or [alarm]
    return [(s["Namespace"], s["MetricName"], s.get("Dimensions", [])) for s in stats]


WATCHED = {
    (ns, name, json.dumps(dims, sort_keys=True)) for a in ALARMS.values() for ns, name, dims in _alarmed_metrics(a)
}


def _dims(name: str, value: Any) -> str:
    return json.dumps([{"Name": name, "Value": value}], sort_keys=True)


def test_the_alarms_read_at_most_the_ten_metrics_cloudwatch_gives_free() -> None:
    """An alarm is billed per metric it reads, a metric-math alarm for each of its metrics."""
    read = [metric for alarm in ALARMS.values() for metric in _alarmed_metrics(alarm)]

    assert len(read) <= 10
    assert all("Expression" not in m for a in ALARMS.values() for m in a.get("Metrics", []))


def test_what_fails_quietly_is_alarmed() -> None:
    service = _dims("service", "blockhours")

    assert ("AWS/ApiGateway", "5xx", _dims("ApiId", {"Ref": "HttpApi"})) in WATCHED  # every API function's crash
    assert ("Blockhours", "WebhookRejected", service) in WATCHED  # a wrong signing secret refuses every delivery
    assert ("Blockhours", "RefundFailed", service) in WATCHED
    assert ("AWS/Lambda", "IteratorAge", _dims("FunctionName", {"Ref": "OutboxFunction"})) in WATCHED
    refund_queue = _dims("QueueName", {"Fn::GetAtt": ["RefundQueue", "QueueName"]})
    assert ("AWS/SQS", "ApproximateAgeOfOldestMessage", refund_queue) in WATCHED
    for queue in ("RefundDeadLetterQueue", "FailedEventsQueue"):
        visible = _dims("QueueName", {"Fn::GetAtt": [queue, "QueueName"]})
        assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", visible) in WATCHED
    assert {("AWS/SES", "Reputation.BounceRate", "[]"), ("AWS/SES", "Reputation.ComplaintRate", "[]")} <= WATCHED


def test_mail_reputation_alarms_fire_where_aws_starts_a_review() -> None:
    """AWS reviews a sending account at a 5% bounce or a 0.1% complaint rate; the metrics are fractions."""
    thresholds = {a["MetricName"]: a["Threshold"] for a in ALARMS.values() if a.get("Namespace") == "AWS/SES"}

    assert thresholds == {"Reputation.BounceRate": 0.05, "Reputation.ComplaintRate": 0.001}


def test_every_alarm_says_what_to_do() -> None:
    verbs = ("read", "run", "fix", "open", "store", "resend", "ask", "redrive", "correct")
    vague = [
        name
        for name, alarm in ALARMS.items()
        if not any(verb in alarm["AlarmDescription"].lower() for verb in verbs) or len(alarm["AlarmDescription"]) < 80
    ]

    assert vague == []


def test_the_custom_metrics_are_few_enough_to_be_free() -> None:
    """CloudWatch gives 10 custom metrics free; each metric name the code emits is one (one dimension, service)."""
    code = "\n".join(p.read_text(encoding="utf-8") for p in (REPO_ROOT / "functions" / "blockhours").rglob("*.py"))
    calls = re.findall(r"add_metric\(", code)
    names = set(re.findall(r"add_metric\(\s*name=\"([A-Za-z]+)\"", code))
    guide = (REPO_ROOT / "infra" / "README.md").read_text(encoding="utf-8")

    assert len(calls) == len(re.findall(r"add_metric\(\s*name=\"[A-Za-z]+\"", code)), "every metric name is a literal"
    assert len(names) <= 10
    assert {"WebhookRejected", "RefundFailed"} <= names
    assert [name for name in sorted(names) if f"`{name}`" not in guide] == []


def test_a_failed_stream_batch_is_kept_whole_in_a_private_bucket_and_announced() -> None:
    bucket = RESOURCES["FailedRecordsBucket"]
    properties = bucket["Properties"]
    (expiry,) = properties["LifecycleConfiguration"]["Rules"]
    (deny,) = RESOURCES["FailedRecordsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (notify,) = properties["NotificationConfiguration"]["TopicConfigurations"]

    assert bucket["DeletionPolicy"] == "Retain"
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert expiry["Status"] == "Enabled" and 365 <= expiry["ExpirationInDays"] <= 800
    assert (deny["Effect"], deny["Action"], deny["Condition"]) == (
        "Deny",
        "s3:*",
        {"Bool": {"aws:SecureTransport": "false"}},
    )
    assert notify == {"Event": "s3:ObjectCreated:*", "Topic": {"Ref": "AlarmTopic"}}


def test_the_alarm_topic_takes_messages_from_this_accounts_alarms_and_the_failed_records_bucket() -> None:
    statements = RESOURCES["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    by_service = {s["Principal"]["Service"]: s for s in statements}
    bucket_name = RESOURCES["FailedRecordsBucket"]["Properties"]["BucketName"]["Fn::Sub"]
    from_bucket = by_service["s3.amazonaws.com"]["Condition"]

    assert RESOURCES["FailedRecordsBucket"]["DependsOn"] == "AlarmTopicPolicy"
    assert set(by_service) == {"cloudwatch.amazonaws.com", "s3.amazonaws.com"}
    assert all(s["Action"] == "sns:Publish" and s["Resource"] == {"Ref": "AlarmTopic"} for s in statements)
    assert all(s["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}} for s in statements)
    # the topic policy names the bucket before it exists, by the same expression as its BucketName
    source = from_bucket["ArnEquals"]["aws:SourceArn"]["Fn::Sub"]
    assert source[0] == "arn:${AWS::Partition}:s3:::" + bucket_name[0] and source[1] == bucket_name[1]


def test_the_outbox_may_write_failed_batches_only_to_that_bucket() -> None:
    (grant,) = [s for s in function_statements("OutboxFunction", TEMPLATE) if "s3:PutObject" in s["Action"]]

    assert sorted(grant["Action"]) == ["s3:ListBucket", "s3:PutObject"]  # what Lambda needs for an S3 destination
    assert grant["Resource"] == [
        {"Fn::GetAtt": ["FailedRecordsBucket", "Arn"]},
        {"Fn::Sub": "${FailedRecordsBucket.Arn}/*"},
    ]
    assert grant["Condition"] == {"StringEquals": {"s3:ResourceAccount": {"Ref": "AWS::AccountId"}}}
    outbox_sends = [s for s in function_statements("OutboxFunction", TEMPLATE) if "sqs:SendMessage" in s["Action"]]
    assert [s["Resource"] for s in outbox_sends] == [{"Fn::GetAtt": ["RefundQueue", "Arn"]}]


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

    (pages,) = distribution["OriginGroups"]["Items"]
    assert default["TargetOriginId"] == pages["Id"]
    assert origins[pages["Members"]["Items"][0]["OriginId"]]["OriginAccessControlId"] == {
        "Fn::GetAtt": ["SiteOriginAccessControl", "Id"]
    }
    assert "${HttpApi}.execute-api." in origins[api["TargetOriginId"]]["DomainName"]["Fn::Sub"]
    assert (api["CachePolicyId"], api["OriginRequestPolicyId"]) == (CACHING_DISABLED, ALL_VIEWER_EXCEPT_HOST_HEADER)
    assert {"GET", "POST"} <= set(api["AllowedMethods"])
    assert {default["ViewerProtocolPolicy"], api["ViewerProtocolPolicy"]} <= {"redirect-to-https", "https-only"}
    # Custom error pages would replace the API's JSON errors too: the distribution has none.
    assert "CustomErrorResponses" not in distribution


def test_cloudfront_compresses_the_site_as_blockhours_dev_does() -> None:
    """The shop page's weight (docs/performance.md) is measured compressed: the distribution must compress too."""
    default = RESOURCES["SiteDistribution"]["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]

    assert default["Compress"] is True
    # Brotli and gzip need a cache policy that enables them; the managed CachingOptimized does.
    assert default["CachePolicyId"] == CACHING_OPTIMIZED


def test_a_missing_page_falls_over_to_the_sites_404_page_and_the_api_keeps_its_own_answers() -> None:
    distribution = RESOURCES["SiteDistribution"]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in distribution["Origins"]}
    (pages,) = distribution["OriginGroups"]["Items"]
    primary, secondary = (member["OriginId"] for member in pages["Members"]["Items"])
    (api,) = [b for b in distribution["CacheBehaviors"] if b["PathPattern"] == "/api/*"]
    function = FUNCTIONS["MissingPageFunction"]["Properties"]
    oac = RESOURCES["MissingPageOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    grants = [r["Properties"] for r in RESOURCES.values() if r["Type"] == "AWS::Lambda::Permission"]
    (read,) = [s for s in function_statements("MissingPageFunction", TEMPLATE) if s["Action"] == ["s3:GetObject"]]

    assert distribution["DefaultCacheBehavior"]["TargetOriginId"] == pages["Id"]
    assert "S3OriginConfig" in origins[primary] and primary != api["TargetOriginId"]
    # the bucket answers a key it does not have with 403 (CloudFront may not list it), or 404 if ever allowed to
    assert sorted(pages["FailoverCriteria"]["StatusCodes"]["Items"]) == [403, 404]
    assert origins[secondary]["DomainName"] == {
        "Fn::Select": [2, {"Fn::Split": ["/", {"Fn::GetAtt": ["MissingPageFunctionUrl", "FunctionUrl"]}]}]
    }
    assert origins[secondary]["OriginAccessControlId"] == {"Fn::GetAtt": ["MissingPageOriginAccessControl", "Id"]}
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"]) == ("lambda", "always")
    assert function["FunctionUrlConfig"] == {"AuthType": "AWS_IAM"}
    assert function["Handler"] == "blockhours.handlers.missing_page.handler"
    assert function["Environment"]["Variables"]["BLOCKHOURS_SITE_BUCKET"] == {"Ref": "SiteBucket"}
    assert read["Resource"] == {"Fn::Sub": "${SiteBucket.Arn}/404.html"}
    assert sorted(g["Action"] for g in grants if g["FunctionName"] == {"Ref": "MissingPageFunction"}) == [
        "lambda:InvokeFunction",
        "lambda:InvokeFunctionUrl",
    ]
    for grant in grants:
        assert grant["Principal"] == "cloudfront.amazonaws.com"
        assert grant["SourceArn"]["Fn::Sub"].endswith(":distribution/${SiteDistribution}")


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
