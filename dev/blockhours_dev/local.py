"""`blockhours dev`: the whole stack on one machine, offline: embedded AWS, the handlers, the site, Stripe."""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from werkzeug.exceptions import NotFound
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.utils import send_from_directory
from werkzeug.wrappers import Request, Response

from blockhours import catalog, config, wiring

from . import daily_preview, local_iam, template
from .embedded_aws import EmbeddedAWS
from .local_api import MAX_BODY_BYTES, STAFF_ARN, LambdaRoutes
from .local_compression import as_cloudfront_sends
from .local_data import KeptData, create_ledger_table
from .local_invoke import AsyncInvocations, invoke_api
from .local_lambda import LocalContext, LocalLambda
from .local_streams import Destinations, QueuePump, StreamPump, sent_mail
from .standin import StripeStandIn

REPO_ROOT = Path(__file__).resolve().parents[2]
STACK_NAME = "blockhours-local"
ACCOUNT = "000000000000"
REGION = "us-east-1"
log = logging.getLogger("blockhours.local")
__all__ = [
    "MAX_BODY_BYTES",
    "STAFF_ARN",
    "LambdaRoutes",
    "LocalContext",
    "LocalStack",
    "build_site",
    "sent_mail",
]


def build_site(root: Path, into: Path) -> Path | None:
    """Build the storefront with mkdocs into `into`; None when this checkout has no mkdocs.yml."""
    if not (root / "mkdocs.yml").exists():
        return None
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    subprocess.run(  # noqa: S603 - our own interpreter running mkdocs on our own config
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--quiet",
            "-f",
            str(root / "mkdocs.yml"),
            "-d",
            str(into),
        ],
        check=True,
        env=env,
        cwd=root,
    )
    return into


@dataclass
class LocalStack:
    """Embedded AWS (moto), the Lambda handlers behind one HTTP server, the site, and Stripe or its stand-in."""

    port: int = 8000
    host: str = "127.0.0.1"
    root: Path = REPO_ROOT
    with_site: bool = True
    table: str = "blockhours-local"
    standin: StripeStandIn | None = None
    site_dir: Path | None = None
    _server: BaseWSGIServer | None = None
    _moto: EmbeddedAWS | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _environ_before: dict[str, str] = field(default_factory=dict)
    print_mail: bool = False
    stripe_latency_ms: int = 0
    _pumps: list[StreamPump | QueuePump] = field(default_factory=list)
    _mail_printed: int = 0
    lambdas: LocalLambda | None = None
    _template: dict[str, Any] = field(default_factory=dict)
    _refs: dict[str, str] = field(default_factory=dict)
    async_invocations: AsyncInvocations | None = None
    destinations: Destinations | None = None
    data: KeptData | None = None  # `--data DIR`: the ledger, Stripe's stand-in and the keys outlive a stop

    @property
    def url(self) -> str:
        assert self._server is not None, "start the stack first"
        return f"http://{self.host}:{self._server.server_port}"

    @property
    def aws_endpoint(self) -> str:
        assert self._moto is not None, "start the stack first"
        return self._moto.endpoint

    def start(self) -> LocalStack:
        catalog_path = Path(os.environ.get("BLOCKHOURS_CATALOG") or self.root / "catalog.yaml").resolve()
        shop = catalog.load(catalog_path)  # a mistake in it stops the stack before anything starts
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every call it serves
        self._moto = EmbeddedAWS().start()
        self._server = make_server(self.host, self.port, self._app, threaded=True)
        self._configure_environment(catalog_path, shop)
        spec = template.load_template(self.root / "template.yaml")
        refs = self._create_resources(spec)
        self._template, self._refs = spec, refs
        if self.with_site:
            self.site_dir = build_site(self.root, self.root / ".build" / "site")
        self.lambdas = LocalLambda(template.functions(spec), refs)
        self.routes = LambdaRoutes(template.http_routes(spec), self.lambdas)
        self.async_invocations = AsyncInvocations(self.lambdas, self.destinations or Destinations({}, {}))
        thread = threading.Thread(target=self._server.serve_forever, name="blockhours-dev", daemon=True)
        thread.start()
        self._threads.append(thread)
        self._start_triggers(spec, refs)
        return self

    def stop_workers(self) -> None:
        """Stop the stream and queue pumps (benchmarks and tests that drive the worker themselves)."""
        for pump in self._pumps:
            pump.stop()
        self._pumps = []

    def aws_calls(self) -> list[local_iam.Call]:
        """Every AWS call the functions' instances made so far, as IAM authorises it: action and resource."""
        return local_iam.calls(Path(os.environ.get(local_iam.CALLS_FILE, "")), self._refs)

    def iam_denied(self) -> list[local_iam.Call]:
        """Every AWS call a function made that its role in template.yaml does not allow (IAM would refuse it)."""
        return local_iam.denied(self.aws_calls(), self._template, self._refs)

    def wait_until_settled(self, seconds: float = 30) -> None:
        """Until the queues are empty and every stream pump has read past what was written before: whatever
        earlier writes were going to cause (an email, a refund at Stripe) has happened by then."""
        sqs = boto3.client("sqs", endpoint_url=self.aws_endpoint)
        streams = [pump for pump in self._pumps if isinstance(pump, StreamPump)]
        queues = [pump.queue_url for pump in self._pumps if isinstance(pump, QueuePump)]

        def queues_empty() -> bool:
            for url in queues:
                got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
                if int(got["ApproximateNumberOfMessages"]) or int(got["ApproximateNumberOfMessagesNotVisible"]):
                    return False
            return True

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            since, quiet = time.monotonic(), queues_empty()
            while time.monotonic() < deadline and not all(pump.caught_up_at > since for pump in streams):
                time.sleep(0.05)  # the pumps poll every 200 ms
            if quiet and queues_empty():
                return
        raise TimeoutError(f"the stack was still busy after {seconds} s")

    def dropped_records(self) -> list[dict[str, Any]]:
        """Every stream record a mapping's FilterCriteria kept from its function, as Lambda would have."""
        return [record for pump in self._pumps if isinstance(pump, StreamPump) for record in pump.dropped]

    def stop(self) -> None:
        if self.data is not None and self._pumps:
            try:  # what the last writes started (an email, a queued refund) is done before the state is kept
                self.wait_until_settled(10)
            except TimeoutError:
                log.warning("stopped with work in flight: `blockhours requeue` sends refunds still waiting")
        for pump in self._pumps:
            pump.begin_stop()  # no new batches; the one in flight ends when its instance stops below
        if self.async_invocations is not None:
            self.async_invocations.stop()
        if self.lambdas is not None:
            self.lambdas.stop()
        self.stop_workers()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._moto is not None:
            self._moto.stop()
        if self.data is not None:
            self.data.close()
        if self._environ_before:
            os.environ.clear()
            os.environ.update(self._environ_before)
            wiring.reset()

    def _configure_environment(self, catalog_path: Path, shop: catalog.Catalog) -> None:
        env = os.environ
        self._environ_before = dict(env)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", *config.SECRET_PARAMETERS.values()):
            env.pop(name, None)
        # The embedded AWS takes any credentials; fixed fake ones keep a real account out of reach.
        env.update(
            AWS_ENDPOINT_URL=self.aws_endpoint,
            AWS_ENDPOINT_URL_LAMBDA=self.url,  # Lambda's Invoke API: the functions of the template, served here
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - moto's placeholder, not a secret
            AWS_REGION=REGION,
            AWS_DEFAULT_REGION=REGION,
            BLOCKHOURS_TABLE=self.table,
            BLOCKHOURS_SITE_URL=self.url,
        )
        calls = tempfile.NamedTemporaryFile(prefix="blockhours-aws-calls-", suffix=".jsonl", delete=False)  # noqa: SIM115
        calls.close()
        env[local_iam.CALLS_FILE] = calls.name
        env.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        env.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon listens on a laptop
        env.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # the terminal shows emails and problems; INFO for more
        env.setdefault("BLOCKHOURS_TIME_ZONE", "UTC")  # the template's ShopTimeZone default; set it to try another
        env["BLOCKHOURS_CATALOG"] = str(catalog_path)  # the site's build and every function read this one
        if "STRIPE_WEBHOOK_SECRET" not in env:
            env["STRIPE_WEBHOOK_SECRET"] = self._secret("STRIPE_WEBHOOK_SECRET", f"whsec_local_{secrets.token_hex(16)}")
        if "BLOCKHOURS_LINK_SECRET" not in env:
            env["BLOCKHOURS_LINK_SECRET"] = self._secret("BLOCKHOURS_LINK_SECRET", secrets.token_urlsafe(32))
        if "BLOCKHOURS_INTEGRATION_SECRETS" not in env:  # one long secret per tool in catalog.yaml's integrations
            fresh = json.dumps({source: secrets.token_urlsafe(32) for source in sorted(shop.integrations)})
            env["BLOCKHOURS_INTEGRATION_SECRETS"] = self._secret("BLOCKHOURS_INTEGRATION_SECRETS", fresh)
        shop_email = shop.shop.email
        env.setdefault("BLOCKHOURS_MAIL_FROM", shop_email)
        env.setdefault("BLOCKHOURS_OWNER_EMAIL", shop_email)  # deployed: the stack's OwnerEmail
        if not env.get("STRIPE_API_KEY") or env.get("BLOCKHOURS_STRIPE_API_BASE"):
            env["STRIPE_API_KEY"] = env.get("STRIPE_API_KEY") or "sk_test_local_standin"
            env["BLOCKHOURS_STRIPE_API_BASE"] = self.url
            self.standin = StripeStandIn(
                public_base=self.url,
                webhook_url=f"{self.url}/api/stripe/webhook",
                webhook_secret=env["STRIPE_WEBHOOK_SECRET"],
                latency_ms=self.stripe_latency_ms,
            )
            if self.data is not None and (kept := self.data.stripe()):
                self.standin.restore(kept)
        wiring.reset()

    def _secret(self, name: str, fresh: str) -> str:
        """A fresh secret, or with --data the one kept there (made and kept the first time)."""
        return self.data.secret(name, lambda: fresh) if self.data is not None else fresh

    def _create_resources(self, spec: dict[str, Any]) -> dict[str, str]:
        """The table, queues and buckets of the template in the embedded AWS; what each `Ref` and `GetAtt` names."""
        refs = {
            "AWS::StackName": STACK_NAME,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "SiteUrl": self.url,
            "MailFrom": os.environ["BLOCKHOURS_MAIL_FROM"],
        }
        assert self._moto is not None
        create_ledger_table(boto3.client("dynamodb"), self.table, template.table_definition(spec), self.data)
        if self.data is not None:
            self._moto.keep(self.table, self.data.record)
        refs["LedgerTable"] = self.table
        refs["LedgerTable.Arn"] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{self.table}"
        boto3.client("sesv2").create_email_identity(EmailIdentity=os.environ["BLOCKHOURS_MAIL_FROM"])
        queues = template.resources_of_type("AWS::SQS::Queue", spec)
        sqs = boto3.client("sqs")
        # Dead-letter queues first: a queue's redrive policy names its dead-letter queue's ARN.
        for name in sorted(queues, key=lambda n: "RedrivePolicy" in queues[n]):
            properties = queues[name]
            attributes: dict[Any, str] = {
                key: str(properties[key])
                for key in ("VisibilityTimeout", "MessageRetentionPeriod")
                if key in properties
            }
            if "RedrivePolicy" in properties:
                redrive = properties["RedrivePolicy"]
                target = refs[".".join(redrive["deadLetterTargetArn"]["Fn::GetAtt"])]
                attributes["RedrivePolicy"] = json.dumps(
                    {"deadLetterTargetArn": target, "maxReceiveCount": str(redrive["maxReceiveCount"])}
                )
            url = sqs.create_queue(QueueName=f"{STACK_NAME}-{name}", Attributes=attributes)["QueueUrl"]
            refs[name] = url
            refs[f"{name}.Arn"] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            refs[f"{name}.QueueName"] = f"{STACK_NAME}-{name}"
        buckets: dict[str, str] = {}
        for name in template.resources_of_type("AWS::S3::Bucket", spec):
            buckets[name] = refs[name] = f"{STACK_NAME}-{name}".lower()
            boto3.client("s3").create_bucket(Bucket=buckets[name])
            refs[f"{name}.Arn"] = f"arn:aws:s3:::{buckets[name]}"
        for name in template.functions(spec):
            declared = spec["Resources"][name]["Properties"].get("FunctionName")  # else Lambda makes one up
            physical = template.resolve(declared, refs) if declared is not None else name
            refs[name] = physical or name
            refs[f"{name}.Arn"] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{refs[name]}"
        os.environ["BLOCKHOURS_REFUND_QUEUE_URL"] = refs["RefundQueue"]
        self.destinations = Destinations({name: refs[name] for name in queues}, buckets)
        return refs

    def _start_triggers(self, spec: dict[str, Any], refs: dict[str, str]) -> None:
        assert self.lambdas is not None and self.destinations is not None
        for stream in template.stream_triggers(spec):
            on_batch = self._print_new_mail if self.print_mail else None
            self._pumps.append(
                StreamPump(self.lambdas, stream, self.table, self.destinations, on_batch=on_batch).start()
            )
        for queue in template.queue_triggers(spec):
            self._pumps.append(QueuePump(self.lambdas, queue, refs[queue.queue]).start())

    def _print_new_mail(self) -> None:
        mail = sent_mail()
        for message in mail[self._mail_printed :]:
            print(f"\n--- email to {', '.join(message.to)}: {message.subject}\n{message.body}", flush=True)
        self._mail_printed = len(mail)

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        path = request.path
        if path.startswith("/api/"):
            return self.routes(request)(environ, start_response)
        if path.startswith("/2015-03-31/functions/") and request.method == "POST":
            return invoke_api(request, self.lambdas, self.async_invocations)(environ, start_response)
        if path == "/_local/sweep" and request.method == "POST":
            return self._sweep(request)(environ, start_response)
        if path == "/_local/pulls" and request.method == "POST":  # what the 15-minute schedule does in AWS
            return self._invoked("PullsFunction", {"source": "local"})(environ, start_response)
        if self.standin is not None and self.standin.serves(path):
            answer = self.standin(environ, start_response)
            if self.data is not None and (request.method != "GET" or path.startswith("/pay/")):
                self.data.save_stripe(self.standin.kept)  # opening a payment link starts a checkout
            return answer
        return self._static(request)(environ, start_response)

    def _sweep(self, request: Request) -> Response:
        """What EventBridge Scheduler does daily in AWS: the local stack runs it when asked, `?now=` sets its day.
        A `now` ahead of the clock only previews, on a copy: entries dated in the future would show on pages."""
        assert self.lambdas is not None
        now = request.args.get("now", "")
        if now and not now.isdigit():
            return Response('{"error": "bad_now", "message": "now is a Unix time in seconds"}', status=400)
        if now and int(now) > time.time():
            forecast = daily_preview.on_this_stack(self._template, int(now))
            return Response(json.dumps(forecast), content_type="application/json")
        return self._invoked("SweepFunction", {"source": "local", "now": now})

    def _invoked(self, function: str, event: dict[str, Any]) -> Response:
        """A scheduled function invoked as EventBridge Scheduler would, its answer (or its error) as JSON."""
        assert self.lambdas is not None
        outcome = self.lambdas.invoke(function, event)
        if outcome.failed:
            return Response(json.dumps(outcome.error), status=500, content_type="application/json")
        return Response(json.dumps(outcome.payload), content_type="application/json")

    def _static(self, request: Request) -> Response:
        return as_cloudfront_sends(request, self._site_file(request))

    def _site_file(self, request: Request) -> Response:
        if self.site_dir is None:
            return Response("This checkout has no storefront built.", status=404, content_type="text/plain")
        path = request.path.lstrip("/")
        if not path or path.endswith("/") or (self.site_dir / path).is_dir():
            path = path.rstrip("/") + "/index.html" if path else "index.html"
        try:
            return send_from_directory(self.site_dir, path, request.environ)
        except NotFound:
            page = self.site_dir / "404.html"
            body = page.read_bytes() if page.exists() else b"Not found"
            return Response(body, status=404, content_type="text/html; charset=utf-8")
