"""Runs the manifest's functions in-process, the way the Lambda runtime calls them.

A function's handler is `<package>.<spec.module>.handler` (`lambdas.<name>.handler` for the real
platform; tests point the package at their own handler modules). A handler module that does not
exist yet is reported as missing (the gateway answers 501), never replaced by a stand-in.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from local_stack.events import ACCOUNT_ID
from speedrun.manifest import FunctionSpec

Handler = Callable[[dict[str, Any], Any], Any]
logger = logging.getLogger("local_stack.functions")
_import_lock = threading.RLock()
"""Handler modules share packages: importing two at once from different threads can see a
partially initialised module, so imports are serialised (Lambda imports once, at cold start)."""


class HandlerMissing(LookupError):
    """The function's handler module is not written yet."""


@dataclass
class LocalLambdaContext:
    """The attributes of the Lambda runtime's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._started + self.timeout_s - time.monotonic()) * 1000))


class Functions:
    """The manifest's functions, by name, with their handlers imported on first use."""

    def __init__(self, specs: Sequence[FunctionSpec], *, package: str = "lambdas", region: str = "us-east-1"):
        self.specs = {spec.name: spec for spec in specs}
        self.package = package
        self.region = region
        # Powertools' HTTP resolver keeps the request being resolved on the module's `app` (and the
        # event on a class attribute): on Lambda one environment serves one invocation at a time, so
        # here the invocations of one HTTP function are serialised too (two joins at once answered
        # each other's status code). WebSocket and queue functions keep no such state and run in parallel.
        self._serial = {spec.name: threading.Lock() for spec in specs if spec.http_routes}

    def module_name(self, spec: FunctionSpec) -> str:
        return f"{self.package}.{spec.module}"

    def handler(self, spec: FunctionSpec) -> Handler:
        module_name = self.module_name(spec)
        try:
            with _import_lock:
                module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name in (module_name, self.package):
                raise HandlerMissing(f"{module_name.replace('.', '/')}.py is not written yet") from exc
            raise
        handler = getattr(module, "handler", None)
        if not callable(handler):
            raise HandlerMissing(f"{module_name} has no callable `handler`")
        return handler

    def preload(self) -> list[str]:
        """Import every written handler now (cold start), in one thread; returns the missing ones.

        A module that fails to import is logged here and answers 500 when invoked, like a Lambda
        whose init fails.
        """
        missing = []
        for spec in self.specs.values():
            try:
                self.handler(spec)
            except HandlerMissing:
                missing.append(spec.name)
            except Exception:
                logger.exception("%s failed to import", self.module_name(spec))
        return missing

    def is_available(self, spec: FunctionSpec) -> bool:
        try:
            self.handler(spec)
        except HandlerMissing:
            return False
        return True

    def context(self, spec: FunctionSpec) -> LocalLambdaContext:
        function_name = f"speedrun-local-{spec.name}"
        return LocalLambdaContext(
            function_name=function_name,
            memory_limit_in_mb=spec.memory_mb,
            invoked_function_arn=f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{function_name}",
            timeout_s=spec.timeout_s,
        )

    def invoke(self, spec: FunctionSpec, event: dict[str, Any]) -> Any:
        """Call the handler synchronously (from a worker thread); raises HandlerMissing or the handler's error.

        Lambda would kill an invocation at its timeout; a thread cannot be killed, so an overrun is
        only logged.
        """
        handler = self.handler(spec)
        context = self.context(spec)
        serial = self._serial.get(spec.name)
        try:
            if serial is None:
                return handler(event, context)
            with serial:
                return handler(event, context)
        finally:
            if context.get_remaining_time_in_millis() == 0:
                logger.warning("%s ran past its %d s timeout (Lambda would have killed it)", spec.name, spec.timeout_s)
