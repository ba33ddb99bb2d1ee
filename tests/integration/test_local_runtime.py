"""The local runtime behaves as Lambda does with what template.yaml sets: timeouts, instances, event source
mappings (filters, batches, partial failures, bisection, retries, on-failure destinations), SQS redrive to the
dead-letter queue, and asynchronous invocations retried then kept. The handlers are in parity_functions.py."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from blockhours_dev import failed_records, template
from blockhours_dev.local_invoke import AsyncInvocations
from blockhours_dev.local_lambda import LocalLambda
from blockhours_dev.local_streams import Destinations, QueuePump, StreamPump


def probe(handler: str, timeout: int = 10, **extra: Any) -> dict[str, template.FunctionSpec]:
    spec = template.FunctionSpec(
        name="Probe",
        handler=f"parity_functions.{handler}",
        timeout_seconds=timeout,
        memory_mb=128,
        environment={},
        **extra,
    )
    return {"Probe": spec}


@pytest.fixture
def calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PARITY_LOG", str(path))  # an instance takes the environment it is started with
    return path


def logged(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def wait_until(check: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds} s for {what}")
        time.sleep(0.05)


@pytest.fixture
def runtime_for() -> Iterator[Callable[[dict[str, template.FunctionSpec]], LocalLambda]]:
    started: list[LocalLambda] = []

    def start(specs: dict[str, template.FunctionSpec]) -> LocalLambda:
        started.append(LocalLambda(specs, {}))
        return started[-1]

    yield start
    for runtime in started:
        runtime.stop()


def test_an_invocation_past_its_timeout_fails_as_lambdas_does_and_takes_its_instance_with_it(
    calls: Path, runtime_for: Callable[[dict[str, template.FunctionSpec]], LocalLambda]
) -> None:
    runtime = runtime_for(probe("slow", timeout=1))
    assert runtime.invoke("Probe", {}).payload["calls"] == 1

    late = runtime.invoke("Probe", {"seconds": 30})

    assert late.error is not None and late.error["errorType"] == "Sandbox.Timedout"
    assert late.error["errorMessage"].endswith("Task timed out after 1.00 seconds")
    after = runtime.invoke("Probe", {})
    assert after.payload["calls"] == 1, "a new instance: the one that timed out was stopped with its state"
    assert 0 < after.payload["remaining_ms_at_start"] <= 1000, "the context counts down the function's Timeout"
    assert [c["calls"] for c in logged(calls)] == [1, 1], "the invocation that timed out never finished"


def test_invocations_of_one_function_run_at_once_each_in_an_instance_of_its_own(
    calls: Path, runtime_for: Callable[[dict[str, template.FunctionSpec]], LocalLambda]
) -> None:
    runtime = runtime_for(probe("slow"))

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda _: runtime.invoke("Probe", {"seconds": 1}), range(4)))

    answers = [o.payload for o in outcomes]
    assert len({a["pid"] for a in answers}) == 4 and [a["calls"] for a in answers] == [1, 1, 1, 1]
    starts, ends = [a["started_at"] for a in answers], [a["ended_at"] for a in answers]
    assert max(starts) < min(ends), "all four ran at the same time"


def test_a_redeployed_function_starts_new_instances_with_the_environment_of_then(
    calls: Path, runtime_for: Callable[[dict[str, template.FunctionSpec]], LocalLambda]
) -> None:
    runtime = runtime_for(probe("slow"))
    before = runtime.invoke("Probe", {}).payload

    runtime.redeploy()
    after = runtime.invoke("Probe", {}).payload

    assert after["pid"] != before["pid"] and after["calls"] == 1
    assert runtime.functions["Probe"].instances_started == 2


def test_an_instance_that_died_while_idle_is_replaced_not_invoked(
    calls: Path, runtime_for: Callable[[dict[str, template.FunctionSpec]], LocalLambda]
) -> None:
    runtime = runtime_for(probe("slow"))
    first = runtime.invoke("Probe", {}).payload
    os.kill(first["pid"], signal.SIGKILL)
    wait_until(lambda: not alive(first["pid"]), "the instance to be gone")

    again = runtime.invoke("Probe", {})

    assert not again.failed and again.payload["pid"] != first["pid"] and again.payload["calls"] == 1


def alive(pid: int) -> bool:
    """Whether the process exists (the fork server, its parent, reaps it once it has exited)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_an_unhandled_error_is_lambdas_error_document_and_the_instance_serves_again(
    calls: Path, runtime_for: Callable[[dict[str, template.FunctionSpec]], LocalLambda]
) -> None:
    runtime = runtime_for(probe("failing"))

    first, second = runtime.invoke("Probe", {"n": 1}), runtime.invoke("Probe", {"n": 2})

    assert first.error is not None and first.error["errorType"] == "RuntimeError"
    assert first.error["errorMessage"] == "this function always fails" and second.failed
    assert runtime.functions["Probe"].instances_started == 1


# --- event source mappings and asynchronous invocations, on the embedded AWS ------------------------------


@pytest.fixture
def stream_table(aws_endpoint: str) -> str:
    name = f"parity-{time.monotonic_ns()}"
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return name


@pytest.fixture
def failed_queue(aws_endpoint: str) -> str:
    return boto3.client("sqs").create_queue(QueueName=f"failed-{time.monotonic_ns()}")["QueueUrl"]


def kept(queue_url: str) -> list[dict[str, Any]]:
    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


FAILED = template.Destination("SQS", "Failed")


@dataclass
class Streamed:
    """A table with a stream, the `stream` probe as its function, and a queue and a bucket to give up to."""

    calls: Path
    table: str
    failed_queue: str
    bucket: str
    runtime: LocalLambda

    def put(self, pk: str, **attributes: str) -> None:
        item = {"pk": {"S": pk}, **{k: {"S": v} for k, v in attributes.items()}}
        boto3.client("dynamodb").put_item(TableName=self.table, Item=item)

    def run(self, until: Callable[[StreamPump], bool], what: str, **trigger: Any) -> StreamPump:
        """The mapping, polling until `until` holds, then stopped."""
        destinations = Destinations({"Failed": self.failed_queue}, {"Kept": self.bucket})
        mapping = template.StreamTrigger(function="Probe", **trigger)
        stream = StreamPump(self.runtime, mapping, self.table, destinations, interval_seconds=0.05).start()
        try:
            wait_until(lambda: until(stream), what)
        finally:
            stream.stop()
        return stream

    def batches(self) -> list[list[str]]:
        return [c["batch"] for c in logged(self.calls)]


@pytest.fixture
def streamed(
    calls: Path,
    stream_table: str,
    failed_queue: str,
    runtime_for: Callable[[dict[str, template.FunctionSpec]], LocalLambda],
) -> Streamed:
    bucket = f"kept-{time.monotonic_ns()}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return Streamed(calls, stream_table, failed_queue, bucket, runtime_for(probe("stream")))


def test_a_stream_mapping_sends_only_what_its_filter_admits_in_batches_of_its_size(streamed: Streamed) -> None:
    for pk, kind in (("a", "keep-1"), ("b", "drop"), ("c", "keep-2"), ("d", "keep-3")):
        streamed.put(pk, kind=kind)
    streamed.put("e")  # no kind at all
    admit = json.dumps({"dynamodb": {"NewImage": {"kind": {"S": [{"prefix": "keep"}]}}}})

    stream = streamed.run(
        lambda _: sum(map(len, streamed.batches())) >= 3, "the admitted records", batch_size=2, patterns=(admit,)
    )

    assert streamed.batches() == [["a", "c"], ["d"]]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in stream.dropped] == ["b", "e"]


def test_a_reported_failure_is_retried_from_that_record_then_kept_at_the_destination(streamed: Streamed) -> None:
    streamed.put("a")
    streamed.put("b", poison="yes")
    streamed.put("c")

    streamed.run(
        lambda s: bool(s.destinations.kept),
        "the batch to be given up",
        maximum_retry_attempts=2,
        report_item_failures=True,
        on_failure=FAILED,
    )

    assert streamed.batches() == [["a", "b", "c"], ["b", "c"], ["b", "c"]]  # 1 try, 2 retries
    [record] = kept(streamed.failed_queue)
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["DDBStreamBatchInfo"]["batchSize"] == 2
    assert "payload" not in record, "a queue gets the batch's description, not the records"


def test_a_failed_batch_is_split_until_the_record_that_fails_is_alone_and_the_rest_go_through(
    streamed: Streamed,
) -> None:
    streamed.put("a")
    streamed.put("b", fail_all="yes")
    streamed.put("c")

    stream = streamed.run(
        lambda _: ["c"] in streamed.batches(),
        "the record after the bad one",
        maximum_retry_attempts=2,
        bisect_on_error=True,
        on_failure=FAILED,
    )

    assert streamed.batches() == [["a", "b", "c"], ["a"], ["b", "c"], ["b"], ["b"], ["c"]]
    [record] = kept(streamed.failed_queue)
    assert record["DDBStreamBatchInfo"]["batchSize"] == 1
    assert stream.destinations.kept == [{**record, "payload": stream.destinations.kept[0]["payload"]}]


def test_a_batch_given_up_to_a_bucket_is_kept_whole_where_the_runbook_replays_it_from(streamed: Streamed) -> None:
    s3 = boto3.client("s3")
    streamed.put("a", fail_all="yes")

    stream = streamed.run(
        lambda _: bool(s3.list_objects_v2(Bucket=streamed.bucket).get("Contents")),
        "the kept object",
        maximum_retry_attempts=0,
        on_failure=template.Destination("S3", "Kept"),
    )

    [kept_object] = s3.list_objects_v2(Bucket=streamed.bucket)["Contents"]
    assert kept_object["Key"].startswith(f"aws/lambda/{stream.mapping_uuid}/")
    body = s3.get_object(Bucket=streamed.bucket, Key=kept_object["Key"])["Body"].read().decode()
    replay = failed_records.batch_event(body)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in replay["Records"]] == ["a"]
    assert json.loads(body)["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_a_message_received_max_receive_count_times_moves_to_the_dead_letter_queue(
    calls: Path, aws_endpoint: str, runtime_for: Callable[[dict[str, template.FunctionSpec]], LocalLambda]
) -> None:
    sqs = boto3.client("sqs")
    dead = sqs.create_queue(QueueName=f"dead-{time.monotonic_ns()}")["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": "2"})
    queue = sqs.create_queue(
        QueueName=f"work-{time.monotonic_ns()}", Attributes={"VisibilityTimeout": "1", "RedrivePolicy": redrive}
    )["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="refund r-1")
    runtime = runtime_for(probe("failing"))

    worker = QueuePump(runtime, template.QueueTrigger("Probe", "Work", maximum_concurrency=2), queue).start()
    try:
        wait_until(lambda: bool(sqs.receive_message(QueueUrl=dead, VisibilityTimeout=0).get("Messages")), "the DLQ")
    finally:
        worker.stop()

    assert [c["event"]["Records"][0]["body"] for c in logged(calls)] == ["refund r-1", "refund r-1"]


def test_an_asynchronous_invocation_is_tried_three_times_then_kept_with_its_payload(
    calls: Path, failed_queue: str, runtime_for: Callable[[dict[str, template.FunctionSpec]], LocalLambda]
) -> None:
    runtime = runtime_for(probe("failing", async_on_failure=template.Destination("SQS", "Failed")))
    invocations = AsyncInvocations(runtime, Destinations({"Failed": failed_queue}, {}), delays=(0.05,))

    invocations.submit("Probe", {"job": "reconcile"})
    wait_until(lambda: bool(invocations.destinations.kept), "the invocation to be given up")
    invocations.stop()

    assert [c["event"] for c in logged(calls)] == [{"job": "reconcile"}] * 3
    [record] = kept(failed_queue)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"] == {"job": "reconcile"}
    assert record["responsePayload"]["errorMessage"] == "this function always fails"


def test_a_dead_letter_queue_gets_the_event_itself_after_the_retries(
    calls: Path, failed_queue: str, runtime_for: Callable[[dict[str, template.FunctionSpec]], LocalLambda]
) -> None:
    """The older DeadLetterQueue (the daily run's): the scheduler's event, not Lambda's record of the invocation."""
    runtime = runtime_for(probe("failing", async_on_failure=FAILED, dead_letter=True))
    invocations = AsyncInvocations(runtime, Destinations({"Failed": failed_queue}, {}), delays=(0.05,))

    invocations.submit("Probe", {"source": "aws.scheduler"})
    wait_until(lambda: bool(invocations.destinations.kept), "the event to be kept")
    invocations.stop()

    assert kept(failed_queue) == [{"source": "aws.scheduler"}]
