"""What every handler shares, HTTP or not: Powertools' logger, metrics and tracer (X-Ray's SDK only where it sends)."""

from __future__ import annotations

import numbers
import traceback
from collections.abc import AsyncGenerator, Generator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment


class _Unsent(BaseSegment):
    """A subsegment nobody sends: what Tracer annotates while tracing is off."""

    def close(self, end_time: int | None = None) -> None: ...
    def add_subsegment(self, subsegment: Any) -> None: ...
    def remove_subsegment(self, subsegment: Any) -> None: ...
    def put_annotation(self, key: str, value: str | numbers.Number | bool) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def add_exception(
        self, exception: BaseException, stack: list[traceback.StackSummary], remote: bool = False
    ) -> None: ...


class TracingOff(BaseProvider):
    """Tracer's provider where no X-Ray daemon listens (tests, the local stack, POWERTOOLS_TRACE_DISABLED): Powertools
    would import aws_xray_sdk.core (~100 ms, the largest part of a cold start) only to switch it off."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _Unsent()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncGenerator[BaseSegment, None]:
        yield _Unsent()

    def put_annotation(self, key: str, value: str | numbers.Number | bool) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def patch(self, modules: Sequence[str]) -> None: ...
    def patch_all(self) -> None: ...


def _tracer() -> Tracer:
    # Powertools' own rule (POWERTOOLS_TRACE_DISABLED, outside Lambda, SAM local): in Lambda, X-Ray's SDK as before.
    if Tracer._is_tracer_disabled():
        return Tracer(service="blockhours", provider=TracingOff())
    return Tracer(service="blockhours")


logger = Logger(service="blockhours")
metrics = Metrics(namespace="Blockhours", service="blockhours")
tracer = _tracer()
