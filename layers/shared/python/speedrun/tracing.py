"""Powertools' Tracer for every handler, with the X-Ray SDK loaded only when tracing is on.

`Tracer()` imports `aws_xray_sdk.core` (and the recorder it builds) even when tracing is disabled;
outside Lambda (tests, the bench) or with `POWERTOOLS_TRACE_DISABLED` that is import time a cold
start pays for nothing. When Powertools would disable tracing anyway, the Tracer gets a provider
that records nothing instead, and the handlers' decorators stay the same.
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import AsyncGenerator, Generator, Sequence
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment


class _Untraced(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        return None

    def add_subsegment(self, subsegment: Any) -> None:
        return None

    def remove_subsegment(self, subsegment: Any) -> None:
        return None

    def put_annotation(self, key: str, value: str | numbers.Number | bool) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def add_exception(self, exception: BaseException, stack: list[Any], remote: bool = False) -> None:
        return None


class NoTracing(BaseProvider):
    """A provider that records nothing (what a disabled Tracer does with X-Ray's, without loading it)."""

    @contextlib.contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _Untraced()

    @contextlib.asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncGenerator[BaseSegment, None]:
        yield _Untraced()

    def put_annotation(self, key: str, value: str | numbers.Number | bool) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def patch(self, modules: Sequence[str]) -> None:
        return None

    def patch_all(self) -> None:
        return None


TRACED_LIBRARIES = ("botocore",)
"""What X-Ray patches: every AWS call goes through botocore (PynamoDB's too). Powertools' default,
X-Ray's `patch_all`, imports each library it can patch (PynamoDB, sqlite3, httplib...) into every
function at its cold start, whether the function uses it or not."""


def lambda_tracer() -> Tracer:
    """The handler's Tracer: X-Ray's when tracing is on, NoTracing when Powertools would disable it."""
    if Tracer._is_tracer_disabled():  # Powertools' own rule: the env variable, or not on Lambda
        return Tracer(provider=NoTracing(), disabled=True, auto_patch=False)
    return Tracer(patch_modules=TRACED_LIBRARIES)
