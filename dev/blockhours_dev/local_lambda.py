"""Lambda's runtime, for the local stack: each function of template.yaml runs in instances of its own.

An instance is a process forked from a server that has already imported the heavy libraries, so it starts in
milliseconds with module state of its own, as a Lambda execution environment has. An instance serves one
invocation at a time; a function gets a new instance whenever all of its instances are busy. An invocation past
the function's Timeout is killed with its instance, and fails as Lambda's does (`Sandbox.Timedout`).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

from . import template

log = logging.getLogger("blockhours.local")

# Imported once by the fork server, shared copy-on-write by every instance: what Lambda's init would import.
PRELOAD = [
    "boto3",
    "botocore.session",
    "stripe",
    "pydantic",
    "aws_lambda_powertools",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.batch",
    "yaml",
    "email_validator",
    "itsdangerous",
]
INIT_LIMIT_SECONDS = 10  # Lambda's limit on a function's init phase
DEFAULT_CONCURRENCY = 10  # a new AWS account's concurrency quota

_forkserver = multiprocessing.get_context("forkserver")
_forkserver.set_forkserver_preload(PRELOAD)


@dataclass
class LocalContext:
    """The parts of a Lambda context that our handlers and Powertools read, with a real deadline."""

    function_name: str
    timeout_seconds: float = 15
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    deadline: float = field(init=False)

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class Outcome:
    """What an invocation gave back: the handler's answer, or Lambda's error document."""

    payload: Any = None
    error: dict[str, Any] | None = None
    request_id: str = ""

    @property
    def failed(self) -> bool:
        return self.error is not None


def _error(exc: BaseException, kind: str | None = None) -> dict[str, Any]:
    return {
        "errorType": kind or type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(exc)[-8:],
    }


def _serve(conn: Connection, spec: template.FunctionSpec, environment: dict[str, str]) -> None:
    """An instance: the function's init (its environment, its handler's import), then one invocation at a time."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in `blockhours dev` is for the stack, which stops us
    warnings.filterwarnings("ignore", message="No application metrics to publish")  # metrics are off locally
    os.environ.clear()
    os.environ.update(environment)
    from .local_iam import record_calls

    record_calls(spec.name)  # what IAM would check in AWS: the parent reads it against the role's statements
    try:
        module, _, name = spec.handler.rpartition(".")
        handler = getattr(importlib.import_module(module), name)
    except Exception as exc:  # Lambda reports a broken init on every invocation that meets it
        conn.send(("init-error", _error(exc, "Runtime.ImportModuleError")))
        return
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        event, request_id = message
        context = LocalContext(spec.name, spec.timeout_seconds, request_id, spec.memory_mb)
        try:
            answer = ("ok", handler(event, context))
        except Exception as exc:
            log.exception("%s failed", spec.name)
            answer = ("error", _error(exc))
        conn.send(answer)


class _Instance:
    def __init__(self, spec: template.FunctionSpec, environment: dict[str, str]) -> None:
        self.spec = spec
        self.conn, child = _forkserver.Pipe()
        self.process = _forkserver.Process(
            target=_serve, args=(child, spec, environment), name=f"lambda-{spec.name}", daemon=True
        )
        self.process.start()
        child.close()

    def init(self) -> dict[str, Any] | None:
        """Wait for the init phase: None when ready, else Lambda's error document."""
        if not self.conn.poll(INIT_LIMIT_SECONDS):
            self.kill()
            return {"errorType": "Runtime.InitTimeout", "errorMessage": f"init took over {INIT_LIMIT_SECONDS} s"}
        try:
            kind, value = self.conn.recv()
        except EOFError:
            return {"errorType": "Runtime.ExitError", "errorMessage": "the instance exited during init"}
        return None if kind == "ready" else dict(value)

    def invoke(self, event: Any, request_id: str) -> tuple[Outcome, bool]:
        """The outcome, and whether this instance may serve again."""
        try:
            self.conn.send((event, request_id))
        except OSError:  # it died while idle
            self.kill()
            error = {"errorType": "Runtime.ExitError", "errorMessage": "the instance had exited"}
            return Outcome(error=error, request_id=request_id), False
        if not self.conn.poll(self.spec.timeout_seconds):
            self.kill()
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            message = f"{stamp} {request_id} Task timed out after {self.spec.timeout_seconds:.2f} seconds"
            return Outcome(
                error={"errorType": "Sandbox.Timedout", "errorMessage": message}, request_id=request_id
            ), False
        try:
            kind, value = self.conn.recv()
        except (EOFError, OSError):
            self.kill()
            error = {"errorType": "Runtime.ExitError", "errorMessage": "the instance exited mid-invocation"}
            return Outcome(error=error, request_id=request_id), False
        if kind == "ok":
            return Outcome(payload=value, request_id=request_id), True
        return Outcome(error=value, request_id=request_id), True

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(timeout=2)
        self.kill()


class LocalFunction:
    """One function's instances: as many as invocations in flight, up to its concurrency."""

    def __init__(self, spec: template.FunctionSpec, environment: Callable[[], dict[str, str]]) -> None:
        self.spec = spec
        self._environment = environment
        self._idle: list[_Instance] = []
        self._all: set[_Instance] = set()
        self._count = 0
        self._stopped = False
        self._retired: set[_Instance] = set()  # busy when the function was redeployed: not to serve again
        self._free = threading.Condition()
        self.limit = spec.reserved_concurrency or DEFAULT_CONCURRENCY
        self.instances_started = 0
        self.invocations = 0
        self.timeouts = 0

    def invoke(self, event: Any) -> Outcome:
        request_id = str(uuid.uuid4())
        instance, error = self._acquire()
        if instance is None:
            return Outcome(error=error, request_id=request_id)
        outcome, reusable = instance.invoke(event, request_id)
        self._release(instance if reusable else None)
        with self._free:
            self.invocations += 1
            self.timeouts += outcome.error is not None and outcome.error["errorType"] == "Sandbox.Timedout"
        return outcome

    def _acquire(self) -> tuple[_Instance | None, dict[str, Any] | None]:
        with self._free:
            while not self._idle and self._count >= self.limit:
                self._free.wait()
            while self._idle:
                instance = self._idle.pop()
                if instance.process.is_alive():
                    return instance, None
                self._count -= 1  # an instance that exited while idle: Lambda would start another
            self._count += 1
        instance = _Instance(self.spec, self._environment())
        with self._free:
            self._all.add(instance)
        self.instances_started += 1
        error = instance.init()
        if error is not None:
            instance.kill()
            self._release(None)
            return None, error
        return instance, None

    def _release(self, instance: _Instance | None) -> None:
        with self._free:
            self._all = {i for i in self._all if i.process.is_alive()}
            if instance is None:
                self._count -= 1
            elif self._stopped or instance in self._retired:
                self._retired.discard(instance)
                self._count -= 1
                instance.close()
            else:
                self._idle.append(instance)
            self._free.notify()

    def redeploy(self) -> None:
        """As a deployment does: instances serving now finish and go; the next invocations start new ones (with
        the environment as it is then)."""
        with self._free:
            idle, self._idle = self._idle, []
            self._retired |= self._all - set(idle)
            self._count -= len(idle)
            self._free.notify_all()
        for instance in idle:
            instance.close()

    def stop(self) -> None:
        """Every instance goes, busy ones too: their invocations end as a crashed instance's would."""
        with self._free:
            self._stopped = True
            idle, self._idle = self._idle, []
            busy = self._all - set(idle)
            self._count -= len(idle)
        for instance in idle:
            instance.close()
        for instance in busy:
            instance.process.kill()


class LocalLambda:
    """Every function of the template, each with its own instances, invoked by name or logical id."""

    def __init__(self, specs: Mapping[str, template.FunctionSpec], refs: Mapping[str, str]) -> None:
        self.refs = dict(refs)
        self.functions = {name: LocalFunction(spec, self._environment_of(spec)) for name, spec in specs.items()}
        self._names = {name: name for name in specs}
        for name in specs:
            physical = self.refs.get(name)
            if physical:
                self._names[physical] = name

    def _environment_of(self, spec: template.FunctionSpec) -> Callable[[], dict[str, str]]:
        def environment() -> dict[str, str]:
            resolved = {key: template.resolve(value, self.refs) for key, value in spec.environment.items()}
            lambdas_own = {  # what Lambda sets in every execution environment (handlers check settings by it)
                "AWS_LAMBDA_FUNCTION_NAME": self.refs.get(spec.name, spec.name),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "_HANDLER": spec.handler,
            }
            template_given = {key: value for key, value in resolved.items() if value is not None}
            return {**os.environ, **template_given, **lambdas_own}

        return environment

    def function(self, name: str) -> LocalFunction | None:
        """By logical id, physical name or ARN (`…:function:NAME`)."""
        key = self._names.get(name.rsplit(":function:", 1)[-1].split(":")[0])
        return self.functions.get(key) if key else None

    def invoke(self, name: str, event: Any) -> Outcome:
        function = self.function(name)
        if function is None:
            raise KeyError(f"no function {name} in the template")
        return function.invoke(event)

    def redeploy(self) -> None:
        """Every function gets new instances from its next invocation, as after `sam deploy`."""
        for function in self.functions.values():
            function.redeploy()

    def stop(self) -> None:
        for function in self.functions.values():
            function.stop()
