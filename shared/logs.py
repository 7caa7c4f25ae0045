"""Request-scoped log context and telemetry set-up.

Every log line written while a request or job runs carries its invocation id and, once known, the
meeting and recording ids. The values live in context variables, so they follow the task across awaits
and never leak between concurrent invocations.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

invocation_id: ContextVar[str | None] = ContextVar("invocation_id", default=None)
meeting_id: ContextVar[str | None] = ContextVar("meeting_id", default=None)
recording_id: ContextVar[str | None] = ContextVar("recording_id", default=None)

_FIELDS = (("invocationId", invocation_id), ("meetingId", meeting_id), ("recordingId", recording_id))


def _context_of_current_task() -> tuple[dict[str, str | None], str]:
    values = {name: var.get() for name, var in _FIELDS}
    parts = [f"{name}={value}" for name, value in values.items() if value]
    return values, (" [" + " ".join(parts) + "]") if parts else ""


def install_record_factory() -> None:
    """Stamps every record with the ids, whichever logger or handler it goes through.

    A record factory rather than a filter: logger filters do not apply to child loggers, and handlers
    are owned by whoever hosts us (the Functions worker, devhost, pytest).
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_video_signaling", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        values, suffix = _context_of_current_task()
        for name, value in values.items():
            setattr(record, name, value)
        record.context = suffix
        return record

    factory._video_signaling = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


@contextmanager
def log_context(
    *, invocation: str | None = None, meeting: str | None = None, recording: str | None = None
) -> Iterator[None]:
    """The ids of one invocation; on exit every id is restored, including those bound inside."""
    tokens = [
        (var, var.set(value if value is not None else var.get()))
        for var, value in ((invocation_id, invocation), (meeting_id, meeting), (recording_id, recording))
    ]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def bind_meeting(value: str) -> None:
    """Called once the meeting id of the current invocation is known (it stays for the invocation)."""
    meeting_id.set(value)


def bind_recording(value: str) -> None:
    recording_id.set(value)


_configured = False


def configure_logging(app_insights_connection_string: str | None) -> None:
    """Installs the context stamping; Azure Monitor only when a connection string is set.

    The OpenTelemetry distro is imported here and only then: it is heavy, and a cold start that does
    not export telemetry must not pay for it.
    """
    global _configured  # noqa: PLW0603 - once per worker process, by design
    if _configured:
        return
    _configured = True
    install_record_factory()
    if app_insights_connection_string:
        # Heavy (OpenTelemetry and its exporters): imported only when telemetry is exported.
        from azure.monitor.opentelemetry import configure_azure_monitor  # noqa: PLC0415

        configure_azure_monitor(connection_string=app_insights_connection_string)
        # The app's own metrics (shared/telemetry/metrics.py) go out through the provider it installed.
        from shared.telemetry import metrics  # noqa: PLC0415

        metrics.export_through_global()
