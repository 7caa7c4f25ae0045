"""Every metric the app emits, and every dimension it carries, named once: here.

The alerts and the workbook in infra/modules/monitoring.bicep query these names in Application Insights
(`customMetrics`, dimensions in `customDimensions`), and tests/infra/test_monitoring.py checks both ways
that every name a query uses is one of these constants and that every constant is charted or alerted on.

Emission goes through OpenTelemetry's metrics API, and only once something exports it: with
APPLICATIONINSIGHTS_CONNECTION_STRING set, shared/logs.py runs `configure_azure_monitor` (which installs
the global meter provider that exports to Application Insights) and then `export_through_global`; tests
install an SDK provider with an in-memory reader through `use_meter_provider`. Until then emitting is a
no-op that imports nothing: importing the OpenTelemetry API costs ~150 ms, which a laptop without
Application Insights (or the first request of a cold worker) must not pay for values nobody reads.

Histograms reach `customMetrics` as one row per export interval (a minute) and dimension set, with the
sum in `value`, the count in `valueCount` and the extremes in `valueMin`/`valueMax`: queries divide
`value` by `valueCount` for means, and take percentiles over those rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from opentelemetry.metrics import Counter, Histogram, MeterProvider

# --- metric names ---------------------------------------------------------------------------------------

# Counter: a recording reached a final status (completed or failed). Dimensions: STATUS, ERROR_CODE
# ("none" when completed), STAGE (the stage it ended in).
RECORDINGS_FINISHED: Final = "recordings.finished"
# Histogram, seconds: one run of a stage's job, from its claim to its end. Dimensions: STAGE, OUTCOME.
STAGE_DURATION: Final = "stage.duration"
# Histogram, seconds: a job message's wait in its queue, from its insertion to the job's start.
# Dimension: QUEUE.
QUEUE_WAIT: Final = "queue.wait"
# Counter, minutes: speech sent to a transcriber (silence is never sent). Dimension: PROVIDER.
AUDIO_MINUTES: Final = "audio.minutes"
# Counter: tokens sent to and received from a summarizer. Dimensions: DIRECTION, PROVIDER.
TOKENS: Final = "tokens"
# Histogram, US dollars: what a completed recording's speech-to-text and summaries cost, per hour of
# recording, at the PRICE_* settings. No dimension.
COST_PER_MEETING_HOUR: Final = "cost.per_meeting_hour"
# Counter: events published to a channel, or that failed to be. Dimensions: CHANNEL, OUTCOME.
EVENTS: Final = "events"
# Counter: what a reconciler pass found stuck and healed. Dimension: ACTION.
RECONCILER_ACTIONS: Final = "reconciler.actions"

METRICS: Final = (
    RECORDINGS_FINISHED,
    STAGE_DURATION,
    QUEUE_WAIT,
    AUDIO_MINUTES,
    TOKENS,
    COST_PER_MEETING_HOUR,
    EVENTS,
    RECONCILER_ACTIONS,
)

# --- dimension names ------------------------------------------------------------------------------------

STATUS: Final = "status"  # completed | failed
ERROR_CODE: Final = "errorCode"  # the recording's error code, e.g. media_invalid; "none"
STAGE: Final = "stage"  # upload | transcript | summary
OUTCOME: Final = "outcome"  # a job: done | failed | skipped | continued | retry; an event: published | failed
QUEUE: Final = "queue"  # transcription-jobs | summary-jobs | recording-fetch-jobs
PROVIDER: Final = "provider"  # the transcriber's or summarizer's name, e.g. openai:whisper-1
DIRECTION: Final = "direction"  # in | out
CHANNEL: Final = "channel"  # realtime (Web PubSub) | sink (Event Grid or webhooks)
ACTION: Final = "action"  # queued_upload | expired_upload | requeued_job

DIMENSIONS: Final = (STATUS, ERROR_CODE, STAGE, OUTCOME, QUEUE, PROVIDER, DIRECTION, CHANNEL, ACTION)

NO_ERROR: Final = "none"
# The outcome of a job run that raised for the queue to retry.
RETRY: Final = "retry"
PUBLISHED: Final = "published"
FAILED: Final = "failed"

# The instrumentation scope: how a metric's origin shows in the exporter.
SCOPE: Final = "video_signaling"

Attributes = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Prices:
    """List prices of the providers, for COST_PER_MEETING_HOUR (the PRICE_* settings, in US dollars).

    Local providers (names starting `local:`) cost nothing: they run on the app's own CPU.
    """

    transcribe_per_minute: float = 0.006
    summary_input_per_million: float = 0.15
    summary_output_per_million: float = 0.60


class _Instruments:
    def __init__(self, provider: MeterProvider | None) -> None:
        from opentelemetry import metrics  # noqa: PLC0415 - at the first emission, not at cold start

        meter = (provider or metrics.get_meter_provider()).get_meter(SCOPE)
        self.counters: dict[str, Counter] = {
            RECORDINGS_FINISHED: meter.create_counter(
                RECORDINGS_FINISHED, unit="{recording}", description="recordings that reached a final status"
            ),
            AUDIO_MINUTES: meter.create_counter(
                AUDIO_MINUTES, unit="min", description="speech sent to a transcriber"
            ),
            TOKENS: meter.create_counter(
                TOKENS, unit="{token}", description="tokens to and from a summarizer"
            ),
            EVENTS: meter.create_counter(EVENTS, unit="{event}", description="events published, or failed"),
            RECONCILER_ACTIONS: meter.create_counter(
                RECONCILER_ACTIONS, unit="{recording}", description="stuck work the reconciler healed"
            ),
        }
        self.histograms: dict[str, Histogram] = {
            STAGE_DURATION: meter.create_histogram(
                STAGE_DURATION, unit="s", description="one run of a pipeline stage's job"
            ),
            QUEUE_WAIT: meter.create_histogram(QUEUE_WAIT, unit="s", description="a job message's wait"),
            COST_PER_MEETING_HOUR: meter.create_histogram(
                COST_PER_MEETING_HOUR, unit="USD", description="estimated provider cost per recorded hour"
            ),
        }


_instruments: _Instruments | None = None
_provider: MeterProvider | None = None
_global = False


def export_through_global() -> None:
    """Emit through OpenTelemetry's global meter provider from now on (once Azure Monitor installed it)."""
    global _global, _instruments  # one set of instruments per worker, by design
    _global, _instruments = True, None


def use_meter_provider(provider: MeterProvider | None) -> None:
    """Emit through `provider` from now on; None: through the global one if `export_through_global` was
    called, else nowhere. For tests: OpenTelemetry's global provider can be set only once per process."""
    global _instruments, _provider
    _provider, _instruments = provider, None


def _get() -> _Instruments | None:
    global _instruments  # noqa: PLW0603
    if _instruments is None:
        if _provider is None and not _global:
            return None
        _instruments = _Instruments(_provider)
    return _instruments


def add(name: str, amount: float, attributes: Attributes) -> None:
    """Adds to the counter `name`. Never raises: telemetry must not fail the work it describes."""
    if amount <= 0:
        return  # a counter only grows; nothing happened worth a data point
    try:
        instruments = _get()
        if instruments is not None:
            instruments.counters[name].add(amount, dict(attributes))
    except Exception:  # telemetry never fails the work it describes
        _warn(name)


def record(name: str, value: float, attributes: Attributes) -> None:
    """Records a value in the histogram `name`. Never raises."""
    try:
        instruments = _get()
        if instruments is not None:
            instruments.histograms[name].record(max(0.0, value), dict(attributes))
    except Exception:  # telemetry never fails the work it describes
        _warn(name)


def _warn(name: str) -> None:
    import logging  # noqa: PLC0415 - only when something is wrong

    logging.getLogger(__name__).warning("could not emit the metric %s", name, exc_info=True)


def is_local(provider: str) -> bool:
    return provider == "local" or provider.startswith("local:")


def estimated_cost(usage: list[tuple[str, float, int, int]], prices: Prices) -> float:
    """US dollars for (provider, audio seconds, input tokens, output tokens) entries at `prices`."""
    total = 0.0
    for provider, audio_seconds, input_tokens, output_tokens in usage:
        if is_local(provider):
            continue
        total += audio_seconds / 60 * prices.transcribe_per_minute
        total += input_tokens / 1e6 * prices.summary_input_per_million
        total += output_tokens / 1e6 * prices.summary_output_per_million
    return total
