"""The `context` argument the Python worker passes to functions that declare one."""

from __future__ import annotations

import re
import secrets
import threading
import uuid
from collections.abc import Mapping

import azure.functions as func

# The abstract trace and retry types are only exported from the private module.
from azure.functions import _abc as func_abc

_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")

# One object shared by all invocations, as in the worker: each executing thread sets its own
# `invocation_id` on it, which is what lets user threads tag their logs.
_thread_local_storage = threading.local()


class RpcException(func_abc.RpcException):
    def __init__(self, source: str = "", stack_trace: str = "", message: str = "") -> None:
        self._source, self._stack_trace, self._message = source, stack_trace, message

    @property
    def source(self) -> str:
        return self._source

    @property
    def stack_trace(self) -> str:
        return self._stack_trace

    @property
    def message(self) -> str:
        return self._message


class RetryContext(func_abc.RetryContext):
    def __init__(self, retry_count: int = 0, max_retry_count: int = 0) -> None:
        self._retry_count, self._max_retry_count = retry_count, max_retry_count

    @property
    def retry_count(self) -> int:
        return self._retry_count

    @property
    def max_retry_count(self) -> int:
        return self._max_retry_count

    @property
    def exception(self) -> RpcException:
        return RpcException()


class TraceContext(func_abc.TraceContext):
    def __init__(self, trace_parent: str, trace_state: str = "", attributes: Mapping[str, str] | None = None):
        self._trace_parent, self._trace_state = trace_parent, trace_state
        self._attributes = dict(attributes or {})

    @classmethod
    def child_of(cls, traceparent: str | None, tracestate: str | None = None) -> TraceContext:
        """A new span in the caller's trace when it sent a valid `traceparent`, else a new trace."""
        found = _TRACEPARENT.fullmatch((traceparent or "").strip().lower())
        trace_id, flags = (found.group(1), found.group(3)) if found else (secrets.token_hex(16), "00")
        return cls(f"00-{trace_id}-{secrets.token_hex(8)}-{flags}", tracestate or "")

    @property
    def trace_parent(self) -> str:
        return self._trace_parent

    @property
    def trace_state(self) -> str:
        return self._trace_state

    @property
    def attributes(self) -> dict[str, str]:
        return self._attributes


class InvocationContext(func.Context):
    def __init__(
        self,
        function_name: str,
        function_directory: str,
        *,
        trace_context: TraceContext | None = None,
        retry_context: RetryContext | None = None,
    ) -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._function_directory = function_directory
        self._trace_context = trace_context or TraceContext.child_of(None)
        self._retry_context = retry_context or RetryContext()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    # The abstract property claims a class, but the worker passes this instance: so do we.
    def thread_local_storage(self) -> threading.local:  # type: ignore[override]
        return _thread_local_storage

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> TraceContext:
        return self._trace_context

    @property
    def retry_context(self) -> RetryContext:
        return self._retry_context
