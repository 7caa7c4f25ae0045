"""Log lines carry the invocation's ids; telemetry is configured, and imported, only when asked for."""

from __future__ import annotations

import logging
import subprocess
import sys
import types

import pytest

from shared import logs
from shared.telemetry import metrics


def test_records_carry_the_ids_of_their_invocation(caplog: pytest.LogCaptureFixture) -> None:
    logs.install_record_factory()
    log = logging.getLogger("shared.test")
    with caplog.at_level(logging.INFO):
        with logs.log_context(invocation="inv-1"):
            logs.bind_meeting("m-1")
            log.info("inside %s", "one")
        log.info("outside: the meeting bound inside does not leak")
    inside, outside = caplog.records
    assert (inside.invocationId, inside.meetingId) == ("inv-1", "m-1")  # type: ignore[attr-defined]
    assert inside.context == " [invocationId=inv-1 meetingId=m-1]"  # type: ignore[attr-defined]
    assert outside.context == ""  # type: ignore[attr-defined]


def test_without_a_connection_string_azure_monitor_is_never_imported() -> None:
    code = (
        "import sys; from shared import logs; logs.configure_logging(None); "
        "import function_app; "
        "print(any(m.startswith(('azure.monitor', 'opentelemetry')) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_with_a_connection_string_azure_monitor_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    fake = types.ModuleType("azure.monitor.opentelemetry")

    def configure_azure_monitor(*, connection_string: str) -> None:
        calls.append(connection_string)

    fake.configure_azure_monitor = configure_azure_monitor  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "azure.monitor.opentelemetry", fake)
    monkeypatch.setattr(logs, "_configured", False)
    # Restored afterwards: the tests that follow emit nowhere unless they install a provider.
    monkeypatch.setattr(metrics, "_global", False)
    monkeypatch.setattr(metrics, "_instruments", None)
    logs.configure_logging("InstrumentationKey=00000000-0000-0000-0000-000000000000")
    logs.configure_logging("InstrumentationKey=00000000-0000-0000-0000-000000000000")
    assert calls == ["InstrumentationKey=00000000-0000-0000-0000-000000000000"], "once per worker"
    # The app's metrics are exported too (through the global provider the distro installed).
    assert metrics._global is True
