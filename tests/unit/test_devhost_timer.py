"""devhost's timer triggers: NCRONTAB schedules, runOnStartup, and invocations that never stop the clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import azure.functions as func
import pytest

from devhost.app_loader import index_app
from devhost.timer_runner import Schedule, TimerRunner


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        ("0 */5 * * * *", "2026-12-06 23:57:30", "2026-12-07 00:00:00"),
        ("0 */5 * * * *", "2026-12-07 00:00:00", "2026-12-07 00:05:00"),  # strictly after
        ("*/10 * * * * *", "2026-12-07 00:00:01", "2026-12-07 00:00:10"),
        ("30 15 9 * * 1-5", "2026-12-05 10:00:00", "2026-12-07 09:15:30"),  # Saturday -> Monday
        ("0 0 12 29 2 *", "2026-03-01 00:00:00", "2028-02-29 12:00:00"),
        ("5/20 0 0 1 1,7 *", "2026-02-01 00:00:00", "2026-07-01 00:00:05"),
    ],
)
def test_next_time_of_a_schedule(schedule: str, after: str, expected: str) -> None:
    assert Schedule.parse(schedule).next_after(at(after)) == at(expected)


@pytest.mark.parametrize(
    "bad", ["* * * * *", "61 * * * * *", "0 0 0 31 2 *", "0 */0 * * * *", "0 0 0 * JAN *"]
)
def test_a_bad_schedule_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - any of the parse errors
        Schedule.parse(bad).next_after(at("2026-01-01 00:00:00"))


def _app(schedule: str, *, run_on_startup: bool, fired: list[bool]) -> func.FunctionApp:
    app = func.FunctionApp()

    @app.timer_trigger(schedule=schedule, arg_name="timer", run_on_startup=run_on_startup)
    async def tick(timer: func.TimerRequest) -> None:
        fired.append(timer.past_due)
        if len(fired) == 2:
            raise RuntimeError("a failing run does not stop the schedule")

    return app


async def test_functions_fire_on_their_schedule_and_keep_going_after_a_failure() -> None:
    fired: list[bool] = []
    runner = TimerRunner(index_app(_app("* * * * * *", run_on_startup=False, fired=fired)))
    assert runner.describe() == ["  tick: timerTrigger (* * * * * *, UTC)"]
    await runner.start()
    try:
        for _ in range(60):
            if len(fired) >= 3:
                break
            await asyncio.sleep(0.1)
    finally:
        await runner.stop()
    assert fired[:3] == [False, False, False]


@pytest.mark.parametrize("run_on_startup", [True, False])
async def test_run_on_startup_fires_at_once_only_when_asked(run_on_startup: bool) -> None:
    fired: list[bool] = []
    runner = TimerRunner(index_app(_app("0 0 0 1 1 *", run_on_startup=run_on_startup, fired=fired)))
    await runner.start()
    await asyncio.sleep(0.2)
    await runner.stop()
    assert fired == ([False] if run_on_startup else [])


def test_a_schedule_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICK_SCHEDULE", "0 0 * * * *")
    runner = TimerRunner(index_app(_app("%TICK_SCHEDULE%", run_on_startup=False, fired=[])))
    assert runner.describe() == ["  tick: timerTrigger (0 0 * * * *, UTC)"]
    monkeypatch.delenv("TICK_SCHEDULE")
    with pytest.raises(ValueError, match="TICK_SCHEDULE"):
        TimerRunner(index_app(_app("%TICK_SCHEDULE%", run_on_startup=False, fired=[])))
